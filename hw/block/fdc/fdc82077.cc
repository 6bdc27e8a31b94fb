#include "hw/block/fdc/fdc82077.h"

#include <algorithm>
#include <cstdlib>

#include "hw/block/media/floppy_formats.h"

namespace fdplug::floppy {

namespace {
// MSR bits
constexpr uint8_t kRqm = 0x80, kDio = 0x40, kNonDma = 0x20, kCb = 0x10;
// ST0
constexpr uint8_t kIcAbnormal = 0x40, kIcInvalid = 0x80, kIcPolling = 0xC0, kSe = 0x20, kEc = 0x10;
// ST1
constexpr uint8_t kEn = 0x80, kDe = 0x20, kOr = 0x10, kNd = 0x04, kNw = 0x02, kMa = 0x01;
// ST2
constexpr uint8_t kCm = 0x40, kDd = 0x20, kWc = 0x10, kSh = 0x08, kSn = 0x04;
// ST3
constexpr uint8_t kWp = 0x40, kSt3One = 0x20, kT0 = 0x10, kTwoSide = 0x08;

int64_t next_pass(int64_t origin, int64_t rev, int64_t offset, int64_t not_before) {
    // Smallest origin + k·rev + offset (k ≥ 0) that is ≥ not_before.
    const int64_t first = origin + offset;
    if (not_before <= first) return first;
    const int64_t k = (not_before - first + rev - 1) / rev;
    return first + k * rev;
}
}  // namespace

Fdc82077::Fdc82077(FdcHost &host, FdcConfig config) : host_(host), config_(config) {
    hardware_reset();
}

// ---------------------------------------------------------------------------------------------
// Reset

void Fdc82077::hardware_reset() {
    s_.exec_active = false;
    s_.phase = Phase::Command;
    s_.cmd_len = 0;
    s_.res_len = s_.res_pos = 0;
    s_.dor = 0x0C;  // firmware state, not the chip's 0x00 (Δ3)
    s_.tdr = 0;
    s_.dsr = 0;  // 500 kbit/s (Δ7)
    s_.ccr_noprec = 0;
    s_.srt = s_.hut = s_.hlt = 0;
    s_.nd = false;
    s_.eis = false;
    s_.efifo = true;
    s_.poll_off = false;
    s_.fifothr = 0;
    s_.pretrk = 0;
    s_.lock = false;
    s_.perp_drives = s_.perp_gap_wgate = 0;
    s_.last_eot = 0;
    s_.pcn.fill(0);
    s_.result_int = s_.status_int = false;
    s_.status_count = 0;
    s_.poll_due = kNever;
    for (Seek &s : s_.seeks) s = Seek{};
    // The drives stay powered through a machine reset: heads and change latches keep their
    // state; only the motor lines drop with DOR.
    const int64_t now = host_.now_ns();
    for (FloppyDrive &d : drives_) {
        d.set_motor(false, now);
        d.unload_head();
    }
    update_outputs();
}

void Fdc82077::enter_reset() {
    s_.exec_active = false;
    s_.phase = Phase::Command;
    s_.cmd_len = 0;
    s_.res_len = s_.res_pos = 0;
    s_.result_int = s_.status_int = false;
    s_.status_count = 0;
    s_.poll_due = kNever;
    for (Seek &s : s_.seeks) s = Seek{};
    // CONFIGURE defaults, except what LOCK protects (82077aa.md §8).
    s_.eis = false;
    s_.poll_off = false;
    if (!s_.lock) {
        s_.efifo = true;
        s_.fifothr = 0;
        s_.pretrk = 0;
    }
    s_.perp_gap_wgate = 0;
}

void Fdc82077::leave_reset() {
    s_.poll_due = fast() ? host_.now_ns() : host_.now_ns() + kResetToPollNs;
}

void Fdc82077::software_reset() {
    enter_reset();
    leave_reset();
}

void Fdc82077::poll_drives() {
    s_.poll_due = kNever;
    if (s_.poll_off || in_reset()) return;
    // A PC drive is always ready, so every unit reports a ready change (IC=11).
    for (unsigned u = 0; u < kUnits; ++u) push_interrupt_status(u, uint8_t(kIcPolling | u));
}

// ---------------------------------------------------------------------------------------------
// Registers

uint8_t Fdc82077::msr() const {
    if (in_reset()) return 0x00;
    uint8_t busy_bits = 0;
    for (unsigned u = 0; u < kUnits; ++u) {
        if (s_.seeks[u].active) busy_bits |= uint8_t(1u << u);
    }
    for (unsigned i = 0; i < s_.status_count; ++i)
        if (s_.status_st0[i] & kSe) busy_bits |= uint8_t(1u << s_.status_queue[i]);
    switch (s_.phase) {
        case Phase::Command:
            return uint8_t(kRqm | (s_.cmd_len ? kCb : 0) | busy_bits);
        case Phase::Result:
            return uint8_t(kRqm | kDio | kCb | busy_bits);
        case Phase::Execution:
            break;
    }
    if (!pio_execution()) return uint8_t(kCb | busy_bits);
    const int64_t now = host_.now_ns();
    const bool reading = s_.exec.stream.to_host;
    const bool ready = stream_host_room(now) > 0;
    return uint8_t((ready ? kRqm : 0) | (reading ? kDio : 0) | kNonDma | kCb | busy_bits);
}

uint8_t Fdc82077::read(unsigned offset) {
    offset &= 7;
    const FloppyDrive &sel = drives_[s_.dor & 3];
    switch (offset) {
        case kSra: {
            if (config_.mode == FdcMode::At) return 0xFF;
            const bool idx = sel.index_pulse(host_.now_ns());
            if (config_.mode == FdcMode::Ps2) {
                return uint8_t((s_.irq_out ? 0x80 : 0) | (drives_[1].present() ? 0 : 0x40) |
                               (sel.track0() ? 0 : 0x10) | (idx ? 0 : 0x04) |
                               (sel.write_protected() ? 0 : 0x02));
            }
            return uint8_t((s_.irq_out ? 0x80 : 0) | (s_.drq_out ? 0x40 : 0) |
                           (sel.track0() ? 0x10 : 0) | 0x08 | (idx ? 0x04 : 0) |
                           (sel.write_protected() ? 0x02 : 0) | 0x01);
        }
        case kSrb: {
            if (config_.mode == FdcMode::At) return 0xFF;
            if (config_.mode == FdcMode::Ps2)
                return uint8_t(0xC0 | ((s_.dor & 1) ? 0x20 : 0) | ((s_.dor & 0x20) ? 0x02 : 0) |
                               ((s_.dor & 0x10) ? 0x01 : 0));
            const unsigned ds = s_.dor & 3;
            return uint8_t((drives_[1].present() ? 0 : 0x80) | (ds == 1 ? 0 : 0x40) |
                           (ds == 0 ? 0 : 0x20) | (ds == 3 ? 0 : 0x02) | (ds == 2 ? 0 : 0x01));
        }
        case kDor:
            return s_.dor;
        case kTdr:
            return uint8_t(0xFC |
                           (s_.tdr & 3));  // bits 7–2 are not driven: the ISA bus floats high
        case kMsr:
            return msr();
        case kFifo: {
            if (in_reset()) break;
            if (s_.phase == Phase::Result) {
                const uint8_t v = s_.res[s_.res_pos % kMaxResultBytes];
                if (++s_.res_pos >= s_.res_len) {
                    s_.phase = Phase::Command;
                    s_.cmd_len = 0;
                    s_.result_int = false;
                }
                update_outputs();
                return v;
            }
            if (s_.phase == Phase::Execution && pio_execution() && s_.exec.stream.to_host) {
                const int64_t now = host_.now_ns();
                if (stream_host_room(now) > 0) {
                    Stream &s = s_.exec.stream;
                    const uint8_t v = s.buf[s.moved % s.buf.size()];
                    ++s.moved;
                    stream_served(now);
                    run(now);
                    return v;
                }
            }
            break;
        }
        case kDir: {
            const bool dskchg = sel.disk_changed() || !sel.has_media();
            switch (config_.mode) {
                case FdcMode::At:
                    return dskchg ? 0x80 : 0x00;
                case FdcMode::Ps2: {
                    const bool high = rate() == DataRate::k500 || rate() == DataRate::k1000;
                    return uint8_t((dskchg ? 0x80 : 0) | 0x78 | ((s_.dsr & 3) << 1) |
                                   (high ? 0 : 1));
                }
                case FdcMode::Model30:
                    return uint8_t((dskchg ? 0 : 0x80) | (s_.dor & 0x08) | (s_.ccr_noprec << 2) |
                                   (s_.dsr & 3));
            }
            return 0xFF;
        }
        default:
            return 0xFF;
    }
    observer_->bad_access(offset, false);
    return 0x00;
}

void Fdc82077::write(unsigned offset, uint8_t value) {
    offset &= 7;
    const int64_t now = host_.now_ns();
    switch (offset) {
        case kDor: {
            const uint8_t old = s_.dor;
            s_.dor = value;
            for (unsigned u = 0; u < kUnits; ++u) drives_[u].set_motor(value & (0x10u << u), now);
            // A search waiting for a spindle that was stopped looks again.
            if (s_.exec_active &&
                (s_.exec.step == Step::Search || s_.exec.step == Step::WaitIndex) &&
                s_.exec.due == kNever)
                s_.exec.due = now;
            if ((old & 0x04) && !(value & 0x04)) enter_reset();
            if (!(old & 0x04) && (value & 0x04)) leave_reset();
            break;
        }
        case kTdr:
            s_.tdr = value & 3;
            return;  // nothing run() or the pins depend on
        case kDsr:
            s_.dsr = value & 0x7F;  // bit 7 (software reset) clears itself
            if (value & 0x80)
                software_reset();
            else
                return;
            break;
        case kFifo:
            if (in_reset()) {
                observer_->bad_access(offset, true);
                break;
            }
            if (s_.phase == Phase::Command) {
                accept_command_byte(value);
                break;
            }
            if (s_.phase == Phase::Execution && pio_execution() && !s_.exec.stream.to_host &&
                stream_host_room(now) > 0) {
                Stream &s = s_.exec.stream;
                s.buf[s.moved % s.buf.size()] = value;
                ++s.moved;
                stream_served(now);
                break;
            }
            observer_->bad_access(offset, true);
            break;
        case kCcr:
            s_.dsr = uint8_t((s_.dsr & ~3u) | (value & 3));
            s_.ccr_noprec = (value >> 2) & 1;
            return;
        default:
            observer_->bad_access(offset, true);
            break;
    }
    run(now);
}

// ---------------------------------------------------------------------------------------------
// Command phase

void Fdc82077::accept_command_byte(uint8_t value) {
    // The command being collected is the one its first byte names (fdc_commands.h).
    const CommandInfo &info = decode_command(s_.cmd_len == 0 ? value : s_.cmd[0]);
    if (s_.cmd_len == 0) {
        if (info.command == Command::SenseInterrupt)
            s_.status_int = false;  // INT drops at the opcode
    }
    // The bound comes from the decoded command, never from the guest (VENOM).
    const uint8_t need = std::min<uint8_t>(info.in_bytes, kMaxCommandBytes);
    if (s_.cmd_len < need) s_.cmd[s_.cmd_len++] = value;
    if (s_.cmd_len >= need) start_command();
}

// Command → handler, in the order of enum Command (fdc_commands.h).
const std::array<Fdc82077::Handler, kCommandCount> Fdc82077::kHandlers = {
    &Fdc82077::start_data_command,  // ReadData
    &Fdc82077::start_data_command,  // ReadDeleted
    &Fdc82077::start_data_command,  // WriteData
    &Fdc82077::start_data_command,  // WriteDeleted
    &Fdc82077::start_data_command,  // ReadTrack
    &Fdc82077::start_data_command,  // Verify
    &Fdc82077::start_data_command,  // ScanEqual
    &Fdc82077::start_data_command,  // ScanLowOrEqual
    &Fdc82077::start_data_command,  // ScanHighOrEqual
    &Fdc82077::start_data_command,  // Format
    &Fdc82077::start_data_command,  // ReadId
    &Fdc82077::cmd_seek,            // Recalibrate
    &Fdc82077::cmd_seek,            // Seek
    &Fdc82077::cmd_seek,            // RelativeSeek
    &Fdc82077::cmd_sense_interrupt,
    &Fdc82077::cmd_specify,
    &Fdc82077::cmd_sense_drive,
    &Fdc82077::cmd_configure,
    &Fdc82077::cmd_dumpreg,
    &Fdc82077::cmd_version,
    &Fdc82077::cmd_lock,
    &Fdc82077::cmd_perpendicular,
    &Fdc82077::cmd_invalid,
};

void Fdc82077::start_command() {
    const CommandInfo &info = cmd_info();
    observer_->command_started(s_.cmd[0], info.name);
    (this->*kHandlers[static_cast<size_t>(info.command)])();
}

void Fdc82077::enter_result(std::span<const uint8_t> bytes, bool interrupt) {
    const size_t n = std::min(bytes.size(), s_.res.size());
    std::copy_n(bytes.begin(), n, s_.res.begin());
    s_.res_len = uint8_t(n);
    s_.res_pos = 0;
    s_.exec_active = false;
    if (n == 0) {
        s_.phase = Phase::Command;
        s_.cmd_len = 0;
    } else {
        s_.phase = Phase::Result;
    }
    if (interrupt) s_.result_int = true;
    observer_->result_phase(std::span<const uint8_t>(s_.res.data(), n));
}

// ---------------------------------------------------------------------------------------------
// Register commands

void Fdc82077::cmd_sense_interrupt() {
    if (s_.status_count == 0) {
        const uint8_t r[] = {kIcInvalid};
        enter_result(r, false);
        return;
    }
    const unsigned unit = s_.status_queue[0];
    const uint8_t st0 = s_.status_st0[0];
    for (unsigned i = 1; i < s_.status_count; ++i) {
        s_.status_queue[i - 1] = s_.status_queue[i];
        s_.status_st0[i - 1] = s_.status_st0[i];
    }
    --s_.status_count;
    const uint8_t r[] = {st0, s_.pcn[unit]};
    enter_result(r, false);
}

void Fdc82077::cmd_sense_drive() {
    const unsigned unit = s_.cmd[1] & 3;
    const FloppyDrive &d = drives_[unit];
    const uint8_t st3 = uint8_t((d.write_protected() ? kWp : 0) | kSt3One | (d.track0() ? kT0 : 0) |
                                kTwoSide | (s_.cmd[1] & 7));
    const uint8_t r[] = {st3};
    enter_result(r, false);
}

void Fdc82077::cmd_specify() {
    s_.srt = s_.cmd[1] >> 4;
    s_.hut = s_.cmd[1] & 15;
    s_.hlt = s_.cmd[2] >> 1;
    s_.nd = s_.cmd[2] & 1;
    enter_result({}, false);
}

void Fdc82077::cmd_configure() {
    s_.eis = s_.cmd[2] & 0x40;
    s_.efifo = s_.cmd[2] & 0x20;
    s_.poll_off = s_.cmd[2] & 0x10;
    s_.fifothr = s_.cmd[2] & 15;
    s_.pretrk = s_.cmd[3];
    enter_result({}, false);
}

void Fdc82077::cmd_dumpreg() {
    const uint8_t r[] = {s_.pcn[0],
                         s_.pcn[1],
                         s_.pcn[2],
                         s_.pcn[3],
                         uint8_t(s_.srt << 4 | s_.hut),
                         uint8_t(s_.hlt << 1 | (s_.nd ? 1 : 0)),
                         s_.last_eot,
                         uint8_t((s_.lock ? 0x80 : 0) | (s_.perp_drives << 2) | s_.perp_gap_wgate),
                         uint8_t((s_.eis ? 0x40 : 0) | (s_.efifo ? 0x20 : 0) |
                                 (s_.poll_off ? 0x10 : 0) | s_.fifothr),
                         s_.pretrk};
    enter_result(r, false);
}

void Fdc82077::cmd_version() {
    const uint8_t r[] = {0x90};
    enter_result(r, false);
}

void Fdc82077::cmd_lock() {
    s_.lock = s_.cmd[0] & 0x80;
    const uint8_t r[] = {uint8_t(s_.lock ? 0x10 : 0x00)};
    enter_result(r, false);
}

void Fdc82077::cmd_perpendicular() {
    if (s_.cmd[1] & 0x80) s_.perp_drives = (s_.cmd[1] >> 2) & 15;
    s_.perp_gap_wgate = s_.cmd[1] & 3;
    enter_result({}, false);
}

// SEEK, RELATIVE SEEK and RECALIBRATE end their command phase at once and run on the drive.
void Fdc82077::cmd_seek() {
    start_seek(s_.cmd[1] & 3, cmd_info().command);
    s_.cmd_len = 0;
    s_.phase = Phase::Command;
}

void Fdc82077::cmd_invalid() {
    const uint8_t r[] = {kIcInvalid};
    enter_result(r, false);
}

// ---------------------------------------------------------------------------------------------
// Seeks: they run on the drive in the background after the command phase.

void Fdc82077::start_seek(unsigned unit, Command cmd) {
    const int64_t now = host_.now_ns();
    FloppyDrive &d = drives_[unit];
    Seek &s = s_.seeks[unit];
    // A seek that replaces a running one keeps the pulses already issued.
    if (s.active && s.step_ns > 0) {
        const int64_t issued = std::min<int64_t>(s.steps, (now - s.start) / s.step_ns);
        for (int64_t i = 0; i < issued; ++i) d.step(s.inward, s.start + (i + 1) * s.step_ns);
        const int delta = int(issued) * (s.inward ? 1 : -1);
        s_.pcn[unit] = uint8_t(std::clamp(int(s_.pcn[unit]) + delta, 0, 255));
    }
    s = Seek{};
    s.active = true;
    s.start = now;
    s.step_ns = step_ns(s_.srt, rate());
    switch (cmd) {
        case Command::Recalibrate: {
            s.recalibrate = true;
            s.inward = false;
            s.target = 0;
            const unsigned need = d.cylinder();
            s.steps = uint16_t(std::min(need, kRecalibrateStepLimit));
            s.fail = need > kRecalibrateStepLimit;
            if (s.fail)
                s.target = uint8_t(std::max(0, int(s_.pcn[unit]) - int(kRecalibrateStepLimit)));
            break;
        }
        case Command::Seek: {
            const uint8_t ncn = s_.cmd[2];
            s.inward = ncn > s_.pcn[unit];
            s.steps = uint16_t(s.inward ? ncn - s_.pcn[unit] : s_.pcn[unit] - ncn);
            s.target = ncn;
            break;
        }
        default: {  // RELATIVE SEEK: DIR is opcode bit 6
            const uint8_t rcn = s_.cmd[2];
            s.inward = s_.cmd[0] & 0x40;
            if (s.inward) {
                s.steps = rcn;
                s.target = uint8_t(std::min(255, s_.pcn[unit] + rcn));
            } else if (rcn > s_.pcn[unit]) {
                s.steps = rcn;  // the drive stops at track 0; the controller reports EC
                s.target = 0;
                s.fail = true;
            } else {
                s.steps = rcn;
                s.target = uint8_t(s_.pcn[unit] - rcn);
            }
            break;
        }
    }
    if (fast())
        s.done = now;
    else if (s.steps == 0)
        s.done = now + d.profile().no_motion_seek_ns;
    else
        s.done = now + int64_t(s.steps) * s.step_ns;
}

void Fdc82077::finish_seek(unsigned unit) {
    Seek &s = s_.seeks[unit];
    FloppyDrive &d = drives_[unit];
    for (unsigned i = 0; i < s.steps; ++i) d.step(s.inward, s.start + int64_t(i + 1) * s.step_ns);
    s_.pcn[unit] = s.target;
    const bool fail = s.fail || (s.recalibrate && !d.track0());
    s.active = false;
    s.done = kNever;
    push_interrupt_status(unit, uint8_t((fail ? kIcAbnormal | kEc : 0) | kSe | unit));
    observer_->seek_done(unit, s_.pcn[unit]);
}

void Fdc82077::push_interrupt_status(unsigned unit, uint8_t st0) {
    // One pending status per drive: a newer one replaces it.
    unsigned i = 0;
    while (i < s_.status_count && s_.status_queue[i] != unit) ++i;
    if (i == s_.status_count) {
        if (s_.status_count >= kUnits) return;
        ++s_.status_count;
    }
    s_.status_queue[i] = uint8_t(unit);
    s_.status_st0[i] = st0;
    s_.status_int = true;
}

// ---------------------------------------------------------------------------------------------
// Data commands

bool Fdc82077::exec_is_write() const {
    switch (s_.exec.cmd) {
        case Command::WriteData:
        case Command::WriteDeleted:
        case Command::Format:
            return true;
        default:
            return false;
    }
}

bool Fdc82077::exec_moves_host_data() const {
    return s_.exec.cmd != Command::Verify && s_.exec.cmd != Command::ReadId;
}

uint8_t Fdc82077::st0_for(uint8_t ic) const {
    return uint8_t(ic | (s_.exec.seeked ? kSe : 0) | ((s_.exec.hds & 1) << 2) | s_.exec.unit);
}

void Fdc82077::start_data_command() {
    s_.exec = Exec{};
    Exec &e = s_.exec;
    e.cmd = cmd_info().command;
    e.unit = s_.cmd[1] & 3;
    e.hds = (s_.cmd[1] >> 2) & 1;
    e.mt = s_.cmd[0] & 0x80;
    e.mfm = s_.cmd[0] & 0x40;
    e.sk = s_.cmd[0] & 0x20;
    if (e.cmd == Command::Format) {
        e.n = s_.cmd[2];
        e.limit = s_.cmd[3];
        e.gpl = s_.cmd[4];
        e.fill = s_.cmd[5];
        e.c = uint8_t(s_.pcn[e.unit]);
        e.h = e.hds;
        s_.last_eot = s_.cmd[3];
    } else if (e.cmd == Command::ReadId) {
        // Until an ID is read, the result names the track under the head (as QEMU does).
        e.c = s_.pcn[e.unit];
        e.h = e.hds;
        e.r = 1;
        e.n = 2;
    } else {
        e.c = s_.cmd[2];
        e.h = s_.cmd[3];
        e.r = s_.cmd[4];
        e.n = s_.cmd[5];
        e.eot = s_.cmd[6];
        e.gpl = s_.cmd[7];
        e.dtl = s_.cmd[8];
        s_.last_eot = e.eot;
        if (e.cmd == Command::Verify && (s_.cmd[1] & 0x80)) e.limit = e.dtl;  // EC: SC sectors
    }
    s_.phase = Phase::Execution;
    s_.exec_active = true;

    FloppyDrive &d = drives_[e.unit];
    // No medium: no index pulses will ever come, so end now (82077aa.md §6.1, Δ22).
    if (!d.has_media()) {
        exec_fail(kMa);
        return;
    }
    const bool reads_ids =
        e.cmd != Command::Format && e.cmd != Command::ReadId && e.cmd != Command::ReadTrack;
    if (reads_ids && e.eot < e.r) {  // EOT below R: nothing to transfer (CVE-2021-3507)
        exec_fail(kMa);
        return;
    }
    if (exec_is_write() && d.write_protected()) {
        exec_fail(kNw);
        return;
    }
    if (e.cmd == Command::Format) {
        const Geometry &g = d.media()->geometry();
        if (e.n != 2 || e.limit == 0 || e.limit > g.sectors) {  // the image cannot hold that track
            exec_fail(kEn);
            return;
        }
    }
    e.step = s_.seeks[e.unit].active ? Step::WaitDrive : Step::ImpliedSeek;
    e.due = host_.now_ns();
    if (e.step == Step::WaitDrive) e.due = kNever;
}

void Fdc82077::exec_fail(uint8_t st1, uint8_t st2) {
    Exec &e = s_.exec;
    const uint8_t r[] = {
        st0_for(kIcAbnormal), uint8_t(e.st1 | st1), uint8_t(e.st2 | st2), e.c, e.h, e.r, e.n};
    drives_[e.unit].load_head_until(host_.now_ns() + (fast() ? 0 : head_unload_ns(s_.hut, rate())));
    enter_result(r, true);
}

void Fdc82077::finish_data_command() {
    Exec &e = s_.exec;
    const uint8_t ic = (e.st1 || (e.st2 & ~(kSh | kSn | kCm))) ? kIcAbnormal : 0;
    const uint8_t r[] = {st0_for(ic), e.st1, e.st2, e.c, e.h, e.r, e.n};
    drives_[e.unit].load_head_until(host_.now_ns() + (fast() ? 0 : head_unload_ns(s_.hut, rate())));
    enter_result(r, true);
}

void Fdc82077::exec_abort_for_media(unsigned unit) {
    if (!s_.exec_active || s_.exec.unit != (unit & 3)) return;
    s_.exec.stream = Stream{};
    exec_fail(kMa);
}

void Fdc82077::insert_media(unsigned unit, std::unique_ptr<DiskImage> media) {
    exec_abort_for_media(unit);
    drives_[unit & 3].insert(std::move(media));
    run(host_.now_ns());
}

std::unique_ptr<DiskImage> Fdc82077::eject_media(unsigned unit) {
    exec_abort_for_media(unit);
    auto m = drives_[unit & 3].eject();
    run(host_.now_ns());
    return m;
}

// Runs the data command's steps that are due at `now`.
void Fdc82077::exec_run(int64_t now) {
    Exec &e = s_.exec;
    FloppyDrive &d = drives_[e.unit];
    switch (e.step) {
        case Step::WaitDrive:
            if (s_.seeks[e.unit].active) return;
            e.step = Step::ImpliedSeek;
            [[fallthrough]];
        case Step::ImpliedSeek: {
            const bool eis = s_.eis || config_.implied_seek == ImpliedSeek::Always;
            const bool seek = eis && e.cmd != Command::Format && e.cmd != Command::ReadId &&
                              e.c != s_.pcn[e.unit];
            if (seek && !e.seeked) {
                const unsigned steps = unsigned(std::abs(int(e.c) - int(s_.pcn[e.unit])));
                const bool inward = e.c > s_.pcn[e.unit];
                const int64_t per = step_ns(s_.srt, rate());
                for (unsigned i = 0; i < steps; ++i)
                    d.step(inward, fast() ? now : now + int64_t(i + 1) * per);
                s_.pcn[e.unit] = e.c;
                e.seeked = true;
                if (!fast()) {
                    e.due = now + int64_t(steps) * per;
                    return;
                }
            } else if (now < e.due) {
                return;
            }
            e.step = Step::HeadLoad;
            e.due = (fast() || d.head_loaded(now)) ? now : now + head_load_ns(s_.hlt, rate());
            if (e.due > now) return;
            [[fallthrough]];
        }
        case Step::HeadLoad:
            if (now < e.due) return;
            d.load_head_until(kNever);  // loaded for the whole execution phase
            exec_begin_search(now);
            return;
        case Step::Search:
        case Step::WaitIndex:
            exec_search(now);
            return;
        case Step::Transfer:
            if (now >= stream_overrun_at()) {
                observer_->overrun(e.unit);
                if (e.cmd == Command::WriteData || e.cmd == Command::WriteDeleted) {
                    // An underrun still completes the sector, padded with 0x00 and a valid CRC
                    // (82077aa.md §7); the command ends there.
                    e.st1 |= kOr;
                    e.stream.host_side = false;
                    return;
                }
                e.stream = Stream{};
                exec_fail(kOr);
                return;
            }
            if (now >= e.sector_end) exec_sector_done(now);
            return;
        case Step::Finish:
            if (now >= e.due) finish_data_command();
            return;
    }
}

void Fdc82077::exec_begin_search(int64_t now) {
    Exec &e = s_.exec;
    e.step =
        (e.cmd == Command::Format || e.cmd == Command::ReadTrack) ? Step::WaitIndex : Step::Search;
    e.search_from = now;
    e.give_up = kNever;
    e.due = now;
    exec_search(now);
}

// Finds when the wanted ID (or index) passes under the head, or when the search gives up.
void Fdc82077::exec_search(int64_t now) {
    Exec &e = s_.exec;
    FloppyDrive &d = drives_[e.unit];
    if (!d.has_media()) {
        exec_fail(kMa);
        return;
    }
    const Geometry &g = d.media()->geometry();
    const int lc = d.logical_cylinder();
    const bool readable = lc >= 0 && e.hds < g.heads && g.rate == rate() && e.mfm;
    e.layout = track_layout(g, e.cmd == Command::Format ? e.gpl : 0);
    const TrackLayout &L = e.layout;

    // Which sector's ID ends the search, and what the search ends with if none does.
    int target = -1;  // sector number (physical order), 0 = the index itself
    uint8_t fail_st1 = kMa, fail_st2 = 0;
    if (readable) {
        switch (e.cmd) {
            case Command::ReadId:
                target = 1;  // refined below from the rotation
                break;
            case Command::Format:
                target = 0;
                break;
            case Command::ReadTrack:
                // From the index, sectors in physical order; IDs are not compared.
                target = e.step == Step::WaitIndex ? 0 : (e.r <= g.sectors ? e.r : -1);
                fail_st1 = kNd;
                break;
            default:
                if (e.c == lc && e.h == e.hds && e.n == 2 && e.r >= 1 && e.r <= g.sectors)
                    target = e.r;
                fail_st1 = kNd;
                if (e.c != lc) fail_st2 = kWc;
                break;
        }
    }

    if (fast()) {
        if (target < 0) {
            exec_fail(fail_st1, fail_st2);
            return;
        }
        if (e.cmd == Command::ReadId) {
            if (e.step != Step::Finish) {
                d.set_last_read_id(uint8_t(d.last_read_id() % g.sectors + 1));
                e.c = uint8_t(lc);
                e.h = e.hds;
                e.r = d.last_read_id();
                e.n = 2;
                e.step = Step::Finish;
                e.due = e.search_from + kFastReadIdNs;
            }
            return;
        }
        if (e.step == Step::WaitIndex && e.cmd == Command::ReadTrack) e.r = 1;
        exec_sector_found(now);
        return;
    }

    const int64_t origin = d.at_speed_ns();
    if (origin == kNever) {  // no rotation, no index pulses: wait for the motor
        e.due = kNever;
        return;
    }
    const int64_t rev = revolution_ns(g.rpm);
    const int64_t from =
        std::max({e.search_from, origin, d.last_step_ns() + d.profile().settle_ns});
    if (e.give_up == kNever) e.give_up = next_pass(origin, rev, 0, from) + rev;
    if (now >= e.give_up) {
        exec_fail(fail_st1, fail_st2);
        return;
    }
    int64_t hit = kNever;
    if (target == 0) {
        hit = next_pass(origin, rev, 0, from);
    } else if (target > 0) {
        // The ID is caught only if the controller is listening before its address mark.
        const int64_t mark = L.ns(12);
        if (e.cmd == Command::ReadId) {
            const int64_t phase = (from - origin) % rev;
            target = 1;
            for (unsigned k = 1; k <= L.sectors; ++k) {
                if (L.ns(L.sector_start(k)) + mark >= phase) {
                    target = int(k);
                    break;
                }
            }
        }
        hit = next_pass(origin, rev, L.ns(L.sector_start(unsigned(target))), from - mark);
        if (e.cmd == Command::ReadId) {
            e.c = uint8_t(lc);
            e.h = e.hds;
            e.r = uint8_t(target);
            e.n = 2;
            e.step = Step::Finish;
            e.due = hit + L.ns(TrackLayout::kIdField);
            exec_run(now);
            return;
        }
    }
    if (hit == kNever || hit >= e.give_up) {
        e.due = e.give_up;
        return;
    }
    if (now < hit) {
        e.due = hit;
        return;
    }
    if (e.step == Step::WaitIndex) {
        // Sector 1 follows the index; FORMAT and READ TRACK work in physical order from here.
        if (e.cmd == Command::ReadTrack) e.r = 1;
        e.step = Step::Search;
        e.search_from = hit;
        e.give_up = hit + rev;  // a second index ends READ TRACK / FORMAT
        exec_sector_found(hit + L.ns(L.sector_start(e.cmd == Command::Format ? e.count + 1 : e.r)));
        return;
    }
    exec_sector_found(hit);
}

// The ID of the current sector starts at t_id (accurate) / now (fast): set up its data stream.
void Fdc82077::exec_sector_found(int64_t t_id) {
    Exec &e = s_.exec;
    FloppyDrive &d = drives_[e.unit];
    DiskImage &m = *d.media();
    const TrackLayout &L = e.layout;
    Stream &s = e.stream;
    s = Stream{};
    s.len = 512;
    s.moved = 0;
    s.to_host = !exec_is_write() && e.cmd != Command::ScanEqual &&
                e.cmd != Command::ScanLowOrEqual && e.cmd != Command::ScanHighOrEqual;
    s.host_side = exec_moves_host_data();
    if (fast()) {
        s.t0 = host_.now_ns();
        s.ns_num = 0;
        e.sector_end = s.t0;
    } else {
        s.t0 = t_id + L.ns(L.data_offset());
        s.ns_num = L.ns_num;
        s.ns_den = L.ns_den;
        e.sector_end = t_id + L.ns(L.sector_end_offset());
    }
    const int lc = d.logical_cylinder();
    if (e.cmd == Command::Format) {
        s.len = 4;  // C H R N of this sector's ID
        if (!fast()) {
            s.t0 = t_id + L.ns(16);
            e.sector_end = t_id + L.ns(L.slot());
        }
    } else if (s.to_host) {
        const MediaStatus st =
            m.read_sector(unsigned(lc), e.hds, e.r, std::span<uint8_t, 512>(s.buf.data(), 512));
        if (st != MediaStatus::Ok) {
            s = Stream{};
            exec_fail(kDe, kDd);
            return;
        }
        if (e.cmd == Command::ReadDeleted) {
            // Raw media carry only normal data marks: READ DELETED meets a "wrong" mark.
            e.st2 |= kCm;
            if (e.sk) s.host_side = false;
        }
    }
    e.step = Step::Transfer;
    e.due = e.sector_end;
}

// The current sector's data field has passed (reads) or been written (writes).
void Fdc82077::exec_sector_done(int64_t now) {
    Exec &e = s_.exec;
    Stream &s = e.stream;
    FloppyDrive &d = drives_[e.unit];
    if (s.host_side && !e.tc && s.moved < s.len) {
        // The host still has bytes to move: reads wait for the FIFO to drain, writes underran.
        if (s.to_host || fast()) return;  // not due until the host has moved the rest
        observer_->overrun(e.unit);
        s = Stream{};
        exec_fail(kOr);
        return;
    }
    DiskImage *m = d.media();
    const int lc = d.logical_cylinder();
    if (!m || lc < 0) {
        exec_fail(kMa);
        return;
    }
    switch (e.cmd) {
        case Command::WriteData:
        case Command::WriteDeleted: {
            if (s.moved < s.len) std::fill(s.buf.begin() + s.moved, s.buf.end(), 0);  // TC: pad
            const MediaStatus st = m->write_sector(
                unsigned(lc), e.hds, e.r, std::span<const uint8_t, 512>(s.buf.data(), 512));
            if (st != MediaStatus::Ok) {
                s = Stream{};
                exec_fail(kNw);  // read-only, or past the end of a short image
                return;
            }
            break;
        }
        case Command::Format: {
            const uint8_t c = s.buf[0], h = s.buf[1], r = s.buf[2], n = s.buf[3];
            const Geometry &g = m->geometry();
            if (c != lc || h != e.hds || r < 1 || r > g.sectors || n != 2) {  // not representable
                s = Stream{};
                exec_fail(kEn);
                return;
            }
            std::array<uint8_t, 512> fill;
            fill.fill(e.fill);
            if (m->write_sector(c, h, r, std::span<const uint8_t, 512>(fill.data(), 512)) !=
                MediaStatus::Ok) {
                s = Stream{};
                exec_fail(kNw);
                return;
            }
            e.c = c;
            e.h = h;
            e.r = r;
            e.n = n;
            ++e.count;
            s = Stream{};
            if (e.count >= e.limit) {
                e.step = Step::Finish;
                e.due = fast() ? now : e.give_up;  // the track ends at the next index
                if (e.due <= now) finish_data_command();
                return;
            }
            exec_sector_found(
                fast() ? now : e.search_from + e.layout.ns(e.layout.sector_start(e.count + 1)));
            return;
        }
        case Command::ScanEqual:
        case Command::ScanLowOrEqual:
        case Command::ScanHighOrEqual: {
            std::array<uint8_t, 512> disk;
            m->read_sector(unsigned(lc), e.hds, e.r, std::span<uint8_t, 512>(disk.data(), 512));
            bool equal = true, ok = true;
            for (unsigned i = 0; i < s.moved && i < 512; ++i) {
                const uint8_t host = s.buf[i], dv = disk[i];
                if (host == 0xFF) continue;  // don't care
                if (dv != host) equal = false;
                if (e.cmd == Command::ScanEqual) ok = ok && dv == host;
                if (e.cmd == Command::ScanLowOrEqual) ok = ok && dv <= host;
                if (e.cmd == Command::ScanHighOrEqual) ok = ok && dv >= host;
            }
            if (ok) {
                e.st2 = uint8_t((e.st2 & ~kSn) | (equal ? kSh : 0));
                e.scan_hit = true;
            } else {
                e.st2 |= kSn;
            }
            break;
        }
        default:
            break;
    }
    if (e.st1 & kOr) {  // the padded sector after an underrun is written: stop
        s = Stream{};
        finish_data_command();
        return;
    }
    if (e.limit) ++e.count;  // only VERIFY with EC ends on a sector count
    if (e.tc) s.host_side = false;
    const bool more = advance_sector();
    s = Stream{};
    if (!more) {
        finish_data_command();
        return;
    }
    e.step = Step::Search;
    e.search_from = now;
    if (e.cmd != Command::ReadTrack) e.give_up = kNever;  // READ TRACK ends at its second index
    e.due = now;
    exec_search(now);
}

// Moves C/H/R to the next sector (82077aa.md §6.1 table); false when the command ends here.
bool Fdc82077::advance_sector() {
    Exec &e = s_.exec;
    const bool at_eot = e.r >= e.eot && e.cmd != Command::Format;
    const uint8_t step = (e.cmd == Command::ScanEqual || e.cmd == Command::ScanLowOrEqual ||
                          e.cmd == Command::ScanHighOrEqual)
                             ? std::max<uint8_t>(1, e.dtl & 3)
                             : 1;
    bool continue_on_other_head = false;
    if (!at_eot) {
        e.r = uint8_t(e.r + step);
    } else if (e.mt && !(e.hds & 1)) {
        e.h ^= 1;
        e.hds = 1;
        e.r = 1;
        continue_on_other_head = true;
    } else {
        if (e.mt) e.h ^= 1;
        e.c = uint8_t(e.c + 1);
        e.r = 1;
    }
    const bool deleted_stop = (e.cmd == Command::ReadDeleted && !e.sk);
    if (e.tc || deleted_stop || e.scan_hit) return false;
    if (e.cmd == Command::Verify && e.limit) {
        if (e.count >= e.limit) return false;
        if (at_eot && !continue_on_other_head) {
            e.st1 |= kEn;
            return false;
        }
        return true;
    }
    if (at_eot && !continue_on_other_head) {
        // No TC by EOT: PIO always ends like this; DMA when the count was longer (EN). VERIFY
        // and the scans have no data count to run out, so EOT is their normal end.
        const bool normal = e.cmd == Command::Verify || e.cmd == Command::ScanEqual ||
                            e.cmd == Command::ScanLowOrEqual || e.cmd == Command::ScanHighOrEqual;
        if (!normal) e.st1 |= kEn;
        return false;
    }
    return true;
}

// ---------------------------------------------------------------------------------------------
// The FIFO between the disk and the host

unsigned Fdc82077::fifo_depth() const {
    return s_.efifo ? 1 : kFifoDepth;
}
// A request never asks for what the FIFO cannot give: at least one byte to read (FIFOTHR=15
// would make the read trigger 16 − 16 = 0) and at least one free place to write.
unsigned Fdc82077::read_trigger() const {
    return s_.efifo ? 1 : std::max(1u, kFifoDepth - (s_.fifothr + 1u));
}
unsigned Fdc82077::write_threshold() const {
    return s_.efifo ? 0 : std::min(s_.fifothr + 1u, kFifoDepth - 1);
}

uint16_t Fdc82077::stream_disk_bytes(int64_t t) const {
    const Stream &s = s_.exec.stream;
    if (s.ns_num == 0) return s.to_host ? s.len : s.moved;
    if (t < s.t0) return 0;
    // Past len + 1 byte times the count is len whatever the time: a read left waiting at the
    // sector's end for hours (t − t0 × ns_den overflowed after about 5 h at 500 kbit/s) must not
    // multiply the wait (found by state_load_fuzz).
    const int64_t cap = (int64_t(s.len) + 1) * s.ns_num / s.ns_den + 1;
    const int64_t b = std::min(t - s.t0, cap) * s.ns_den / s.ns_num;
    // A read byte is in the FIFO once it has fully arrived; a write byte leaves when it starts.
    const int64_t n = s.to_host ? b : b + 1;
    return uint16_t(std::clamp<int64_t>(n, 0, s.len));
}

unsigned Fdc82077::stream_level(int64_t t) const {
    const Stream &s = s_.exec.stream;
    const unsigned disk = stream_disk_bytes(t);
    if (s.to_host) return disk > s.moved ? disk - s.moved : 0;
    return s.moved > disk ? s.moved - disk : 0;
}

void Fdc82077::stream_served(int64_t t) {
    Stream &s = s_.exec.stream;
    const unsigned level = stream_level(t);
    s.burst = s.moved < s.len && (s.to_host ? level > 0 : level < fifo_depth());
}

uint16_t Fdc82077::stream_host_room(int64_t t) const {
    if (!stream_request(t)) return 0;  // RQM / DRQ gate every host access
    const Stream &s = s_.exec.stream;
    if (s.to_host) return uint16_t(stream_level(t));
    if (s.ns_num == 0) return uint16_t(s.len - s.moved);
    return uint16_t(std::min<unsigned>(fifo_depth() - stream_level(t), s.len - s.moved));
}

bool Fdc82077::stream_request(int64_t t) const {
    if (!s_.exec_active || s_.exec.step != Step::Transfer || s_.exec.tc) return false;
    const Stream &s = s_.exec.stream;
    if (!s.host_side || s.moved >= s.len) return false;
    if (s.ns_num == 0) return true;
    const unsigned level = stream_level(t);
    if (s.to_host)
        return level > 0 && (s.burst || level >= read_trigger() || stream_disk_bytes(t) == s.len);
    return level < fifo_depth() && (s.burst || level <= write_threshold());
}

int64_t Fdc82077::stream_next_request(int64_t t) const {
    if (!s_.exec_active || s_.exec.step != Step::Transfer || s_.exec.tc) return kNever;
    const Stream &s = s_.exec.stream;
    if (!s.host_side || s.ns_num == 0 || stream_request(t)) return kNever;
    if (s.moved >= s.len) return kNever;
    auto at = [&](int64_t byte) {
        return s.t0 + byte * s.ns_num / s.ns_den + (byte * s.ns_num % s.ns_den ? 1 : 0);
    };
    // Reads: the FIFO reaches the trigger level, or the sector's last byte arrives.
    // Writes: the level falls to the threshold when byte (moved − threshold − 1) starts.
    const int64_t next = s.to_host ? at(std::min<int64_t>(s.moved + read_trigger(), s.len))
                                   : at(int64_t(s.moved) - int64_t(write_threshold()) - 1);
    return next > t ? next : kNever;
}

int64_t Fdc82077::stream_overrun_at() const {
    if (!s_.exec_active || s_.exec.step != Step::Transfer || s_.exec.tc) return kNever;
    const Stream &s = s_.exec.stream;
    if (!s.host_side || s.ns_num == 0) return kNever;
    auto at = [&](int64_t byte) {
        return s.t0 + byte * s.ns_num / s.ns_den + (byte * s.ns_num % s.ns_den ? 1 : 0);
    };
    // The host's service must land kFifoSetupNs before the byte that finds the FIFO full
    // (overrun) or the byte the disk needs and the host has not given (underrun). With the FIFO
    // off that is the datasheet's window exactly (1 byte − 1.5 µs); with it on the 16 places
    // allow threshold + 1 bytes − 1.5 µs, one byte more than the formula guarantees.
    if (s.to_host) {
        const int64_t byte = int64_t(s.moved) + fifo_depth() + 1;
        return byte <= s.len ? at(byte) - kFifoSetupNs + 1 : kNever;
    }
    return s.moved < s.len ? at(s.moved) - kFifoSetupNs + 1 : kNever;
}

bool Fdc82077::pio_execution() const {
    return s_.phase == Phase::Execution && s_.exec_active && !dma_mode() && exec_moves_host_data();
}

size_t Fdc82077::dma_transfer(DmaCycle cycle, std::span<uint8_t> buf, bool terminal_count) {
    const int64_t now = host_.now_ns();
    if (!s_.drq_out || !dma_mode() || s_.phase != Phase::Execution || !s_.exec_active) return 0;
    Stream &s = s_.exec.stream;
    const size_t n = std::min<size_t>(buf.size(), stream_host_room(now));
    if (n == 0) return 0;
    if (s.to_host) {
        if (cycle == DmaCycle::ToMemory) std::copy_n(s.buf.begin() + s.moved, n, buf.begin());
    } else {
        // A memory-to-device cycle carries guest bytes; any other leaves the bus floating.
        for (size_t i = 0; i < n; ++i)
            s.buf[(s.moved + i) % s.buf.size()] = cycle == DmaCycle::FromMemory ? buf[i] : 0xFF;
    }
    s.moved = uint16_t(s.moved + n);
    stream_served(now);
    if (terminal_count && n == buf.size()) s_.exec.tc = true;
    run(now);
    return n;
}

// ---------------------------------------------------------------------------------------------
// Time

// When the command's state next changes by itself (not counting mere pin changes).
int64_t Fdc82077::exec_deadline() const {
    if (!s_.exec_active || s_.phase != Phase::Execution) return kNever;
    // Waiting for the drive's seek: the seek's end sets `due` (run() checks seeks first).
    if (s_.exec.step == Step::WaitDrive)
        return s_.seeks[s_.exec.unit].active ? kNever : s_.exec.due;
    if (s_.exec.step != Step::Transfer) return s_.exec.due;
    const Stream &s = s_.exec.stream;
    const bool complete = !s.host_side || s_.exec.tc || s.moved >= s.len;
    // An unfinished write at the sector's end has already underrun (stream_overrun_at).
    const int64_t end = (complete || (!s.to_host && !fast())) ? s_.exec.sector_end : kNever;
    return std::min(end, stream_overrun_at());
}

void Fdc82077::run(int64_t now) {
    if (running_) return;  // a step that calls back into run() is finished by the outer loop
    running_ = true;
    for (unsigned guard = 0; guard < 10000; ++guard) {
        // Events due now, in a fixed order: drive seeks 0..3, reset polling, the command.
        bool fired = false;
        for (unsigned u = 0; u < kUnits && !fired; ++u) {
            if (s_.seeks[u].active && s_.seeks[u].done <= now) {
                finish_seek(u);
                if (s_.exec_active && s_.exec.unit == u && s_.exec.step == Step::WaitDrive)
                    s_.exec.due = now;
                fired = true;
            }
        }
        if (!fired && s_.poll_due <= now) {
            poll_drives();
            fired = true;
        }
        if (!fired && exec_deadline() <= now) {
            exec_run(now);
            fired = true;
        }
        if (!fired) break;
    }
    running_ = false;
    update_outputs();
}

void Fdc82077::on_timer() {
    s_.armed = kNever;
    run(host_.now_ns());
}

void Fdc82077::update_outputs() {
    const int64_t now = host_.now_ns();
    bool irq = s_.result_int || s_.status_int;
    bool drq = false;
    if (s_.phase == Phase::Execution && s_.exec_active) {
        const bool req = stream_request(now);
        if (dma_mode())
            drq = req;
        else
            irq = irq || req;
    }
    if (outputs_gated() || in_reset()) {
        irq = false;
        drq = false;
    }
    if (irq != s_.irq_out) {
        s_.irq_out = irq;
        host_.set_irq(irq);
    }
    if (drq != s_.drq_out) {
        s_.drq_out = drq;
        host_.set_drq(drq);
    }
    // Arm the timer for the next event.
    int64_t next = s_.poll_due;
    for (const Seek &s : s_.seeks)
        if (s.active) next = std::min(next, s.done);
    next = std::min({next, exec_deadline(), stream_next_request(now)});
    if (next != s_.armed) {
        s_.armed = next;
        if (next == kNever)
            host_.cancel_timer();
        else
            host_.arm_timer(std::max(next, now));
    }
}

}  // namespace fdplug::floppy
