#include "hw/block/media/track_medium.h"

namespace fdplug::floppy {

std::optional<size_t> find_sector(const TrackInfo &track, const SectorId &id, size_t from) {
    for (size_t i = from; i < track.sectors.size(); ++i)
        if (track.sectors[i].id_crc_ok && track.sectors[i].id == id) return i;
    return std::nullopt;
}

}  // namespace fdplug::floppy
