// The plugin's entry point: its info block (device types, init, fini) and the one instance of
// FloppyPlugin, created by init() and destroyed by fini().
#include <cstring>
#include <memory>
#include <string>

#include "adapters/plugin/device_types.h"
#include "adapters/plugin/floppy_plugin.h"
#include "adapters/plugin/floppy_qmp.h"

namespace fdplug::floppy::plugin {

namespace {

std::unique_ptr<FloppyPlugin> g_plugin;

bool plugin_init(const FdplugHost *host, char **errp) {
    g_plugin = std::make_unique<FloppyPlugin>(*host);
    return register_floppy_commands(*g_plugin, errp);
}

void plugin_fini() {
    g_plugin.reset();
}

const FdplugDeviceTypeInfo kTypes[] = {kIsaFdcType, kFloppyType};

const FdplugPluginInfo kInfo = {
    FDPLUG_PLUGIN_INFO_SIZES,
    .name = "fdplug-floppy",
    .version = "0.1.0",
    .types = kTypes,
    .n_types = sizeof kTypes / sizeof kTypes[0],
    .init = plugin_init,
    .fini = plugin_fini,
};

}  // namespace

FloppyPlugin &the_plugin() {
    return *g_plugin;
}

char *dup_string(const std::string &text) {
    return strdup(text.c_str());
}

void set_error(FdplugError *err, const char *cls, const std::string &desc) {
    if (!err) return;
    err->cls = cls;
    err->cls_static = true;
    err->desc = dup_string(desc);
    err->extra_json = nullptr;
}

}  // namespace fdplug::floppy::plugin

extern "C" FDPLUG_PLUGIN_EXPORT const FdplugPluginInfo *fdplug_plugin_entry(uint32_t major,
                                                                            uint32_t) {
    return major == FDPLUG_ABI_MAJOR ? &fdplug::floppy::plugin::kInfo : nullptr;
}
