// Host floppy drives. The node is checked with stat before the open, so only block devices are
// ever opened (a FIFO or a terminal cannot block or be disturbed), and checked again with fstat
// on the descriptor. O_NONBLOCK keeps the open itself from waiting on a drive; it is cleared
// before any I/O.
#include "hw/block/media/host_floppy.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <iterator>
#include <utility>

#include "hw/block/media/posix_io.h"

namespace fdplug::floppy {

using posix::errno_text;
using posix::quoted;

namespace {

using Opened = Expected<std::unique_ptr<HostFloppy>>;

Opened not_block_device(const std::string &device, mode_t mode) {
    return Error(ErrorKind::WrongFileType,
                 quoted(device) + " is " + posix::file_kind(mode) +
                     ", not a floppy drive; give the block device of a host floppy drive "
                     "(/dev/fd0, a USB drive's /dev/sdX); image files attach with "
                     "floppy-attach-image");
}

Opened open_failure(const std::string &device, int err) {
    switch (err) {
        case EBUSY:
            return Error(ErrorKind::InUse,
                         "host drive " + quoted(device) +
                             " is in use (mounted, or captured by another program or drive); "
                             "unmount or release it there first");
        case ENXIO:
        case ENOMEDIUM:
        case ENODEV:
            return Error(ErrorKind::NoMedium, "host drive " + quoted(device) + " has no disk (" +
                                                  errno_text(err) +
                                                  "); insert a disk and try again");
        case ENOENT:
            return Error(ErrorKind::NotFound,
                         "host drive " + quoted(device) + " does not exist; check the device name");
        default:
            return Error(ErrorKind::Unreadable, "cannot open host drive " + quoted(device) + ": " +
                                                    errno_text(err) +
                                                    "; check the device's permissions");
    }
}

// Read-write if the device lets us, else read-only (a write-protected or read-only device).
int open_device(const std::string &device, bool *read_only) {
    const int flags = O_EXCL | O_NONBLOCK | O_CLOEXEC | O_NOCTTY;
    int fd = posix::open_retry(device, O_RDWR | flags);
    *read_only = false;
    if (fd < 0 && (errno == EROFS || errno == EACCES || errno == EPERM)) {
        const int first = errno;
        fd = posix::open_retry(device, O_RDONLY | flags);
        if (fd < 0 && errno == EACCES) errno = first;
        *read_only = fd >= 0;
    }
    return fd;
}

bool size_of_device(int fd, uint64_t *size) {
    uint64_t bytes = 0;
    if (::ioctl(fd, BLKGETSIZE64, &bytes) == 0) {
        *size = bytes;
        return true;
    }
    const off_t end = ::lseek(fd, 0, SEEK_END);
    if (end < 0) return false;
    *size = uint64_t(end);
    return true;
}

}  // namespace

Opened HostFloppy::open(const Options &o, MediaFaultsPtr faults) {
    const std::string &device = o.device;
    if (device.empty())
        return Error(ErrorKind::BadPath,
                     "no host drive was given; pass the device node, e.g. /dev/fd0");
    if (device.find('\0') != std::string::npos || device.front() != '/')
        return Error(ErrorKind::BadPath, "host drive " + quoted(device) +
                                             " is not an absolute device path; give e.g. /dev/fd0");

    struct stat st;
    if (::stat(device.c_str(), &st) != 0) return open_failure(device, errno);
    if (!S_ISBLK(st.st_mode)) return not_block_device(device, st.st_mode);

    bool read_only = false;
    posix::FdGuard fd{open_device(device, &read_only)};
    if (fd.fd < 0) return open_failure(device, errno);
    if (::fstat(fd.fd, &st) != 0)
        return Error(ErrorKind::IoError,
                     "cannot examine host drive " + quoted(device) + ": " + errno_text(errno));
    if (!S_ISBLK(st.st_mode)) return not_block_device(device, st.st_mode);
    if (int fl = ::fcntl(fd.fd, F_GETFL); fl >= 0) ::fcntl(fd.fd, F_SETFL, fl & ~O_NONBLOCK);
    if (!read_only) {
        int ro = 0;
        if (::ioctl(fd.fd, BLKROGET, &ro) == 0 && ro) read_only = true;
    }

    uint64_t size = 0;
    if (!size_of_device(fd.fd, &size))
        return Error(ErrorKind::IoError, "cannot find the size of host drive " + quoted(device) +
                                             ": " + errno_text(errno));
    if (size == 0)
        return Error(ErrorKind::NoMedium,
                     "host drive " + quoted(device) + " has no disk (size 0); insert a disk");

    std::array<uint8_t, kSectorSize> boot{};
    const ssize_t got = read_with_faults(faults, fd.fd, boot.data(), boot.size(), 0);
    if (got < 0)
        return Error(ErrorKind::NoMedium, "cannot read the disk in host drive " + quoted(device) +
                                              ": " + errno_text(errno) +
                                              "; check that a readable disk is in the drive");
    auto choice = choose_format(size, o.drive, std::span<const uint8_t>(boot.data(), size_t(got)));
    if (!choice)
        return choice.error().prefixed("host drive " + quoted(device) + " (" +
                                       std::to_string(size) +
                                       " bytes) holds no usable floppy disk: ");
    return std::unique_ptr<HostFloppy>(
        new HostFloppy(fd.release(), device, read_only, size, *choice, std::move(faults)));
}

HostFloppy::HostFloppy(int fd, std::string device, bool read_only, uint64_t size,
                       FormatChoice choice, MediaFaultsPtr faults)
    : FdImage("host drive", fd, std::move(device), read_only, choice, std::move(faults)),
      size_(size) {}

}  // namespace fdplug::floppy
