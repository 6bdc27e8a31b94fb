// A floppy image file of any format (raw, IMD or TD0) read whole into tracks, with the geometry
// fdplug gives it in an `auto` drive: what every fdplug-img command starts from.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hw/block/error/expected.h"
#include "hw/block/media/floppy_formats.h"
#include "hw/block/media/track_disk.h"

namespace fdplug::img {

struct LoadedImage {
    std::string path;    // absolute
    std::string format;  // "raw", "imd" or "td0"
    uint64_t file_bytes = 0;
    std::string header;                 // IMD only: the signature line and comment, verbatim
    std::string comment;                // IMD and TD0: the comment, its lines ending in "\n"
    std::vector<std::string> warnings;  // TD0: CRC mismatches the reader let pass
    floppy::TrackDisk disk;
    floppy::FormatChoice choice{};  // the geometry and the drive type an auto drive becomes
};

// Opens the file read-only (format "" detects IMD and TD0 by content, as drives do) and reads it.
// An Error (fdplug's message, naming the file) when it cannot be used.
floppy::Expected<LoadedImage> load_image(const std::string &path, const std::string &format);

// "1.44M" when the geometry is a table format (rate aside), else "".
std::string format_name(const floppy::Geometry &geometry);

}  // namespace fdplug::img
