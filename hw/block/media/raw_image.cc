// Raw image files: opened and locked as every image file is (image_file.h), then read in place.
#include "hw/block/media/raw_image.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <utility>

#include "hw/block/media/image_file.h"
#include "hw/block/media/posix_io.h"

namespace fdplug::floppy {

using posix::errno_text;
using posix::FdGuard;
using posix::quoted;

Expected<std::unique_ptr<RawImage>> RawImage::open(const Options &o, MediaFaultsPtr faults) {
    const std::string &path = o.path;
    Expected<ImageFile> file = open_image_file(path, o.read_only);
    if (!file) return file.error();
    FdGuard &fd = file->fd;

    const uint64_t size = file->size;
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
    image->locked_ = file->locked;
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
