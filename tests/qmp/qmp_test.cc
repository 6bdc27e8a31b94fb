// QMP over the real socket of a running fdplug-host: greeting, negotiation, id echo, malformed
// input recovery, validation, introspection, several monitors, vanishing and stalled clients.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <set>
#include <string>

#include "tests/qtest/libqtest.h"

namespace fdplug::test {
namespace {

using nlohmann::json;

QTestState::Options without_handshake() {
    QTestState::Options o;
    o.qmp_handshake = false;
    return o;
}

std::string socket_path(const char *tag) {
    return "/tmp/fdplug-qmp-" + std::to_string(getpid()) + "-" + tag + ".sock";
}

// A raw client on a -qmp server socket.
class RawClient {
  public:
    explicit RawClient(const std::string &path) {
        fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
        for (int i = 0;
             i < 100 && connect(fd_, reinterpret_cast<sockaddr *>(&addr), sizeof addr) < 0; ++i)
            usleep(20000);
    }
    ~RawClient() { close(); }
    void close() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }
    void send_text(const std::string &s) {
        ASSERT_EQ(::send(fd_, s.data(), s.size(), MSG_NOSIGNAL), ssize_t(s.size()));
    }
    json receive() {
        for (;;) {
            const size_t nl = buf_.find('\n');
            if (nl != std::string::npos) {
                std::string line = buf_.substr(0, nl);
                buf_.erase(0, nl + 1);
                EXPECT_TRUE(line.ends_with("\r")) << "QMP lines end with CRLF";
                return json::parse(line, nullptr, false);
            }
            pollfd p{fd_, POLLIN, 0};
            if (poll(&p, 1, 10000) <= 0) return json();
            char chunk[4096];
            const ssize_t n = read(fd_, chunk, sizeof chunk);
            if (n <= 0) return json();
            buf_.append(chunk, size_t(n));
        }
    }
    json command(const std::string &s) {
        send_text(s);
        for (;;) {
            json m = receive();
            if (!m.is_object() || !m.contains("event")) return m;
        }
    }

  private:
    int fd_ = -1;
    std::string buf_;
};

TEST(Qmp, GreetingShapeAndNegotiation) {
    QTestState qts("-machine pc", without_handshake());
    ASSERT_TRUE(qts.ok());
    json greeting = qts.qmp_receive();
    ASSERT_TRUE(greeting["QMP"].is_object());
    EXPECT_TRUE(greeting["QMP"]["version"]["qemu"].is_object());
    EXPECT_EQ(greeting["QMP"]["version"]["qemu"]["major"], 7);
    EXPECT_TRUE(greeting["QMP"]["version"]["package"].is_string());
    EXPECT_EQ(greeting["QMP"]["capabilities"], json::array());

    json r = qts.qmp("{'execute': 'query-status'}");
    EXPECT_EQ(r["error"]["class"], "CommandNotFound");
    EXPECT_EQ(r["error"]["desc"], "Expecting capabilities negotiation with 'qmp_capabilities'");
    r = qts.qmp("{'execute': 'qmp_capabilities', 'arguments': {'enable': ['oob']}}");
    EXPECT_EQ(r["error"]["desc"], "Capability oob not available");
    r = qts.qmp("{'execute': 'qmp_capabilities', 'id': 'cookie#1'}");
    EXPECT_EQ(r, json::parse(R"({"return": {}, "id": "cookie#1"})"));
    r = qts.qmp("{'execute': 'qmp_capabilities'}");
    EXPECT_EQ(r["error"]["desc"], "Capabilities negotiation is already complete, command ignored");
}

TEST(Qmp, IdIsEchoedVerbatimOnSuccessAndError) {
    QTestState qts("-machine pc");
    ASSERT_TRUE(qts.ok());
    for (const char *id : {"\"__qmp#00002\"", "2", "{\"x\": [1, \"two\"]}", "[null, true]"}) {
        json ok = qts.qmp(std::string("{\"execute\": \"query-status\", \"id\": ") + id + "}");
        EXPECT_EQ(ok["id"], json::parse(id));
        json err = qts.qmp(std::string("{\"execute\": \"no-such\", \"id\": ") + id + "}");
        EXPECT_EQ(err["id"], json::parse(id));
        json bad_args =
            qts.qmp(std::string("{\"execute\": \"eject\", \"arguments\": {\"id\": 5}, \"id\": ") +
                    id + "}");
        EXPECT_EQ(bad_args["error"]["desc"], "Invalid parameter type for 'id', expected: string");
        EXPECT_EQ(bad_args["id"], json::parse(id));
    }
}

// QEMU's qmp-test (test_malformed, docs/protocols/qmp.md §7) and fdplug's further cases: each
// gets exactly its GenericErrors — one, unless noted — and the very next reply is the answer to
// the next command; before and after negotiation. (Like libqtest's qtest_qmp(), complete
// messages end with a newline: a bare keyword such as null ends only at the next byte.)
TEST(Qmp, MalformedInputIsAnsweredAndRecovered) {
    const std::vector<std::pair<std::string, int>> cases = {
        {"{]\n", 1},
        {"{\xFF", 1},
        {"{\x01", 1},
        {"{'bad \xFF", 1},
        {"{'execute': 'nonexistent', 'id':'\n", 1},
        {"%p", 1},
        {"null\n", 1},
        {"{}\n", 1},
        {"{ 'execute': true }\n", 1},
        {"{ 'execute': 'no-such-cmd', 'arguments': [] }\n", 1},
        {"{ 'execute': 'no-such-cmd', 'extra': true }\n", 1},
        {"\xC3\x28\n", 1},
        {"\xFF\n", 1},
        {"{'a': 1} junk\n", 2},  // no 'execute'; then an invalid keyword
        {"{'execute': 'query-status', 'execute': 'query-name'}\n", 1},
        {"{'execute': 'eject', 'arguments': {'id': 'a', 'force': true, 'id': 'b'}}\n", 1},
        // Numbers beyond a double's range once ended the host (an uncaught exception; found by
        // tests/fuzz/qmp_stream_fuzz).
        {"{'execute': 'query-status', 'id': 1e400}\n", 1},
        {"-1e999\n", 1},
    };
    for (bool negotiate : {false, true}) {
        QTestState qts("-machine none", without_handshake());
        ASSERT_TRUE(qts.ok());
        qts.qmp_receive();  // greeting
        if (negotiate) {
            ASSERT_TRUE(qts.qmp("{'execute': 'qmp_capabilities'}").contains("return"));
        }
        for (const auto &[bad, errors] : cases) {
            qts.qmp_send_raw(bad);
            for (int i = 0; i < errors; ++i) {
                const json err = qts.qmp_receive();
                EXPECT_EQ(err["error"]["class"], "GenericError") << bad << " -> " << err.dump();
            }
            const json next = qts.qmp("{ 'execute': 'no-such-cmd' }");
            EXPECT_EQ(next["error"]["class"], "CommandNotFound") << "after " << bad;
        }
    }
}

// issue 17: after "%p", the next command was read as part of the bad input and never answered.
// Bad and good commands pipelined in one write: every good one is answered, in order, and each
// bad one gets exactly one error.
TEST(Qmp, PipelinedBadAndGoodCommandsLoseNothing) {
    QTestState qts("-machine none", without_handshake());
    ASSERT_TRUE(qts.ok());
    qts.qmp_receive();  // greeting
    qts.qmp_send_raw("%p");
    EXPECT_EQ(qts.qmp_receive()["error"]["desc"], "JSON parse error, stray '%'");
    EXPECT_EQ(qts.qmp("{\"execute\":\"no-such-cmd\"}")["error"]["class"], "CommandNotFound");
    ASSERT_TRUE(qts.qmp("{'execute': 'qmp_capabilities'}").contains("return"));

    const std::vector<std::pair<std::string, std::string>> bad = {
        {"{]", "JSON parse error, expecting value"},
        {"{\xFF", "JSON parse error, invalid character"},
        {"{\x01", "JSON parse error, invalid character"},
        {"{'bad \xFF", "JSON parse error, invalid UTF-8 byte in string"},
        {"{'execute': 'nonexistent', 'id':'\n", "JSON parse error, control character in string"},
        {"%p", "JSON parse error, stray '%'"},
        {"null", "QMP input must be a JSON object"},
        {"{}", "QMP input lacks member 'execute'"},
        {"{'s': '\xC3\x28'}", "JSON parse error, invalid UTF-8 sequence in string"},
        {"[1 2]", "JSON parse error, expected separator in list"},
    };
    std::string burst;
    for (size_t i = 0; i < bad.size(); ++i)
        burst += bad[i].first + "{'execute': 'query-name', 'id': " + std::to_string(i) + "}";
    for (int round = 0; round < 2; ++round) {  // one write, then byte by byte
        if (round == 0) {
            qts.qmp_send_raw(burst);
        } else {
            for (char c : burst) qts.qmp_send_raw(std::string(1, c));
        }
        for (size_t i = 0; i < bad.size(); ++i) {
            const json err = qts.qmp_receive();
            EXPECT_EQ(err["error"]["class"], "GenericError") << bad[i].first;
            EXPECT_EQ(err["error"]["desc"], bad[i].second) << bad[i].first;
            const json ok = qts.qmp_receive();
            EXPECT_TRUE(ok.contains("return")) << bad[i].first << " -> " << ok.dump();
            EXPECT_EQ(ok["id"], i) << "the command right behind " << bad[i].first;
        }
    }
}

// QEMU's qmp-test ends /qmp/protocol with a failing command that carries a numeric id: a
// human-monitor-command without its command line. The human monitor itself, as QEMU prints it.
TEST(Qmp, HumanMonitorCommand) {
    QTestState qts("-machine none");
    ASSERT_TRUE(qts.ok());
    EXPECT_EQ(
        qts.qmp("{ 'execute': 'human-monitor-command', 'id': 2 }"),
        json::parse(
            R"({"error": {"class": "GenericError", "desc": "Parameter 'command-line' is missing"}, "id": 2})"));
    auto hmp = [&](const std::string &line) {
        return qts.qmp("{'execute': 'human-monitor-command', 'arguments': {'command-line': '" +
                       line + "'}}")["return"];
    };
    EXPECT_EQ(hmp("info status"), "VM status: running\r\n");
    EXPECT_EQ(hmp("stop"), "");
    EXPECT_EQ(qts.qmp_event_wait("STOP")["event"], "STOP");
    EXPECT_EQ(hmp("  info   status "), "VM status: paused\r\n");
    EXPECT_EQ(hmp("c"), "");
    EXPECT_EQ(qts.qmp_event_wait("RESUME")["event"], "RESUME");
    EXPECT_EQ(hmp("info version"), "7.2.0 (fdplug-host 0.1.0)\r\n");
    EXPECT_EQ(hmp("info bogus"), "unknown command: 'info bogus'\r\n");
    EXPECT_EQ(hmp("savevm x"), "unknown command: 'savevm'\r\n");
    EXPECT_EQ(hmp(""), "");
    QTestState pre("-machine none -S");
    ASSERT_TRUE(pre.ok());
    EXPECT_EQ(pre.qmp("{'execute': 'human-monitor-command', 'arguments': {'command-line': 'info "
                      "status'}}")["return"],
              "VM status: paused (prelaunch)\r\n");
}

TEST(Qmp, RepeatedKeysAreRefusedAsQemuDoes) {
    QTestState qts("-machine none");
    ASSERT_TRUE(qts.ok());
    EXPECT_EQ(
        qts.qmp("{'execute': 'query-name', 'id': 1, 'id': 2}"),
        json::parse(
            R"({"error": {"class": "GenericError", "desc": "JSON parse error, duplicate key"}})"));
    // The same key in different objects is no repetition.
    EXPECT_EQ(qts.qmp("{'execute': 'query-name', 'id': {'id': {'id': 3}}}")["id"],
              json::parse(R"({"id": {"id": 3}})"));
}

TEST(Qmp, EmptyLinesAndWhitespaceBetweenMessagesAreIgnored) {
    QTestState qts("-machine none");
    ASSERT_TRUE(qts.ok());
    qts.qmp_send_raw("\n\r\n  \t\n");
    EXPECT_EQ(qts.qmp("\n{'execute': 'query-name', 'id': 'after-blank-lines'}\n\n")["id"],
              "after-blank-lines")
        << "no error for blank lines: the next message is answered first";
}

TEST(Qmp, SplitAndBatchedDelivery) {
    QTestState qts("-machine none");
    ASSERT_TRUE(qts.ok());
    const std::string msg = "{\"execute\": \"query-name\", \"id\": 1}";
    for (char c : msg) qts.qmp_send_raw(std::string(1, c));
    EXPECT_EQ(qts.qmp_receive()["id"], 1);
    qts.qmp_send_raw(msg + msg + "\r\n" + msg);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(qts.qmp_receive()["id"], 1);
}

TEST(Qmp, OversizedAndDeepMessagesGetLimitErrors) {
    QTestState qts("-machine none");
    ASSERT_TRUE(qts.ok());
    // One error per message; the rest of it is skipped, the next command is answered.
    qts.qmp_send_raw(std::string(100, '[') + std::string(100, ']'));
    EXPECT_EQ(qts.qmp_receive()["error"]["desc"], "JSON nesting depth limit exceeded");
    EXPECT_TRUE(qts.qmp("{'execute': 'query-status'}").contains("return"));
    qts.qmp_send_raw("{'execute': 'query-status', 'id': '" + std::string(2u << 20, 'a') + "'}");
    EXPECT_EQ(qts.qmp_receive()["error"]["desc"], "JSON token size limit exceeded");
    EXPECT_TRUE(qts.qmp("{'execute': 'query-status'}").contains("return"));
    // A message left open is ended by a control character.
    qts.qmp_send_raw(std::string(100, '[') + "{'execute': 'query-status'}\x01");
    EXPECT_EQ(qts.qmp_receive()["error"]["desc"], "JSON nesting depth limit exceeded");
    EXPECT_EQ(qts.qmp_receive()["error"]["desc"], "JSON parse error, invalid character");
    EXPECT_TRUE(qts.qmp("{'execute': 'query-status'}").contains("return"));
    // 120 001 tokens in 240 KB: under the size limit, over the token limit (100 000).
    std::string many = "[";
    for (int i = 0; i < 60000; ++i) many += "1,";
    qts.qmp_send_raw(many + "1]\n");
    EXPECT_EQ(qts.qmp_receive()["error"]["desc"], "JSON token count limit exceeded");
    EXPECT_TRUE(qts.qmp("{'execute': 'query-status'}").contains("return"));
    // Just under every limit is fine: depth 64, 99 999 tokens.
    EXPECT_EQ(qts.qmp("{'execute': 'query-name', 'id': " + std::string(63, '[') +
                      std::string(63, ']') + "}")["id"]
                  .dump(),
              std::string(63, '[') + std::string(63, ']'));
}

TEST(Qmp, IntrospectionMatchesTheCommandList) {
    const std::string testdev =
        std::string("-plugin-dir ") + std::getenv("FDPLUG_TESTDEV_DIR") + " -device test-isa-dev";
    for (const std::string &args : {std::string("-machine pc"), "-machine pc " + testdev}) {
        QTestState qts(args);
        ASSERT_TRUE(qts.ok());
        std::set<std::string> commands, schema_commands;
        const json listed = qts.qmp("{'execute': 'query-commands'}");
        const json schema = qts.qmp("{'execute': 'query-qmp-schema'}");
        for (const json &c : listed["return"]) commands.insert(c["name"]);
        for (const json &e : schema["return"])
            if (e["meta-type"] == "command") {
                schema_commands.insert(e["name"]);
            }
        EXPECT_EQ(commands, schema_commands) << args;
        for (const char *c :
             {"qmp_capabilities", "query-version", "query-commands", "query-qmp-schema",
              "query-status", "query-name", "stop", "cont", "system_reset", "quit", "eject",
              "blockdev-change-medium", "query-block"})
            EXPECT_TRUE(commands.count(c)) << c;
        EXPECT_EQ(commands.count("test-ping"), args.find("testdev") != std::string::npos ? 1u : 0u)
            << "plugin commands are listed when (and only when) the plugin is loaded";
        // Every listed command can be executed (none is CommandNotFound).
        for (const std::string &c : commands) {
            if (c == "quit" || c == "qmp_capabilities") continue;
            const json r = qts.qmp("{'execute': '" + c + "'}");
            EXPECT_NE(r.value("/error/class"_json_pointer, ""), "CommandNotFound") << c;
        }
    }
}

TEST(Qmp, QueryNameFollowsDashName) {
    QTestState without("-machine none");
    ASSERT_TRUE(without.ok());
    EXPECT_EQ(without.qmp("{'execute': 'query-name'}"), json::parse(R"({"return": {}})"));
    without.quit();
    QTestState with("-machine none -name guest=fd-vm,debug-threads=on");
    ASSERT_TRUE(with.ok());
    EXPECT_EQ(with.qmp("{'execute': 'query-name'}"),
              json::parse(R"({"return": {"name": "fd-vm"}})"));
}

// QEMU 7.2 sends STOP and RESUME from inside the command (before its reply), and only on a real
// change of run state; RESET and SHUTDOWN come from the main loop after the reply.
TEST(Qmp, RunStateEventsInQemuOrderAndOnlyOnChange) {
    QTestState qts("-machine pc -S");
    ASSERT_TRUE(qts.ok());
    auto exchange = [&qts](const std::string &cmd, size_t lines) {
        qts.qmp_send_raw("{'execute': '" + cmd + "'}");
        std::vector<std::string> got;
        for (size_t i = 0; i < lines; ++i) {
            const json m = qts.qmp_receive();
            got.push_back(m.contains("event")    ? "event " + m["event"].get<std::string>()
                          : m.contains("return") ? "return"
                                                 : m.dump());
        }
        // A round trip: anything the command still had to say would come before this reply.
        const json probe = qts.qmp("{'execute': 'query-name', 'id': 'probe'}");
        EXPECT_EQ(probe["id"], "probe") << "nothing more after " << cmd;
        for (const json &e : qts.events())
            got.push_back("late event " + e["event"].get<std::string>());
        qts.events().clear();
        return got;
    };
    using V = std::vector<std::string>;
    EXPECT_EQ(exchange("cont", 2), (V{"event RESUME", "return"}));
    EXPECT_EQ(exchange("cont", 1), (V{"return"})) << "already running: no RESUME";
    EXPECT_EQ(exchange("stop", 2), (V{"event STOP", "return"}));
    EXPECT_EQ(exchange("stop", 1), (V{"return"})) << "already stopped: no STOP";
    EXPECT_EQ(exchange("system_reset", 2), (V{"return", "event RESET"}));
    EXPECT_EQ(qts.qmp("{'execute': 'query-status'}")["return"]["status"], "paused")
        << "a reset keeps the run state";
    qts.qmp_send_raw("{'execute': 'quit'}");
    EXPECT_TRUE(qts.qmp_receive().contains("return"));
    const json shutdown = qts.qmp_receive();
    EXPECT_EQ(shutdown["event"], "SHUTDOWN");
    EXPECT_EQ(shutdown["data"], json::parse(R"({"guest": false, "reason": "host-qmp-quit"})"));
    EXPECT_EQ(qts.quit(), 0);
}

TEST(Qmp, SigtermSendsShutdownAndExitsZero) {
    QTestState qts("-machine pc");
    ASSERT_TRUE(qts.ok());
    ASSERT_EQ(kill(qts.pid(), SIGTERM), 0);
    const json shutdown = qts.qmp_event_wait("SHUTDOWN");
    EXPECT_EQ(shutdown["data"], json::parse(R"({"guest": false, "reason": "host-signal"})"));
    EXPECT_EQ(qts.quit(), 0);
}

TEST(Qmp, EventsReachOnlyNegotiatedClients) {
    const std::string path = socket_path("events");
    QTestState qts("-machine pc -qmp unix:" + path + ",server=on,wait=off");
    ASSERT_TRUE(qts.ok());
    RawClient late(path);
    EXPECT_TRUE(late.receive().contains("QMP"));
    qts.qmp("{'execute': 'stop'}");
    qts.qmp("{'execute': 'cont'}");
    EXPECT_EQ(qts.qmp_event_wait("STOP")["event"], "STOP");
    EXPECT_EQ(qts.qmp_event_wait("RESUME")["event"], "RESUME");
    // The late client negotiates now: its first message is its reply, not the events it missed.
    EXPECT_EQ(late.command("{'execute': 'qmp_capabilities', 'id': 1}"),
              json::parse(R"({"return": {}, "id": 1})"));
    late.send_text("{'execute': 'query-name', 'id': 2}");
    EXPECT_EQ(late.receive(), json::parse(R"({"return": {}, "id": 2})"));
    qts.qmp("{'execute': 'stop'}");
    EXPECT_EQ(late.receive()["event"], "STOP") << "and from now on it gets events";
}

TEST(Qmp, ClientLeavingBeforeItsReplyHarmsNobody) {
    const std::string path = socket_path("leaver");
    QTestState qts("-machine pc -qmp unix:" + path + ",server=on,wait=off");
    ASSERT_TRUE(qts.ok());
    for (int i = 0; i < 3; ++i) {
        RawClient leaver(path);
        EXPECT_TRUE(leaver.receive().contains("QMP"));
        EXPECT_TRUE(leaver.command("{'execute': 'qmp_capabilities'}").contains("return"));
        // Hang up with large replies due (whether the host has started on them or not).
        std::string requests;
        for (int n = 0; n < 20; ++n) requests += "{'execute': 'query-qmp-schema'}";
        leaver.send_text(requests);
        leaver.close();
        EXPECT_TRUE(qts.qmp("{'execute': 'query-status'}").contains("return"));
    }
    // The socket takes the next client, with a fresh session.
    RawClient next(path);
    EXPECT_TRUE(next.receive().contains("QMP"));
    EXPECT_EQ(next.command("{'execute': 'query-status'}")["error"]["class"], "CommandNotFound");
    EXPECT_EQ(qts.quit(), 0);
}

TEST(Qmp, BlockCommandsFollowQemuRules) {
    QTestState qts("-machine none");  // no device registers a drive
    ASSERT_TRUE(qts.ok());
    EXPECT_EQ(qts.qmp("{'execute': 'query-block'}")["return"], json::array());
    EXPECT_EQ(qts.qmp("{'execute': 'eject'}")["error"]["desc"],
              "Need exactly one of 'device' and 'id'");
    EXPECT_EQ(
        qts.qmp("{'execute': 'eject', 'arguments': {'id': 'a', 'device': 'b'}}")["error"]["desc"],
        "Need exactly one of 'device' and 'id'");
    json r = qts.qmp("{'execute': 'eject', 'arguments': {'id': 'nope'}}");
    EXPECT_EQ(r["error"]["class"], "DeviceNotFound");
    EXPECT_EQ(r["error"]["desc"], "Device 'nope' not found");
    r = qts.qmp(
        "{'execute': 'blockdev-change-medium', 'arguments': {'device': 'nope', 'filename': '/x'}}");
    EXPECT_EQ(r["error"]["class"], "DeviceNotFound");
    r = qts.qmp(
        "{'execute': 'blockdev-change-medium', 'arguments': {'id': 'x', 'filename': '/x', "
        "'read-only-mode': 'sometimes'}}");
    EXPECT_EQ(r["error"]["desc"], "Parameter 'read-only-mode' does not accept value 'sometimes'");
}

TEST(Qmp, RunStateEventsAndPrelaunch) {
    QTestState qts("-machine pc -S");
    ASSERT_TRUE(qts.ok());
    EXPECT_EQ(qts.qmp("{'execute': 'query-status'}")["return"]["status"], "prelaunch");
    qts.qmp("{'execute': 'cont'}");
    EXPECT_EQ(qts.qmp_event_wait("RESUME")["event"], "RESUME");
    EXPECT_EQ(qts.qmp("{'execute': 'query-status'}")["return"]["status"], "running");
    qts.qmp("{'execute': 'stop'}");
    EXPECT_EQ(qts.qmp_event_wait("STOP")["event"], "STOP");
    json st = qts.qmp("{'execute': 'query-status'}")["return"];
    EXPECT_EQ(st, json::parse(R"({"running": false, "singlestep": false, "status": "paused"})"));
    qts.qmp("{'execute': 'system_reset'}");
    json reset = qts.qmp_event_wait("RESET");
    EXPECT_TRUE(reset["timestamp"]["seconds"].is_number_integer());
    EXPECT_TRUE(reset["timestamp"]["microseconds"].is_number_integer());
}

// --preconfig: monitors before the machine; only allow-preconfig commands until
// x-exit-preconfig builds and starts it (QEMU 7.2's order: RESUME, then the reply).
TEST(Qmp, PreconfigGatesCommandsUntilExitPreconfig) {
    QTestState qts("-machine pc --preconfig");
    ASSERT_TRUE(qts.ok());
    json st = qts.qmp("{'execute': 'query-status'}")["return"];
    EXPECT_EQ(st, json::parse(R"({"running": false, "singlestep": false, "status": "prelaunch"})"));
    EXPECT_TRUE(qts.qmp("{'execute': 'query-commands'}").contains("return"));
    json r = qts.qmp("{'execute': 'query-cpus-fast'}");
    EXPECT_EQ(r["error"]["class"], "GenericError");
    EXPECT_EQ(r["error"]["desc"],
              "The command 'query-cpus-fast' is permitted only after machine initialization has "
              "completed");
    EXPECT_EQ(qts.qmp("{'execute': 'cont'}")["error"]["class"], "GenericError");

    qts.qmp_send_raw("{\"execute\": \"x-exit-preconfig\", \"id\": 1}\r\n");
    EXPECT_EQ(qts.qmp_receive()["event"], "RESUME");
    EXPECT_EQ(qts.qmp_receive(), json::parse(R"({"return": {}, "id": 1})"));
    EXPECT_EQ(qts.qmp("{'execute': 'query-status'}")["return"]["status"], "running");
    EXPECT_EQ(qts.qmp("{'execute': 'query-cpus-fast'}")["return"], json::array());
    r = qts.qmp("{'execute': 'x-exit-preconfig'}");
    EXPECT_EQ(r["error"]["desc"], "The command is permitted only before machine initialization");
}

TEST(Qmp, PreconfigWithDashSStaysStopped) {
    QTestState qts("-machine pc --preconfig -S");
    ASSERT_TRUE(qts.ok());
    EXPECT_TRUE(qts.qmp("{'execute': 'x-exit-preconfig'}").contains("return"));
    EXPECT_EQ(qts.qmp("{'execute': 'query-status'}")["return"]["status"], "prelaunch");
    qts.qmp("{'execute': 'cont'}");
    EXPECT_EQ(qts.qmp_event_wait("RESUME")["event"], "RESUME");
}

TEST(Qmp, ExitPreconfigWithoutPreconfigIsRefused) {
    QTestState qts("-machine none");
    ASSERT_TRUE(qts.ok());
    json r = qts.qmp("{'execute': 'x-exit-preconfig'}");
    EXPECT_EQ(r["error"]["class"], "GenericError");
    EXPECT_EQ(r["error"]["desc"], "The command is permitted only before machine initialization");
}

TEST(Qmp, QuitSendsShutdownAndExitsZero) {
    QTestState qts("-machine pc");
    ASSERT_TRUE(qts.ok());
    EXPECT_TRUE(qts.qmp("{'execute': 'quit'}").contains("return"));
    EXPECT_EQ(qts.qmp_event_wait("SHUTDOWN")["data"]["reason"], "host-qmp-quit");
    EXPECT_EQ(qts.quit(), 0);
}

TEST(Qmp, TwoMonitorsInterleaveAndBothGetEvents) {
    const std::string path = socket_path("second");
    QTestState qts("-machine pc -qmp unix:" + path + ",server=on,wait=off");
    ASSERT_TRUE(qts.ok());
    RawClient second(path);
    EXPECT_TRUE(second.receive().contains("QMP"));
    EXPECT_EQ(second.command("{'execute': 'query-status'}")["error"]["class"], "CommandNotFound")
        << "each connection negotiates on its own";
    EXPECT_TRUE(second.command("{'execute': 'qmp_capabilities'}").contains("return"));
    for (int i = 0; i < 20; ++i) {
        EXPECT_EQ(qts.qmp("{'execute': 'query-name', 'id': " + std::to_string(i) + "}")["id"], i);
        EXPECT_EQ(second.command("{'execute': 'query-name', 'id': " + std::to_string(100 + i) +
                                 "}")["id"],
                  100 + i);
    }
    second.send_text("{'execute': 'stop'}");
    EXPECT_EQ(qts.qmp_event_wait("STOP")["event"], "STOP");
    json m;
    do m = second.receive();
    while (m.is_object() && !m.contains("event"));
    EXPECT_EQ(m["event"], "STOP");
}

TEST(Qmp, VanishedAndStalledClientsDoNotBlockOthers) {
    const std::string path = socket_path("flaky");
    QTestState qts("-machine pc -qmp unix:" + path + ",server=on,wait=off");
    ASSERT_TRUE(qts.ok());
    {
        RawClient gone(path);
        gone.receive();
        gone.send_text("{'execute': 'qmp_capabilities'}{'execute': 'query-st");  // then vanish
    }
    EXPECT_TRUE(qts.qmp("{'execute': 'query-status'}").contains("return"));
    // The listener takes the next client, with a fresh negotiation state and parser.
    RawClient next(path);
    EXPECT_TRUE(next.receive().contains("QMP"));
    EXPECT_EQ(next.command("{'execute': 'query-status'}")["error"]["class"], "CommandNotFound");
    // A client that never reads: its backlog grows, the others are served meanwhile.
    next.send_text("{'execute': 'qmp_capabilities'}");
    std::string flood;
    for (int i = 0; i < 2000; ++i) flood += "{'execute': 'query-qmp-schema'}";
    next.send_text(flood);
    for (int i = 0; i < 5; ++i)
        EXPECT_TRUE(qts.qmp("{'execute': 'query-status'}").contains("return"));
    EXPECT_EQ(qts.request("endianness"), "OK little") << "nor the device side (qtest)";
}

}  // namespace
}  // namespace fdplug::test

namespace fdplug::test {
namespace {

std::string testdev_args() {
    return std::string("-plugin-dir ") + std::getenv("FDPLUG_TESTDEV_DIR");
}

TEST(QmpPlugins, PluginSchemaCommandsAndEventsAreMerged) {
    QTestState qts(testdev_args() + " -machine pc -device test-isa-dev");
    ASSERT_TRUE(qts.ok());
    EXPECT_EQ(qts.qmp("{'execute': 'test-ping', 'arguments': {'value': 42}, 'id': 9}"),
              json::parse(R"({"return": {"value": 42}, "id": 9})"));
    json err = qts.qmp("{'execute': 'test-ping', 'arguments': {'value': -1}}")["error"];
    EXPECT_EQ(
        err,
        json::parse(
            R"({"class": "TEST_E_NEGATIVE", "desc": "test-ping takes a value of 0 or more", "hresult": "0xA0040652"})"));
    EXPECT_EQ(qts.qmp("{'execute': 'test-ping', 'arguments': {'value': 'x'}}")["error"]["desc"],
              "Invalid parameter type for 'value', expected: integer")
        << "plugin arguments are validated against the plugin's schema before its handler runs";
    const json schema = qts.qmp("{'execute': 'query-qmp-schema'}");
    bool found = false;
    for (const json &e : schema["return"]) found = found || e["name"] == "TEST_TIMER";
    EXPECT_TRUE(found);
    qts.outb(0x303, 1);
    qts.clock_step(2'000'000);
    EXPECT_EQ(qts.qmp_event_wait("TEST_TIMER")["data"]["fires"], 1);
}

TEST(QmpPlugins, SystemResetResetsEveryDeviceBeforeItsReply) {
    QTestState qts(
        testdev_args() +
        " -machine pc -device test-isa-dev -device test-isa-dev,iobase=0x310,irq=7,dma=3");
    ASSERT_TRUE(qts.ok());
    qts.irq_intercept_in("ioapic");
    qts.outb(0x300, 1);
    qts.outb(0x310, 1);
    ASSERT_TRUE(qts.get_irq(5));
    ASSERT_TRUE(qts.get_irq(7));
    EXPECT_TRUE(qts.qmp("{'execute': 'system_reset'}").contains("return"));
    // The reply means done: the very next qtest request sees both devices reset.
    EXPECT_FALSE(qts.get_irq(5));
    EXPECT_FALSE(qts.get_irq(7));
    EXPECT_EQ(qts.inb(0x300), 0);
    EXPECT_EQ(qts.inb(0x310), 0);
    EXPECT_EQ(qts.qmp_event_wait("RESET")["data"]["reason"], "host-qmp-system-reset");
}

TEST(QmpPlugins, BlockCommandsReachTheDeviceThatOwnsTheDrive) {
    QTestState qts(testdev_args() + " -machine pc -nodefaults -device test-isa-dev,id=td");
    ASSERT_TRUE(qts.ok());
    // The pc machine's own floppy controller registers its drives too; keep the test device's.
    auto test_drives = [&qts] {
        json mine = json::array();
        const json reply = qts.qmp("{'execute': 'query-block'}");
        for (const json &b : reply["return"])
            if (b["qdev"] == "td") mine.push_back(b);
        return mine;
    };
    json blocks = test_drives();
    ASSERT_EQ(blocks.size(), 1u);
    EXPECT_EQ(blocks[0]["qdev"], "td");
    EXPECT_EQ(blocks[0]["device"], "testdrive300");
    EXPECT_FALSE(blocks[0].contains("inserted"));
    EXPECT_TRUE(qts.qmp("{'execute': 'blockdev-change-medium', 'arguments': {'id': 'td', "
                        "'filename': '/tmp/x.img'}}")
                    .contains("return"));
    blocks = test_drives();
    EXPECT_EQ(blocks[0]["inserted"]["file"], "/tmp/x.img");
    EXPECT_EQ(qts.qmp("{'execute': 'blockdev-change-medium', 'arguments': {'device': "
                      "'testdrive300', 'filename': 'rel.img'}}")["error"]["desc"],
              "test drive wants an absolute path");
    EXPECT_TRUE(qts.qmp("{'execute': 'eject', 'arguments': {'device': 'testdrive300'}}")
                    .contains("return"));
    EXPECT_FALSE(test_drives()[0].contains("inserted"));
}

TEST(QmpEndpoints, TcpAndListeningChardevMonitors) {
    const int port = 20000 + getpid() % 20000;
    const std::string unix_path = socket_path("chardev-server");
    QTestState qts("-machine none -qmp tcp:127.0.0.1:" + std::to_string(port) +
                   ",server=on,wait=off"
                   " -chardev socket,id=mon1,path=" +
                   unix_path + ",server=on,wait=off -mon chardev=mon1,mode=control");
    ASSERT_TRUE(qts.ok());
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(uint16_t(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr), 0);
    const std::string req =
        "{'execute': 'qmp_capabilities'}\n{'execute': 'query-name', 'id': 'tcp'}\n";
    ASSERT_EQ(send(fd, req.data(), req.size(), MSG_NOSIGNAL), ssize_t(req.size()));
    std::string got;
    char buf[4096];
    while (std::count(got.begin(), got.end(), '\n') < 3) {
        pollfd p{fd, POLLIN, 0};
        ASSERT_GT(poll(&p, 1, 10000), 0);
        const ssize_t n = read(fd, buf, sizeof buf);
        ASSERT_GT(n, 0);
        got.append(buf, size_t(n));
    }
    ::close(fd);
    EXPECT_NE(got.find("{\"return\": {}, \"id\": \"tcp\"}\r\n"), std::string::npos) << got;
    RawClient via_chardev(unix_path);
    EXPECT_TRUE(via_chardev.receive().contains("QMP"));
}

// qom-* over the object tree (docs/qmp.md#objects-and-properties): the pc machine's own
// controller, a user drive on it, their properties as the devices declare them.
class Qom : public ::testing::Test {
  protected:
    QTestState qts{"-machine pc -device floppy,id=fd1,unit=1,drive-type=144"};
    static constexpr const char *kFdc = "/machine/unattached/device[0]";
    json get(const std::string &path, const std::string &prop) {
        return qts.qmp("{'execute': 'qom-get', 'arguments': {'path': '" + path +
                       "', 'property': '" + prop + "'}}");
    }
    json set(const std::string &path, const std::string &prop, const std::string &value) {
        return qts.qmp("{'execute': 'qom-set', 'arguments': {'path': '" + path +
                       "', 'property': '" + prop + "', 'value': " + value + "}}");
    }
    static std::set<std::string> names(const json &list) {
        std::set<std::string> out;
        for (const json &e : list)
            out.insert(e["name"].get<std::string>() + ":" + e["type"].get<std::string>());
        return out;
    }
};

TEST_F(Qom, ListShowsTheTreeAndEveryDeclaredProperty) {
    ASSERT_TRUE(qts.ok());
    const json machine = qts.qmp("{'execute': 'qom-list', 'arguments': {'path': '/machine'}}");
    EXPECT_EQ(
        names(machine["return"]),
        (std::set<std::string>{"type:string", "peripheral:child<container>",
                               "peripheral-anon:child<container>", "unattached:child<container>"}));
    EXPECT_EQ(names(qts.qmp("{'execute': 'qom-list', 'arguments': {'path': "
                            "'/machine/peripheral'}}")["return"]),
              (std::set<std::string>{"type:string", "fd1:child<floppy>"}));
    const std::set<std::string> fdc = names(qts.qmp(
        "{'execute': 'qom-list', 'arguments': {'path': '" + std::string(kFdc) + "'}}")["return"]);
    for (const char *p : {"type:string", "iobase:uint32", "irq:uint32", "dma:uint32", "timing:str",
                          "mode:str", "implied-seek:str", "driveA:str", "fallback:str"})
        EXPECT_TRUE(fdc.count(p)) << p;
    const json fd1 = qts.qmp("{'execute': 'qom-list', 'arguments': {'path': 'fd1'}}")["return"];
    bool described = false;
    for (const json &e : fd1)
        if (e["name"] == "drive-type")
            described = e["default-value"] == "auto" && e["description"].is_string();
    EXPECT_TRUE(described) << fd1.dump();
    // A path that names nothing, as QEMU answers it.
    EXPECT_EQ(
        qts.qmp("{'execute': 'qom-list', 'arguments': {'path': '/machine/nope'}}"),
        json::parse(
            R"({"error": {"class": "DeviceNotFound", "desc": "Device '/machine/nope' not found"}})"));
}

TEST_F(Qom, GetAnswersWhatTheDeviceUses) {
    ASSERT_TRUE(qts.ok());
    EXPECT_EQ(get(kFdc, "type")["return"], "isa-fdc");
    EXPECT_EQ(get(kFdc, "iobase")["return"], 0x3f0);
    EXPECT_EQ(get(kFdc, "irq")["return"], 6);
    EXPECT_EQ(get(kFdc, "dma")["return"], 2);
    EXPECT_EQ(get(kFdc, "timing")["return"], "accurate");
    EXPECT_EQ(get(kFdc, "mode")["return"], "at");
    EXPECT_EQ(get(kFdc, "implied-seek")["return"], "configure");
    EXPECT_EQ(get("/machine/peripheral/fd1", "type")["return"], "floppy");
    EXPECT_EQ(get("fd1", "unit")["return"], 1);
    EXPECT_EQ(get("fd1", "drive-type")["return"], "144");
    EXPECT_EQ(get("/machine", "type")["return"], "pc-i440fx-7.2-machine");
    EXPECT_EQ(
        get(kFdc, "bogus"),
        json::parse(
            R"({"error": {"class": "GenericError", "desc": "Property 'isa-fdc.bogus' not found"}})"));
    EXPECT_EQ(get("/nope", "type")["error"]["class"], "DeviceNotFound");
}

// The floppy plugin's controller takes a new timing policy while it runs: a SEEK over 80
// cylinders takes over a second of virtual time under accurate timing, none under fast.
TEST_F(Qom, SetTimingChangesTheRunningController) {
    ASSERT_TRUE(qts.ok());
    qts.irq_intercept_in("ioapic");
    auto command = [&](std::initializer_list<uint8_t> bytes) {
        for (uint8_t b : bytes) {
            for (int i = 0; i < 1000 && (qts.inb(0x3f4) & 0xc0) != 0x80; ++i) qts.clock_step(1000);
            qts.outb(0x3f5, b);
        }
    };
    auto sense = [&] {
        command({0x08});
        qts.inb(0x3f5);
        qts.inb(0x3f5);
    };
    qts.outb(0x3f2, 0x1c);  // drive 0 selected, motor on, out of reset
    qts.clock_step(1000000000);
    for (int i = 0; i < 4; ++i) sense();  // the reset's four polling interrupts
    command({0x0f, 0x00, 80});            // SEEK to cylinder 80
    qts.clock_step(1000000);
    EXPECT_FALSE(qts.get_irq(6)) << "accurate timing: the seek is still stepping after 1 ms";
    qts.clock_step(10000000000);  // SRT 0 at 250 kbit/s: 16 ms a step
    EXPECT_TRUE(qts.get_irq(6));
    sense();
    EXPECT_EQ(set(kFdc, "timing", "'fast'"), json::parse(R"({"return": {}})"));
    EXPECT_EQ(get(kFdc, "timing")["return"], "fast");
    command({0x0f, 0x00, 0});  // SEEK back to 0
    qts.clock_step(1000000);
    EXPECT_TRUE(qts.get_irq(6)) << "fast timing: the seek is done at once";
    sense();
    EXPECT_EQ(set(kFdc, "timing", "'accurate'")["return"], json::object());
    command({0x0f, 0x00, 80});
    qts.clock_step(1000000);
    EXPECT_FALSE(qts.get_irq(6)) << "accurate again";
}

// QEMU 7.2's answers (qom/object.c, hw/core/qdev-properties.c) for what cannot be set.
TEST_F(Qom, SetRefusesAsQemuDoes) {
    ASSERT_TRUE(qts.ok());
    auto error = [](const std::string &cls, const std::string &desc) {
        return json{{"error", {{"class", cls}, {"desc", desc}}}};
    };
    EXPECT_EQ(set(kFdc, "iobase", "880"),
              error("GenericError",
                    "Attempt to set property 'iobase' on anonymous device (type "
                    "'isa-fdc') after it was realized"));
    EXPECT_EQ(set("fd1", "unit", "0"), error("GenericError",
                                             "Attempt to set property 'unit' on device 'fd1' (type "
                                             "'floppy') after it was realized"));
    for (const char *p : {"irq", "dma", "mode", "implied-seek"})
        EXPECT_EQ(set(kFdc, p, "1")["error"]["desc"].get<std::string>().find(
                      "after it was realized") != std::string::npos,
                  true)
            << p;
    EXPECT_EQ(set("fd1", "drive-type", "'288'")["error"]["class"], "GenericError");
    EXPECT_EQ(set(kFdc, "type", "'x'"),
              error("GenericError", "Insufficient permission to perform this operation"));
    EXPECT_EQ(set(kFdc, "bogus", "1"), error("GenericError", "Property 'isa-fdc.bogus' not found"));
    EXPECT_EQ(set("/machine", "rtc-time", "1"),
              error("GenericError", "Property 'pc-i440fx-7.2-machine.rtc-time' not found"));
    EXPECT_EQ(set("/machine/nope", "timing", "'fast'"),
              error("DeviceNotFound", "Device '/machine/nope' not found"));
    EXPECT_EQ(set(kFdc, "timing", "'slow'"),
              error("GenericError", "Parameter 'timing' does not accept value 'slow'"));
    EXPECT_EQ(set(kFdc, "timing", "1"),
              error("GenericError", "Invalid parameter type for 'timing', expected: string"));
    EXPECT_EQ(get(kFdc, "timing")["return"], "accurate") << "nothing changed";
    // QEMU's qmp-test /qmp/missing-any-arg.
    EXPECT_EQ(qts.qmp("{'execute': 'qom-set', 'arguments': { 'path': '/machine', 'property': "
                      "'rtc-time' } }"),
              error("GenericError", "Parameter 'value' is missing"));
}

TEST_F(Qom, ListTypesNamesTheHostsAndThePluginsTypes) {
    ASSERT_TRUE(qts.ok());
    const json isa =
        qts.qmp("{'execute': 'qom-list-types', 'arguments': {'implements': 'isa-device'}}");
    EXPECT_EQ(isa, json::parse(R"({"return": [{"name": "isa-fdc", "parent": "isa-device"}]})"));
    const json all = qts.qmp("{'execute': 'qom-list-types'}")["return"];
    std::set<std::string> n;
    for (const json &t : all) n.insert(t["name"]);
    EXPECT_TRUE(n.count("floppy") && n.count("container") && n.count("pc-i440fx-7.2-machine"));
    EXPECT_FALSE(n.count("device")) << "abstract types only on request";
    const json abstract = qts.qmp(
        "{'execute': 'qom-list-types', 'arguments': {'implements': 'device', 'abstract': true}}")
                              ["return"];
    bool device_abstract = false;
    for (const json &t : abstract)
        device_abstract |= t["name"] == "device" && t["abstract"] == true;
    EXPECT_TRUE(device_abstract) << abstract.dump();
}

}  // namespace
}  // namespace fdplug::test
