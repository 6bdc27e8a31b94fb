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
    static Outcome ok(Json value = Json::object()) { return {std::move(value), std::nullopt}; }
    static Outcome fail(std::string cls, std::string desc, Json extra = Json::object()) {
        return {std::nullopt, Error{std::move(cls), std::move(desc), std::move(extra)}};
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
    static Json error_reply(const Error &e, const Json *id);

    const QapiSchema &schema() const { return schema_; }
    std::vector<std::string> command_names() const;

private:
    QapiSchema schema_;
    std::map<std::string, Handler> handlers_;
    std::map<int, EventSink> sinks_;
    int next_token_ = 1;
};

}  // namespace fdplug::qmp
