// A medium's fingerprint for device state: a 64-bit FNV-1a hash of every sector the guest can
// read, in LBA order (sectors past the end of a short image count as the zeros they read as).
// Content, not the file's size and mtime: the guest's own writes change the mtime of the very
// medium a state belongs to, and a copy of an image is the same medium (docs/state.md §4).
#pragma once

#include <cstdint>

#include "hw/block/error/expected.h"
#include "hw/block/media/disk_image.h"

namespace fdplug::floppy {

// Reads every sector through the DiskImage interface (no guest-visible effect). An IoError when a
// sector cannot be read.
Expected<uint64_t> media_fingerprint(DiskImage &media);

}  // namespace fdplug::floppy
