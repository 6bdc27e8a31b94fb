// The `floppy` device: a drive on an isa-fdc's floppy-bus (QEMU's -device floppy), with
// `unit` (0-3, default the lowest free one), `drive` (a -drive id) and `drive-type`.
#include <cstring>
#include <new>
#include <optional>
#include <string>

#include "hw/block/fdc_isa.h"
#include "hw/block/media/floppy_formats.h"

namespace fdplug::floppy::plugin {

namespace {

struct FloppyDevice {
    FdplugDevice *dev;
    IsaFdc *fdc = nullptr;
    FloppySlot *slot = nullptr;
};

const char *const kDriveTypes[] = {"auto", "144", "288", "120", "360", "720", "none", nullptr};

}  // namespace

const FdplugPropertyInfo kFloppyProps[kFloppyPropCount] = {
    {.name = "unit", .type = FDPLUG_PROP_INT, .default_value = nullptr, .enum_values = nullptr,
     .min = 0, .max = 3, .description = "drive select 0-3 (default: the lowest free unit)"},
    {.name = "drive", .type = FDPLUG_PROP_STRING, .default_value = nullptr, .enum_values = nullptr,
     .min = 0, .max = 0, .description = "the -drive id of the medium (none: an empty drive)"},
    {.name = "drive-type", .type = FDPLUG_PROP_ENUM, .default_value = "auto",
     .enum_values = kDriveTypes, .min = 0, .max = 0,
     .description = "auto (from the medium, else the controller's fallback), 144, 288, 120, "
                    "360, 720 or none"},
};

void *floppy_new(FdplugDevice *dev) {
    auto *f = new (std::nothrow) FloppyDevice{dev};
    if (f) ++IsaFdc::floppy_devices;
    return f;
}

bool floppy_realize(void *self, char **errp) {
    auto *f = static_cast<FloppyDevice *>(self);
    auto fail = [errp](const std::string &text) {
        if (errp) *errp = dup_string(text);
        return false;
    };
    f->fdc = static_cast<IsaFdc *>(g_host->device_parent(f->dev));
    if (!f->fdc) return fail("a floppy drive plugs into an isa-fdc's floppy-bus; add -device isa-fdc");

    FdplugDrive *drive = nullptr;
    const char *drive_id = g_host->prop_string(f->dev, "drive");
    if (drive_id && *drive_id) {
        drive = g_host->drive_by_id(drive_id);
        if (!drive)
            return fail(std::string("property drive=") + drive_id + ": no drive with id '" + drive_id +
                        "'; define it with -drive if=none,id=" + drive_id + ",file=IMAGE,format=raw");
    }
    const char *type_name = g_host->prop_string(f->dev, "drive-type");
    const auto type = parse_drive_type(type_name ? type_name : "auto");
    if (!type) return fail(std::string("property drive-type=") + (type_name ? type_name : "") + " is unknown");

    std::optional<unsigned> unit;
    if (g_host->prop_is_set(f->dev, "unit")) unit = unsigned(g_host->prop_int(f->dev, "unit"));
    std::string error;
    f->slot = f->fdc->claim_unit(unit, "property unit", &error);
    if (!f->slot) return fail(error);

    const char *id = g_host->device_id(f->dev);
    const std::string qdev = id && *id ? id : g_host->device_path(f->dev);
    // QEMU names the drive slot after its -drive; a drive without one has the name "".
    const std::string device_name = drive ? g_host->drive_name(drive) : "";
    if (!f->slot->attach(f->dev, drive, *type, qdev, device_name,
                         drive ? std::string("property drive=") + drive_id : std::string("medium"),
                         &error)) {
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

void floppy_free(void *self) { delete static_cast<FloppyDevice *>(self); }

}  // namespace fdplug::floppy::plugin
