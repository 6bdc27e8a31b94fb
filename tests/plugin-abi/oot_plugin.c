/* A plugin built outside the fdplug tree, with nothing but `pkg-config --cflags fdplug` and cc. */
#define FDPLUG_BUILDING_PLUGIN
#include <fdplug/plugin.h>
#include <stdlib.h>

static void *oot_new(FdplugDevice *dev) {
    return dev;
}

static const FdplugDeviceTypeInfo types[] = {
    {.name = "oot-dev",
     .description = "built out of tree",
     .bus_type = "isa",
     .user_creatable = true,
     .instance_new = oot_new},
};

static const FdplugPluginInfo info = {
    FDPLUG_PLUGIN_INFO_SIZES, .name = "oot", .version = "1", .types = types, .n_types = 1,
};

FDPLUG_PLUGIN_EXPORT const FdplugPluginInfo *fdplug_plugin_entry(uint32_t major, uint32_t minor) {
    (void)minor;
    return major == FDPLUG_ABI_MAJOR ? &info : NULL;
}
