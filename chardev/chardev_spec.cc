#include "chardev/chardev_spec.h"

#include "chardev/key_value_options.h"

namespace fdplug {

namespace {

// Fills spec fields from parsed options; reports the first unknown key.
bool apply_socket_options(KeyValueOptions &o, ChardevSpec &spec, std::string *error) {
    auto flag = [&](const char *key, bool &out) {
        if (auto v = o.take(key)) {
            auto b = parse_bool(*v);
            if (!b) {
                if (error)
                    *error = std::string("'") + key + "' expects on or off, not '" + *v + "'";
                return false;
            }
            out = *b;
        }
        return true;
    };
    if (!flag("server", spec.server) || !flag("wait", spec.wait)) return false;
    bool ignored = false;
    if (!flag("nodelay", ignored) || !flag("telnet", ignored)) return false;
    if (!o.keys().empty()) {
        if (error) *error = "unknown socket chardev option '" + o.keys().front() + "'";
        return false;
    }
    return true;
}

}  // namespace

std::optional<ChardevSpec> parse_chardev_options(std::string_view text, std::string *error) {
    auto parsed = KeyValueOptions::parse(text, "backend", error);
    if (!parsed) return std::nullopt;
    KeyValueOptions &o = *parsed;
    ChardevSpec spec;
    const std::string backend = o.take("backend").value_or("");
    if (backend != "socket") {
        if (error) *error = "chardev backend '" + backend + "' is not supported (only 'socket')";
        return std::nullopt;
    }
    spec.id = o.take("id").value_or("");
    if (spec.id.empty()) {
        if (error) *error = "-chardev needs an id=";
        return std::nullopt;
    }
    if (auto path = o.take("path")) {
        spec.path = *path;
    } else if (auto port = o.take("port")) {
        spec.transport = ChardevSpec::Transport::Tcp;
        spec.port = *port;
        spec.host = o.take("host").value_or("localhost");
    } else {
        if (error) *error = "socket chardev '" + spec.id + "' needs path= or host=/port=";
        return std::nullopt;
    }
    if (!apply_socket_options(o, spec, error)) return std::nullopt;
    return spec;
}

std::optional<ChardevSpec> parse_chardev_shorthand(std::string_view text, std::string *error) {
    ChardevSpec spec;
    const size_t comma = text.find(',');
    std::string_view address = text.substr(0, comma);
    std::string rest = comma == std::string_view::npos ? "" : std::string(text.substr(comma + 1));
    if (address.starts_with("unix:")) {
        spec.path = std::string(address.substr(5));
    } else if (address.starts_with("tcp:")) {
        spec.transport = ChardevSpec::Transport::Tcp;
        const std::string_view hp = address.substr(4);
        const size_t colon = hp.rfind(':');
        if (colon == std::string_view::npos) {
            if (error) *error = "'" + std::string(text) + "': expected tcp:HOST:PORT";
            return std::nullopt;
        }
        spec.host = std::string(hp.substr(0, colon));
        spec.port = std::string(hp.substr(colon + 1));
        if (spec.host.empty()) spec.host = "localhost";
    } else {
        if (error) *error = "'" + std::string(text) + "': expected unix:PATH or tcp:HOST:PORT";
        return std::nullopt;
    }
    if ((spec.transport == ChardevSpec::Transport::Unix && spec.path.empty()) ||
        (spec.transport == ChardevSpec::Transport::Tcp && spec.port.empty())) {
        if (error) *error = "'" + std::string(text) + "': empty address";
        return std::nullopt;
    }
    auto o = KeyValueOptions::parse(rest, "", error);
    if (!o || !apply_socket_options(*o, spec, error)) return std::nullopt;
    return spec;
}

}  // namespace fdplug
