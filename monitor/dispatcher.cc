#include "monitor/dispatcher.h"

#include <glib.h>

#include "monitor/json_writer.h"

namespace fdplug::qmp {

bool Dispatcher::add_schema(std::string_view text, std::string_view source, std::string *error) {
    return schema_.add(std::string(text), std::string(source), error);
}

bool Dispatcher::register_command(std::string_view name, Handler handler, std::string *error) {
    const std::string n(name);
    if (!schema_.command(n)) {
        if (error) *error = "command '" + n + "' is not declared in any QAPI schema";
        return false;
    }
    if (handlers_.count(n)) {
        if (error) *error = "command '" + n + "' already has a handler";
        return false;
    }
    handlers_[n] = std::move(handler);
    return true;
}

std::vector<std::string> Dispatcher::command_names() const {
    std::vector<std::string> names;
    for (const auto &[name, h] : handlers_) names.push_back(name);
    return names;
}

std::vector<std::string> Dispatcher::unhandled_commands() const {
    std::vector<std::string> names;
    for (const std::string &name : schema_.command_names())
        if (!handlers_.count(name)) names.push_back(name);
    return names;
}

Json Dispatcher::introspect() const {
    return schema_.introspect(
        [this](const std::string &command) { return handlers_.count(command) != 0; });
}

int Dispatcher::subscribe(EventSink sink) {
    sinks_[next_token_] = std::move(sink);
    return next_token_++;
}

void Dispatcher::unsubscribe(int token) {
    sinks_.erase(token);
}

bool Dispatcher::emit_event(std::string_view name, const Json &data) {
    const std::string n(name);
    if (!schema_.event(n)) return false;
    const int64_t us = g_get_real_time();
    Json msg = Json::object();
    msg["event"] = n;
    if (!data.is_null() && !(data.is_object() && data.empty())) msg["data"] = data;
    msg["timestamp"] = Json{{"seconds", us / 1000000}, {"microseconds", us % 1000000}};
    const std::string line = to_qmp_text(msg) + "\r\n";
    const auto sinks = sinks_;  // a sink may unsubscribe (its client went away) while we send
    for (const auto &[token, sink] : sinks) sink(line);
    return true;
}

void Dispatcher::run_after_reply() {
    if (!after_reply_) return;
    auto action = std::move(after_reply_);
    after_reply_ = nullptr;
    action();
}

Json Dispatcher::error_reply(const Error &e, const Json *id) {
    Json err = Json::object();
    err["class"] = e.cls;
    err["desc"] = e.desc;
    if (e.extra.is_object())
        for (auto it = e.extra.begin(); it != e.extra.end(); ++it) err[it.key()] = it.value();
    Json reply = Json::object();
    reply["error"] = err;
    if (id) reply["id"] = *id;
    return reply;
}

Json Dispatcher::handle(const Json &req, bool &negotiated) {
    after_reply_ = nullptr;
    if (!req.is_object())
        return error_reply({"GenericError", "QMP input must be a JSON object"}, nullptr);
    const Json *id = req.contains("id") ? &req["id"] : nullptr;
    auto fail = [&](std::string cls, std::string desc) {
        return error_reply({std::move(cls), std::move(desc)}, id);
    };
    if (req.contains("execute") && !req["execute"].is_string())
        return fail("GenericError", "QMP input member 'execute' must be a string");
    if (req.contains("arguments") && !req["arguments"].is_object())
        return fail("GenericError", "QMP input member 'arguments' must be an object");
    for (auto it = req.begin(); it != req.end(); ++it)
        if (it.key() != "execute" && it.key() != "arguments" && it.key() != "id")
            return fail("GenericError", "QMP input member '" + it.key() + "' is unexpected");
    if (!req.contains("execute")) return fail("GenericError", "QMP input lacks member 'execute'");

    const std::string name = req["execute"].get<std::string>();
    if (!negotiated && name != "qmp_capabilities")
        return fail("CommandNotFound",
                    "Expecting capabilities negotiation with 'qmp_capabilities'");
    if (negotiated && name == "qmp_capabilities")
        return fail("CommandNotFound",
                    "Capabilities negotiation is already complete, command ignored");
    const QapiCommand *cmd = schema_.command(name);
    auto handler = handlers_.find(name);
    if (!cmd || handler == handlers_.end())
        return fail("CommandNotFound", "The command " + name + " has not been found");
    if (!machine_ready_ && !cmd->allow_preconfig)
        return fail("GenericError", "The command '" + name +
                                        "' is permitted only after machine initialization has "
                                        "completed");
    static const Json kNoArguments = Json::object();
    const Json &args = req.contains("arguments") ? req["arguments"] : kNoArguments;
    std::string why;
    if (!schema_.validate_arguments(*cmd, args, &why)) return fail("GenericError", why);

    Outcome out = handler->second(args);
    if (out.error) return error_reply(*out.error, id);
    after_reply_ = std::move(out.after_reply);
    if (name == "qmp_capabilities") negotiated = true;
    Json reply = Json::object();
    reply["return"] = out.ret ? *out.ret : Json::object();
    if (id) reply["id"] = *id;
    return reply;
}

}  // namespace fdplug::qmp
