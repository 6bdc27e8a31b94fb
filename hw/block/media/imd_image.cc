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
    return looks_like_imd(regular_file_start(path, kImdSignature.size()));
}

Expected<std::unique_ptr<ImdImage>> ImdImage::open(const Options &o, MediaFaultsPtr faults) {
    const std::string &path = o.path;
    Expected<ImageFile> file = open_image_file(path, o.read_only);
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
    : TrackImage(fd, std::move(path), choice,
                 MemoryTracks(std::move(disk), options.read_only, imd_can_hold), size),
      header_(std::move(header)),
      writes_file_(!options.read_only),
      faults_(std::move(faults)) {}

ImdImage::~ImdImage() {
    if (writes_file_ && tracks_.dirty()) (void)save();
}

std::string ImdImage::comment() const {
    return imd_comment(header_);
}

Status ImdImage::flush() {
    if (!writes_file_) return {};  // nothing is ever written to the file
    if (tracks_.dirty()) return save();
    if (sync_with_faults(faults_, fd_) == 0) return {};
    return Error(ErrorKind::IoError,
                 "flushing IMD image " + quoted(path_) + " failed: " + errno_text(errno));
}

Status ImdImage::store_tracks(const TrackDisk &changes) {
    auto each = [&](auto &&step) -> Status {
        for (unsigned c = 0; c < kMaxTrackCylinders; ++c)
            for (unsigned h = 0; h < kMaxTrackHeads; ++h)
                if (const Track *t = changes.find(c, h))
                    if (Status done = step(c, h, *t); !done)
                        return done.error().prefixed("IMD image " + quoted(path_) +
                                                     " cannot hold cylinder " + std::to_string(c) +
                                                     " head " + std::to_string(h) + ": ");
        return {};
    };
    if (Status held = each([](unsigned, unsigned, const Track &t) { return imd_can_hold(t); });
        !held)
        return held;
    if (Status put = each(
            [&](unsigned c, unsigned h, const Track &t) { return tracks_.replace_track(c, h, t); });
        !put)
        return put;
    return save();
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
