#include "hw/block/media/media_fingerprint.h"

#include <array>
#include <string>
#include <vector>

#include "hw/block/media/track_medium.h"

namespace fdplug::floppy {

namespace {

constexpr uint64_t kOffset = 0xcbf29ce484222325ull, kPrime = 0x100000001b3ull;

void mix(uint64_t &h, std::span<const uint8_t> bytes) {
    for (uint8_t b : bytes) h = (h ^ b) * kPrime;
}

// A medium a raw image cannot hold: every track in (c, h) order with its encoding, rate and
// each sector's ID, flags and data field, whatever its mark or CRC.
Expected<uint64_t> track_fingerprint(DiskImage &media, TrackMedium &tracks) {
    uint64_t h = kOffset;
    TrackInfo info;
    std::vector<uint8_t> data;
    for (unsigned c = 0; c < tracks.cylinders(); ++c)
        for (unsigned hd = 0; hd < tracks.heads(); ++hd) {
            if (tracks.track_info(c, hd, info) != MediaStatus::Ok)
                return Error(ErrorKind::IoError, "cannot read track C=" + std::to_string(c) +
                                                     " H=" + std::to_string(hd) + " of '" +
                                                     media.source() + "' to fingerprint it");
            const uint8_t head[] = {uint8_t(c), uint8_t(hd), uint8_t(info.encoding),
                                    uint8_t(info.rate), uint8_t(info.sectors.size())};
            mix(h, head);
            for (size_t i = 0; i < info.sectors.size(); ++i) {
                const SectorInfo &s = info.sectors[i];
                const uint8_t id[] = {s.id.c,          s.id.h,
                                      s.id.r,          s.id.n,
                                      s.size_code,     uint8_t(s.id_crc_ok),
                                      uint8_t(s.mark), uint8_t(s.data_crc_ok)};
                mix(h, id);
                data.resize(sector_size(s.size_code));
                if (tracks.read_data(c, hd, i, data) != MediaStatus::Ok)
                    return Error(ErrorKind::IoError, "cannot read sector " + std::to_string(i) +
                                                         " of track C=" + std::to_string(c) +
                                                         " H=" + std::to_string(hd) + " of '" +
                                                         media.source() + "' to fingerprint it");
                mix(h, data);
            }
        }
    return h;
}

}  // namespace

Expected<uint64_t> media_fingerprint(DiskImage &media) {
    if (TrackMedium *tracks = media.tracks(); tracks && !media.uniform())
        return track_fingerprint(media, *tracks);
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
                mix(h, sector);
            }
    return h;
}

}  // namespace fdplug::floppy
