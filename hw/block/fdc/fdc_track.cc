#include "hw/block/fdc/fdc_track.h"

#include <algorithm>
#include <array>

#include "hw/block/media/uniform_tracks.h"

namespace fdplug::floppy {

TrackInfo read_track(DiskImage *medium, int cylinder, unsigned head) {
    TrackInfo t;
    if (!medium || cylinder < 0) return t;
    if (TracksOf(*medium)->track_info(unsigned(cylinder), head, t) != MediaStatus::Ok)
        t.sectors.clear();
    return t;
}

TrackLayout layout_of(const DiskImage &medium, const TrackInfo &track, uint8_t format_gap3) {
    const Geometry &g = medium.geometry();
    if (track.sectors.empty()) return track_layout(g, format_gap3);
    std::array<uint8_t, kMaxSectorsPerTrack> sizes{};
    const size_t n = std::min(track.sectors.size(), sizes.size());
    for (size_t i = 0; i < n; ++i) sizes[i] = track.sectors[i].size_code;
    return track_layout({.size_codes = std::span(sizes).first(n),
                         .rate = track.rate,
                         .fm = track.encoding == Encoding::Fm,
                         .rpm = g.rpm,
                         .perpendicular = g.perpendicular,
                         .gap3 = format_gap3});
}

uint16_t stream_bytes(Search search, const DiskImage &medium, uint8_t n, uint8_t dtl) {
    // tracks() is a lookup, not a change: a sector image has none.
    const bool image = !const_cast<DiskImage &>(medium).tracks();
    if (search == Search::Track && image) return kRawSectorBytes;
    return transfer_bytes(n, dtl);
}

const TrackInfo &TrackCache::get(DiskImage *medium, unsigned unit, int cylinder, unsigned head) {
    const bool same =
        valid_ && medium_ == medium && unit_ == unit && cylinder_ == cylinder && head_ == head;
    if (!same) {
        info_ = read_track(medium, cylinder, head);
        valid_ = true;
        medium_ = medium;
        unit_ = unit;
        cylinder_ = cylinder;
        head_ = head;
    }
    return info_;
}

}  // namespace fdplug::floppy
