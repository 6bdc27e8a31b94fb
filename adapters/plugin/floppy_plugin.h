// What the floppy plugin shares between its devices: the host's service table, the floppy
// management of every controller in the process, and the counts the pc machine's default drive
// depends on. One instance lives from the plugin's init() to its fini(); devices are handed it
// when they are created (the ABI's instance_new carries no plugin context, so that one hand-over
// is the only place that reaches for the instance).
#pragma once

#define FDPLUG_BUILDING_PLUGIN
#include <fdplug/plugin.h>

#include <string>
#include <vector>

#include "hw/block/management/floppy_manager.h"

namespace fdplug::floppy::plugin {

struct FloppyPlugin {
    explicit FloppyPlugin(const FdplugHost &host) : host(host) {}

    const FdplugHost &host;
    FloppyManager manager;
    // QEMU's pc machine gives its controller an empty default drive unless -nodefaults, a
    // -device floppy or a -device isa-fdc is given: these count the last two.
    unsigned floppy_devices = 0;
    unsigned user_controllers = 0;
    // What each floppy-* command's handler is handed: its manager and its name.
    struct CommandBinding {
        FloppyPlugin *plugin;
        const char *command;
    };
    std::vector<CommandBinding> commands;
};

// The instance between init() and fini(); only the device types' instance_new use it.
FloppyPlugin &the_plugin();

// ABI strings are malloc()ed: a copy the host frees.
char *dup_string(const std::string &text);
// Fills an ABI error with a static class name and a copied description.
void set_error(FdplugError *err, const char *cls, const std::string &desc);

}  // namespace fdplug::floppy::plugin
