#include "tests/qtest/libqtest.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace fdplug::test {

namespace {

int listen_unix(const std::string &path) {
    unlink(path.c_str());
    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    if (fd < 0 || bind(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) < 0 ||
        listen(fd, 1) < 0) {
        if (fd >= 0) close(fd);
        return -1;
    }
    return fd;
}

// accept() with libqtest's 50 s limit, and giving up early if the child died.
int accept_within(int listen_fd, pid_t child, int seconds) {
    for (int waited = 0; waited < seconds * 10; ++waited) {
        pollfd p{listen_fd, POLLIN, 0};
        if (poll(&p, 1, 100) > 0) return accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
        int status;
        if (waitpid(child, &status, WNOHANG) == child) return -2;
    }
    return -1;
}

}  // namespace

QTestState::QTestState(const std::string &extra_args, Options options) {
    std::string binary = options.binary;
    if (binary.empty()) {
        const char *env = std::getenv("QTEST_QEMU_BINARY");
        if (!env) {
            fail("QTEST_QEMU_BINARY is not set");
            return;
        }
        binary = env;
    }
    const char *tmp = std::getenv("TMPDIR");
    const std::string dir = tmp && *tmp ? tmp : "/tmp";
    const std::string base = dir + "/qtest-" + std::to_string(getpid());
    const std::string qtest_path = base + ".sock", qmp_path = base + ".qmp";
    const int qtest_listen = listen_unix(qtest_path), qmp_listen = listen_unix(qmp_path);
    if (qtest_listen < 0 || qmp_listen < 0) {
        fail("cannot listen on " + base + ".{sock,qmp}: " + std::strerror(errno));
        return;
    }
    const std::string command = "exec " + binary + " -qtest unix:" + qtest_path +
                                " -qtest-log /dev/null -chardev socket,path=" + qmp_path +
                                ",id=char0 -mon chardev=char0,mode=control -display none " +
                                extra_args + " -accel qtest";
    pid_ = fork();
    if (pid_ == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        setenv("QEMU_AUDIO_DRV", "none", 1);
        execlp("/bin/sh", "sh", "-c", command.c_str(), static_cast<char *>(nullptr));
        _exit(127);
    }
    qtest_fd_ = accept_within(qtest_listen, pid_, 50);
    if (qtest_fd_ >= 0) qmp_fd_ = accept_within(qmp_listen, pid_, 50);
    close(qtest_listen);
    close(qmp_listen);
    unlink(qtest_path.c_str());
    unlink(qmp_path.c_str());
    if (qtest_fd_ < 0 || qmp_fd_ < 0) {
        fail("the emulator did not connect (command: " + command + ")");
        return;
    }
    if (request("endianness") != "OK little") {
        fail("unexpected endianness reply");
        return;
    }
    if (options.qmp_handshake) {
        nlohmann::json greeting = qmp_receive();
        if (!greeting.contains("QMP")) {
            fail("no QMP greeting: " + greeting.dump());
            return;
        }
        nlohmann::json reply = qmp("{ 'execute': 'qmp_capabilities' }");
        if (!reply.contains("return")) fail("qmp_capabilities failed: " + reply.dump());
    }
}

QTestState::~QTestState() {
    if (pid_ > 0 && !quit_) quit();
    if (qtest_fd_ >= 0) close(qtest_fd_);
    if (qmp_fd_ >= 0) close(qmp_fd_);
}

void QTestState::fail(const std::string &what) {
    error_ = what;
    ADD_FAILURE() << "libqtest: " << what;
}

std::string QTestState::read_line(int fd, std::string &buffer) {
    for (;;) {
        const size_t nl = buffer.find('\n');
        if (nl != std::string::npos) {
            std::string line = buffer.substr(0, nl);
            buffer.erase(0, nl + 1);
            if (!line.empty() && line.back() == '\r') line.pop_back();
            return line;
        }
        pollfd p{fd, POLLIN, 0};
        if (poll(&p, 1, 60000) <= 0) {
            fail("timed out waiting for a reply");
            return "";
        }
        char chunk[65536];
        const ssize_t n = read(fd, chunk, sizeof chunk);
        if (n <= 0) {
            fail("the emulator closed the connection");
            return "";
        }
        buffer.append(chunk, size_t(n));
    }
}

std::string QTestState::request(const std::string &line) {
    if (qtest_fd_ < 0) return "";
    transcript_.push_back("> " + line);
    const std::string out = line + "\n";
    if (send(qtest_fd_, out.data(), out.size(), MSG_NOSIGNAL) != ssize_t(out.size())) {
        fail("cannot send '" + line + "'");
        return "";
    }
    for (;;) {
        std::string reply = read_line(qtest_fd_, qtest_buf_);
        transcript_.push_back("< " + reply);
        if (reply.starts_with("IRQ raise ") || reply.starts_with("IRQ lower ")) {
            const unsigned n = unsigned(std::strtoul(reply.c_str() + 10, nullptr, 0));
            EXPECT_LT(n, 256u) << reply;
            if (n < 256) irq_level_[n] = reply[4] == 'r';
            continue;
        }
        return reply;
    }
}

namespace {
std::string hex(uint64_t v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
    return buf;
}
uint64_t value_of(const std::string &reply) {
    EXPECT_TRUE(reply.starts_with("OK ")) << reply;
    return reply.size() > 3 ? std::strtoull(reply.c_str() + 3, nullptr, 0) : 0;
}
}  // namespace

void QTestState::outb(uint16_t port, uint8_t v) {
    EXPECT_EQ(request("outb " + hex(port) + " " + hex(v)), "OK");
}
void QTestState::outw(uint16_t port, uint16_t v) {
    EXPECT_EQ(request("outw " + hex(port) + " " + hex(v)), "OK");
}
void QTestState::outl(uint16_t port, uint32_t v) {
    EXPECT_EQ(request("outl " + hex(port) + " " + hex(v)), "OK");
}
uint8_t QTestState::inb(uint16_t port) {
    return uint8_t(value_of(request("inb " + hex(port))));
}
uint16_t QTestState::inw(uint16_t port) {
    return uint16_t(value_of(request("inw " + hex(port))));
}
uint32_t QTestState::inl(uint16_t port) {
    return uint32_t(value_of(request("inl " + hex(port))));
}
void QTestState::writeb(uint64_t addr, uint8_t v) {
    EXPECT_EQ(request("writeb " + hex(addr) + " " + hex(v)), "OK");
}
uint8_t QTestState::readb(uint64_t addr) {
    return uint8_t(value_of(request("readb " + hex(addr))));
}

void QTestState::memwrite(uint64_t addr, const std::vector<uint8_t> &data) {
    static const char digits[] = "0123456789abcdef";
    std::string h = "0x";
    for (uint8_t b : data) {
        h += digits[b >> 4];
        h += digits[b & 15];
    }
    EXPECT_EQ(request("write " + hex(addr) + " " + hex(data.size()) + " " + h), "OK");
}

std::vector<uint8_t> QTestState::memread(uint64_t addr, size_t size) {
    const std::string reply = request("read " + hex(addr) + " " + hex(size));
    std::vector<uint8_t> out;
    if (!reply.starts_with("OK 0x")) {
        ADD_FAILURE() << reply;
        return out;
    }
    for (size_t i = 5; i + 1 < reply.size(); i += 2)
        out.push_back(uint8_t(std::strtoul(reply.substr(i, 2).c_str(), nullptr, 16)));
    return out;
}

int64_t QTestState::clock_step(int64_t ns) {
    return int64_t(value_of(request(ns < 0 ? "clock_step" : "clock_step " + std::to_string(ns))));
}
int64_t QTestState::clock_set(int64_t ns) {
    return int64_t(value_of(request("clock_set " + std::to_string(ns))));
}
void QTestState::irq_intercept_in(const std::string &path) {
    EXPECT_EQ(request("irq_intercept_in " + path), "OK");
}

bool QTestState::get_irq(unsigned num) {
    inb(0);  // any round trip delivers the async IRQ lines sent before it
    return num < irq_level_.size() && irq_level_[num];
}

void QTestState::qmp_send_raw(const std::string &bytes) {
    if (qmp_fd_ < 0) return;
    if (send(qmp_fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) != ssize_t(bytes.size()))
        fail("cannot send on QMP");
}

nlohmann::json QTestState::qmp_receive() {
    const std::string line = read_line(qmp_fd_, qmp_buf_);
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded()) ADD_FAILURE() << "QMP sent invalid JSON: " << line;
    return j;
}

nlohmann::json QTestState::qmp(const std::string &text) {
    qmp_send_raw(text);
    for (;;) {
        nlohmann::json msg = qmp_receive();
        if (msg.is_object() && msg.contains("event")) {
            events_.push_back(msg);
            continue;
        }
        return msg;
    }
}

nlohmann::json QTestState::qmp_event_wait(const std::string &name) {
    for (auto it = events_.begin(); it != events_.end(); ++it)
        if ((*it)["event"] == name) {
            nlohmann::json e = *it;
            events_.erase(it);
            return e;
        }
    for (;;) {
        nlohmann::json msg = qmp_receive();
        if (!ok()) return msg;
        if (msg.is_object() && msg.value("event", "") == name) return msg;
        events_.push_back(msg);
    }
}

int QTestState::quit() {
    if (pid_ <= 0 || quit_) return 0;
    quit_ = true;
    kill(pid_, SIGTERM);
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFSIGNALED(status)) return -WTERMSIG(status);
    return WEXITSTATUS(status);
}

void QTestState::kill_now() {
    if (pid_ > 0 && !quit_) {
        kill(pid_, SIGKILL);
        int status;
        waitpid(pid_, &status, 0);
        quit_ = true;
    }
}

}  // namespace fdplug::test
