// The guest's side of an 82077AA, the way a BIOS or a driver talks to it: command bytes after
// the MSR handshake, result bytes while the MSR offers them, SENSE INTERRUPT, SEEK and
// RECALIBRATE, SPECIFY, a data command's nine bytes, and channel 2 of the PC's 8237 programmed
// for it. One copy for every test world, each plugging in its own bus: the core in-process
// (tests/unit/block/fdc_guest_ports.h), fdplug-host over qtest (tests/qtest/floppy_machine.h),
// the benchmarks' backends (tests/bench/floppy_driver.h).
//
// A bus is anything with   uint8_t read(uint16_t port);   void write(uint16_t port, uint8_t v);
// Registers and bits: docs/hardware/82077aa.md §4, §5; the 8237 as the host models it:
// hw/dma/i8237.h.
#pragma once

#include <concepts>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

namespace fdplug::test {

template <class Bus>
concept PortBus = requires(Bus &bus, uint16_t port, uint8_t value) {
    { bus.read(port) } -> std::convertible_to<uint8_t>;
    bus.write(port, value);
};

// The primary controller's base on a PC, and its registers as offsets from a base.
constexpr uint16_t kFdcBase = 0x3F0;
constexpr uint16_t kDorOffset = 2, kMsrOffset = 4, kDsrOffset = 4, kFifoOffset = 5, kDirOffset = 7,
                   kCcrOffset = 7;
// MSR: request for master, data direction (to the host), non-DMA execution, command busy.
constexpr uint8_t kRqm = 0x80, kDio = 0x40, kNonDma = 0x20, kCb = 0x10;

// "0x3f", "0x20000": for messages and qtest request lines.
inline std::string hex(unsigned v) {
    char b[16];
    std::snprintf(b, sizeof b, "0x%02x", v);
    return b;
}

template <PortBus Bus>
class FdcGuest {
  public:
    struct Options {
        uint16_t base = kFdcBase;  // 0 where the bus takes register offsets
        // MSR reads before a command byte gives up on RQM: 1 for a model that is ready at once;
        // more for a backend whose controller takes real time (QEMU under TCG).
        unsigned ready_polls = 1;
    };
    // Hears each handshake that failed; a test world turns it into a failure.
    using Report = std::function<void(const std::string &)>;

    explicit FdcGuest(Bus &bus, Options options = {}, Report report = {})
        : bus_(bus), options_(options), report_(std::move(report)) {}

    uint8_t msr() { return bus_.read(port(kMsrOffset)); }

    // One command byte, once the MSR shows RQM without DIO. A byte the controller is not ready
    // for is reported and not sent (false).
    bool send(uint8_t byte) {
        uint8_t m = 0;
        for (unsigned poll = 0; poll < options_.ready_polls; ++poll) {
            m = msr();
            if ((m & (kRqm | kDio)) == kRqm) {
                bus_.write(port(kFifoOffset), byte);
                return true;
            }
        }
        report("MSR " + hex(m) + " not ready for command byte " + hex(byte));
        return false;
    }
    // Stops at the first byte not sent.
    bool send(std::initializer_list<uint8_t> bytes) {
        for (uint8_t b : bytes)
            if (!send(b)) return false;
        return true;
    }

    // `n` result bytes, each after the MSR shows RQM and DIO. One read without them is reported
    // and read all the same, so that there are always `n`.
    std::vector<uint8_t> take(unsigned n) {
        std::vector<uint8_t> out;
        while (out.size() < n) {
            const uint8_t m = msr();
            if ((m & (kRqm | kDio)) != (kRqm | kDio))
                report("MSR " + hex(m) + " before result byte " + std::to_string(out.size() + 1) +
                       " of " + std::to_string(n));
            out.push_back(bus_.read(port(kFifoOffset)));
        }
        return out;
    }
    // Every byte the result phase offers, until the MSR says command phase: RQM, DIO and CB
    // without NDM (with NDM they would be PIO data); at most 16.
    std::vector<uint8_t> result() {
        std::vector<uint8_t> out;
        while ((msr() & (kRqm | kDio | kNonDma | kCb)) == (kRqm | kDio | kCb) && out.size() < 16)
            out.push_back(bus_.read(port(kFifoOffset)));
        return out;
    }

    // SENSE INTERRUPT STATUS: {ST0, PCN}, or {0x80} when nothing is pending.
    std::vector<uint8_t> sense_interrupt() {
        send(0x08);
        return result();
    }
    void specify(uint8_t srt_hut, uint8_t hlt_nd) { send({0x03, srt_hut, hlt_nd}); }
    // SEEK of the drive and head `hds_unit` (HDS << 2 | unit) to `cylinder`.
    void seek(uint8_t hds_unit, uint8_t cylinder) { send({0x0F, hds_unit, cylinder}); }
    void recalibrate(uint8_t unit) { send({0x07, unit}); }
    // The nine bytes of a data command (READ 0x46, WRITE 0x45, with 0x80 for multi-track …) on
    // sectors r..eot of C/H of a 1.44 MB track: N = 2 (512 bytes), GPL 0x1B, DTL 0xFF.
    void data_command(uint8_t op, unsigned unit, uint8_t c, uint8_t h, uint8_t r, uint8_t eot) {
        send({op, uint8_t(h << 2 | unit), c, h, r, 2, eot, 0x1B, 0xFF});
    }

  private:
    uint16_t port(uint16_t offset) const { return uint16_t(options_.base + offset); }
    void report(const std::string &what) {
        if (report_) report_(what);
    }

    Bus &bus_;
    Options options_;
    Report report_;
};

// Channel 2 of the 8237 as a BIOS programs it for the floppy: mask, clear the flip-flop, mode
// (single, increment, write to memory for a read or read from it for a write), address, page,
// count − 1, unmask. `masked` leaves it masked, so that the controller waits for it.
template <PortBus Bus>
void program_dma_channel2(Bus &bus, bool to_memory, uint32_t addr, uint16_t len,
                          bool masked = false) {
    bus.write(0x0A, 0x06);
    bus.write(0x0C, 0x00);
    bus.write(0x0B, to_memory ? 0x46 : 0x4A);
    bus.write(0x04, uint8_t(addr));
    bus.write(0x04, uint8_t(addr >> 8));
    bus.write(0x81, uint8_t(addr >> 16));
    bus.write(0x05, uint8_t(len - 1));
    bus.write(0x05, uint8_t((len - 1) >> 8));
    if (!masked) bus.write(0x0A, 0x02);
}

// Channel 2's current count: bytes left − 1, 0xFFFF once all moved (TC). Clears the flip-flop
// first, then reads the low byte and the high byte, in that order.
template <PortBus Bus>
uint16_t dma_channel2_count(Bus &bus) {
    bus.write(0x0C, 0x00);
    const uint8_t lo = bus.read(0x05);
    const uint8_t hi = bus.read(0x05);
    return uint16_t(lo | hi << 8);
}

}  // namespace fdplug::test
