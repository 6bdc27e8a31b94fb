#include "hw/block/media/track_convert.h"

#include <algorithm>
#include <array>

namespace fdplug::floppy {

Expected<TrackDisk> read_tracks(DiskImage &image) {
    const Geometry &g = image.geometry();
    if (g.cylinders > kMaxTrackCylinders || g.heads > kMaxTrackHeads ||
        g.sectors * DiskImage::kSectorSize > kMaxTrackDataBytes)
        return Error(ErrorKind::Unsupported,
                     "the medium's geometry is larger than any disk of tracks");
    TrackDisk disk;
    std::array<uint8_t, DiskImage::kSectorSize> sector;
    for (unsigned c = 0; c < g.cylinders; ++c) {
        for (unsigned h = 0; h < g.heads; ++h) {
            Track t(Encoding::Mfm, g.rate);
            t.reserve(g.sectors, g.sectors * DiskImage::kSectorSize);
            for (unsigned r = 1; r <= g.sectors; ++r) {
                if (image.read_sector(c, h, r, sector) != MediaStatus::Ok)
                    return Error(ErrorKind::IoError, "cannot read sector C=" + std::to_string(c) +
                                                         " H=" + std::to_string(h) +
                                                         " R=" + std::to_string(r));
                t.add({.id = {uint8_t(c), uint8_t(h), uint8_t(r), kSizeCode512},
                       .size_code = kSizeCode512},
                      sector);
            }
            disk.put(c, h, std::move(t));
        }
    }
    return disk;
}

std::vector<uint8_t> sector_image_of(const TrackDisk &disk, const Geometry &g) {
    std::vector<uint8_t> bytes(g.size_bytes());
    for (unsigned c = 0; c < g.cylinders; ++c) {
        for (unsigned h = 0; h < g.heads; ++h) {
            const Track *t = disk.find(c, h);
            if (!t) continue;
            for (unsigned r = 1; r <= g.sectors; ++r) {
                for (size_t i = 0; i < t->sector_count(); ++i) {
                    const SectorInfo &s = t->info(i);
                    if (s.id != SectorId{uint8_t(c), uint8_t(h), uint8_t(r), kSizeCode512} ||
                        s.size_code != kSizeCode512)
                        continue;
                    std::ranges::copy(t->data(i), bytes.begin() + ptrdiff_t(*g.lba(c, h, r)) * 512);
                    break;
                }
            }
        }
    }
    return bytes;
}

}  // namespace fdplug::floppy
