// An image file read whole into tracks when it is opened (ImageDisk, Teledisk): the file held
// open for its lock, the geometry its tracks give in the drive, and the sector interface over
// those tracks. Each format adds how it is read and, if it has one, how it is written back.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "hw/block/media/disk_image.h"
#include "hw/block/media/floppy_formats.h"
#include "hw/block/media/memory_tracks.h"

namespace fdplug::floppy {

class TrackImage : public DiskImage {
  public:
    ~TrackImage() override;  // closes the file, dropping its lock

    // The sector interface: the sector whose ID is C H R 2 (512 bytes) on track (c, h).
    // OutOfRange when the track has none; IoError when it has no data field or a data CRC
    // error (last_error() says which).
    const Geometry &geometry() const override { return choice_.geometry; }
    bool read_only() const override { return tracks_.read_only(); }
    MediaStatus read_sector(unsigned c, unsigned h, unsigned r,
                            std::span<uint8_t, kSectorSize> out) override;
    MediaStatus write_sector(unsigned c, unsigned h, unsigned r,
                             std::span<const uint8_t, kSectorSize> in) override;
    const std::string &source() const override { return path_; }
    TrackMedium *tracks() override { return &tracks_; }
    bool uniform() const override;

    const FormatChoice &format() const { return choice_; }
    const TrackDisk &disk() const { return tracks_.disk(); }
    uint64_t file_size() const { return file_size_; }
    const std::string &last_error() const { return last_error_; }

  protected:
    TrackImage(int fd, std::string path, FormatChoice choice, MemoryTracks tracks, uint64_t size);

    int fd_;
    std::string path_;
    FormatChoice choice_;
    MemoryTracks tracks_;
    uint64_t file_size_;

  private:
    // The index of the sector the sector interface calls (c, h, r), or nullopt.
    std::optional<size_t> sector_index(unsigned c, unsigned h, unsigned r) const;

    std::string last_error_;
};

}  // namespace fdplug::floppy
