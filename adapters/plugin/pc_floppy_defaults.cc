// The pc machine's floppy policy for the controller it creates itself (QEMU's built-in one):
// the legacy drive bindings (driveA/driveB, -drive if=floppy), the empty default drive, and
// the CMOS drive-type and equipment bytes the firmware reads.
#include <cstring>
#include <string>

#include "adapters/plugin/isa_fdc.h"
#include "hw/block/media/floppy_formats.h"

namespace fdplug::floppy::plugin {

SlotRequest IsaFdc::legacy_request(unsigned unit, FdplugDrive *drive,
                                   const std::string &who) const {
    SlotRequest request;
    request.owner = dev_;
    request.drive = drive;
    request.path = unit_path(unit);
    request.device_name = drive ? host_.drive_name(drive) : "";
    request.who = who;
    return request;
}

bool IsaFdc::is_default_controller() const {
    // The one the pc machine creates by itself (QEMU's built-in controller) owns the legacy
    // if=floppy drives and fills CMOS; user-created ones (-device isa-fdc) do not.
    const char *path = host_.device_path(dev_);
    return path && std::strncmp(path, "/machine/unattached/", 20) == 0;
}

bool IsaFdc::attach_legacy_drives(std::string *error) {
    const char *props[2] = {"driveA", "driveB"};
    for (unsigned unit = 0; unit < 2; ++unit) {
        const char *id = host_.prop_string(dev_, props[unit]);
        if (!id || !*id) continue;
        FdplugDrive *drive = host_.drive_by_id(id);
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
        FdplugDrive *drive = host_.drive_by_if("floppy", unit);
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

void IsaFdc::machine_ready() {
    if (!is_default_controller()) return;
    // QEMU's pc machine adds an empty if=floppy drive at index 0 unless -nodefaults, or a
    // -device floppy / -device isa-fdc, says otherwise: an empty `auto` drive (CMOS 0x50).
    const char *nodefaults = host_.machine_property("nodefaults");
    if (!(nodefaults && !std::strcmp(nodefaults, "on")) && plugin_.floppy_devices == 0 &&
        plugin_.user_controllers == 0 && !slots_[0]) {
        auto slot = std::make_unique<FloppySlot>(*this, 0);
        std::string why;
        SlotRequest request = legacy_request(0, nullptr, "default drive");
        request.device_name = "floppy0";
        if (slot->attach(request, &why))
            slots_[0] = std::move(slot);
        else
            host_.log(dev_, FDPLUG_LOG_WARNING, "no default floppy drive: %s", why.c_str());
    }
    write_cmos();
}

// CMOS 0x10 (types of drives A and B) and the equipment byte 0x14 (bit 0: diskette drives
// present; bits 7-6: count - 1), other bits kept (docs/hardware/media.md §5).
void IsaFdc::write_cmos() {
    DriveType types[2] = {DriveType::None, DriveType::None};
    for (unsigned u = 0; u < 2; ++u)
        if (slots_[u]) types[u] = slots_[u]->type();
    host_.cmos_write(0x10, uint8_t(cmos_drive_code(types[0]) << 4 | cmos_drive_code(types[1])));
    const unsigned count = (types[0] != DriveType::None) + (types[1] != DriveType::None);
    uint8_t equipment = host_.cmos_read(0x14) & 0x3E;
    if (count) equipment |= uint8_t(0x01 | (count - 1) << 6);
    host_.cmos_write(0x14, equipment);
}

}  // namespace fdplug::floppy::plugin
