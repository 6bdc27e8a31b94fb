// Saving the medium in a drive, as the guest now sees it (a transient medium with its changes),
// to a new file: a raw sector image or an ImageDisk file. A raw image is refused, as
// `fdplug-img convert` refuses a lossy conversion, when the disk holds what raw cannot (deleted
// marks, CRC errors, other sizes or IDs, FM tracks); IMD keeps all of that.
#pragma once

#include <string>

#include "hw/block/error/expected.h"
#include "hw/block/media/disk_image.h"

namespace fdplug::floppy {

enum class ExportFormat { Raw, Imd };

// Writes `medium` to `path`, which must be absolute and must not exist (an export never
// replaces a file). Errors: BadPath (a relative path), Failed (the file exists), Unsupported
// (the format cannot hold the disk: the message says what it would lose), NotFound (no such
// directory), Unreadable (the file cannot be created there: permission), IoError (reading the
// medium or writing the file failed; no partial file is left).
Status export_medium(DiskImage &medium, const std::string &path, ExportFormat format);

}  // namespace fdplug::floppy
