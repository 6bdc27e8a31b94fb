// Host floppy drives: a Linux block device holding a floppy disk — the PC's own drive
// (/dev/fd0), a USB floppy drive (/dev/sdX), or a loop device over an image — read and
// written in place, 512-byte sectors in LBA order like a raw image. The device is opened
// O_EXCL, so a drive is captured by one user at a time (a mounted disk, another emulator, or
// a second drive of this process is refused), as Virtual PC captures host drives.
#pragma once

#include <memory>
#include <string>

#include "hw/block/error/expected.h"
#include "hw/block/media/fd_image.h"
#include "hw/block/media/floppy_formats.h"
#include "hw/block/media/media_faults.h"

namespace fdplug::floppy {

class HostFloppy final : public FdImage {
  public:
    struct Options {
        std::string device;                 // absolute path of the device node
        DriveType drive = DriveType::Auto;  // the emulated drive it goes in
    };

    // Opens and claims the device, sizes it (BLKGETSIZE64, else lseek) and picks the geometry
    // from its size and boot sector. Read-write when the device allows it, else read-only.
    // `faults`: test-only fault injection (media_faults.h), kept for the drive's lifetime. The
    // error's message names the device, the problem and the fix; its kind is one of
    //   BadPath       empty or relative device name
    //   NotFound      no such device node
    //   WrongFileType a regular file, /dev/null, a directory, …: not a drive at all
    //   InUse         mounted, or captured by another process or drive (EBUSY on O_EXCL)
    //   NoMedium      the drive is empty, or its disk cannot be read
    //   Unreadable    permission denied or another open(2) failure
    //   UnknownSize   the device's size is no floppy format (a hard disk, an odd medium)
    //   IoError       an unexpected failure examining an opened device
    static Expected<std::unique_ptr<HostFloppy>> open(const Options &options,
                                                      MediaFaultsPtr faults = {});

    uint64_t device_size() const { return size_; }

  private:
    HostFloppy(int fd, std::string device, bool read_only, uint64_t size, FormatChoice choice,
               MediaFaultsPtr faults);
    std::optional<uint64_t> store_end() override { return size_; }
    uint64_t size_;
};

}  // namespace fdplug::floppy
