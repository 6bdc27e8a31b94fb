#include "hw/block/media/fd_image.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "hw/block/media/posix_io.h"

namespace fdplug::floppy {

FdImage::FdImage(const char *noun, int fd, std::string path, bool read_only, FormatChoice choice,
                 MediaFaultsPtr faults)
    : noun_(noun),
      fd_(fd),
      path_(std::move(path)),
      read_only_(read_only),
      choice_(choice),
      faults_(std::move(faults)) {}

FdImage::~FdImage() {
    if (fd_ >= 0) ::close(fd_);
}

MediaStatus FdImage::fail(const char *what, int err) {
    last_error_ = std::string(what) + " " + noun_ + " " + posix::quoted(path_) +
                  " failed: " + posix::errno_text(err);
    return MediaStatus::IoError;
}

MediaStatus FdImage::read_sector(unsigned c, unsigned h, unsigned r,
                                 std::span<uint8_t, kSectorSize> out) {
    auto lba = geometry().lba(c, h, r);
    if (!lba) return MediaStatus::OutOfRange;
    ssize_t got =
        read_with_faults(faults_, fd_, out.data(), out.size(), uint64_t(*lba) * kSectorSize);
    if (got < 0) {
        const int err = errno;
        std::fill(out.begin(), out.end(), uint8_t{0});  // never hand back a stale buffer
        return fail("reading", err);
    }
    std::fill(out.begin() + got, out.end(), uint8_t{0});
    return MediaStatus::Ok;
}

MediaStatus FdImage::write_sector(unsigned c, unsigned h, unsigned r,
                                  std::span<const uint8_t, kSectorSize> in) {
    if (read_only_) return MediaStatus::ReadOnly;
    auto lba = geometry().lba(c, h, r);
    if (!lba) return MediaStatus::OutOfRange;
    const uint64_t at = uint64_t(*lba) * kSectorSize;
    const std::optional<uint64_t> end = store_end();
    if (!end) return MediaStatus::IoError;
    if (at + kSectorSize > *end) {
        last_error_ = "sector C=" + std::to_string(c) + " H=" + std::to_string(h) +
                      " R=" + std::to_string(r) + " lies past the end of " + noun_ + " " +
                      posix::quoted(path_) + " (" + std::to_string(*end) +
                      " bytes); it is shorter than its geometry and is never extended";
        return MediaStatus::IoError;
    }
    if (!posix::pwrite_full(fd_, in.data(), in.size(), at)) return fail("writing", errno);
    return MediaStatus::Ok;
}

Status FdImage::store_tracks(const TrackDisk &changes) {
    const std::optional<uint64_t> end = store_end();
    if (!end) return Error(ErrorKind::IoError, last_error_);
    return store_sector_tracks(changes, *end);
}

Status FdImage::flush() {
    if (read_only_) return {};  // nothing was written
    if (sync_with_faults(faults_, fd_) == 0) return {};
    return Error(ErrorKind::IoError, std::string("flushing ") + noun_ + " " + posix::quoted(path_) +
                                         " failed: " + posix::errno_text(errno));
}

}  // namespace fdplug::floppy
