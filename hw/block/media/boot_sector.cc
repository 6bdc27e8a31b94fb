// BPB fields are little-endian at fixed offsets of sector 0 (docs/hardware/media.md §6).
#include "hw/block/media/boot_sector.h"

namespace fdplug::floppy {

namespace {
constexpr size_t kBytesPerSector = 0x0B, kTotal16 = 0x13, kSpt = 0x18, kHeads = 0x1A,
                 kTotal32 = 0x20, kBpbEnd = 0x24;

uint32_t le(std::span<const uint8_t> b, size_t at, unsigned n) {
    uint32_t v = 0;
    for (unsigned i = n; i-- > 0;) v = (v << 8) | b[at + i];
    return v;
}
}  // namespace

std::optional<BpbGeometry> read_bpb(std::span<const uint8_t> b, uint64_t image_sectors) {
    if (b.size() < kBpbEnd) return std::nullopt;
    const uint32_t spt = le(b, kSpt, 2), heads = le(b, kHeads, 2);
    uint32_t total = le(b, kTotal16, 2);
    if (total == 0) total = le(b, kTotal32, 4);
    if (le(b, kBytesPerSector, 2) != 512 || spt < 8 || spt > 48 || heads < 1 || heads > 2 ||
        total == 0 || total > image_sectors)
        return std::nullopt;
    return BpbGeometry{uint8_t(spt), uint8_t(heads), total};
}

}  // namespace fdplug::floppy
