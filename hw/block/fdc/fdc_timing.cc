#include "hw/block/fdc/fdc_timing.h"

#include <array>

namespace fdplug::floppy {

namespace {
// Indexed by DataRate (DSR/CCR encoding).
constexpr std::array<uint32_t, 4> kRateBps = {500'000, 300'000, 250'000, 1'000'000};

// SPECIFY delays are in units of the 500 kbit/s value scaled by k = 500k / rate.
int64_t scaled(int64_t ns_at_500k, DataRate rate) {
    return ns_at_500k * 500'000 / kRateBps[static_cast<unsigned>(rate) & 3];
}
}  // namespace

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

TrackLayout track_layout(const Geometry &g, uint8_t format_gap3) {
    TrackLayout t;
    const uint32_t bps = data_rate_bps(g.rate);
    t.gap2 = g.perpendicular ? 41 : 22;
    t.sectors = g.sectors;
    // Standard format gaps (timing.md §3), by rate and spindle speed.
    uint32_t gap3 = format_gap3;
    if (!gap3) {
        if (g.rate == DataRate::k1000)
            gap3 = 0x53;
        else if (g.rate == DataRate::k500)
            gap3 = g.rpm == 360 ? 0x54 : 0x6C;
        else
            gap3 = 0x50;
    }
    const int64_t rev = revolution_ns(g.rpm);
    const int64_t raw_bytes = int64_t(bps) * rev / 8'000'000'000LL;
    auto used = [&](uint32_t gap) {
        return int64_t(TrackLayout::kPreamble) + int64_t(g.sectors) * (t.slot() - t.gap3 + gap);
    };
    // Shrink gap 3 until the track fits; if even 0 does not fit, squeeze the byte clock.
    while (gap3 > 0 && used(gap3) > raw_bytes) --gap3;
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

}  // namespace fdplug::floppy
