// Opening an image file for a medium backend (raw sector images, IMD files) the one safe way:
// the path checked, stat(2) before any open so that a FIFO or a device is refused without ever
// blocking, a non-blocking open anyway (the path may change between the two), then a whole-file
// OFD lock — shared for a reader, exclusive for a writer, as QEMU locks images. OFD locks belong
// to the open file description, so a second read-write open conflicts even in the same process:
// two drives cannot share one writable image.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hw/block/error/expected.h"
#include "hw/block/media/posix_io.h"

namespace fdplug::floppy {

struct ImageFile {
    posix::FdGuard fd;
    uint64_t size = 0;
    // false on a file system without OFD locks (some network mounts): used unlocked, as QEMU
    // does.
    bool locked = false;
};

// The file at `path`, open (blocking from now on) and locked. The Error's message names the file,
// the problem and the way out; its kind is one of
//   BadPath       empty, relative or NUL-containing path
//   NotFound      no such file
//   WrongFileType a directory, FIFO, device node, …
//   Unreadable    permission denied or another open(2) failure
//   ReadOnly      read-write was asked of a file that can only be opened read-only
//   InUse         another process (or drive) holds a conflicting lock
//   IoError       examining or locking the file failed
Expected<ImageFile> open_image_file(const std::string &path, bool read_only);

// Up to `n` bytes from the start of the regular file at `path`, to tell its format by content;
// empty for anything that is not a regular file or cannot be read. Checked with stat before it
// is opened, and opened non-blocking, so a FIFO or a device is never read.
std::vector<uint8_t> regular_file_start(const std::string &path, size_t n);

// A whole-file OFD lock on `fd`: true when taken, false when the file system has no OFD locks;
// InUse when someone holds a conflicting one, IoError when locking fails otherwise.
Expected<bool> lock_image_file(int fd, bool exclusive, const std::string &path);

}  // namespace fdplug::floppy
