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
    Expected<Track> t = formatted_track(c, h, f);
    if (t && can_hold_)
        if (Status held = can_hold_(*t); !held) return held.error();
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

Status MemoryTracks::replace_track(unsigned c, unsigned h, Track track) {
    if (read_only_) return Error(ErrorKind::ReadOnly, "the medium is write-protected");
    if (can_hold_)
        if (Status held = can_hold_(track); !held) return held;
    if (!disk_.put(c, h, std::move(track)))
        return Error(ErrorKind::Unsupported, "no drive reaches cylinder " + std::to_string(c) +
                                                 " head " + std::to_string(h));
    dirty_ = true;
    return {};
}

}  // namespace fdplug::floppy
