// libFuzzer target: the guest side of the floppy controller core. The input decodes into a
// sequence of operations a hostile guest (and the machine around it) can cause — port reads and
// writes, 8237 programming and DMA service in either direction, time passing, media inserted,
// ejected, write-protected or failing — run against Fdc82077 with an in-process host. After
// every operation the harness checks what must hold through the public API; at the end a reset
// must leave a working controller (VERSION 0x90, MSR 0x80).
//
// Input format (tests/fuzz/README.md has the same table):
//   byte 0  configuration: bit 0 timing policy (1 fast, 0 accurate); bits 1–2 register mode
//           (0 AT, 1 PS/2, 2 Model 30, 3 AT)
//   byte 1  drive types, 2 bits per unit from bit 0: 0 = 1.44M, 1 = 2.88M, 2 = 720K, 3 = absent
//   byte 2  initial media: bits 0–2 unit 0, bits 3–5 unit 1 (kinds below)
//   then operations, one opcode byte each (value % kOpCount) and its operands.
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <span>
#include <vector>

#include "hw/block/fdc/fdc82077.h"
#include "hw/block/media/floppy_formats.h"
#include "hw/block/media/memory_image.h"

namespace fdplug::floppy::fuzz {
namespace {

// MSR patterns the harness waits for (hw/block/fdc/fdc_regs.h).
constexpr uint8_t kResultByte = msr::kRqm | msr::kDio | msr::kCb;  // a result byte to read
constexpr uint8_t kPioRequest = msr::kRqm | msr::kNonDma;          // a PIO data byte is wanted

[[noreturn]] void fail(const char *what, long a = 0, long b = 0) {
    std::fprintf(stderr, "fdc_guest_fuzz: invariant broken: %s (%ld, %ld)\n", what, a, b);
    std::abort();
}
#define CHECK(cond, ...)                         \
    do {                                         \
        if (!(cond)) fail(#cond, ##__VA_ARGS__); \
    } while (0)

// A medium whose sectors live in a map: reads of a never-written sector give a pattern derived
// from its position (cheap to make per input, unlike a zeroed 2.88 MB buffer).
class SparseImage final : public DiskImage {
  public:
    explicit SparseImage(const Geometry &g) : geometry_(g) {}
    const Geometry &geometry() const override { return geometry_; }
    bool read_only() const override { return false; }
    MediaStatus read_sector(unsigned c, unsigned h, unsigned r,
                            std::span<uint8_t, kSectorSize> out) override {
        auto lba = geometry_.lba(c, h, r);
        if (!lba) return MediaStatus::OutOfRange;
        auto it = sectors_.find(*lba);
        for (size_t i = 0; i < kSectorSize; ++i)
            out[i] = it != sectors_.end() ? it->second[i] : uint8_t(*lba * 7 + i);
        return MediaStatus::Ok;
    }
    MediaStatus write_sector(unsigned c, unsigned h, unsigned r,
                             std::span<const uint8_t, kSectorSize> in) override {
        auto lba = geometry_.lba(c, h, r);
        if (!lba) return MediaStatus::OutOfRange;
        std::copy(in.begin(), in.end(), sectors_[*lba].begin());
        return MediaStatus::Ok;
    }
    Status flush() override { return {}; }
    const std::string &source() const override { return source_; }

  private:
    Geometry geometry_;
    std::map<uint32_t, std::array<uint8_t, kSectorSize>> sectors_;
    std::string source_;
};

// Wraps a medium so that the harness can write-protect it or make its backing store fail at any
// moment, as a host-side change (QMP, a vanished file) would. A protected medium must never be
// changed: the wrapper refuses the write itself and counts attempts that reached it.
class ToggleImage final : public DiskImage {
  public:
    ToggleImage(std::unique_ptr<DiskImage> inner, bool read_only)
        : inner_(std::move(inner)), read_only_(read_only) {}
    const Geometry &geometry() const override { return inner_->geometry(); }
    bool read_only() const override { return read_only_ || inner_->read_only(); }
    MediaStatus read_sector(unsigned c, unsigned h, unsigned r,
                            std::span<uint8_t, kSectorSize> out) override {
        if (failing_) return MediaStatus::IoError;
        return inner_->read_sector(c, h, r, out);
    }
    MediaStatus write_sector(unsigned c, unsigned h, unsigned r,
                             std::span<const uint8_t, kSectorSize> in) override {
        if (read_only()) return MediaStatus::ReadOnly;
        if (failing_) return MediaStatus::IoError;
        return inner_->write_sector(c, h, r, in);
    }
    Status flush() override { return inner_->flush(); }
    const std::string &source() const override { return inner_->source(); }

  private:
    std::unique_ptr<DiskImage> inner_;

  public:
    bool read_only_;
    bool failing_ = false;
};

// 0 none, 1 1.44M, 2 1.44M read-only, 3 2.88M, 4 720K, 5 odd-size store (1.44M geometry, a
// short store of 9.2 sectors: the tail reads as zeros, writes there fail), 6 1.44M whose store
// fails, 7 160K (40 tracks: double stepping in an 80-track drive).
std::unique_ptr<ToggleImage> make_media(unsigned kind) {
    auto geometry = [](const char *name) { return format_by_name(name)->geometry; };
    switch (kind & 7) {
        case 1:
            return std::make_unique<ToggleImage>(std::make_unique<SparseImage>(geometry("1.44M")),
                                                 false);
        case 2:
            return std::make_unique<ToggleImage>(std::make_unique<SparseImage>(geometry("1.44M")),
                                                 true);
        case 3:
            return std::make_unique<ToggleImage>(std::make_unique<SparseImage>(geometry("2.88M")),
                                                 false);
        case 4:
            return std::make_unique<ToggleImage>(std::make_unique<SparseImage>(geometry("720K")),
                                                 false);
        case 5: {
            std::vector<uint8_t> bytes(9 * 512 + 100);
            for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = uint8_t(i * 13);
            return std::make_unique<ToggleImage>(
                std::make_unique<MemoryImage>(geometry("1.44M"), std::move(bytes)), false);
        }
        case 6: {
            auto m = std::make_unique<ToggleImage>(std::make_unique<SparseImage>(geometry("1.44M")),
                                                   false);
            m->failing_ = true;
            return m;
        }
        case 7:
            return std::make_unique<ToggleImage>(std::make_unique<SparseImage>(geometry("160K")),
                                                 false);
        default:
            return nullptr;
    }
}

class Input {
  public:
    explicit Input(std::span<const uint8_t> data) : data_(data) {}
    bool empty() const { return pos_ >= data_.size(); }
    uint8_t byte() { return pos_ < data_.size() ? data_[pos_++] : 0; }

  private:
    std::span<const uint8_t> data_;
    size_t pos_ = 0;
};

// The machine around the controller: clock, one timer, INT/DRQ pins, and an 8237 channel in
// single mode serving DRQ from a buffer the guest "programmed".
class Host final : public FdcHost, public FdcObserver {
  public:
    int64_t now = 0;
    int64_t deadline = kNever;
    bool irq = false, drq = false;
    Fdc82077 *fdc = nullptr;

    std::vector<uint8_t> memory;
    size_t dma_pos = 0, dma_count = 0;
    bool dma_masked = true;
    DmaCycle dma_cycle = DmaCycle::ToMemory;

    // What the observer saw, for the invariants.
    int last_opcode = -1;
    size_t result_len = 0, result_reads = 0;

    int64_t now_ns() const override { return now; }
    void set_irq(bool level) override { irq = level; }
    void set_drq(bool level) override { drq = level; }
    void arm_timer(int64_t t) override { deadline = t; }
    void cancel_timer() override { deadline = kNever; }

    void command_started(uint8_t opcode, const char *) override { last_opcode = opcode; }
    void result_phase(std::span<const uint8_t> bytes) override {
        CHECK(bytes.size() <= kMaxResultBytes, long(bytes.size()));
        if (last_opcode >= 0) {
            const CommandInfo &info = decode_command(uint8_t(last_opcode));
            CHECK(bytes.size() <= std::max<size_t>(info.out_bytes, 1), long(bytes.size()),
                  last_opcode);
        }
        result_len = bytes.size();
        result_reads = 0;
    }

    // Fire the timer once if it is due by `limit`; false when nothing is armed before it.
    bool fire_next(int64_t limit) {
        if (deadline > limit) return false;
        const int64_t t = deadline;
        now = std::max(now, t);
        deadline = kNever;
        fdc->on_timer();
        // A timer re-armed at the same instant over and over is a livelock.
        if (deadline <= now && t == now) {
            if (++same_instant_ > 100000)
                fail("timer re-armed at the same instant 100000 times", long(now));
        } else {
            same_instant_ = 0;
        }
        return true;
    }
    // Let `ns` of virtual time pass, firing timers on the way (at most `max_fires`).
    void advance(int64_t ns, unsigned max_fires = 20000) {
        const int64_t end = now > kNever - ns ? kNever - 1 : now + ns;
        for (unsigned i = 0; i < max_fires; ++i) {
            if (!fire_next(end)) {
                now = std::max(now, end);
                return;
            }
        }
        // Too much happened: stop at the last deadline fired, the clock never skips a timer.
    }

    void program_dma(DmaCycle cycle, size_t count, uint8_t fill) {
        dma_cycle = cycle;
        memory.assign(count, fill);  // no per-byte loop: it cost a fifth of the executions
        dma_pos = 0;
        dma_count = count;
        dma_masked = false;
    }
    // Serve DRQ in chunks of `chunk` bytes (0: everything left) until it drops, like the 8237.
    void service_dma(size_t chunk) {
        for (int guard = 0; guard < 70000 && drq && !dma_masked && dma_pos < dma_count; ++guard) {
            size_t len = dma_count - dma_pos;
            if (chunk && chunk < len) len = chunk;
            const bool tc = dma_pos + len == dma_count;
            const size_t n =
                fdc->dma_transfer(dma_cycle, std::span<uint8_t>(memory.data() + dma_pos, len), tc);
            CHECK(n <= len, long(n), long(len));
            if (n == 0) break;
            dma_pos += n;
        }
    }

  private:
    unsigned same_instant_ = 0;
};

// The longest a command can legitimately take once the guest serves it (check_liveness), from
// hw/block/fdc/fdc_timing.*: a background SEEK/RELATIVE SEEK of 255 pulses (cylinder numbers are 8
// bits) that the command waits for, then an implied seek of 255 more, both at SRT 0 at the
// slowest data rate (16 ms × 500/250 = 32 ms a pulse: 2 × 8.16 s); the slowest spindle's spin-up
// (5.25": 500 ms) and the head settle (15 ms); HLT 0 at 250 kbit/s (128 × 2 ms × 2 = 512 ms);
// then every sector of a multi-track command — 2 heads × 36 sectors (2.88M, the most any
// medium here has) — each found within the search's two revolutions at 300 rpm (400 ms), which
// also covers the data field and FORMAT / READ TRACK's end at the second index: 72 × 400 ms.
// In all 46.147 s. A command that never ends stays in its execution phase forever, so the check
// needs no tighter bound.
//
// Within the bound the guest serves the first kLivenessServes DMA requests or PIO bytes (the
// first kLivenessServesAccurate under accurate timing): under fast timing one DMA request moves
// a whole sector, so a DMA command runs to its end (72 sectors at most) and a PIO one for two
// sectors; under accurate timing a request is a byte or a FIFO's worth, each with a timer
// event, so the guest serves the sector in progress, its end and the search for the next, then
// stops and the command ends by overrun. A whole multi-track command byte by byte would cost
// some 20 ms per input (2.5 µs per byte and timer event with the fuzzer's comparison hooks).
// Longer commands are driven by the input's own operations (kRunUntilIrq, kPioData).
constexpr unsigned kLivenessServes = 1100, kLivenessServesAccurate = 600;

int64_t liveness_bound_ns() {
    static const int64_t bound = [] {
        const int64_t seek = 255 * step_ns(0, DataRate::k250);
        const int64_t spin_up = 500 * kNsPerMs, settle = DriveProfile{}.settle_ns;
        const int64_t sectors = 2 * 36 * 2 * revolution_ns(300);
        return 2 * seek + spin_up + settle + head_load_ns(0, DataRate::k250) + sectors;
    }();
    return bound;
}

enum Op : uint8_t {
    kOut,
    kIn,
    kFifoWrite,
    kFifoRead,
    kCommand,
    kDrainResult,
    kDmaProgram,
    kDmaMask,
    kDmaService,
    kAdvance,
    kFireTimer,
    kRunUntilIrq,
    kInsert,
    kEject,
    kToggleReadOnly,
    kToggleFailing,
    kHardwareReset,
    kDsrThenFifo,
    kPioData,
    kOpCount
};

class Harness {
  public:
    explicit Harness(std::span<const uint8_t> data) : in_(data) {
        const uint8_t cfg = in_.byte();
        const FdcMode modes[] = {FdcMode::At, FdcMode::Ps2, FdcMode::Model30, FdcMode::At};
        fdc_ = std::make_unique<Fdc82077>(
            host_, FdcConfig{modes[(cfg >> 1) & 3],
                             (cfg & 1) ? TimingPolicy::Fast : TimingPolicy::Accurate});
        host_.fdc = fdc_.get();
        fdc_->set_observer(&host_);
        const uint8_t types = in_.byte();
        const DriveType kinds[] = {DriveType::k144, DriveType::k288, DriveType::k720,
                                   DriveType::None};
        for (unsigned u = 0; u < Fdc82077::kUnits; ++u)
            fdc_->drive(u).connect(kinds[(types >> (2 * u)) & 3]);
        const uint8_t media = in_.byte();
        insert(0, media & 7);
        insert(1, (media >> 3) & 7);
    }

    void run() {
        for (unsigned ops = 0; !in_.empty() && ops < 5000; ++ops) {
            step(in_.byte() % kOpCount);
            check();
        }
        check_liveness();
        check_reset_gives_working_controller();
    }

  private:
    void insert(unsigned unit, unsigned kind) {
        auto m = make_media(kind);
        if (!m) return;
        images_[unit & 3] = m.get();
        fdc_->insert_media(unit & 3, std::move(m));
    }
    void eject(unsigned unit) {
        images_[unit & 3] = nullptr;
        fdc_->eject_media(unit & 3);
    }

    uint8_t fifo_read() {
        const bool in_result = (fdc_->msr() & ~msr::kDriveBusy) == kResultByte;  // not NDM
        const uint8_t v = fdc_->read(kFifo);
        if (in_result) {
            ++host_.result_reads;
            CHECK(host_.result_reads <= host_.result_len, long(host_.result_reads),
                  long(host_.result_len));
        }
        return v;
    }

    void step(unsigned op) {
        switch (op) {
            case kOut: {
                const uint8_t off = in_.byte();
                fdc_->write(off & 7, in_.byte());
                break;
            }
            case kIn: {
                const unsigned off = in_.byte() & 7;
                if (off == kFifo)
                    fifo_read();
                else {
                    const uint8_t v = fdc_->read(off);
                    if (off == 6) CHECK(v == 0xFF, long(v));
                    if (off == kMsr) CHECK(v == fdc_->msr(), long(v), long(fdc_->msr()));
                }
                break;
            }
            case kFifoWrite:
                fdc_->write(kFifo, in_.byte());
                break;
            case kFifoRead:
                fifo_read();
                break;
            case kCommand: {
                const unsigned n = 1 + in_.byte() % kMaxCommandBytes;
                for (unsigned i = 0; i < n; ++i) fdc_->write(kFifo, in_.byte());
                break;
            }
            case kDrainResult:
                for (int i = 0; i < 16 && (fdc_->msr() & kResultByte) == kResultByte; ++i)
                    fifo_read();
                break;
            case kDmaProgram: {
                const DmaCycle cycles[] = {DmaCycle::ToMemory, DmaCycle::FromMemory,
                                           DmaCycle::Verify};
                const DmaCycle cycle = cycles[in_.byte() % 3];
                const size_t count =
                    (size_t(in_.byte()) | size_t(in_.byte()) << 8) + 1;  // 1..65536
                host_.program_dma(cycle, count, in_.byte());
                break;
            }
            case kDmaMask:
                host_.dma_masked = !host_.dma_masked;
                break;
            case kDmaService:
                host_.service_dma(in_.byte());
                break;
            case kAdvance: {
                const uint8_t e = in_.byte();
                host_.advance(int64_t((e & 7) + 1) << (e >> 3));
                break;
            }
            case kFireTimer:
                host_.fire_next(kNever - 1);
                break;
            case kRunUntilIrq: {
                const int64_t end = host_.now + 2'000 * kNsPerMs;
                for (int i = 0; i < 20000 && !host_.irq; ++i) {
                    host_.service_dma(0);
                    if (!host_.fire_next(end)) break;
                }
                break;
            }
            case kInsert: {
                const uint8_t b = in_.byte();
                insert(b & 3, b >> 2);
                break;
            }
            case kEject:
                eject(in_.byte() & 3);
                break;
            case kToggleReadOnly:
                if (ToggleImage *m = images_[in_.byte() & 3]) m->read_only_ = !m->read_only_;
                break;
            case kToggleFailing:
                if (ToggleImage *m = images_[in_.byte() & 3]) m->failing_ = !m->failing_;
                break;
            case kHardwareReset:
                fdc_->hardware_reset();
                break;
            case kDsrThenFifo: {  // the fuzzers' word-write pattern on 0x3F4/0x3F5
                const uint8_t dsr = in_.byte();
                fdc_->write(kDsr, dsr);
                fdc_->write(kFifo, in_.byte());
                break;
            }
            case kPioData: {  // move data bytes by PIO while the controller asks for them
                const unsigned n = 1 + unsigned(in_.byte()) * 4;
                const uint8_t fill = in_.byte();
                for (unsigned i = 0, idle = 0; i < n && idle < 64;) {
                    const uint8_t status = fdc_->msr();
                    if ((status & kPioRequest) != kPioRequest) {
                        if (!(status & msr::kNonDma) || !host_.fire_next(kNever - 1)) break;
                        ++idle;
                        continue;
                    }
                    if (status & msr::kDio)
                        fifo_read();
                    else
                        fdc_->write(kFifo, uint8_t(fill + i));
                    ++i;
                    idle = 0;
                }
                break;
            }
            default:
                break;
        }
    }

    // What must hold after any operation.
    void check() {
        const uint8_t status = fdc_->msr();
        // DIO (to host) and NDM (PIO execution) only happen inside a command (CB).
        if (status & msr::kDio) CHECK(status & msr::kCb, long(status));
        if (status & msr::kNonDma) CHECK(status & msr::kCb, long(status));
        if (status & msr::kCb) CHECK(fdc_->busy(), long(status));
        // The pins the host saw are the pins the controller reports.
        CHECK(host_.irq == fdc_->irq_level(), long(host_.irq));
        CHECK(host_.drq == fdc_->drq_level(), long(host_.drq));
        // The clock only moves forwards; a timer in the past fires at the next chance.
        CHECK(host_.now >= 0, long(host_.now));
        for (unsigned u = 0; u < Fdc82077::kUnits; ++u) {
            const FloppyDrive &d = fdc_->drive(u);
            if (d.present())
                CHECK(d.cylinder() <= max_cylinder(d.type()), long(u), long(d.cylinder()));
            CHECK(d.has_media() == (images_[u] != nullptr), long(u));
        }
    }

    // Whatever the input left running ends within a bounded virtual time once the guest
    // cooperates: a data command in its execution phase on a present drive reaches its result
    // phase (or the command phase), and every background seek ends. The guest turns on the
    // drive's motor and the DMA gate (a spindle that never turns gives no index pulse, a gated
    // DRQ is never served: real hardware waits forever too), serves each DRQ at once (Verify
    // cycles, no TC) and each PIO data request (RQM with NDM), up to kLivenessServes requests
    // (kLivenessServesAccurate), and lets time pass, firing every timer, for liveness_bound_ns().
    // After the bound the command must be over — or, if the guest stopped serving, be waiting for
    // it: DRQ up, or RQM for PIO data (under accurate timing a host that stops mostly ends the
    // command by overrun; under fast timing the controller waits for the host forever). A
    // command on an absent drive is left out: no index pulse ever comes from an empty bay, so
    // under accurate timing it waits for the guest's reset.
    void check_liveness() {
        const uint8_t status = fdc_->msr();
        const bool maybe_exec =
            (status & msr::kCb) && (!(status & msr::kRqm) || (status & msr::kNonDma));
        if (!maybe_exec && !(status & msr::kDriveBusy)) return;  // no execution phase, no seek
        FdcState s = fdc_->state();
        const unsigned unit = s.ctrl.exec.unit & 3;
        const bool exec = s.ctrl.phase == FdcPhase::Execution && s.ctrl.exec_active &&
                          fdc_->drive(unit).present();
        bool seeking = false;
        for (const SeekState &k : s.ctrl.seeks) seeking = seeking || k.active;
        if (!exec && !seeking) return;
        if (exec) fdc_->write(kDor, uint8_t(s.ctrl.dor | dor::kDmaGate | dor::motor(unit)));
        const int64_t start = host_.now, end = host_.now + liveness_bound_ns();
        std::array<uint8_t, 512> scratch{};
        unsigned serves = 0;
        const unsigned max_serves =
            fdc_->config().timing == TimingPolicy::Fast ? kLivenessServes : kLivenessServesAccurate;
        for (unsigned events = 0;; ++events) {
            if (events > 1'000'000)
                fail("liveness: over 1 000 000 DMA, PIO and timer events in the bound",
                     long(host_.now - start));
            if (serves < max_serves) {
                if (host_.drq && fdc_->dma_transfer(DmaCycle::Verify, scratch, false) > 0) {
                    ++serves;
                    continue;
                }
                const uint8_t m = fdc_->msr();
                if ((m & kPioRequest) == kPioRequest) {
                    if (m & msr::kDio)
                        (void)fdc_->read(kFifo);
                    else
                        fdc_->write(kFifo, uint8_t(events));
                    ++serves;
                    continue;
                }
            }
            if (!host_.fire_next(end)) break;
        }
        host_.now = std::max(host_.now, end);
        s = fdc_->state();
        const bool waits_for_guest =
            serves >= max_serves &&
            (fdc_->drq_level() || (fdc_->msr() & kPioRequest) == kPioRequest);
        if (exec && s.ctrl.phase == FdcPhase::Execution && !waits_for_guest)
            fail(
                "liveness: a command is still in its execution phase after the bound (command, "
                "step)",
                long(s.ctrl.exec.cmd), long(s.ctrl.exec.step));
        for (unsigned u = 0; u < Fdc82077::kUnits; ++u)
            if (s.ctrl.seeks[u].active)
                fail("liveness: a seek is still running after the bound (unit, target)", long(u),
                     long(s.ctrl.seeks[u].target));
    }

    // Whatever happened, a machine reset gives a working controller.
    void check_reset_gives_working_controller() {
        fdc_->hardware_reset();
        host_.service_dma(0);
        CHECK(fdc_->msr() == msr::kRqm, long(fdc_->msr()));
        fdc_->write(kFifo, 0x10);  // VERSION
        CHECK((fdc_->msr() & kResultByte) == kResultByte, long(fdc_->msr()));
        const uint8_t v = fdc_->read(kFifo);
        CHECK(v == 0x90, long(v));
        CHECK(fdc_->msr() == msr::kRqm, long(fdc_->msr()));
        // And so does a DOR reset pulse followed by the four polling interrupts.
        fdc_->write(kDor, dor::kDmaGate);
        fdc_->write(kDor, dor::kDmaGate | dor::kNotReset);
        host_.advance(kResetToPollNs + 1);
        for (int i = 0; i < 4 && fdc_->msr() == msr::kRqm; ++i) {
            fdc_->write(kFifo, 0x08);
            for (int j = 0; j < 2 && (fdc_->msr() & kResultByte) == kResultByte; ++j)
                fdc_->read(kFifo);
        }
        CHECK(fdc_->msr() == msr::kRqm, long(fdc_->msr()));
        fdc_->write(kFifo, 0x10);
        CHECK(fdc_->read(kFifo) == 0x90);
        CHECK(fdc_->msr() == msr::kRqm, long(fdc_->msr()));
    }

    Input in_;
    Host host_;
    std::unique_ptr<Fdc82077> fdc_;
    std::array<ToggleImage *, Fdc82077::kUnits> images_{};
};

}  // namespace
}  // namespace fdplug::floppy::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fdplug::floppy::fuzz::Harness(std::span<const uint8_t>(data, size)).run();
    return 0;
}
