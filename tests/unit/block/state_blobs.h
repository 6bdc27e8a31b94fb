// What the device state tests share about blobs: the golden states in tests/unit/block/data
// (its README.md says how they were made) and where each field lies in a blob.
#pragma once

#include <cstdint>
#include <fstream>
#include <iterator>
#include <span>
#include <string>
#include <vector>

#include "hw/block/state/fdc_state_format.h"

namespace fdplug::floppy::test {

// The bytes of data/FILE ("accurate-pio.v1"); empty when there is no such file.
inline std::vector<uint8_t> golden_state(const std::string &file) {
    std::ifstream in(std::string(FDPLUG_STATE_DATA) + "/" + file, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

struct EncodedField {
    state_format::FieldDescription field;
    size_t offset = 0, width = 0;
};

// Where each field of a blob of `version` lies; its strings' lengths decide their widths.
inline std::vector<EncodedField> encoded_fields(std::span<const uint8_t> blob,
                                                uint32_t version = state_format::kVersion) {
    std::vector<EncodedField> out;
    size_t offset = state_format::kHeaderSize;
    for (const state_format::FieldDescription &f : state_format::describe(version)) {
        size_t width = f.width;
        if (f.kind == "string" && offset + 2 <= blob.size())
            width = 2 + size_t(blob[offset] | blob[offset + 1] << 8);
        out.push_back({f, offset, width});
        offset += width;
    }
    return out;
}

}  // namespace fdplug::floppy::test
