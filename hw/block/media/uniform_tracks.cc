#include "hw/block/media/uniform_tracks.h"

#include <algorithm>
#include <array>
#include <vector>

namespace fdplug::floppy {

namespace {

Status refuse(std::string text) {
    return Error(ErrorKind::Unsupported, std::move(text));
}

}  // namespace

MediaStatus UniformTracks::track_info(unsigned c, unsigned h, TrackInfo &out) {
    const Geometry &g = image_.geometry();
    out.encoding = Encoding::Mfm;
    out.rate = g.rate;
    out.sectors.clear();
    if (c >= g.cylinders || h >= g.heads) return MediaStatus::Ok;  // beyond the image: blank
    for (unsigned r = 1; r <= g.sectors; ++r)
        out.sectors.push_back(
            {.id = {uint8_t(c), uint8_t(h), uint8_t(r), kSizeCode512}, .size_code = kSizeCode512});
    return MediaStatus::Ok;
}

MediaStatus UniformTracks::read_data(unsigned c, unsigned h, size_t index, std::span<uint8_t> out) {
    if (out.size() != DiskImage::kSectorSize || index >= image_.geometry().sectors)
        return MediaStatus::OutOfRange;
    return image_.read_sector(c, h, unsigned(index + 1),
                              std::span<uint8_t, DiskImage::kSectorSize>(out.data(), out.size()));
}

MediaStatus UniformTracks::write_data(unsigned c, unsigned h, size_t index, DataMark,
                                      std::span<const uint8_t> in) {
    if (in.size() != DiskImage::kSectorSize || index >= image_.geometry().sectors)
        return MediaStatus::OutOfRange;
    return image_.write_sector(
        c, h, unsigned(index + 1),
        std::span<const uint8_t, DiskImage::kSectorSize>(in.data(), in.size()));
}

Status UniformTracks::can_format(unsigned c, unsigned h, const TrackFormat &f) const {
    const Geometry &g = image_.geometry();
    if (c >= g.cylinders || h >= g.heads)
        return refuse("a sector image has no track at cylinder " + std::to_string(c) + " head " +
                      std::to_string(h));
    if (f.encoding != Encoding::Mfm || f.rate != g.rate)
        return refuse("a sector image holds only MFM tracks at its own data rate");
    if (f.size_code != kSizeCode512)
        return refuse("a sector image holds only 512-byte sectors (N=2)");
    if (f.ids.empty() || f.ids.size() > g.sectors)
        return refuse("a sector image holds 1 to " + std::to_string(g.sectors) +
                      " sectors per track, not " + std::to_string(f.ids.size()));
    for (const SectorId &id : f.ids) {
        if (id.c != c || id.h != h || id.n != kSizeCode512 || id.r < 1 || id.r > g.sectors)
            return refuse("a sector image holds only IDs C=" + std::to_string(c) +
                          " H=" + std::to_string(h) + " R=1.." + std::to_string(g.sectors) +
                          " N=2 on this track");
    }
    return {};
}

MediaStatus UniformTracks::format_track(unsigned c, unsigned h, const TrackFormat &f) {
    if (!can_format(c, h, f)) return MediaStatus::OutOfRange;
    if (image_.read_only()) return MediaStatus::ReadOnly;
    std::array<uint8_t, DiskImage::kSectorSize> fill;
    fill.fill(f.fill);
    for (const SectorId &id : f.ids) {
        const MediaStatus st = image_.write_sector(c, h, id.r, fill);
        if (st != MediaStatus::Ok) return st;
    }
    return MediaStatus::Ok;
}

}  // namespace fdplug::floppy
