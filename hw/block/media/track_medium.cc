#include "hw/block/media/track_medium.h"

#include <climits>

#include "hw/block/media/track_disk.h"

namespace fdplug::floppy {

std::optional<size_t> find_sector(const TrackInfo &track, const SectorId &id, size_t from) {
    for (size_t i = from; i < track.sectors.size(); ++i)
        if (track.sectors[i].id_crc_ok && track.sectors[i].id == id) return i;
    return std::nullopt;
}

std::optional<size_t> find_sector_512(const TrackInfo &track, unsigned c, unsigned h, unsigned r) {
    if (c > UINT8_MAX || h > UINT8_MAX || r > UINT8_MAX) return std::nullopt;
    const SectorId want{uint8_t(c), uint8_t(h), uint8_t(r), kSizeCode512};
    for (std::optional<size_t> i = find_sector(track, want); i;
         i = find_sector(track, want, *i + 1))
        if (track.sectors[*i].size_code == kSizeCode512) return i;
    return std::nullopt;
}

Expected<Track> formatted_track(unsigned c, unsigned h, const TrackFormat &f) {
    auto refuse = [](std::string text) { return Error(ErrorKind::Unsupported, std::move(text)); };
    if (c >= kMaxTrackCylinders || h >= kMaxTrackHeads)
        return refuse("no drive reaches cylinder " + std::to_string(c) + " head " +
                      std::to_string(h));
    if (f.size_code > kMaxSizeCode)
        return refuse("N=" + std::to_string(f.size_code) +
                      " is larger than the largest sector (N=" + std::to_string(kMaxSizeCode) +
                      ")");
    if (f.ids.size() > kMaxSectorsPerTrack ||
        f.ids.size() * sector_size(f.size_code) > kMaxTrackDataBytes)
        return refuse(std::to_string(f.ids.size()) + " sectors of " +
                      std::to_string(sector_size(f.size_code)) +
                      " bytes are more than a track holds");
    Track t(f.encoding, f.rate);
    t.reserve(f.ids.size(), f.ids.size() * sector_size(f.size_code));
    for (const SectorId &id : f.ids) t.add_filled({.id = id, .size_code = f.size_code}, f.fill);
    return t;
}

}  // namespace fdplug::floppy
