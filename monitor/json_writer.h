// Serialises JSON the way QEMU's QMP server does: one line, ", " and ": " separators, members
// in insertion order, ASCII only (\uXXXX escapes, surrogate pairs above U+FFFF).
#pragma once

#include <string>

#include "monitor/json_stream.h"

namespace fdplug::qmp {

std::string to_qmp_text(const Json &value);

}  // namespace fdplug::qmp
