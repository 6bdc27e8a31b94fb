// The floppy-* QMP commands and events, served by the plugin's FloppyManager through the host's
// monitor: the embedded schema, one handler per command, and the event and log sinks.
#pragma once

#include "adapters/plugin/floppy_plugin.h"

namespace fdplug::floppy::plugin {

// false + *errp (malloc()ed) when the host refuses the schema or a command.
bool register_floppy_commands(FloppyPlugin &plugin, char **errp);

}  // namespace fdplug::floppy::plugin
