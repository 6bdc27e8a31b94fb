// Sector sizes. A command's N byte, like the N of a sector's ID, codes a sector of 128 << N
// bytes; raw media store sectors of one size only, N = 2; track media any N from 0 to 7.
#pragma once

#include <cstdint>

#include "hw/block/media/disk_image.h"
#include "hw/block/media/track.h"

namespace fdplug::floppy {

constexpr uint32_t sector_bytes(uint8_t n) {
    return 128u << (n & 7);
}

// The sector a raw medium stores: the size of every data field on a track and of the data
// stream of one sector through the FIFO.
inline constexpr uint8_t kRawSectorN = 2;
inline constexpr uint16_t kRawSectorBytes = DiskImage::kSectorSize;
static_assert(sector_bytes(kRawSectorN) == kRawSectorBytes);
// Bytes a data command moves per sector: 128 << N, or DTL of them when N = 0 (DTL 0 or
// above 128: the whole 128; docs/hardware/82077aa.md §5.1).
constexpr uint16_t transfer_bytes(uint8_t n, uint8_t dtl) {
    if (n == 0 && dtl != 0 && dtl < sector_bytes(0)) return dtl;
    return uint16_t(sector_bytes(n));
}

// The largest sector a command can name (N = 7) and a track can hold.
inline constexpr uint16_t kMaxSectorBytes = 16 * 1024;
static_assert(sector_bytes(kMaxSizeCode) == kMaxSectorBytes);

}  // namespace fdplug::floppy
