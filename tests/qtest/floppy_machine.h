// fdplug-host with the floppy plugin as the qtest test files drive it: the host's start-up, QMP
// requests, and the guest's side of the controller at 0x3F0 (FIFO handshake, DMA channel 2,
// IRQ 6). Each test file derives what only it needs.
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "hw/block/fdc/fdc_regs.h"
#include "tests/qtest/libqtest.h"
#include "tests/qtest/scratch_dir.h"

namespace fdplug::test {

// The controller's ports at the primary base, and its IRQ (docs/hardware/82077aa.md §1).
constexpr uint16_t kFdcBase = 0x3F0;
constexpr uint16_t kSraPort = kFdcBase + floppy::kSra, kSrbPort = kFdcBase + floppy::kSrb,
                   kDorPort = kFdcBase + floppy::kDor, kMsrPort = kFdcBase + floppy::kMsr,
                   kDsrPort = kFdcBase + floppy::kDsr, kFifoPort = kFdcBase + floppy::kFifo,
                   kDirPort = kFdcBase + floppy::kDir, kCcrPort = kFdcBase + floppy::kCcr;
constexpr unsigned kFloppyIrq = 6;
// Register and status bits by the core's names (hw/block/fdc/fdc_regs.h).
namespace msr = floppy::msr;
namespace dir = floppy::dir;
namespace st0 = floppy::st0;
namespace st1 = floppy::st1;

inline const std::string kFast = " -global isa-fdc.timing=fast";

// The host's first arguments: the directory meson built the floppy plugin in.
inline std::string floppy_plugin_args() {
    return "-plugin-dir " + env_or_empty("FDPLUG_FLOPPY_DIR") + " ";
}

inline std::string hex(unsigned v) {
    char b[8];
    std::snprintf(b, sizeof b, "0x%02x", v);
    return b;
}

// Runs the host with arguments and no sockets, for at most timeout_s; {exit status, combined
// output}.
inline std::pair<int, std::string> run_host(const std::string &args, unsigned timeout_s) {
    const std::string cmd = "timeout " + std::to_string(timeout_s) + " " +
                            env_or_empty("QTEST_QEMU_BINARY") + " " + floppy_plugin_args() + args +
                            " 2>&1";
    std::string out;
    FILE *p = ::popen(cmd.c_str(), "r");
    if (!p) return {-1, ""};
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    const int status = ::pclose(p);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

class FloppyMachine {
  public:
    using json = nlohmann::json;

    // unprivileged: when the tests run as root, the host runs as `nobody`, so that file
    // permissions apply to it.
    explicit FloppyMachine(const std::string &args, bool unprivileged = false)
        : q(start(args, unprivileged)) {
        if (q.ok()) q.irq_intercept_in("ioapic");
    }

    QTestState q;
    bool ok() const { return q.ok(); }

    // --- QMP: the reply; events that came before it are kept in q.events()
    json qmp(const std::string &command, const json &arguments = json::object()) {
        json request = {{"execute", command}};
        if (!arguments.empty()) request["arguments"] = arguments;
        return q.qmp(request.dump());
    }
    json attach(const std::string &id, const std::string &file, bool read_only = false) {
        json args = {{"id", id}, {"filename", file}};
        if (read_only) args["read-only"] = true;
        return qmp("floppy-attach-image", args);
    }
    json release(const std::string &id) { return qmp("floppy-release-image", {{"id", id}}); }
    json drives() { return qmp("query-floppy-drives")["return"]; }
    // That drive's entry in query-floppy-drives, or null.
    json drive(const std::string &id) {
        for (const json &d : drives())
            if (d.value("id", "") == id) return d;
        return json();
    }

    // --- the guest: the FIFO handshake (MSR RQM and DIO checked before each byte), IRQ 6
    uint8_t msr() { return q.inb(kMsrPort); }
    bool irq() { return q.get_irq(kFloppyIrq); }
    void send(uint8_t byte) {
        const uint8_t m = msr();
        EXPECT_EQ(m & (msr::kRqm | msr::kDio), msr::kRqm)
            << "MSR " << hex(m) << " before command byte " << hex(byte);
        q.outb(kFifoPort, byte);
    }
    void send_all(std::initializer_list<uint8_t> bytes) {
        for (uint8_t b : bytes) send(b);
    }
    uint8_t recv() {
        const uint8_t m = msr();
        EXPECT_EQ(m & (msr::kRqm | msr::kDio), msr::kRqm | msr::kDio)
            << "MSR " << hex(m) << " before a result byte";
        return q.inb(kFifoPort);
    }
    std::vector<uint8_t> take(unsigned n) {
        std::vector<uint8_t> out;
        while (n--) out.push_back(recv());
        return out;
    }
    // SEEK of a unit, then SENSE INTERRUPT; returns the PCN.
    uint8_t seek(unsigned unit, uint8_t cylinder) {
        send_all({0x0F, uint8_t(unit), cylinder});
        EXPECT_TRUE(irq()) << "seek end interrupt";
        send(0x08);
        return take(2)[1];
    }
    // Channel 2 of the 8237 as a BIOS programs it: mask, clear the flip-flop, mode (single,
    // increment, to memory for a READ or from it for a WRITE), address, page, count − 1, unmask.
    // `masked` leaves the channel masked, so that the controller waits for it.
    void dma(bool to_memory, uint32_t addr, uint16_t len, bool masked = false) {
        q.outb(0x0A, 0x06);
        q.outb(0x0C, 0x00);
        q.outb(0x0B, to_memory ? 0x46 : 0x4A);
        q.outb(0x04, uint8_t(addr));
        q.outb(0x04, uint8_t(addr >> 8));
        q.outb(0x81, uint8_t(addr >> 16));
        q.outb(0x05, uint8_t(len - 1));
        q.outb(0x05, uint8_t((len - 1) >> 8));
        if (!masked) q.outb(0x0A, 0x02);
    }

  private:
    static QTestState start(const std::string &args, bool unprivileged) {
        QTestState::Options options;
        if (!unprivileged || ::geteuid() != 0)
            return QTestState(floppy_plugin_args() + args, options);
        options.binary = "setpriv --reuid=65534 --regid=65534 --clear-groups " +
                         env_or_empty("QTEST_QEMU_BINARY");
        // `nobody` must reach the sockets the test creates while it starts the host; the old
        // umask comes back once the QTestState is built.
        struct UmaskZero {
            mode_t old = ::umask(0);
            ~UmaskZero() { ::umask(old); }
        } umask_zero;
        return QTestState(floppy_plugin_args() + args, options);
    }
};

}  // namespace fdplug::test
