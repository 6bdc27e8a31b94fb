// The floppy plugin's QAPI schema (qapi/floppy.json), embedded at build time by
// scripts/embed-schemas, for a host adapter to hand to its monitor (FdplugHost::qmp_add_schema).
#pragma once

#include <span>

namespace fdplug::floppy {

struct EmbeddedSchema {
    const char *name;  // "floppy.json"
    const char *text;
};

std::span<const EmbeddedSchema> floppy_schemas();

}  // namespace fdplug::floppy
