// Fdc82077's device state: gathering it (state(), save_state()), checking it (validate_state())
// and applying it (load_state()). The structs are fdc_state.h; no bytes and no wire format here.
#include <string>

#include "hw/block/fdc/fdc82077.h"
#include "hw/block/media/floppy_formats.h"
#include "hw/block/media/media_fingerprint.h"

namespace fdplug::floppy {

namespace {

int64_t to_relative(int64_t abs, int64_t now, TimeForm form) {
    if (abs == kNever) return kNever;
    if (abs <= kLongAgo) return kLongAgo;
    const int64_t rel =
        abs - now;  // abs > -2^62 and now ≥ 0 (virtual clocks start at 0): no overflow
    // An instant further back than a state can carry (only a loaded state's, some 73 years of
    // virtual time later) is as good as long ago; where that sentinel is not allowed it stays at
    // the edge, so that every state() is one load_state() accepts.
    if (rel < -kMaxRelativeNs)
        return form == TimeForm::InstantOrLongAgo || form == TimeForm::Any ? kLongAgo
                                                                           : -kMaxRelativeNs;
    return rel;
}

int64_t to_absolute(int64_t rel, int64_t now) {
    if (rel == kNever || rel == kLongAgo) return rel;
    return now + rel;  // validated: |rel| ≤ 2^61, 0 ≤ now ≤ 2^61
}

std::string hex64(uint64_t v) {
    static const char digits[] = "0123456789abcdef";
    std::string s = "0x";
    for (int shift = 60; shift >= 0; shift -= 4) s += digits[(v >> shift) & 15];
    return s;
}

std::string unit_field(const char *group, unsigned u, const char *name) {
    return std::string(group) + "[" + std::to_string(u) + "]." + name;
}

const char *mode_name(FdcMode m) {
    return m == FdcMode::At        ? "at"
           : m == FdcMode::Ps2     ? "ps2"
           : m == FdcMode::Model30 ? "model30"
                                   : "?";
}
const char *timing_name(TimingPolicy t) {
    return t == TimingPolicy::Fast ? "fast" : "accurate";
}
const char *seek_name(ImpliedSeek s) {
    return s == ImpliedSeek::Always ? "always" : "configure";
}

// One pulse of SEEK lasts step_ns(SRT, rate) for some SRT and rate; nothing else is a step time.
bool is_step_time(int64_t ns) {
    for (unsigned rate = 0; rate < 4; ++rate)
        for (unsigned srt = 0; srt < 16; ++srt)
            if (ns == step_ns(uint8_t(srt), static_cast<DataRate>(rate))) return true;
    return false;
}

// Collects the first failure; every check names its field.
class Checker {
  public:
    bool ok() const { return ok_; }
    // The first failure, if any.
    Status status() const { return ok_ ? Status() : Status(Error(ErrorKind::Failed, error_)); }
    // `cond` must hold for field `name`; `what` says what was wrong.
    bool expect(bool cond, const std::string &name, const std::string &what) {
        if (cond || !ok_) return cond;
        ok_ = false;
        error_ = "field " + name + ": " + what;
        return false;
    }
    bool range(int64_t v, int64_t lo, int64_t hi, const std::string &name) {
        return expect(
            v >= lo && v <= hi, name,
            std::to_string(v) + " is outside " + std::to_string(lo) + ".." + std::to_string(hi));
    }

  private:
    std::string error_;
    bool ok_ = true;
};

}  // namespace

FdcState Fdc82077::state() const {
    FdcState st;
    st.config = config_;
    st.ctrl = s_;
    for (unsigned u = 0; u < kUnits; ++u) {
        const FloppyDrive &d = drives_[u];
        DriveState &ds = st.drives[u];
        ds.type = d.type();
        ds.profile = d.profile();
        ds.mech = d.mechanics();
        if (const DiskImage *m = d.media()) {
            ds.media.present = true;
            ds.media.source = m->source();
            ds.media.geometry = m->geometry();
            ds.media.read_only = m->read_only();
            ds.media.size = m->geometry().size_bytes();
        }
    }
    const int64_t now = host_.now_ns();
    for_each_instant(
        st, [now](const char *, int, int64_t &t, TimeForm form) { t = to_relative(t, now, form); });
    return st;
}

Expected<FdcState> Fdc82077::save_state() {
    FdcState st = state();
    for (unsigned u = 0; u < kUnits; ++u) {
        DiskImage *m = drives_[u].media();
        if (!m) continue;
        const Expected<uint64_t> fingerprint = media_fingerprint(*m);
        if (!fingerprint) return fingerprint.error().prefixed("drive " + std::to_string(u) + ": ");
        st.drives[u].media.fingerprint = *fingerprint;
    }
    return st;
}

Status Fdc82077::validate_state(const FdcState &st) const {
    Checker ck;
    const int64_t now = host_.now_ns();
    ck.expect(now >= 0 && now <= kMaxClockNs, "(host clock)",
              "the virtual clock reads " + std::to_string(now) +
                  " ns, beyond what a state can be loaded at");

    // Configuration: the device must be configured as the one that was saved.
    const FdcConfig &c = st.config;
    ck.expect(c.mode == config_.mode, "config.mode",
              std::string("the state was saved with mode=") + mode_name(c.mode) +
                  ", this controller has mode=" + mode_name(config_.mode) +
                  "; configure the device as it was");
    ck.expect(c.timing == config_.timing, "config.timing",
              std::string("the state was saved with timing=") + timing_name(c.timing) +
                  ", this controller has timing=" + timing_name(config_.timing) +
                  "; configure the device as it was");
    ck.expect(c.implied_seek == config_.implied_seek, "config.implied_seek",
              std::string("the state was saved with implied-seek=") + seek_name(c.implied_seek) +
                  ", this controller has implied-seek=" + seek_name(config_.implied_seek) +
                  "; configure the device as it was");

    // Drives and media.
    for (unsigned u = 0; u < kUnits && ck.ok(); ++u) {
        const DriveState &d = st.drives[u];
        const FloppyDrive &live = drives_[u];
        ck.expect(d.type == live.type(), unit_field("drives", u, "type"),
                  std::string("the state has a drive of type ") + drive_type_name(d.type) +
                      " at unit " + std::to_string(u) + ", this controller has " +
                      drive_type_name(live.type()) + "; connect the same drives");
        ck.expect(d.profile == live.profile(), unit_field("drives", u, "profile"),
                  "the drive's mechanical profile (settle, spin-up, index pulse) differs from this "
                  "drive's");
        const DriveMechanics &m = d.mech;
        if (d.type != DriveType::None)
            ck.range(m.cylinder, 0, max_cylinder(d.type), unit_field("drives", u, "mech.cylinder"));
        const MediaIdentity &id = d.media;
        const DiskImage *media = live.media();
        ck.expect(id.present == (media != nullptr), unit_field("drives", u, "media.present"),
                  id.present
                      ? "the state has a medium ('" + id.source + "') in drive " +
                            std::to_string(u) + ", this drive is empty; insert the same image"
                      : "the state has drive " + std::to_string(u) + " empty, this drive holds '" +
                            (media ? media->source() : std::string()) + "'; eject it first");
        if (!id.present) {
            // An empty drive has the empty identity: anything else would load, then save as
            // something else (found by state_load_fuzz: a fingerprint on an empty drive).
            const MediaIdentity none{};
            const std::string empty =
                "drive " + std::to_string(u) + " is empty in the state, yet its medium has ";
            ck.expect(id.geometry == none.geometry, unit_field("drives", u, "media.geometry"),
                      empty + "a geometry");
            ck.expect(id.size == 0, unit_field("drives", u, "media.size"), empty + "a size");
            ck.expect(!id.read_only, unit_field("drives", u, "media.read_only"),
                      empty + "write protection");
            ck.expect(id.fingerprint == 0, unit_field("drives", u, "media.fingerprint"),
                      empty + "a fingerprint");
        }
        if (id.present && media) {
            ck.expect(id.geometry == media->geometry(), unit_field("drives", u, "media.geometry"),
                      "the medium in drive " + std::to_string(u) + " ('" + media->source() +
                          "') has another geometry than the saved one ('" + id.source + "')");
            ck.expect(
                id.size == media->geometry().size_bytes(), unit_field("drives", u, "media.size"),
                std::to_string(id.size) + " bytes saved, the medium in drive " + std::to_string(u) +
                    " has " + std::to_string(media->geometry().size_bytes()));
            ck.expect(id.read_only == media->read_only(),
                      unit_field("drives", u, "media.read_only"),
                      std::string("the medium was ") + (id.read_only ? "read-only" : "read-write") +
                          " when saved, the one in drive " + std::to_string(u) + " is " +
                          (media->read_only() ? "read-only" : "read-write"));
        }
    }

    // Instants.
    for_each_instant(st, [&ck](const char *name, int index, const int64_t &t, TimeForm form) {
        if (!ck.ok()) return;
        std::string field = name;
        if (const size_t at = field.find("[]"); at != std::string::npos)
            field.insert(at + 1, std::to_string(index));
        ck.expect(relative_instant_ok(t, form), field,
                  std::to_string(t) + " is not a valid " +
                      (form == TimeForm::Instant    ? "instant"
                       : form == TimeForm::Deadline ? "deadline"
                                                    : "instant or sentinel") +
                      " relative to the save");
    });
    if (!ck.ok()) return ck.status();

    // Registers.
    const ControllerState &s = st.ctrl;
    ck.range(s.tdr, 0, 3, "ctrl.tdr");
    ck.range(s.dsr, 0, 0x7F, "ctrl.dsr");
    ck.range(s.ccr_noprec, 0, 1, "ctrl.ccr_noprec");
    ck.range(s.srt, 0, 15, "ctrl.srt");
    ck.range(s.hut, 0, 15, "ctrl.hut");
    ck.range(s.hlt, 0, 127, "ctrl.hlt");
    ck.range(s.fifothr, 0, 15, "ctrl.fifothr");
    ck.range(s.perp_drives, 0, 15, "ctrl.perp_drives");
    ck.range(s.perp_gap_wgate, 0, 3, "ctrl.perp_gap_wgate");

    // Phases, command and result bytes.
    ck.range(static_cast<int>(s.phase), 0, 2, "ctrl.phase");
    ck.range(s.cmd_len, 0, kMaxCommandBytes, "ctrl.cmd_len");
    ck.range(s.res_len, 0, kMaxResultBytes, "ctrl.res_len");
    ck.expect(
        s.res_pos <= s.res_len, "ctrl.res_pos",
        std::to_string(s.res_pos) + " is past the result length " + std::to_string(s.res_len));
    if (s.phase == FdcPhase::Command && s.cmd_len > 0) {
        const CommandInfo &info = decode_command(s.cmd[0]);
        ck.expect(s.cmd_len < info.in_bytes, "ctrl.cmd_len",
                  std::to_string(s.cmd_len) + " bytes of " + info.name +
                      " collected, which takes " + std::to_string(info.in_bytes) +
                      ": it would have started");
    }
    if (s.phase == FdcPhase::Result)
        ck.expect(s.res_len >= 1 && s.res_pos < s.res_len, "ctrl.res_pos",
                  "result phase with byte " + std::to_string(s.res_pos) + " of " +
                      std::to_string(s.res_len) + " next: nothing left to read");
    ck.expect(s.exec_active == (s.phase == FdcPhase::Execution), "ctrl.exec_active",
              "a data command runs exactly in the execution phase");

    // Interrupt status queue.
    ck.range(s.status_count, 0, kUnits, "ctrl.status_count");
    for (unsigned i = 0; i < kUnits; ++i) {
        ck.range(s.status_queue[i], 0, kUnits - 1, "ctrl.status_queue[" + std::to_string(i) + "]");
        for (unsigned j = 0; j < i && i < s.status_count; ++j)
            ck.expect(s.status_queue[j] != s.status_queue[i],
                      "ctrl.status_queue[" + std::to_string(i) + "]",
                      "unit " + std::to_string(s.status_queue[i]) +
                          " is queued twice (one status per drive)");
    }

    // Seeks.
    for (unsigned u = 0; u < kUnits; ++u) {
        const SeekState &k = s.seeks[u];
        ck.expect(
            k.active == (k.done != kNever), unit_field("ctrl.seeks", u, "done"),
            k.active ? "a running seek has no deadline" : "a finished seek still has a deadline");
        ck.range(k.steps, 0, 255, unit_field("ctrl.seeks", u, "steps"));
        ck.expect(is_step_time(k.step_ns) || (!k.active && k.step_ns == 0),
                  unit_field("ctrl.seeks", u, "step_ns"),
                  std::to_string(k.step_ns) + " ns is no step time of any SRT and data rate");
    }

    // The data command.
    const ExecState &e = s.exec;
    ck.range(static_cast<int>(e.cmd), 0, static_cast<int>(Command::Invalid), "ctrl.exec.cmd");
    ck.range(static_cast<int>(e.step), 0, static_cast<int>(ExecStep::Finish), "ctrl.exec.step");
    ck.range(e.unit, 0, kUnits - 1, "ctrl.exec.unit");
    ck.range(e.hds, 0, 1, "ctrl.exec.hds");
    ck.range(e.count, 0, 1024, "ctrl.exec.count");
    ck.range(e.limit, 0, 255, "ctrl.exec.limit");
    // Sectors are counted only against a limit (FORMAT's SC, VERIFY's EC), and a command stops
    // when it reaches it; a count past it would run on.
    ck.expect(
        e.count <= e.limit, "ctrl.exec.count",
        std::to_string(e.count) + " sectors counted against a limit of " + std::to_string(e.limit));
    const TrackLayout &L = e.layout;
    ck.range(L.gap2, 0, 255, "ctrl.exec.layout.gap2");
    ck.range(L.gap3, 0, 255, "ctrl.exec.layout.gap3");
    ck.range(L.sectors, 0, 255, "ctrl.exec.layout.sectors");
    ck.range(L.ns_num, 0, int64_t(1) << 40, "ctrl.exec.layout.ns_num");
    ck.range(L.ns_den, 1, int64_t(1) << 40, "ctrl.exec.layout.ns_den");
    const StreamState &sm = e.stream;
    ck.range(sm.len, 0, StreamState::kBufferSize, "ctrl.exec.stream.len");
    ck.expect(
        sm.moved <= sm.len, "ctrl.exec.stream.moved",
        std::to_string(sm.moved) + " bytes moved of a " + std::to_string(sm.len) + "-byte stream");
    ck.expect(
        (sm.ns_num == 0 && sm.ns_den == 1) || (sm.ns_num == L.ns_num && sm.ns_den == L.ns_den),
        "ctrl.exec.stream.ns_num", "the stream's byte time is neither none (fast) nor its track's");
    if (!ck.ok()) return ck.status();

    if (s.exec_active) {
        const DriveState &d = st.drives[e.unit];
        ck.expect(command_info(e.cmd).data_command(), "ctrl.exec.cmd",
                  "the execution phase runs a command without one");
        ck.expect(
            d.media.present, "ctrl.exec.unit",
            "a data command runs on drive " + std::to_string(e.unit) + ", which has no medium");
        const bool searched = e.step == ExecStep::Search || e.step == ExecStep::WaitIndex ||
                              e.step == ExecStep::Transfer || e.step == ExecStep::Finish;
        if (ck.ok() && searched) {
            const Geometry &g = d.media.geometry;
            // The track under the head as the medium in this drive has it (its identity is
            // checked apart); the state's own head position says which.
            DiskImage *m = const_cast<DiskImage *>(drives_[e.unit].media());  // reads only
            const int cylinder = m ? logical_cylinder(m->geometry(), st.drives[e.unit].type,
                                                      st.drives[e.unit].mech.cylinder)
                                   : -1;
            const TrackInfo t = read_track(m, cylinder, e.hds);
            ck.expect(!m || L == search_layout(s, *m, t), "ctrl.exec.layout",
                      "not the layout of the track the command searches");
            if (e.step == ExecStep::Transfer && m) {
                const bool format = e.cmd == Command::Format;
                const uint16_t len =
                    format ? 4 : stream_bytes(command_info(e.cmd).search, *m, e.n, e.dtl);
                ck.expect(sm.len == len, "ctrl.exec.stream.len",
                          std::to_string(sm.len) + " bytes: not the " + std::to_string(len) +
                              " the command moves per " + (format ? "ID" : "sector"));
                ck.range(e.hds, 0, g.heads - 1, "ctrl.exec.hds");
                const bool image = m && !m->tracks();
                if (format) {
                    ck.range(e.limit, 1, image ? g.sectors : kMaxSectorsPerTrack,
                             "ctrl.exec.limit");
                    ck.expect(e.count < e.limit, "ctrl.exec.count",
                              "FORMAT transfers past its sector count");
                } else if (ck.range(e.index, 0, int(t.sectors.size()) - 1, "ctrl.exec.index")) {
                    // The sector streaming is the one the search found: its ID (READ TRACK:
                    // its place).
                    const bool by_place = command_info(e.cmd).search == Search::Track;
                    const unsigned want = by_place ? e.index + 1u : t.sectors[e.index].id.r;
                    ck.expect(e.r == want, "ctrl.exec.r",
                              "R " + std::to_string(e.r) + " is not the sector being transferred");
                }
            }
        } else if (ck.ok()) {
            ck.expect(L == TrackLayout{}, "ctrl.exec.layout", "a track layout before any search");
        }
    }

    // Pins, and the reset state they depend on.
    const bool in_reset = !(s.dor & 0x04);
    const bool gated = c.mode != FdcMode::Ps2 && !(s.dor & 0x08);
    if (in_reset) {
        ck.expect(s.phase == FdcPhase::Command && s.cmd_len == 0, "ctrl.phase",
                  "a command in progress during reset");
        for (unsigned u = 0; u < kUnits; ++u)
            ck.expect(!s.seeks[u].active, unit_field("ctrl.seeks", u, "active"),
                      "a seek runs during reset");
    }
    ck.expect(!s.irq_out || (!in_reset && !gated), "ctrl.irq_out",
              "INT driven while reset or gated off by DOR");
    ck.expect(!s.drq_out || (!in_reset && !gated && s.exec_active && !s.nd), "ctrl.drq_out",
              "DRQ driven without a DMA data command");
    return ck.status();
}

Status Fdc82077::load_state(const FdcState &in) {
    if (running_)
        return Error(ErrorKind::Failed,
                     "the controller is inside a step; load its state between calls");
    if (Status valid = validate_state(in); !valid) return valid;
    for (unsigned u = 0; u < kUnits; ++u) {
        DiskImage *m = drives_[u].media();
        if (!m) continue;
        const std::string field = "field " + unit_field("drives", u, "media.fingerprint") + ": ";
        const Expected<uint64_t> fp = media_fingerprint(*m);
        if (!fp) return fp.error().prefixed(field);
        if (*fp != in.drives[u].media.fingerprint)
            return Error(ErrorKind::Failed, field + "the medium in drive " + std::to_string(u) +
                                                " ('" + m->source() + "', fingerprint " +
                                                hex64(*fp) + ") is not the one saved ('" +
                                                in.drives[u].media.source + "', fingerprint " +
                                                hex64(in.drives[u].media.fingerprint) +
                                                "); insert the image as it was when saved");
    }

    // Everything checked: apply.
    FdcState st = in;
    const int64_t now = host_.now_ns();
    for_each_instant(st,
                     [now](const char *, int, int64_t &t, TimeForm) { t = to_absolute(t, now); });
    s_ = st.ctrl;
    track_.forget();  // read again from the media, under the loaded head positions
    for (unsigned u = 0; u < kUnits; ++u) drives_[u].set_mechanics(st.drives[u].mech);
    // The pins and the timer exactly as they were: the host sees the saved levels and the saved
    // deadline, and no recomputation can add an event the uninterrupted run did not have.
    host_.set_irq(s_.irq_out);
    host_.set_drq(s_.drq_out);
    if (s_.armed == kNever)
        host_.cancel_timer();
    else
        host_.arm_timer(s_.armed);
    return {};
}

}  // namespace fdplug::floppy
