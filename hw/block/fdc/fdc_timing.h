// Every delay the floppy subsystem applies, computed in one place: data-rate byte times, the
// IBM System 34 track layout, rotation, the SPECIFY step/head-load/head-unload delays, and the
// timing policy (class Timing) through which the controller asks for each of them.
// Reference: docs/hardware/timing.md. Under TimingPolicy::Fast every delay is zero except
// READ ID, which keeps QEMU's 20 ms.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "hw/block/fdc/fdc_sector.h"
#include "hw/block/media/floppy_geometry.h"
#include "hw/block/media/track.h"

namespace fdplug::floppy {

enum class TimingPolicy : uint8_t { Accurate, Fast };

inline constexpr int64_t kNsPerMs = 1'000'000;
inline constexpr int64_t kNever = INT64_MAX;

// Mechanical constants of a drive (docs/hardware/timing.md §6, §9): defaults a profile may change.
struct DriveProfile {
    int64_t settle_ns = 15 * kNsPerMs;    // IDs unreadable this long after the last step
    int64_t spin_up_ns = 300 * kNsPerMs;  // motor on → index pulses and IDs
    int64_t no_motion_seek_ns = 10'000;   // SEEK/RECALIBRATE that issues no step
    int64_t index_pulse_ns = 2 * kNsPerMs;
    friend bool operator==(const DriveProfile &, const DriveProfile &) = default;
};

// Controller-internal latencies (docs/hardware/timing.md §9).
inline constexpr int64_t kResetToPollNs = 250'000;
inline constexpr int64_t kFastReadIdNs = 20 * kNsPerMs;
inline constexpr unsigned kRecalibrateStepLimit = 79;
// FIFO service: the host must be done this long before the byte that would overrun
// (docs/hardware/timing.md §8: threshold × 8 / rate − 1.5 µs).
inline constexpr int64_t kFifoSetupNs = 1'500;

uint32_t data_rate_bps(DataRate rate);
// k = 500 kbit/s ÷ rate, as a fraction num/den, for the SPECIFY delays.
int64_t step_ns(uint8_t srt, DataRate rate);
int64_t head_load_ns(uint8_t hlt, DataRate rate);
int64_t head_unload_ns(uint8_t hut, DataRate rate);
int64_t revolution_ns(uint16_t rpm);

// Time per byte: ns_num / ns_den ns. {0, 1} stands still: under the fast policy bytes take no
// time.
struct ByteClock {
    int64_t ns_num = 0, ns_den = 1;
    int64_t ns(int64_t bytes) const { return bytes * ns_num / ns_den; }
};

// Where things are on one track, in bytes from the index, and how bytes convert to time.
// Sectors follow each other in physical order, each with the data field its size code gives
// (all 512 bytes on a sector image; whatever the track holds on track media).
// A track whose sectors do not fit in one revolution (XDF-size, DMF at 1.72M) is squeezed:
// gap 3 becomes 0 and the byte clock is scaled so the layout fills exactly one revolution.
struct TrackLayout {
    static constexpr uint32_t kPreamble = 146;  // gap 4a, sync, IAM, gap 1
    static constexpr uint32_t kSync = 12;       // the 00 bytes before each address mark
    static constexpr uint32_t kMark = 4;        // an address mark: A1 A1 A1 and its type byte
    static constexpr uint32_t kCrc = 2;
    static constexpr uint32_t kIdField = kSync + kMark + 4 + kCrc;  // sync, IDAM, C H R N, CRC
    uint32_t gap2 = 22;
    uint32_t gap3 = 0;
    uint32_t sectors = 0;
    int64_t ns_num = 0, ns_den = 1;  // ns per byte = ns_num / ns_den
    // The data field of sector k (1-based, physical order) holds 128 << size_codes[k - 1] bytes.
    std::array<uint8_t, kMaxSectorsPerTrack> size_codes{};

    // Sector k's bytes from its sync to the end of its gap 3.
    uint32_t slot(unsigned k) const { return sector_end_offset(k) + gap3; }
    // Byte offset, from the index, where sector k (1-based, physical order) begins (its sync).
    uint32_t sector_start(unsigned k) const;
    // From a sector's start to the C of its ID, to its first data byte, and to the end of its
    // data CRC.
    static constexpr uint32_t id_offset() { return kSync + kMark; }
    uint32_t data_offset() const { return kIdField + gap2 + kSync + kMark; }
    uint32_t sector_end_offset(unsigned k) const {
        return data_offset() + sector_bytes(size_codes[(k - 1) % kMaxSectorsPerTrack]) + kCrc;
    }
    // From the index to the end of the last sector's gap 3.
    uint32_t used_bytes() const { return sector_start(sectors + 1); }
    ByteClock clock() const { return {ns_num, ns_den}; }
    int64_t ns(int64_t bytes) const { return clock().ns(bytes); }
    friend bool operator==(const TrackLayout &, const TrackLayout &) = default;
};

// What a layout is built from: the data field sizes in physical order, the track's rate, the
// spindle speed, gap 2's kind and the gap 3 it was formatted with (0: the standard one for
// the rate and speed, docs/hardware/timing.md §3).
struct TrackShape {
    std::span<const uint8_t> size_codes;
    DataRate rate = DataRate::k500;
    bool fm = false;  // FM: half the bits of MFM per byte, so bytes take twice as long
    uint16_t rpm = 300;
    bool perpendicular = false;
    uint8_t gap3 = 0;
};
TrackLayout track_layout(const TrackShape &shape);
// Layout of a track of `geometry` (SPT sectors of 512 bytes) read at its own rate and rpm.
TrackLayout track_layout(const Geometry &geometry, uint8_t format_gap3 = 0);

class FloppyDrive;

// The timing policy: what the controller asks each time something takes time or waits for the
// disk to turn. TimingPolicy::Accurate answers from the drive's mechanics and the track layout
// (docs/hardware/timing.md); TimingPolicy::Fast answers "now" to nearly everything, as QEMU does,
// so that a guest never waits: no mechanical delays, no rotation, no byte clock, no motor to wait
// for, no overrun by a disk that runs ahead; only a PIO host that stops serving loses its data
// (after the service window, from its last service). Stateless: one instance per policy.
class Timing {
  public:
    virtual ~Timing() = default;

    // --- mechanics
    // From the end of a reset to its polling interrupt.
    virtual int64_t reset_to_poll_ns() const = 0;
    // A seek of `steps` pulses `step_ns` apart (none: the drive still answers after a moment).
    virtual int64_t seek_ns(unsigned steps, int64_t step_ns, const DriveProfile &drive) const = 0;
    virtual int64_t head_load_ns(uint8_t hlt, DataRate rate) const = 0;
    virtual int64_t head_unload_ns(uint8_t hut, DataRate rate) const = 0;

    // --- rotation: what a search waits for. The drive holds a medium.
    // The first instant from `t` at which the head reads the track: the disk turns at speed and
    // the head has settled after its last step. kNever while the spindle stands still (the motor
    // gate): the search waits for DOR to start it.
    virtual int64_t readable_from(const FloppyDrive &drive, int64_t t) const = 0;
    // When a search reading from `from` gives up: at the second index pulse. kNever: not by
    // time; a search then finds what it looks for at once or fails at once.
    virtual int64_t search_gives_up(const FloppyDrive &drive, int64_t from) const = 0;
    // The next index pulse from `from`.
    virtual int64_t index_passes(const FloppyDrive &drive, int64_t from) const = 0;
    // Where the next ID of sector `k` (physical order) that a controller listening from `from`
    // catches begins.
    virtual int64_t id_passes(const FloppyDrive &drive, const TrackLayout &track, unsigned k,
                              int64_t from) const = 0;
    // Where sector k's ID begins after the index pulse at `index`, for a controller that goes on
    // from there at `now` (FORMAT and READ TRACK work in physical order from the index).
    virtual int64_t id_after_index(const TrackLayout &track, int64_t index, unsigned k,
                                   int64_t now) const = 0;
    // READ ID listening from `from`: the ID it reads, and when that ID has passed.
    struct IdRead {
        unsigned sector;  // physical order, from 1
        int64_t done;
    };
    virtual IdRead next_id(FloppyDrive &drive, const TrackLayout &track, int64_t from) const = 0;

    // --- the data stream of one sector
    virtual ByteClock byte_clock(const TrackLayout &track) const = 0;
    // Whether a host that falls behind the disk loses the sector (overrun, OR); if not, the
    // disk waits for the host, except that a PIO host that stops serving still overruns after
    // the service window (Fdc82077::fast_overrun_at, docs/hardware/timing.md §8).
    virtual bool overruns() const = 0;

    // The part of a sector whose ID begins at `id` that passes through the FIFO: the data field
    // (reads and writes), or the ID's C H R N up to the next sector's ID (FORMAT).
    struct Field {
        int64_t first_byte;  // the first byte is under the head
        int64_t end;         // the field (its CRC, for data) has passed
        ByteClock clock;
    };
    // `k`: the sector, 1-based in physical order.
    Field data_field(const TrackLayout &track, unsigned k, int64_t id) const;
    Field id_field(const TrackLayout &track, unsigned k, int64_t id) const;
};

const Timing &timing_policy(TimingPolicy policy);

}  // namespace fdplug::floppy
