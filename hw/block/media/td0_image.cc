// TD0 files: opened with the checks every image file gets (stat before open, non-blocking open,
// a shared OFD lock), read whole, and kept as tracks.
#include "hw/block/media/td0_image.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "hw/block/media/image_file.h"
#include "hw/block/media/posix_io.h"
#include "hw/block/media/track_geometry.h"

namespace fdplug::floppy {

using posix::errno_text;
using posix::FdGuard;
using posix::quoted;

bool is_td0_file(const std::string &path) {
    struct stat st;
    if (path.empty() || ::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
    FdGuard fd{posix::open_retry(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)};
    if (fd.fd < 0) return false;
    uint8_t start[kTd0HeaderBytes];
    const ssize_t got = posix::pread_full(fd.fd, start, sizeof start, 0);
    return got == ssize_t(sizeof start) && looks_like_td0(start);
}

Expected<std::unique_ptr<Td0Image>> Td0Image::open(const Options &o, MediaFaultsPtr faults) {
    const std::string &path = o.path;
    if (!o.read_only && !o.snapshot)
        return Error(ErrorKind::ReadOnly,
                     "Teledisk image " + quoted(path) +
                         " can only be opened read-only (fdplug has no TD0 writer); attach it "
                         "read-only, or with snapshot=on / transient so that writes stay in "
                         "memory, or convert it with `fdplug-img convert -O imd " +
                         path + " DISK.imd` and attach that");
    Expected<ImageFile> file = open_image_file(path, true);
    if (!file) return file.error();
    const uint64_t size = file->size;
    if (size > kMaxTd0FileBytes)
        return Error(ErrorKind::Corrupt, "Teledisk image " + quoted(path) + " is " +
                                             std::to_string(size) +
                                             " bytes, larger than any TD0 floppy (" +
                                             std::to_string(kMaxTd0FileBytes) + " bytes at most)");
    std::vector<uint8_t> bytes(size);
    const ssize_t got = read_with_faults(faults, file->fd.fd, bytes.data(), bytes.size(), 0);
    if (got < 0)
        return Error(ErrorKind::IoError,
                     "reading Teledisk image " + quoted(path) + " failed: " + errno_text(errno));
    bytes.resize(size_t(got));
    Expected<Td0File> parsed = parse_td0(bytes);
    if (!parsed) {
        const char *what = parsed.error().kind() == ErrorKind::Corrupt
                               ? " is corrupt or truncated: "
                               : " cannot be read: ";
        return parsed.error().prefixed("Teledisk image " + quoted(path) + what);
    }
    auto choice = choose_track_format(parsed->disk, o.drive);
    if (!choice)
        return choice.error().prefixed("Teledisk image " + quoted(path) + " cannot be used: ");
    return std::unique_ptr<Td0Image>(new Td0Image(file->fd.release(), path, std::move(*parsed),
                                                  o.snapshot && !o.read_only, *choice,
                                                  bytes.size()));
}

Td0Image::Td0Image(int fd, std::string path, Td0File file, bool writable, FormatChoice choice,
                   uint64_t size)
    : fd_(fd),
      path_(std::move(path)),
      header_(file.header),
      comment_(file.has_comment ? std::optional<Td0Comment>(std::move(file.comment))
                                : std::nullopt),
      warnings_(std::move(file.warnings)),
      choice_(choice),
      tracks_(std::move(file.disk), !writable),
      file_size_(size) {}

Td0Image::~Td0Image() {
    if (fd_ >= 0) ::close(fd_);
}

bool Td0Image::uniform() const {
    return sector_image_losses(tracks_.disk()).empty();
}

std::optional<size_t> Td0Image::sector_index(unsigned c, unsigned h, unsigned r) const {
    const Track *t = tracks_.disk().find(c, h);
    if (!t || c > UINT8_MAX || h > UINT8_MAX || r > UINT8_MAX) return std::nullopt;
    const SectorId want{uint8_t(c), uint8_t(h), uint8_t(r), kSizeCode512};
    for (size_t i = 0; i < t->sector_count(); ++i) {
        const SectorInfo &s = t->info(i);
        if (s.id_crc_ok && s.id == want && s.size_code == kSizeCode512) return i;
    }
    return std::nullopt;
}

MediaStatus Td0Image::read_sector(unsigned c, unsigned h, unsigned r,
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

MediaStatus Td0Image::write_sector(unsigned c, unsigned h, unsigned r,
                                   std::span<const uint8_t, kSectorSize> in) {
    if (read_only()) return MediaStatus::ReadOnly;
    const std::optional<size_t> i = sector_index(c, h, r);
    if (!i) return MediaStatus::OutOfRange;
    return tracks_.write_data(c, h, *i, DataMark::Normal, in);
}

}  // namespace fdplug::floppy
