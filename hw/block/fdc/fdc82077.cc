#include "hw/block/fdc/fdc82077.h"

#include <algorithm>
#include <cstdlib>
#include <optional>

#include "hw/block/media/floppy_formats.h"
#include "hw/block/media/uniform_tracks.h"

namespace fdplug::floppy {

Fdc82077::Fdc82077(FdcHost &host, FdcConfig config)
    : host_(host), config_(config), timing_(&timing_policy(config.timing)) {
    hardware_reset();
}

void Fdc82077::set_timing(TimingPolicy timing) {
    config_.timing = timing;
    timing_ = &timing_policy(timing);
}

// ---------------------------------------------------------------------------------------------
// Reset

void Fdc82077::hardware_reset() {
    s_.exec_active = false;
    s_.phase = Phase::Command;
    s_.cmd_len = 0;
    s_.res_len = s_.res_pos = 0;
    s_.dor = dor::kDmaGate | dor::kNotReset;  // firmware state, not the chip's 0x00 (Δ3)
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
    // CONFIGURE defaults, except what LOCK protects (docs/hardware/82077aa.md §8).
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
    s_.poll_due = host_.now_ns() + timing_->reset_to_poll_ns();
}

void Fdc82077::software_reset() {
    enter_reset();
    leave_reset();
}

void Fdc82077::poll_drives() {
    s_.poll_due = kNever;
    if (s_.poll_off || in_reset()) return;
    // A PC drive is always ready, so every unit reports a ready change (IC=11).
    for (unsigned u = 0; u < kUnits; ++u) push_interrupt_status(u, uint8_t(st0::kIcPolling | u));
}

// ---------------------------------------------------------------------------------------------
// Registers

uint8_t Fdc82077::msr() const {
    using namespace msr;
    if (in_reset()) return 0x00;
    uint8_t busy_bits = 0;
    for (unsigned u = 0; u < kUnits; ++u) {
        if (s_.seeks[u].active) busy_bits |= drive_busy(u);
    }
    for (unsigned i = 0; i < s_.status_count; ++i)
        if (s_.status_st0[i] & st0::kSe) busy_bits |= drive_busy(s_.status_queue[i]);
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

uint8_t Fdc82077::read_sra() const {
    const FloppyDrive &sel = drives_[s_.dor & dor::kDriveSelect];
    const bool idx = sel.index_pulse(host_.now_ns());
    if (config_.mode == FdcMode::Ps2) {
        using namespace sra::ps2;
        return uint8_t((s_.irq_out ? kIntPending : 0) | (drives_[1].present() ? 0 : kNotDrive2) |
                       (sel.track0() ? 0 : kNotTrack0) | (idx ? 0 : kNotIndex) |
                       (sel.write_protected() ? 0 : kNotWriteProtect));
    }
    using namespace sra::model30;  // HDSEL and DIR held inactive
    return uint8_t((s_.irq_out ? kIntPending : 0) | (s_.drq_out ? kDrq : 0) |
                   (sel.track0() ? kTrack0 : 0) | kNotHeadSelect | (idx ? kIndex : 0) |
                   (sel.write_protected() ? kWriteProtect : 0) | kNotDirection);
}

uint8_t Fdc82077::read_srb() const {
    if (config_.mode == FdcMode::Ps2) {
        using namespace srb::ps2;
        return uint8_t(kReserved | ((s_.dor & 1) ? kDriveSelect0 : 0) |
                       ((s_.dor & dor::kMotor1) ? kMotor1 : 0) |
                       ((s_.dor & dor::kMotor0) ? kMotor0 : 0));
    }
    using namespace srb::model30;
    const unsigned ds = s_.dor & dor::kDriveSelect;
    return uint8_t((drives_[1].present() ? 0 : kNotDrive2) | (ds == 1 ? 0 : kNotSelect1) |
                   (ds == 0 ? 0 : kNotSelect0) | (ds == 3 ? 0 : kNotSelect3) |
                   (ds == 2 ? 0 : kNotSelect2));
}

uint8_t Fdc82077::read_dir() const {
    const FloppyDrive &sel = drives_[s_.dor & dor::kDriveSelect];
    const bool dskchg = sel.disk_changed() || !sel.has_media();
    const uint8_t rate_bits = s_.dsr & dsr::kRateSelect;
    switch (config_.mode) {
        case FdcMode::At:
            return dskchg ? dir::kDiskChange : 0x00;
        case FdcMode::Ps2: {
            using namespace dir::ps2;
            const bool high = rate() == DataRate::k500 || rate() == DataRate::k1000;
            return uint8_t((dskchg ? dir::kDiskChange : 0) | kReserved | (rate_bits << 1) |
                           (high ? 0 : kNotHighDensity));
        }
        case FdcMode::Model30: {
            using namespace dir::model30;
            return uint8_t((dskchg ? 0 : dir::kDiskChange) |
                           ((s_.dor & dor::kDmaGate) ? kDmaGate : 0) |
                           (s_.ccr_noprec ? kNoPrecomp : 0) | rate_bits);
        }
    }
    return 0xFF;
}

// The FIFO read by the host: a result byte, or a data byte of a PIO read; nothing when the
// controller offers neither.
std::optional<uint8_t> Fdc82077::read_fifo() {
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
    const int64_t now = host_.now_ns();
    if (!pio_execution() || !s_.exec.stream.to_host || stream_host_room(now) == 0)
        return std::nullopt;
    Stream &s = s_.exec.stream;
    const uint8_t v = s.buf[s.moved % s.buf.size()];
    ++s.moved;
    stream_served(now);
    run(now);
    return v;
}

uint8_t Fdc82077::read(unsigned offset) {
    offset &= 7;
    switch (offset) {
        case kSra:
            return config_.mode == FdcMode::At ? 0xFF : read_sra();  // AT boards do not drive it
        case kSrb:
            return config_.mode == FdcMode::At ? 0xFF : read_srb();
        case kDor:
            return s_.dor;
        case kTdr:
            return uint8_t(tdr::kUndriven | (s_.tdr & tdr::kTapeSelect));
        case kMsr:
            return msr();
        case kFifo: {
            const std::optional<uint8_t> v = in_reset() ? std::nullopt : read_fifo();
            if (!v) observer_->bad_access(offset, false);
            return v.value_or(0x00);
        }
        case kDir:
            return read_dir();
        default:
            return 0xFF;
    }
}

void Fdc82077::write_dor(uint8_t value, int64_t now) {
    const uint8_t old = s_.dor;
    s_.dor = value;
    for (unsigned u = 0; u < kUnits; ++u) drives_[u].set_motor(value & dor::motor(u), now);
    // A search waiting for a spindle that was stopped looks again.
    if (s_.exec_active && (s_.exec.step == Step::Search || s_.exec.step == Step::WaitIndex) &&
        s_.exec.due == kNever)
        s_.exec.due = now;
    if ((old & dor::kNotReset) && !(value & dor::kNotReset)) enter_reset();
    if (!(old & dor::kNotReset) && (value & dor::kNotReset)) leave_reset();
}

// The FIFO written by the host: a command byte, or a data byte of a PIO write. false: the
// controller did not want it.
bool Fdc82077::write_fifo(uint8_t value, int64_t now) {
    if (s_.phase == Phase::Command) {
        accept_command_byte(value);
        return true;
    }
    if (!pio_execution() || s_.exec.stream.to_host || stream_host_room(now) == 0) return false;
    Stream &s = s_.exec.stream;
    s.buf[s.moved % s.buf.size()] = value;
    ++s.moved;
    stream_served(now);
    return true;
}

void Fdc82077::write(unsigned offset, uint8_t value) {
    offset &= 7;
    const int64_t now = host_.now_ns();
    switch (offset) {
        case kDor:
            write_dor(value, now);
            break;
        case kTdr:
            s_.tdr = value & tdr::kTapeSelect;
            return;  // nothing run() or the pins depend on
        case kDsr:
            s_.dsr = value & ~dsr::kSoftwareReset;  // the reset bit clears itself
            if (!(value & dsr::kSoftwareReset)) return;
            software_reset();
            break;
        case kFifo:
            if (in_reset() || !write_fifo(value, now)) observer_->bad_access(offset, true);
            break;
        case kCcr:
            s_.dsr = uint8_t((s_.dsr & ~dsr::kRateSelect) | (value & ccr::kRateSelect));
            s_.ccr_noprec = (value & ccr::kNoPrecomp) ? 1 : 0;
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
    // The command being collected is the one its first byte names (fdc_commands.h). The bound
    // comes from the decoded command, never from the guest (VENOM).
    const CommandInfo &info = decode_command(s_.cmd_len == 0 ? value : s_.cmd[0]);
    const uint8_t need = std::min<uint8_t>(info.in_bytes, kMaxCommandBytes);
    if (s_.cmd_len < need) s_.cmd[s_.cmd_len++] = value;
    if (s_.cmd_len >= need) start_command();
}

void Fdc82077::start_command() {
    const CommandInfo &info = cmd_info();
    observer_->command_started(s_.cmd[0], info.name);
    (this->*info.run)();
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
    s_.status_int = false;  // INT drops at the opcode, which is the whole command
    if (s_.status_count == 0) {
        const uint8_t r[] = {st0::kIcInvalid};
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
    using namespace st3;
    const FloppyDrive &d = drives_[s_.cmd[1] & 3];
    const uint8_t st3 = uint8_t((d.write_protected() ? kWp : 0) | kReady | (d.track0() ? kT0 : 0) |
                                kTwoSide | (s_.cmd[1] & (kHead | kUnit)));
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

void Fdc82077::cmd_invalid() {
    const uint8_t r[] = {st0::kIcInvalid};
    enter_result(r, false);
}

// ---------------------------------------------------------------------------------------------
// Seeks: SEEK, RELATIVE SEEK and RECALIBRATE end their command phase at once and run on the
// drive in the background; each handler says where the head goes, launch_seek() sends it.

void Fdc82077::cmd_recalibrate() {
    const unsigned unit = s_.cmd[1] & 3;
    Seek &s = new_seek(unit);
    const unsigned need = drives_[unit].cylinder();
    s.recalibrate = true;
    s.steps = uint16_t(std::min(need, kRecalibrateStepLimit));
    s.fail = need > kRecalibrateStepLimit;
    if (s.fail) s.target = uint8_t(std::max(0, int(s_.pcn[unit]) - int(kRecalibrateStepLimit)));
    launch_seek(unit);
}

void Fdc82077::cmd_seek() {
    const unsigned unit = s_.cmd[1] & 3;
    Seek &s = new_seek(unit);
    const uint8_t ncn = s_.cmd[2];
    s.inward = ncn > s_.pcn[unit];
    s.steps = uint16_t(s.inward ? ncn - s_.pcn[unit] : s_.pcn[unit] - ncn);
    s.target = ncn;
    launch_seek(unit);
}

void Fdc82077::cmd_relative_seek() {
    const unsigned unit = s_.cmd[1] & 3;
    Seek &s = new_seek(unit);
    const uint8_t rcn = s_.cmd[2];
    s.inward = s_.cmd[0] & 0x40;  // DIR
    s.steps = rcn;
    if (s.inward) {
        s.target = uint8_t(std::min(255, s_.pcn[unit] + rcn));
    } else if (rcn > s_.pcn[unit]) {
        s.target = 0;  // the drive stops at track 0; the controller reports EC
        s.fail = true;
    } else {
        s.target = uint8_t(s_.pcn[unit] - rcn);
    }
    launch_seek(unit);
}

// A seek on `unit` from now, SRT apart. A seek that replaces a running one keeps the pulses
// already issued.
Fdc82077::Seek &Fdc82077::new_seek(unsigned unit) {
    const int64_t now = host_.now_ns();
    FloppyDrive &d = drives_[unit];
    Seek &s = s_.seeks[unit];
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
    return s;
}

void Fdc82077::launch_seek(unsigned unit) {
    Seek &s = s_.seeks[unit];
    s.done = s.start + timing_->seek_ns(s.steps, s.step_ns, drives_[unit].profile());
    s_.cmd_len = 0;
    s_.phase = Phase::Command;
}

void Fdc82077::finish_seek(unsigned unit) {
    Seek &s = s_.seeks[unit];
    FloppyDrive &d = drives_[unit];
    // The pulses keep the drive's own spacing, SRT apart from the seek's start.
    for (unsigned i = 0; i < s.steps; ++i) d.step(s.inward, s.start + int64_t(i + 1) * s.step_ns);
    s_.pcn[unit] = s.target;
    const bool fail = s.fail || (s.recalibrate && !d.track0());
    s.active = false;
    s.done = kNever;
    push_interrupt_status(
        unit, uint8_t((fail ? st0::kIcAbnormal | st0::kEc : st0::kIcNormal) | st0::kSe | unit));
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
// Data commands: the handlers read their parameters, then the execution phase runs in steps
// (ExecStep), each with its deadline, through exec_run().

// READ/WRITE DATA and every other command whose parameters are C H R N EOT GPL DTL.
void Fdc82077::cmd_read_write() {
    Exec &e = new_exec();
    e.c = s_.cmd[2];
    e.h = s_.cmd[3];
    e.r = s_.cmd[4];
    e.n = s_.cmd[5];
    e.eot = s_.cmd[6];
    e.gpl = s_.cmd[7];
    e.dtl = s_.cmd[8];
    s_.last_eot = e.eot;
    if (exec_info().stop == Stop::EotOrEc && (s_.cmd[1] & 0x80)) e.limit = e.dtl;  // EC: SC
    if (exec_admitted()) exec_start();
}

void Fdc82077::cmd_format() {
    Exec &e = new_exec();
    e.n = s_.cmd[2];
    e.limit = s_.cmd[3];  // SC
    e.gpl = s_.cmd[4];
    e.fill = s_.cmd[5];
    e.c = uint8_t(s_.pcn[e.unit]);
    e.h = e.hds;
    s_.last_eot = s_.cmd[3];
    if (!exec_admitted()) return;
    DiskImage &m = *drives_[e.unit].media();
    // A sector image takes only its own layout, checked now and at each ID (§6.4); a track
    // medium takes what its can_format() accepts, asked when the whole track is known.
    const bool image_refuses =
        !m.tracks() && (e.n != kRawSectorN || e.limit > m.geometry().sectors);
    if (e.limit == 0 || image_refuses) {
        exec_fail(st1::kEn);
        return;
    }
    exec_start();
}

void Fdc82077::cmd_read_id() {
    Exec &e = new_exec();
    // Until an ID is read, the result names the track under the head (as QEMU does).
    e.c = s_.pcn[e.unit];
    e.h = e.hds;
    e.r = 1;
    e.n = kRawSectorN;
    if (exec_admitted()) exec_start();
}

// The execution phase of the command just collected, from its first two bytes.
Fdc82077::Exec &Fdc82077::new_exec() {
    s_.exec = Exec{};
    track_.forget();
    Exec &e = s_.exec;
    e.cmd = cmd_info().command;
    e.unit = s_.cmd[1] & 3;
    e.hds = (s_.cmd[1] >> 2) & 1;
    e.mt = s_.cmd[0] & 0x80;
    e.mfm = s_.cmd[0] & 0x40;
    e.sk = s_.cmd[0] & 0x20;
    s_.phase = Phase::Execution;
    s_.exec_active = true;
    return e;
}

// What ends a data command before it touches the drive; false when it ended.
bool Fdc82077::exec_admitted() {
    const Exec &e = s_.exec;
    const FloppyDrive &d = drives_[e.unit];
    // No medium: no index pulses will ever come, so end now (docs/hardware/82077aa.md §6.7,
    // docs/divergences.md Δ22).
    if (!d.has_media()) {
        exec_fail(st1::kMa);
        return false;
    }
    if (exec_info().search == Search::Id && e.eot < e.r) {  // nothing to transfer (CVE-2021-3507)
        exec_fail(st1::kMa);
        return false;
    }
    if (exec_info().writes() && d.write_protected()) {
        exec_fail(st1::kNw);
        return false;
    }
    return true;
}

void Fdc82077::exec_start() {
    Exec &e = s_.exec;
    const bool wait = s_.seeks[e.unit].active;
    e.step = wait ? Step::WaitDrive : Step::ImpliedSeek;
    e.due = wait ? kNever : host_.now_ns();  // the seek's end sets it
}

uint8_t Fdc82077::st0_for(uint8_t ic) const {
    const Exec &e = s_.exec;
    return uint8_t(ic | (e.seeked ? st0::kSe : 0) | ((e.hds & 1) ? st0::kHead : 0) | e.unit);
}

// The command ends with a data request the host left unserved (a byte lost, a medium gone): the
// request is withdrawn before the result phase asserts INT. In PIO both are the INT pin, so the
// result phase is a fresh edge, which an edge-triggered host needs (docs/hardware/82077aa.md
// §9.1). A transfer the host completed needs nothing: its last byte already served the request.
void Fdc82077::withdraw_request() {
    s_.exec.stream.reset();
    update_outputs();
}

void Fdc82077::exec_fail(uint8_t st1, uint8_t st2) {
    exec_result(st0::kIcAbnormal, s_.exec.st1 | st1, s_.exec.st2 | st2);
}

void Fdc82077::finish_data_command() {
    const Exec &e = s_.exec;
    // A scan's SH / SN and a control mark (CM) report what was met, not an error.
    const bool error = e.st1 || (e.st2 & ~(st2::kSh | st2::kSn | st2::kCm));
    exec_result(error ? st0::kIcAbnormal : st0::kIcNormal, e.st1, e.st2);
}

void Fdc82077::exec_result(uint8_t ic, uint8_t st1, uint8_t st2) {
    const Exec &e = s_.exec;
    const uint8_t r[] = {st0_for(ic), st1, st2, e.c, e.h, e.r, e.n};
    drives_[e.unit].load_head_until(host_.now_ns() + timing_->head_unload_ns(s_.hut, rate()));
    enter_result(r, true);
}

void Fdc82077::exec_abort_for_media(unsigned unit) {
    if (!s_.exec_active || s_.exec.unit != (unit & 3)) return;
    withdraw_request();
    exec_fail(st1::kMa);
}

void Fdc82077::insert_media(unsigned unit, std::unique_ptr<DiskImage> media) {
    exec_abort_for_media(unit);
    track_.forget();
    drives_[unit & 3].insert(std::move(media));
    run(host_.now_ns());
}

std::unique_ptr<DiskImage> Fdc82077::eject_media(unsigned unit) {
    exec_abort_for_media(unit);
    track_.forget();
    auto m = drives_[unit & 3].eject();
    run(host_.now_ns());
    return m;
}

// Runs the data command's steps that are due at `now`.
void Fdc82077::exec_run(int64_t now) {
    Exec &e = s_.exec;
    switch (e.step) {
        case Step::WaitDrive:
            if (s_.seeks[e.unit].active) return;
            e.step = Step::ImpliedSeek;
            [[fallthrough]];
        case Step::ImpliedSeek:
            if (!implied_seek_done(now)) return;
            e.step = Step::HeadLoad;
            e.due = drives_[e.unit].head_loaded(now) ? now
                                                     : now + timing_->head_load_ns(s_.hlt, rate());
            [[fallthrough]];
        case Step::HeadLoad:
            if (now < e.due) return;
            drives_[e.unit].load_head_until(kNever);  // loaded for the whole execution phase
            exec_begin_search(now);
            return;
        case Step::Search:
        case Step::WaitIndex:
            exec_search(now);
            return;
        case Step::Transfer:
            exec_transfer(now);
            return;
        case Step::Finish:
            if (now >= e.due) finish_data_command();
            return;
    }
}

// With EIS (or implied seeks configured always), a command that names a cylinder first seeks
// to it. false while the seek's pulses run. The `always` mode stands in for firmware that never
// seeks (docs/bochs.md); without EIS it leaves the head where it is when the track under it
// already carries cylinder C: a 40-track medium in an 80-track drive, which the guest reached by
// double stepping (PCN = 2·C, docs/hardware/media.md), must not be stepped back to PCN = C.
bool Fdc82077::implied_seek_done(int64_t now) {
    Exec &e = s_.exec;
    const bool eis = s_.eis || config_.implied_seek == ImpliedSeek::Always;
    const uint8_t pcn = s_.pcn[e.unit];
    if (!eis || exec_info().cylinder != Cylinder::C || e.c == pcn || e.seeked) return now >= e.due;
    FloppyDrive &d = drives_[e.unit];
    if (!s_.eis && d.double_stepped() && d.logical_cylinder() == int(e.c)) return now >= e.due;
    const unsigned steps = unsigned(std::abs(int(e.c) - int(pcn)));
    const int64_t took = timing_->seek_ns(steps, step_ns(s_.srt, rate()), d.profile());
    // The pulses spread evenly over the seek (all at once if it takes no time).
    for (unsigned i = 0; i < steps; ++i) d.step(e.c > pcn, now + took * (i + 1) / steps);
    s_.pcn[e.unit] = e.c;
    e.seeked = true;
    e.due = now + took;
    return now >= e.due;
}

void Fdc82077::exec_begin_search(int64_t now) {
    Exec &e = s_.exec;
    e.step = exec_info().starts_at_index() ? Step::WaitIndex : Step::Search;
    e.search_from = now;
    e.give_up = kNever;
    e.due = now;
    exec_search(now);
}

const TrackInfo &Fdc82077::track() {
    const Exec &e = s_.exec;
    FloppyDrive &d = drives_[e.unit];
    return track_.get(d.media(), e.unit, d.logical_cylinder(), e.hds);
}

// Whether the head reads this track's IDs at all: the track has some, in the encoding the
// MFM bit asks for, at the data rate selected.
bool Fdc82077::track_readable(const TrackInfo &t) const {
    return !t.sectors.empty() && t.rate == rate() && (t.encoding == Encoding::Mfm) == s_.exec.mfm;
}

TrackLayout Fdc82077::search_layout(const ControllerState &c, DiskImage &m,
                                    const TrackInfo &t) const {
    const ExecState &e = c.exec;
    if (command_info(e.cmd).op != SectorOp::Format) return layout_of(m, t, 0);
    if (!m.tracks()) return layout_of(m, t, e.gpl);  // a sector image keeps its own layout
    const uint8_t n = std::min<uint8_t>(c.cmd[2], kMaxSizeCode);  // e.n follows the IDs
    const std::vector<uint8_t> sizes(e.limit, n);
    const Geometry &g = m.geometry();
    return track_layout({.size_codes = sizes,
                         .rate = static_cast<DataRate>(c.dsr & dsr::kRateSelect),
                         .fm = !e.mfm,
                         .rpm = g.rpm,
                         .perpendicular = g.perpendicular,
                         .gap3 = e.gpl});
}

// How a search that never finds what it looks for ends (docs/hardware/82077aa.md §6.1): MA
// when no ID could be read; ND when IDs passed and none matched, with WC (and BC for a C of
// FF) when one of them named another cylinder.
Fdc82077::SearchFailure Fdc82077::search_failure(const TrackInfo &t) const {
    const Exec &e = s_.exec;
    const Search search = exec_info().search;
    if (!track_readable(t) || search == Search::AnyId || search == Search::Index ||
        e.step == Step::WaitIndex)
        return {st1::kMa, 0};
    if (search == Search::Track) return {st1::kNd, 0};
    uint8_t st2 = 0;
    for (const SectorInfo &sec : t.sectors) {
        if (!sec.id_crc_ok || sec.id.c == e.c) continue;
        st2 |= st2::kWc | (sec.id.c == 0xFF ? st2::kBc : 0);
    }
    return {st1::kNd, st2};
}

// The sector (1-based, physical order) whose ID the search catches first from `from`, and
// when; k = 0 when none will pass. Sector commands take an ID equal to C H R N (a bad ID CRC
// included: it ends the search with DE); READ TRACK takes the R-th sector whatever its ID.
Fdc82077::IdHit Fdc82077::first_id(const FloppyDrive &d, const TrackInfo &t, int64_t from) const {
    const Exec &e = s_.exec;
    const SectorId want{e.c, e.h, e.r, e.n};
    const bool by_place = exec_info().search == Search::Track;
    IdHit best{0, kNever};
    for (size_t i = 0; i < t.sectors.size() && i < kMaxSectorsPerTrack; ++i) {
        const bool wanted = by_place ? i + 1 == e.r : t.sectors[i].id == want;
        if (!wanted) continue;
        const int64_t at = timing_->id_passes(d, e.layout, unsigned(i + 1), from);
        if (at < best.at) best = {unsigned(i + 1), at};
    }
    return best;
}

// Finds when the wanted ID (or index) passes under the head, or when the search gives up.
void Fdc82077::exec_search(int64_t now) {
    Exec &e = s_.exec;
    FloppyDrive &d = drives_[e.unit];
    if (!d.has_media()) {
        exec_fail(st1::kMa);
        return;
    }
    const TrackInfo &t = track();
    e.layout = search_layout(s_, *d.media(), t);

    const int64_t from = timing_->readable_from(d, e.search_from);
    if (from == kNever) {  // the spindle stands still: a DOR write looks again
        e.due = kNever;
        return;
    }
    if (e.give_up == kNever) e.give_up = timing_->search_gives_up(d, from);
    if (now >= e.give_up) {
        const SearchFailure f = search_failure(t);
        exec_fail(f.st1, f.st2);
        return;
    }
    // FORMAT on a track medium needs only the index: it lays down whatever the track held.
    const bool format_anew = exec_info().search == Search::Index && d.media()->tracks();
    const bool readable = format_anew || track_readable(t);
    if (readable && exec_info().search == Search::AnyId) {
        exec_read_id(d, from, now);
        return;
    }
    const bool index = e.step == Step::WaitIndex;
    const IdHit hit = !readable ? IdHit{0, kNever}
                      : index   ? IdHit{0, timing_->index_passes(d, from)}
                                : first_id(d, t, from);
    if (hit.at == kNever || hit.at >= e.give_up) {
        // Not before the search gives up; if it never does by time (fast timing), it fails now.
        if (e.give_up == kNever) {
            const SearchFailure f = search_failure(t);
            exec_fail(f.st1, f.st2);
        } else {
            e.due = e.give_up;
        }
        return;
    }
    if (now < hit.at) {
        e.due = hit.at;
        return;
    }
    if (index) {
        exec_index_found(hit.at, now);
        return;
    }
    if (exec_info().search == Search::Id && !t.sectors[hit.k - 1].id_crc_ok) {
        // The matching ID's CRC is bad: DE without DD, once the ID has passed.
        e.st1 |= st1::kDe;
        end_at(hit.at + timing_->byte_clock(e.layout).ns(TrackLayout::kIdField), now);
        return;
    }
    exec_sector_found(hit.at, hit.k);
}

// The command ends at `at` with the status it has gathered.
void Fdc82077::end_at(int64_t at, int64_t now) {
    Exec &e = s_.exec;
    e.stream.reset();
    e.step = Step::Finish;
    e.due = at;
    if (at <= now) finish_data_command();
}

// READ ID: the first ID the head catches is the result, its C H R N as recorded.
void Fdc82077::exec_read_id(FloppyDrive &d, int64_t from, int64_t now) {
    Exec &e = s_.exec;
    const Timing::IdRead id = timing_->next_id(d, e.layout, from);
    const SectorInfo &sec = track().sectors[id.sector - 1];
    e.c = sec.id.c;
    e.h = sec.id.h;
    e.r = sec.id.r;
    e.n = sec.id.n;
    if (!sec.id_crc_ok) e.st1 |= st1::kDe;
    e.step = Step::Finish;
    e.due = id.done;
    exec_run(now);
}

// FORMAT and READ TRACK start at the index: sector 1 follows it, and the next index ends them.
void Fdc82077::exec_index_found(int64_t index, int64_t now) {
    Exec &e = s_.exec;
    if (exec_info().search == Search::Track) e.r = 1;  // READ TRACK counts sectors in R
    e.step = Step::Search;
    e.search_from = index;
    e.give_up = timing_->search_gives_up(drives_[e.unit], index);
    exec_sector_found(timing_->id_after_index(e.layout, index, 1, now), 1);
}

// The ID of sector k (1-based, physical order) begins at t_id: set up its data stream.
void Fdc82077::exec_sector_found(int64_t t_id, unsigned k) {
    Exec &e = s_.exec;
    const CommandInfo &info = exec_info();
    Stream &s = e.stream;
    s.reset();
    s.to_host = info.host() != HostData::FromHost;  // the disk fills it (VERIFY: for nobody)
    s.host_side = info.host() != HostData::None;
    const bool id = info.op == SectorOp::Format;  // FORMAT: the host gives the ID, C H R N
    if (!id) e.index = uint8_t(k - 1);
    s.len = id ? 4 : stream_bytes(info.search, *drives_[e.unit].media(), e.n, e.dtl);
    const Timing::Field f =
        id ? timing_->id_field(e.layout, k, t_id) : timing_->data_field(e.layout, k, t_id);
    s.t0 = f.first_byte;
    s.ns_num = f.clock.ns_num;
    s.ns_den = f.clock.ns_den;
    e.sector_end = f.end;
    if (s.to_host && !read_data_field(f.first_byte)) return;
    e.step = Step::Transfer;
    e.due = e.sector_end;
}

// A read meets the current sector's data field (mark, data, CRC; docs/hardware/82077aa.md
// §6.1 item 4): the data into the stream, and what the mark and CRC make of the command.
// false when the command ends here.
bool Fdc82077::read_data_field(int64_t first_byte) {
    Exec &e = s_.exec;
    const CommandInfo &info = exec_info();
    Stream &s = e.stream;
    FloppyDrive &d = drives_[e.unit];
    const SectorInfo sec = track().sectors[e.index];
    // READ TRACK reads every field as it comes; the sector commands look at its mark.
    if (info.search == Search::Id) {
        if (sec.mark == DataMark::None) {  // no data mark after the ID
            e.st1 |= st1::kMa;
            e.st2 |= st2::kMd;
            end_at(first_byte, host_.now_ns());
            return false;
        }
        const DataMark wanted = info.mark == Mark::Deleted ? DataMark::Deleted : DataMark::Normal;
        if (sec.mark != wanted) {
            e.st2 |= st2::kCm;
            if (e.sk) {  // SK: the sector is skipped, data and CRC unread
                s.host_side = false;
                return true;
            }
        }
        if (!sec.data_crc_ok) {  // the data still moves; the command ends after it
            e.st1 |= st1::kDe;
            e.st2 |= st2::kDd;
        }
    }
    const size_t field = std::min<size_t>(sector_size(sec.size_code), s.buf.size());
    const MediaStatus st = TracksOf(*d.media())
                               ->read_data(unsigned(d.logical_cylinder()), e.hds, e.index,
                                           std::span(s.buf).first(field));
    // A field longer than the stream (N = 0 with DTL): its tail is not the host's, and the
    // buffer keeps zeros past len (StreamState::reset).
    if (field > s.len) std::fill(s.buf.begin() + s.len, s.buf.begin() + ptrdiff_t(field), 0);
    if (st != MediaStatus::Ok) {
        s.reset();
        exec_fail(st1::kDe, st2::kDd);
        return false;
    }
    return true;
}

void Fdc82077::exec_transfer(int64_t now) {
    Exec &e = s_.exec;
    if (now >= stream_overrun_at()) {
        observer_->overrun(e.unit);
        if (exec_info().op == SectorOp::Write && e.stream.moved > 0) {
            // An underrun inside a sector still completes it, padded with 0x00 and a valid CRC
            // (docs/hardware/82077aa.md §7); the command ends there. A sector the host gave no
            // byte of is not written at all (§9.1).
            e.st1 |= st1::kOr;
            e.stream.host_side = false;
            update_outputs();  // the request is withdrawn now, whenever the sector ends
            return;
        }
        withdraw_request();
        exec_fail(st1::kOr);
        return;
    }
    if (now >= e.sector_end) exec_sector_done(now);
}

// The current sector's field has passed (reads) or been written (writes).
void Fdc82077::exec_sector_done(int64_t now) {
    Exec &e = s_.exec;
    Stream &s = e.stream;
    if (s.host_side && !e.tc && s.moved < s.len) {
        // The host still has bytes to move: reads wait for the FIFO to drain; a write has
        // underrun, unless the disk waits for the host.
        if (s.to_host || !timing_->overruns()) return;
        observer_->overrun(e.unit);
        withdraw_request();
        exec_fail(st1::kOr);
        return;
    }
    FloppyDrive &d = drives_[e.unit];
    DiskImage *m = d.media();
    const int cylinder = d.logical_cylinder();
    if (!m || cylinder < 0) {
        exec_fail(st1::kMa);
        return;
    }
    const auto c = unsigned(cylinder);
    switch (exec_info().op) {
        case SectorOp::Write:
            if (!write_sector(*m, c)) return;
            break;
        case SectorOp::Compare:
            scan_sector(*m, c);
            break;
        case SectorOp::Format:
            if (!(m->tracks() ? collect_format_id() : format_sector(*m, c))) return;
            break;
        default:  // the data went to the host (or nowhere) as it passed
            break;
    }
    exec_next_sector(now);
}

bool Fdc82077::write_sector(DiskImage &m, unsigned cylinder) {
    Exec &e = s_.exec;
    Stream &s = e.stream;
    // The field gets the host's bytes, then zeros: after TC or an underrun, and past DTL.
    const size_t field =
        std::min<size_t>(sector_size(track().sectors[e.index].size_code), s.buf.size());
    if (s.moved < field) std::fill(s.buf.begin() + s.moved, s.buf.begin() + ptrdiff_t(field), 0);
    const DataMark mark = exec_info().mark == Mark::Deleted ? DataMark::Deleted : DataMark::Normal;
    const MediaStatus st =
        TracksOf(m)->write_data(cylinder, e.hds, e.index, mark, std::span(s.buf).first(field));
    track_.forget();  // the sector's mark and CRC are new
    if (st != MediaStatus::Ok) {
        s.reset();
        exec_fail(st1::kNw);  // read-only, or past the end of a short image
        return false;
    }
    return true;
}

void Fdc82077::scan_sector(DiskImage &m, unsigned cylinder) {
    Exec &e = s_.exec;
    const Stream &s = e.stream;
    const ScanTest satisfied = exec_info().scan;
    std::array<uint8_t, StreamState::kBufferSize> disk{};
    const size_t field = std::min(sector_size(track().sectors[e.index].size_code), disk.size());
    TracksOf(m)->read_data(cylinder, e.hds, e.index, std::span(disk).first(field));
    bool equal = true, ok = true;
    for (unsigned i = 0; i < s.moved && i < field; ++i) {
        const uint8_t host = s.buf[i];
        if (host == 0xFF) continue;  // don't care
        equal = equal && disk[i] == host;
        ok = ok && satisfied(disk[i], host);
    }
    if (ok) {
        e.st2 = uint8_t((e.st2 & ~st2::kSn) | (equal ? st2::kSh : 0));
        e.scan_hit = true;
    } else {
        e.st2 |= st2::kSn;
    }
}

// FORMAT on a track medium: the host's ID joins the track, laid down when the last one is in.
bool Fdc82077::collect_format_id() {
    Exec &e = s_.exec;
    const Stream &s = e.stream;
    std::copy_n(s.buf.begin(), 4, e.format_ids.begin() + 4 * ptrdiff_t(e.count));
    e.c = s.buf[0];
    e.h = s.buf[1];
    e.r = s.buf[2];
    e.n = s.buf[3];
    return true;
}

// FORMAT on a track medium, after its last ID: the track the host described, or EN when the
// medium cannot hold it (docs/hardware/82077aa.md §6.4).
bool Fdc82077::lay_down_track() {
    Exec &e = s_.exec;
    FloppyDrive &d = drives_[e.unit];
    TrackFormat f{.encoding = e.mfm ? Encoding::Mfm : Encoding::Fm,
                  .rate = rate(),
                  .size_code = uint8_t(std::min<unsigned>(s_.cmd[2], kMaxSizeCode)),
                  .fill = e.fill};
    for (unsigned i = 0; i < e.limit; ++i) {
        const uint8_t *id = e.format_ids.data() + 4 * i;
        f.ids.push_back({id[0], id[1], id[2], id[3]});
    }
    TracksOf media(*d.media());
    const auto c = unsigned(d.logical_cylinder());
    if (!media->can_format(c, e.hds, f)) {
        e.st1 |= st1::kEn;
        return false;
    }
    track_.forget();
    if (media->format_track(c, e.hds, f) != MediaStatus::Ok) {
        e.st1 |= st1::kNw;
        return false;
    }
    return true;
}

// FORMAT: the host has given this sector's ID (C H R N); the sector gets it and the fill byte.
bool Fdc82077::format_sector(DiskImage &m, unsigned cylinder) {
    Exec &e = s_.exec;
    Stream &s = e.stream;
    const uint8_t c = s.buf[0], h = s.buf[1], r = s.buf[2], n = s.buf[3];
    const Geometry &g = m.geometry();
    if (c != cylinder || h != e.hds || r < 1 || r > g.sectors || n != kRawSectorN) {
        s.reset();
        exec_fail(st1::kEn);  // an ID the image cannot represent
        return false;
    }
    std::array<uint8_t, kRawSectorBytes> fill;
    fill.fill(e.fill);
    if (m.write_sector(c, h, r, fill) != MediaStatus::Ok) {
        s.reset();
        exec_fail(st1::kNw);
        return false;
    }
    e.c = c;
    e.h = h;
    e.r = r;
    e.n = n;
    return true;
}

// A sector is done: on to the next one, or the command ends.
void Fdc82077::exec_next_sector(int64_t now) {
    Exec &e = s_.exec;
    const CommandInfo &info = exec_info();
    // The padded sector after an underrun is written, or a data CRC error was read: stop,
    // the result naming that sector.
    if ((e.st1 & st1::kOr) || (e.st2 & st2::kDd)) {
        e.stream.reset();
        finish_data_command();
        return;
    }
    if (e.limit) ++e.count;  // FORMAT's SC, VERIFY's EC
    const bool more = info.next == Next::Physical ? e.count < e.limit : advance_sector();
    e.stream.reset();
    e.index = 0;
    if (!more && info.stop == Stop::SectorCount) {
        if (drives_[e.unit].media()->tracks() && !lay_down_track()) {
            finish_data_command();
            return;
        }
        // FORMAT's track ends at the next index (at once if the search never gives up by time).
        e.step = Step::Finish;
        e.due = e.give_up != kNever ? e.give_up : now;
        if (e.due <= now) finish_data_command();
        return;
    }
    if (!more) {
        finish_data_command();
        return;
    }
    if (info.next == Next::Physical) {  // the next ID follows at once
        exec_sector_found(timing_->id_after_index(e.layout, e.search_from, e.count + 1, now),
                          e.count + 1u);
        return;
    }
    e.step = Step::Search;
    e.search_from = now;
    if (info.search != Search::Track) e.give_up = kNever;  // READ TRACK: the 2nd index
    e.due = now;
    exec_search(now);
}

// Moves C/H/R to the next sector (docs/hardware/82077aa.md §6.5); false when the command ends here.
// An end of cylinder (EN) leaves them naming the last sector transferred.
bool Fdc82077::advance_sector() {
    Exec &e = s_.exec;
    const CommandInfo &info = exec_info();
    const bool at_eot = e.r >= e.eot;
    const uint8_t step = info.next == Next::Stp ? std::max<uint8_t>(1, e.dtl & 3) : 1;
    const bool other_head = at_eot && e.mt && !(e.hds & 1);  // MT: head 0's EOT goes on
    const bool mark_stop = (e.st2 & st2::kCm) && !e.sk;      // without SK, after that sector
    const bool counted = info.stop == Stop::EotOrEc && e.limit;
    const bool stop = e.tc || mark_stop || e.scan_hit || (counted && e.count >= e.limit);
    if (!stop && at_eot && !other_head && (info.stop == Stop::Tc || counted)) {
        // Past EOT with data still wanted: no TC by EOT (PIO always ends like this; DMA when
        // the count was longer), or VERIFY's SC running past EOT.
        e.st1 |= st1::kEn;
        return false;
    }
    if (!at_eot) {
        e.r = uint8_t(e.r + step);
    } else if (other_head) {
        e.h ^= 1;
        e.hds = 1;
        e.r = 1;
    } else {
        if (e.mt) e.h ^= 1;
        e.c = uint8_t(e.c + 1);
        e.r = 1;
    }
    // Commands with no data count to run out (VERIFY without EC, the scans) end at EOT normally.
    return !stop && (!at_eot || other_head);
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
    if (s.ns_num == 0) s.t0 = t;  // fast: the service window starts again (stream_overrun_at)
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
    if (!s.host_side) return kNever;
    if (s.ns_num == 0) return fast_overrun_at();
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

// Under the fast policy bytes take no time, so the disk never outruns the host by itself. A DMA
// transfer waits for its channel however long (as QEMU's does, docs/hardware/82077aa.md §9); a
// PIO host that stops serving still loses the data where an accurate disk would have made it
// lose it: a read with more of the sector to come than the FIFO holds, a write with bytes still
// owed. It gets the window an accurate disk gives at the track's byte rate, FIFO depth + 1 byte
// times less the set-up time, counted from its last service (`t0`, which stream_served() moves
// under fast) rather than from the disk's bytes (docs/hardware/timing.md §8).
int64_t Fdc82077::fast_overrun_at() const {
    const Stream &s = s_.exec.stream;
    if (dma_mode()) return kNever;
    const bool owed = s.to_host ? unsigned(s.len - s.moved) > fifo_depth() : s.moved < s.len;
    if (!owed) return kNever;
    const int64_t window =
        std::max<int64_t>(1, s_.exec.layout.ns(fifo_depth() + 1) - kFifoSetupNs + 1);
    return s.t0 <= kNever - window ? s.t0 + window : kNever;
}

bool Fdc82077::pio_execution() const {
    return s_.phase == Phase::Execution && s_.exec_active && !dma_mode() &&
           exec_info().host() != HostData::None;
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
    const int64_t end =
        (complete || (!s.to_host && timing_->overruns())) ? s_.exec.sector_end : kNever;
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
