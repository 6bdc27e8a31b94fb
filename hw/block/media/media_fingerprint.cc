#include "hw/block/media/media_fingerprint.h"

#include <array>
#include <string>

namespace fdplug::floppy {

Expected<uint64_t> media_fingerprint(DiskImage &media) {
    constexpr uint64_t kOffset = 0xcbf29ce484222325ull, kPrime = 0x100000001b3ull;
    const Geometry &g = media.geometry();
    uint64_t h = kOffset;
    std::array<uint8_t, DiskImage::kSectorSize> sector;
    for (unsigned c = 0; c < g.cylinders; ++c)
        for (unsigned hd = 0; hd < g.heads; ++hd)
            for (unsigned r = 1; r <= g.sectors; ++r) {
                const MediaStatus st =
                    media.read_sector(c, hd, r, std::span<uint8_t, DiskImage::kSectorSize>(sector));
                if (st != MediaStatus::Ok)
                    return Error(ErrorKind::IoError,
                                 "cannot read sector C=" + std::to_string(c) + " H=" +
                                     std::to_string(hd) + " R=" + std::to_string(r) + " of " +
                                     (media.source().empty() ? std::string("the medium")
                                                             : "'" + media.source() + "'") +
                                     " to fingerprint it");
                for (uint8_t b : sector) h = (h ^ b) * kPrime;
            }
    return h;
}

}  // namespace fdplug::floppy
