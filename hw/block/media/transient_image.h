// A medium with transient writes (snapshot=on, floppy-attach-image's "transient"): the image
// file is opened read-only and never changes; the guest's writes and FORMATs go to an overlay of
// the track model (track_overlay.h) that holds only the tracks they changed, and go when the
// medium goes. commit() writes the changes back into the file, which must then be writable:
// the file is opened again read-write, takes the changed tracks (DiskImage::store_tracks) and is
// opened read-only again.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "hw/block/error/expected.h"
#include "hw/block/media/disk_image.h"
#include "hw/block/media/memory_tracks.h"
#include "hw/block/media/track_overlay.h"
#include "hw/block/media/uniform_tracks.h"

namespace fdplug::floppy {

class TransientImage final : public DiskImage {
  public:
    // The same file opened again: read-only to read through, or read-write for a commit.
    using Reopen = std::function<Expected<std::unique_ptr<DiskImage>>(bool writable)>;

    // `base`: the file opened read-only.
    TransientImage(std::unique_ptr<DiskImage> base, Reopen reopen);

    const Geometry &geometry() const override { return geometry_; }
    bool read_only() const override { return false; }
    // A track the guest has not changed reads from the file as the base medium reads it; a
    // changed one from the overlay, as a track image does (track_image.h).
    MediaStatus read_sector(unsigned c, unsigned h, unsigned r,
                            std::span<uint8_t, kSectorSize> out) override;
    MediaStatus write_sector(unsigned c, unsigned h, unsigned r,
                             std::span<const uint8_t, kSectorSize> in) override;
    Status flush() override { return {}; }  // nothing is written to the file
    const std::string &source() const override { return source_; }
    TrackMedium *tracks() override { return &overlay_; }
    bool uniform() const override;

    // The medium as opened (an ImdImage keeps the header an export reuses); nullptr after a
    // commit that could not open the file again.
    const DiskImage *base() const { return base_.get(); }
    size_t dirty_tracks() const { return overlay_.dirty_tracks(); }
    // The changed tracks into the file, then an empty overlay. Refused without touching the file
    // when it cannot be opened read-write or cannot hold a changed track (the Error says why);
    // the overlay is then kept.
    Status commit();

  private:
    void read_through(std::unique_ptr<DiskImage> base);

    std::unique_ptr<DiskImage> base_;
    std::unique_ptr<TracksOf> base_tracks_;
    // Where reads go when the file could not be opened again after a commit: the disk as it was.
    std::unique_ptr<MemoryTracks> kept_;
    TrackOverlay overlay_;
    Reopen reopen_;
    Geometry geometry_;
    std::string source_;
    std::string last_error_;
    // uniform() of the overlay's generation it was computed for.
    mutable std::optional<std::pair<uint64_t, bool>> uniform_;
};

}  // namespace fdplug::floppy
