#include "monitor/host_commands.h"

#include <algorithm>

#include "monitor/host_schemas.h"

namespace fdplug::qmp {

Json host_version(const std::string &package) {
    // QEMU 7.2's shape and level of compatibility; "package" says who we really are.
    Json qemu = Json::object();
    qemu["micro"] = 0;
    qemu["minor"] = 2;
    qemu["major"] = 7;
    Json v = Json::object();
    v["qemu"] = qemu;
    v["package"] = package.empty() ? std::string("fdplug-host ") + FDPLUG_VERSION : package;
    return v;
}

namespace {

// QEMU: exactly one of 'device' (legacy drive name) and 'id' (qdev id or path).
std::optional<MachineControl::BlockSlot> find_slot(const MachineControl &machine, const Json &args,
                                                   Outcome *failure) {
    const bool has_device = args.contains("device"), has_id = args.contains("id");
    if (has_device == has_id) {
        *failure = Outcome::fail("GenericError", "Need exactly one of 'device' and 'id'");
        return std::nullopt;
    }
    const std::string wanted = (has_id ? args["id"] : args["device"]).get<std::string>();
    for (auto &slot : machine.block_slots())
        if (has_id ? slot.qdev_id == wanted
                   : (!slot.device_name.empty() && slot.device_name == wanted))
            return slot;
    *failure = Outcome::fail("DeviceNotFound", "Device '" + wanted + "' not found");
    return std::nullopt;
}

void stop_machine(MachineControl &m, Dispatcher &d) {
    if (m.running()) {
        m.stop();
        d.emit_event("STOP", Json::object());
    }
}

void cont_machine(MachineControl &m, Dispatcher &d) {
    if (!m.running()) {
        m.cont();
        d.emit_event("RESUME", Json::object());
    }
}

// A few commands of QEMU's human monitor, which QMP clients reach through
// human-monitor-command; the output is what QEMU 7.2 prints, lines ended by CRLF.
Outcome human_monitor_command(MachineControl &m, Dispatcher &d, const Json &version,
                              const std::string &line) {
    std::vector<std::string> words;
    for (size_t at = 0; at < line.size();) {
        const size_t start = line.find_first_not_of(" \t", at);
        if (start == std::string::npos) break;
        const size_t end = std::min(line.find_first_of(" \t", start), line.size());
        words.push_back(line.substr(start, end - start));
        at = end;
    }
    if (words.empty()) return Outcome::ok("");
    const std::string &cmd = words[0];
    const std::string what = words.size() > 1 ? words[1] : "";
    if (cmd == "info" && what == "status")
        return Outcome::ok(
            std::string("VM status: ") + (m.running() ? "running" : "paused") +
            (!m.running() && m.run_state() != "paused" ? " (" + m.run_state() + ")" : "") + "\r\n");
    if (cmd == "info" && what == "version") {
        const Json &q = version["qemu"];
        return Outcome::ok(std::to_string(q["major"].get<int>()) + "." +
                           std::to_string(q["minor"].get<int>()) + "." +
                           std::to_string(q["micro"].get<int>()) + " (" +
                           version["package"].get<std::string>() + ")\r\n");
    }
    if (cmd == "info" && what == "name")
        return Outcome::ok(m.name().empty() ? "" : m.name() + "\r\n");
    if (cmd == "info") return Outcome::ok("unknown command: 'info " + what + "'\r\n");
    if (cmd == "stop") {
        stop_machine(m, d);
        return Outcome::ok("");
    }
    if (cmd == "cont" || cmd == "c") {
        cont_machine(m, d);
        return Outcome::ok("");
    }
    if (cmd == "system_reset") {
        m.system_reset();
        return Outcome::ok("").then([&d] {
            d.emit_event("RESET", Json{{"guest", false}, {"reason", "host-qmp-system-reset"}});
        });
    }
    return Outcome::ok("unknown command: '" + cmd + "'\r\n");
}

}  // namespace

bool register_host_commands(Dispatcher &d, MachineControl &m, std::string *error,
                            const HostCommandOptions &options) {
    for (const EmbeddedSchema &s : host_schemas())
        if (!d.add_schema(s.text, s.name, error)) return false;
    const Json version = options.version.is_null() ? host_version() : options.version;

    const std::pair<const char *, Dispatcher::Handler> handlers[] = {
        {"qmp_capabilities",
         [](const Json &args) {
             for (const Json &cap : args.value("enable", Json::array()))
                 return Outcome::fail("GenericError",
                                      "Capability " + cap.get<std::string>() + " not available");
             return Outcome::ok();
         }},
        {"query-version", [version](const Json &) { return Outcome::ok(version); }},
        {"query-commands",
         [&d](const Json &) {
             Json list = Json::array();
             for (const std::string &n : d.command_names()) list.push_back(Json{{"name", n}});
             return Outcome::ok(list);
         }},
        {"query-qmp-schema", [&d](const Json &) { return Outcome::ok(d.introspect()); }},
        {"query-status",
         [&m](const Json &) {
             Json s = Json::object();
             s["running"] = m.running();
             s["singlestep"] = false;
             s["status"] = m.run_state();
             return Outcome::ok(s);
         }},
        {"query-name",
         [&m](const Json &) {
             Json r = Json::object();
             if (!m.name().empty()) r["name"] = m.name();
             return Outcome::ok(r);
         }},
        {"x-exit-preconfig", [&m](const Json &) { return m.exit_preconfig(); }},
        // The host has no CPU: the list is empty (as QEMU's is for a machine without one).
        {"query-cpus-fast", [](const Json &) { return Outcome::ok(Json::array()); }},
        {"stop",
         [&m, &d](const Json &) {
             stop_machine(m, d);
             return Outcome::ok();
         }},
        {"cont",
         [&m, &d](const Json &) {
             cont_machine(m, d);
             return Outcome::ok();
         }},
        // Like QEMU 7.2, which only requests these and lets its main loop act (and send the
        // event) after the reply: reply first, then RESET / SHUTDOWN. The reset itself is done
        // before the reply, so that a client's next qtest request sees the reset machine.
        {"system_reset",
         [&m, &d](const Json &) {
             m.system_reset();
             return Outcome::ok().then([&d] {
                 d.emit_event("RESET", Json{{"guest", false}, {"reason", "host-qmp-system-reset"}});
             });
         }},
        {"quit",
         [&m, &d](const Json &) {
             return Outcome::ok().then([&m, &d] {
                 d.emit_event("SHUTDOWN", Json{{"guest", false}, {"reason", "host-qmp-quit"}});
                 m.request_quit();
             });
         }},
        {"query-block",
         [&m](const Json &) {
             Json list = Json::array();
             for (const auto &slot : m.block_slots()) list.push_back(slot.query());
             return Outcome::ok(list);
         }},
        {"eject",
         [&m](const Json &args) {
             Outcome failure;
             auto slot = find_slot(m, args, &failure);
             if (!slot) return failure;
             return slot->eject(args.value("force", false));
         }},
        {"blockdev-change-medium",
         [&m](const Json &args) {
             Outcome failure;
             auto slot = find_slot(m, args, &failure);
             if (!slot) return failure;
             std::optional<std::string> format;
             if (args.contains("format")) format = args["format"].get<std::string>();
             return slot->change_medium(args["filename"].get<std::string>(), format,
                                        args.value("read-only-mode", "retain"),
                                        args.value("transient", false));
         }},
        {"human-monitor-command",
         [&m, &d, version](const Json &args) {
             return human_monitor_command(m, d, version, args["command-line"].get<std::string>());
         }},
        {"qom-list",
         [&m](const Json &args) { return m.qom_list(args["path"].get<std::string>()); }},
        {"qom-get",
         [&m](const Json &args) {
             return m.qom_get(args["path"].get<std::string>(), args["property"].get<std::string>());
         }},
        {"qom-set",
         [&m](const Json &args) {
             return m.qom_set(args["path"].get<std::string>(), args["property"].get<std::string>(),
                              args["value"]);
         }},
        {"qom-list-types",
         [&m](const Json &args) {
             std::optional<std::string> implements;
             if (args.contains("implements")) implements = args["implements"].get<std::string>();
             return Outcome::ok(m.qom_list_types(implements, args.value("abstract", false)));
         }},
    };
    for (const auto &[name, handler] : handlers) {
        const auto &only = options.only;
        if (!only.empty() && std::find(only.begin(), only.end(), name) == only.end()) continue;
        if (!d.register_command(name, handler, error)) return false;
    }
    return true;
}

}  // namespace fdplug::qmp
