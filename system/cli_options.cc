#include "system/cli_options.h"

#include <cctype>
#include <functional>
#include <map>

namespace fdplug {

namespace {

using Handler = std::function<bool(HostConfig &, const std::string &arg, std::string *error)>;

struct OptionSpec {
    bool takes_argument;
    Handler apply;
};

bool fail(std::string *error, std::string text) {
    if (error) *error = std::move(text);
    return false;
}

bool parse_machine(HostConfig &c, const std::string &arg, std::string *error) {
    auto o = KeyValueOptions::parse(arg, "type", error);
    if (!o) return false;
    if (auto type = o->take("type")) c.machine = *type;
    if (c.machine == "help" || c.machine == "?") {
        c.list_machines = true;
        return true;
    }
    if (auto accel = o->take("accel")) {
        if (*accel == "qtest")
            c.qtest_accel = true;
        else if (*accel != "tcg" && *accel != "kvm")
            return fail(error, "-machine accel=" + *accel + ": unknown accelerator");
    }
    for (const char *ignored : {"usb", "graphics", "dump-guest-core", "mem-merge", "vmport", "smm"})
        o->take(ignored);
    if (!o->keys().empty())
        return fail(error, "-machine: unknown property '" + o->keys().front() + "'");
    if (c.machine != "pc" && c.machine != "none")
        return fail(error, "-machine " + c.machine +
                               ": unknown machine type (known: pc, none; see -machine help)");
    return true;
}

bool parse_accel(HostConfig &c, const std::string &arg, std::string *error) {
    auto o = KeyValueOptions::parse(arg, "accel", error);
    if (!o) return false;
    const std::string accel = o->get_or("accel", "");
    if (accel == "help" || accel == "?")
        c.list_accels = true;
    else if (accel == "qtest")
        c.qtest_accel = true;
    else if (accel != "tcg" && accel != "kvm")
        return fail(error, "-accel " + accel + ": invalid accelerator " + accel +
                               " (known: qtest, tcg, kvm; see -accel help)");
    return true;
}

bool parse_device(HostConfig &c, const std::string &arg, std::string *error) {
    auto o = KeyValueOptions::parse(arg, "driver", error);
    if (!o) return false;
    DeviceRequest d;
    d.type = o->take("driver").value_or("");
    if (d.type.empty()) return fail(error, "-device needs a device type (try -device help)");
    if (d.type == "help" || d.type == "?") {
        c.list_devices = true;
        return true;
    }
    if (o->has("help")) {
        c.device_help = d.type;
        return true;
    }
    d.props = std::move(*o);
    c.devices.push_back(std::move(d));
    return true;
}

bool parse_global(HostConfig &c, const std::string &arg, std::string *error) {
    // TYPE.PROP=VALUE, or driver=TYPE,property=PROP,value=VALUE.
    const size_t eq = arg.find('='), dot = arg.find('.');
    if (arg.starts_with("driver=")) {
        auto o = KeyValueOptions::parse(arg, "", error);
        if (!o) return false;
        GlobalProperty g{o->get_or("driver", ""), o->get_or("property", ""),
                         o->get_or("value", "")};
        if (g.type.empty() || g.property.empty())
            return fail(error, "-global " + arg + ": expected driver=,property=,value=");
        c.globals.push_back(std::move(g));
        return true;
    }
    if (eq == std::string::npos || dot == std::string::npos || dot > eq)
        return fail(error, "-global " + arg + ": expected TYPE.PROPERTY=VALUE");
    c.globals.push_back(
        {arg.substr(0, dot), arg.substr(dot + 1, eq - dot - 1), arg.substr(eq + 1)});
    return true;
}

bool parse_drive(HostConfig &c, const std::string &arg, std::string *error) {
    auto o = KeyValueOptions::parse(arg, "", error);
    if (!o) return false;
    static const char *const known[] = {
        "id",       "if",        "index",    "unit",   "bus",          "file",          "format",
        "readonly", "read-only", "snapshot", "media",  "cache",        "aio",           "discard",
        "werror",   "rerror",    "size",     "driver", "copy-on-read", "detect-zeroes", "locking"};
    for (const std::string &k : o->keys()) {
        bool ok = k.starts_with("file.") || k.starts_with("cache.");
        for (const char *n : known) ok = ok || k == n;
        if (!ok) return fail(error, "-drive: invalid option '" + k + "'");
    }
    c.drives.push_back(std::move(*o));
    return true;
}

bool parse_blockdev(HostConfig &c, const std::string &arg, std::string *error) {
    auto o = KeyValueOptions::parse(arg, "", error);
    if (!o) return false;
    if (!o->has("node-name")) return fail(error, "-blockdev needs node-name=");
    if (!o->has("driver")) return fail(error, "-blockdev needs driver=");
    c.blockdevs.push_back(std::move(*o));
    return true;
}

bool parse_mon(HostConfig &c, const std::string &arg, std::string *error) {
    auto o = KeyValueOptions::parse(arg, "chardev", error);
    if (!o) return false;
    const std::string mode = o->get_or("mode", "readline");
    if (mode != "control")
        return fail(error, "-mon mode=" + mode + ": only mode=control (QMP) is supported");
    auto id = o->get("chardev");
    if (!id) return fail(error, "-mon needs chardev=ID");
    c.monitors.push_back(*id);
    return true;
}

const std::map<std::string, OptionSpec> &options() {
    static const std::map<std::string, OptionSpec> table = {
        {"machine", {true, parse_machine}},
        {"M", {true, parse_machine}},
        {"accel", {true, parse_accel}},
        {"device", {true, parse_device}},
        {"global", {true, parse_global}},
        {"drive", {true, parse_drive}},
        {"blockdev", {true, parse_blockdev}},
        {"mon", {true, parse_mon}},
        {"m",
         {true,
          [](HostConfig &c, const std::string &a, std::string *e) {
              auto o = KeyValueOptions::parse(a, "size", e);
              if (!o) return false;
              std::string text = o->get_or("size", "");
              if (!text.empty() && std::isdigit(static_cast<unsigned char>(text.back())))
                  text += "M";
              auto size = parse_size(text);
              if (!size || *size == 0) return fail(e, "-m " + a + ": invalid RAM size");
              c.ram_bytes = *size;
              return true;
          }}},
        {"name",
         {true,
          [](HostConfig &c, const std::string &a, std::string *e) {
              auto o = KeyValueOptions::parse(a, "guest", e);
              if (!o) return false;
              c.name = o->get_or("guest", "");
              return true;
          }}},
        {"chardev",
         {true,
          [](HostConfig &c, const std::string &a, std::string *e) {
              auto spec = parse_chardev_options(a, e);
              if (!spec) return false;
              c.chardevs.push_back(*spec);
              return true;
          }}},
        {"qmp",
         {true,
          [](HostConfig &c, const std::string &a, std::string *e) {
              auto spec = parse_chardev_shorthand(a, e);
              if (!spec) return false;
              spec->id = "qmp" + std::to_string(c.qmp.size());
              c.qmp.push_back(*spec);
              return true;
          }}},
        {"qtest",
         {true,
          [](HostConfig &c, const std::string &a, std::string *e) {
              auto spec = parse_chardev_shorthand(a, e);
              if (!spec) return false;
              spec->id = "qtest";
              c.qtest = *spec;
              return true;
          }}},
        {"qtest-log",
         {true,
          [](HostConfig &c, const std::string &a, std::string *) {
              c.qtest_log = a;
              c.qtest_log_given = true;
              return true;
          }}},
        {"plugin-dir",
         {true,
          [](HostConfig &c, const std::string &a, std::string *) {
              c.plugin_dirs.push_back(a);
              return true;
          }}},
        {"trace",
         {true,
          [](HostConfig &c, const std::string &a, std::string *) {
              c.traces.push_back(a);
              return true;
          }}},
        {"display",
         {true,
          [](HostConfig &, const std::string &a, std::string *e) {
              return a == "none" || a.starts_with("none,") ||
                     fail(e, "-display " + a + ": only 'none' (this host has no display)");
          }}},
        {"audio",
         {true,
          [](HostConfig &, const std::string &a, std::string *e) {
              return a == "none" || a.starts_with("none,") || a.starts_with("driver=none") ||
                     fail(e, "-audio " + a + ": only 'none'");
          }}},
        {"run-with",
         {true,
          [](HostConfig &, const std::string &a, std::string *e) {
              return a.starts_with("exit-with-parent=") ||
                     fail(e, "-run-with " + a + ": only exit-with-parent= is supported");
          }}},
        {"nodefaults",
         {false,
          [](HostConfig &c, const std::string &, std::string *) { return c.nodefaults = true; }}},
        {"S",
         {false, [](HostConfig &c, const std::string &,
                    std::string *) { return c.start_stopped = true; }}},
        {"preconfig",
         {false,
          [](HostConfig &c, const std::string &, std::string *) { return c.preconfig = true; }}},
        {"nographic",
         {false, [](HostConfig &, const std::string &, std::string *) { return true; }}},
        {"h",
         {false,
          [](HostConfig &c, const std::string &, std::string *) { return c.show_help = true; }}},
        {"help",
         {false,
          [](HostConfig &c, const std::string &, std::string *) { return c.show_help = true; }}},
        {"version",
         {false,
          [](HostConfig &c, const std::string &, std::string *) { return c.show_version = true; }}},
    };
    return table;
}

}  // namespace

std::optional<HostConfig> parse_command_line(const std::vector<std::string> &args,
                                             std::string *error) {
    HostConfig config;
    for (size_t i = 0; i < args.size(); ++i) {
        std::string name = args[i];
        if (name.size() < 2 || name[0] != '-') {
            fail(error, "'" + name + "': expected an option (images go in -drive file=…)");
            return std::nullopt;
        }
        name.erase(0, name[1] == '-' ? 2 : 1);  // QEMU accepts --opt as -opt
        auto it = options().find(name);
        if (it == options().end()) {
            fail(error, "'" + args[i] + "': invalid option (see -help)");
            return std::nullopt;
        }
        std::string arg;
        if (it->second.takes_argument) {
            if (i + 1 >= args.size()) {
                fail(error, "'" + args[i] + "' requires an argument");
                return std::nullopt;
            }
            arg = args[++i];
        }
        std::string why;
        if (!it->second.apply(config, arg, &why)) {
            fail(error, why);
            return std::nullopt;
        }
    }
    return config;
}

std::string machine_list() {
    return "Supported machines are:\n"
           "pc                   PC platform: ISA bus, i8237 DMA, i8259 PIC, CMOS/RTC, guest RAM "
           "(default)\n"
           "none                 empty machine: guest RAM only, no ISA bus\n";
}

std::string accelerator_list() {
    return "Accelerators supported in fdplug-host:\n"
           "qtest                virtual time moves only on qtest clock_step/clock_set\n"
           "tcg                  virtual time follows the host's monotonic clock (the default)\n"
           "kvm                  the same as tcg (there is no CPU to accelerate)\n";
}

std::string command_line_help() {
    return "usage: fdplug-host [options]\n"
           "  -machine pc|none[,accel=qtest]   the machine (default pc; -machine help lists them)\n"
           "  -device TYPE[,prop=value…]       add a device (-device help lists types)\n"
           "  -global TYPE.PROP=VALUE          default a device property\n"
           "  -drive if=floppy|none,…          define a drive (file=, format=, readonly=, "
           "snapshot=, id=, index=)\n"
           "  -blockdev driver=…,node-name=…   define a block node\n"
           "  -m SIZE                          guest RAM (default 128M)\n"
           "  -name NAME  -nodefaults  -S  -display none  -nographic  -audio none\n"
           "  --preconfig                      open the monitors first; x-exit-preconfig builds "
           "the machine\n"
           "  -qtest unix:PATH  -qtest-log FILE  -accel qtest\n"
           "  -chardev socket,id=ID,path=P[,server=on,wait=off]  -mon chardev=ID,mode=control\n"
           "  -qmp unix:PATH,server=on,wait=off | tcp:HOST:PORT,server=on,wait=off\n"
           "  -plugin-dir DIR                  load device plugins from DIR (repeatable)\n"
           "  -trace PATTERN  -run-with exit-with-parent=on  -version  -h\n";
}

}  // namespace fdplug
