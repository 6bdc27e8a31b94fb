// The `floppy` device: a drive on an isa-fdc's floppy-bus (QEMU's -device floppy), with
// `unit` (0-3, default the lowest free one), `drive` (a -drive id) and `drive-type`; and, for
// tests only, `x-fail-flush` / `x-fail-read` (media_faults.h).
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <optional>
#include <string>

#include "adapters/plugin/device_types.h"
#include "adapters/plugin/isa_fdc.h"
#include "hw/block/media/floppy_formats.h"

namespace fdplug::floppy::plugin {

namespace {

struct FloppyDevice {
    FloppyPlugin &plugin;
    FdplugDevice *dev;
    IsaFdc *fdc = nullptr;
    FloppySlot *slot = nullptr;
};

const char *const kDriveTypes[] = {"auto", "144", "288", "120", "360", "720", "none", nullptr};

const FdplugPropertyInfo kFloppyProps[] = {
    {.name = "unit",
     .type = FDPLUG_PROP_INT,
     .default_value = nullptr,
     .enum_values = nullptr,
     .min = 0,
     .max = 3,
     .description = "drive select 0-3 (default: the lowest free unit)"},
    {.name = "drive",
     .type = FDPLUG_PROP_STRING,
     .default_value = nullptr,
     .enum_values = nullptr,
     .min = 0,
     .max = 0,
     .description = "the -drive id of the medium (none: an empty drive)"},
    {.name = "drive-type",
     .type = FDPLUG_PROP_ENUM,
     .default_value = "auto",
     .enum_values = kDriveTypes,
     .min = 0,
     .max = 0,
     .description = "auto (from the medium, else the controller's fallback), 144, 288, 120, "
                    "360, 720 or none"},
    {.name = "x-fail-flush",
     .type = FDPLUG_PROP_INT,
     .default_value = "0",
     .enum_values = nullptr,
     .min = 0,
     .max = 1000000,
     .description = "test only: the next N flushes of this drive's media fail with EIO"},
    {.name = "x-fail-read",
     .type = FDPLUG_PROP_INT,
     .default_value = "0",
     .enum_values = nullptr,
     .min = 0,
     .max = 1000000,
     .description = "test only: the next N reads of this drive's media (the boot sector read "
                    "when one is opened included) fail with EIO"},
};

void *floppy_new(FdplugDevice *dev) {
    auto *f = new (std::nothrow) FloppyDevice{the_plugin(), dev};
    if (f) ++f->plugin.floppy_devices;
    return f;
}

bool floppy_realize(void *self, char **errp) {
    auto *f = static_cast<FloppyDevice *>(self);
    const FdplugHost &host = f->plugin.host;
    auto fail = [errp](const std::string &text) {
        if (errp) *errp = dup_string(text);
        return false;
    };
    f->fdc = static_cast<IsaFdc *>(host.device_parent(f->dev));
    if (!f->fdc)
        return fail("a floppy drive plugs into an isa-fdc's floppy-bus; add -device isa-fdc");

    FdplugDrive *drive = nullptr;
    const char *drive_id = host.prop_string(f->dev, "drive");
    if (drive_id && *drive_id) {
        drive = host.drive_by_id(drive_id);
        if (!drive)
            return fail(std::string("property drive=") + drive_id + ": no drive with id '" +
                        drive_id + "'; define it with -drive if=none,id=" + drive_id +
                        ",file=IMAGE,format=raw");
    }
    const char *type_name = host.prop_string(f->dev, "drive-type");
    const auto type = parse_drive_type(type_name ? type_name : "auto");
    if (!type)
        return fail(std::string("property drive-type=") + (type_name ? type_name : "") +
                    " is unknown");

    std::optional<unsigned> unit;
    if (host.prop_is_set(f->dev, "unit")) unit = unsigned(host.prop_int(f->dev, "unit"));
    std::string error;
    f->slot = f->fdc->claim_unit(unit, "property unit", &error);
    if (!f->slot) return fail(error);

    SlotRequest request;
    request.owner = f->dev;
    request.drive = drive;
    request.type = *type;
    request.id = host.device_id(f->dev);
    request.path = host.device_path(f->dev);
    // QEMU names the drive slot after its -drive; a drive without one has the name "".
    request.device_name = drive ? host.drive_name(drive) : "";
    request.who = drive ? std::string("property drive=") + drive_id : std::string("medium");
    const int64_t fail_flush = host.prop_int(f->dev, "x-fail-flush");
    const int64_t fail_read = host.prop_int(f->dev, "x-fail-read");
    if (fail_flush || fail_read) {
        request.faults = std::make_shared<MediaFaults>();
        request.faults->fail_flushes = uint32_t(fail_flush);
        request.faults->fail_reads = uint32_t(fail_read);
    }
    if (!f->slot->attach(request, &error)) {
        f->fdc->release_unit(f->slot->unit());
        f->slot = nullptr;
        return fail(error);
    }
    return true;
}

void floppy_unrealize(void *self) {
    auto *f = static_cast<FloppyDevice *>(self);
    if (f->slot) f->slot->flush_for_exit();
}

void floppy_free(void *self) {
    delete static_cast<FloppyDevice *>(self);
}

// qom-get: the unit the drive took and the type it became (QEMU answers the same once realized:
// an `auto` drive reads back as the type chosen from its medium or the controller's fallback).
char *floppy_get_property(void *self, const char *name) {
    auto *f = static_cast<FloppyDevice *>(self);
    if (!f->slot) return nullptr;
    if (!std::strcmp(name, "unit")) return dup_string(std::to_string(f->slot->unit()));
    if (!std::strcmp(name, "drive-type")) return dup_string(drive_type_name(f->slot->type()));
    return nullptr;
}

}  // namespace

const FdplugDeviceTypeInfo kFloppyType = {
    .name = "floppy",
    .description = "floppy drive on an isa-fdc",
    .bus_type = "floppy-bus",
    .provides_bus = nullptr,
    .user_creatable = true,
    .default_on_machine = nullptr,
    .props = kFloppyProps,
    .n_props = sizeof kFloppyProps / sizeof kFloppyProps[0],
    .instance_new = floppy_new,
    .realize = floppy_realize,
    .unrealize = floppy_unrealize,
    .reset = nullptr,
    .instance_free = floppy_free,
    .machine_ready = nullptr,
    .save_state = nullptr,
    .load_state = nullptr,
    .get_property = floppy_get_property,
    .set_property = nullptr,
};

}  // namespace fdplug::floppy::plugin
