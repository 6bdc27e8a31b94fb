// What the device state tests share about blobs: the golden states in tests/unit/block/data
// (its README.md says how they were made).
#pragma once

#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace fdplug::floppy::test {

// The bytes of data/FILE ("accurate-pio.v1"); empty when there is no such file.
inline std::vector<uint8_t> golden_state(const std::string &file) {
    std::ifstream in(std::string(FDPLUG_STATE_DATA) + "/" + file, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace fdplug::floppy::test
