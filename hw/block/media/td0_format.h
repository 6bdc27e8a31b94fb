// Teledisk (.TD0) files, read into the track model (there is no writer). The layout, all
// little-endian (docs/media.md, "Teledisk (.TD0) files"):
//
//   header (12 bytes, never compressed): "TD" (normal) or "td" (advanced compression),
//     volume sequence, check signature, version (decimal: 21 = 2.1), data rate (bits 0-2:
//     0 250, 1 300, 2-3 500, 4-5 1000 kbit/s; bit 7: FM), drive type, stepping (bit 7: a comment
//     block follows), DOS allocation flag, sides, CRC-16 of the first 10 bytes;
//   everything after it is LZSS + adaptive Huffman compressed in "td" files (td0_lzss.h):
//   comment block (if flagged): CRC-16 of what follows it, text length, date (year − 1900,
//     month 0-11, day, hour, minute, second), text (NUL-separated lines);
//   track records: sector count (0xFF ends the file), cylinder, head (bit 0; bit 7: FM), CRC
//     (low byte of the CRC-16 of the three bytes before it); then per sector
//     C H R N, flags, CRC (low byte of the CRC-16 of the expanded data, or of C H R N flags when
//     there is no data block), and unless flags 0x10/0x20 are set or N > 7 a data block:
//     length (of what follows), encoding (0 raw, 1 repeated 2-byte pattern, 2 runs), data.
//
// Teledisk's CRC-16 has the polynomial 0xA097, an initial value of 0, and works most
// significant bit first.
//
// What a CRC mismatch means: a wrong file header CRC, a wrong track header CRC or a data block
// that does not expand to its sector's size refuses the file (Corrupt, with the offset) — they
// mean the bytes are not what Teledisk wrote, and what follows cannot be trusted. A wrong
// comment CRC or sector CRC is a warning (Td0File::warnings, with the offset): the structure is
// intact, and the data is kept as it is (a reader that refused it would lose the whole disk for
// one damaged sector, which the guest could otherwise read around).
//
// Offsets in messages are those of the expanded file: for a "td" file, the 12 header bytes
// followed by the decompressed stream (the offsets the same disk has as a "TD" file).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hw/block/error/expected.h"
#include "hw/block/media/track_disk.h"

namespace fdplug::floppy {

inline constexpr size_t kTd0HeaderBytes = 12;
// Larger files are refused unread, and a "td" file may not expand to more: the largest disk the
// track model holds is about 11 MiB of data.
inline constexpr uint64_t kMaxTd0FileBytes = 16 * 1024 * 1024;
inline constexpr size_t kMaxTd0ExpandedBytes = 16 * 1024 * 1024;

// Sector flags.
inline constexpr uint8_t kTd0Duplicate = 0x01;
inline constexpr uint8_t kTd0DataCrcError = 0x02;
inline constexpr uint8_t kTd0Deleted = 0x04;
inline constexpr uint8_t kTd0Skipped = 0x10;  // DOS allocation: data not stored
inline constexpr uint8_t kTd0NoData = 0x20;   // an ID without a data field
inline constexpr uint8_t kTd0NoId = 0x40;     // a data field without an ID (Teledisk made one up)

struct Td0Header {
    bool advanced = false;  // "td": LZSS + adaptive Huffman
    uint8_t sequence = 0;
    uint8_t check_signature = 0;
    uint8_t version = 21;
    uint8_t data_rate = 0;  // as stored: rate in bits 0-2, FM in bit 7
    uint8_t drive_type = 0;
    uint8_t stepping = 0;  // as stored: bit 7 = a comment block follows
    uint8_t dos_allocation = 0;
    uint8_t sides = 2;
};

struct Td0Comment {
    // The date as stored: years since 1900, month 0..11, day 1..31, hour, minute, second.
    uint8_t year = 0, month = 0, day = 1, hour = 0, minute = 0, second = 0;
    std::string text;  // the NUL-separated lines as they are
};

struct Td0File {
    Td0Header header;
    bool has_comment = false;
    Td0Comment comment;
    TrackDisk disk;
    // Mismatched comment and sector CRCs: "at byte N: …", one per finding (at most 100, then
    // one line saying how many more).
    std::vector<std::string> warnings;
};

// Teledisk's CRC-16 (polynomial 0xA097, initial value `crc`, most significant bit first).
uint16_t td0_crc(std::span<const uint8_t> bytes, uint16_t crc = 0);

// "TD" or "td" followed by a header whose CRC matches (`start` must hold at least 12 bytes):
// what detection by content asks, so that a raw image starting with "TD" is not taken for one.
bool looks_like_td0(std::span<const uint8_t> start);

// Reads a whole TD0 file; a Corrupt Error ("at byte 1234: …") when it is corrupt or truncated,
// Unsupported for the LZW compression of Teledisk before 2.0 and multi-volume sets.
Expected<Td0File> parse_td0(std::span<const uint8_t> bytes);

// The comment's text with its NUL line ends as newlines and trailing blank lines removed.
std::string td0_comment_text(const Td0Comment &comment);

}  // namespace fdplug::floppy
