// The tests' own IMD writer: builds files byte by byte from a plain description, independent of
// hw/block/media/imd_format.cc, so that the reader is checked against bytes written from the
// format's description and not against its own writer.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace fdplug::floppy::test {

inline const std::string kTestImdHeader = "IMD 1.18: 01/02/2024 10:20:30\r\nA test disk\r\n";

// One track record. A non-empty c_map / h_map sets bit 7 / bit 6 of the head byte.
struct ImdTrackSpec {
    uint8_t mode = 5;  // 250 kbit/s MFM
    uint8_t cylinder = 0;
    uint8_t head = 0;
    uint8_t size_code = 2;
    std::vector<uint8_t> r_map{};
    std::vector<uint8_t> c_map{}, h_map{};
    std::vector<std::vector<uint8_t>> records{};  // each: the type byte, then what follows it
    uint8_t extra_head_bits = 0;                  // added to the head byte as it is
};

// A data record: type byte and `size` bytes that differ per offset.
inline std::vector<uint8_t> imd_data_record(uint8_t type, size_t size, uint8_t seed) {
    std::vector<uint8_t> rec{type};
    for (size_t i = 0; i < size; ++i) rec.push_back(uint8_t(seed + i * 7 + (i >> 8)));
    return rec;
}
inline std::vector<uint8_t> imd_fill_record(uint8_t type, uint8_t fill) {
    return {type, fill};
}

inline void append_imd_track(std::vector<uint8_t> &out, const ImdTrackSpec &t) {
    const uint8_t head = uint8_t(t.head | t.extra_head_bits | (t.c_map.empty() ? 0 : 0x80) |
                                 (t.h_map.empty() ? 0 : 0x40));
    out.insert(out.end(), {t.mode, t.cylinder, head, uint8_t(t.r_map.size()), t.size_code});
    out.insert(out.end(), t.r_map.begin(), t.r_map.end());
    out.insert(out.end(), t.c_map.begin(), t.c_map.end());
    out.insert(out.end(), t.h_map.begin(), t.h_map.end());
    for (const auto &rec : t.records) out.insert(out.end(), rec.begin(), rec.end());
}

inline std::vector<uint8_t> imd_file(const std::vector<ImdTrackSpec> &tracks,
                                     const std::string &header = kTestImdHeader) {
    std::vector<uint8_t> out(header.begin(), header.end());
    out.push_back(0x1A);
    for (const auto &t : tracks) append_imd_track(out, t);
    return out;
}

// A standard track: sectors 1..spt of 128 << size_code bytes, normal records (type 1).
inline ImdTrackSpec standard_imd_track(uint8_t cylinder, uint8_t head, unsigned spt,
                                       uint8_t size_code = 2, uint8_t mode = 5) {
    ImdTrackSpec t{.mode = mode, .cylinder = cylinder, .head = head, .size_code = size_code};
    for (unsigned r = 1; r <= spt; ++r) {
        t.r_map.push_back(uint8_t(r));
        t.records.push_back(
            imd_data_record(1, size_t(128) << size_code, uint8_t(cylinder * 31 + head * 17 + r)));
    }
    return t;
}

}  // namespace fdplug::floppy::test
