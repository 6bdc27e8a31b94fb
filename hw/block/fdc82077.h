// The Intel 82077AA floppy disk controller: registers, the command / execution / result phases,
// every command of the part, DMA and PIO transfers through a 16-byte FIFO, background seeks,
// reset and polling, and all mechanical and rotational timing through one host timer.
// Reference: shared/reference/82077aa.md (behaviour) and timing.md (when).
//
// The controller owns its four drive slots. It knows nothing of the bus it sits on: port
// offsets 0–7 come in through read()/write(), DMA through dma_transfer(), time through
// on_timer(), and INT/DRQ go out through FdcHost.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>

#include "hw/block/fdc_commands.h"
#include "hw/block/fdc_host.h"
#include "hw/block/fdc_observer.h"
#include "hw/block/fdc_timing.h"
#include "hw/block/floppy_drive.h"

namespace fdplug::floppy {

// Register personality selected by the IDENT/MFM straps (82077aa.md §1).
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
};

// Port offsets from the controller's base.
enum FdcPort : uint8_t { kSra = 0, kSrb = 1, kDor = 2, kTdr = 3, kMsr = 4, kDsr = 4, kFifo = 5, kDir = 7, kCcr = 7 };

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
    // interrupt pending, 82077aa.md §13 Δ3/Δ7).
    void hardware_reset();

    // Drives and media. A medium change ends a command running on that drive abnormally.
    FloppyDrive &drive(unsigned unit) { return drives_[unit & 3]; }
    const FloppyDrive &drive(unsigned unit) const { return drives_[unit & 3]; }
    void insert_media(unsigned unit, std::unique_ptr<DiskImage> media);
    std::unique_ptr<DiskImage> eject_media(unsigned unit);

    const FdcConfig &config() const { return config_; }
    void set_timing(TimingPolicy timing) { config_.timing = timing; }
    void set_observer(FdcObserver *observer) { observer_ = observer ? observer : &null_observer_; }

    bool irq_level() const { return irq_out_; }
    bool drq_level() const { return drq_out_; }
    uint8_t msr() const;
    uint8_t pcn(unsigned unit) const { return pcn_[unit & 3]; }
    // A command is between its first byte and its last result byte (or its seek is running).
    bool busy() const { return phase_ != Phase::Command || cmd_len_ != 0; }

private:
    enum class Phase : uint8_t { Command, Execution, Result };
    // Where a data command is in its execution.
    enum class Step : uint8_t { WaitDrive, ImpliedSeek, HeadLoad, Search, Transfer, WaitIndex, Finish };

    // One sector's data between the disk and the host, paced by the byte clock of the track
    // (zero under the fast policy). Reads fill it from the disk, writes drain it to the disk.
    struct Stream {
        bool to_host = true;
        bool host_side = true;     // false: no data phase with the host (VERIFY)
        uint16_t len = 0;
        uint16_t moved = 0;        // bytes the host has taken (read) or given (write)
        int64_t t0 = 0;            // first data byte on the disk
        int64_t ns_num = 0, ns_den = 1;
        // The host is serving a request: it holds until the FIFO is empty (reads) or full
        // (writes), although the level has left the trigger point (82077aa.md §7).
        bool burst = false;
        std::array<uint8_t, 512> buf{};
    };

    struct Seek {
        bool active = false;
        bool recalibrate = false;
        bool inward = false;
        uint8_t target = 0;        // PCN when done
        uint16_t steps = 0;        // pulses to issue
        bool fail = false;         // EC at the end (recalibrate limit, relative seek past 0)
        int64_t start = 0, step_ns = 0, done = kNever;
    };

    struct Exec {
        Command cmd = Command::Invalid;
        Step step = Step::Finish;
        uint8_t unit = 0, hds = 0;
        uint8_t c = 0, h = 0, r = 0, n = 0, eot = 0, gpl = 0, dtl = 0;
        bool mt = false, mfm = false, sk = false;
        uint8_t st0 = 0, st1 = 0, st2 = 0;
        bool seeked = false;       // an implied seek ran (SE in ST0)
        bool tc = false;
        uint16_t count = 0;        // sectors done (VERIFY EC, FORMAT)
        uint16_t limit = 0;        // VERIFY EC sector count / FORMAT SC
        int64_t due = kNever;
        int64_t search_from = 0;   // when the current search began
        int64_t give_up = kNever;  // the second index pulse
        int64_t sector_end = kNever;
        bool scan_hit = false, scan_fail = false;
        uint8_t fill = 0;          // FORMAT fill byte
        TrackLayout layout{};
        Stream stream{};
    };

    // --- phases
    void accept_command_byte(uint8_t value);
    void start_command();
    void enter_result(std::span<const uint8_t> bytes, bool interrupt);
    void finish_data_command();
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
    void cmd_seek();
    using Handler = void (Fdc82077::*)();
    static const std::array<Handler, kCommandCount> kHandlers;  // indexed by Command
    // --- seeks
    void start_seek(unsigned unit, Command cmd);
    void finish_seek(unsigned unit);
    void push_interrupt_status(unsigned unit, uint8_t st0);
    // --- data commands
    void start_data_command();
    void exec_run(int64_t now);
    void exec_begin_search(int64_t now);
    void exec_search(int64_t now);
    void exec_sector_found(int64_t t_id);
    void exec_sector_done(int64_t now);
    void exec_fail(uint8_t st1, uint8_t st2 = 0);
    void exec_abort_for_media(unsigned unit);
    bool advance_sector();  // false when the command ends after this sector
    bool exec_is_write() const;
    bool exec_moves_host_data() const;
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
    uint16_t stream_host_room(int64_t t) const;  // bytes the host may move now
    // --- reset
    void enter_reset();
    void leave_reset();
    void software_reset();
    void poll_drives();
    // --- time
    void run(int64_t now);
    void update_outputs();
    bool fast() const { return config_.timing == TimingPolicy::Fast; }
    DataRate rate() const { return static_cast<DataRate>(dsr_ & 3); }
    bool dma_mode() const { return !nd_; }
    bool outputs_gated() const { return config_.mode != FdcMode::Ps2 && !(dor_ & 0x08); }
    bool in_reset() const { return !(dor_ & 0x04); }
    bool pio_execution() const;
    uint8_t st0_for(uint8_t ic) const;

    FdcHost &host_;
    FdcConfig config_;
    FdcObserver null_observer_;
    FdcObserver *observer_ = &null_observer_;
    std::array<FloppyDrive, kUnits> drives_{};

    // Registers
    uint8_t dor_ = 0x0C, tdr_ = 0, dsr_ = 0, ccr_noprec_ = 0;
    uint8_t srt_ = 0, hut_ = 0, hlt_ = 0;
    bool nd_ = false;
    bool eis_ = false, efifo_ = true, poll_off_ = false;
    uint8_t fifothr_ = 0, pretrk_ = 0;
    bool lock_ = false;
    uint8_t perp_drives_ = 0, perp_gap_wgate_ = 0;
    uint8_t last_eot_ = 0;
    std::array<uint8_t, kUnits> pcn_{};

    // Command / result
    Phase phase_ = Phase::Command;
    std::array<uint8_t, kMaxCommandBytes> cmd_{};
    uint8_t cmd_len_ = 0;
    const CommandInfo *cmd_info_ = nullptr;
    std::array<uint8_t, kMaxResultBytes> res_{};
    uint8_t res_len_ = 0, res_pos_ = 0;

    // Interrupt sources
    bool result_int_ = false;   // data command result phase: until the last result byte
    bool status_int_ = false;   // seek end / polling: until SENSE INTERRUPT
    std::array<uint8_t, kUnits> status_queue_{};  // units with a pending SIS status, in order
    std::array<uint8_t, kUnits> status_st0_{};
    uint8_t status_count_ = 0;
    int64_t poll_due_ = kNever;

    std::array<Seek, kUnits> seeks_{};
    Exec exec_{};
    bool exec_active_ = false;

    bool irq_out_ = false, drq_out_ = false;
    int64_t armed_ = kNever;
    bool running_ = false;
};

}  // namespace fdplug::floppy
