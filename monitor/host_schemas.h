// The host's QAPI schema files (qapi/*.json), embedded at build time.
#pragma once

#include <span>

namespace fdplug::qmp {

struct EmbeddedSchema {
    const char *name;
    const char *text;
};

std::span<const EmbeddedSchema> host_schemas();

}  // namespace fdplug::qmp
