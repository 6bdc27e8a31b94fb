// Raw image files: checked with stat before any open so that a FIFO or device is refused
// without ever blocking, opened non-blocking anyway (the path may change between the two), then
// locked with OFD locks. Locks belong to the open file description, so a second read-write open
// conflicts even inside the same process — two drives cannot share one writable image.
#include "hw/block/media/raw_image.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <utility>

#include "hw/block/media/posix_io.h"

namespace fdplug::floppy {

using posix::errno_text;
using posix::FdGuard;
using posix::open_retry;
using posix::quoted;

namespace {

using Opened = Expected<std::unique_ptr<RawImage>>;

const char *file_kind(mode_t mode) {
    if (S_ISBLK(mode)) return "a block device (host drives attach with floppy-attach-host-drive)";
    return posix::file_kind(mode);
}

Opened not_regular(const std::string &path, mode_t mode) {
    return Error(ErrorKind::WrongFileType,
                 quoted(path) + " is " + file_kind(mode) +
                     ", not a floppy image file; give the path of a raw image (.img, .ima, "
                     ".vfd, .flp)");
}

Opened stat_failure(const std::string &path, int err) {
    switch (err) {
        case ENOENT:
            return Error(ErrorKind::NotFound,
                         "floppy image " + quoted(path) + " does not exist; check the path");
        case ENOTDIR:
            return Error(ErrorKind::NotFound, "floppy image " + quoted(path) +
                                                  " does not exist: a component of the path "
                                                  "is not a directory");
        case ENAMETOOLONG:
        case ELOOP:
            return Error(ErrorKind::BadPath, "floppy image path " + quoted(path) +
                                                 " cannot be resolved: " + errno_text(err));
        default:
            return Error(ErrorKind::Unreadable,
                         "cannot look up floppy image " + quoted(path) + ": " + errno_text(err) +
                             "; check the permissions of the file and its directories");
    }
}

// Read-write open refused: was it only the write access (the file is read-only to us)?
Opened open_failure(const std::string &path, bool read_only, int err) {
    const bool write_refused = err == EACCES || err == EROFS || err == EPERM || err == ETXTBSY;
    if (!read_only && write_refused) {
        int probe = open_retry(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (probe >= 0) {
            ::close(probe);
            return Error(ErrorKind::ReadOnly,
                         "floppy image " + quoted(path) + " can only be opened read-only (" +
                             errno_text(err) + "); attach it read-only, or make the file writable");
        }
        err = errno;
    }
    if (err == ENOENT) return stat_failure(path, err);
    return Error(ErrorKind::Unreadable, "cannot open floppy image " + quoted(path) + ": " +
                                            errno_text(err) + "; check the file's permissions");
}

}  // namespace

Opened RawImage::open(const Options &o, MediaFaultsPtr faults) {
    const std::string &path = o.path;
    if (path.empty())
        return Error(ErrorKind::BadPath,
                     "no floppy image file was given; pass the absolute path of a raw image");
    if (path.find('\0') != std::string::npos)
        return Error(ErrorKind::BadPath,
                     "floppy image path contains a NUL byte; give a plain absolute path");
    if (path.front() != '/')
        return Error(ErrorKind::BadPath,
                     "floppy image path " + quoted(path) +
                         " is not absolute; give the full path, starting with '/'");

    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return stat_failure(path, errno);
    if (!S_ISREG(st.st_mode)) return not_regular(path, st.st_mode);

    // O_NONBLOCK: if the path became a FIFO since the stat, open still returns at once.
    FdGuard fd{
        open_retry(path, (o.read_only ? O_RDONLY : O_RDWR) | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)};
    if (fd.fd < 0) return open_failure(path, o.read_only, errno);
    if (::fstat(fd.fd, &st) != 0)
        return Error(ErrorKind::IoError,
                     "cannot examine floppy image " + quoted(path) + ": " + errno_text(errno));
    if (!S_ISREG(st.st_mode)) return not_regular(path, st.st_mode);
    if (int fl = ::fcntl(fd.fd, F_GETFL); fl >= 0) ::fcntl(fd.fd, F_SETFL, fl & ~O_NONBLOCK);

    // Whole-file lock: shared for readers, exclusive for a writer (QEMU's rule for images).
    struct flock lock = {};
    lock.l_type = o.read_only ? F_RDLCK : F_WRLCK;
    lock.l_whence = SEEK_SET;
    int rc;
    do rc = ::fcntl(fd.fd, F_OFD_SETLK, &lock);
    while (rc != 0 && errno == EINTR);
    bool locked = rc == 0;
    if (!locked) {
        const int err = errno;
        if (err == EAGAIN || err == EACCES)
            return Error(ErrorKind::InUse,
                         o.read_only
                             ? "floppy image " + quoted(path) +
                                   " is open read-write elsewhere (another process or another "
                                   "drive holds its write lock); release it there first"
                             : "floppy image " + quoted(path) +
                                   " is in use by another process or another drive; release "
                                   "it there first, or attach it read-only if nobody writes it");
        // File systems without OFD locks (some network mounts): used unlocked, as QEMU does.
        if (err != ENOLCK && err != EINVAL && err != EOPNOTSUPP)
            return Error(ErrorKind::IoError,
                         "cannot lock floppy image " + quoted(path) + ": " + errno_text(err));
    }

    const uint64_t size = uint64_t(st.st_size);
    std::array<uint8_t, kSectorSize> boot{};
    ssize_t got = read_with_faults(faults, fd.fd, boot.data(), boot.size(), 0);
    if (got < 0)
        return Error(ErrorKind::IoError, "reading the boot sector of floppy image " + quoted(path) +
                                             " failed: " + errno_text(errno));
    auto choice = choose_format(size, o.drive, std::span<const uint8_t>(boot.data(), size_t(got)));
    if (!choice)
        return choice.error().prefixed("floppy image " + quoted(path) + " cannot be used: ");

    std::unique_ptr<RawImage> image(
        new RawImage(fd.release(), path, o.read_only, size, *choice, std::move(faults)));
    image->locked_ = locked;
    return image;
}

RawImage::RawImage(int fd, std::string path, bool read_only, uint64_t size, FormatChoice choice,
                   MediaFaultsPtr faults)
    : FdImage("floppy image", fd, std::move(path), read_only, choice, std::move(faults)),
      file_size_(size) {}

std::optional<uint64_t> RawImage::store_end() {
    struct stat st;
    if (::fstat(fd(), &st) != 0) {
        fail("examining", errno);
        return std::nullopt;
    }
    return std::min(file_size_, uint64_t(st.st_size));
}

}  // namespace fdplug::floppy
