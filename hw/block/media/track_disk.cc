#include "hw/block/media/track_disk.h"

#include <utility>

namespace fdplug::floppy {

const Track *TrackDisk::find(unsigned c, unsigned h) const {
    if (c >= kMaxTrackCylinders || h >= kMaxTrackHeads) return nullptr;
    const auto &slot = tracks_[c * kMaxTrackHeads + h];
    return slot ? &*slot : nullptr;
}

Track *TrackDisk::find(unsigned c, unsigned h) {
    return const_cast<Track *>(std::as_const(*this).find(c, h));
}

bool TrackDisk::put(unsigned c, unsigned h, Track track) {
    if (c >= kMaxTrackCylinders || h >= kMaxTrackHeads) return false;
    tracks_[c * kMaxTrackHeads + h] = std::move(track);
    return true;
}

unsigned TrackDisk::cylinders() const {
    for (size_t i = tracks_.size(); i > 0; --i)
        if (tracks_[i - 1]) return unsigned((i - 1) / kMaxTrackHeads + 1);
    return 0;
}

unsigned TrackDisk::heads() const {
    if (track_count() == 0) return 0;
    for (unsigned c = 0; c < kMaxTrackCylinders; ++c)
        if (find(c, 1)) return 2;
    return 1;
}

size_t TrackDisk::track_count() const {
    size_t n = 0;
    for (const auto &t : tracks_) n += t.has_value();
    return n;
}

size_t TrackDisk::data_bytes() const {
    size_t n = 0;
    for (const auto &t : tracks_)
        if (t) n += t->data_bytes();
    return n;
}

size_t TrackDisk::heap_bytes() const {
    size_t n = tracks_.capacity() * sizeof(std::optional<Track>);
    for (const auto &t : tracks_)
        if (t) n += t->heap_bytes();
    return n;
}

}  // namespace fdplug::floppy
