// A medium held in memory: anonymous media, and the backend unit tests run the controller on.
// Same contract as a raw file: LBA-ordered 512-byte sectors, optional write protection.
#pragma once

#include <string>
#include <vector>

#include "hw/block/media/disk_image.h"

namespace fdplug::floppy {

class MemoryImage final : public DiskImage {
  public:
    // Zero-filled medium of the given geometry; `bytes` may be shorter (tail reads as zeros,
    // writes there fail with IoError like a short file).
    explicit MemoryImage(const Geometry &geometry, bool read_only = false);
    MemoryImage(const Geometry &geometry, std::vector<uint8_t> bytes, bool read_only = false);

    const Geometry &geometry() const override { return geometry_; }
    bool read_only() const override { return read_only_; }
    MediaStatus read_sector(unsigned c, unsigned h, unsigned r,
                            std::span<uint8_t, kSectorSize> out) override;
    MediaStatus write_sector(unsigned c, unsigned h, unsigned r,
                             std::span<const uint8_t, kSectorSize> in) override;
    Status flush() override { return {}; }
    const std::string &source() const override { return source_; }

    std::vector<uint8_t> &bytes() { return bytes_; }
    const std::vector<uint8_t> &bytes() const { return bytes_; }

  private:
    Geometry geometry_;
    std::vector<uint8_t> bytes_;
    bool read_only_;
    std::string source_;
};

}  // namespace fdplug::floppy
