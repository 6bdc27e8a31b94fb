// A whole disk as tracks in memory: the track at each (cylinder, head) that the medium records.
// A position without one is unformatted, as a blank area of a real disk is.
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "hw/block/media/track.h"

namespace fdplug::floppy {

// 0..83: the furthest any drive's head reaches (floppy_formats.h, max_cylinder()).
inline constexpr unsigned kMaxTrackCylinders = 84;
inline constexpr unsigned kMaxTrackHeads = 2;

class TrackDisk {
  public:
    TrackDisk() : tracks_(kMaxTrackCylinders * kMaxTrackHeads) {}

    // The track at (c, h), or nullptr when the disk records none there.
    const Track *find(unsigned c, unsigned h) const;
    Track *find(unsigned c, unsigned h);
    // Records `track` at (c, h), replacing any; false when (c, h) lies beyond the bounds.
    bool put(unsigned c, unsigned h, Track track);

    // One past the highest recorded cylinder; 2 when any head-1 track is recorded, else 1
    // (both 0 for a disk with no track at all).
    unsigned cylinders() const;
    unsigned heads() const;
    size_t track_count() const;

    size_t data_bytes() const;
    size_t heap_bytes() const;

    friend bool operator==(const TrackDisk &, const TrackDisk &) = default;

  private:
    std::vector<std::optional<Track>> tracks_;  // cylinder-major: index c * 2 + h
};

}  // namespace fdplug::floppy
