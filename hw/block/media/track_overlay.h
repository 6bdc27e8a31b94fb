// Transient writes on the track model: a TrackMedium that reads through to a base medium and
// keeps every write and FORMAT in memory. A track is copied from the base the first time the
// guest writes to it, and a FORMAT replaces it whole (any layout the model holds, whatever the
// base could store), so memory grows with the tracks the guest changed, not with the disk.
// The base is never written; discard() forgets the changes.
#pragma once

#include <cstddef>
#include <cstdint>

#include "hw/block/error/expected.h"
#include "hw/block/media/track_disk.h"
#include "hw/block/media/track_medium.h"

namespace fdplug::floppy {

class TrackOverlay final : public TrackMedium {
  public:
    explicit TrackOverlay(TrackMedium &base) : base_(&base) {}

    bool read_only() const override { return false; }
    unsigned cylinders() const override;
    unsigned heads() const override;
    MediaStatus track_info(unsigned c, unsigned h, TrackInfo &out) override;
    MediaStatus read_data(unsigned c, unsigned h, size_t index, std::span<uint8_t> out) override;
    MediaStatus write_data(unsigned c, unsigned h, size_t index, DataMark mark,
                           std::span<const uint8_t> in) override;
    Status can_format(unsigned c, unsigned h, const TrackFormat &format) const override;
    MediaStatus format_track(unsigned c, unsigned h, const TrackFormat &format) override;

    // The tracks written or formatted since construction or the last discard().
    const TrackDisk &changes() const { return changes_; }
    size_t dirty_tracks() const { return changes_.track_count(); }
    bool dirty(unsigned c, unsigned h) const { return changes_.find(c, h) != nullptr; }
    void discard() {
        changes_ = TrackDisk();
        ++generation_;
    }
    // Counts every change (a write, a FORMAT, a discard), so that what is worked out from the
    // tracks can be kept until they change.
    uint64_t generation() const { return generation_; }
    // Reads through to another base from now on (the same medium, opened again).
    void rebase(TrackMedium &base) { base_ = &base; }

    // The whole disk as the guest sees it: the base's tracks with the changed ones in their
    // place. An IoError when the base fails to give a track.
    Expected<TrackDisk> merged();

  private:
    TrackMedium *base_;
    TrackDisk changes_;
    uint64_t generation_ = 0;
};

}  // namespace fdplug::floppy
