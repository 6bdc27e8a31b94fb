// A track medium held in memory: a TrackDisk read and written in place, with write protection,
// a record of whether anything changed since it was last saved, and the limits of the format
// it is saved in (an IMD file cannot hold every track the model can).
#pragma once

#include <string>

#include "hw/block/media/track_disk.h"
#include "hw/block/media/track_medium.h"

namespace fdplug::floppy {

class MemoryTracks final : public TrackMedium {
  public:
    // What the backing format can store: an Error saying why for a track it cannot.
    using CanHold = Status (*)(const Track &track);

    explicit MemoryTracks(TrackDisk disk, bool read_only = false, CanHold can_hold = nullptr)
        : disk_(std::move(disk)), read_only_(read_only), can_hold_(can_hold) {}

    bool read_only() const override { return read_only_; }
    unsigned cylinders() const override { return disk_.cylinders(); }
    unsigned heads() const override { return disk_.heads(); }
    MediaStatus track_info(unsigned c, unsigned h, TrackInfo &out) override;
    MediaStatus read_data(unsigned c, unsigned h, size_t index, std::span<uint8_t> out) override;
    MediaStatus write_data(unsigned c, unsigned h, size_t index, DataMark mark,
                           std::span<const uint8_t> in) override;
    Status can_format(unsigned c, unsigned h, const TrackFormat &format) const override;
    MediaStatus format_track(unsigned c, unsigned h, const TrackFormat &format) override;

    const TrackDisk &disk() const { return disk_; }
    // Puts a whole track in place of the one at (c, h), as a commit of a transient medium does
    // (track_overlay.h); an Error when the backing format cannot store it or the medium is
    // write-protected, leaving the disk unchanged.
    Status replace_track(unsigned c, unsigned h, Track track);
    // Something was written or formatted since construction or the last mark_saved().
    bool dirty() const { return dirty_; }
    void mark_saved() { dirty_ = false; }

  private:
    // The track FORMAT would lay down, or why the model or the format refuses it.
    Expected<Track> formatted(unsigned c, unsigned h, const TrackFormat &format) const;

    TrackDisk disk_;
    bool read_only_;
    CanHold can_hold_;
    bool dirty_ = false;
};

}  // namespace fdplug::floppy
