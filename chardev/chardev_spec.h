// Where a character device's bytes go: a socket address, listening or connecting, as -chardev,
// -qmp and -qtest spell it. Plain data and parsing only, so the command line needs no GLib.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace fdplug {

struct ChardevSpec {
    std::string id;
    enum class Transport { Unix, Tcp } transport = Transport::Unix;
    std::string path, host, port;
    bool server = false;  // listen (true) or connect (false)
    bool wait = true;     // server only: block start-up until the first peer connects
};

// "socket,id=X,path=P[,server=on|off][,wait=on|off]" (or host=H,port=N): the -chardev form.
std::optional<ChardevSpec> parse_chardev_options(std::string_view text, std::string *error);
// "unix:PATH[,server=on][,wait=off]" / "tcp:HOST:PORT[,…]": what -qmp and -qtest take.
std::optional<ChardevSpec> parse_chardev_shorthand(std::string_view text, std::string *error);

}  // namespace fdplug
