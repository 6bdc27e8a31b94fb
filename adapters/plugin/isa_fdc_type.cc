// The ABI's view of isa-fdc: its properties, the C callbacks that create, realize, reset and
// free it, and its device state in the wire format of hw/block/state (docs/state.md).
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "adapters/plugin/device_types.h"
#include "adapters/plugin/isa_fdc.h"
#include "hw/block/state/fdc_state_blob.h"

namespace fdplug::floppy::plugin {

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
    return new (std::nothrow) IsaFdc(the_plugin(), dev);
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

// Device state (docs/state.md): the core's FdcState in the wire format of fdc_state_format.h,
// media flushed first (fdc_state_blob.h).
bool fdc_save_state(void *self, FdplugBuffer *out, char **errp) {
    IsaFdc &fdc = *static_cast<IsaFdc *>(self);
    const Expected<std::vector<uint8_t>> blob = state_format::save_blob(fdc.core());
    if (!blob) {
        if (errp) *errp = dup_string(fdc.name() + ": " + blob.error().message());
        return false;
    }
    fdc.plugin().host.buffer_append(out, blob->data(), blob->size());
    return true;
}

// Everything is checked (the blob, then the state against this controller, its drives and
// media) before anything changes; on failure the device is as it was.
bool fdc_load_state(void *self, const uint8_t *data, size_t len, char **errp) {
    IsaFdc &fdc = *static_cast<IsaFdc *>(self);
    const Status loaded = state_format::load_blob(fdc.core(), std::span<const uint8_t>(data, len));
    if (loaded) return true;
    if (errp) *errp = dup_string(fdc.name() + ": " + loaded.error().message());
    return false;
}

// qom-set: only the timing policy changes the running controller; the ports, IRQ, DMA channel,
// register personality and drives are wired at realize, as in QEMU.
FdplugSetResult fdc_set_property(void *self, const char *name, const char *value, char **) {
    if (std::strcmp(name, "timing") != 0) return FDPLUG_SET_NOT_RUNTIME;
    if (!value) return FDPLUG_SET_OK;  // only asked whether it can change
    static_cast<IsaFdc *>(self)->core().set_timing(
        std::strcmp(value, "fast") == 0 ? TimingPolicy::Fast : TimingPolicy::Accurate);
    return FDPLUG_SET_OK;
}

}  // namespace

const FdplugDeviceTypeInfo kIsaFdcType = {
    .name = "isa-fdc",
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
    .load_state = fdc_load_state,
    .get_property = nullptr,
    .set_property = fdc_set_property,
};

}  // namespace fdplug::floppy::plugin
