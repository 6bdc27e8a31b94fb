// A C++ test client that starts the emulator exactly as QEMU 7.2's libqtest does
// (docs/protocols/qtest.md §1, §4) and speaks qtest and QMP to it. Works against
// fdplug-host and, for differential tests, against a real QEMU.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace fdplug::test {

class QTestState {
  public:
    struct Options {
        bool qmp_handshake = true;  // false: qtest_init_without_qmp_handshake
        std::string binary;         // default: $QTEST_QEMU_BINARY
    };

    // Starts the binary with `extra_args` (shell-split, as libqtest does); aborts the test
    // (gtest fatal failure, via the returned state's ok()) if anything goes wrong.
    explicit QTestState(const std::string &extra_args) : QTestState(extra_args, Options{}) {}
    QTestState(const std::string &extra_args, Options options);
    ~QTestState();
    QTestState(const QTestState &) = delete;
    QTestState &operator=(const QTestState &) = delete;

    bool ok() const { return error_.empty(); }
    const std::string &error() const { return error_; }
    pid_t pid() const { return pid_; }

    // qtest
    std::string request(const std::string &line);  // one reply line (async IRQ lines consumed)
    void outb(uint16_t port, uint8_t v);
    void outw(uint16_t port, uint16_t v);
    void outl(uint16_t port, uint32_t v);
    uint8_t inb(uint16_t port);
    uint16_t inw(uint16_t port);
    uint32_t inl(uint16_t port);
    void writeb(uint64_t addr, uint8_t v);
    uint8_t readb(uint64_t addr);
    void memwrite(uint64_t addr, const std::vector<uint8_t> &data);
    std::vector<uint8_t> memread(uint64_t addr, size_t size);
    int64_t clock_step(int64_t ns = -1);  // -1: to the next deadline
    int64_t clock_set(int64_t ns);
    void irq_intercept_in(const std::string &path);
    bool get_irq(unsigned num);  // drains async lines first (inb 0), as libqtest does

    // QMP
    nlohmann::json qmp(const std::string &text);  // sends, returns the reply; events stashed
    void qmp_send_raw(const std::string &bytes);
    nlohmann::json qmp_receive();  // next message (reply or event)
    nlohmann::json qmp_event_wait(const std::string &name);
    std::deque<nlohmann::json> &events() { return events_; }

    // SIGTERM, then a blocking wait; returns the exit status (or -signal).
    int quit();
    void kill_now();

    // Lines of the qtest transcript, each "> request" or "< reply", for tests that compare.
    const std::vector<std::string> &transcript() const { return transcript_; }

  private:
    std::string read_line(int fd, std::string &buffer);
    void fail(const std::string &what);

    pid_t pid_ = -1;
    int qtest_fd_ = -1, qmp_fd_ = -1;
    std::string qtest_buf_, qmp_buf_;
    std::vector<bool> irq_level_ = std::vector<bool>(256, false);
    std::deque<nlohmann::json> events_;
    std::vector<std::string> transcript_;
    std::string error_;
    bool quit_ = false;
};

}  // namespace fdplug::test
