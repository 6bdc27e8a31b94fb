// fdplug-host's command line: the subset of QEMU's options that users and libqtest-style tests
// pass. Anything else is refused with a message that names the option.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "chardev/chardev_spec.h"
#include "chardev/key_value_options.h"

namespace fdplug {

struct DeviceRequest {
    std::string type;
    KeyValueOptions props;  // everything after the type, including id= and bus=
};

struct GlobalProperty {
    std::string type, property, value;
};

struct HostConfig {
    std::string machine = "pc";
    bool qtest_accel = false;
    bool nodefaults = false;
    bool start_stopped = false;  // -S
    bool preconfig = false;      // --preconfig: monitors first, machine on x-exit-preconfig
    uint64_t ram_bytes = 128ull << 20;
    std::string name;
    std::vector<DeviceRequest> devices;
    std::vector<GlobalProperty> globals;
    std::vector<KeyValueOptions> drives;     // -drive
    std::vector<KeyValueOptions> blockdevs;  // -blockdev
    std::vector<ChardevSpec> chardevs;       // -chardev
    std::vector<std::string> monitors;       // -mon chardev=ID,mode=control: the chardev ids
    std::vector<ChardevSpec> qmp;            // -qmp
    std::optional<ChardevSpec> qtest;
    std::string qtest_log;  // "" = stderr as in QEMU
    bool qtest_log_given = false;
    std::vector<std::string> plugin_dirs;
    std::vector<std::string> traces;
    bool list_machines = false;  // -machine help
    bool list_accels = false;    // -accel help
    bool list_devices = false;   // -device help
    std::string device_help;     // -device TYPE,help
    bool show_help = false, show_version = false;
};

// Parses argv (without argv[0]). On error returns nullopt with *error naming the option.
std::optional<HostConfig> parse_command_line(const std::vector<std::string> &args,
                                             std::string *error);

std::string command_line_help();
// What -machine help and -accel help print.
std::string machine_list();
std::string accelerator_list();

}  // namespace fdplug
