#include "hw/block/media/export_medium.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "hw/block/media/imd_format.h"
#include "hw/block/media/imd_image.h"
#include "hw/block/media/posix_io.h"
#include "hw/block/media/track_convert.h"
#include "hw/block/media/track_copy.h"
#include "hw/block/media/track_geometry.h"
#include "hw/block/media/transient_image.h"
#include "hw/block/media/uniform_tracks.h"

namespace fdplug::floppy {

using posix::errno_text;
using posix::quoted;

namespace {

// An IMD file of an IMD medium keeps its header and comment; any other gets a new header.
std::string imd_header_for(DiskImage &medium) {
    const DiskImage *image = &medium;
    if (const auto *transient = dynamic_cast<const TransientImage *>(image))
        image = transient->base();
    if (const auto *imd = dynamic_cast<const ImdImage *>(image)) return imd->header();
    const std::string &from = medium.source();
    return imd_header(imd_date_now(),
                      "Exported from " + from.substr(from.rfind('/') + 1) + " by fdplug\r\n");
}

Expected<std::vector<uint8_t>> file_bytes(DiskImage &medium, const TrackDisk &disk,
                                          ExportFormat format) {
    if (format == ExportFormat::Imd) return write_imd(imd_header_for(medium), disk);
    const std::vector<std::string> losses = sector_image_losses(disk);
    if (losses.empty()) return sector_image_of(disk, medium.geometry());
    std::string text = "a raw image would lose what the disk holds: ";
    for (size_t i = 0; i < losses.size(); ++i) text += (i ? "; " : "") + losses[i];
    return Error(ErrorKind::Unsupported, text + "; export it as imd, which keeps it");
}

}  // namespace

Status export_medium(DiskImage &medium, const std::string &path, ExportFormat format) {
    if (path.empty() || path.front() != '/')
        return Error(ErrorKind::BadPath, "the export file '" + path +
                                             "' is not an absolute path; give the full path, "
                                             "starting with '/'");
    TracksOf tracks(medium);
    Expected<TrackDisk> disk = copy_disk(*tracks);
    if (!disk) return disk.error().prefixed("reading the medium to export failed: ");
    Expected<std::vector<uint8_t>> bytes = file_bytes(medium, *disk, format);
    if (!bytes) return bytes.error().prefixed("cannot export to " + quoted(path) + ": ");
    int fd;
    do fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    while (fd < 0 && errno == EINTR);
    posix::FdGuard out{fd};
    if (out.fd < 0) {
        const int err = errno;
        if (err == EEXIST)
            return Error(ErrorKind::Failed, "the export file " + quoted(path) +
                                                " already exists; an export never replaces a "
                                                "file: choose a new name or remove it");
        // A missing directory is the request's fault; a refused one is the file system's.
        const ErrorKind kind =
            err == ENOENT || err == ENOTDIR ? ErrorKind::NotFound : ErrorKind::Unreadable;
        return Error(kind,
                     "cannot create the export file " + quoted(path) + ": " + errno_text(err));
    }
    if (!posix::pwrite_full(out.fd, bytes->data(), bytes->size(), 0) || ::fsync(out.fd) != 0) {
        const int err = errno;
        ::unlink(path.c_str());
        return Error(ErrorKind::IoError,
                     "writing the export file " + quoted(path) + " failed: " + errno_text(err));
    }
    return {};
}

}  // namespace fdplug::floppy
