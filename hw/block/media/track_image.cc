#include "hw/block/media/track_image.h"

#include <unistd.h>

#include <algorithm>
#include <climits>
#include <utility>

#include "hw/block/media/posix_io.h"
#include "hw/block/media/track_geometry.h"

namespace fdplug::floppy {

TrackImage::TrackImage(int fd, std::string path, FormatChoice choice, MemoryTracks tracks,
                       uint64_t size)
    : fd_(fd),
      path_(std::move(path)),
      choice_(choice),
      tracks_(std::move(tracks)),
      file_size_(size) {}

TrackImage::~TrackImage() {
    if (fd_ >= 0) ::close(fd_);
}

bool TrackImage::uniform() const {
    return sector_image_losses(tracks_.disk()).empty();
}

std::optional<size_t> TrackImage::sector_index(unsigned c, unsigned h, unsigned r) const {
    const Track *t = tracks_.disk().find(c, h);
    if (!t || c > UINT8_MAX || h > UINT8_MAX || r > UINT8_MAX) return std::nullopt;
    const SectorId want{uint8_t(c), uint8_t(h), uint8_t(r), kSizeCode512};
    for (size_t i = 0; i < t->sector_count(); ++i) {
        const SectorInfo &s = t->info(i);
        if (s.id_crc_ok && s.id == want && s.size_code == kSizeCode512) return i;
    }
    return std::nullopt;
}

MediaStatus TrackImage::read_sector(unsigned c, unsigned h, unsigned r,
                                    std::span<uint8_t, kSectorSize> out) {
    const std::optional<size_t> i = sector_index(c, h, r);
    if (!i) return MediaStatus::OutOfRange;
    const SectorInfo &s = tracks_.disk().find(c, h)->info(*i);
    if (s.mark == DataMark::None || !s.data_crc_ok) {
        last_error_ = "sector C=" + std::to_string(c) + " H=" + std::to_string(h) +
                      " R=" + std::to_string(r) + " of " + posix::quoted(path_) +
                      (s.mark == DataMark::None ? " has no data field" : " has a data CRC error");
        std::ranges::fill(out, uint8_t{0});
        return MediaStatus::IoError;
    }
    return tracks_.read_data(c, h, *i, out);
}

MediaStatus TrackImage::write_sector(unsigned c, unsigned h, unsigned r,
                                     std::span<const uint8_t, kSectorSize> in) {
    if (read_only()) return MediaStatus::ReadOnly;
    const std::optional<size_t> i = sector_index(c, h, r);
    if (!i) return MediaStatus::OutOfRange;
    return tracks_.write_data(c, h, *i, DataMark::Normal, in);
}

}  // namespace fdplug::floppy
