// QMP commands, schemas and events shared by every monitor of the process. Requests are checked
// in QEMU 7.2's order (shape, then command, then arguments against the schema) before any
// handler runs; handlers run one at a time on the main loop.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "monitor/qapi_schema.h"

namespace fdplug::qmp {

struct Error {
    std::string cls = "GenericError";
    std::string desc;
    Json extra = Json::object();  // members merged into the error object (e.g. "hresult")
};

struct Outcome {
    std::optional<Json> ret;
    std::optional<Error> error;
    // Runs once the reply is on its way (QEMU sends e.g. quit's SHUTDOWN after the reply).
    std::function<void()> after_reply;
    static Outcome ok(Json value = Json::object()) { return {std::move(value), std::nullopt, {}}; }
    static Outcome fail(std::string cls, std::string desc, Json extra = Json::object()) {
        return {std::nullopt, Error{std::move(cls), std::move(desc), std::move(extra)}, {}};
    }
    Outcome then(std::function<void()> action) && {
        after_reply = std::move(action);
        return std::move(*this);
    }
};

class Dispatcher {
  public:
    using Handler = std::function<Outcome(const Json &arguments)>;
    using EventSink = std::function<void(const std::string &line)>;

    bool add_schema(std::string_view qapi_text, std::string_view source_name, std::string *error);
    bool register_command(std::string_view name, Handler handler, std::string *error);
    // Sends the event to every subscribed (negotiated) session. Undeclared events are refused.
    bool emit_event(std::string_view name, const Json &data);

    // A session in command mode receives events through its sink.
    int subscribe(EventSink sink);
    void unsubscribe(int token);

    // One parsed request → its reply object. `negotiated` is the session's mode; a successful
    // qmp_capabilities sets it.
    Json handle(const Json &request, bool &negotiated);
    // The work a successful command left for after its reply (see Outcome::after_reply); the
    // monitor calls this once it has queued the reply handle() returned.
    void run_after_reply();
    static Json error_reply(const Error &e, const Json *id);

    // Before the machine is built (--preconfig), only commands the schema marks
    // 'allow-preconfig' run; the others fail as they do in QEMU.
    void set_machine_ready(bool ready) { machine_ready_ = ready; }

    const QapiSchema &schema() const { return schema_; }
    // query-commands and query-qmp-schema describe the same set: the declared commands that
    // have a handler. A command declared without one is neither listed nor executable.
    std::vector<std::string> command_names() const;
    Json introspect() const;
    std::vector<std::string> unhandled_commands() const;  // declared, but no handler

  private:
    QapiSchema schema_;
    std::map<std::string, Handler> handlers_;
    std::map<int, EventSink> sinks_;
    int next_token_ = 1;
    std::function<void()> after_reply_;
    bool machine_ready_ = true;
};

}  // namespace fdplug::qmp
