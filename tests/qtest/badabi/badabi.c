/* A plugin that claims a future ABI; fdplug-host must refuse it, naming both versions. */
#define FDPLUG_BUILDING_PLUGIN
#include <fdplug/plugin.h>
#include <stddef.h>

static const FdplugDeviceTypeInfo types[] = {{.name = "bad-abi-dev", .user_creatable = true}};

static const FdplugPluginInfo info = {
    FDPLUG_PLUGIN_INFO_SIZES,
    .name = "fdplug-badabi",
    .types = types,
    .n_types = 1,
};

FDPLUG_PLUGIN_EXPORT const FdplugPluginInfo *fdplug_plugin_entry(uint32_t major, uint32_t minor) {
    (void)major;
    (void)minor;
    static FdplugPluginInfo future;
    future = info;
    future.abi_major = FDPLUG_ABI_MAJOR + 1;
    return &future;
}
