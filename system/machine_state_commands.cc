#include "system/machine_state_commands.h"

#include "system/machine.h"
#include "system/machine_state.h"

namespace fdplug {

namespace {

std::optional<qmp::Outcome> refuse_running(const qmp::MachineControl &control,
                                           const char *command) {
    if (!control.running()) return std::nullopt;
    return qmp::Outcome::fail("GenericError",
                              std::string("the machine is running: ") + command +
                                  " needs it stopped, or the state would change while it is taken; "
                                  "send 'stop' first (or start the host with -S)");
}

}  // namespace

bool register_machine_state_commands(qmp::Dispatcher &d, Machine &machine,
                                     qmp::MachineControl &control, std::string *error) {
    if (!d.register_command(
            "x-save-devices",
            [&machine, &control](const qmp::Json &args) {
                if (auto refused = refuse_running(control, "x-save-devices")) return *refused;
                std::string why;
                if (!machine_state::save_file(machine, args["filename"].get<std::string>(), &why))
                    return qmp::Outcome::fail("GenericError", why);
                return qmp::Outcome::ok();
            },
            error))
        return false;
    return d.register_command(
        "x-load-devices",
        [&machine, &control](const qmp::Json &args) {
            if (auto refused = refuse_running(control, "x-load-devices")) return *refused;
            std::string why;
            if (!machine_state::load_file(machine, args["filename"].get<std::string>(), &why))
                return qmp::Outcome::fail("GenericError", why);
            return qmp::Outcome::ok();
        },
        error);
}

}  // namespace fdplug
