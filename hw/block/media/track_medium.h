// A medium as the drive's head meets it: per physical track (cylinder, head) its encoding, data
// rate and sectors in physical order; a sector's data read and written with its mark; a whole
// track laid down anew by FORMAT. This is the interface a controller uses to find IDs in the
// order they pass, to see deleted marks and CRC errors, and to format with any C/H/R/N.
// Sector images present themselves through it as uniform tracks (uniform_tracks.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "hw/block/error/expected.h"
#include "hw/block/media/disk_image.h"
#include "hw/block/media/track.h"

namespace fdplug::floppy {

// What the head finds on one track before reading any data.
struct TrackInfo {
    Encoding encoding = Encoding::Mfm;
    DataRate rate = DataRate::k500;
    std::vector<SectorInfo> sectors{};  // in physical order from the index; empty: unformatted
};

// What FORMAT TRACK lays down: SC sectors (one per ID, in the order the host sent them) whose
// data fields hold 128 << size_code bytes of `fill`.
struct TrackFormat {
    Encoding encoding = Encoding::Mfm;
    DataRate rate = DataRate::k500;
    uint8_t size_code = 2;
    uint8_t fill = 0xF6;
    std::vector<SectorId> ids{};
};

class TrackMedium {
  public:
    virtual ~TrackMedium() = default;

    virtual bool read_only() const = 0;
    // The cylinders and heads that hold tracks; a track elsewhere reads as unformatted.
    virtual unsigned cylinders() const = 0;
    virtual unsigned heads() const = 0;

    // The track at (c, h), unformatted (no sectors) where the medium has none.
    virtual MediaStatus track_info(unsigned c, unsigned h, TrackInfo &out) = 0;
    // The data field of the index-th sector in physical order; `out` must be exactly its size.
    // OutOfRange when there is no such sector or the size differs. A sector without a data
    // mark, or with a data CRC error, still gives the bytes the medium holds: the caller decides
    // from its SectorInfo what the controller reports.
    virtual MediaStatus read_data(unsigned c, unsigned h, size_t index, std::span<uint8_t> out) = 0;
    // Writes the data field with a Normal or Deleted mark and a good CRC. A medium that cannot
    // store the mark (a sector image) writes the data and keeps its normal mark.
    virtual MediaStatus write_data(unsigned c, unsigned h, size_t index, DataMark mark,
                                   std::span<const uint8_t> in) = 0;
    // Whether this medium can store the track FORMAT would lay down at (c, h); an Unsupported
    // Error saying what cannot be stored otherwise. format_track() refuses the same layouts
    // with OutOfRange and leaves the track unchanged.
    virtual Status can_format(unsigned c, unsigned h, const TrackFormat &format) const = 0;
    virtual MediaStatus format_track(unsigned c, unsigned h, const TrackFormat &format) = 0;
};

// The first sector at or after `from` (physical order) whose ID equals `id` and whose ID CRC
// is good, as a controller's search for an ID finds it.
std::optional<size_t> find_sector(const TrackInfo &track, const SectorId &id, size_t from = 0);

// The sector the sector interface (DiskImage) calls (c, h, r) on this track: the first with the
// ID C H R 2, a good ID CRC and a 512-byte data field; nullopt when the track has none.
std::optional<size_t> find_sector_512(const TrackInfo &track, unsigned c, unsigned h, unsigned r);

// The track FORMAT lays down at (c, h), or an Unsupported Error saying why the track model
// cannot hold it (beyond the cylinders any drive reaches, N too large, more than a track holds).
Expected<Track> formatted_track(unsigned c, unsigned h, const TrackFormat &format);

}  // namespace fdplug::floppy
