// A sector image (raw file, memory, host drive) as tracks: every track of its geometry is MFM at
// the geometry's rate and holds sectors 1..SPT in order, 512 bytes each, with IDs C H R 2 — what
// the image implies and all it can hold. Formatting takes only that same layout (any subset of
// R, in any order, with any fill); deleted marks cannot be stored, so WRITE DELETED leaves a
// normal mark (docs/divergences.md Δ8, Δ11).
#pragma once

#include "hw/block/media/disk_image.h"
#include "hw/block/media/track_medium.h"

namespace fdplug::floppy {

class UniformTracks final : public TrackMedium {
  public:
    explicit UniformTracks(DiskImage &image) : image_(image) {}

    bool read_only() const override { return image_.read_only(); }
    unsigned cylinders() const override { return image_.geometry().cylinders; }
    unsigned heads() const override { return image_.geometry().heads; }
    MediaStatus track_info(unsigned c, unsigned h, TrackInfo &out) override;
    MediaStatus read_data(unsigned c, unsigned h, size_t index, std::span<uint8_t> out) override;
    MediaStatus write_data(unsigned c, unsigned h, size_t index, DataMark mark,
                           std::span<const uint8_t> in) override;
    Status can_format(unsigned c, unsigned h, const TrackFormat &format) const override;
    MediaStatus format_track(unsigned c, unsigned h, const TrackFormat &format) override;

  private:
    DiskImage &image_;
};

// The tracks of whatever medium a drive holds: the medium's own when it keeps tracks (an IMD
// image), else its sectors as uniform tracks.
class TracksOf {
  public:
    explicit TracksOf(DiskImage &medium)
        : uniform_(medium), tracks_(medium.tracks() ? medium.tracks() : &uniform_) {}
    TracksOf(const TracksOf &) = delete;
    TracksOf &operator=(const TracksOf &) = delete;

    TrackMedium &operator*() const { return *tracks_; }
    TrackMedium *operator->() const { return tracks_; }

  private:
    UniformTracks uniform_;
    TrackMedium *tracks_;
};

}  // namespace fdplug::floppy
