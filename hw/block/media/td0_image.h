// Teledisk (.TD0) files as a medium. The whole file is read into the track model when it is
// opened (td0_format.h) and never written: fdplug has no TD0 writer, so a TD0 medium is
// write-protected here; with transient writes (snapshot=on, "transient") it is opened read-only
// under an overlay the guest writes to (transient_image.h). Read-write asked of a TD0 file is
// refused (ReadOnly), with the ways out: read-only, transient, or `fdplug-img convert -O imd`.
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
#include "hw/block/media/td0_format.h"
#include "hw/block/media/track_image.h"

namespace fdplug::floppy {

class Td0Image final : public TrackImage {
  public:
    struct Options {
        std::string path;       // must be absolute
        bool read_only = true;  // false is refused: transient writes go through an overlay
        DriveType drive = DriveType::Auto;
    };

    // ReadOnly when read_only is not set; otherwise the errors of
    // open_image_file(), Corrupt / Unsupported for a file parse_td0() refuses (prefixed with
    // the path), UnknownSize for tracks no drive of this type reads.
    static Expected<std::unique_ptr<Td0Image>> open(const Options &options,
                                                    MediaFaultsPtr faults = {});
    Status flush() override { return {}; }  // nothing is ever written to the file

    const Td0Header &header() const { return header_; }
    const std::optional<Td0Comment> &comment() const { return comment_; }
    const std::vector<std::string> &warnings() const { return warnings_; }

  private:
    Td0Image(int fd, std::string path, Td0File file, FormatChoice choice, uint64_t size);

    Td0Header header_;
    std::optional<Td0Comment> comment_;
    std::vector<std::string> warnings_;
};

// A regular file that starts with a TD0 header (signature and header CRC). Checked with stat
// before it is opened (non-blocking), so a FIFO or a device is never read.
bool is_td0_file(const std::string &path);

}  // namespace fdplug::floppy
