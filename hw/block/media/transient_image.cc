#include "hw/block/media/transient_image.h"

#include <algorithm>
#include <utility>

#include "hw/block/media/track_geometry.h"

namespace fdplug::floppy {

TransientImage::TransientImage(std::unique_ptr<DiskImage> base, Reopen reopen)
    : base_(std::move(base)),
      base_tracks_(std::make_unique<TracksOf>(*base_)),
      overlay_(**base_tracks_),
      reopen_(std::move(reopen)),
      geometry_(base_->geometry()),
      source_(base_->source()) {}

void TransientImage::read_through(std::unique_ptr<DiskImage> base) {
    base_ = std::move(base);
    base_tracks_ = std::make_unique<TracksOf>(*base_);
    overlay_.rebase(**base_tracks_);
}

MediaStatus TransientImage::read_sector(unsigned c, unsigned h, unsigned r,
                                        std::span<uint8_t, kSectorSize> out) {
    if (base_ && !overlay_.dirty(c, h)) return base_->read_sector(c, h, r, out);
    TrackInfo info;
    if (MediaStatus got = overlay_.track_info(c, h, info); got != MediaStatus::Ok) return got;
    const std::optional<size_t> i = find_sector_512(info, c, h, r);
    if (!i) return MediaStatus::OutOfRange;
    const SectorInfo &s = info.sectors[*i];
    if (s.mark == DataMark::None || !s.data_crc_ok) {
        std::ranges::fill(out, uint8_t{0});
        return MediaStatus::IoError;
    }
    return overlay_.read_data(c, h, *i, out);
}

MediaStatus TransientImage::write_sector(unsigned c, unsigned h, unsigned r,
                                         std::span<const uint8_t, kSectorSize> in) {
    TrackInfo info;
    if (MediaStatus got = overlay_.track_info(c, h, info); got != MediaStatus::Ok) return got;
    const std::optional<size_t> i = find_sector_512(info, c, h, r);
    if (!i) return MediaStatus::OutOfRange;
    return overlay_.write_data(c, h, *i, DataMark::Normal, in);
}

bool TransientImage::uniform() const {
    if (base_ && overlay_.dirty_tracks() == 0) return base_->uniform();
    if (uniform_ && uniform_->first == overlay_.generation()) return uniform_->second;
    // Reading the whole disk is not a change: the overlay is only read here.
    Expected<TrackDisk> whole = const_cast<TrackOverlay &>(overlay_).merged();
    const bool uniform = whole && sector_image_losses(*whole).empty();
    uniform_ = {overlay_.generation(), uniform};
    return uniform;
}

Status TransientImage::commit() {
    if (overlay_.dirty_tracks() == 0) return {};
    // The reading copy holds a shared lock that the writer's exclusive one would meet, so it
    // closes first; until the file is read again the disk as the guest sees it stays in memory.
    Expected<TrackDisk> whole = overlay_.merged();
    if (!whole) return whole.error();
    kept_ = std::make_unique<MemoryTracks>(std::move(*whole));
    overlay_.rebase(*kept_);
    base_tracks_.reset();
    base_.reset();
    const Status stored = [&]() -> Status {
        Expected<std::unique_ptr<DiskImage>> writer = reopen_(true);
        if (!writer) return writer.error();
        return (*writer)->store_tracks(overlay_.changes());
    }();
    Expected<std::unique_ptr<DiskImage>> reader = reopen_(false);
    if (reader) {
        read_through(std::move(*reader));
        kept_.reset();
    }
    if (stored) overlay_.discard();
    if (!reader)
        return reader.error().prefixed(
            std::string(stored ? "the changes were committed, but " : "") +
            "the file cannot be opened again, so the drive keeps the disk in memory: ");
    return stored;
}

}  // namespace fdplug::floppy
