// CRC-32 (IEEE 802.3, the one zlib computes): the checksum of every saved-state blob, the
// machine's and each device's, so that both formats check the same way.
#pragma once

#include <cstdint>
#include <span>

namespace fdplug {

uint32_t crc32(std::span<const uint8_t> bytes);

}  // namespace fdplug
