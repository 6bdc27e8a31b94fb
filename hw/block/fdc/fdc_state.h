// The whole state of the 82077AA model as plain structs: the controller (registers, FIFO and
// stream, phases, command and result bytes, the data command's execution, background seeks,
// the interrupt status queue, the reset poll, the pins and the timer as last driven) and, per
// drive, its mechanics and the identity of the medium in it.
//
// The controller keeps its live state in a ControllerState and each FloppyDrive its
// DriveMechanics; Fdc82077::state() gathers them into one FdcState and Fdc82077::load_state()
// validates an FdcState and applies it. No serialisation here: the versioned wire format is
// hw/block/state/fdc_state_format.h.
//
// Time. Live, every instant is absolute on the host's virtual clock. In an FdcState that
// state() returned, every instant is RELATIVE to the clock at that moment (0 = then), so a state
// loads into a host whose clock reads something else: load_state() adds the new clock. Two
// sentinels survive the conversion unchanged: kNever (no deadline) and kLongAgo (further back
// than anything matters: a head that never stepped or was unloaded).
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>

#include "hw/block/fdc/fdc_commands.h"
#include "hw/block/fdc/fdc_timing.h"
#include "hw/block/media/floppy_geometry.h"

namespace fdplug::floppy {

// Register personality selected by the IDENT/MFM straps (docs/hardware/82077aa.md §1).
enum class FdcMode : uint8_t { At, Ps2, Model30 };

// When a data command seeks to its cylinder by itself.
enum class ImpliedSeek : uint8_t {
    Configure,  // only when CONFIGURE set EIS (the datasheet)
    Always,     // always, as Bochs' and QEMU's controllers do; Bochs' own BIOS relies on it
};

struct FdcConfig {
    FdcMode mode = FdcMode::At;
    TimingPolicy timing = TimingPolicy::Accurate;
    ImpliedSeek implied_seek = ImpliedSeek::Configure;
    friend bool operator==(const FdcConfig &, const FdcConfig &) = default;
};

// "Further back than anything the model compares with": a head that never stepped, a head that
// is unloaded. Half of INT64_MIN so that adding a settle or unload time cannot overflow.
inline constexpr int64_t kLongAgo = INT64_MIN / 2;

enum class FdcPhase : uint8_t { Command, Execution, Result };
// Where a data command is in its execution.
enum class ExecStep : uint8_t {
    WaitDrive,
    ImpliedSeek,
    HeadLoad,
    Search,
    Transfer,
    WaitIndex,
    Finish
};

// One sector's data between the disk and the host, paced by the byte clock of the track
// (zero under the fast policy). Reads fill it from the disk, writes drain it to the disk.
struct StreamState {
    // The largest data field a track holds: N = 7, 16 KiB (docs/hardware/82077aa.md §5.1).
    static constexpr uint16_t kBufferSize = kMaxSectorBytes;
    bool to_host = true;
    bool host_side = true;  // false: no data phase with the host (VERIFY)
    uint16_t len = 0;       // ≤ kBufferSize (FORMAT: 4, the sector's ID)
    uint16_t moved = 0;     // bytes the host has taken (read) or given (write), ≤ len
    // Instant: the first data byte is on the disk. Under the fast policy, where bytes take no
    // time: the sector was found or the host last moved a byte (the PIO service window's start).
    int64_t t0 = 0;
    int64_t ns_num = 0, ns_den = 1;  // byte time; 0/1 under the fast policy
    // The host is serving a request: it holds until the FIFO is empty (reads) or full
    // (writes), although the level has left the trigger point (docs/hardware/82077aa.md §7).
    bool burst = false;
    // Past len the core stores only zeros. A loaded state keeps what its blob holds there (a
    // load must read back unchanged): bytes in bounds that never reach a medium.
    std::array<uint8_t, kBufferSize> buf{};
    friend bool operator==(const StreamState &, const StreamState &) = default;

    // The stream of the next sector or command: StreamState{} for every stream the core made,
    // since clearing the len bytes in use clears its buffer. Assigning StreamState{} built and
    // copied all 16 KiB, twice per sector, which made a fast whole-disk read six times slower
    // (docs/performance.md).
    void reset() {
        std::fill_n(buf.begin(), len, uint8_t{0});
        to_host = host_side = true;
        len = moved = 0;
        t0 = ns_num = 0;
        ns_den = 1;
        burst = false;
    }
};

// A SEEK / RELATIVE SEEK / RECALIBRATE running on one drive after its command phase.
struct SeekState {
    bool active = false;
    bool recalibrate = false;
    bool inward = false;
    uint8_t target = 0;     // PCN when done
    uint16_t steps = 0;     // pulses to issue
    bool fail = false;      // EC at the end (recalibrate limit, relative seek past 0)
    int64_t start = 0;      // instant: the command's last byte
    int64_t step_ns = 0;    // duration of one pulse (SRT at the rate of the start)
    int64_t done = kNever;  // deadline
    friend bool operator==(const SeekState &, const SeekState &) = default;
};

// The data command in its execution phase (and, after it, what it left behind).
struct ExecState {
    Command cmd = Command::Invalid;
    ExecStep step = ExecStep::Finish;
    uint8_t unit = 0, hds = 0;
    uint8_t c = 0, h = 0, r = 0, n = 0, eot = 0, gpl = 0, dtl = 0;
    bool mt = false, mfm = false, sk = false;
    uint8_t st1 = 0, st2 = 0;
    // The current sector's place on its track (physical order from the index, 0-based) while
    // its data streams: IDs need not be in order nor unique, so R does not say which it is.
    uint8_t index = 0;
    bool seeked = false;  // an implied seek ran (SE in ST0)
    bool tc = false;
    uint16_t count = 0;           // sectors done (VERIFY EC, FORMAT)
    uint16_t limit = 0;           // VERIFY EC sector count / FORMAT SC
    int64_t due = kNever;         // deadline of the current step
    int64_t search_from = 0;      // instant: when the current search began
    int64_t give_up = kNever;     // deadline: the second index pulse
    int64_t sector_end = kNever;  // deadline: the current sector's data CRC has passed
    bool scan_hit = false;
    uint8_t fill = 0;  // FORMAT fill byte
    // FORMAT on a track medium: the C H R N the host gave for each sector so far, laid down
    // together after the last one (a sector image writes each sector as its ID comes).
    std::array<uint8_t, 4 * kMaxSectorsPerTrack> format_ids{};
    TrackLayout layout{};  // of the track being searched (default until the search)
    StreamState stream{};
    friend bool operator==(const ExecState &, const ExecState &) = default;
};

// Everything of the controller except its drives.
struct ControllerState {
    static constexpr unsigned kUnits = 4;
    // Registers
    uint8_t dor = 0x0C, tdr = 0, dsr = 0, ccr_noprec = 0;
    uint8_t srt = 0, hut = 0, hlt = 0;
    bool nd = false;
    bool eis = false, efifo = true, poll_off = false;
    uint8_t fifothr = 0, pretrk = 0;
    bool lock = false;
    uint8_t perp_drives = 0, perp_gap_wgate = 0;
    uint8_t last_eot = 0;
    std::array<uint8_t, kUnits> pcn{};

    // Command / result
    FdcPhase phase = FdcPhase::Command;
    std::array<uint8_t, kMaxCommandBytes> cmd{};
    uint8_t cmd_len = 0;
    std::array<uint8_t, kMaxResultBytes> res{};
    uint8_t res_len = 0, res_pos = 0;

    // Interrupt sources
    bool result_int = false;  // data command result phase: until the last result byte
    bool status_int = false;  // seek end / polling: until SENSE INTERRUPT
    std::array<uint8_t, kUnits> status_queue{};  // units with a pending SIS status, in order
    std::array<uint8_t, kUnits> status_st0{};
    uint8_t status_count = 0;
    int64_t poll_due = kNever;  // deadline: the reset poll

    std::array<SeekState, kUnits> seeks{};
    ExecState exec{};
    bool exec_active = false;

    // The pins and the host timer as last driven (not recomputed on load: restored as they
    // were, so that the host sees no edge the uninterrupted run would not have had).
    bool irq_out = false, drq_out = false;
    int64_t armed = kNever;  // deadline the host timer holds
    friend bool operator==(const ControllerState &, const ControllerState &) = default;
};

// One drive's moving parts and latches.
struct DriveMechanics {
    bool changed = true;   // disk-change latch
    uint8_t cylinder = 0;  // head position (physical track)
    bool motor_on = false;
    int64_t motor_on_since = 0;         // instant the motor line last went on
    int64_t last_step = kLongAgo;       // instant of the last step pulse (or kLongAgo)
    int64_t head_unload_at = kLongAgo;  // head loaded until then (kNever: during a command)
    // For the fast policy: which sector READ ID reported last, so that consecutive READ IDs
    // count up like a turning disk.
    uint8_t last_read_id = 0;
    friend bool operator==(const DriveMechanics &, const DriveMechanics &) = default;
};

// Which medium a drive holds, so that a state is never loaded over another medium. The
// fingerprint is a 64-bit FNV-1a hash of every sector the guest can read, in LBA order
// (docs/state.md says why content and not size + mtime).
struct MediaIdentity {
    bool present = false;
    std::string source;  // informational: the path it was opened from
    Geometry geometry{};
    bool read_only = false;
    uint64_t size = 0;         // bytes the guest sees (geometry size)
    uint64_t fingerprint = 0;  // 0 until Fdc82077::save_state() computes it
    friend bool operator==(const MediaIdentity &, const MediaIdentity &) = default;
};

struct DriveState {
    // Configuration, recorded so that a load refuses a drive of another kind.
    DriveType type = DriveType::None;
    DriveProfile profile{};
    DriveMechanics mech{};
    MediaIdentity media{};
    friend bool operator==(const DriveState &, const DriveState &) = default;
};

struct FdcState {
    FdcConfig config{};  // recorded: a load refuses another configuration
    ControllerState ctrl{};
    std::array<DriveState, ControllerState::kUnits> drives{};
    friend bool operator==(const FdcState &, const FdcState &) = default;
};

// What an instant field may hold besides a finite time.
enum class TimeForm : uint8_t {
    Instant,           // finite only
    Deadline,          // finite or kNever
    InstantOrLongAgo,  // finite or kLongAgo
    Any,               // finite, kNever or kLongAgo
};

// Relative instants stay within ±kMaxRelativeNs (about 73 years) of the clock; load_state()
// refuses a clock beyond kMaxClockNs, so absolute instants can never overflow.
inline constexpr int64_t kMaxRelativeNs = int64_t(1) << 61;
inline constexpr int64_t kMaxClockNs = int64_t(1) << 61;

// Calls f(name, index, value, form) for every instant of the state; `index` is the seek or
// drive number that replaces the "[]" in the name, or -1. The one list of which fields are
// instants; state() and load_state() convert through it, and the wire format's table agrees with it
// (a unit test checks).
template <typename State, typename F>
void for_each_instant(State &s, F &&f) {
    f("ctrl.poll_due", -1, s.ctrl.poll_due, TimeForm::Deadline);
    f("ctrl.armed", -1, s.ctrl.armed, TimeForm::Deadline);
    for (int u = 0; u < int(ControllerState::kUnits); ++u) {
        f("ctrl.seeks[].start", u, s.ctrl.seeks[u].start, TimeForm::Instant);
        f("ctrl.seeks[].done", u, s.ctrl.seeks[u].done, TimeForm::Deadline);
    }
    f("ctrl.exec.due", -1, s.ctrl.exec.due, TimeForm::Deadline);
    f("ctrl.exec.search_from", -1, s.ctrl.exec.search_from, TimeForm::Instant);
    f("ctrl.exec.give_up", -1, s.ctrl.exec.give_up, TimeForm::Deadline);
    f("ctrl.exec.sector_end", -1, s.ctrl.exec.sector_end, TimeForm::Deadline);
    f("ctrl.exec.stream.t0", -1, s.ctrl.exec.stream.t0, TimeForm::Instant);
    for (int u = 0; u < int(ControllerState::kUnits); ++u) {
        f("drives[].mech.motor_on_since", u, s.drives[u].mech.motor_on_since, TimeForm::Instant);
        f("drives[].mech.last_step", u, s.drives[u].mech.last_step, TimeForm::InstantOrLongAgo);
        f("drives[].mech.head_unload_at", u, s.drives[u].mech.head_unload_at, TimeForm::Any);
    }
}

// Whether a RELATIVE instant is well-formed for its form.
bool relative_instant_ok(int64_t rel, TimeForm form);

}  // namespace fdplug::floppy
