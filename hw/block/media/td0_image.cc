// TD0 files: opened with the checks every image file gets (stat before open, non-blocking open,
// a shared OFD lock), read whole, and kept as tracks.
#include "hw/block/media/td0_image.h"

#include <cerrno>

#include "hw/block/media/image_file.h"
#include "hw/block/media/posix_io.h"
#include "hw/block/media/track_geometry.h"

namespace fdplug::floppy {

using posix::errno_text;
using posix::quoted;

bool is_td0_file(const std::string &path) {
    return looks_like_td0(regular_file_start(path, kTd0HeaderBytes));
}

Expected<std::unique_ptr<Td0Image>> Td0Image::open(const Options &o, MediaFaultsPtr faults) {
    const std::string &path = o.path;
    if (!o.read_only)
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
    return std::unique_ptr<Td0Image>(
        new Td0Image(file->fd.release(), path, std::move(*parsed), *choice, bytes.size()));
}

Td0Image::Td0Image(int fd, std::string path, Td0File file, FormatChoice choice, uint64_t size)
    : TrackImage(fd, std::move(path), choice, MemoryTracks(std::move(file.disk), true), size),
      header_(file.header),
      comment_(file.has_comment ? std::optional<Td0Comment>(std::move(file.comment))
                                : std::nullopt),
      warnings_(std::move(file.warnings)) {}

}  // namespace fdplug::floppy
