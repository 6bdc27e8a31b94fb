// What a floppya:/floppyb: line of a bochsrc means for fdplug: the drive type, the media keyword
// and the path, as Bochs 2.7 stores them in its parameter tree (floppy.N.devtype, type, path),
// checked against what fdplug can do. Pure values: reading the tree is the adapter's job.
// Reference: docs/bochs.md#the-parameter-tree, docs/bochs.md#feature-parity.
#pragma once

#include <cstdint>
#include <string>

#include "hw/block/error/expected.h"
#include "hw/block/media/floppy_geometry.h"

namespace fdplug::bochs {

// floppy.N.devtype (the CMOS drive code) as fdplug's drive type; None for 0 and unknown codes.
floppy::DriveType drive_type_of(int64_t devtype);

// "floppya" for unit 0, "floppyb" for unit 1: the bochsrc directive, for messages.
std::string directive_of(unsigned unit);

// The bochsrc keyword of a media type (floppy.N.type): "1_44" for 12, "image" for auto, …
const char *media_keyword(int64_t media_type);

// Bochs' path prefix for a host directory presented as a FAT floppy ("vvfat:DIR").
inline constexpr char kVvfatPrefix[] = "vvfat:";

// Whether fdplug can open what the line names. A vvfat: directory is refused (fdplug's media
// layer has no FAT synthesiser): the error names the directive and says what to use instead.
floppy::Status check_source(unsigned unit, int64_t media_type, const std::string &path);

// Bochs' own size rule for an explicit media keyword: a file larger than the keyword's
// capacity is refused (1_44 and image= leave the size to fdplug's format choice, which takes
// the 1.44M family's larger formats too). `bytes` is the opened medium's size. The message
// starts with the keyword: the caller puts the drive's name in front.
floppy::Status check_size(int64_t media_type, const std::string &path, uint64_t bytes);

}  // namespace fdplug::bochs
