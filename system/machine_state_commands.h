// The QMP commands of qapi/migration.json: x-save-devices and x-load-devices, over
// system/machine_state.h. Both refuse a running machine.
#pragma once

#include <string>

#include "monitor/dispatcher.h"
#include "monitor/host_commands.h"

namespace fdplug {

class Machine;

bool register_machine_state_commands(qmp::Dispatcher &dispatcher, Machine &machine,
                                     qmp::MachineControl &control, std::string *error);

}  // namespace fdplug
