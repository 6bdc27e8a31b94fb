// The media backend a FloppyDrive reads and writes: a sector store with a geometry.
// The controller core sees only this interface; backends (raw files, in-memory media) live in
// their own files.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "hw/block/error/expected.h"
#include "hw/block/media/floppy_geometry.h"

namespace fdplug::floppy {

class TrackMedium;
class TrackDisk;

enum class MediaStatus : uint8_t {
    Ok,
    OutOfRange,  // C/H/R outside the geometry: the sector does not exist on this medium
    ReadOnly,    // write to a read-only medium
    IoError,     // the backing store failed; the command must end abnormally
};

class DiskImage {
  public:
    static constexpr size_t kSectorSize = 512;
    virtual ~DiskImage() = default;

    virtual const Geometry &geometry() const = 0;
    virtual bool read_only() const = 0;
    // Sectors past the end of a short file read as zeros (docs/hardware/media.md §2).
    virtual MediaStatus read_sector(unsigned c, unsigned h, unsigned r,
                                    std::span<uint8_t, kSectorSize> out) = 0;
    virtual MediaStatus write_sector(unsigned c, unsigned h, unsigned r,
                                     std::span<const uint8_t, kSectorSize> in) = 0;
    // Make every completed write durable in the backing store (an IoError if that fails).
    virtual Status flush() = 0;
    // Where the medium comes from, for QMP replies and messages ("" for anonymous media).
    virtual const std::string &source() const = 0;
    // The medium's own tracks when it keeps more than uniform 512-byte sectors (an IMD image;
    // track_medium.h); nullptr for sector images, which UniformTracks presents as tracks.
    virtual TrackMedium *tracks() { return nullptr; }
    // Whether a raw image could hold this medium whole: uniform 512-byte sectors 1..SPT in
    // order with normal marks and good CRCs on every track (track_geometry.h). Sector images
    // always are.
    virtual bool uniform() const { return true; }
    // Puts these whole tracks in place of the medium's own and makes them durable: how a
    // transient medium's changes are committed (transient_image.h). A sector image takes
    // uniform tracks of its geometry (disk_image.cc); a format without a writer refuses.
    virtual Status store_tracks(const TrackDisk &changes);

  protected:
    // store_tracks() of a sector image whose store ends after `end` bytes (a short file).
    // Sectors past the end read as zeros and are never written: a change that leaves them zero
    // stores nothing there, one that puts data there refuses the whole commit before any write.
    Status store_sector_tracks(const TrackDisk &changes, uint64_t end);
};

}  // namespace fdplug::floppy
