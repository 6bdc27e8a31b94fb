// Floppy media formats and drive types: the geometry table and how an image size (and its boot
// sector) maps onto it. Pure data and lookups; reference: docs/hardware/media.md.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace fdplug::floppy {

// Data rate as the DSR/CCR DRATE SEL field encodes it (docs/hardware/82077aa.md §11).
enum class DataRate : uint8_t { k500 = 0, k300 = 1, k250 = 2, k1000 = 3 };

// Drive types, named as QEMU's `drive-type` property spells them.
enum class DriveType : uint8_t { None, Auto, k120, k144, k288, k360, k720 };

enum class FormFactor : uint8_t { Inch525, Inch35 };

struct Geometry {
    uint8_t cylinders = 0;
    uint8_t heads = 0;
    uint8_t sectors = 0;  // sectors per track, 512 bytes each (N=2)
    DataRate rate = DataRate::k500;
    uint16_t rpm = 300;
    DriveType native_drive = DriveType::k144;  // the drive type this format belongs to
    bool perpendicular = false;                // 2.88 MB media

    constexpr uint32_t total_sectors() const { return uint32_t(cylinders) * heads * sectors; }
    constexpr uint64_t size_bytes() const { return uint64_t(total_sectors()) * 512; }
    // LBA = (C × heads + H) × SPT + (R − 1); nullopt when C/H/R lie outside the medium.
    constexpr std::optional<uint32_t> lba(unsigned c, unsigned h, unsigned r) const {
        if (c >= cylinders || h >= heads || r < 1 || r > sectors) return std::nullopt;
        return (uint32_t(c) * heads + h) * sectors + (r - 1);
    }
    friend constexpr bool operator==(const Geometry &, const Geometry &) = default;
};

}  // namespace fdplug::floppy
