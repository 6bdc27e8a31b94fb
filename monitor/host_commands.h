// The QMP commands the host owns. They reach the machine only through MachineControl, so the
// monitor knows nothing of devices (and nothing of floppies).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "monitor/dispatcher.h"

namespace fdplug::qmp {

class MachineControl {
  public:
    virtual ~MachineControl() = default;
    virtual std::string run_state() const = 0;  // "running", "paused", "prelaunch"
    virtual bool running() const = 0;
    virtual void stop() = 0;
    virtual void cont() = 0;
    virtual void system_reset() = 0;
    virtual void request_quit() = 0;  // exit 0 after the reply has been sent
    virtual std::string name() const = 0;
    struct BlockSlot {  // one drive some device registered
        std::string qdev_id, device_name;
        std::function<Json()> query;  // a BlockInfo object
        std::function<Outcome(bool force)> eject;
        std::function<Outcome(const std::string &filename, const std::optional<std::string> &format,
                              const std::string &read_only_mode, bool transient)>
            change_medium;
    };
    virtual std::vector<BlockSlot> block_slots() const = 0;
    // x-exit-preconfig: build and start the machine of a host started with --preconfig. A host
    // whose machine is built (every host without --preconfig) answers QEMU's error.
    virtual Outcome exit_preconfig() {
        return Outcome::fail("GenericError",
                             "The command is permitted only before machine initialization");
    }

    // The object tree (qom-*, docs/qmp.md#objects-and-properties). A host without one answers
    // as QEMU does for a path that names nothing, and knows no types.
    virtual Outcome qom_list(const std::string &path) const { return no_object(path); }
    virtual Outcome qom_get(const std::string &path, const std::string &) const {
        return no_object(path);
    }
    virtual Outcome qom_set(const std::string &path, const std::string &, const Json &) {
        return no_object(path);
    }
    virtual Json qom_list_types(const std::optional<std::string> &, bool) const {
        return Json::array();
    }
    static Outcome no_object(const std::string &path) {
        return Outcome::fail("DeviceNotFound", "Device '" + path + "' not found");
    }
};

// The greeting's and query-version's "version" object. `package` names the real program
// ("" = "fdplug-host <version>").
Json host_version(const std::string &package = "");

// What register_host_commands() installs. Another host adapter (bochs/) offers a subset: the
// schemas are still all added, and a declared command without a handler is not offered.
struct HostCommandOptions {
    Json version;                   // query-version's answer; null: host_version()
    std::vector<std::string> only;  // the commands to install; empty: every host command
};

// Adds the host's schema files (embedded at build time) and their handlers.
bool register_host_commands(Dispatcher &dispatcher, MachineControl &machine, std::string *error,
                            const HostCommandOptions &options = {});

}  // namespace fdplug::qmp
