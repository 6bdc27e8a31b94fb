// fdplug-host with the floppy plugin as the qtest test files drive it: the host's start-up, QMP
// requests, and the guest's side of the controller at 0x3F0 (tests/support/fdc_guest.h over
// qtest's port accesses: FIFO handshake, DMA channel 2; and IRQ 6). Each test file derives what
// only it needs.
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
#include "tests/support/fdc_guest.h"
#include "tests/support/shell_command.h"

namespace fdplug::test {

// The controller's ports, its IRQ, and the register bits the tests look at besides the MSR's
// (docs/hardware/82077aa.md §1, §2).
constexpr uint16_t kDorPort = kFdcBase + kDorOffset, kMsrPort = kFdcBase + kMsrOffset,
                   kDsrPort = kFdcBase + kDsrOffset, kFifoPort = kFdcBase + kFifoOffset,
                   kDirPort = kFdcBase + kDirOffset, kCcrPort = kFdcBase + kCcrOffset;
constexpr unsigned kFloppyIrq = 6;
constexpr uint16_t kSraPort = kFdcBase + floppy::kSra, kSrbPort = kFdcBase + floppy::kSrb;
// Register and status bits by the core's names (hw/block/fdc/fdc_regs.h).
namespace msr = floppy::msr;
namespace dir = floppy::dir;
namespace st0 = floppy::st0;
namespace st1 = floppy::st1;
namespace st2 = floppy::st2;

inline const std::string kFast = " -global isa-fdc.timing=fast";

// The host's first arguments: the directory meson built the floppy plugin in.
inline std::string floppy_plugin_args() {
    return "-plugin-dir " + env_or_empty("FDPLUG_FLOPPY_DIR") + " ";
}

// Runs the host with arguments and no sockets, for at most timeout_s; {exit status, combined
// output}.
inline std::pair<int, std::string> run_host(const std::string &args, unsigned timeout_s) {
    const ShellResult r =
        run_shell("timeout " + std::to_string(timeout_s) + " " + env_or_empty("QTEST_QEMU_BINARY") +
                  " " + floppy_plugin_args() + args);
    return {r.status, r.output};
}

// A qtest connection as the bus of tests/support/fdc_guest.h.
struct QtestPorts {
    QTestState &q;
    uint8_t read(uint16_t port) { return q.inb(port); }
    void write(uint16_t port, uint8_t v) { q.outb(port, v); }
};

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
    uint8_t msr() { return guest_.msr(); }
    bool irq() { return q.get_irq(kFloppyIrq); }
    void send(uint8_t byte) { guest_.send(byte); }
    void send_all(std::initializer_list<uint8_t> bytes) { guest_.send(bytes); }
    uint8_t recv() { return guest_.take(1)[0]; }
    std::vector<uint8_t> take(unsigned n) { return guest_.take(n); }
    // Every byte the result phase offers (at most 16).
    std::vector<uint8_t> result() { return guest_.result(); }
    // A data command on sectors r..eot of C/H of a 1.44 MB track (tests/support/fdc_guest.h).
    void data_command(uint8_t op, unsigned unit, uint8_t c, uint8_t h, uint8_t r, uint8_t eot) {
        guest_.data_command(op, unit, c, h, r, eot);
    }
    // SEEK of a unit, then SENSE INTERRUPT; returns the PCN.
    uint8_t seek(unsigned unit, uint8_t cylinder) {
        guest_.seek(uint8_t(unit), cylinder);
        EXPECT_TRUE(irq()) << "seek end interrupt";
        send(0x08);
        return take(2)[1];
    }
    // Channel 2 of the 8237 for a READ (to memory) or a WRITE (from it); `masked` leaves the
    // channel masked, so that the controller waits for it.
    void dma(bool to_memory, uint32_t addr, uint16_t len, bool masked = false) {
        program_dma_channel2(bus_, to_memory, addr, len, masked);
    }
    // Channel 2's count: bytes left − 1, 0xFFFF once all moved.
    uint16_t dma_count() { return dma_channel2_count(bus_); }

    // SPECIFY, then the data commands of 512-byte sectors the tests use most, through DMA at
    // 0x20000 (reads) and 0x30000 (writes); each returns the seven result bytes.
    void specify() { send_all({0x03, 0xDF, 0x02}); }  // SRT/HUT, HLT and DMA mode
    // READ DATA (MFM) / WRITE DATA of sectors r..eot of C/H on a unit; the result phase bytes.
    void start_read(unsigned unit, uint8_t c, uint8_t h, uint8_t r, uint8_t eot) {
        data_command(0x46, unit, c, h, r, eot);
    }
    std::vector<uint8_t> read(unsigned unit, uint8_t c, uint8_t h, uint8_t r, uint8_t count,
                              std::vector<uint8_t> *data) {
        dma(true, 0x20000, uint16_t(count * 512));
        start_read(unit, c, h, r, uint8_t(r + count - 1));
        EXPECT_TRUE(irq()) << "READ DATA ends with an interrupt";
        const auto result = take(7);
        if (data) *data = q.memread(0x20000, count * 512u);
        return result;
    }
    std::vector<uint8_t> write(unsigned unit, uint8_t c, uint8_t h, uint8_t r,
                               const std::vector<uint8_t> &data) {
        q.memwrite(0x30000, data);
        dma(false, 0x30000, uint16_t(data.size()));
        const uint8_t count = uint8_t(data.size() / 512);
        data_command(0x45, unit, c, h, r, uint8_t(r + count - 1));
        EXPECT_TRUE(irq()) << "WRITE DATA ends with an interrupt";
        return take(7);
    }

    // FORMAT TRACK (MFM) on a unit's current cylinder, head h: one ID per four bytes of `ids`
    // (C H R N), data fields of 128 << n bytes of `fill`, the IDs through DMA at 0x30000; the
    // result phase bytes.
    std::vector<uint8_t> format(unsigned unit, uint8_t h, uint8_t n,
                                const std::vector<uint8_t> &ids, uint8_t fill) {
        q.memwrite(0x30000, ids);
        dma(false, 0x30000, uint16_t(ids.size()));
        send_all({0x4D, uint8_t(unit | h << 2), n, uint8_t(ids.size() / 4), 0x74, fill});
        EXPECT_TRUE(irq()) << "FORMAT ends with an interrupt";
        return take(7);
    }

  private:
    QtestPorts bus_{q};
    // A byte sent or read without the handshake is a failure; the test goes on.
    FdcGuest<QtestPorts> guest_{bus_, {}, [](const std::string &what) { ADD_FAILURE() << what; }};

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
