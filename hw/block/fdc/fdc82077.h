// The Intel 82077AA floppy disk controller: registers, the command / execution / result phases,
// every command of the part, DMA and PIO transfers through a 16-byte FIFO, background seeks,
// reset and polling, and all mechanical and rotational timing through one host timer.
// Reference: docs/hardware/82077aa.md (behaviour) and docs/hardware/timing.md (when).
//
// The controller owns its four drive slots. It knows nothing of the bus it sits on: port
// offsets 0–7 come in through read()/write(), DMA through dma_transfer(), time through
// on_timer(), and INT/DRQ go out through FdcHost.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "hw/block/error/expected.h"
#include "hw/block/fdc/fdc_commands.h"
#include "hw/block/fdc/fdc_host.h"
#include "hw/block/fdc/fdc_observer.h"
#include "hw/block/fdc/fdc_regs.h"
#include "hw/block/fdc/fdc_state.h"
#include "hw/block/fdc/fdc_timing.h"
#include "hw/block/fdc/fdc_track.h"
#include "hw/block/fdc/floppy_drive.h"

namespace fdplug::floppy {

class Fdc82077 {
  public:
    static constexpr unsigned kUnits = 4;
    static constexpr unsigned kFifoDepth = 16;

    Fdc82077(FdcHost &host, FdcConfig config);
    Fdc82077(const Fdc82077 &) = delete;
    Fdc82077 &operator=(const Fdc82077 &) = delete;

    // Bus side. Offsets are taken modulo 8; +6 is not the controller's and reads 0xFF.
    uint8_t read(unsigned offset);
    void write(unsigned offset, uint8_t value);
    // The host's DMA controller offers `buf` while DRQ is asserted; returns the bytes taken or
    // produced. `terminal_count`: the last byte offered is the channel's last (TC).
    size_t dma_transfer(DmaCycle cycle, std::span<uint8_t> buf, bool terminal_count);
    // The host's timer reached the deadline last armed.
    void on_timer();

    // Power-on / machine reset: the state PC firmware leaves (DOR 0x0C, 500 kbit/s, no
    // interrupt pending, docs/hardware/82077aa.md §8, docs/divergences.md Δ3/Δ7).
    void hardware_reset();

    // Drives and media. A medium change ends a command running on that drive abnormally.
    FloppyDrive &drive(unsigned unit) { return drives_[unit & 3]; }
    const FloppyDrive &drive(unsigned unit) const { return drives_[unit & 3]; }
    void insert_media(unsigned unit, std::unique_ptr<DiskImage> media);
    std::unique_ptr<DiskImage> eject_media(unsigned unit);

    const FdcConfig &config() const { return config_; }
    // Switches the timing policy of the running controller (qom-set timing): delays computed
    // from now on use it; an event already scheduled keeps its time.
    void set_timing(TimingPolicy timing);
    void set_observer(FdcObserver *observer) { observer_ = observer ? observer : &null_observer_; }

    bool irq_level() const { return s_.irq_out; }
    bool drq_level() const { return s_.drq_out; }
    uint8_t msr() const;
    uint8_t pcn(unsigned unit) const { return s_.pcn[unit & 3]; }
    // A command is between its first byte and its last result byte (or its seek is running).
    bool busy() const { return s_.phase != Phase::Command || s_.cmd_len != 0; }

    // --- Device state (fdc_state.h; the wire format is fdc_state_format.h, docs/state.md).
    // The whole state, exact at any instant between two calls into the core, with every instant
    // relative to the clock now. Media identities carry no fingerprint (see save_state()).
    FdcState state() const;
    // state() plus each medium's fingerprint, which reads every sector (nothing the guest can
    // see). An error when a medium cannot be read.
    Expected<FdcState> save_state();
    // Validates `s` completely — every field against its range, the invariants the model keeps
    // (FIFO and result indexes, queue contents, the stream against its track layout, sector
    // numbers during a transfer, phases against each other), this controller's configuration
    // and drives, and each medium's identity including its fingerprint — and only then applies
    // it: instants become absolute on the clock now, the INT and DRQ pins are driven and the
    // timer armed exactly as saved. On failure nothing changes and the error names the field.
    Status load_state(const FdcState &s);
    // The checks of load_state() that need no medium reads (fingerprints are not compared).
    Status validate_state(const FdcState &s) const;

  private:
    using Phase = FdcPhase;
    using Step = ExecStep;
    using Stream = StreamState;
    using Seek = SeekState;
    using Exec = ExecState;
    friend struct CommandTable;  // the command table (fdc_commands.cc) names the handlers

    // --- phases
    void accept_command_byte(uint8_t value);
    void start_command();
    // The command whose bytes are being collected or run: the one cmd[0] names.
    const CommandInfo &cmd_info() const { return decode_command(s_.cmd[0]); }
    void enter_result(std::span<const uint8_t> bytes, bool interrupt);
    // --- register commands
    void cmd_sense_interrupt();
    void cmd_sense_drive();
    void cmd_specify();
    void cmd_configure();
    void cmd_dumpreg();
    void cmd_version();
    void cmd_lock();
    void cmd_perpendicular();
    void cmd_invalid();
    // --- seeks: they run on the drive in the background after the command phase
    void cmd_recalibrate();
    void cmd_seek();
    void cmd_relative_seek();
    Seek &new_seek(unsigned unit);
    void launch_seek(unsigned unit);
    void finish_seek(unsigned unit);
    void push_interrupt_status(unsigned unit, uint8_t st0);
    // --- data commands
    void cmd_read_write();
    void cmd_format();
    void cmd_read_id();
    Exec &new_exec();
    bool exec_admitted();
    void exec_start();
    // The data command being executed (or last executed).
    const CommandInfo &exec_info() const { return command_info(s_.exec.cmd); }
    void exec_run(int64_t now);
    bool implied_seek_done(int64_t now);
    void exec_begin_search(int64_t now);
    void exec_search(int64_t now);
    // The track under the head of the command's drive (fdc_track.h).
    const TrackInfo &track();
    bool track_readable(const TrackInfo &t) const;
    // The layout the command's search times against: the track's own, or for FORMAT on a
    // track medium the track it lays down. `c` is the controller state it runs in.
    TrackLayout search_layout(const ControllerState &c, DiskImage &m, const TrackInfo &t) const;
    struct SearchFailure {
        uint8_t st1, st2;
    };
    SearchFailure search_failure(const TrackInfo &t) const;
    struct IdHit {
        unsigned k;  // 1-based, physical order; 0: none
        int64_t at;
    };
    IdHit first_id(const FloppyDrive &d, const TrackInfo &t, int64_t from) const;
    void end_at(int64_t at, int64_t now);
    void exec_read_id(FloppyDrive &d, int64_t from, int64_t now);
    void exec_index_found(int64_t index, int64_t now);
    void exec_sector_found(int64_t t_id, unsigned k);
    bool read_data_field(int64_t first_byte);
    void exec_transfer(int64_t now);
    void exec_sector_done(int64_t now);
    bool write_sector(DiskImage &m, unsigned cylinder);
    void scan_sector(DiskImage &m, unsigned cylinder);
    bool format_sector(DiskImage &m, unsigned cylinder);
    bool collect_format_id();
    bool lay_down_track();
    void exec_next_sector(int64_t now);
    bool advance_sector();  // false when the command ends after this sector
    void withdraw_request();
    void exec_fail(uint8_t st1, uint8_t st2 = 0);
    void finish_data_command();
    void exec_result(uint8_t ic, uint8_t st1, uint8_t st2);
    void exec_abort_for_media(unsigned unit);
    int64_t exec_deadline() const;
    // --- data stream (FIFO)
    unsigned fifo_depth() const;
    unsigned read_trigger() const;
    unsigned write_threshold() const;
    uint16_t stream_disk_bytes(int64_t t) const;  // bytes the disk side has produced/consumed
    unsigned stream_level(int64_t t) const;       // bytes in the FIFO
    void stream_served(int64_t t);                // the host has just moved bytes
    bool stream_request(int64_t t) const;
    int64_t stream_next_request(int64_t t) const;
    int64_t stream_overrun_at() const;
    int64_t fast_overrun_at() const;             // the same under the fast policy (PIO only)
    uint16_t stream_host_room(int64_t t) const;  // bytes the host may move now
    // --- registers
    uint8_t read_sra() const;
    uint8_t read_srb() const;
    uint8_t read_dir() const;
    std::optional<uint8_t> read_fifo();
    void write_dor(uint8_t value, int64_t now);
    bool write_fifo(uint8_t value, int64_t now);
    // --- reset
    void enter_reset();
    void leave_reset();
    void software_reset();
    void poll_drives();
    // --- time
    void run(int64_t now);
    void update_outputs();
    DataRate rate() const { return static_cast<DataRate>(s_.dsr & dsr::kRateSelect); }
    bool dma_mode() const { return !s_.nd; }
    bool outputs_gated() const { return config_.mode != FdcMode::Ps2 && !(s_.dor & dor::kDmaGate); }
    bool in_reset() const { return !(s_.dor & dor::kNotReset); }
    bool pio_execution() const;
    uint8_t st0_for(uint8_t ic) const;

    FdcHost &host_;
    FdcConfig config_;
    const Timing *timing_;
    FdcObserver null_observer_;
    FdcObserver *observer_ = &null_observer_;
    std::array<FloppyDrive, kUnits> drives_{};

    // The live state (fdc_state.h), instants absolute. The drives hold their own mechanics.
    ControllerState s_{};
    bool running_ = false;
    TrackCache track_;  // not state: read again from the medium after a load
};

}  // namespace fdplug::floppy
