#include "adapters/plugin/isa_fdc.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "hw/block/media/floppy_formats.h"

namespace fdplug::floppy::plugin {

namespace {

// The ISA decode: +0…+5 in one region, +7 alone; +6 is the IDE controller's
// (docs/hardware/82077aa.md §1).
uint32_t low_read(void *opaque, uint16_t offset, unsigned) {
    return static_cast<IsaFdc *>(opaque)->port_read(offset);
}
void low_write(void *opaque, uint16_t offset, uint32_t value, unsigned) {
    static_cast<IsaFdc *>(opaque)->port_write(offset, uint8_t(value));
}
uint32_t dir_read(void *opaque, uint16_t, unsigned) {
    return static_cast<IsaFdc *>(opaque)->port_read(kDir);
}
void ccr_write(void *opaque, uint16_t, uint32_t value, unsigned) {
    static_cast<IsaFdc *>(opaque)->port_write(kCcr, uint8_t(value));
}

// Byte registers: 16-bit accesses are split by the bus into byte accesses, lowest port
// first; 32-bit accesses are not decoded (reads all-ones), as on QEMU (docs/protocols/qtest.md §3).
constexpr FdplugPortOps kLowOps = {
    .read = low_read, .write = low_write, .native_sizes = 1, .split_sizes = 2};
constexpr FdplugPortOps kDirOps = {
    .read = dir_read, .write = ccr_write, .native_sizes = 1, .split_sizes = 2};

size_t dma_handler(void *opaque, FdplugDmaDir dir, uint8_t *buf, size_t len, bool tc) {
    return static_cast<IsaFdc *>(opaque)->dma(dir, buf, len, tc);
}

void timer_cb(void *opaque) {
    static_cast<IsaFdc *>(opaque)->timer_expired();
}

std::string hex(int64_t v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "0x%llx", static_cast<long long>(v));
    return buf;
}

bool take_error(char *msg, const std::string &prefix, std::string *error) {
    if (error) *error = prefix + (msg ? msg : "failed");
    std::free(msg);
    return false;
}

}  // namespace

IsaFdc::~IsaFdc() = default;

std::string IsaFdc::name() const {
    const char *id = host_.device_id(dev_);
    return id && *id ? std::string("isa-fdc '") + id + "'" : std::string("isa-fdc");
}

std::string IsaFdc::qom_name() const {
    const char *id = host_.device_id(dev_);
    return id && *id ? id : host_.device_path(dev_);
}

std::string IsaFdc::unit_path(unsigned unit) const {
    return std::string(host_.device_path(dev_)) + "/floppy" + std::to_string(unit);
}

// A drive the controller itself connects (driveA/driveB, -drive if=floppy, the default drive).
bool IsaFdc::realize(std::string *error) {
    const int64_t base = host_.prop_int(dev_, "iobase");
    const int64_t irq = host_.prop_int(dev_, "irq");
    const int64_t dma = host_.prop_int(dev_, "dma");
    if (base % 8 != 0) {
        if (error)
            *error = "property iobase=" + hex(base) +
                     " is not a multiple of 8: the controller decodes base+0..+7; use 0x3f0 "
                     "(primary) or 0x370 (secondary)";
        return false;
    }
    FdcConfig config;
    const char *timing = host_.prop_string(dev_, "timing");
    config.timing =
        timing && !std::strcmp(timing, "fast") ? TimingPolicy::Fast : TimingPolicy::Accurate;
    const char *mode = host_.prop_string(dev_, "mode");
    config.mode = !mode || !std::strcmp(mode, "at") ? FdcMode::At
                  : !std::strcmp(mode, "ps2")       ? FdcMode::Ps2
                                                    : FdcMode::Model30;
    const char *seek = host_.prop_string(dev_, "implied-seek");
    config.implied_seek =
        seek && !std::strcmp(seek, "always") ? ImpliedSeek::Always : ImpliedSeek::Configure;
    const char *fallback = host_.prop_string(dev_, "fallback");
    fallback_ = parse_drive_type(fallback ? fallback : "288").value_or(DriveType::k288);

    core_ = std::make_unique<Fdc82077>(*this, config);
    if (!is_default_controller()) ++plugin_.user_controllers;

    char *msg = nullptr;
    ports_ = host_.port_region_add(dev_, uint16_t(base), 6, &kLowOps, this, "fdc", &msg);
    if (!ports_)
        return take_error(
            msg,
            "property iobase=" + hex(base) + ": ports " + hex(base) + "-" + hex(base + 5) + ": ",
            error);
    dir_port_ = host_.port_region_add(dev_, uint16_t(base + 7), 1, &kDirOps, this, "dir", &msg);
    if (!dir_port_)
        return take_error(msg, "property iobase=" + hex(base) + ": port " + hex(base + 7) + ": ",
                          error);
    irq_ = host_.irq_claim(dev_, unsigned(irq), &msg);
    if (!irq_) return take_error(msg, "property irq=" + std::to_string(irq) + ": ", error);
    dma_ = host_.dma_claim(dev_, unsigned(dma), dma_handler, this, &msg);
    if (!dma_)
        return take_error(
            msg, "property dma=" + std::to_string(dma) + ": (pick a free 8-bit channel, 0-3) ",
            error);
    timer_ = host_.timer_new(dev_, timer_cb, this);
    return attach_legacy_drives(error);
}

// driveA/driveB (QEMU's -global isa-fdc.driveA=ID) and, for the machine's own controller,
// -drive if=floppy,index=N.
FloppySlot *IsaFdc::claim_unit(std::optional<unsigned> unit, const std::string &who,
                               std::string *error) {
    if (!unit) {
        for (unsigned u = 0; u < Fdc82077::kUnits && !unit; ++u)
            if (!slots_[u]) unit = u;
        if (!unit) {
            if (error)
                *error = who + ": all " + std::to_string(Fdc82077::kUnits) + " units of " + name() +
                         " are in use; put the drive on another controller with bus=";
            return nullptr;
        }
    }
    if (*unit >= Fdc82077::kUnits) {
        if (error) *error = who + ": unit " + std::to_string(*unit) + " does not exist (0-3)";
        return nullptr;
    }
    if (slots_[*unit]) {
        if (error)
            *error = who + ": floppy unit " + std::to_string(*unit) + " of " + name() +
                     " is in use; pick another unit= or leave unit= out for the next free one";
        return nullptr;
    }
    slots_[*unit] = std::make_unique<FloppySlot>(*this, *unit);
    return slots_[*unit].get();
}

void IsaFdc::release_unit(unsigned unit) {
    if (unit >= Fdc82077::kUnits || !slots_[unit]) return;
    slots_[unit]->detach();
    slots_[unit].reset();
}

void IsaFdc::unrealize() {
    for (auto &slot : slots_)
        if (slot) slot->flush_for_exit();
    if (timer_) host_.timer_free(timer_);
    timer_ = nullptr;
    if (dma_) host_.dma_release(dma_);
    dma_ = nullptr;
    if (irq_) host_.irq_release(irq_);
    irq_ = nullptr;
    if (dir_port_) host_.port_region_del(dir_port_);
    dir_port_ = nullptr;
    if (ports_) host_.port_region_del(ports_);
    ports_ = nullptr;
}

void IsaFdc::reset(FdplugResetKind kind) {
    // Power-on and system_reset pulse the ISA RESET DRV line; a CPU-only (warm) reset does not
    // reach the controller.
    if (kind == FDPLUG_RESET_COLD && core_) core_->hardware_reset();
}

size_t IsaFdc::dma(FdplugDmaDir dir, uint8_t *buf, size_t len, bool terminal_count) {
    const DmaCycle cycle = dir == FDPLUG_DMA_DEV_TO_MEM   ? DmaCycle::ToMemory
                           : dir == FDPLUG_DMA_MEM_TO_DEV ? DmaCycle::FromMemory
                                                          : DmaCycle::Verify;
    return core_->dma_transfer(cycle, std::span<uint8_t>(buf, len), terminal_count);
}

int64_t IsaFdc::now_ns() const {
    return host_.clock_ns();
}
void IsaFdc::set_irq(bool level) {
    host_.irq_set(irq_, level);
}
void IsaFdc::set_drq(bool level) {
    host_.dma_request(dma_, level);
}
void IsaFdc::arm_timer(int64_t deadline_ns) {
    host_.timer_mod(timer_, deadline_ns);
}
void IsaFdc::cancel_timer() {
    host_.timer_del(timer_);
}

}  // namespace fdplug::floppy::plugin
