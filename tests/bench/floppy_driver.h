// A minimal floppy driver, the way a BIOS or an OS talks to an 82077AA on a PC: MSR handshake
// before every command and result byte, the 8237's channel 2 for DMA, IRQ 6 for the ends (the
// guest helper of tests/support/fdc_guest.h, plus waiting for IRQ 6 and whole-disk reads).
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
#include "tests/support/fdc_guest.h"

namespace fdplug::bench {

namespace msr = floppy::msr;
namespace st0 = floppy::st0;

struct FloppyPorts {
    static constexpr uint16_t kBase = test::kFdcBase;
    static constexpr uint16_t kDor = kBase + test::kDorOffset, kMsr = kBase + test::kMsrOffset,
                              kDsr = kBase + test::kDsrOffset, kFifo = kBase + test::kFifoOffset,
                              kDir = kBase + test::kDirOffset, kCcr = kBase + test::kCcrOffset;
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
    uint64_t accesses() const { return bus_.accesses; }

    uint8_t in(uint16_t port) { return bus_.read(port); }
    void out(uint16_t port, uint8_t v) { bus_.write(port, v); }

    // Motor A on, DMA and INT enabled, out of reset; 500 kbit/s; SPECIFY.
    void start(uint8_t srt_hut = 0xDF, uint8_t hlt_nd = 0x02) {
        out(P::kDor, 0x1C);
        out(P::kCcr, 0x00);
        specify(srt_hut, hlt_nd);
    }
    void specify(uint8_t srt_hut, uint8_t hlt_nd) { guest_.specify(srt_hut, hlt_nd); }

    // Command bytes after the MSR handshake (RQM set, DIO clear).
    void send(uint8_t byte) { guest_.send(byte); }
    void send(std::initializer_list<uint8_t> bytes) { guest_.send(bytes); }
    // `expected` result bytes, each after RQM and DIO.
    std::vector<uint8_t> results(unsigned expected) { return guest_.take(expected); }
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
        return {r[0], r[1]};
    }
    // Issues SEEK (or RECALIBRATE when cyl < 0) and returns after its interrupt is acknowledged.
    void seek(int cyl) {
        if (cyl < 0)
            guest_.recalibrate(0);
        else
            guest_.seek(0, uint8_t(cyl));
        if (!wait_irq()) return;
        const auto st = sense_interrupt();
        if ((st[0] & ~(st0::kHead | st0::kUnit)) != st0::kSe || (cyl >= 0 && st[1] != cyl))
            fail("seek to " + std::to_string(cyl) + ": ST0 " + hex(st[0]) + " PCN " + hex(st[1]));
    }
    // Channel 2 of the 8237 as a BIOS programs it for a read.
    void dma_to_memory(uint32_t addr, uint16_t len) {
        test::program_dma_channel2(bus_, true, addr, len);
    }
    // READ DATA (MFM, MT optional) of sectors r..eot; returns the 7 result bytes after IRQ.
    std::vector<uint8_t> read_data(unsigned c, unsigned h, unsigned r, unsigned eot, bool mt) {
        guest_.data_command(uint8_t(mt ? 0xC6 : 0x46), 0, uint8_t(c), uint8_t(h), uint8_t(r),
                            uint8_t(eot));
        if (!wait_irq()) return {};
        auto res = results(7);
        if ((res[0] & 0xC0) != 0)
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
    static std::string hex(unsigned v) { return test::hex(v); }

  private:
    // The backend's ports, counted.
    struct CountingBus {
        Io &io;
        uint64_t accesses = 0;
        uint8_t read(uint16_t port) {
            ++accesses;
            return io.inb(port);
        }
        void write(uint16_t port, uint8_t v) {
            ++accesses;
            io.outb(port, v);
        }
    };

    Io &io_;
    std::string error_;
    CountingBus bus_{io_};
    // A backend's controller may take real time to raise RQM (QEMU under TCG): up to 1000 MSR
    // reads before a command byte.
    test::FdcGuest<CountingBus> guest_{
        bus_, {.ready_polls = 1000}, [this](const std::string &what) { fail(what); }};
};

}  // namespace fdplug::bench
