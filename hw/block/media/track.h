// One physical track as a controller meets it: its encoding and data rate, and its sectors in
// the order they pass under the head, each an ID field (C H R N and whether its CRC is good) and
// an optional data field (deleted or normal mark, CRC good or bad, 128 << N bytes). Sector data
// lives in one buffer per track, so a disk of tracks costs little more than its data.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "hw/block/media/floppy_geometry.h"

namespace fdplug::floppy {

enum class Encoding : uint8_t { Fm, Mfm };

// The address mark in front of a sector's data field; None: the ID has no data field after it.
enum class DataMark : uint8_t { Normal, Deleted, None };

// The four bytes of an ID field, as the controller compares them.
struct SectorId {
    uint8_t c = 0, h = 0, r = 1, n = 2;
    friend constexpr bool operator==(const SectorId &, const SectorId &) = default;
};

// N=2: the 512-byte sectors of every PC format (and of every raw image).
inline constexpr uint8_t kSizeCode512 = 2;
// N 0..7: 128 to 16 384 bytes, the largest size code the 82077AA formats.
inline constexpr uint8_t kMaxSizeCode = 7;
constexpr size_t sector_size(uint8_t size_code) {
    return size_t(128) << size_code;
}
// Bounds of one track: SC is a byte, and 64 KiB of data is more than twice what a track holds
// at 1 Mbit/s (about 25 000 bytes per revolution), so no real medium is refused.
inline constexpr size_t kMaxSectorsPerTrack = 255;
inline constexpr size_t kMaxTrackDataBytes = 64 * 1024;

// A sector as the head meets it, before its data.
struct SectorInfo {
    SectorId id;
    // Length of the data field, 128 << size_code bytes. The ID's N is usually the same, but
    // FORMAT writes whatever N the host sends into the ID while the field keeps the command's N.
    uint8_t size_code = 2;
    bool id_crc_ok = true;
    DataMark mark = DataMark::Normal;
    bool data_crc_ok = true;  // meaningless when mark is None
    friend constexpr bool operator==(const SectorInfo &, const SectorInfo &) = default;
};

class Track {
  public:
    Track(Encoding encoding, DataRate rate) : encoding_(encoding), rate_(rate) {}

    Encoding encoding() const { return encoding_; }
    DataRate rate() const { return rate_; }

    size_t sector_count() const { return sectors_.size(); }
    const SectorInfo &info(size_t index) const { return sectors_[index]; }
    // The data field: sector_size(info.size_code) bytes. A sector without a data mark keeps
    // its bytes (zeros unless it had some), so that a later write can give it a field again.
    std::span<const uint8_t> data(size_t index) const;
    std::span<uint8_t> data(size_t index);

    // Room for `sectors` more sectors holding `data_bytes` bytes, so that a track built sector
    // by sector holds no more memory than its data.
    void reserve(size_t sectors, size_t data_bytes);
    // Appends a sector after the last one; `data` must be its whole data field. false (the
    // track unchanged) when the size code or one of the track's bounds would be passed.
    bool add(const SectorInfo &info, std::span<const uint8_t> data);
    // The same with every data byte `fill` (FORMAT, and compressed records of image files).
    bool add_filled(const SectorInfo &info, uint8_t fill);

    // What a WRITE DATA / WRITE DELETED DATA leaves: a fresh data field with a good CRC.
    void write(size_t index, DataMark mark, std::span<const uint8_t> data);

    size_t data_bytes() const { return data_.size(); }
    // Heap bytes this track holds (capacity, not size), for the memory budget of a disk.
    size_t heap_bytes() const;

    friend bool operator==(const Track &, const Track &) = default;

  private:
    bool fits(const SectorInfo &info) const;

    Encoding encoding_;
    DataRate rate_;
    std::vector<SectorInfo> sectors_;
    std::vector<uint32_t> offsets_;  // where each sector's data starts in data_
    std::vector<uint8_t> data_;
};

}  // namespace fdplug::floppy
