// Every delay the floppy subsystem applies, computed in one place: data-rate byte times, the
// IBM System 34 track layout, rotation, and the SPECIFY step/head-load/head-unload delays.
// Reference: shared/reference/timing.md. Under TimingPolicy::Fast every delay is zero except
// READ ID, which keeps QEMU's 20 ms.
#pragma once

#include <cstdint>

#include "hw/block/media/floppy_geometry.h"

namespace fdplug::floppy {

enum class TimingPolicy : uint8_t { Accurate, Fast };

inline constexpr int64_t kNsPerMs = 1'000'000;
inline constexpr int64_t kNever = INT64_MAX;

// Mechanical constants of a drive (timing.md §6, §9): defaults a profile may change.
struct DriveProfile {
    int64_t settle_ns = 15 * kNsPerMs;    // IDs unreadable this long after the last step
    int64_t spin_up_ns = 300 * kNsPerMs;  // motor on → index pulses and IDs
    int64_t no_motion_seek_ns = 10'000;   // SEEK/RECALIBRATE that issues no step
    int64_t index_pulse_ns = 2 * kNsPerMs;
    friend bool operator==(const DriveProfile &, const DriveProfile &) = default;
};

// Controller-internal latencies (timing.md §9).
inline constexpr int64_t kResetToPollNs = 250'000;
inline constexpr int64_t kFastReadIdNs = 20 * kNsPerMs;
inline constexpr unsigned kRecalibrateStepLimit = 79;
// FIFO service: the host must be done this long before the byte that would overrun (timing.md
// §8: threshold × 8 / rate − 1.5 µs).
inline constexpr int64_t kFifoSetupNs = 1'500;

uint32_t data_rate_bps(DataRate rate);
// k = 500 kbit/s ÷ rate, as a fraction num/den, for the SPECIFY delays.
int64_t step_ns(uint8_t srt, DataRate rate);
int64_t head_load_ns(uint8_t hlt, DataRate rate);
int64_t head_unload_ns(uint8_t hut, DataRate rate);
int64_t revolution_ns(uint16_t rpm);

// Where things are on one track, in bytes from the index, and how bytes convert to time.
// A track whose sectors do not fit in one revolution (XDF-size, DMF at 1.72M) is squeezed:
// gap 3 becomes 0 and the byte clock is scaled so the layout fills exactly one revolution.
struct TrackLayout {
    static constexpr uint32_t kPreamble = 146;  // gap 4a, sync, IAM, gap 1
    static constexpr uint32_t kIdField = 22;    // sync, IDAM, C H R N, CRC
    uint32_t gap2 = 22;
    uint32_t gap3 = 0;
    uint32_t sectors = 0;
    int64_t ns_num = 0, ns_den = 1;  // ns per byte = ns_num / ns_den

    uint32_t slot() const { return kIdField + gap2 + 16 + 512 + 2 + gap3; }
    // Byte offset, from the index, where sector k (1-based, physical order) begins (its sync).
    uint32_t sector_start(unsigned k) const { return kPreamble + (k - 1) * slot(); }
    // From a sector's start to its first data byte, and to the end of its data CRC.
    uint32_t data_offset() const { return kIdField + gap2 + 16; }
    uint32_t sector_end_offset() const { return data_offset() + 512 + 2; }
    int64_t ns(int64_t bytes) const { return bytes * ns_num / ns_den; }
    friend bool operator==(const TrackLayout &, const TrackLayout &) = default;
};

// Layout of a track of `geometry` read at its own rate and rpm. `format_gap3` is the gap the
// track was formatted with (0: the standard one for the format, timing.md §3).
TrackLayout track_layout(const Geometry &geometry, uint8_t format_gap3 = 0);

}  // namespace fdplug::floppy
