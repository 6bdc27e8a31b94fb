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

#include "hw/block/media/image_file.h"
#include "hw/block/media/imd_format.h"
#include "hw/block/media/posix_io.h"
#include "hw/block/media/track_geometry.h"

namespace fdplug::floppy {

using posix::errno_text;
using posix::FdGuard;
using posix::quoted;

namespace {

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

Expected<std::unique_ptr<ImdImage>> ImdImage::open(const Options &o, MediaFaultsPtr faults) {
    const std::string &path = o.path;
    Expected<ImageFile> file = open_image_file(path, o.read_only || o.snapshot);
    if (!file) return file.error();
    const uint64_t size = file->size;
    if (size > kMaxImdFileBytes)
        return Error(ErrorKind::Corrupt, "IMD image " + quoted(path) + " is " +
                                             std::to_string(size) +
                                             " bytes, larger than any IMD floppy (" +
                                             std::to_string(kMaxImdFileBytes) + " bytes at most)");
    std::vector<uint8_t> bytes(size);
    const ssize_t got = read_with_faults(faults, file->fd.fd, bytes.data(), bytes.size(), 0);
    if (got < 0)
        return Error(ErrorKind::IoError,
                     "reading IMD image " + quoted(path) + " failed: " + errno_text(errno));
    bytes.resize(size_t(got));
    Expected<ImdFile> parsed = parse_imd(bytes);
    if (!parsed)
        return parsed.error().prefixed("IMD image " + quoted(path) + " is corrupt or truncated: ");
    auto choice = choose_track_format(parsed->disk, o.drive);
    if (!choice) return choice.error().prefixed("IMD image " + quoted(path) + " cannot be used: ");
    return std::unique_ptr<ImdImage>(
        new ImdImage(file->fd.release(), path, std::move(parsed->header), std::move(parsed->disk),
                     o, *choice, bytes.size(), std::move(faults)));
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
    if (writes_file_ && tracks_.dirty()) (void)save();
    if (fd_ >= 0) ::close(fd_);
}

bool ImdImage::uniform() const {
    return sector_image_losses(tracks_.disk()).empty();
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

Status ImdImage::flush() {
    if (!writes_file_) return {};  // nothing is ever written to the file
    if (tracks_.dirty()) return save();
    if (sync_with_faults(faults_, fd_) == 0) return {};
    return Error(ErrorKind::IoError,
                 "flushing IMD image " + quoted(path_) + " failed: " + errno_text(errno));
}

Status ImdImage::save() {
    auto fail = [&](const std::string &what, int err) {
        return Error(ErrorKind::IoError, what + " IMD image " + quoted(path_) + " failed" +
                                             (err ? ": " + errno_text(err) : std::string()));
    };
    Expected<std::vector<uint8_t>> written = write_imd(header_, tracks_.disk());
    if (!written)
        return written.error().prefixed("IMD image " + quoted(path_) + " cannot hold its tracks: ");
    const std::vector<uint8_t> &bytes = *written;
    const std::string target = real_path(path_);
    const size_t slash = target.rfind('/');
    const std::string dir = target.substr(0, slash == 0 ? 1 : slash);
    std::string temp = dir + "/." + target.substr(slash + 1) + ".fdplug-XXXXXX";
    FdGuard out{::mkostemp(temp.data(), O_CLOEXEC)};
    if (out.fd < 0) return fail("creating a replacement file for", errno);
    auto discard = [&](const std::string &what, int err) -> Status {
        ::unlink(temp.c_str());
        return fail(what, err);
    };
    struct stat st;
    if (::fstat(fd_, &st) == 0) ::fchmod(out.fd, st.st_mode & 07777);
    if (Expected<bool> locked = lock_image_file(out.fd, true, temp); !locked)
        return discard("locking the replacement of", 0);
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
    return {};
}

}  // namespace fdplug::floppy
