// The floppy plugin's binding to the host (private to the plugin): the `isa-fdc` controller
// device, the drive slots it owns, and the `floppy` devices that plug into its bus. A thin
// layer: it turns port accesses, DMA cycles, timer expiries and block commands into calls on
// the controller core (fdc82077.h) and opens media; every floppy behaviour lives in the core.
#pragma once

#define FDPLUG_BUILDING_PLUGIN
#include <fdplug/plugin.h>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "hw/block/fdc82077.h"
#include "hw/block/fdc_host.h"
#include "hw/block/media/disk_image.h"
#include "hw/block/media/floppy_geometry.h"

namespace fdplug::floppy::plugin {

// The host's service table, kept by the plugin's init().
extern const FdplugHost *g_host;

// Where a medium comes from: a -drive definition's options, or a QMP request.
struct MediumRequest {
    std::string file;          // "" = no medium
    std::string format;        // "" or "raw"
    bool read_only = false;
    bool snapshot = false;     // -drive snapshot=on: writes go to a private copy in memory
    std::string size;          // null-co:// only: "1440k", "1474560", …
    DriveType drive = DriveType::Auto;  // the drive it goes into (Auto: the medium decides)
};

struct OpenedMedium {
    std::unique_ptr<DiskImage> image;    // set on success
    DriveType wants = DriveType::Auto;   // the drive type an `auto` drive becomes
    std::string file;                    // for query-block
    bool read_only = false;
    uint64_t virtual_size = 0;
    std::string error;                   // on failure: names the file, the problem and the fix
    bool locked = false;                 // the failure was a lock conflict
};

// Opens raw images through RawImage (snapshot=on copies one into memory; null-co:// gives a
// zero-filled medium of size=).
OpenedMedium open_medium(const MediumRequest &request);

class IsaFdc;

// One drive position of a controller (unit 0–3) and what is connected to it: the drive type,
// the -drive definition if any, the medium. Registered with the host's block commands.
class FloppySlot {
public:
    FloppySlot(IsaFdc &fdc, unsigned unit) : fdc_(fdc), unit_(unit) {}

    // Connects a drive of `requested` type (Auto: from the medium, else the controller's
    // fallback) and opens the -drive's medium, if any. `who` names the owner in messages.
    bool attach(FdplugDevice *owner, FdplugDrive *drive, DriveType requested,
                const std::string &qdev, const std::string &device_name, const std::string &who,
                std::string *error);
    // Flushes and removes the medium and disconnects the drive.
    void detach();
    // Writes every completed write through to the image; logs a failure.
    void flush_for_exit();

    unsigned unit() const { return unit_; }
    DriveType type() const { return type_; }

    // FdplugBlockOps
    char *query() const;
    bool eject(bool force, FdplugError *err);
    bool change_medium(const char *filename, const char *format, const char *read_only_mode,
                       FdplugError *err);

    static const FdplugBlockOps kBlockOps;

private:
    void insert(OpenedMedium &&medium);
    bool flush(std::string *error);

    IsaFdc &fdc_;
    unsigned unit_;
    DriveType type_ = DriveType::None;
    std::string qdev_, device_name_;
    bool drive_read_only_ = false;   // what blockdev-change-medium's "retain" keeps
    // The medium in the drive, as query-block reports it.
    bool has_medium_ = false;
    std::string medium_file_;
    bool medium_read_only_ = false;
    uint64_t medium_size_ = 0;
};

// The `isa-fdc` device: an 82077AA at iobase (ports +0…+5 and +7), one IRQ, one DMA channel,
// and the core's single timer. It is the core's FdcHost.
class IsaFdc final : public FdcHost {
public:
    explicit IsaFdc(FdplugDevice *dev) : dev_(dev) {}
    ~IsaFdc() override;

    bool realize(std::string *error);
    void unrealize();
    void reset(FdplugResetKind kind);
    void machine_ready();

    // A `floppy` device on this controller's bus takes a unit (nullopt: the lowest free one).
    FloppySlot *claim_unit(std::optional<unsigned> unit, const std::string &who,
                           std::string *error);
    void release_unit(unsigned unit);

    Fdc82077 &core() { return *core_; }
    DriveType fallback() const { return fallback_; }
    FdplugDevice *device() const { return dev_; }
    // "isa-fdc" or its id, for messages.
    std::string name() const;

    // FdcHost
    int64_t now_ns() const override;
    void set_irq(bool level) override;
    void set_drq(bool level) override;
    void arm_timer(int64_t deadline_ns) override;
    void cancel_timer() override;

    // Bus and timer entry points (called through the ABI's C callbacks).
    uint8_t port_read(unsigned offset) { return core_->read(offset); }
    void port_write(unsigned offset, uint8_t value) { core_->write(offset, value); }
    size_t dma(FdplugDmaDir dir, uint8_t *buf, size_t len, bool terminal_count);
    void timer_expired() { core_->on_timer(); }

    // QEMU's pc machine gives its controller an empty default drive unless -nodefaults, a
    // -device floppy or a -device isa-fdc is given: these count the last two.
    static unsigned floppy_devices;
    static unsigned user_controllers;

private:
    bool attach_legacy_drives(std::string *error);
    bool is_default_controller() const;
    void write_cmos();

    FdplugDevice *dev_;
    std::unique_ptr<Fdc82077> core_;
    FdplugPortRegion *ports_ = nullptr, *dir_port_ = nullptr;
    FdplugIrq *irq_ = nullptr;
    FdplugDma *dma_ = nullptr;
    FdplugTimer *timer_ = nullptr;
    DriveType fallback_ = DriveType::k288;
    std::array<std::unique_ptr<FloppySlot>, Fdc82077::kUnits> slots_{};
};

// The `floppy` device type (floppy_bus_devices.cc).
inline constexpr size_t kFloppyPropCount = 3;
extern const FdplugPropertyInfo kFloppyProps[kFloppyPropCount];
void *floppy_new(FdplugDevice *dev);
bool floppy_realize(void *self, char **errp);
void floppy_unrealize(void *self);
void floppy_free(void *self);

// Error helpers: ABI strings are malloc()ed.
char *dup_string(const std::string &text);
void set_error(FdplugError *err, const char *cls, const std::string &desc);

}  // namespace fdplug::floppy::plugin
