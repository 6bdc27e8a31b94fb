// A minimal floppy driver, the way a BIOS or an OS talks to an 82077AA on a PC: MSR handshake
// before every command and result byte, the 8237's channel 2 for DMA, IRQ 6 for the ends.
// It is written once against an I/O backend so that the in-process benchmarks, fdplug-host
// over qtest and QEMU over qtest all run exactly the same client code.
//
// A backend provides:
//   uint8_t inb(uint16_t port);  void outb(uint16_t port, uint8_t v);
//   bool irq(unsigned line);                       // ISA IRQ level (qtest: intercepted ioapic)
//   bool step_next();                              // advance virtual time to the next deadline;
//                                                  // false when the backend cannot (QEMU, tcg)
//   void memread(uint64_t addr, std::span<uint8_t> out);
#pragma once

#include <array>
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <vector>

#include "hw/block/fdc/fdc_regs.h"

namespace fdplug::bench {

namespace msr = floppy::msr;
namespace st0 = floppy::st0;

struct FloppyPorts {
    static constexpr uint16_t kBase = 0x3F0;
    static constexpr uint16_t kDor = kBase + floppy::kDor, kMsr = kBase + floppy::kMsr,
                              kDsr = kBase + floppy::kDsr, kFifo = kBase + floppy::kFifo,
                              kDir = kBase + floppy::kDir, kCcr = kBase + floppy::kCcr;
    static constexpr unsigned kIrq = 6;
};

// 1.44 MB: 80 cylinders, 2 heads, 18 sectors of 512 bytes.
struct Geometry144 {
    static constexpr unsigned kCylinders = 80, kHeads = 2, kSectors = 18, kSectorBytes = 512;
    static constexpr unsigned kCylinderBytes = kHeads * kSectors * kSectorBytes;  // 18 432
    static constexpr unsigned kDiskBytes = kCylinders * kCylinderBytes;           // 1 474 560
};

template <class Io>
class FloppyDriver {
  public:
    using P = FloppyPorts;
    explicit FloppyDriver(Io &io) : io_(io) {}

    // The first problem met ("" when none): a handshake that failed, a bad status byte.
    const std::string &error() const { return error_; }
    bool ok() const { return error_.empty(); }
    // Port accesses issued so far (each is one qtest round trip over a socket).
    uint64_t accesses() const { return accesses_; }

    uint8_t in(uint16_t port) {
        ++accesses_;
        return io_.inb(port);
    }
    void out(uint16_t port, uint8_t v) {
        ++accesses_;
        io_.outb(port, v);
    }

    // Motor A on, DMA and INT enabled, out of reset; 500 kbit/s; SPECIFY.
    void start(uint8_t srt_hut = 0xDF, uint8_t hlt_nd = 0x02) {
        out(P::kDor, 0x1C);
        out(P::kCcr, 0x00);
        specify(srt_hut, hlt_nd);
    }
    void specify(uint8_t srt_hut, uint8_t hlt_nd) { send({0x03, srt_hut, hlt_nd}); }

    // One command byte after the MSR handshake (RQM set, DIO clear).
    void send(uint8_t byte) {
        for (int spin = 0;; ++spin) {
            const uint8_t status = in(P::kMsr);
            if ((status & (msr::kRqm | msr::kDio)) == msr::kRqm) break;
            if (spin == 1000)
                return fail("MSR " + hex(status) + " never ready for command byte " + hex(byte));
        }
        out(P::kFifo, byte);
    }
    void send(std::initializer_list<uint8_t> bytes) {
        for (uint8_t b : bytes) send(b);
    }
    // Result bytes while the controller offers them (RQM and DIO set).
    std::vector<uint8_t> results(unsigned expected) {
        std::vector<uint8_t> r;
        while (r.size() < expected) {
            const uint8_t status = in(P::kMsr);
            if ((status & (msr::kRqm | msr::kDio)) != (msr::kRqm | msr::kDio)) {
                fail("MSR " + hex(status) + " after " + std::to_string(r.size()) + " of " +
                     std::to_string(expected) + " result bytes");
                break;
            }
            r.push_back(in(P::kFifo));
        }
        return r;
    }
    // Until IRQ 6 rises, stepping virtual time deadline by deadline when the backend can.
    bool wait_irq() {
        for (int i = 0; i < 100000; ++i) {
            if (io_.irq(P::kIrq)) return true;
            if (!io_.step_next()) break;
        }
        fail("no IRQ 6");
        return false;
    }
    // SENSE INTERRUPT STATUS: {ST0, PCN}.
    std::array<uint8_t, 2> sense_interrupt() {
        send(0x08);
        const auto r = results(2);
        return r.size() == 2 ? std::array<uint8_t, 2>{r[0], r[1]} : std::array<uint8_t, 2>{0x80, 0};
    }
    // Issues SEEK (or RECALIBRATE when cyl < 0) and returns after its interrupt is acknowledged.
    void seek(int cyl) {
        if (cyl < 0)
            send({0x07, 0x00});
        else
            send({0x0F, 0x00, uint8_t(cyl)});
        if (!wait_irq()) return;
        const auto st = sense_interrupt();
        if ((st[0] & ~(st0::kHead | st0::kUnit)) != st0::kSe || (cyl >= 0 && st[1] != cyl))
            fail("seek to " + std::to_string(cyl) + ": ST0 " + hex(st[0]) + " PCN " + hex(st[1]));
    }
    // Channel 2 of the 8237 as a BIOS programs it: mask, clear the flip-flop, mode (single,
    // increment, write to memory), address, page, count − 1, unmask.
    void dma_to_memory(uint32_t addr, uint16_t len) {
        out(0x0A, 0x06);
        out(0x0C, 0x00);
        out(0x0B, 0x46);
        out(0x04, uint8_t(addr));
        out(0x04, uint8_t(addr >> 8));
        out(0x81, uint8_t(addr >> 16));
        out(0x05, uint8_t(len - 1));
        out(0x05, uint8_t((len - 1) >> 8));
        out(0x0A, 0x02);
    }
    // READ DATA (MFM, MT optional) of sectors r..eot; returns the 7 result bytes after IRQ.
    std::vector<uint8_t> read_data(unsigned c, unsigned h, unsigned r, unsigned eot, bool mt) {
        send({uint8_t(mt ? 0xC6 : 0x46), uint8_t(h << 2), uint8_t(c), uint8_t(h), uint8_t(r), 2,
              uint8_t(eot), 0x1B, 0xFF});
        if (!wait_irq()) return {};
        auto res = results(7);
        if (res.size() == 7 && (res[0] & st0::kIc) != st0::kIcNormal)
            fail("READ C=" + std::to_string(c) + " H=" + std::to_string(h) +
                 " R=" + std::to_string(r) + ": ST0 " + hex(res[0]) + " ST1 " + hex(res[1]) +
                 " ST2 " + hex(res[2]));
        return res;
    }
    // READ ID on head h: {the 7 result bytes}.
    std::vector<uint8_t> read_id(unsigned h) {
        send({0x4A, uint8_t(h << 2)});
        if (!wait_irq()) return {};
        return results(7);
    }

    // One whole cylinder (both heads, 36 sectors) with one MT command through DMA into guest
    // memory at `addr`, then copied out to `out` (kCylinderBytes).
    void read_cylinder(unsigned c, uint32_t addr, std::span<uint8_t> out_bytes) {
        dma_to_memory(addr, Geometry144::kCylinderBytes);
        read_data(c, 0, 1, Geometry144::kSectors, true);
        io_.memread(addr, out_bytes.first(Geometry144::kCylinderBytes));
    }
    // The whole 1.44 MB disk, one cylinder per command with a SEEK before each.
    void read_disk(uint32_t addr, std::span<uint8_t> disk) {
        for (unsigned c = 0; c < Geometry144::kCylinders && ok(); ++c) {
            seek(int(c));
            read_cylinder(
                c, addr,
                disk.subspan(c * Geometry144::kCylinderBytes, Geometry144::kCylinderBytes));
        }
    }

    void fail(const std::string &what) {
        if (error_.empty()) error_ = what;
    }
    static std::string hex(unsigned v) {
        char b[8];
        std::snprintf(b, sizeof b, "0x%02x", v);
        return b;
    }

  private:
    Io &io_;
    std::string error_;
    uint64_t accesses_ = 0;
};

}  // namespace fdplug::bench
