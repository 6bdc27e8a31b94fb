// Monitor abuse over the real sockets of a running fdplug-host: malformed and oversized input,
// rapid connect/disconnect, many concurrent clients, stalled and slow readers. Throughout each
// test a well-behaved client on a monitor of its own issues query-status; every reply must come
// within kLatencyBound, and the host's fds and RSS must stay bounded.
#include <dirent.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "tests/qtest/libqtest.h"

namespace fdplug::test {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
// Every reply to the well-behaved client; ASan+UBSan makes the host ~5x slower.
constexpr double kLatencyBound = kSanitized ? 2.0 : 1.0;
constexpr long kRssGrowthLimitKiB = 64 * 1024;

double seconds_since(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}

std::string socket_path(const std::string &tag) {
    return "/tmp/fdplug-abuse-" + std::to_string(getpid()) + "-" + tag + ".sock";
}

long rss_kib(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string key;
    long value = -1;
    while (in >> key) {
        if (key == "VmRSS:") {
            in >> value;
            break;
        }
        in.ignore(1 << 20, '\n');
    }
    return value;
}

int fd_count(pid_t pid) {
    DIR *d = opendir(("/proc/" + std::to_string(pid) + "/fd").c_str());
    if (!d) return -1;
    int n = 0;
    while (dirent *e = readdir(d))
        if (e->d_name[0] != '.') ++n;
    closedir(d);
    return n;
}

double cpu_seconds(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string s((std::istreambuf_iterator<char>(in)), {});
    std::istringstream rest(s.substr(s.rfind(')') + 2));
    std::string field;
    long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {  // fields 14 and 15 (utime, stime)
        if (i == 14) utime = std::stol(field);
        if (i == 15) stime = std::stol(field);
    }
    return double(utime + stime) / double(sysconf(_SC_CLK_TCK));
}

// The string at `pointer`, or "" (also for a missing reply: no exception in a client thread).
std::string str_at(const json &m, const char *pointer) {
    const json::json_pointer p(pointer);
    return m.contains(p) && m[p].is_string() ? m[p].get<std::string>() : "";
}

bool ascii_only(std::string_view s) {
    return std::all_of(s.begin(), s.end(),
                       [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

// A non-blocking client on a -qmp server socket.
class Conn {
  public:
    static constexpr int kWaitMs = 15000;

    explicit Conn(const std::string &path) {
        fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
        // Blocking connect: it waits while the listener's backlog is full.
        if (connect(fd_, reinterpret_cast<sockaddr *>(&addr), sizeof addr) < 0) {
            ::close(fd_);
            fd_ = -1;
            return;
        }
        set_nonblocking();
    }
    ~Conn() { close(); }
    Conn(const Conn &) = delete;
    Conn &operator=(const Conn &) = delete;

    bool ok() const { return fd_ >= 0; }
    int fd() const { return fd_; }
    void close() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

    // What the socket takes now (0 when full), -1 on error.
    ssize_t send_some(std::string_view s) {
        const ssize_t n = ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL);
        if (n < 0) return errno == EAGAIN ? 0 : -1;
        return n;
    }
    // Reads while it waits: the host stops reading a client whose replies pile up.
    bool send_all(std::string_view s, int timeout_ms = kWaitMs) {
        const auto start = Clock::now();
        while (!s.empty()) {
            const ssize_t n = send_some(s);
            if (n < 0) return false;
            s.remove_prefix(size_t(n));
            if (n == 0) {
                pollfd p{fd_, POLLOUT | POLLIN, 0};
                if (seconds_since(start) * 1000 > timeout_ms || poll(&p, 1, 100) < 0) return false;
                if ((p.revents & POLLIN) && !fill(0)) return false;
            }
        }
        return true;
    }
    // Reads what is there (waiting up to timeout_ms for something); false on EOF, error, timeout.
    bool fill(int timeout_ms, size_t max = 65536) {
        pollfd p{fd_, POLLIN, 0};
        if (poll(&p, 1, timeout_ms) <= 0) return false;
        char chunk[65536];
        const ssize_t n = ::read(fd_, chunk, std::min(max, sizeof chunk));
        if (n <= 0) {
            eof_ = true;
            return false;
        }
        buf_.append(chunk, size_t(n));
        return true;
    }
    // A whole line already received, if any.
    std::optional<std::string> buffered_line() {
        const size_t nl = buf_.find('\n', pos_);
        if (nl == std::string::npos) return std::nullopt;
        std::string l = buf_.substr(pos_, nl + 1 - pos_);
        pos_ = nl + 1;
        if (pos_ > (1u << 20) && pos_ * 2 > buf_.size()) {
            buf_.erase(0, pos_);
            pos_ = 0;
        }
        return l;
    }
    std::optional<std::string> line(int timeout_ms = kWaitMs) {
        const auto start = Clock::now();
        for (;;) {
            if (auto l = buffered_line()) return l;
            const int left = timeout_ms - int(seconds_since(start) * 1000);
            if (!fill(std::max(left, 0))) return std::nullopt;
        }
    }
    // The next message; null if none (or not one well-formed CRLF-terminated ASCII JSON line).
    json message(int timeout_ms = kWaitMs) {
        const auto l = line(timeout_ms);
        if (!l || !l->ends_with("\r\n") || !ascii_only(*l)) return json();
        json j = json::parse(*l, nullptr, false);
        return j.is_discarded() ? json() : j;
    }
    json reply(int timeout_ms = kWaitMs) {
        for (;;) {
            json m = message(timeout_ms);
            if (!m.is_object() || !m.contains("event")) return m;
        }
    }
    json command(const std::string &text) { return send_all(text) ? reply() : json(); }
    bool negotiate() {
        return message().contains("QMP") &&
               command("{'execute': 'qmp_capabilities'}").contains("return");
    }
    bool eof() const { return eof_; }
    size_t buffered() const { return buf_.size() - pos_; }

  private:
    void set_nonblocking() {
        const int one = 1;
        ioctl(fd_, FIONBIO, &one);
    }
    int fd_ = -1;
    std::string buf_;
    size_t pos_ = 0;
    bool eof_ = false;
};

// The well-behaved client: query-status with a fresh id every few ms, on its own monitor.
class GoodClient {
  public:
    void start(const std::string &path) {
        thread_ = std::thread([this, path] { run(path); });
    }
    void stop() {
        stop_ = true;
        if (thread_.joinable()) thread_.join();
    }
    ~GoodClient() { stop(); }

    // Written by its thread; read them once it is done(), except replies.
    std::atomic<int> replies{0};
    int late = 0;
    double max_latency = 0;
    std::string error;
    bool done() const { return done_; }

  private:
    void run(const std::string &path) {
        serve(path);
        done_ = true;
    }
    void serve(const std::string &path) {
        Conn c(path);
        if (!c.ok() || !c.negotiate()) {
            error = "could not connect and negotiate";
            return;
        }
        for (int n = 0; !stop_; ++n) {
            const std::string id = "good-" + std::to_string(n);
            const auto t0 = Clock::now();
            const json r = c.command("{'execute': 'query-status', 'id': '" + id + "'}");
            const double latency = seconds_since(t0);
            if (str_at(r, "/id") != id || !r.contains("return")) {
                error = "request " + id + " got " + r.dump();
                return;
            }
            ++replies;
            max_latency = std::max(max_latency, latency);
            if (latency > kLatencyBound) ++late;
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
    }
    std::thread thread_;
    std::atomic<bool> stop_{false}, done_{false};
};

// A host with a well-behaved client on monitor "good" and `monitors` more for abuse; the
// host's RSS is sampled throughout. TearDown checks the client, the RSS and a final answer.
class Abuse : public ::testing::Test {
  protected:
    void start(int monitors) {
        const char *asan = std::getenv("ASAN_OPTIONS");
        if (kSanitized && !(asan && std::strstr(asan, "quarantine_size_mb"))) {
            // ASan's quarantine keeps up to 256 MiB of freed memory resident; the RSS bound is
            // about what the host holds, so shrink it.
            const std::string opts = asan ? asan : "";
            setenv("ASAN_OPTIONS", (opts + ":quarantine_size_mb=8").c_str(), 1);
        }
        std::string args = "-machine none -qmp unix:" + socket_path("good") + ",server=on,wait=off";
        for (int i = 0; i < monitors; ++i) {
            paths_.push_back(socket_path("m" + std::to_string(i)));
            args += " -qmp unix:" + paths_.back() + ",server=on,wait=off";
        }
        QTestState::Options o;
        o.qmp_handshake = false;  // that monitor stays silent (no events) until the end
        qts_ = std::make_unique<QTestState>(args, o);
        ASSERT_TRUE(qts_->ok());
        pid_ = qts_->pid();
        good_.start(socket_path("good"));
        // Baselines once the good client is in.
        for (int i = 0; i < 100 && good_.replies == 0 && !good_.done(); ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        ASSERT_GT(good_.replies, 0) << "the good client got no reply";
        rss_base_ = rss_kib(pid_);
        rss_max_ = rss_base_;
        fds_base_ = fd_count(pid_);
        sampler_ = std::thread([this] {
            while (!stop_sampler_) {
                rss_max_ = std::max(rss_max_.load(), rss_kib(pid_));
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            }
        });
    }

    void TearDown() override {
        stop_sampler_ = true;
        if (sampler_.joinable()) sampler_.join();
        // Served throughout means after the abuse too.
        const int before = good_.replies;
        for (int i = 0; i < 500 && good_.replies < before + 3 && !good_.done(); ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        const int after = good_.replies;
        good_.stop();
        if (!qts_ || !qts_->ok()) return;
        EXPECT_EQ(good_.error, "");
        EXPECT_GE(after, before + 3) << "the good client is still served after the abuse";
        EXPECT_EQ(good_.late, 0) << "replies slower than " << kLatencyBound << " s; max "
                                 << good_.max_latency;
        EXPECT_LT(rss_max_ - rss_base_, kRssGrowthLimitKiB)
            << "host RSS grew from " << rss_base_ << " KiB to " << rss_max_ << " KiB";
        EXPECT_EQ(kill(pid_, 0), 0) << "the host is alive";
        EXPECT_TRUE(qts_->qmp_receive().contains("QMP"));
        EXPECT_TRUE(qts_->qmp("{'execute': 'qmp_capabilities'}").contains("return"));
        EXPECT_TRUE(qts_->qmp("{'execute': 'query-status'}").contains("return"))
            << "the host still answers";
        EXPECT_EQ(qts_->request("endianness"), "OK little") << "and so does qtest";
        std::printf(
            "[figures] %s: good client %d replies, max latency %.1f ms; host RSS %ld -> max %ld "
            "KiB; fds %d\n",
            ::testing::UnitTest::GetInstance()->current_test_info()->name(), good_.replies.load(),
            good_.max_latency * 1000, rss_base_, rss_max_.load(), fds_base_);
        EXPECT_EQ(qts_->quit(), 0);
    }

    const std::string &path(int i) const { return paths_[size_t(i)]; }
    pid_t pid() const { return pid_; }
    // The host's open fds once they are back to the start-up count, or after 2 s: closing a
    // client's socket reaches the host a moment later.
    int settled_fd_count() const {
        int fds = fd_count(pid_);
        for (int i = 0; i < 200 && fds != fds_base_; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
            fds = fd_count(pid_);
        }
        return fds;
    }

    std::unique_ptr<QTestState> qts_;
    std::vector<std::string> paths_;
    pid_t pid_ = -1;
    GoodClient good_;
    long rss_base_ = 0;
    int fds_base_ = 0;
    std::atomic<long> rss_max_{0};
    std::atomic<bool> stop_sampler_{false};
    std::thread sampler_;
};

std::string query_name(const std::string &id) {
    return "{'execute': 'query-name', 'id': '" + id + "'}";
}

// Each error names the problem, the reply is plain ASCII (no byte of the input is quoted back
// but printable ASCII), and nothing after it is lost: a limit error skips the rest of its own
// message only, a lexical error the bytes up to the next structural or control character, so the
// command right behind the bad bytes, on the same line, is answered (docs/qmp.md#errors).
TEST_F(Abuse, OversizedDeepAndInvalidUtf8InputIsNamedAndRecovered) {
    start(1);
    Conn c(path(0));
    ASSERT_TRUE(c.negotiate());
    struct Case {
        std::string name, bytes, desc;
    };
    const std::string open_id = "{'execute': 'query-name', 'id': '";
    const std::vector<Case> cases = {
        {"8 MiB string", open_id + std::string(8u << 20, 'a') + "'}",
         "JSON token size limit exceeded"},
        {"depth 100", std::string(100, '[') + std::string(100, ']'),
         "JSON nesting depth limit exceeded"},
        {"depth 1000000",
         open_id + "', 'x': " + std::string(1000000, '[') + std::string(1000000, ']') + "}",
         "JSON nesting depth limit exceeded"},
        {"120001 tokens",
         "[" +
             [] {
                 std::string s;
                 for (int i = 0; i < 60000; ++i) s += "1,";
                 return s;
             }() +
             "1]",
         "JSON token count limit exceeded"},
        {"C3 28", open_id + "\xC3\x28'}", "JSON parse error, invalid UTF-8 sequence in string"},
        {"surrogate ED A0 80", open_id + "\xED\xA0\x80'}",
         "JSON parse error, invalid UTF-8 sequence in string"},
        {"past U+10FFFF", open_id + "\xF4\x90\x80\x80'}",
         "JSON parse error, invalid UTF-8 sequence in string"},
        {"overlong E0 80 AF", open_id + "\xE0\x80\xAF'}",
         "JSON parse error, invalid UTF-8 sequence in string"},
        {"lone continuation", open_id + "\x80'}",
         "JSON parse error, invalid UTF-8 sequence in string"},
        {"truncated E2 82", open_id + "\xE2\x82'}",
         "JSON parse error, invalid UTF-8 sequence in string"},
        {"80 outside strings", "\x80", "JSON parse error, invalid character"},
        {"FF in a string", open_id + "\xFF", "JSON parse error, invalid UTF-8 byte in string"},
        {"FE outside strings", "{\xFE", "JSON parse error, invalid character"},
    };
    for (const Case &k : cases) {
        SCOPED_TRACE(k.name);
        // A message on the same line right after the bad bytes, then one on the next line.
        ASSERT_TRUE(
            c.send_all(k.bytes + query_name("same-line") + "\n" + query_name("next-line") + "\n"));
        const json err = c.reply();
        EXPECT_EQ(str_at(err, "/error/class"), "GenericError") << err.dump();
        EXPECT_EQ(str_at(err, "/error/desc"), k.desc);
        EXPECT_EQ(str_at(c.reply(), "/id"), "same-line");
        EXPECT_EQ(str_at(c.reply(), "/id"), "next-line");
    }
    // Well-formed UTF-8 is accepted and comes back \u-escaped (the line is ASCII).
    const std::string utf8 = "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80";
    EXPECT_EQ(str_at(c.command("{'execute': 'query-name', 'id': '" + utf8 + "'}"), "/id"), utf8);
    // 256 KiB of random bytes: only well-formed GenericError lines, then the stream recovers.
    std::mt19937 rng(20240601);
    std::string noise(256u << 10, '\0');
    for (char &ch : noise) ch = char(rng());
    // A control byte (not whitespace) ends whatever the noise left open.
    ASSERT_TRUE(c.send_all(noise + "\x01\n" + query_name("after-noise") + "\n"));
    int errors = 0;
    for (;;) {
        const json m = c.reply();
        ASSERT_TRUE(m.is_object())
            << "a reply that is not one ASCII JSON line, after " << errors << " errors";
        if (m.contains("id")) {
            EXPECT_EQ(str_at(m, "/id"), "after-noise");
            break;
        }
        // Random bytes can make a message the host answers (a bare number, say): not an error.
        if (m.contains("error")) {
            EXPECT_EQ(str_at(m, "/error/class"), "GenericError") << m.dump();
        }
        ++errors;
    }
    EXPECT_GT(errors, 0);
    std::printf("[figures] 256 KiB of random bytes: %d replies before the stream recovered\n",
                errors);
    EXPECT_TRUE(c.command(query_name("end")).contains("return"))
        << "the same connection is still served";
}

// 1 000 connections, four monitors at once: closed at once, after the greeting, in the middle
// of a message, after a command without reading its reply, after a half-close. No fd is leaked.
TEST_F(Abuse, ThousandRapidConnectDisconnectsLeakNothing) {
    constexpr int kMonitors = 4, kCycles = 1000;
    start(kMonitors);
    std::vector<std::thread> threads;
    std::vector<std::string> errors(kMonitors);
    const auto t0 = Clock::now();
    for (int m = 0; m < kMonitors; ++m)
        threads.emplace_back([&, m] {
            for (int i = m; i < kCycles; i += kMonitors) {
                Conn c(path(m));
                if (!c.ok()) {
                    errors[size_t(m)] = "connect failed at cycle " + std::to_string(i);
                    return;
                }
                switch (i / kMonitors % 5) {
                    case 0:  // hang up at once
                        break;
                    case 1:
                        if (!c.message().contains("QMP"))
                            errors[size_t(m)] = "no greeting at cycle " + std::to_string(i);
                        break;
                    case 2:
                        c.send_all("{'execute': 'qmp_capabilities'}{'execute': 'query-st");
                        break;
                    case 3:  // replies due, never read
                        c.send_all("{'execute': 'qmp_capabilities'}" +
                                   std::string("{'execute': 'query-qmp-schema'}") +
                                   query_name("unread"));
                        break;
                    case 4:
                        if (!c.negotiate())
                            errors[size_t(m)] = "no negotiation at cycle " + std::to_string(i);
                        shutdown(c.fd(), SHUT_WR);
                        while (c.fill(Conn::kWaitMs)) {
                        }
                        if (!c.eof())
                            errors[size_t(m)] =
                                "no EOF after a half-close at cycle " + std::to_string(i);
                        break;
                }
            }
        });
    for (auto &t : threads) t.join();
    const double took = seconds_since(t0);
    for (const std::string &e : errors) EXPECT_EQ(e, "");
    // One client per socket at a time: a client served now means every earlier one has left.
    {
        std::vector<std::unique_ptr<Conn>> last;
        for (int m = 0; m < kMonitors; ++m) {
            last.push_back(std::make_unique<Conn>(path(m)));
            ASSERT_TRUE(last.back()->negotiate());
            EXPECT_TRUE(last.back()->command(query_name("last")).contains("return"));
        }
        EXPECT_EQ(fd_count(pid()), fds_base_ + kMonitors)
            << "one fd per connected client, nothing else";
    }
    const int fds = settled_fd_count();
    EXPECT_EQ(fds, fds_base_) << "host fds before: " << fds_base_ << ", after: " << fds;
    std::printf("[figures] %d connect/disconnect cycles in %.2f s; host fds %d before, %d after\n",
                kCycles, took, fds_base_, fds);
}

// docs/qmp.md: one client per socket at a time, the next is accepted when it leaves; a waiting
// client costs the host nothing meanwhile.
TEST_F(Abuse, SecondClientOnASocketWaitsItsTurnWithoutCost) {
    start(1);
    Conn first(path(0));
    ASSERT_TRUE(first.negotiate());
    Conn second(path(0));
    ASSERT_TRUE(second.ok()) << "the kernel takes the connection; the host does not serve it yet";
    ASSERT_TRUE(second.send_all("{'execute': 'qmp_capabilities', 'id': 'queued'}"));
    const double cpu0 = cpu_seconds(pid());
    pollfd p{second.fd(), POLLIN, 0};
    EXPECT_EQ(poll(&p, 1, 1000), 0) << "no greeting while the first client is connected";
    const double cpu = cpu_seconds(pid()) - cpu0;
    EXPECT_LT(cpu, 0.1) << "host CPU time while a client waited for 1 s";
    EXPECT_TRUE(first.command(query_name("first")).contains("return"));
    first.close();
    EXPECT_TRUE(second.message().contains("QMP")) << "accepted once the first left";
    EXPECT_EQ(str_at(second.reply(), "/id"), "queued") << "what it sent while waiting is then read";
    std::printf("[figures] host CPU while a second client waited 1 s: %.3f s\n", cpu);
}

// 50 clients over 10 monitors (five per socket, taking turns), each a stream of commands with
// ids, pipelined eight deep, mixed with errors and run-state changes (events for everyone).
TEST_F(Abuse, FiftyConcurrentClientsOnTenMonitorsGetTheirOwnReplies) {
    constexpr int kMonitors = 10, kClients = 50, kCommands = 200, kWindow = 8;
    start(kMonitors);
    struct Result {
        std::string error;
        int replies = 0, events = 0;
        Clock::time_point greeted, left;
    };
    std::vector<Result> results(kClients);
    auto request = [](int client, int n, std::string *expect) {
        const std::string id = "'c" + std::to_string(client) + "-" + std::to_string(n) + "'";
        switch (n % 10) {
            case 1:
                *expect = "return";
                return "{'execute': 'query-name', 'id': " + id + "}";
            case 2:
                *expect = "return";
                return "{'execute': 'query-version', 'id': " + id + "}";
            case 3:
                *expect = "CommandNotFound";
                return "{'execute': 'no-such-command', 'id': " + id + "}";
            case 4:
                *expect = "GenericError";
                return "{'execute': 'query-status', 'arguments': {'bogus': 1}, 'id': " + id + "}";
            case 5:
                *expect = "DeviceNotFound";
                return "{'execute': 'eject', 'arguments': {'id': 'nope'}, 'id': " + id + "}";
            case 6:
                *expect = "return";
                return std::string(n % 50 == 6 ? "{'execute': 'stop', 'id': "
                                               : "{'execute': 'query-commands', 'id': ") +
                       id + "}";
            case 7:
                *expect = "return";
                return "{'execute': 'cont', 'id': " + id + "}";
            default:
                *expect = "return";
                return "{'execute': 'query-status', 'id': " + id + "}";
        }
    };
    std::vector<std::thread> threads;
    for (int i = 0; i < kClients; ++i)
        threads.emplace_back([&, i] {
            Result &r = results[size_t(i)];
            Conn c(path(i % kMonitors));
            if (!c.message().contains("QMP")) {
                r.error = "no greeting";
                return;
            }
            r.greeted = Clock::now();
            if (!c.command("{'execute': 'qmp_capabilities'}").contains("return"))
                r.error = "no negotiation";
            for (int n = 0; n < kCommands && r.error.empty(); n += kWindow) {
                std::string batch, expect[kWindow];
                for (int k = 0; k < kWindow; ++k) batch += request(i, n + k, &expect[k]);
                if (!c.send_all(batch)) r.error = "send failed";
                for (int k = 0; k < kWindow && r.error.empty(); ++k) {
                    json m;
                    while ((m = c.message()).is_object() && m.contains("event")) ++r.events;
                    const std::string id = "c" + std::to_string(i) + "-" + std::to_string(n + k);
                    const bool shape = expect[k] == "return"
                                           ? m.contains("return")
                                           : str_at(m, "/error/class") == expect[k];
                    if (str_at(m, "/id") != id || !shape)
                        r.error = "request " + id + " got " + m.dump();
                    else
                        ++r.replies;
                }
            }
            r.left = Clock::now();
        });
    for (auto &t : threads) t.join();
    int replies = 0, events = 0;
    for (int i = 0; i < kClients; ++i) {
        EXPECT_EQ(results[size_t(i)].error, "") << "client " << i;
        replies += results[size_t(i)].replies;
        events += results[size_t(i)].events;
    }
    EXPECT_EQ(replies, kClients * kCommands);
    EXPECT_GT(events, 0) << "events interleaved with the replies";
    // Clients of one socket were served one after the other, never two at once.
    for (int m = 0; m < kMonitors; ++m) {
        std::vector<const Result *> on;
        for (int i = m; i < kClients; i += kMonitors) on.push_back(&results[size_t(i)]);
        std::sort(on.begin(), on.end(), [](auto *a, auto *b) { return a->greeted < b->greeted; });
        for (size_t k = 1; k < on.size(); ++k)
            EXPECT_GE(on[k]->greeted, on[k - 1]->left) << "monitor " << m;
    }
    const int fds = settled_fd_count();
    EXPECT_EQ(fds, fds_base_);
    std::printf("[figures] %d clients on %d monitors: %d replies matched, %d events skipped\n",
                kClients, kMonitors, replies, events);
}

// A client that sends a lot and reads nothing: once its unread replies pass the limit the host
// stops reading it (its requests wait in its socket), serves everyone else, and holds little
// memory; when it reads again, every reply is there, in order.
TEST_F(Abuse, ClientThatNeverReadsIsPausedAndLosesNothing) {
    start(1);
    Conn c(path(0));
    ASSERT_TRUE(c.negotiate());
    // 300 query-qmp-schema (each reply ~7.6 KB) and 20 000 small ones: ~0.8 MB of requests.
    std::vector<std::string> ids;
    std::string requests;
    for (int i = 0; i < 300; ++i) {
        ids.push_back("s" + std::to_string(i));
        requests += "{'execute': 'query-qmp-schema', 'id': '" + ids.back() + "'}";
    }
    for (int i = 0; i < 20000; ++i) {
        ids.push_back("n" + std::to_string(i));
        requests += query_name(ids.back());
    }
    std::string_view rest = requests;
    auto last_progress = Clock::now();
    while (!rest.empty() && seconds_since(last_progress) < 1.0) {
        const ssize_t n = c.send_some(rest);
        ASSERT_GE(n, 0) << "the host dropped the client";
        if (n > 0) {
            rest.remove_prefix(size_t(n));
            last_progress = Clock::now();
        } else {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    }
    const size_t unsent = rest.size();
    EXPECT_GT(unsent, 0u) << "the host kept reading a client that reads nothing";
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the good client keeps going
    pollfd p{c.fd(), POLLIN, 0};
    ASSERT_EQ(poll(&p, 1, 0), 1);
    EXPECT_FALSE(p.revents & POLLHUP) << "not dropped";
    // It reads now (and sends the rest): every reply, in order.
    size_t next = 0;
    const auto t0 = Clock::now();
    while (next < ids.size() && seconds_since(t0) < 60) {
        if (!rest.empty()) {
            const ssize_t n = c.send_some(rest);
            ASSERT_GE(n, 0);
            rest.remove_prefix(size_t(n));
        }
        while (next < ids.size()) {
            const auto l = c.line(10);
            if (!l) break;
            const json m = json::parse(*l, nullptr, false);
            ASSERT_EQ(str_at(m, "/id"), ids[next]) << l->substr(0, 200);
            ASSERT_TRUE(m.contains("return"));
            ++next;
        }
        ASSERT_FALSE(c.eof()) << "dropped after " << next << " replies";
    }
    EXPECT_EQ(next, ids.size());
    std::printf(
        "[figures] never-reading client: %zu of %zu request bytes unread by the host while it "
        "stalled\n",
        unsent, requests.size());
}

// A client flooding the costliest command (query-qmp-schema: 32 bytes in, ~7.6 KB and ~0.4 ms
// of work out) while reading its replies: the host reads it a little at a time, so the others
// are still served at once.
TEST_F(Abuse, FloodOfCostlyCommandsDoesNotStallOthers) {
    start(1);
    Conn c(path(0));
    ASSERT_TRUE(c.negotiate());
    const std::string cmd = "{'execute': 'query-qmp-schema'}";
    std::string batch;
    for (int i = 0; i < 1024; ++i) batch += cmd;
    long sent = 0, replies = 0;
    std::string out;
    const auto t0 = Clock::now();
    while (seconds_since(t0) < 2.0) {
        // Up to 4 096 outstanding: when the host read 64 KiB at a time, one turn took 2 048.
        if (out.empty() && sent - replies < 4096) {
            out = batch;
            sent += 1024;
        }
        const ssize_t n = c.send_some(out);
        ASSERT_GE(n, 0);
        out.erase(0, size_t(n));
        c.fill(1);
        ASSERT_FALSE(c.eof());
        while (const auto l = c.buffered_line()) {
            ASSERT_TRUE(l->starts_with("{\"return\": [")) << l->substr(0, 100);
            ++replies;
        }
    }
    c.close();  // with requests still queued: the host drops them with the connection
    EXPECT_GT(replies, 0);
    std::printf("[figures] costly flood: %ld query-qmp-schema answered in 2 s\n", replies);
}

// Replies are paused with the client's input; events are not. A stalled client is dropped once
// 16 MiB of events are queued for it; the socket then takes the next client.
TEST_F(Abuse, StalledClientIsDroppedWhenItsEventsPassTheCap) {
    start(2);
    Conn stalled(path(0));
    ASSERT_TRUE(stalled.negotiate());
    Conn driver(path(1));
    ASSERT_TRUE(driver.negotiate());
    std::string batch;
    for (int i = 0; i < 1000; ++i) batch += "{'execute': 'system_reset'}";  // a RESET event each
    int batches = 0;
    const auto t0 = Clock::now();
    pollfd p{stalled.fd(), POLLIN, 0};
    for (; batches < 400 && !(poll(&p, 1, 0) == 1 && (p.revents & POLLHUP)); ++batches) {
        ASSERT_TRUE(driver.send_all(batch));
        for (int got = 0; got < 1000;) {
            const json m = driver.message();
            ASSERT_TRUE(m.is_object());
            if (m.contains("return")) ++got;
        }
    }
    EXPECT_TRUE(p.revents & POLLHUP) << "still connected after " << batches * 1000 << " events";
    const double took = seconds_since(t0);
    size_t got = 0;
    while (stalled.fill(1000)) got = stalled.buffered();
    EXPECT_TRUE(stalled.eof());
    Conn next(path(0));
    EXPECT_TRUE(next.negotiate()) << "the socket takes the next client";
    std::printf(
        "[figures] stalled client dropped within %d events (%.2f s), %zu bytes left for it in its "
        "socket\n",
        batches * 1000, took, got);
}

// A client that reads, but slower than the host writes, keeping requests in flight: the host's
// queue for it never empties. Its memory must still stay bounded.
TEST_F(Abuse, SlowReaderKeepsTheHostsMemoryBounded) {
    start(1);
    Conn c(path(0));
    ASSERT_TRUE(c.negotiate());
    const std::string pad(60000, 'x');
    constexpr int kReplies = 1600, kInFlight = 64;  // ~96 MiB through, ~3.8 MiB in flight
    int sent = 0, received = 0;
    std::string out;
    const auto t0 = Clock::now();
    while (received < kReplies && seconds_since(t0) < 90) {
        while (sent < kReplies && sent - received < kInFlight && out.size() < (1u << 20))
            out += query_name("w" + std::to_string(sent++) + "-" + pad);
        if (!out.empty()) {
            const ssize_t n = c.send_some(out);
            ASSERT_GE(n, 0);
            out.erase(0, size_t(n));
        }
        // At most 64 KiB a millisecond.
        c.fill(1, 65536);
        ASSERT_FALSE(c.eof()) << "dropped after " << received << " replies";
        while (const auto l = c.buffered_line()) {
            ASSERT_TRUE(l->find("\"id\": \"w" + std::to_string(received) + "-") !=
                        std::string::npos)
                << l->substr(0, 100);
            ++received;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    EXPECT_EQ(received, kReplies);
    std::printf("[figures] slow reader: %d replies of 60 KB in %.2f s\n", received,
                seconds_since(t0));
}

}  // namespace
}  // namespace fdplug::test
