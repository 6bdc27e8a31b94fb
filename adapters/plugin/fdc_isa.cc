// The `isa-fdc` device: the 82077AA core on the host's ISA bus, with its ports, IRQ, DMA
// channel and timer, the legacy drive bindings (driveA/driveB, -drive if=floppy, the pc
// machine's default drive), CMOS, reset; and the plugin's entry point.
#include "adapters/plugin/fdc_isa.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <nlohmann/json.hpp>
#include <string>

#include "hw/block/management/floppy_schema.h"
#include "hw/block/media/floppy_formats.h"
#include "hw/block/state/fdc_state_format.h"

namespace fdplug::floppy::plugin {

const FdplugHost *g_host = nullptr;

FloppyManager &floppy_manager() {
    static FloppyManager manager;
    return manager;
}
unsigned IsaFdc::floppy_devices = 0;
unsigned IsaFdc::user_controllers = 0;

char *dup_string(const std::string &text) {
    return strdup(text.c_str());
}

void set_error(FdplugError *err, const char *cls, const std::string &desc) {
    if (!err) return;
    err->cls = cls;
    err->cls_static = true;
    err->desc = dup_string(desc);
    err->extra_json = nullptr;
}

namespace {

// The ISA decode: +0…+5 in one region, +7 alone; +6 is the IDE controller's (82077aa.md §1).
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
// first; 32-bit accesses are not decoded (reads all-ones), as on QEMU (qtest-protocol.md §3).
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
    const char *id = g_host->device_id(dev_);
    return id && *id ? std::string("isa-fdc '") + id + "'" : std::string("isa-fdc");
}

std::string IsaFdc::qom_name() const {
    const char *id = g_host->device_id(dev_);
    return id && *id ? id : g_host->device_path(dev_);
}

std::string IsaFdc::unit_path(unsigned unit) const {
    return std::string(g_host->device_path(dev_)) + "/floppy" + std::to_string(unit);
}

// A drive the controller itself connects (driveA/driveB, -drive if=floppy, the default drive).
SlotRequest IsaFdc::legacy_request(unsigned unit, FdplugDrive *drive,
                                   const std::string &who) const {
    SlotRequest request;
    request.owner = dev_;
    request.drive = drive;
    request.path = unit_path(unit);
    request.device_name = drive ? g_host->drive_name(drive) : "";
    request.who = who;
    return request;
}

bool IsaFdc::is_default_controller() const {
    // The one the pc machine creates by itself (QEMU's built-in controller) owns the legacy
    // if=floppy drives and fills CMOS; user-created ones (-device isa-fdc) do not.
    const char *path = g_host->device_path(dev_);
    return path && std::strncmp(path, "/machine/unattached/", 20) == 0;
}

bool IsaFdc::realize(std::string *error) {
    const int64_t base = g_host->prop_int(dev_, "iobase");
    const int64_t irq = g_host->prop_int(dev_, "irq");
    const int64_t dma = g_host->prop_int(dev_, "dma");
    if (base % 8 != 0) {
        if (error)
            *error = "property iobase=" + hex(base) +
                     " is not a multiple of 8: the controller decodes base+0..+7; use 0x3f0 "
                     "(primary) or 0x370 (secondary)";
        return false;
    }
    FdcConfig config;
    const char *timing = g_host->prop_string(dev_, "timing");
    config.timing =
        timing && !std::strcmp(timing, "fast") ? TimingPolicy::Fast : TimingPolicy::Accurate;
    const char *mode = g_host->prop_string(dev_, "mode");
    config.mode = !mode || !std::strcmp(mode, "at") ? FdcMode::At
                  : !std::strcmp(mode, "ps2")       ? FdcMode::Ps2
                                                    : FdcMode::Model30;
    const char *seek = g_host->prop_string(dev_, "implied-seek");
    config.implied_seek =
        seek && !std::strcmp(seek, "always") ? ImpliedSeek::Always : ImpliedSeek::Configure;
    const char *fallback = g_host->prop_string(dev_, "fallback");
    fallback_ = parse_drive_type(fallback ? fallback : "288").value_or(DriveType::k288);

    core_ = std::make_unique<Fdc82077>(*this, config);
    if (!is_default_controller()) ++user_controllers;

    char *msg = nullptr;
    ports_ = g_host->port_region_add(dev_, uint16_t(base), 6, &kLowOps, this, "fdc", &msg);
    if (!ports_)
        return take_error(
            msg,
            "property iobase=" + hex(base) + ": ports " + hex(base) + "-" + hex(base + 5) + ": ",
            error);
    dir_port_ = g_host->port_region_add(dev_, uint16_t(base + 7), 1, &kDirOps, this, "dir", &msg);
    if (!dir_port_)
        return take_error(msg, "property iobase=" + hex(base) + ": port " + hex(base + 7) + ": ",
                          error);
    irq_ = g_host->irq_claim(dev_, unsigned(irq), &msg);
    if (!irq_) return take_error(msg, "property irq=" + std::to_string(irq) + ": ", error);
    dma_ = g_host->dma_claim(dev_, unsigned(dma), dma_handler, this, &msg);
    if (!dma_)
        return take_error(
            msg, "property dma=" + std::to_string(dma) + ": (pick a free 8-bit channel, 0-3) ",
            error);
    timer_ = g_host->timer_new(dev_, timer_cb, this);
    return attach_legacy_drives(error);
}

// driveA/driveB (QEMU's -global isa-fdc.driveA=ID) and, for the machine's own controller,
// -drive if=floppy,index=N.
bool IsaFdc::attach_legacy_drives(std::string *error) {
    const char *props[2] = {"driveA", "driveB"};
    for (unsigned unit = 0; unit < 2; ++unit) {
        const char *id = g_host->prop_string(dev_, props[unit]);
        if (!id || !*id) continue;
        FdplugDrive *drive = g_host->drive_by_id(id);
        if (!drive) {
            if (error)
                *error = std::string("property ") + props[unit] + "=" + id +
                         ": no drive with id '" + id + "'; define it with -drive if=none,id=" + id +
                         ",file=IMAGE,format=raw";
            return false;
        }
        auto slot = std::make_unique<FloppySlot>(*this, unit);
        if (!slot->attach(
                legacy_request(unit, drive, std::string("property ") + props[unit] + "=" + id),
                error))
            return false;
        slots_[unit] = std::move(slot);
    }
    if (!is_default_controller()) return true;
    for (unsigned unit = 0; unit < Fdc82077::kUnits; ++unit) {
        FdplugDrive *drive = g_host->drive_by_if("floppy", unit);
        if (!drive) continue;
        const std::string what = "-drive if=floppy,index=" + std::to_string(unit);
        if (slots_[unit]) {
            if (error)
                *error = what + ": unit " + std::to_string(unit) + " already has property " +
                         props[unit] + "; give the drive to one of them only";
            return false;
        }
        auto slot = std::make_unique<FloppySlot>(*this, unit);
        if (!slot->attach(legacy_request(unit, drive, what), error)) return false;
        slots_[unit] = std::move(slot);
    }
    return true;
}

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

void IsaFdc::machine_ready() {
    if (!is_default_controller()) return;
    // QEMU's pc machine adds an empty if=floppy drive at index 0 unless -nodefaults, or a
    // -device floppy / -device isa-fdc, says otherwise: an empty `auto` drive (CMOS 0x50).
    const char *nodefaults = g_host->machine_property("nodefaults");
    if (!(nodefaults && !std::strcmp(nodefaults, "on")) && floppy_devices == 0 &&
        user_controllers == 0 && !slots_[0]) {
        auto slot = std::make_unique<FloppySlot>(*this, 0);
        std::string why;
        SlotRequest request = legacy_request(0, nullptr, "default drive");
        request.device_name = "floppy0";
        if (slot->attach(request, &why))
            slots_[0] = std::move(slot);
        else
            g_host->log(dev_, FDPLUG_LOG_WARNING, "no default floppy drive: %s", why.c_str());
    }
    write_cmos();
}

// CMOS 0x10 (types of drives A and B) and the equipment byte 0x14 (bit 0: diskette drives
// present; bits 7-6: count - 1), other bits kept (geometry.md §5).
void IsaFdc::write_cmos() {
    DriveType types[2] = {DriveType::None, DriveType::None};
    for (unsigned u = 0; u < 2; ++u)
        if (slots_[u]) types[u] = slots_[u]->type();
    g_host->cmos_write(0x10, uint8_t(cmos_drive_code(types[0]) << 4 | cmos_drive_code(types[1])));
    const unsigned count = (types[0] != DriveType::None) + (types[1] != DriveType::None);
    uint8_t equipment = g_host->cmos_read(0x14) & 0x3E;
    if (count) equipment |= uint8_t(0x01 | (count - 1) << 6);
    g_host->cmos_write(0x14, equipment);
}

void IsaFdc::unrealize() {
    for (auto &slot : slots_)
        if (slot) slot->flush_for_exit();
    if (timer_) g_host->timer_free(timer_);
    timer_ = nullptr;
    if (dma_) g_host->dma_release(dma_);
    dma_ = nullptr;
    if (irq_) g_host->irq_release(irq_);
    irq_ = nullptr;
    if (dir_port_) g_host->port_region_del(dir_port_);
    dir_port_ = nullptr;
    if (ports_) g_host->port_region_del(ports_);
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
    return g_host->clock_ns();
}
void IsaFdc::set_irq(bool level) {
    g_host->irq_set(irq_, level);
}
void IsaFdc::set_drq(bool level) {
    g_host->dma_request(dma_, level);
}
void IsaFdc::arm_timer(int64_t deadline_ns) {
    g_host->timer_mod(timer_, deadline_ns);
}
void IsaFdc::cancel_timer() {
    g_host->timer_del(timer_);
}

// --- the ABI's view of isa-fdc -------------------------------------------------------------

namespace {

const char *const kTimingValues[] = {"accurate", "fast", nullptr};
const char *const kModeValues[] = {"at", "ps2", "model30", nullptr};
const char *const kFallbackValues[] = {"288", "144", "120", nullptr};
const char *const kImpliedSeekValues[] = {"configure", "always", nullptr};

const FdplugPropertyInfo kFdcProps[] = {
    {.name = "iobase",
     .type = FDPLUG_PROP_INT,
     .default_value = "0x3f0",
     .enum_values = nullptr,
     .min = 0,
     .max = 0xFFF8,
     .description = "base I/O port (0x3f0 primary, 0x370 secondary)"},
    {.name = "irq",
     .type = FDPLUG_PROP_INT,
     .default_value = "6",
     .enum_values = nullptr,
     .min = 0,
     .max = 15,
     .description = "ISA IRQ line"},
    {.name = "dma",
     .type = FDPLUG_PROP_INT,
     .default_value = "2",
     .enum_values = nullptr,
     .min = 0,
     .max = 3,
     .description = "ISA DMA channel (8-bit)"},
    {.name = "driveA",
     .type = FDPLUG_PROP_STRING,
     .default_value = nullptr,
     .enum_values = nullptr,
     .min = 0,
     .max = 0,
     .description = "drive id for unit 0 (-drive if=none,id=...)"},
    {.name = "driveB",
     .type = FDPLUG_PROP_STRING,
     .default_value = nullptr,
     .enum_values = nullptr,
     .min = 0,
     .max = 0,
     .description = "drive id for unit 1 (-drive if=none,id=...)"},
    {.name = "fallback",
     .type = FDPLUG_PROP_ENUM,
     .default_value = "288",
     .enum_values = kFallbackValues,
     .min = 0,
     .max = 0,
     .description = "drive type an empty auto drive becomes"},
    {.name = "timing",
     .type = FDPLUG_PROP_ENUM,
     .default_value = "accurate",
     .enum_values = kTimingValues,
     .min = 0,
     .max = 0,
     .description = "accurate: real mechanical and data-rate delays; fast: at once, like QEMU"},
    {.name = "mode",
     .type = FDPLUG_PROP_ENUM,
     .default_value = "at",
     .enum_values = kModeValues,
     .min = 0,
     .max = 0,
     .description = "register personality: at, ps2 or model30"},
    {.name = "implied-seek",
     .type = FDPLUG_PROP_ENUM,
     .default_value = "configure",
     .enum_values = kImpliedSeekValues,
     .min = 0,
     .max = 0,
     .description = "configure: seek before data commands only with CONFIGURE EIS (datasheet); "
                    "always: like Bochs and QEMU"},
};

void *fdc_new(FdplugDevice *dev) {
    return new (std::nothrow) IsaFdc(dev);
}

bool fdc_realize(void *self, char **errp) {
    std::string error;
    if (static_cast<IsaFdc *>(self)->realize(&error)) return true;
    if (errp) *errp = dup_string(error);
    return false;
}

void fdc_unrealize(void *self) {
    static_cast<IsaFdc *>(self)->unrealize();
}
void fdc_reset(void *self, FdplugResetKind kind) {
    static_cast<IsaFdc *>(self)->reset(kind);
}
void fdc_free(void *self) {
    delete static_cast<IsaFdc *>(self);
}
void fdc_machine_ready(void *self) {
    static_cast<IsaFdc *>(self)->machine_ready();
}

// Device state (docs/state.md): the core's FdcState in the wire format of fdc_state_format.h.
// Media are flushed first, so that their files hold the bytes the state's fingerprints name.
bool fdc_save_state(void *self, FdplugBuffer *out, char **errp) {
    IsaFdc &fdc = *static_cast<IsaFdc *>(self);
    for (unsigned u = 0; u < Fdc82077::kUnits; ++u) {
        DiskImage *m = fdc.core().drive(u).media();
        if (!m) continue;
        if (Status flushed = m->flush(); !flushed) {
            if (errp)
                *errp = dup_string(fdc.name() + ": cannot flush the medium of unit " +
                                   std::to_string(u) + ": " + flushed.error().message());
            return false;
        }
    }
    const Expected<FdcState> state = fdc.core().save_state();
    if (!state) {
        if (errp) *errp = dup_string(fdc.name() + ": " + state.error().message());
        return false;
    }
    const std::vector<uint8_t> blob = state_format::encode(*state);
    g_host->buffer_append(out, blob.data(), blob.size());
    return true;
}

// Everything is checked (the blob, then the state against this controller, its drives and
// media) before anything changes; on failure the device is as it was.
bool fdc_load_state(void *self, const uint8_t *data, size_t len, char **errp) {
    IsaFdc &fdc = *static_cast<IsaFdc *>(self);
    FdcState state;
    std::string error;
    if (state_format::decode(std::span<const uint8_t>(data, len), &state, &error)) {
        const Status loaded = fdc.core().load_state(state);
        if (loaded) return true;
        error = loaded.error().message();
    }
    if (errp) *errp = dup_string(fdc.name() + ": " + error);
    return false;
}

}  // namespace

namespace {

const FdplugDeviceTypeInfo kTypes[] = {
    {.name = "isa-fdc",
     .description = "Intel 82077AA floppy disk controller",
     .bus_type = "isa",
     .provides_bus = "floppy-bus",
     .user_creatable = true,
     .default_on_machine = "pc",
     .props = kFdcProps,
     .n_props = sizeof kFdcProps / sizeof kFdcProps[0],
     .instance_new = fdc_new,
     .realize = fdc_realize,
     .unrealize = fdc_unrealize,
     .reset = fdc_reset,
     .instance_free = fdc_free,
     .machine_ready = fdc_machine_ready,
     .save_state = fdc_save_state,
     .load_state = fdc_load_state},
    {.name = "floppy",
     .description = "floppy drive on an isa-fdc",
     .bus_type = "floppy-bus",
     .provides_bus = nullptr,
     .user_creatable = true,
     .default_on_machine = nullptr,
     .props = kFloppyProps,
     .n_props = kFloppyPropCount,
     .instance_new = floppy_new,
     .realize = floppy_realize,
     .unrealize = floppy_unrealize,
     .reset = nullptr,
     .instance_free = floppy_free,
     .machine_ready = nullptr,
     .save_state = nullptr,
     .load_state = nullptr},
};

// The floppy-* commands: arguments in, the manager's answer out; Virtual PC classes carry their
// HRESULT as the error object's "hresult" member.
bool qmp_handler(void *opaque, const char *args_json, char **ret_json, FdplugError *err) {
    const auto *command = static_cast<const char *>(opaque);
    nlohmann::json args = nlohmann::json::parse(args_json ? args_json : "{}", nullptr, false);
    if (!args.is_object()) args = nlohmann::json::object();
    const CommandResult result = floppy_manager().execute(command, args);
    if (result) {
        *ret_json = dup_string(result->dump());
        return true;
    }
    const QmpError error = qmp_error(result.error());
    set_error(err, error.cls, error.desc);
    err->extra_json = dup_string(error.members.dump());
    return false;
}

bool plugin_init(const FdplugHost *host, char **errp) {
    g_host = host;
    IsaFdc::floppy_devices = 0;
    IsaFdc::user_controllers = 0;
    floppy_manager().set_event_sink(
        [](const std::string &event, const nlohmann::ordered_json &data) {
            g_host->qmp_event(event.c_str(), data.dump().c_str());
        });
    floppy_manager().set_log_sink([](const std::string &text) {
        g_host->log(nullptr, FDPLUG_LOG_WARNING, "%s", text.c_str());
    });
    for (const EmbeddedSchema &schema : floppy_schemas())
        if (!host->qmp_add_schema(schema.text, schema.name, errp)) return false;
    for (const char *command : FloppyManager::command_names())
        if (!host->qmp_register(command, qmp_handler, const_cast<char *>(command), errp))
            return false;
    return true;
}

const FdplugPluginInfo kInfo = {
    FDPLUG_PLUGIN_INFO_SIZES,
    .name = "fdplug-floppy",
    .version = "0.1.0",
    .types = kTypes,
    .n_types = sizeof kTypes / sizeof kTypes[0],
    .init = plugin_init,
    .fini = nullptr,
};

}  // namespace

}  // namespace fdplug::floppy::plugin

extern "C" FDPLUG_PLUGIN_EXPORT const FdplugPluginInfo *fdplug_plugin_entry(uint32_t major,
                                                                            uint32_t) {
    return major == FDPLUG_ABI_MAJOR ? &fdplug::floppy::plugin::kInfo : nullptr;
}
