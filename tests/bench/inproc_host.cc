#include "tests/bench/inproc_host.h"

#include "monitor/host_commands.h"
#include "monitor/json_writer.h"
#include "system/cli_options.h"
#include "system/host_api.h"

namespace fdplug::bench {

InProcHost::InProcHost(const std::vector<std::string> &args) {
    auto config = parse_command_line(args, &error_);
    if (!config) return;
    error_.clear();
    plugins_ = std::make_unique<PluginLoader>();
    std::vector<std::string> warnings;
    plugins_->load_all(PluginLoader::search_path(config->plugin_dirs), &warnings);
    if (!warnings.empty()) {
        error_ = "plugin loader: " + warnings.front();
        return;
    }
    loop_ = g_main_loop_new(nullptr, FALSE);
    machine_ = std::make_unique<Machine>(*config, *plugins_);
    control_ = std::make_unique<HostControl>(*machine_, dispatcher_, loop_);
    if (!qmp::register_host_commands(dispatcher_, *control_, &error_)) return;
    if (!plugins_->init_all(host_table(*machine_, control_->bridge()), &error_)) return;
    if (!machine_->build(&error_)) return;
    machine_->on_pin_change = [this](const std::string &path, unsigned pin, bool level) {
        if (path == Machine::kIoapicPath && pin < 16) irq_[pin] = level;
    };
    stream_ = std::make_unique<qmp::JsonStream>(
        [this](qmp::Json msg) {
            reply_ += qmp::to_qmp_text(dispatcher_.handle(msg, negotiated_)) + "\r\n";
            dispatcher_.run_after_reply();
        },
        [this](const std::string &desc) {
            reply_ +=
                qmp::to_qmp_text(qmp::Dispatcher::error_reply({"GenericError", desc}, nullptr)) +
                "\r\n";
        });
    const qmp::Json r = qmp(qmp::Json{{"execute", "qmp_capabilities"}});
    if (!r.contains("return")) error_ = "qmp_capabilities: " + r.dump();
}

InProcHost::~InProcHost() {
    if (machine_) {
        machine_->on_pin_change = nullptr;
        machine_->unrealize_all();
    }
    if (plugins_) plugins_->fini_all();
    machine_.reset();
    control_.reset();
    plugins_.reset();
    if (loop_) g_main_loop_unref(loop_);
}

bool InProcHost::step_next() {
    VirtualClock &clock = machine_->clock();
    const auto d = clock.next_deadline();
    if (!d) return false;
    clock.step_to(*d);
    return true;
}

qmp::Json InProcHost::qmp(const qmp::Json &request) {
    qmp::Json reply = dispatcher_.handle(request, negotiated_);
    dispatcher_.run_after_reply();
    return reply;
}

std::string InProcHost::qmp_text(std::string_view request) {
    reply_.clear();
    stream_->feed(request);
    return reply_;
}

}  // namespace fdplug::bench
