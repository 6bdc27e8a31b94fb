#include "system/host_control.h"

#include <cstdlib>

#include "system/machine.h"
#include "system/qom.h"

namespace fdplug {

qmp::Error take_plugin_error(FdplugError &err) {
    qmp::Error e;
    e.cls = err.cls ? err.cls : "GenericError";
    e.desc = err.desc ? err.desc : "the device reported an error without a description";
    if (err.extra_json) {
        qmp::Json extra = qmp::Json::parse(err.extra_json, nullptr, false);
        if (extra.is_object()) e.extra = extra;
    }
    if (!err.cls_static) std::free(const_cast<char *>(err.cls));
    std::free(err.desc);
    std::free(err.extra_json);
    err = FdplugError{};
    return e;
}

namespace {

qmp::Json take_json(char *text) {
    if (!text) return qmp::Json::object();
    qmp::Json v = qmp::Json::parse(text, nullptr, false);
    std::free(text);
    return v.is_discarded() ? qmp::Json::object() : v;
}

qmp::Outcome outcome_of(bool ok, FdplugError &err) {
    return ok ? qmp::Outcome::ok() : qmp::Outcome{std::nullopt, take_plugin_error(err), {}};
}

}  // namespace

HostControl::HostControl(Machine &machine, qmp::Dispatcher &dispatcher, GMainLoop *loop)
    : machine_(machine), dispatcher_(dispatcher), loop_(loop) {
    ever_ran_ = !machine_.config().start_stopped;
    bridge_.add_schema = [this](const char *text, const char *source, std::string *error) {
        return dispatcher_.add_schema(text ? text : "", source ? source : "plugin", error);
    };
    bridge_.register_command = [this](const char *name, FdplugQmpHandler handler, void *opaque,
                                      std::string *error) {
        return dispatcher_.register_command(
            name ? name : "",
            [handler, opaque](const qmp::Json &args) {
                const std::string text = args.dump();
                char *ret = nullptr;
                FdplugError err{};
                if (!handler(opaque, text.c_str(), &ret, &err)) {
                    std::free(ret);
                    return qmp::Outcome{std::nullopt, take_plugin_error(err), {}};
                }
                return qmp::Outcome::ok(take_json(ret));
            },
            error);
    };
    bridge_.emit_event = [this](const char *event, const char *data) {
        qmp::Json d = data ? qmp::Json::parse(data, nullptr, false) : qmp::Json::object();
        if (!dispatcher_.emit_event(event, d.is_discarded() ? qmp::Json::object() : d))
            std::fprintf(stderr, "fdplug-host: warning: event %s is not declared in any schema\n",
                         event);
    };
    bridge_.block_register = [this](FdplugDevice *, std::string qdev_id, std::string device_name,
                                    const FdplugBlockOps *ops, void *opaque) {
        BlockSlot slot;
        slot.qdev_id = std::move(qdev_id);
        slot.device_name = std::move(device_name);
        slot.query = [ops, opaque] {
            return ops->query ? take_json(ops->query(opaque)) : qmp::Json::object();
        };
        slot.eject = [ops, opaque](bool force) {
            FdplugError err{};
            return outcome_of(ops->eject(opaque, force, &err), err);
        };
        slot.change_medium = [ops, opaque](const std::string &file,
                                           const std::optional<std::string> &format,
                                           const std::string &mode, bool transient) {
            FdplugError err{};
            const char *fmt = format ? format->c_str() : nullptr;
            if (ops->change_medium2)
                return outcome_of(
                    ops->change_medium2(opaque, file.c_str(), fmt, mode.c_str(), transient, &err),
                    err);
            if (transient)
                return qmp::Outcome::fail("GenericError",
                                          "this drive's device does not take transient media");
            return outcome_of(ops->change_medium(opaque, file.c_str(), fmt, mode.c_str(), &err),
                              err);
        };
        slots_.push_back(std::move(slot));
    };
}

void HostControl::begin_preconfig(std::function<bool(std::string *)> build_machine) {
    build_machine_ = std::move(build_machine);
    dispatcher_.set_machine_ready(false);
}

qmp::Outcome HostControl::exit_preconfig() {
    if (!in_preconfig()) return MachineControl::exit_preconfig();
    const auto build = std::move(build_machine_);
    build_machine_ = nullptr;
    dispatcher_.set_machine_ready(true);
    std::string error;
    if (!build(&error)) {
        // QEMU exits when its board cannot be built; so does the host, after this reply.
        request_quit();
        return qmp::Outcome::fail("GenericError", error);
    }
    // As QEMU's x-exit-preconfig, which continues the machine (and sends RESUME) before it
    // replies, unless -S asked for a stopped start.
    if (running()) dispatcher_.emit_event("RESUME", qmp::Json::object());
    return qmp::Outcome::ok();
}

std::string HostControl::run_state() const {
    if (in_preconfig()) return "prelaunch";
    if (running()) return "running";
    return ever_ran_ ? "paused" : "prelaunch";
}

bool HostControl::running() const {
    // Under qtest the clock is manual and never "stopped", but the run state still follows -S.
    return machine_.clock().running();
}

void HostControl::stop() {
    machine_.clock().set_running(false);
}

void HostControl::cont() {
    ever_ran_ = true;
    machine_.clock().set_running(true);
}

void HostControl::system_reset() {
    machine_.reset(FDPLUG_RESET_COLD);
}

void HostControl::request_quit() {
    // Leave after the reply has been queued; the loop's exit path flushes and unrealizes.
    g_idle_add(
        [](gpointer loop) {
            g_main_loop_quit(static_cast<GMainLoop *>(loop));
            return G_SOURCE_REMOVE;
        },
        loop_);
}

std::string HostControl::name() const {
    return machine_.config().name;
}

qmp::Outcome HostControl::qom_list(const std::string &path) const {
    return QomTree(machine_).list(path);
}
qmp::Outcome HostControl::qom_get(const std::string &path, const std::string &property) const {
    return QomTree(machine_).get(path, property);
}
qmp::Outcome HostControl::qom_set(const std::string &path, const std::string &property,
                                  const qmp::Json &value) {
    return QomTree(machine_).set(path, property, value);
}
qmp::Json HostControl::qom_list_types(const std::optional<std::string> &implements,
                                      bool abstract) const {
    return QomTree(machine_).list_types(implements, abstract);
}

}  // namespace fdplug
