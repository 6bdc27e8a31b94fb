#include "hw/block/media/track_overlay.h"

#include <algorithm>
#include <utility>

#include "hw/block/media/track_copy.h"

namespace fdplug::floppy {

unsigned TrackOverlay::cylinders() const {
    return std::max(base_->cylinders(), changes_.cylinders());
}

unsigned TrackOverlay::heads() const {
    return std::max(base_->heads(), changes_.heads());
}

MediaStatus TrackOverlay::track_info(unsigned c, unsigned h, TrackInfo &out) {
    const Track *t = changes_.find(c, h);
    if (!t) return base_->track_info(c, h, out);
    out.encoding = t->encoding();
    out.rate = t->rate();
    out.sectors.clear();
    for (size_t i = 0; i < t->sector_count(); ++i) out.sectors.push_back(t->info(i));
    return MediaStatus::Ok;
}

MediaStatus TrackOverlay::read_data(unsigned c, unsigned h, size_t index, std::span<uint8_t> out) {
    const Track *t = changes_.find(c, h);
    if (!t) return base_->read_data(c, h, index, out);
    if (index >= t->sector_count() || out.size() != t->data(index).size())
        return MediaStatus::OutOfRange;
    std::ranges::copy(t->data(index), out.begin());
    return MediaStatus::Ok;
}

MediaStatus TrackOverlay::write_data(unsigned c, unsigned h, size_t index, DataMark mark,
                                     std::span<const uint8_t> in) {
    if (mark == DataMark::None) return MediaStatus::OutOfRange;
    Track *t = changes_.find(c, h);
    if (!t) {
        // Checked before the copy, so that a write that cannot land copies nothing.
        TrackInfo info;
        if (MediaStatus got = base_->track_info(c, h, info); got != MediaStatus::Ok) return got;
        if (index >= info.sectors.size() || in.size() != sector_size(info.sectors[index].size_code))
            return MediaStatus::OutOfRange;
        Expected<std::optional<Track>> copied = copy_track(*base_, c, h);
        if (!copied || !*copied) return MediaStatus::IoError;
        changes_.put(c, h, std::move(**copied));
        t = changes_.find(c, h);
    }
    if (index >= t->sector_count() || in.size() != t->data(index).size())
        return MediaStatus::OutOfRange;
    t->write(index, mark, in);
    ++generation_;
    return MediaStatus::Ok;
}

Status TrackOverlay::can_format(unsigned c, unsigned h, const TrackFormat &format) const {
    if (Expected<Track> t = formatted_track(c, h, format); !t) return t.error();
    return {};
}

MediaStatus TrackOverlay::format_track(unsigned c, unsigned h, const TrackFormat &format) {
    Expected<Track> t = formatted_track(c, h, format);
    if (!t) return MediaStatus::OutOfRange;
    changes_.put(c, h, std::move(*t));
    ++generation_;
    return MediaStatus::Ok;
}

Expected<TrackDisk> TrackOverlay::merged() {
    return copy_disk(*this);
}

}  // namespace fdplug::floppy
