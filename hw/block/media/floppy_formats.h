// The floppy format table and the rules that pick a format for an image: its size, the drive
// type, and the BPB in its boot sector. Reference: docs/hardware/media.md §2–§5.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "hw/block/error/expected.h"
#include "hw/block/media/floppy_geometry.h"

namespace fdplug::floppy {

struct FloppyFormat {
    const char *name;   // "1.44M", "720K", …
    DriveType drive;    // the drive type the table lists it under
    Geometry geometry;  // the medium in its native drive (geometry.native_drive), §1
};

// Every known format, in QEMU 7.2's `fd_formats` order (the order decides ties).
std::span<const FloppyFormat> floppy_formats();
// The table entry with this name ("1.44M", "360K", "1.68M-DMF", …), or nullptr.
const FloppyFormat *format_by_name(std::string_view name);
// The table entry with this medium's C×H×S and native drive (rate/rpm ignored), or nullptr.
const FloppyFormat *format_of(const Geometry &geometry);

// The drive type an empty `auto` drive becomes (QEMU's fallback).
inline constexpr DriveType kFallbackDriveType = DriveType::k288;

FormFactor form_factor(DriveType type);
// CMOS 0x10 nibble: 0 none, 1 360K, 2 1.2M, 3 720K, 4 1.44M, 5 2.88M.
uint8_t cmos_drive_code(DriveType type);
// Highest cylinder the drive's head can physically reach (end stop).
uint8_t max_cylinder(DriveType type);
// Nominal spindle speed of the drive.
uint16_t drive_rpm(DriveType type);
// Can a drive of this type read this medium at all (2.88M media are refused by a 1.44M drive,
// 1.2M media by any 3.5" drive, …)?
bool drive_accepts(DriveType drive, const Geometry &geometry);
// "144", "288", "120", "360", "720", "auto", "none": QEMU's drive-type spelling.
const char *drive_type_name(DriveType type);
std::optional<DriveType> parse_drive_type(std::string_view name);
// For messages: "3.5\" 1.44 MB drive (144)".
const char *drive_type_description(DriveType type);
// The medium as a drive of this type sees it: rpm is the drive's, and 5.25" double-density
// media run at 300 kbit/s in a 360 rpm drive, 250 kbit/s in a 300 rpm one (§3). Auto returns
// the medium unchanged; nullopt when drive_accepts() refuses it.
std::optional<Geometry> geometry_in_drive(const Geometry &medium, DriveType drive);
// 250, 300, 500 or 1000.
unsigned data_rate_kbps(DataRate rate);

struct FormatChoice {
    Geometry geometry;           // as the drive sees it (geometry_in_drive of the table entry)
    DriveType drive;             // the drive type the medium wants (an `auto` drive becomes this;
                                 // any other drive type is returned unchanged)
    bool from_bpb = false;       // the boot sector's BPB decided the geometry
    bool size_mismatch = false;  // image smaller than the geometry: the tail reads as zeros
};

// Picks the geometry for an image of `image_bytes` bytes in a drive of type `drive` (Auto
// allowed). `boot_sector` is the image's first 512 bytes (shorter or empty if the image is).
// An UnknownSize error says why when no format fits (zero size, larger than any format of the
// drive type, not a multiple of 512, or a medium the drive cannot read). A valid BPB that
// describes media this drive cannot read is refused rather than overridden by the size.
Expected<FormatChoice> choose_format(uint64_t image_bytes, DriveType drive,
                                     std::span<const uint8_t> boot_sector);

}  // namespace fdplug::floppy
