// ImageDisk (.IMD) files as a medium. The whole file is read into the track model when it is
// opened (imd_format.h); the guest reads and writes the model, and a flush writes the model
// back as a new IMD file that replaces the old one in one rename, so a crash leaves the old
// file or the new one, never a torn one. Unlike a raw image, a guest's writes reach the file
// only at a flush (release, eject, quit, or the destructor as a last resort).
//
// The file is locked as a raw image is (shared for read-only, exclusive for read-write); the
// replacement file is locked before it takes the name, so the lock never lapses.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "hw/block/media/disk_image.h"
#include "hw/block/media/floppy_formats.h"
#include "hw/block/media/media_faults.h"
#include "hw/block/media/track_image.h"

namespace fdplug::floppy {

class ImdImage final : public TrackImage {
  public:
    struct Options {
        std::string path;        // must be absolute
        bool read_only = false;  // transient writes: open it read-only (transient_image.h)
        DriveType drive = DriveType::Auto;
    };

    // Opens and locks the file as every image file is (image_file.h, with its error kinds),
    // reads and checks it, and picks the geometry its tracks give in the drive. A corrupt or
    // truncated file is Corrupt, its message naming the byte offset and the problem; tracks no
    // drive of this type reads are UnknownSize. `faults`: test-only fault injection.
    static Expected<std::unique_ptr<ImdImage>> open(const Options &options,
                                                    MediaFaultsPtr faults = {});
    ~ImdImage() override;  // saves unsaved writes as a last resort

    // Writes the tracks back if anything changed (else syncs the file as it is).
    Status flush() override;
    // Puts the changed tracks in and saves the file; none goes in unless IMD can hold all.
    Status store_tracks(const TrackDisk &changes) override;

    // The header and comment the file came with (imd_format.h); a rewritten file keeps them.
    const std::string &header() const { return header_; }
    std::string comment() const;

  private:
    ImdImage(int fd, std::string path, std::string header, TrackDisk disk, const Options &options,
             FormatChoice choice, uint64_t size, MediaFaultsPtr faults);
    Status save();

    std::string header_;
    bool writes_file_;  // read-write
    MediaFaultsPtr faults_;
};

// A regular file that starts with the IMD signature. Checked with stat before it is opened
// (non-blocking), so a FIFO or a device is never read; false for anything that cannot be read.
bool is_imd_file(const std::string &path);

}  // namespace fdplug::floppy
