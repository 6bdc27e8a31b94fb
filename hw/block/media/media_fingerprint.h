// A medium's fingerprint for device state: a 64-bit FNV-1a hash of every sector the guest can
// read, in LBA order (sectors past the end of a short image count as the zeros they read as) —
// or, for a medium a raw image cannot hold (an IMD file with deleted marks, CRC errors, odd
// IDs…), of every track's layout and data fields in physical order. A uniform IMD file has the
// fingerprint of its raw twin.
// Content, not the file's size and mtime: the guest's own writes change the mtime of the very
// medium a state belongs to, and a copy of an image is the same medium (docs/state.md §4).
#pragma once

#include <cstdint>

#include "hw/block/error/expected.h"
#include "hw/block/media/disk_image.h"

namespace fdplug::floppy {

// Reads every sector (or track) through the medium's interface (no guest-visible effect). An
// IoError when one cannot be read.
Expected<uint64_t> media_fingerprint(DiskImage &media);

}  // namespace fdplug::floppy
