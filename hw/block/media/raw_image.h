// Raw sector images (.img/.ima/.vfd/.flp): a file holding the sectors in LBA order, read and
// written in place (fd_image.h), locked against a second writer with open-file-description
// locks (shared for read-only, exclusive for read-write, as QEMU does).
#pragma once

#include <memory>
#include <string>

#include "hw/block/error/expected.h"
#include "hw/block/media/fd_image.h"
#include "hw/block/media/floppy_formats.h"
#include "hw/block/media/media_faults.h"

namespace fdplug::floppy {

class RawImage final : public FdImage {
  public:
    struct Options {
        std::string path;  // must be absolute
        bool read_only = false;
        DriveType drive = DriveType::Auto;  // the drive it goes in; picks among formats
    };

    // Opens and locks the file and picks its geometry. Never blocks on a FIFO. `faults`:
    // test-only fault injection (media_faults.h), kept for the image's lifetime. The error's
    // message names the file, the problem and the fix; its kind is one of
    //   BadPath       empty or relative path
    //   NotFound      no such file
    //   WrongFileType a directory, FIFO, device node, …: refused without blocking
    //   Unreadable    permission denied or another open(2) failure
    //   ReadOnly      read-write was asked of a file that can only be opened read-only
    //   InUse         another process (or drive) holds a conflicting lock
    //   UnknownSize   no floppy format fits the size (or the drive type refuses the medium)
    //   IoError       reading the boot sector, taking the lock or examining the file failed
    static Expected<std::unique_ptr<RawImage>> open(const Options &options,
                                                    MediaFaultsPtr faults = {});

    uint64_t file_size() const { return file_size_; }
    // false when the file system does not support OFD locks (the image is then used unlocked).
    bool locked() const { return locked_; }

  private:
    RawImage(int fd, std::string path, bool read_only, uint64_t size, FormatChoice choice,
             MediaFaultsPtr faults);
    // Not past its size at open, nor past a size it was cut to since.
    std::optional<uint64_t> store_end() override;
    uint64_t file_size_;
    bool locked_ = true;
};

}  // namespace fdplug::floppy
