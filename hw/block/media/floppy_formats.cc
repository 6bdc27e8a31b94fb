// The format table (QEMU 7.2's fd_formats order) and the per-drive-type facts: CMOS code, end
// stop, spindle speed, which media a drive can read. Reference: docs/hardware/media.md §1–§5.
#include "hw/block/media/floppy_formats.h"

#include <array>
#include <iterator>

namespace fdplug::floppy {

namespace {

using enum DriveType;

// Each entry is the medium as its native drive sees it (docs/hardware/media.md §1): 40-track media
// at 250 kbit/s and 300 rpm (a 360K drive), 80-track 5.25" media at 360 rpm, 3.5" at 300 rpm. In
// the drive the entry is listed under, geometry_in_drive() gives QEMU's rate again (e.g. 300 kbit/s
// for 360K media in a 1.2M drive). Two deliberate differences from QEMU: the 80-track 5.25"
// double-density entries run at 300 kbit/s, and 8-sector 40-track media read at 300 kbit/s in
// a 1.2M drive, because that is the only rate those media have at 360 rpm (§3); QEMU lists them at
// 250 kbit/s, which no BIOS uses for a 1.2M drive.
constexpr Geometry hd35(uint8_t c, uint8_t s) {
    return {c, 2, s, DataRate::k500, 300, k144};
}
constexpr Geometry ed35(uint8_t s) {
    return {80, 2, s, DataRate::k1000, 300, k288, true};
}
constexpr Geometry dd35(uint8_t c, uint8_t h, uint8_t s) {
    return {c, h, s, DataRate::k250, 300, k720};
}
constexpr Geometry hd525(uint8_t c, uint8_t s) {
    return {c, 2, s, DataRate::k500, 360, k120};
}
constexpr Geometry qd525(uint8_t s) {
    return {80, 2, s, DataRate::k300, 360, k120};
}
constexpr Geometry dd525(uint8_t c, uint8_t h, uint8_t s) {
    return {c, h, s, DataRate::k250, 300, k360};
}

constexpr FloppyFormat kFormats[] = {
    // 3.5" high density; the first entry is QEMU's default format.
    {"1.44M", k144, hd35(80, 18)},
    {"1.6M", k144, hd35(80, 20)},
    {"1.68M-DMF", k144, hd35(80, 21)},
    {"1.72M", k144, hd35(82, 21)},
    {"1.74M", k144, hd35(83, 21)},
    {"1.76M", k144, hd35(80, 22)},
    {"1.84M-XDF", k144, hd35(80, 23)},
    {"1.92M", k144, hd35(80, 24)},
    // 3.5" extra density, perpendicular recording.
    {"2.88M", k288, ed35(36)},
    {"3.12M", k288, ed35(39)},
    {"3.2M", k288, ed35(40)},
    {"3.52M", k288, ed35(44)},
    {"3.84M", k288, ed35(48)},
    // 3.5" double density.
    {"720K", k144, dd35(80, 2, 9)},
    {"800K", k144, dd35(80, 2, 10)},
    {"820K", k144, dd35(82, 2, 10)},
    {"830K", k144, dd35(83, 2, 10)},
    {"1.04M", k144, dd35(80, 2, 13)},
    {"1.12M", k144, dd35(80, 2, 14)},
    // 5.25" high density.
    {"1.2M", k120, hd525(80, 15)},
    {"1.44M-5.25", k120, hd525(80, 18)},
    {"1.48M-5.25", k120, hd525(82, 18)},
    {"1.49M-5.25", k120, hd525(83, 18)},
    {"1.6M-5.25", k120, hd525(80, 20)},
    // 5.25" quad density (80 tracks, double density).
    {"720K-5.25", k120, qd525(9)},
    {"880K-5.25", k120, qd525(11)},
    // 5.25" 40-track double density.
    {"360K", k120, dd525(40, 2, 9)},
    {"180K", k120, dd525(40, 1, 9)},
    {"410K", k120, dd525(41, 2, 10)},
    {"420K", k120, dd525(42, 2, 10)},
    {"320K", k120, dd525(40, 2, 8)},
    {"160K", k120, dd525(40, 1, 8)},
    // Last, so that an `auto` drive takes a 368 640-byte image as 5.25" 360K.
    {"360K-3.5", k144, dd35(80, 1, 9)},
};

constexpr uint8_t bit(DriveType t) {
    return uint8_t(1u << unsigned(t));
}

struct DriveInfo {
    const char *name;
    const char *description;
    FormFactor form;
    uint8_t cmos;
    uint8_t max_cylinder;
    uint16_t rpm;
    uint8_t reads;  // bit set of the native drive types whose media this drive reads
};

// Indexed by DriveType. Max cylinders: 3.5" heads and 1.2M heads reach track 83 (the 82/83-
// cylinder formats rely on it, §4); a 360K drive stops at 41 so the 42-cylinder 420K format
// fits. An unresolved `auto` drive reports like its fallback type, as QEMU's empty auto drive
// does; a `none` drive reports rpm 300 only so that nobody divides by zero.
constexpr DriveInfo kDrives[] = {
    {"none", "empty drive bay (none)", FormFactor::Inch35, 0, 0, 300, 0},
    {"auto", "drive of automatic type (auto)", FormFactor::Inch35, 5, 83, 300,
     bit(k360) | bit(k120) | bit(k720) | bit(k144) | bit(k288)},
    {"120", "5.25\" 1.2 MB drive (120)", FormFactor::Inch525, 2, 83, 360, bit(k120) | bit(k360)},
    {"144", "3.5\" 1.44 MB drive (144)", FormFactor::Inch35, 4, 83, 300, bit(k720) | bit(k144)},
    {"288", "3.5\" 2.88 MB drive (288)", FormFactor::Inch35, 5, 83, 300,
     bit(k720) | bit(k144) | bit(k288)},
    {"360", "5.25\" 360 KB drive (360)", FormFactor::Inch525, 1, 41, 300, bit(k360)},
    {"720", "3.5\" 720 KB drive (720)", FormFactor::Inch35, 3, 83, 300, bit(k720)},
};
static_assert(std::size(kDrives) == unsigned(k720) + 1, "one DriveInfo per DriveType");

// A value cast from junk reads as `none` rather than past the table.
const DriveInfo &info(DriveType t) {
    return unsigned(t) < std::size(kDrives) ? kDrives[unsigned(t)] : kDrives[0];
}

constexpr unsigned kRateKbps[] = {500, 300, 250, 1000};  // by DataRate (DRATE SEL) value

}  // namespace

std::span<const FloppyFormat> floppy_formats() {
    return kFormats;
}

const FloppyFormat *format_by_name(std::string_view name) {
    for (const auto &f : kFormats)
        if (name == f.name) return &f;
    return nullptr;
}

const FloppyFormat *format_of(const Geometry &g) {
    for (const auto &f : kFormats) {
        const Geometry &t = f.geometry;
        if (t.cylinders == g.cylinders && t.heads == g.heads && t.sectors == g.sectors &&
            t.native_drive == g.native_drive)
            return &f;
    }
    return nullptr;
}

FormFactor form_factor(DriveType type) {
    return info(type).form;
}
uint8_t cmos_drive_code(DriveType type) {
    return info(type).cmos;
}
uint8_t max_cylinder(DriveType type) {
    return info(type).max_cylinder;
}
uint16_t drive_rpm(DriveType type) {
    return info(type).rpm;
}
const char *drive_type_name(DriveType type) {
    return info(type).name;
}
const char *drive_type_description(DriveType type) {
    return info(type).description;
}
unsigned data_rate_kbps(DataRate rate) {
    return kRateKbps[unsigned(rate) & 3];
}

std::optional<DriveType> parse_drive_type(std::string_view name) {
    for (unsigned i = 0; i < std::size(kDrives); ++i)
        if (name == kDrives[i].name) return DriveType(i);
    return std::nullopt;
}

bool drive_accepts(DriveType drive, const Geometry &g) {
    if (g.heads < 1 || g.heads > 2 || g.sectors < 1 || g.cylinders < 1) return false;
    if (g.native_drive == None || g.native_drive == Auto) return false;
    if (drive == Auto) {
        // Any real drive that takes it: the auto drive becomes that type.
        for (DriveType t : {k120, k144, k288, k360, k720})
            if (drive_accepts(t, g)) return true;
        return false;
    }
    const DriveInfo &d = info(drive);
    return (d.reads & bit(g.native_drive)) && g.cylinders <= unsigned(d.max_cylinder) + 1;
}

std::optional<Geometry> geometry_in_drive(const Geometry &medium, DriveType drive) {
    if (!drive_accepts(drive, medium)) return std::nullopt;
    if (drive == Auto) return medium;
    Geometry g = medium;
    g.rpm = drive_rpm(drive);
    // A double-density 5.25" track holds the same bits at either speed, so the rate scales
    // with the spindle: 250 kbit/s at 300 rpm, 300 kbit/s at 360 rpm.
    if (form_factor(drive) == FormFactor::Inch525 && g.rate != DataRate::k500)
        g.rate = g.rpm == 360 ? DataRate::k300 : DataRate::k250;
    return g;
}

}  // namespace fdplug::floppy
