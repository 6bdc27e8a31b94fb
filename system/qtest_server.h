// The qtest protocol as QEMU 7.2 speaks it (docs/protocols/qtest.md): line-based
// requests from a test, one reply each, with asynchronous "IRQ raise/lower" lines in between.
// Unlike QEMU, a malformed request gets "FAIL <reason>" instead of aborting the process.
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "chardev/chardev.h"

namespace fdplug {

class VirtualClock;

// What the qtest server drives: the machine, seen as a CPU would see it.
class QtestTarget {
  public:
    virtual ~QtestTarget() = default;
    virtual uint32_t port_read(uint16_t port, unsigned size) = 0;
    virtual void port_write(uint16_t port, uint32_t value, unsigned size) = 0;
    virtual void mem_read(uint64_t addr, std::span<uint8_t> out) = 0;
    virtual void mem_write(uint64_t addr, std::span<const uint8_t> in) = 0;
    virtual VirtualClock &clock() = 0;
    // Canonical QOM path of an object named by a full or partial path, or nullopt.
    virtual std::optional<std::string> resolve_path(std::string_view path) const = 0;
    // Number of unnamed GPIO input pins of that object (the PC's ioapic: 24).
    virtual unsigned gpio_in_count(const std::string &canonical_path) const = 0;
    // Drive an input pin of an object (set_irq_in); the target reports intercepted changes.
    virtual void set_gpio_in(const std::string &canonical_path, unsigned pin, bool level) = 0;
};

class QtestServer : public ChardevClient {
  public:
    QtestServer(QtestTarget &target, Chardev &chardev, std::string log_path);
    ~QtestServer() override;

    // The target calls this when a pin of the intercepted object changes level.
    void intercepted_pin_changed(const std::string &canonical_path, unsigned pin, bool level);
    const std::string &intercepted() const { return intercepted_path_; }

    void chardev_opened() override;
    void chardev_received(std::string_view bytes) override;
    void chardev_closed() override;

    // One request line (without '\n') → the reply line(s) it produces; for tests.
    std::string handle_line(std::string_view line);

  private:
    std::string execute(const std::vector<std::string> &words);
    void send(const std::string &text);
    void log(const char *tag, bool relative, const std::string &text);

    QtestTarget &target_;
    Chardev &chardev_;
    FILE *log_ = nullptr;
    bool close_log_ = false;
    std::string input_;
    std::string intercepted_path_;
    bool intercept_out_ = false;
    std::vector<bool> levels_;
    int64_t start_us_ = 0;
    std::string *capture_ = nullptr;  // handle_line collects output here instead of sending
};

}  // namespace fdplug
