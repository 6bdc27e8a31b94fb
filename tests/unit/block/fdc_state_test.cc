// Device state of the controller core: save at any instant, load into a FRESH core on a host
// whose clock reads something else, and the rest of the run is identical to a run that was never
// interrupted — every port read, every INT and DRQ edge, every virtual timestamp, the DMA'd
// memory, the media and the final state. Random guest scenarios in both timing modes, many cut
// points each; then corrupt and mismatched states, which must be refused with the device left
// exactly as it was.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "hw/block/fdc/fdc82077.h"
#include "hw/block/media/floppy_formats.h"
#include "hw/block/media/memory_image.h"
#include "hw/block/state/fdc_state_format.h"
#include "tests/unit/block/fake_fdc_host.h"
#include "tests/unit/block/state_blobs.h"

namespace fdplug::floppy::test {
namespace {

namespace sf = state_format;

constexpr Geometry k144{80, 2, 18, DataRate::k500, 300, DriveType::k144, false};
constexpr Geometry k720{80, 2, 9, DataRate::k250, 300, DriveType::k144, false};
constexpr int64_t kUs = 1000, kMs = kNsPerMs;

std::vector<uint8_t> patterned(const Geometry &g, uint32_t seed) {
    std::vector<uint8_t> v(g.size_bytes());
    for (size_t i = 0; i < v.size(); ++i) v[i] = uint8_t((i / 512) * 7 + (i % 512) + seed * 13);
    return v;
}

// --- what the host saw ---------------------------------------------------------------------

struct Event {
    char kind;      // 'r' port read, 'I' INT edge, 'D' DRQ edge
    int64_t t;      // virtual time (absolute while recording)
    uint32_t a, b;  // port, value / level
    friend bool operator==(const Event &, const Event &) = default;
};

std::string show(const Event &e, int64_t base) {
    char buf[96];
    if (e.kind == 'r')
        std::snprintf(buf, sizeof buf, "t=%lld read +%u = 0x%02x", (long long)(e.t - base), e.a,
                      e.b);
    else
        std::snprintf(buf, sizeof buf, "t=%lld %s %s", (long long)(e.t - base),
                      e.kind == 'I' ? "INT" : "DRQ", e.b ? "high" : "low");
    return buf;
}

class TracingHost : public FakeFdcHost {
  public:
    std::vector<Event> *trace = nullptr;
    void set_irq(bool level) override {
        FakeFdcHost::set_irq(level);
        if (trace) trace->push_back({'I', now, 0, level});
    }
    void set_drq(bool level) override {
        FakeFdcHost::set_drq(level);
        if (trace) trace->push_back({'D', now, 0, level});
    }
};

// --- a guest, as a fixed list of bus operations ----------------------------------------------

struct Op {
    enum Kind : uint8_t { Out, In, Advance, Dma, Mask, DmaTiming, Eject, Insert, Approach } kind;
    uint8_t port = 0, value = 0;
    int64_t ns = 0;
    DmaCycle cycle = DmaCycle::ToMemory;
    size_t count = 0, chunk = 0;
    uint32_t seed = 0;
};

struct Machine {
    explicit Machine(FdcConfig config, int64_t clock) {
        host.now = clock;
        fdc = std::make_unique<Fdc82077>(host, config);
        host.fdc = fdc.get();
        fdc->drive(0).connect(DriveType::k144);
        fdc->drive(1).connect(DriveType::k144);
    }
    TracingHost host;
    std::unique_ptr<Fdc82077> fdc;
    std::vector<Event> trace;

    MemoryImage *image(unsigned unit) const {
        return dynamic_cast<MemoryImage *>(fdc->drive(unit).media());
    }

    void run(const Op &op) {
        switch (op.kind) {
            case Op::Out:
                fdc->write(op.port, op.value);
                host.service_dma();
                break;
            case Op::In:
                trace.push_back({'r', host.now, op.port, fdc->read(op.port)});
                host.service_dma();
                break;
            case Op::Advance:
                host.advance(op.ns);
                break;
            case Op::Approach:  // 100 µs steps until a sector streams (or the command ends), at
                                // most op.ns
                for (int64_t end = host.now + op.ns; host.now < end;) {
                    const ControllerState &c = fdc->state().ctrl;
                    if (!c.exec_active || c.exec.step == ExecStep::Transfer) break;
                    host.advance(100 * kUs);
                }
                break;
            case Op::Dma: {
                std::vector<uint8_t> bytes(op.count);
                for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = uint8_t(i * 31 + op.seed);
                host.program_dma(op.cycle, op.count, bytes);
                host.service_dma();
                break;
            }
            case Op::Mask:
                host.dma_masked = op.value;
                host.service_dma();
                break;
            case Op::DmaTiming:
                host.dma_delay_ns = op.ns;
                host.dma_chunk = op.chunk;
                break;
            case Op::Eject:
                fdc->eject_media(op.value);
                host.service_dma();
                break;
            case Op::Insert: {
                const Geometry &g = op.seed & 1 ? k720 : k144;
                fdc->insert_media(
                    op.value, std::make_unique<MemoryImage>(g, patterned(g, op.seed), op.seed & 2));
                host.service_dma();
                break;
            }
        }
    }
};

// A guest that mostly does sensible things — SPECIFY, CONFIGURE, motors, seeks, every data
// command in DMA and PIO with the clock stepped through their sectors, result and status reads,
// resets, media changes — and now and then nonsense. Non-adaptive: the same list of operations
// replays on any machine.
std::vector<Op> make_scenario(uint32_t seed, bool accurate, size_t blocks) {
    std::mt19937 rng(seed);
    auto pick = [&](unsigned n) { return unsigned(rng() % n); };
    std::vector<Op> ops;
    auto out = [&](uint8_t port, uint8_t v) { ops.push_back({Op::Out, port, v}); };
    auto in = [&](uint8_t port) { ops.push_back({Op::In, port}); };
    auto adv = [&](int64_t ns) { ops.push_back({Op::Advance, 0, 0, ns}); };
    auto fifo = [&](std::initializer_list<uint8_t> bytes) {
        for (uint8_t b : bytes) {
            in(kMsr);
            out(kFifo, b);
        }
    };
    auto results = [&](unsigned n) {
        for (unsigned i = 0; i < n; ++i) {
            in(kMsr);
            in(kFifo);
        }
    };
    auto wait = [&]() {
        switch (pick(5)) {
            case 0:
                adv(1 + pick(40) * kUs / 2);
                break;  // inside a byte or two
            case 1:
                adv(50 * kUs + pick(500) * kUs);
                break;  // a few dozen bytes
            case 2:
                adv(1 * kMs + pick(20) * kMs);
                break;  // steps, sectors
            case 3:
                adv(30 * kMs + pick(300) * kMs);
                break;  // revolutions, spin-up
            default:
                adv(pick(3) * 1000 + 1);
                break;
        }
    };
    bool pio = false;
    uint8_t motors = 0x1;     // as this guest last wrote DOR
    uint8_t cyl[2] = {0, 0};  // where this guest believes the heads are
    out(kDor, 0x1C);
    fifo({0x03, 0xDF, 0x02});
    adv(accurate ? 400 * kMs : kMs);
    for (size_t block = 0; block < blocks; ++block) {
        const unsigned r = pick(100);
        const uint8_t unit = pick(6) == 0 ? 1 : 0;
        if (r < 8) {  // SPECIFY
            pio = pick(7) == 0;
            const uint8_t hlt = uint8_t(pick(5) ? 1 + pick(10) : 1 + pick(127));
            fifo({0x03, uint8_t(pick(256)), uint8_t(hlt << 1 | (pio ? 1 : 0))});
        } else if (r < 13) {  // CONFIGURE
            fifo({0x13, 0x00, uint8_t(pick(2) << 6 | pick(2) << 5 | (pick(4) == 0) << 4 | pick(16)),
                  uint8_t(pick(4))});
        } else if (r < 19) {  // motors, drive select, sometimes a reset
            if (pick(6) == 0) {
                out(kDor, 0x08);
                wait();
                out(kDor, uint8_t(0x0C | pick(4) << 4));
                wait();
                for (int i = 0; i < 4; ++i) {
                    fifo({0x08});
                    results(2);
                }
            } else {
                motors = uint8_t(pick(4) ? (motors | 1) : pick(4));
                out(kDor, uint8_t(0x0C | motors << 4 | (pick(3) == 0 ? 1 : 0)));
                if (pick(3) == 0) in(kDir);
            }
        } else if (r < 22) {  // data rate, software reset
            if (pick(4) == 0) {
                out(kDsr, 0x80);
                wait();
            } else {
                out(kCcr, pick(8) == 0 ? uint8_t(pick(4)) : 0);
            }
        } else if (r < 36) {  // SEEK, RELATIVE SEEK, RECALIBRATE, then maybe SENSE INTERRUPT
            const unsigned k = pick(6);
            if (k == 0) {
                fifo({0x07, unit});
                cyl[unit] = 0;
            } else if (k == 1) {
                const bool inward = pick(2);
                const uint8_t n = uint8_t(pick(20));
                fifo({uint8_t(inward ? 0xCF : 0x8F), unit, n});
                cyl[unit] =
                    uint8_t(inward ? std::min(79, cyl[unit] + n) : std::max(0, cyl[unit] - n));
            } else {
                cyl[unit] = uint8_t(pick(6) == 0 ? pick(pick(8) ? 80 : 90) : pick(8));
                fifo({0x0F, uint8_t(unit | pick(2) << 2), cyl[unit]});
            }
            for (unsigned i = pick(4); i > 0; --i) {
                wait();
                in(kMsr);
            }
            if (accurate && pick(5)) adv(1500 * kMs);  // a driver waits for the seek's interrupt
            if (pick(5)) {
                fifo({0x08});
                results(2);
            }
        } else if (r < 40) {  // SENSE INTERRUPT
            fifo({0x08});
            results(2);
        } else if (r < 45) {  // register commands
            switch (pick(6)) {
                case 0:
                    fifo({0x04, uint8_t(pick(8))});
                    results(1);
                    break;
                case 1:
                    fifo({0x10});
                    results(1);
                    break;
                case 2:
                    fifo({0x0E});
                    results(10);
                    break;
                case 3:
                    fifo({uint8_t(pick(2) ? 0x94 : 0x14)});
                    results(1);
                    break;
                case 4:
                    fifo({0x12, uint8_t(pick(256))});
                    break;
                default:
                    fifo({uint8_t(pick(256))});
                    results(1 + pick(2));
                    break;
            }
        } else if (r < 82) {  // a data command
            const unsigned k = pick(100);
            uint8_t op;
            bool to_memory = true, id_only = false, format = false;
            if (k < 45)
                op = uint8_t(0x46 | (pick(3) == 0 ? 0x80 : 0));  // READ (MT)
            else if (k < 63) {
                op = 0x45;
                to_memory = false;
            }  // WRITE
            else if (k < 70) {
                op = 0x56;
            }  // VERIFY (EC)
            else if (k < 78) {
                op = 0x4A;
                id_only = true;
            }  // READ ID
            else if (k < 83) {
                op = 0x42;
            }  // READ TRACK
            else if (k < 87) {
                op = 0x4D;
                to_memory = false;
                format = true;
            }  // FORMAT
            else if (k < 92) {
                op = uint8_t(0x51 | pick(3) << 3);
                to_memory = false;
            }  // SCAN
            else if (k < 96) {
                op = 0x4C;
            }  // READ DELETED
            else {
                op = 0x49;
                to_memory = false;
            }  // WRITE DELETED
            const uint8_t c = uint8_t(pick(5) == 0 ? pick(10) : cyl[unit]), h = uint8_t(pick(2));
            const uint8_t sr = uint8_t(pick(10) == 0 ? pick(25) : 1 + pick(18));
            const unsigned nsec = 1 + pick(3);
            const uint8_t eot = uint8_t(std::min<unsigned>(18, sr + nsec - 1));
            if (!pio) {
                ops.push_back({Op::DmaTiming, 0, 0, int64_t(pick(3) == 0 ? pick(60) * kUs : 0),
                               DmaCycle::ToMemory, 0,
                               size_t(pick(4) == 0 ? 0
                                      : pick(2)    ? 1
                                                   : 16)});
                const size_t count = format ? 4 * 18 : pick(6) == 0 ? 1 + pick(1500) : nsec * 512;
                ops.push_back({Op::Dma, 0, 0, 0,
                               to_memory ? DmaCycle::ToMemory : DmaCycle::FromMemory, count, 0,
                               pick(256)});
                if (pick(12) == 0) ops.push_back({Op::Mask, 0, 1});
            }
            if (!(motors & (1u << unit)) && pick(5)) {  // a driver starts the motor first
                motors = uint8_t(motors | 1u << unit);
                out(kDor, uint8_t(0x0C | motors << 4 | unit));
                adv(accurate ? 500 * kMs : kMs);
            }
            const uint8_t uh = uint8_t(unit | h << 2);
            if (id_only)
                fifo({op, uh});
            else if (format)
                fifo({op, uh, 2, uint8_t(pick(5) ? 18 : pick(20)), 0x54, uint8_t(pick(256))});
            else
                fifo({op, uint8_t(uh | (op == 0x56 ? 0x80 : 0)), c, h, sr,
                      uint8_t(pick(10) ? 2 : pick(4)), eot, 0x1B,
                      uint8_t(op == 0x56 ? nsec
                              : pick(4)  ? 0xFF
                                         : pick(256))});
            if (pio) {
                const unsigned bytes = std::min(600u, unsigned(nsec * 512));
                for (unsigned i = 0; i < bytes; ++i) {
                    adv(pick(8) == 0 ? 1 + pick(60) * kUs : 6 * kUs + pick(14) * kUs);
                    in(kMsr);
                    if (to_memory)
                        in(kFifo);
                    else
                        out(kFifo, uint8_t(i * 7 + seed));
                }
            } else if (accurate) {
                // Through a revolution or two in steps mostly shorter than a sector, so cuts land
                // in searches, in sectors, between DMA requests and their service.
                for (unsigned steps = 40 + pick(110); steps > 0; --steps) {
                    const unsigned k2 = pick(20);
                    adv(k2 < 4    ? 1 + pick(30) * kUs
                        : k2 < 12 ? 30 * kUs + pick(470) * kUs
                        : k2 < 18 ? 500 * kUs + pick(3500) * kUs
                                  : 20 * kMs + pick(80) * kMs);
                    if (pick(3) == 0) in(kMsr);
                }
            } else {
                for (unsigned steps = 1 + pick(3); steps > 0; --steps) {
                    wait();
                    if (pick(2)) in(kMsr);
                }
            }
            results(7);
            if (pick(10) == 0) {  // a driver's time-out: reset and collect the polls
                out(kDsr, 0x80);
                adv(kMs);
                for (int i = 0; i < 4; ++i) {
                    fifo({0x08});
                    results(2);
                }
            }
        } else if (r < 84) {  // media changes
            if (pick(2))
                ops.push_back({Op::Eject, 0, uint8_t(pick(3) == 0)});
            else
                ops.push_back(
                    {Op::Insert, 0, uint8_t(pick(3) == 0), 0, DmaCycle::ToMemory, 0, 0, pick(4)});
        } else if (r < 90) {  // nonsense
            if (pick(2))
                out(uint8_t(pick(8)), uint8_t(pick(256)));
            else
                in(uint8_t(pick(8)));
        } else {
            wait();
        }
    }
    return ops;
}

// The fields in which two states differ, by name (through the wire format's field table).
std::string diff(const FdcState &x, const FdcState &y) {
    const std::vector<uint8_t> bx = sf::encode(x), by = sf::encode(y);
    const std::vector<EncodedField> fx = encoded_fields(bx), fy = encoded_fields(by);
    std::string out;
    for (size_t k = 0; k < fx.size(); ++k) {
        const auto x_bytes = std::span(bx).subspan(fx[k].offset, fx[k].width);
        const auto y_bytes = std::span(by).subspan(fy[k].offset, fy[k].width);
        if (std::equal(x_bytes.begin(), x_bytes.end(), y_bytes.begin(), y_bytes.end())) continue;
        int64_t vx = 0, vy = 0;
        if (x_bytes.size() <= 8 && y_bytes.size() <= 8) {
            for (size_t i = 0; i < x_bytes.size(); ++i) vx |= int64_t(x_bytes[i]) << (8 * i);
            for (size_t i = 0; i < y_bytes.size(); ++i) vy |= int64_t(y_bytes[i]) << (8 * i);
        }
        out +=
            " " + fx[k].field.path + " (" + std::to_string(vx) + " vs " + std::to_string(vy) + ")";
    }
    return out.empty() ? " (no field differs)" : out;
}

// A state with the instants nothing will read again zeroed: a stale default (Seek{}, Stream{}
// hold absolute 0) is no instant of the run and differs between machines with other clocks.
FdcState live_part(FdcState s) {
    ControllerState &c = s.ctrl;
    for (SeekState &k : c.seeks)
        if (!k.active) k.start = 0;
    ExecState &e = c.exec;
    if (!c.exec_active) e.due = e.search_from = e.give_up = e.sector_end = 0;
    if (!c.exec_active || e.step != ExecStep::Transfer) e.stream.t0 = 0;
    if (e.step == ExecStep::WaitDrive || e.step == ExecStep::ImpliedSeek ||
        e.step == ExecStep::HeadLoad)
        e.search_from = 0;  // before the first search
    for (DriveState &d : s.drives)
        if (!d.mech.motor_on) d.mech.motor_on_since = 0;
    return s;
}

// A guest that streams sectors and watches them byte by byte: FIFO on or off at a random
// threshold, a DMA channel that answers late or in chunks, the clock stepped a few microseconds
// at a time through each sector (accurate timing).
std::vector<Op> make_streaming_scenario(uint32_t seed, unsigned commands) {
    std::mt19937 rng(seed);
    auto pick = [&](unsigned n) { return unsigned(rng() % n); };
    std::vector<Op> ops;
    auto out = [&](uint8_t port, uint8_t v) { ops.push_back({Op::Out, port, v}); };
    auto in = [&](uint8_t port) { ops.push_back({Op::In, port}); };
    out(kDor, 0x1C);
    for (uint8_t b : {uint8_t(0x03), uint8_t(0xDF), uint8_t(0x02)}) out(kFifo, b);
    for (uint8_t b : {uint8_t(0x13), uint8_t(0), uint8_t(pick(2) << 5 | pick(16)), uint8_t(0)})
        out(kFifo, b);
    ops.push_back({Op::Advance, 0, 0, 500 * kMs});
    for (unsigned k = 0; k < commands; ++k) {
        const bool write = pick(3) == 0;
        const unsigned nsec = 1 + pick(2);
        const uint8_t r = uint8_t(1 + pick(17)), h = uint8_t(pick(2));
        ops.push_back({Op::DmaTiming, 0, 0, int64_t(pick(3) ? 2 * kUs + pick(20) * kUs : 0),
                       DmaCycle::ToMemory, 0,
                       size_t(pick(3) == 0 ? 0
                              : pick(2)    ? 1
                                           : 4)});
        ops.push_back({Op::Dma, 0, 0, 0, write ? DmaCycle::FromMemory : DmaCycle::ToMemory,
                       nsec * 512, 0, pick(256)});
        for (uint8_t b :
             {uint8_t(write ? 0x45 : 0x46), uint8_t(h << 2), uint8_t(0), h, r, uint8_t(2),
              uint8_t(std::min(18u, r + nsec - 1)), uint8_t(0x1B), uint8_t(0xFF)})
            out(kFifo, b);
        for (unsigned sec = 0; sec < nsec; ++sec) {
            ops.push_back({Op::Approach, 0, 0, 700 * kMs});
            for (unsigned i = 0, n = 150 + pick(250); i < n; ++i) {
                ops.push_back({Op::Advance, 0, 0, int64_t(1 + pick(9) * kUs + pick(1000))});
                if (pick(4) == 0) in(kMsr);
            }
        }
        ops.push_back({Op::Advance, 0, 0, 30 * kMs});
        for (int i = 0; i < 7; ++i) {
            in(kMsr);
            in(kFifo);
        }
    }
    return ops;
}

Machine &prepare(Machine &m) {
    m.fdc->insert_media(0, std::make_unique<MemoryImage>(k144, patterned(k144, 0)));
    m.fdc->insert_media(1, std::make_unique<MemoryImage>(k720, patterned(k720, 1), true));
    m.host.trace = &m.trace;
    return m;
}

// What the controller is doing at a cut, as bits (several may hold).
enum class Cut : uint8_t {
    Idle,
    MidSeek,
    MidSector,   // part of a sector moved
    SectorEdge,  // in a sector transfer, none or all of it moved
    Searching,   // an ID or the index
    WaitingForSeek,
    ImpliedSeek,
    HeadLoad,
    Finishing,
    DrqPending,  // DRQ high, the DMA channel not yet served it
    Pio,
    ResultPhase,
    MidCommandBytes,
    PollPending,
    TimerPending,
    StatusQueued,
    kCount
};
using CutKinds = uint32_t;
constexpr CutKinds bit(Cut k) {
    return CutKinds(1) << unsigned(k);
}
static_assert(unsigned(Cut::kCount) <= 32);

const char *cut_name(Cut k) {
    static const char *const names[] = {"idle",
                                        "mid-seek",
                                        "mid-sector (part moved)",
                                        "sector transfer (none/all moved)",
                                        "searching an ID / index",
                                        "execution, waiting for a seek",
                                        "execution, implied seek",
                                        "execution, head load",
                                        "execution, finishing",
                                        "DRQ high, DMA service pending",
                                        "PIO execution",
                                        "result phase",
                                        "mid command bytes",
                                        "reset poll pending",
                                        "timer pending",
                                        "interrupt status queued"};
    static_assert(std::size(names) == size_t(Cut::kCount));
    return names[size_t(k)];
}

CutKinds classify(const FdcState &s, const FakeFdcHost &host) {
    const ControllerState &c = s.ctrl;
    CutKinds out = 0;
    for (const SeekState &k : c.seeks)
        if (k.active) out |= bit(Cut::MidSeek);
    if (c.exec_active) {
        const StreamState &st = c.exec.stream;
        switch (c.exec.step) {
            case ExecStep::Transfer:
                out |= bit(st.moved > 0 && st.moved < st.len ? Cut::MidSector : Cut::SectorEdge);
                break;
            case ExecStep::Search:
            case ExecStep::WaitIndex:
                out |= bit(Cut::Searching);
                break;
            case ExecStep::WaitDrive:
                out |= bit(Cut::WaitingForSeek);
                break;
            case ExecStep::ImpliedSeek:
                out |= bit(Cut::ImpliedSeek);
                break;
            case ExecStep::HeadLoad:
                out |= bit(Cut::HeadLoad);
                break;
            case ExecStep::Finish:
                out |= bit(Cut::Finishing);
                break;
        }
        if (c.drq_out && host.dma_due() > host.now) out |= bit(Cut::DrqPending);
        if (c.nd) out |= bit(Cut::Pio);
    }
    if (c.phase == FdcPhase::Result) out |= bit(Cut::ResultPhase);
    if (c.phase == FdcPhase::Command && c.cmd_len > 0) out |= bit(Cut::MidCommandBytes);
    if (c.poll_due != kNever) out |= bit(Cut::PollPending);
    if (c.armed != kNever) out |= bit(Cut::TimerPending);
    if (c.status_count > 0) out |= bit(Cut::StatusQueued);
    return out ? out : bit(Cut::Idle);
}

// The cut points one test checked, by what the controller was doing there. Each test keeps its
// own and checks its own minimum, so that no test depends on another having run.
struct Coverage {
    unsigned cuts = 0;
    std::array<unsigned, size_t(Cut::kCount)> kinds{};
    unsigned operator[](Cut k) const { return kinds[size_t(k)]; }
    void add(CutKinds ks) {
        ++cuts;
        for (size_t k = 0; k < kinds.size(); ++k)
            if (ks & bit(Cut(k))) ++kinds[k];
    }
};

// Prints the coverage to the test's log and checks that at least `min_cuts` cuts were checked,
// `minima` of them of each kind named.
void expect_coverage(const Coverage &c, unsigned min_cuts,
                     std::initializer_list<std::pair<Cut, unsigned>> minima) {
    std::printf("%u cut points\n", c.cuts);
    for (size_t k = 0; k < c.kinds.size(); ++k)
        if (c.kinds[k]) std::printf("    %-36s %u\n", cut_name(Cut(k)), c.kinds[k]);
    EXPECT_GE(c.cuts, min_cuts) << "cut points";
    for (const auto &[kind, min] : minima) EXPECT_GE(c[kind], min) << cut_name(kind);
}

// A scenario run once without interruption (A): what the host saw, and before each operation
// where its trace and clock stood and what the controller was doing.
struct Reference {
    Reference(FdcConfig config, const std::vector<Op> &ops)
        : a(config, 0), trace_at(ops.size() + 1), time_at(ops.size() + 1), kinds_at(ops.size()) {
        prepare(a);
        for (size_t i = 0; i < ops.size(); ++i) {
            trace_at[i] = a.trace.size();
            time_at[i] = a.host.now;
            kinds_at[i] = classify(a.fdc->state(), a.host);
            a.run(ops[i]);
        }
        trace_at[ops.size()] = a.trace.size();
        time_at[ops.size()] = a.host.now;
    }
    Machine a;
    std::vector<size_t> trace_at;
    std::vector<int64_t> time_at;
    std::vector<CutKinds> kinds_at;
};

// Loads `blob` into a fresh machine whose clock reads `clock`, with the media and the DMA
// channel of `saver` (which ran `ops` up to `cut`), runs the rest of `ops` and checks that it
// is the rest of the uninterrupted run: every event with its time relative to the cut, the
// DMA'd memory, the media and the final state. `what` names the cut in failures.
void resume_and_compare(const Reference &ref, const std::vector<Op> &ops, size_t cut,
                        Machine &saver, std::span<const uint8_t> blob, int64_t clock,
                        const std::string &what) {
    Machine b(saver.fdc->config(), clock);
    for (unsigned u = 0; u < 2; ++u)
        if (MemoryImage *m = saver.image(u))
            b.fdc->insert_media(
                u, std::make_unique<MemoryImage>(m->geometry(), m->bytes(), m->read_only()));
    FdcState loaded;
    std::string error;
    ASSERT_TRUE(sf::decode(blob, &loaded, &error)) << what << ": " << error;
    const Status applied = b.fdc->load_state(loaded);
    ASSERT_TRUE(applied) << what << ": " << applied.error().message();
    b.host.restore_channel(saver.host.channel());
    EXPECT_EQ(b.host.irq, saver.host.irq) << what;
    EXPECT_EQ(b.host.drq, saver.host.drq) << what;
    EXPECT_EQ(b.host.deadline == kNever ? kNever : b.host.deadline - b.host.now,
              saver.host.deadline == kNever ? kNever : saver.host.deadline - saver.host.now)
        << what;
    const Expected<FdcState> again = b.fdc->save_state();
    ASSERT_TRUE(again) << again.error().message();
    ASSERT_TRUE(*again == loaded) << what
                                  << ": a loaded state saves differently:" << diff(*again, loaded);
    b.host.trace = &b.trace;
    if (std::getenv("FDPLUG_STATE_VERBOSE"))
        std::fprintf(stderr, "%s: clock %lld\n", what.c_str(), (long long)clock);
    for (size_t i = cut; i < ops.size(); ++i) b.run(ops[i]);

    // The rests, times relative to the cut.
    const Machine &a = ref.a;
    const int64_t a0 = ref.time_at[cut], b0 = clock;
    const size_t from = ref.trace_at[cut], n = a.trace.size() - from;
    size_t same = 0;
    while (same < n && same < b.trace.size()) {
        Event ea = a.trace[from + same], eb = b.trace[same];
        ea.t -= a0;
        eb.t -= b0;
        if (!(ea == eb)) break;
        ++same;
    }
    ASSERT_TRUE(same == n && b.trace.size() == n)
        << what << ": event " << same << " of " << n << " differs: A "
        << (same < n ? show(a.trace[from + same], a0) : "(end)") << ", B "
        << (same < b.trace.size() ? show(b.trace[same], b0) : "(end)");
    EXPECT_EQ(a.host.now - a0, b.host.now - b0) << what;
    EXPECT_EQ(a.host.memory, b.host.memory) << what << ": DMA'd memory";
    EXPECT_EQ(a.host.dma_pos, b.host.dma_pos) << what;
    for (unsigned u = 0; u < 2; ++u) {
        const MemoryImage *ma = a.image(u);
        ASSERT_EQ(ma != nullptr, b.image(u) != nullptr) << what << ": medium " << u;
        if (ma) {
            EXPECT_EQ(ma->bytes(), b.image(u)->bytes()) << what << ": medium " << u;
        }
    }
    const FdcState fa = live_part(a.fdc->state()), fb = live_part(b.fdc->state());
    EXPECT_TRUE(fa == fb) << what << ": final state differs:" << diff(fa, fb);
}

// Runs the scenario uninterrupted (A); then once more, and at each cut saves the state, checks
// that it survives the wire format, and resumes it on a fresh machine on another clock
// (resume_and_compare). Adds what the controller did at each cut to `coverage`.
void check_ops(uint32_t seed, TimingPolicy timing, const std::vector<Op> &ops, unsigned cuts,
               unsigned per_kind, Coverage &coverage) {
    const FdcConfig config{FdcMode::At, timing};
    if (std::getenv("FDPLUG_STATE_VERBOSE"))
        std::fprintf(stderr, "seed %u: %zu operations\n", seed, ops.size());
    const Reference ref(config, ops);

    // The cut points: `cuts` spread over the whole run, and up to `per_kind` more of each thing
    // the controller was found doing, so that rare moments (a DMA request not yet served, a
    // sector half moved) are cut too.
    std::mt19937 rng(seed * 7919u + 17);
    std::set<size_t> at;
    while (at.size() < cuts && at.size() + 1 < ops.size()) at.insert(1 + rng() % (ops.size() - 1));
    for (size_t k = 0; k < size_t(Cut::kCount); ++k) {
        std::vector<size_t> list;
        for (size_t i = 1; i < ops.size(); ++i)
            if (ref.kinds_at[i] & bit(Cut(k))) list.push_back(i);
        std::shuffle(list.begin(), list.end(), rng);
        for (size_t i = 0; i < list.size() && i < per_kind; ++i) at.insert(list[i]);
    }

    Machine saver(config, 0);
    prepare(saver);
    size_t done = 0;
    for (size_t cut : at) {
        while (done < cut) saver.run(ops[done++]);
        ASSERT_EQ(saver.trace.size(), ref.trace_at[cut])
            << "saving changed the run (seed " << seed << ")";
        const Expected<FdcState> saving = saver.fdc->save_state();
        ASSERT_TRUE(saving) << saving.error().message();
        const FdcState &saved = *saving;
        std::string error;
        const std::vector<uint8_t> blob = sf::encode(saved);
        FdcState decoded;
        ASSERT_TRUE(sf::decode(blob, &decoded, &error)) << error;
        ASSERT_TRUE(decoded == saved) << "the wire format loses a field:" << diff(decoded, saved);
        coverage.add(classify(saved, saver.host));

        // A fresh machine, its clock elsewhere (ahead, behind, or where A's was).
        const int64_t clock = cut % 3 == 0   ? ref.time_at[cut]
                              : cut % 3 == 1 ? 12'345
                                             : ref.time_at[cut] + 987'654'321'987;
        resume_and_compare(ref, ops, cut, saver, blob, clock,
                           "seed " + std::to_string(seed) + " (" +
                               (timing == TimingPolicy::Fast ? "fast" : "accurate") +
                               ") cut at op " + std::to_string(cut));
        if (::testing::Test::HasFatalFailure()) return;
    }
}

// FDPLUG_STATE_SEEDS=N runs N seeds per mode instead of 8 (a longer soak; fewer would fall short
// of the tests' minimum coverage).
uint32_t seeds() {
    const char *env = std::getenv("FDPLUG_STATE_SEEDS");
    return std::max(8, env ? std::atoi(env) : 0);
}

void check_scenario(uint32_t seed, TimingPolicy timing, size_t blocks, unsigned cuts,
                    Coverage &coverage, unsigned per_kind = 6) {
    check_ops(seed, timing, make_scenario(seed, timing == TimingPolicy::Accurate, blocks), cuts,
              per_kind, coverage);
}

// Each test checks the cut points it reached itself: about half of what its default seeds give
// for the kinds of moment it is there for, so that a scenario that stops reaching them fails.

TEST(FdcStateExact, RandomScenariosAccurate) {
    Coverage coverage;
    for (uint32_t seed = 1; seed <= seeds(); ++seed) {
        check_scenario(seed, TimingPolicy::Accurate, 70, 40, coverage);
        if (HasFatalFailure()) return;
    }
    expect_coverage(coverage, 400,
                    {{Cut::MidSeek, 45},
                     {Cut::MidSector, 12},
                     {Cut::Searching, 80},
                     {Cut::ImpliedSeek, 25},
                     {Cut::HeadLoad, 70},
                     {Cut::Pio, 120},
                     {Cut::ResultPhase, 75},
                     {Cut::MidCommandBytes, 35},
                     {Cut::PollPending, 20},
                     {Cut::StatusQueued, 110}});
}

TEST(FdcStateExact, RandomScenariosFast) {
    Coverage coverage;
    for (uint32_t seed = 101; seed < 101 + seeds(); ++seed) {
        check_scenario(seed, TimingPolicy::Fast, 70, 40, coverage);
        if (HasFatalFailure()) return;
    }
    expect_coverage(coverage, 300,
                    {{Cut::MidSector, 45},
                     {Cut::DrqPending, 35},
                     {Cut::Pio, 50},
                     {Cut::ResultPhase, 65},
                     {Cut::MidCommandBytes, 45},
                     {Cut::StatusQueued, 90}});
}

// Sectors streamed under DMA with late and chunked service, cut inside them: many cuts with
// part of a sector moved and with a DMA request raised and not yet served.
TEST(FdcStateExact, StreamingSectorsAccurate) {
    Coverage coverage;
    for (uint32_t seed = 201; seed < 201 + seeds() / 2; ++seed) {
        check_ops(seed, TimingPolicy::Accurate, make_streaming_scenario(seed, 4), 30, 25, coverage);
        if (HasFatalFailure()) return;
    }
    expect_coverage(coverage, 350,
                    {{Cut::MidSector, 130},
                     {Cut::SectorEdge, 90},
                     {Cut::DrqPending, 50},
                     {Cut::ResultPhase, 55},
                     {Cut::TimerPending, 240}});
}

// Every op of one accurate scenario is a cut point: every command and result byte, every step
// through seeks, searches and sectors. (Seed 4290 for its sectors and seeks; 4242, used before,
// had neither.)
TEST(FdcStateExact, EveryOperationOfOneScenario) {
    Coverage coverage;
    check_scenario(4290, TimingPolicy::Accurate, 25, 100000, coverage);
    if (HasFatalFailure()) return;
    expect_coverage(coverage, 1500,
                    {{Cut::MidSeek, 9},
                     {Cut::MidSector, 15},
                     {Cut::Searching, 185},
                     {Cut::ResultPhase, 420},
                     {Cut::MidCommandBytes, 80},
                     {Cut::StatusQueued, 290}});
}

// --- golden states: real blobs of every format version this build reads ----------------------

// Where a golden state is cut: the first operation of a scenario before which the controller
// does all of `kinds`. tests/unit/block/data/README.md says how the blobs were written.
struct GoldenCut {
    const char *name;  // data/NAME.vVERSION
    TimingPolicy timing;
    std::vector<Op> (*ops)();
    CutKinds kinds;
    // Blobs of older versions were written before the model's behaviour up to the cut changed on
    // purpose: they must still decode and load, but the state at the cut is no longer theirs.
    uint32_t same_behaviour_since = sf::kMinVersion;
};

const GoldenCut kGoldenCuts[] = {
    {"accurate-mid-sector-dma", TimingPolicy::Accurate,
     [] { return make_streaming_scenario(201, 4); }, bit(Cut::MidSector) | bit(Cut::DrqPending)},
    {"accurate-pio", TimingPolicy::Accurate, [] { return make_scenario(1, true, 70); },
     bit(Cut::Pio) | bit(Cut::TimerPending)},
    {"accurate-mid-seek", TimingPolicy::Accurate, [] { return make_scenario(2, true, 70); },
     bit(Cut::MidSeek) | bit(Cut::MidCommandBytes)},
    {"fast-result", TimingPolicy::Fast, [] { return make_scenario(101, false, 70); },
     bit(Cut::ResultPhase) | bit(Cut::StatusQueued)},
    // v1 predates the fast policy's PIO service window (t0 follows the host, a timer is armed).
    {"fast-pio", TimingPolicy::Fast, [] { return make_scenario(101, false, 70); },
     bit(Cut::Pio) | bit(Cut::MidSector), 2},
};

// Each golden blob decodes to exactly the state the model saves at its cut (an older version:
// without the fields dropped since), the current version's to the very same bytes, and a fresh
// machine that loads it runs the rest as the uninterrupted run did.
// FDPLUG_STATE_WRITE_GOLDEN=DIR writes the current version's blobs into DIR instead.
TEST(FdcStateGolden, EveryVersionLoadsAndRunsOn) {
    const char *write_dir = std::getenv("FDPLUG_STATE_WRITE_GOLDEN");
    std::map<uint32_t, unsigned> per_version;
    for (const GoldenCut &g : kGoldenCuts) {
        SCOPED_TRACE(g.name);
        const FdcConfig config{FdcMode::At, g.timing};
        const std::vector<Op> ops = g.ops();
        const Reference ref(config, ops);
        size_t cut = 1;
        while (cut < ops.size() && (ref.kinds_at[cut] & g.kinds) != g.kinds) ++cut;
        ASSERT_LT(cut, ops.size()) << "the scenario never reaches the golden cut";
        Machine saver(config, 0);
        prepare(saver);
        for (size_t i = 0; i < cut; ++i) saver.run(ops[i]);
        const Expected<FdcState> saving = saver.fdc->save_state();
        ASSERT_TRUE(saving) << saving.error().message();
        const FdcState &saved = *saving;
        std::string error;
        const std::vector<uint8_t> current = sf::encode(saved);
        if (write_dir) {
            const std::string path =
                std::string(write_dir) + "/" + g.name + ".v" + std::to_string(sf::kVersion);
            std::ofstream(path, std::ios::binary)
                .write(reinterpret_cast<const char *>(current.data()),
                       std::streamsize(current.size()));
            std::printf("%s: cut at op %zu of %zu\n", path.c_str(), cut, ops.size());
            continue;
        }
        for (uint32_t v = sf::kMinVersion; v <= sf::kVersion; ++v) {
            const std::string file = std::string(g.name) + ".v" + std::to_string(v);
            const std::vector<uint8_t> blob = golden_state(file);
            if (blob.empty()) {
                EXPECT_LT(v, sf::kVersion) << file << " is missing";
                continue;
            }
            ++per_version[v];
            FdcState loaded;
            ASSERT_TRUE(sf::decode(blob, &loaded, &error)) << file << ": " << error;
            if (v < g.same_behaviour_since) {
                Machine b(config, 12'345);
                for (unsigned u = 0; u < 2; ++u)
                    if (MemoryImage *m = saver.image(u))
                        b.fdc->insert_media(u, std::make_unique<MemoryImage>(
                                                   m->geometry(), m->bytes(), m->read_only()));
                const Status applied = b.fdc->load_state(loaded);
                EXPECT_TRUE(applied) << file << ": " << applied.error().message();
                continue;
            }
            ASSERT_TRUE(loaded == saved)
                << file << " is not the state the model saves at op " << cut
                << " (has the model's behaviour before the cut changed?):" << diff(loaded, saved);
            if (v == sf::kVersion) {
                EXPECT_TRUE(blob == current) << file << ": the current encoding differs";
            }
            resume_and_compare(ref, ops, cut, saver, blob, 12'345, file);
            if (HasFatalFailure()) return;
        }
    }
    if (write_dir) return;
    for (uint32_t v = sf::kMinVersion; v <= sf::kVersion; ++v)
        EXPECT_GT(per_version[v], 0u) << "no golden state of version " << v;
}

}  // namespace
}  // namespace fdplug::floppy::test
