// The `isa-fdc` device: an 82077AA at iobase (ports +0..+5 and +7), one IRQ, one DMA channel and
// the core's single timer, with up to four drive slots. A thin binding: it turns port accesses,
// DMA cycles and timer expiries into calls on the controller core (hw/block/fdc/fdc82077.h), and
// is the core's FdcHost; every floppy behaviour lives in the core.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "adapters/plugin/floppy_plugin.h"
#include "adapters/plugin/floppy_slot.h"
#include "hw/block/fdc/fdc82077.h"
#include "hw/block/fdc/fdc_host.h"

namespace fdplug::floppy::plugin {

class IsaFdc final : public FdcHost {
  public:
    IsaFdc(FloppyPlugin &plugin, FdplugDevice *dev)
        : plugin_(plugin), host_(plugin.host), dev_(dev) {}
    ~IsaFdc() override;

    bool realize(std::string *error);
    void unrealize();
    void reset(FdplugResetKind kind);
    // The machine is complete: the pc machine's default drive and the CMOS bytes
    // (pc_floppy_defaults.cc).
    void machine_ready();

    // A `floppy` device on this controller's bus takes a unit (nullopt: the lowest free one).
    FloppySlot *claim_unit(std::optional<unsigned> unit, const std::string &who,
                           std::string *error);
    void release_unit(unsigned unit);

    FloppyPlugin &plugin() const { return plugin_; }
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

  private:
    // The pc machine's floppy policy (pc_floppy_defaults.cc).
    bool attach_legacy_drives(std::string *error);
    SlotRequest legacy_request(unsigned unit, FdplugDrive *drive, const std::string &who) const;
    bool is_default_controller() const;
    void write_cmos();

    FloppyPlugin &plugin_;
    const FdplugHost &host_;
    FdplugDevice *dev_;
    std::unique_ptr<Fdc82077> core_;
    FdplugPortRegion *ports_ = nullptr, *dir_port_ = nullptr;
    FdplugIrq *irq_ = nullptr;
    FdplugDma *dma_ = nullptr;
    FdplugTimer *timer_ = nullptr;
    DriveType fallback_ = DriveType::k288;
    std::array<std::unique_ptr<FloppySlot>, Fdc82077::kUnits> slots_{};
};

}  // namespace fdplug::floppy::plugin
