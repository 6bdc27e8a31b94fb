// In-memory medium: the same short-store rules as a raw file, without the file.
#include "hw/block/media/memory_image.h"

#include <algorithm>

namespace fdplug::floppy {

MemoryImage::MemoryImage(const Geometry &geometry, bool read_only)
    : MemoryImage(geometry, std::vector<uint8_t>(geometry.size_bytes()), read_only) {}

MemoryImage::MemoryImage(const Geometry &geometry, std::vector<uint8_t> bytes, bool read_only)
    : geometry_(geometry), bytes_(std::move(bytes)), read_only_(read_only) {}

MediaStatus MemoryImage::read_sector(unsigned c, unsigned h, unsigned r,
                                     std::span<uint8_t, kSectorSize> out) {
    auto lba = geometry_.lba(c, h, r);
    if (!lba) return MediaStatus::OutOfRange;
    const uint64_t at = uint64_t(*lba) * kSectorSize;
    // Whatever the store lacks reads as zeros, like the tail of a short file.
    const size_t have = at < bytes_.size() ? std::min<size_t>(kSectorSize, bytes_.size() - at) : 0;
    std::copy_n(bytes_.begin() + ptrdiff_t(at < bytes_.size() ? at : 0), have, out.begin());
    std::fill(out.begin() + ptrdiff_t(have), out.end(), uint8_t{0});
    return MediaStatus::Ok;
}

MediaStatus MemoryImage::write_sector(unsigned c, unsigned h, unsigned r,
                                      std::span<const uint8_t, kSectorSize> in) {
    if (read_only_) return MediaStatus::ReadOnly;
    auto lba = geometry_.lba(c, h, r);
    if (!lba) return MediaStatus::OutOfRange;
    const uint64_t at = uint64_t(*lba) * kSectorSize;
    // The store never grows: a sector it does not wholly hold fails like a write past EOF.
    if (at + kSectorSize > bytes_.size()) return MediaStatus::IoError;
    std::copy(in.begin(), in.end(), bytes_.begin() + ptrdiff_t(at));
    return MediaStatus::Ok;
}

}  // namespace fdplug::floppy
