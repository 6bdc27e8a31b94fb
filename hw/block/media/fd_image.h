// A medium kept behind a file descriptor: 512-byte sectors in LBA order, read and written in
// place with pread/pwrite and made durable with fdatasync. What raw image files (raw_image.h)
// and host floppy drives (host_floppy.h) have in common; each opens and checks its own kind of
// file and says where writes must stop.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "hw/block/media/disk_image.h"
#include "hw/block/media/floppy_formats.h"
#include "hw/block/media/media_faults.h"

namespace fdplug::floppy {

class FdImage : public DiskImage {
  public:
    ~FdImage() override;  // closes the descriptor (which also ends any lock or claim on it)

    const Geometry &geometry() const override { return choice_.geometry; }
    bool read_only() const override { return read_only_; }
    // Past the end of a short store: zeros (docs/hardware/media.md §2).
    MediaStatus read_sector(unsigned c, unsigned h, unsigned r,
                            std::span<uint8_t, kSectorSize> out) override;
    // Never grows the store: a sector past store_end() fails with IoError.
    MediaStatus write_sector(unsigned c, unsigned h, unsigned r,
                             std::span<const uint8_t, kSectorSize> in) override;
    Status flush() override;
    const std::string &source() const override { return path_; }
    // Up to store_end(): a commit never extends a short store (DiskImage::store_sector_tracks).
    Status store_tracks(const TrackDisk &changes) override;

    const FormatChoice &format() const { return choice_; }
    // What the last IoError from read_sector/write_sector was ("" if none yet).
    const std::string &last_error() const { return last_error_; }

  protected:
    // `noun` names the kind of store in messages ("floppy image", "host drive").
    FdImage(const char *noun, int fd, std::string path, bool read_only, FormatChoice choice,
            MediaFaultsPtr faults);
    // The end of the store for writes, or nullopt when it cannot be told (fail() was called).
    virtual std::optional<uint64_t> store_end() = 0;
    MediaStatus fail(const char *what, int err);
    int fd() const { return fd_; }

  private:
    const char *noun_;
    int fd_;
    std::string path_;
    bool read_only_;
    FormatChoice choice_;
    MediaFaultsPtr faults_;
    std::string last_error_;
};

}  // namespace fdplug::floppy
