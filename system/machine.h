// The machine of the reference host: the PC platform (or an empty one), the device instances
// that plugins provide with their properties and buses, the drive definitions, and the virtual
// clock. It is also what the qtest server drives.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "fdplug/plugin.h"
#include "hw/core/guest_memory.h"
#include "hw/dma/i8237.h"
#include "hw/intc/i8259.h"
#include "hw/isa/isa_bus.h"
#include "hw/rtc/mc146818.h"
#include "system/cli_options.h"
#include "system/plugin_loader.h"
#include "system/qtest_server.h"
#include "system/virtual_clock.h"

// The host's records behind the ABI's opaque handles.
struct FdplugDevice {
    const FdplugDeviceTypeInfo *type = nullptr;
    void *self = nullptr;
    std::string id, path;
    std::map<std::string, std::string> props;  // after defaults, -global and -device
    std::set<std::string> user_set;            // properties the user gave
    FdplugDevice *parent = nullptr;            // provider of this device's bus (nullptr: ISA)
    bool realized = false;
};

struct FdplugDrive {
    std::string name;       // "floppy0", an id=, or a node-name
    std::string interface;  // "floppy", "none", … ("" for -blockdev)
    unsigned index = 0;
    std::map<std::string, std::string> options;
    FdplugDevice *owner = nullptr;
};

struct FdplugBuffer {
    std::vector<uint8_t> bytes;
};

namespace fdplug {

class Machine : public QtestTarget {
  public:
    Machine(const HostConfig &config, PluginLoader &plugins);
    ~Machine() override;

    // Creates the platform and every device, sets properties, realizes, runs machine_ready.
    bool build(std::string *error);
    void reset(FdplugResetKind kind);
    void unrealize_all();

    const HostConfig &config() const { return config_; }
    VirtualClock &clock() override { return clock_; }
    bool is_pc() const { return config_.machine == "pc"; }
    const char *property(const std::string &key) const;

    // ISA IRQ lines: the PIC, plus the qtest intercept of the ioapic.
    void set_isa_irq(unsigned line, bool level);
    std::function<void(const std::string &path, unsigned pin, bool level)> on_pin_change;

    IsaBus &bus() { return bus_; }
    IsaDma *dma() { return dma_.get(); }
    CmosRtc *cmos() { return cmos_.get(); }
    PicPair *pic() { return pic_.get(); }
    GuestMemory &memory() { return memory_; }
    // Deferred work that must never run re-entrantly inside a device callback (DMA service).
    void run_deferred();

    FdplugDrive *drive_by_id(const std::string &id);
    FdplugDrive *drive_by_if(const std::string &interface, unsigned index);
    const std::vector<std::unique_ptr<FdplugDevice>> &devices() const { return devices_; }
    const PluginLoader &plugins() const { return plugins_; }

    // QtestTarget
    uint32_t port_read(uint16_t port, unsigned size) override { return bus_.read(port, size); }
    void port_write(uint16_t port, uint32_t value, unsigned size) override {
        bus_.write(port, value, size);
    }
    void mem_read(uint64_t addr, std::span<uint8_t> out) override { memory_.read(addr, out); }
    void mem_write(uint64_t addr, std::span<const uint8_t> in) override { memory_.write(addr, in); }
    std::optional<std::string> resolve_path(std::string_view path) const override;
    unsigned gpio_in_count(const std::string &path) const override;
    void set_gpio_in(const std::string &path, unsigned pin, bool level) override;

    static constexpr const char *kIoapicPath = "/machine/ioapic";

  private:
    bool create_device(const FdplugDeviceTypeInfo *type, KeyValueOptions props, bool user,
                       std::string *error);
    bool set_property(FdplugDevice &dev, const FdplugPropertyInfo *info, const std::string &value,
                      std::string *error);
    bool attach_to_bus(FdplugDevice &dev, std::string *error);
    bool define_drives(std::string *error);
    void setup_pc_cmos();

    HostConfig config_;
    PluginLoader &plugins_;
    VirtualClock clock_;
    GuestMemory memory_;
    IsaBus bus_;
    std::unique_ptr<IsaDma> dma_;
    std::unique_ptr<PicPair> pic_;
    std::unique_ptr<CmosRtc> cmos_;
    std::vector<std::unique_ptr<FdplugDevice>> devices_;
    std::vector<std::unique_ptr<FdplugDrive>> drives_;
    unsigned anon_count_ = 0, unattached_count_ = 0;
    bool in_deferred_ = false;
};

}  // namespace fdplug
