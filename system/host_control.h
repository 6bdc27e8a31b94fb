// The host as QMP sees it: run state, reset, quit and the drives devices registered
// (qmp::MachineControl), and the bridge through which plugins add QMP commands and events.
#pragma once

#include <glib.h>

#include <functional>
#include <string>
#include <vector>

#include "monitor/host_commands.h"
#include "system/host_api.h"

namespace fdplug {

class Machine;

class HostControl : public qmp::MachineControl {
  public:
    HostControl(Machine &machine, qmp::Dispatcher &dispatcher, GMainLoop *loop);

    // Plugin QMP calls and block registrations land here.
    QmpBridge &bridge() { return bridge_; }

    std::string run_state() const override;
    bool running() const override;
    void stop() override;
    void cont() override;
    void system_reset() override;
    void request_quit() override;
    std::string name() const override;
    std::vector<BlockSlot> block_slots() const override { return slots_; }
    // --preconfig: the monitors run before the machine is built; x-exit-preconfig calls
    // build_machine (false and *error when the machine cannot be built), then starts it.
    void begin_preconfig(std::function<bool(std::string *error)> build_machine);
    bool in_preconfig() const { return static_cast<bool>(build_machine_); }
    qmp::Outcome exit_preconfig() override;
    qmp::Outcome qom_list(const std::string &path) const override;
    qmp::Outcome qom_get(const std::string &path, const std::string &property) const override;
    qmp::Outcome qom_set(const std::string &path, const std::string &property,
                         const qmp::Json &value) override;
    qmp::Json qom_list_types(const std::optional<std::string> &implements,
                             bool abstract) const override;

  private:
    Machine &machine_;
    qmp::Dispatcher &dispatcher_;
    GMainLoop *loop_;
    QmpBridge bridge_;
    std::vector<BlockSlot> slots_;
    bool ever_ran_ = false;
    std::function<bool(std::string *error)> build_machine_;  // set while in preconfig
};

// A plugin's C error as a QMP error; frees what the plugin allocated.
qmp::Error take_plugin_error(FdplugError &err);

}  // namespace fdplug
