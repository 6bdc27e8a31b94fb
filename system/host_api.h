// The host side of the plugin ABI: the FdplugHost table fdplug-host hands to its plugins.
#pragma once

#include <functional>
#include <string>

#include "fdplug/plugin.h"

namespace fdplug {

class Machine;

// Where plugin QMP calls go: the monitor, when the host has one.
struct QmpBridge {
    std::function<bool(const char *schema, const char *source, std::string *error)> add_schema;
    std::function<bool(const char *command, FdplugQmpHandler, void *opaque, std::string *error)>
        register_command;
    std::function<void(const char *event, const char *data_json)> emit_event;
    std::function<void(FdplugDevice *dev, std::string qdev_id, std::string device_name,
                       const FdplugBlockOps *ops, void *opaque)>
        block_register;
};

// The table for this process; machine and bridge must outlive every plugin call.
const FdplugHost *host_table(Machine &machine, QmpBridge &bridge);

}  // namespace fdplug
