// fdplug-host: a QEMU-compatible reference host with no CPU. It loads device plugins, builds a
// machine from a QEMU-style command line and exposes it over qtest and QMP.
#include <glib-unix.h>
#include <glib.h>
#include <signal.h>

#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "monitor/host_commands.h"
#include "monitor/monitor.h"
#include "system/cli_options.h"
#include "system/clock_source.h"
#include "system/host_api.h"
#include "system/host_control.h"
#include "system/machine.h"
#include "system/machine_state_commands.h"
#include "system/plugin_loader.h"
#include "system/qtest_server.h"

namespace fdplug {
namespace {

int fail(const std::string &message) {
    std::fprintf(stderr, "fdplug-host: %s\n", message.c_str());
    return 1;
}

void print_device_types(const PluginLoader &plugins) {
    std::printf("Device types provided by loaded plugins:\n");
    for (const auto &p : plugins.plugins())
        for (size_t i = 0; i < p.info->n_types; ++i) {
            const FdplugDeviceTypeInfo &t = p.info->types[i];
            std::printf("name \"%s\", bus %s%s, desc \"%s\"  [%s]\n", t.name,
                        t.bus_type ? t.bus_type : "isa", t.user_creatable ? "" : ", no-user",
                        t.description ? t.description : "", p.info->name);
        }
}

int print_device_help(const PluginLoader &plugins, const std::string &name) {
    const FdplugDeviceTypeInfo *t = plugins.find_type(name);
    if (!t) return fail("-device " + name + ",help: unknown device type");
    std::printf("%s options:\n", t->name);
    for (size_t i = 0; i < t->n_props; ++i) {
        const FdplugPropertyInfo &p = t->props[i];
        static const char *const kinds[] = {"str", "int", "bool", "enum"};
        std::printf("  %s=<%s>%s%s%s%s\n", p.name, kinds[p.type & 3], p.description ? " - " : "",
                    p.description ? p.description : "", p.default_value ? " (default: " : "",
                    p.default_value ? (std::string(p.default_value) + ")").c_str() : "");
    }
    return 0;
}

struct SignalContext {
    GMainLoop *loop;
    qmp::Dispatcher *dispatcher;
};

gboolean on_quit_signal(gpointer data) {
    auto *ctx = static_cast<SignalContext *>(data);
    ctx->dispatcher->emit_event("SHUTDOWN", qmp::Json{{"guest", false}, {"reason", "host-signal"}});
    g_main_loop_quit(ctx->loop);
    return G_SOURCE_CONTINUE;
}

int run(int argc, char **argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    std::string error;
    auto parsed = parse_command_line(args, &error);
    if (!parsed) return fail(error);
    HostConfig &config = *parsed;
    if (config.show_help) {
        std::fputs(command_line_help().c_str(), stdout);
        return 0;
    }
    if (config.list_machines || config.list_accels) {
        std::fputs((config.list_machines ? machine_list() : accelerator_list()).c_str(), stdout);
        return 0;
    }
    if (config.show_version) {
        std::printf("fdplug-host %s (plugin ABI %d.%d)\n", FDPLUG_VERSION, FDPLUG_ABI_MAJOR,
                    FDPLUG_ABI_MINOR);
        return 0;
    }
    signal(SIGPIPE, SIG_IGN);

    PluginLoader plugins;
    std::vector<std::string> warnings;
    plugins.load_all(PluginLoader::search_path(config.plugin_dirs), &warnings);
    for (const std::string &w : warnings)
        std::fprintf(stderr, "fdplug-host: warning: %s\n", w.c_str());
    if (config.list_devices) {
        print_device_types(plugins);
        return 0;
    }
    if (!config.device_help.empty()) return print_device_help(plugins, config.device_help);

    // Owned here so that the early returns below (a bad -device, -drive or -global) free it too:
    // the ASan build's leak check caught the loop leaking on every start-up error.
    std::unique_ptr<GMainLoop, void (*)(GMainLoop *)> loop_owner(g_main_loop_new(nullptr, FALSE),
                                                                 g_main_loop_unref);
    GMainLoop *loop = loop_owner.get();
    Machine machine(config, plugins);
    qmp::Dispatcher dispatcher;
    HostControl control(machine, dispatcher, loop);
    if (!qmp::register_host_commands(dispatcher, control, &error))
        return fail("host QAPI schema: " + error);
    if (!register_machine_state_commands(dispatcher, machine, control, &error))
        return fail("host QAPI schema: " + error);
    if (!plugins.init_all(host_table(machine, control.bridge()), &error)) return fail(error);

    // Sockets first: libqtest accepts the qtest connection, then the QMP one, before it talks.
    std::map<std::string, std::unique_ptr<Chardev>> chardevs;
    for (const ChardevSpec &spec : config.chardevs) {
        if (chardevs.count(spec.id)) return fail("-chardev: duplicate id '" + spec.id + "'");
        auto chr = Chardev::open(spec, &error);
        if (!chr) return fail(error);
        chardevs[spec.id] = std::move(chr);
    }
    std::unique_ptr<Chardev> qtest_chr;
    if (config.qtest) {
        qtest_chr = Chardev::open(*config.qtest, &error);
        if (!qtest_chr) return fail("-qtest: " + error);
    }
    std::vector<std::unique_ptr<Chardev>> qmp_chardevs;
    for (const ChardevSpec &spec : config.qmp) {
        auto chr = Chardev::open(spec, &error);
        if (!chr) return fail("-qmp: " + error);
        qmp_chardevs.push_back(std::move(chr));
    }
    std::vector<Chardev *> monitor_chardevs;
    for (const std::string &id : config.monitors) {
        if (!chardevs.count(id)) return fail("-mon chardev=" + id + ": no -chardev with that id");
        monitor_chardevs.push_back(chardevs[id].get());
    }
    for (auto &chr : qmp_chardevs) monitor_chardevs.push_back(chr.get());

    // The qtest server answers from the start, as QEMU's does: with --preconfig, libqtest asks
    // for the target's endianness before the machine exists (port and memory accesses then
    // reach an empty bus and the guest RAM).
    std::unique_ptr<QtestServer> qtest;
    if (qtest_chr) {
        qtest = std::make_unique<QtestServer>(
            machine, *qtest_chr, config.qtest_log_given ? config.qtest_log : "/dev/fd/2");
        machine.on_pin_change = [&qtest](const std::string &path, unsigned pin, bool level) {
            qtest->intercepted_pin_changed(path, pin, level);
        };
    }
    // Builds the machine and starts its clock; at start-up, or with --preconfig when a client
    // sends x-exit-preconfig.
    std::unique_ptr<ClockSource> clock_source;
    std::string startup_error;
    auto build_machine = [&](std::string *why) {
        if (!machine.build(why)) {
            startup_error = *why;
            return false;
        }
        // Plugins register in init, realize or machine_ready; by now every handler is in.
        for (const std::string &name : dispatcher.unhandled_commands())
            std::fprintf(stderr,
                         "fdplug-host: warning: QMP command %s is declared in a schema but has no "
                         "handler; it is not offered\n",
                         name.c_str());
        clock_source = std::make_unique<ClockSource>(machine.clock());
        return true;
    };
    if (config.preconfig)
        control.begin_preconfig(build_machine);
    else if (!build_machine(&error))
        return fail(error);

    std::vector<std::unique_ptr<qmp::Monitor>> monitors;
    for (Chardev *chr : monitor_chardevs)
        monitors.push_back(std::make_unique<qmp::Monitor>(dispatcher, *chr, qmp::host_version()));

    SignalContext signals{loop, &dispatcher};
    g_unix_signal_add(SIGTERM, on_quit_signal, &signals);
    g_unix_signal_add(SIGINT, on_quit_signal, &signals);
    g_unix_signal_add(SIGHUP, on_quit_signal, &signals);
    g_main_loop_run(loop);

    machine.on_pin_change = nullptr;
    monitors.clear();
    qtest.reset();
    machine.unrealize_all();  // devices flush their media here
    plugins.fini_all();
    return startup_error.empty() ? 0 : fail(startup_error);
}

}  // namespace
}  // namespace fdplug

int main(int argc, char **argv) {
    return fdplug::run(argc, argv);
}
