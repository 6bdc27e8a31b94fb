// A sector image's commit: whole tracks written sector by sector, which only tracks of its own
// layout can be (uniform_tracks.h), and never past the end of a short file.
#include "hw/block/media/disk_image.h"

#include <algorithm>
#include <string>

#include "hw/block/media/floppy_formats.h"
#include "hw/block/media/track_disk.h"

namespace fdplug::floppy {

namespace {

// Why this track is not sectors 1..SPT of 512 bytes, MFM at the geometry's rate, in order,
// with IDs C H R 2, normal marks and good CRCs; "" when it is.
std::string not_uniform(const Track &t, const Geometry &g, unsigned c, unsigned h) {
    if (t.encoding() != Encoding::Mfm || t.rate() != g.rate)
        return "is not MFM at " + std::to_string(data_rate_kbps(g.rate)) + " kbit/s";
    if (t.sector_count() != g.sectors)
        return "has " + std::to_string(t.sector_count()) + " sectors, the image " +
               std::to_string(g.sectors);
    for (size_t i = 0; i < t.sector_count(); ++i) {
        const SectorInfo &s = t.info(i);
        const SectorInfo plain{.id = {uint8_t(c), uint8_t(h), uint8_t(i + 1), kSizeCode512}};
        if (s != plain)
            return "sector " + std::to_string(i) +
                   " is not a 512-byte sector R=" + std::to_string(i + 1) +
                   " with a normal mark and good CRCs";
    }
    return {};
}

bool is_zero(uint8_t byte) {
    return byte == 0;
}

}  // namespace

Status DiskImage::store_tracks(const TrackDisk &changes) {
    return store_sector_tracks(changes, geometry().size_bytes());
}

Status DiskImage::store_sector_tracks(const TrackDisk &changes, uint64_t end) {
    const Geometry &g = geometry();
    auto past_end = [&](unsigned c, unsigned h, size_t i) {
        return (uint64_t(*g.lba(c, h, unsigned(i + 1))) + 1) * kSectorSize > end;
    };
    // Every track is checked before the first byte is written, so a refusal leaves the store
    // as it was.
    size_t stranded = 0;
    std::string first;
    for (unsigned c = 0; c < kMaxTrackCylinders; ++c)
        for (unsigned h = 0; h < kMaxTrackHeads; ++h)
            if (const Track *t = changes.find(c, h)) {
                std::string why = c < g.cylinders && h < g.heads
                                      ? not_uniform(*t, g, c, h)
                                      : std::string("lies outside the image's geometry");
                if (!why.empty())
                    return Error(ErrorKind::Unsupported,
                                 "a sector image cannot hold cylinder " + std::to_string(c) +
                                     " head " + std::to_string(h) + ": the track " + why);
                for (size_t i = 0; i < t->sector_count(); ++i) {
                    if (!past_end(c, h, i) || std::ranges::all_of(t->data(i), is_zero)) continue;
                    if (stranded == 0)
                        first = "cylinder " + std::to_string(c) + " head " + std::to_string(h) +
                                " sector " + std::to_string(i + 1);
                    ++stranded;
                }
            }
    if (stranded)
        return Error(ErrorKind::Unsupported,
                     "the image is " + std::to_string(end) + " bytes, shorter than its geometry (" +
                         std::to_string(g.size_bytes()) + " bytes), and is never extended: " +
                         (stranded == 1 ? "1 sector past its end holds data: "
                                        : std::to_string(stranded) +
                                              " sectors past its end hold data, the first ") +
                         first);
    for (unsigned c = 0; c < g.cylinders; ++c)
        for (unsigned h = 0; h < g.heads; ++h)
            if (const Track *t = changes.find(c, h))
                for (size_t i = 0; i < t->sector_count(); ++i) {
                    if (past_end(c, h, i)) continue;  // zeros, as the store reads it
                    std::span<const uint8_t, kSectorSize> data(t->data(i).data(), kSectorSize);
                    if (MediaStatus w = write_sector(c, h, unsigned(i + 1), data);
                        w != MediaStatus::Ok)
                        return Error(ErrorKind::IoError,
                                     "writing cylinder " + std::to_string(c) + " head " +
                                         std::to_string(h) + " sector " + std::to_string(i + 1) +
                                         (w == MediaStatus::IoError ? std::string(" failed")
                                                                    : std::string(" was refused")));
                }
    return flush();
}

}  // namespace fdplug::floppy
