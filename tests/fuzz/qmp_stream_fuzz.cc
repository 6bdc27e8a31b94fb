// libFuzzer target: the QMP monitor's input path without sockets. The input is a byte stream a
// client could send; it goes through the streaming JSON reader and the dispatcher with the host's
// real (embedded) schemas and commands, wired the way monitor/monitor.cc wires them, against a
// stand-in machine. Every message must yield exactly one well-formed reply (a "return" or an
// "error" with class and desc, the request's id echoed), nothing may throw or crash, and
// afterwards a client that sends a sync byte and a well-formed command is answered.
//
// Input: one mode byte (bit 0 set: tiny limits on message size, nesting depth and token count, so
// that small inputs reach the limit paths; clear: the monitor's real limits), then the stream.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "monitor/dispatcher.h"
#include "monitor/host_commands.h"
#include "monitor/json_stream.h"
#include "monitor/json_writer.h"

namespace fdplug::qmp::fuzz {
namespace {

[[noreturn]] void fail(const char *what, const std::string &detail = {}) {
    std::fprintf(stderr, "qmp_stream_fuzz: invariant broken: %s %s\n", what, detail.c_str());
    std::abort();
}
#define CHECK(cond, ...)                         \
    do {                                         \
        if (!(cond)) fail(#cond, ##__VA_ARGS__); \
    } while (0)

class FakeMachine final : public MachineControl {
  public:
    bool is_running = true;
    bool medium = true;
    unsigned resets = 0, quits = 0;

    std::string run_state() const override { return is_running ? "running" : "paused"; }
    bool running() const override { return is_running; }
    void stop() override { is_running = false; }
    void cont() override { is_running = true; }
    void system_reset() override { ++resets; }
    void request_quit() override { ++quits; }
    std::string name() const override { return "fuzz"; }
    std::vector<BlockSlot> block_slots() const override {
        auto *self = const_cast<FakeMachine *>(this);
        BlockSlot fd0;
        fd0.qdev_id = "fd0";
        fd0.device_name = "floppy0";
        fd0.query = [self] {
            Json info = Json::object();
            info["device"] = "floppy0";
            info["qdev"] = "fd0";
            info["removable"] = true;
            info["locked"] = false;
            info["tray_open"] = false;
            if (self->medium) info["inserted"] = Json{{"file", "/tmp/a.img"}, {"ro", false}};
            return info;
        };
        fd0.eject = [self](bool) {
            self->medium = false;
            return Outcome::ok();
        };
        fd0.change_medium = [self](const std::string &filename, const std::optional<std::string> &,
                                   const std::string &mode, bool /*transient*/) {
            if (filename.empty())
                return Outcome::fail("GenericError",
                                     "Could not open '': No such file or directory");
            if (mode != "retain" && mode != "read-only" && mode != "read-write")
                return Outcome::fail("GenericError", "bad mode " + mode);
            self->medium = true;
            return Outcome::ok();
        };
        BlockSlot fd1 = fd0;  // a second slot without a legacy name
        fd1.qdev_id = "fd1";
        fd1.device_name = "";
        return {fd0, fd1};
    }
};

struct World {
    Dispatcher dispatcher;
    FakeMachine machine;
    World() {
        std::string error;
        if (!register_host_commands(dispatcher, machine, &error))
            fail("register_host_commands", error);
    }
};

World &world() {
    static World *w = new World;  // built once: parsing the schemas is not what is fuzzed
    return *w;
}

bool ascii_line(const std::string &text) {
    for (unsigned char c : text)
        if (c < 0x20 || c >= 0x7F) return false;
    return true;
}

// What every reply must look like, as a client sees it on the wire.
void check_reply(const Json &reply, const Json *request) {
    CHECK(reply.is_object());
    const bool ret = reply.contains("return"), err = reply.contains("error");
    CHECK(ret != err, reply.dump());
    if (err) {
        const Json &e = reply["error"];
        CHECK(e.is_object() && e.contains("class") && e["class"].is_string() &&
                  e.contains("desc") && e["desc"].is_string(),
              reply.dump());
        CHECK(!e["desc"].get<std::string>().empty(), reply.dump());
    }
    for (auto it = reply.begin(); it != reply.end(); ++it)
        CHECK(it.key() == "return" || it.key() == "error" || it.key() == "id", reply.dump());
    // The id is echoed whenever the request was an object with one.
    if (request && request->is_object() && request->contains("id")) {
        CHECK(reply.contains("id") && reply["id"] == (*request)["id"], reply.dump());
    }
    const std::string text = to_qmp_text(reply);
    CHECK(ascii_line(text), text);
    // The writer's text parses back to the same value (checked on small replies: re-parsing the
    // whole introspection for every query-qmp-schema would halve the executions per second).
    if (text.size() <= 2048) CHECK(Json::parse(text) == reply, text);
}

struct Session {
    World &w;
    bool negotiated = false;
    int event_token = 0;
    size_t replies = 0, events = 0;
    Json last_reply;

    explicit Session(World &world) : w(world) {}
    ~Session() { set_negotiated(false); }

    void set_negotiated(bool on) {
        negotiated = on;
        if (on && !event_token) {
            event_token = w.dispatcher.subscribe([this](const std::string &line) {
                CHECK(line.size() >= 2 && line.substr(line.size() - 2) == "\r\n", line);
                const std::string body = line.substr(0, line.size() - 2);
                CHECK(ascii_line(body), line);
                Json ev = Json::parse(body);
                CHECK(ev.is_object() && ev.contains("event") && ev.contains("timestamp"), line);
                ++events;
            });
        } else if (!on && event_token) {
            w.dispatcher.unsubscribe(event_token);
            event_token = 0;
        }
    }

    void on_message(Json msg) {
        const bool was = negotiated;
        bool now = was;
        Json reply = w.dispatcher.handle(msg, now);
        check_reply(reply, &msg);
        last_reply = reply;
        ++replies;
        if (now != was) set_negotiated(now);
        w.dispatcher.run_after_reply();
    }
    void on_error(const std::string &desc) {
        CHECK(!desc.empty());
        Json reply = Dispatcher::error_reply({"GenericError", desc}, nullptr);
        check_reply(reply, nullptr);
        last_reply = reply;
        ++replies;
    }
};

void replay(std::string_view input, JsonStream::Limits limits) {
    World &w = world();
    w.machine = FakeMachine{};
    Session s(w);
    JsonStream stream(
        limits, [&s](Json msg) { s.on_message(std::move(msg)); },
        [&s](const std::string &desc) { s.on_error(desc); });
    stream.feed(input);

    // A client resynchronises with a control character; its next command is then answered.
    stream.feed("\x01");
    const size_t before = s.replies;
    stream.feed(R"({"execute": "query-status", "id": "probe"})");
    CHECK(s.replies == before + 1, "no reply to the probe after resync");
    CHECK(s.last_reply.contains("id") && s.last_reply["id"] == "probe", s.last_reply.dump());
    if (s.negotiated) CHECK(s.last_reply.contains("return"), s.last_reply.dump());
}

}  // namespace
}  // namespace fdplug::qmp::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    using fdplug::qmp::JsonStream;
    if (size == 0) return 0;
    JsonStream::Limits limits;  // the monitor's own
    if (data[0] & 1) {          // tiny ones, so that small inputs reach the limit paths
        limits.max_message_bytes = 64;
        limits.max_depth = 4;
        limits.max_tokens = 24;
    }
    fdplug::qmp::fuzz::replay(std::string_view(reinterpret_cast<const char *>(data) + 1, size - 1),
                              limits);
    return 0;
}
