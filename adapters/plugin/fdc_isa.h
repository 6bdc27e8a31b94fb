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

#include "hw/block/fdc/fdc82077.h"
#include "hw/block/fdc/fdc_host.h"
#include "hw/block/management/floppy_manager.h"
#include "hw/block/management/media_slot.h"
#include "hw/block/media/floppy_geometry.h"
#include "hw/block/media/media_faults.h"

namespace fdplug::floppy::plugin {

// The host's service table, kept by the plugin's init().
extern const FdplugHost *g_host;

class IsaFdc;

// The floppy-* commands and events of every controller of the process (floppy_manager.h):
// each connected drive joins it; the plugin's init registers its commands with the host.
FloppyManager &floppy_manager();

// How a drive slot is connected: what drive, from which -drive definition, under what names.
struct SlotRequest {
    FdplugDevice *owner = nullptr;     // claims the -drive and registers the slot for query-block
    FdplugDrive *drive = nullptr;      // the -drive definition with the medium, or none (empty)
    DriveType type = DriveType::Auto;  // Auto: from the medium, else the controller's fallback
    std::string id;                    // the drive device's id, "" if none
    std::string path;                  // the drive's QOM path
    std::string device_name;           // the legacy drive name, "" if none
    std::string who;                   // names the owner in messages
    MediaFaultsPtr faults;             // test-only fault injection (x-fail-flush, x-fail-read)
};

// One drive position of a controller (unit 0–3) as the host sees it: the -drive definition it
// claimed and its registration with the host's block commands. The drive and its medium are a
// MediaSlot (media_slot.h), shared with the floppy-* commands.
class FloppySlot {
  public:
    FloppySlot(IsaFdc &fdc, unsigned unit) : fdc_(fdc), unit_(unit) {}
    ~FloppySlot();
    FloppySlot(const FloppySlot &) = delete;
    FloppySlot &operator=(const FloppySlot &) = delete;

    // Connects a drive of the requested type and inserts the -drive's medium, if any (no event:
    // the medium was there at power-on).
    bool attach(const SlotRequest &request, std::string *error);
    // Flushes and removes the medium and disconnects the drive.
    void detach();
    // Writes every completed write through to the image; logs a failure.
    void flush_for_exit();

    unsigned unit() const { return unit_; }
    DriveType type() const { return type_; }

    static const FdplugBlockOps kBlockOps;

  private:
    IsaFdc &fdc_;
    unsigned unit_;
    DriveType type_ = DriveType::None;
    std::unique_ptr<MediaSlot> media_;
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
    // Its id, else its QOM path (query-floppy-drives' controller).
    std::string qom_name() const;
    // The QOM path of a unit's drive when no drive device names it.
    std::string unit_path(unsigned unit) const;

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
    SlotRequest legacy_request(unsigned unit, FdplugDrive *drive, const std::string &who) const;
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
inline constexpr size_t kFloppyPropCount = 5;
extern const FdplugPropertyInfo kFloppyProps[kFloppyPropCount];
void *floppy_new(FdplugDevice *dev);
bool floppy_realize(void *self, char **errp);
void floppy_unrealize(void *self);
void floppy_free(void *self);

// Error helpers: ABI strings are malloc()ed.
char *dup_string(const std::string &text);
void set_error(FdplugError *err, const char *cls, const std::string &desc);

}  // namespace fdplug::floppy::plugin
