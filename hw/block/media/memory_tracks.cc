#include "hw/block/media/memory_tracks.h"

#include <algorithm>
#include <utility>

namespace fdplug::floppy {

MediaStatus MemoryTracks::track_info(unsigned c, unsigned h, TrackInfo &out) {
    out.sectors.clear();
    const Track *t = disk_.find(c, h);
    if (!t) return MediaStatus::Ok;  // unformatted
    out.encoding = t->encoding();
    out.rate = t->rate();
    for (size_t i = 0; i < t->sector_count(); ++i) out.sectors.push_back(t->info(i));
    return MediaStatus::Ok;
}

MediaStatus MemoryTracks::read_data(unsigned c, unsigned h, size_t index, std::span<uint8_t> out) {
    const Track *t = disk_.find(c, h);
    if (!t || index >= t->sector_count() || out.size() != t->data(index).size())
        return MediaStatus::OutOfRange;
    std::ranges::copy(t->data(index), out.begin());
    return MediaStatus::Ok;
}

MediaStatus MemoryTracks::write_data(unsigned c, unsigned h, size_t index, DataMark mark,
                                     std::span<const uint8_t> in) {
    Track *t = disk_.find(c, h);
    if (!t || index >= t->sector_count() || in.size() != t->data(index).size() ||
        mark == DataMark::None)
        return MediaStatus::OutOfRange;
    if (read_only_) return MediaStatus::ReadOnly;
    t->write(index, mark, in);
    dirty_ = true;
    return MediaStatus::Ok;
}

Expected<Track> MemoryTracks::formatted(unsigned c, unsigned h, const TrackFormat &f) const {
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
    if (can_hold_)
        if (Status held = can_hold_(t); !held) return held.error();
    return t;
}

Status MemoryTracks::can_format(unsigned c, unsigned h, const TrackFormat &f) const {
    if (Expected<Track> t = formatted(c, h, f); !t) return t.error();
    return {};
}

MediaStatus MemoryTracks::format_track(unsigned c, unsigned h, const TrackFormat &f) {
    Expected<Track> t = formatted(c, h, f);
    if (!t) return MediaStatus::OutOfRange;
    if (read_only_) return MediaStatus::ReadOnly;
    disk_.put(c, h, std::move(*t));
    dirty_ = true;
    return MediaStatus::Ok;
}

}  // namespace fdplug::floppy
