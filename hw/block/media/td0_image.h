// Teledisk (.TD0) files as a medium. The whole file is read into the track model when it is
// opened (td0_format.h) and never written: fdplug has no TD0 writer, so a TD0 medium is
// write-protected, unless it is opened as a snapshot, whose writes stay in memory and are
// dropped with the medium. Read-write asked of a TD0 file is refused (ReadOnly), with the ways
// out: read-only, snapshot=on, or `fdplug-img convert -O imd`.
//
// The file is opened and locked as every image file is (image_file.h: a shared lock).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "hw/block/media/disk_image.h"
#include "hw/block/media/floppy_formats.h"
#include "hw/block/media/media_faults.h"
#include "hw/block/media/memory_tracks.h"
#include "hw/block/media/td0_format.h"

namespace fdplug::floppy {

class Td0Image final : public DiskImage {
  public:
    struct Options {
        std::string path;  // must be absolute
        bool read_only = true;
        bool snapshot = false;  // writable in memory; the file is never written
        DriveType drive = DriveType::Auto;
    };

    // ReadOnly when neither read_only nor snapshot is set; otherwise the errors of
    // open_image_file(), Corrupt / Unsupported for a file parse_td0() refuses (prefixed with
    // the path), UnknownSize for tracks no drive of this type reads.
    static Expected<std::unique_ptr<Td0Image>> open(const Options &options,
                                                    MediaFaultsPtr faults = {});
    ~Td0Image() override;

    // The sector interface: the sector whose ID is C H R 2 on track (c, h), as for IMD media.
    const Geometry &geometry() const override { return choice_.geometry; }
    bool read_only() const override { return tracks_.read_only(); }
    MediaStatus read_sector(unsigned c, unsigned h, unsigned r,
                            std::span<uint8_t, kSectorSize> out) override;
    MediaStatus write_sector(unsigned c, unsigned h, unsigned r,
                             std::span<const uint8_t, kSectorSize> in) override;
    Status flush() override { return {}; }  // nothing is ever written to the file
    const std::string &source() const override { return path_; }
    TrackMedium *tracks() override { return &tracks_; }
    bool uniform() const override;

    const FormatChoice &format() const { return choice_; }
    const TrackDisk &disk() const { return tracks_.disk(); }
    const Td0Header &header() const { return header_; }
    const std::optional<Td0Comment> &comment() const { return comment_; }
    const std::vector<std::string> &warnings() const { return warnings_; }
    uint64_t file_size() const { return file_size_; }
    const std::string &last_error() const { return last_error_; }

  private:
    Td0Image(int fd, std::string path, Td0File file, bool writable, FormatChoice choice,
             uint64_t size);
    std::optional<size_t> sector_index(unsigned c, unsigned h, unsigned r) const;

    int fd_;  // held for the shared lock
    std::string path_;
    Td0Header header_;
    std::optional<Td0Comment> comment_;
    std::vector<std::string> warnings_;
    FormatChoice choice_;
    MemoryTracks tracks_;
    uint64_t file_size_;
    std::string last_error_;
};

// A regular file that starts with a TD0 header (signature and header CRC). Checked with stat
// before it is opened (non-blocking), so a FIFO or a device is never read.
bool is_td0_file(const std::string &path);

}  // namespace fdplug::floppy
