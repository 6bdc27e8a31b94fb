// The geometry a FAT boot sector's BPB claims, when it is a plausible floppy BPB
// (docs/hardware/media.md §2 and §6). Used by choose_format() to settle sizes that fit several
// formats.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

namespace fdplug::floppy {

struct BpbGeometry {
    uint8_t sectors_per_track;  // 8…48
    uint8_t heads;              // 1 or 2
    uint32_t total_sectors;     // 1…the image's sector count
};

// nullopt unless bytes/sector is 512, SPT is 8…48, heads is 1 or 2, and the total sector count
// (0x13, or 0x20 when that is 0) is non-zero and no larger than `image_sectors`. A boot sector
// without a BPB (GRUB's 0x90 filler, zeros) fails the first test.
std::optional<BpbGeometry> read_bpb(std::span<const uint8_t> boot_sector, uint64_t image_sectors);

}  // namespace fdplug::floppy
