#include "hw/block/media/track_copy.h"

#include <string>
#include <vector>

namespace fdplug::floppy {

namespace {

Error<> unreadable(unsigned c, unsigned h, const std::string &what) {
    return Error(ErrorKind::IoError, "reading cylinder " + std::to_string(c) + " head " +
                                         std::to_string(h) + what + " failed");
}

}  // namespace

Expected<std::optional<Track>> copy_track(TrackMedium &medium, unsigned c, unsigned h) {
    TrackInfo info;
    if (medium.track_info(c, h, info) != MediaStatus::Ok) return unreadable(c, h, "");
    if (info.sectors.empty()) return std::optional<Track>();
    Track track(info.encoding, info.rate);
    size_t bytes = 0;
    for (const SectorInfo &s : info.sectors) bytes += sector_size(s.size_code);
    track.reserve(info.sectors.size(), bytes);
    std::vector<uint8_t> data;
    for (size_t i = 0; i < info.sectors.size(); ++i) {
        const SectorInfo &s = info.sectors[i];
        data.resize(sector_size(s.size_code));
        if (medium.read_data(c, h, i, data) != MediaStatus::Ok)
            return unreadable(c, h, " sector " + std::to_string(i) + "'s data");
        if (!track.add(s, data))
            return Error(ErrorKind::Unsupported, "cylinder " + std::to_string(c) + " head " +
                                                     std::to_string(h) +
                                                     " holds more than the track model does");
    }
    return std::optional<Track>(std::move(track));
}

Expected<TrackDisk> copy_disk(TrackMedium &medium) {
    TrackDisk disk;
    for (unsigned c = 0; c < medium.cylinders(); ++c)
        for (unsigned h = 0; h < medium.heads(); ++h) {
            Expected<std::optional<Track>> track = copy_track(medium, c, h);
            if (!track) return track.error();
            if (*track) disk.put(c, h, std::move(**track));
        }
    return disk;
}

}  // namespace fdplug::floppy
