#include "hw/block/fdc/fdc_timing.h"

#include <algorithm>
#include <array>

#include "hw/block/fdc/floppy_drive.h"

namespace fdplug::floppy {

namespace {
// Indexed by DataRate (DSR/CCR encoding).
constexpr std::array<uint32_t, 4> kRateBps = {500'000, 300'000, 250'000, 1'000'000};

// SPECIFY delays are in units of the 500 kbit/s value scaled by k = 500k / rate.
int64_t scaled(int64_t ns_at_500k, DataRate rate) {
    return ns_at_500k * 500'000 / kRateBps[static_cast<unsigned>(rate) & 3];
}
// Standard format gaps (docs/hardware/timing.md §3), by rate and spindle speed.
uint32_t standard_gap3(DataRate rate, uint16_t rpm) {
    if (rate == DataRate::k1000) return 0x53;
    if (rate == DataRate::k500) return rpm == 360 ? 0x54 : 0x6C;
    return 0x50;
}
// Smallest origin + k·rev + offset (k ≥ 0) that is ≥ not_before.
int64_t next_pass(int64_t origin, int64_t rev, int64_t offset, int64_t not_before) {
    const int64_t first = origin + offset;
    if (not_before <= first) return first;
    const int64_t k = (not_before - first + rev - 1) / rev;
    return first + k * rev;
}

// The drive and the track as they are: a disk that turns from at_speed_ns(), index pulses once a
// revolution, IDs where the layout puts them, the SPECIFY delays and the drive's profile.
class AccurateTiming final : public Timing {
  public:
    int64_t reset_to_poll_ns() const override { return kResetToPollNs; }
    int64_t seek_ns(unsigned steps, int64_t step, const DriveProfile &drive) const override {
        return steps == 0 ? drive.no_motion_seek_ns : int64_t(steps) * step;
    }
    int64_t head_load_ns(uint8_t hlt, DataRate rate) const override {
        return floppy::head_load_ns(hlt, rate);
    }
    int64_t head_unload_ns(uint8_t hut, DataRate rate) const override {
        return floppy::head_unload_ns(hut, rate);
    }

    int64_t readable_from(const FloppyDrive &d, int64_t t) const override {
        const int64_t origin = d.at_speed_ns();
        if (origin == kNever) return kNever;  // no rotation, no index pulses
        return std::max({t, origin, d.last_step_ns() + d.profile().settle_ns});
    }
    int64_t search_gives_up(const FloppyDrive &d, int64_t from) const override {
        return index_passes(d, from) + revolution(d);
    }
    int64_t index_passes(const FloppyDrive &d, int64_t from) const override {
        return next_pass(d.at_speed_ns(), revolution(d), 0, from);
    }
    int64_t id_passes(const FloppyDrive &d, const TrackLayout &t, unsigned k,
                      int64_t from) const override {
        // The ID is caught only if the controller is listening before its address mark.
        return next_pass(d.at_speed_ns(), revolution(d), t.ns(t.sector_start(k)),
                         from - t.ns(TrackLayout::kSync));
    }
    int64_t id_after_index(const TrackLayout &t, int64_t index, unsigned k,
                           int64_t) const override {
        return index + t.ns(t.sector_start(k));
    }
    IdRead next_id(FloppyDrive &d, const TrackLayout &t, int64_t from) const override {
        // The first ID whose address mark is still to come in this revolution, else sector 1's.
        const int64_t phase = (from - d.at_speed_ns()) % revolution(d);
        unsigned k = 1;
        for (unsigned i = 1; i <= t.sectors; ++i) {
            if (t.ns(t.sector_start(i)) + t.ns(TrackLayout::kSync) >= phase) {
                k = i;
                break;
            }
        }
        return {k, id_passes(d, t, k, from) + t.ns(TrackLayout::kIdField)};
    }

    ByteClock byte_clock(const TrackLayout &t) const override { return t.clock(); }
    bool overruns() const override { return true; }

  private:
    static int64_t revolution(const FloppyDrive &d) {
        return revolution_ns(d.media()->geometry().rpm);
    }
};

// QEMU's timing: everything happens when the controller gets to it. READ ID alone takes time
// (QEMU's 20 ms), and consecutive READ IDs count the sectors up like a turning disk.
class FastTiming final : public Timing {
  public:
    int64_t reset_to_poll_ns() const override { return 0; }
    int64_t seek_ns(unsigned, int64_t, const DriveProfile &) const override { return 0; }
    int64_t head_load_ns(uint8_t, DataRate) const override { return 0; }
    int64_t head_unload_ns(uint8_t, DataRate) const override { return 0; }

    int64_t readable_from(const FloppyDrive &, int64_t t) const override { return t; }
    int64_t search_gives_up(const FloppyDrive &, int64_t) const override { return kNever; }
    int64_t index_passes(const FloppyDrive &, int64_t from) const override { return from; }
    int64_t id_passes(const FloppyDrive &, const TrackLayout &, unsigned,
                      int64_t from) const override {
        return from;
    }
    int64_t id_after_index(const TrackLayout &, int64_t, unsigned, int64_t now) const override {
        return now;
    }
    IdRead next_id(FloppyDrive &d, const TrackLayout &t, int64_t from) const override {
        d.set_last_read_id(uint8_t(d.last_read_id() % t.sectors + 1));
        return {d.last_read_id(), from + kFastReadIdNs};
    }

    ByteClock byte_clock(const TrackLayout &) const override { return {}; }
    bool overruns() const override { return false; }
};

}  // namespace

const Timing &timing_policy(TimingPolicy policy) {
    static const AccurateTiming accurate;
    static const FastTiming fast;
    if (policy == TimingPolicy::Fast) return fast;
    return accurate;
}

Timing::Field Timing::data_field(const TrackLayout &t, unsigned k, int64_t id) const {
    const ByteClock c = byte_clock(t);
    return {id + c.ns(t.data_offset()), id + c.ns(t.sector_end_offset(k)), c};
}

Timing::Field Timing::id_field(const TrackLayout &t, unsigned k, int64_t id) const {
    const ByteClock c = byte_clock(t);
    return {id + c.ns(TrackLayout::id_offset()), id + c.ns(t.slot(k)), c};
}

uint32_t data_rate_bps(DataRate rate) {
    return kRateBps[static_cast<unsigned>(rate) & 3];
}

int64_t step_ns(uint8_t srt, DataRate rate) {
    return scaled(int64_t(16 - (srt & 15)) * kNsPerMs, rate);
}

int64_t head_load_ns(uint8_t hlt, DataRate rate) {
    const int64_t units = (hlt & 0x7F) ? (hlt & 0x7F) : 128;
    return scaled(units * 2 * kNsPerMs, rate);
}

int64_t head_unload_ns(uint8_t hut, DataRate rate) {
    const int64_t units = (hut & 15) ? (hut & 15) : 16;
    return scaled(units * 16 * kNsPerMs, rate);
}

int64_t revolution_ns(uint16_t rpm) {
    return 60'000'000'000LL / (rpm ? rpm : 300);
}

uint32_t TrackLayout::sector_start(unsigned k) const {
    uint32_t at = kPreamble;
    for (unsigned i = 1; i < k; ++i) at += slot(i);
    return at;
}

TrackLayout track_layout(const TrackShape &shape) {
    TrackLayout t;
    const uint32_t bps = data_rate_bps(shape.rate) / (shape.fm ? 2 : 1);
    t.gap2 = shape.perpendicular ? 41 : 22;
    t.sectors = uint32_t(std::min(shape.size_codes.size(), kMaxSectorsPerTrack));
    std::copy_n(shape.size_codes.begin(), t.sectors, t.size_codes.begin());
    const int64_t rev = revolution_ns(shape.rpm);
    const int64_t raw_bytes = int64_t(bps) * rev / 8'000'000'000LL;
    auto used = [&t](uint32_t gap) {
        t.gap3 = gap;
        return int64_t(t.used_bytes());
    };
    // Shrink gap 3 until the track fits; if even 0 does not fit, squeeze the byte clock.
    uint32_t gap3 = shape.gap3 ? shape.gap3 : standard_gap3(shape.rate, shape.rpm);
    if (used(0) <= raw_bytes) {
        while (gap3 > 0 && used(gap3) > raw_bytes) --gap3;
    } else {
        gap3 = 0;
    }
    t.gap3 = gap3;
    if (used(gap3) > raw_bytes) {
        t.ns_num = rev;
        t.ns_den = used(0);
    } else {
        t.ns_num = 8'000'000'000LL;
        t.ns_den = bps;
    }
    return t;
}

TrackLayout track_layout(const Geometry &g, uint8_t format_gap3) {
    std::array<uint8_t, kMaxSectorsPerTrack> sizes;
    sizes.fill(kRawSectorN);
    return track_layout(
        {.size_codes = std::span(sizes).first(std::min<size_t>(g.sectors, sizes.size())),
         .rate = g.rate,
         .rpm = g.rpm,
         .perpendicular = g.perpendicular,
         .gap3 = format_gap3});
}

}  // namespace fdplug::floppy
