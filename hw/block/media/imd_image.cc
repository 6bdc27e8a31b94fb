// IMD files: opened with the checks a raw image gets (stat before open, non-blocking open, OFD
// locks), read whole, kept as tracks, and saved by writing a locked replacement beside the
// file, syncing it and renaming it over the original.
#include "hw/block/media/imd_image.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <utility>

#include "hw/block/media/imd_format.h"
#include "hw/block/media/posix_io.h"
#include "hw/block/media/track_geometry.h"

namespace fdplug::floppy {

using posix::errno_text;
using posix::FdGuard;
using posix::quoted;

namespace {

constexpr uint8_t kSizeCode512 = 2;

ImdOpenResult failure(ImageOpenError error, std::string message) {
    ImdOpenResult r;
    r.error = error;
    r.message = std::move(message);
    return r;
}

// Whole-file OFD lock: shared for readers, exclusive for a writer. 0, or the errno of a
// conflict or failure; file systems without OFD locks count as locked (as for raw images).
int lock_file(int fd, bool exclusive) {
    struct flock lock = {};
    lock.l_type = exclusive ? F_WRLCK : F_RDLCK;
    lock.l_whence = SEEK_SET;
    int rc;
    do rc = ::fcntl(fd, F_OFD_SETLK, &lock);
    while (rc != 0 && errno == EINTR);
    if (rc == 0 || errno == ENOLCK || errno == EINVAL || errno == EOPNOTSUPP) return 0;
    return errno;
}

// The file a rename must replace: the path with its symbolic links resolved.
std::string real_path(const std::string &path) {
    char buf[PATH_MAX];
    return ::realpath(path.c_str(), buf) ? std::string(buf) : path;
}

}  // namespace

bool is_imd_file(const std::string &path) {
    struct stat st;
    if (path.empty() || ::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
    FdGuard fd{posix::open_retry(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)};
    if (fd.fd < 0) return false;
    uint8_t start[kImdSignature.size()];
    const ssize_t got = posix::pread_full(fd.fd, start, sizeof start, 0);
    return got == ssize_t(sizeof start) && looks_like_imd(start);
}

ImdOpenResult ImdImage::open(const Options &o, MediaFaultsPtr faults) {
    const std::string &path = o.path;
    if (path.empty() || path.front() != '/' || path.find('\0') != std::string::npos)
        return failure(ImageOpenError::BadPath,
                       "floppy image path " + quoted(path) +
                           " is not absolute; give the full path, starting with '/'");
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) {
        const int err = errno;
        return failure(
            err == ENOENT || err == ENOTDIR ? ImageOpenError::NotFound : ImageOpenError::Unreadable,
            "cannot find floppy image " + quoted(path) + ": " + errno_text(err) +
                "; check the path");
    }
    if (!S_ISREG(st.st_mode))
        return failure(
            ImageOpenError::NotRegular,
            quoted(path) + " is " + posix::file_kind(st.st_mode) + ", not a floppy image file");
    const bool writes_file = !o.read_only && !o.snapshot;
    FdGuard fd{posix::open_retry(
        path, (writes_file ? O_RDWR : O_RDONLY) | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)};
    if (fd.fd < 0) {
        const int err = errno;
        const bool write_refused = err == EACCES || err == EROFS || err == EPERM;
        if (writes_file && write_refused && ::access(path.c_str(), R_OK) == 0)
            return failure(ImageOpenError::FileReadOnly,
                           "floppy image " + quoted(path) + " can only be opened read-only (" +
                               errno_text(err) + "); attach it read-only, or make it writable");
        return failure(ImageOpenError::Unreadable, "cannot open floppy image " + quoted(path) +
                                                       ": " + errno_text(err) +
                                                       "; check the file's permissions");
    }
    if (::fstat(fd.fd, &st) != 0 || !S_ISREG(st.st_mode))
        return failure(
            ImageOpenError::NotRegular,
            quoted(path) + " changed while it was opened; it is not a floppy image file");
    if (int fl = ::fcntl(fd.fd, F_GETFL); fl >= 0) ::fcntl(fd.fd, F_SETFL, fl & ~O_NONBLOCK);
    if (const int err = lock_file(fd.fd, writes_file); err != 0) {
        if (err == EAGAIN || err == EACCES)
            return failure(ImageOpenError::Locked,
                           "floppy image " + quoted(path) +
                               " is in use by another process or another drive; release it "
                               "there first" +
                               (writes_file ? ", or attach it read-only if nobody writes it" : ""));
        return failure(ImageOpenError::IoError,
                       "cannot lock floppy image " + quoted(path) + ": " + errno_text(err));
    }

    const uint64_t size = uint64_t(st.st_size);
    if (size > kMaxImdFileBytes)
        return failure(ImageOpenError::UnknownSize,
                       "IMD image " + quoted(path) + " is " + std::to_string(size) +
                           " bytes, larger than any IMD floppy (" +
                           std::to_string(kMaxImdFileBytes) + " bytes at most)");
    std::vector<uint8_t> bytes(size);
    const ssize_t got = read_with_faults(faults, fd.fd, bytes.data(), bytes.size(), 0);
    if (got < 0)
        return failure(ImageOpenError::IoError,
                       "reading IMD image " + quoted(path) + " failed: " + errno_text(errno));
    bytes.resize(size_t(got));
    ImdFile file;
    std::string why;
    if (!parse_imd(bytes, &file, &why))
        return failure(ImageOpenError::UnknownSize,
                       "IMD image " + quoted(path) + " is corrupt or truncated: " + why);
    auto choice = choose_track_format(file.disk, o.drive, &why);
    if (!choice)
        return failure(ImageOpenError::UnknownSize,
                       "IMD image " + quoted(path) + " cannot be used: " + why);
    ImdOpenResult r;
    r.image.reset(new ImdImage(fd.release(), path, std::move(file.header), std::move(file.disk), o,
                               *choice, bytes.size(), std::move(faults)));
    return r;
}

ImdImage::ImdImage(int fd, std::string path, std::string header, TrackDisk disk,
                   const Options &options, FormatChoice choice, uint64_t size,
                   MediaFaultsPtr faults)
    : fd_(fd),
      path_(std::move(path)),
      header_(std::move(header)),
      writes_file_(!options.read_only && !options.snapshot),
      choice_(choice),
      tracks_(std::move(disk), options.read_only, imd_can_hold),
      file_size_(size),
      faults_(std::move(faults)) {}

ImdImage::~ImdImage() {
    if (writes_file_ && tracks_.dirty()) save(nullptr);
    if (fd_ >= 0) ::close(fd_);
}

std::string ImdImage::comment() const {
    return imd_comment(header_);
}

std::optional<size_t> ImdImage::sector_index(unsigned c, unsigned h, unsigned r) const {
    const Track *t = tracks_.disk().find(c, h);
    if (!t || c > UINT8_MAX || h > UINT8_MAX || r > UINT8_MAX) return std::nullopt;
    const SectorId want{uint8_t(c), uint8_t(h), uint8_t(r), kSizeCode512};
    for (size_t i = 0; i < t->sector_count(); ++i) {
        const SectorInfo &s = t->info(i);
        if (s.id_crc_ok && s.id == want && s.size_code == kSizeCode512) return i;
    }
    return std::nullopt;
}

MediaStatus ImdImage::read_sector(unsigned c, unsigned h, unsigned r,
                                  std::span<uint8_t, kSectorSize> out) {
    const std::optional<size_t> i = sector_index(c, h, r);
    if (!i) return MediaStatus::OutOfRange;
    const SectorInfo &s = tracks_.disk().find(c, h)->info(*i);
    if (s.mark == DataMark::None || !s.data_crc_ok) {
        last_error_ = "sector C=" + std::to_string(c) + " H=" + std::to_string(h) +
                      " R=" + std::to_string(r) + " of " + quoted(path_) +
                      (s.mark == DataMark::None ? " has no data field" : " has a data CRC error");
        std::ranges::fill(out, uint8_t{0});
        return MediaStatus::IoError;
    }
    return tracks_.read_data(c, h, *i, out);
}

MediaStatus ImdImage::write_sector(unsigned c, unsigned h, unsigned r,
                                   std::span<const uint8_t, kSectorSize> in) {
    if (read_only()) return MediaStatus::ReadOnly;
    const std::optional<size_t> i = sector_index(c, h, r);
    if (!i) return MediaStatus::OutOfRange;
    return tracks_.write_data(c, h, *i, DataMark::Normal, in);
}

bool ImdImage::flush(std::string *error) {
    if (!writes_file_) return true;  // nothing is ever written to the file
    if (tracks_.dirty()) return save(error);
    if (sync_with_faults(faults_, fd_) == 0) return true;
    if (error) *error = "flushing IMD image " + quoted(path_) + " failed: " + errno_text(errno);
    return false;
}

bool ImdImage::save(std::string *error) {
    auto fail = [&](const std::string &what, int err) {
        if (error)
            *error = what + " IMD image " + quoted(path_) + " failed" +
                     (err ? ": " + errno_text(err) : std::string());
        return false;
    };
    std::vector<uint8_t> bytes;
    std::string why;
    if (!write_imd(header_, tracks_.disk(), &bytes, &why)) {
        if (error) *error = "IMD image " + quoted(path_) + " cannot hold its tracks: " + why;
        return false;
    }
    const std::string target = real_path(path_);
    const size_t slash = target.rfind('/');
    const std::string dir = target.substr(0, slash == 0 ? 1 : slash);
    std::string temp = dir + "/." + target.substr(slash + 1) + ".fdplug-XXXXXX";
    FdGuard out{::mkostemp(temp.data(), O_CLOEXEC)};
    if (out.fd < 0) return fail("creating a replacement file for", errno);
    auto discard = [&](const std::string &what, int err) {
        ::unlink(temp.c_str());
        return fail(what, err);
    };
    struct stat st;
    if (::fstat(fd_, &st) == 0) ::fchmod(out.fd, st.st_mode & 07777);
    if (const int err = lock_file(out.fd, true); err != 0)
        return discard("locking the replacement of", err);
    if (!posix::pwrite_full(out.fd, bytes.data(), bytes.size(), 0))
        return discard("writing", errno);
    if (sync_with_faults(faults_, out.fd) != 0) return discard("flushing", errno);
    if (::rename(temp.c_str(), target.c_str()) != 0) return discard("replacing", errno);
    // The rename itself becomes durable with the directory.
    if (FdGuard d{posix::open_retry(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)}; d.fd >= 0)
        ::fsync(d.fd);
    ::close(fd_);
    fd_ = out.release();
    file_size_ = bytes.size();
    tracks_.mark_saved();
    return true;
}

}  // namespace fdplug::floppy
