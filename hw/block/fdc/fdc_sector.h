// Sector sizes. A command's N byte, like the N of a sector's ID, codes a sector of 128 << N
// bytes; the raw media fdplug reads (hw/block/media) store sectors of one size only, N = 2.
#pragma once

#include <cstdint>

#include "hw/block/media/disk_image.h"

namespace fdplug::floppy {

constexpr uint32_t sector_bytes(uint8_t n) {
    return 128u << (n & 7);
}

// The sector a raw medium stores: the size of every data field on a track and of the data
// stream of one sector through the FIFO.
inline constexpr uint8_t kRawSectorN = 2;
inline constexpr uint16_t kRawSectorBytes = DiskImage::kSectorSize;
static_assert(sector_bytes(kRawSectorN) == kRawSectorBytes);

}  // namespace fdplug::floppy
