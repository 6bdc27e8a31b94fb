#include "hw/block/media/image_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

namespace fdplug::floppy {

using posix::errno_text;
using posix::FdGuard;
using posix::open_retry;
using posix::quoted;

namespace {

const char *file_kind(mode_t mode) {
    if (S_ISBLK(mode)) return "a block device (host drives attach with floppy-attach-host-drive)";
    return posix::file_kind(mode);
}

Error<> not_regular(const std::string &path, mode_t mode) {
    return Error(ErrorKind::WrongFileType,
                 quoted(path) + " is " + file_kind(mode) +
                     ", not a floppy image file; give the path of a raw image (.img, .ima, "
                     ".vfd, .flp)");
}

Error<> stat_failure(const std::string &path, int err) {
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
Error<> open_failure(const std::string &path, bool read_only, int err) {
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

std::vector<uint8_t> regular_file_start(const std::string &path, size_t n) {
    struct stat st;
    if (path.empty() || ::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return {};
    FdGuard fd{open_retry(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)};
    if (fd.fd < 0) return {};
    std::vector<uint8_t> start(n);
    const ssize_t got = posix::pread_full(fd.fd, start.data(), n, 0);
    start.resize(got > 0 ? size_t(got) : 0);
    return start;
}

Expected<bool> lock_image_file(int fd, bool exclusive, const std::string &path) {
    struct flock lock = {};
    lock.l_type = exclusive ? F_WRLCK : F_RDLCK;
    lock.l_whence = SEEK_SET;
    int rc;
    do rc = ::fcntl(fd, F_OFD_SETLK, &lock);
    while (rc != 0 && errno == EINTR);
    if (rc == 0) return true;
    const int err = errno;
    if (err == EAGAIN || err == EACCES)
        return Error(ErrorKind::InUse,
                     exclusive ? "floppy image " + quoted(path) +
                                     " is in use by another process or another drive; release "
                                     "it there first, or attach it read-only if nobody writes it"
                               : "floppy image " + quoted(path) +
                                     " is open read-write elsewhere (another process or another "
                                     "drive holds its write lock); release it there first");
    if (err == ENOLCK || err == EINVAL || err == EOPNOTSUPP) return false;
    return Error(ErrorKind::IoError,
                 "cannot lock floppy image " + quoted(path) + ": " + errno_text(err));
}

Expected<ImageFile> open_image_file(const std::string &path, bool read_only) {
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
        open_retry(path, (read_only ? O_RDONLY : O_RDWR) | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)};
    if (fd.fd < 0) return open_failure(path, read_only, errno);
    if (::fstat(fd.fd, &st) != 0)
        return Error(ErrorKind::IoError,
                     "cannot examine floppy image " + quoted(path) + ": " + errno_text(errno));
    if (!S_ISREG(st.st_mode)) return not_regular(path, st.st_mode);
    if (int fl = ::fcntl(fd.fd, F_GETFL); fl >= 0) ::fcntl(fd.fd, F_SETFL, fl & ~O_NONBLOCK);

    Expected<bool> locked = lock_image_file(fd.fd, !read_only, path);
    if (!locked) return locked.error();
    return ImageFile{std::move(fd), uint64_t(st.st_size), *locked};
}

}  // namespace fdplug::floppy
