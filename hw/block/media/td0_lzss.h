// Teledisk's "advanced compression" (file format 2.0 and later): LZSS with a 4 KiB window over
// an adaptive Huffman code, the scheme of Okumura and Yoshizaki's LZHUF (1988). Everything after
// a TD0 file's 12-byte header is one such stream, with no length in front of it:
//
//   - a symbol is a literal byte (0..255) or a match length (256..313: 3 to 60 bytes), coded by
//     an adaptive Huffman tree over those 314 symbols that starts with every count at 1 and is
//     updated after each symbol (and halved when the root's count reaches 0x8000);
//   - a match is followed by its distance back into the window (12 bits: the upper 6 coded by a
//     fixed prefix code of 3 to 8 bits, the lower 6 as they are);
//   - the window starts filled with spaces, its write position at 4096 − 60.
//
// The stream has no end marker: decoding stops when the input's bits run out, so the last byte's
// padding may decode to a spurious symbol after the real data (the TD0 parser stops at its
// end-of-tracks byte and ignores anything after it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "hw/block/error/expected.h"

namespace fdplug::floppy {

// Parameters of the scheme, which an encoder must share.
inline constexpr size_t kLzssWindow = 4096;
inline constexpr size_t kLzssMaxMatch = 60;
inline constexpr size_t kLzssMinMatch = 3;  // match symbol 256 is a 3-byte match
inline constexpr size_t kLzssSymbols = 256 - kLzssMinMatch + 1 + kLzssMaxMatch;  // 314
inline constexpr uint16_t kLzssMaxFreq = 0x8000;

// The fixed prefix code of a distance's upper 6 bits: code `value` has `length` bits.
struct LzssPrefix {
    uint8_t value;
    uint8_t length;
};
LzssPrefix lzss_distance_prefix(unsigned upper6);

// Expands `in` into at most `limit` bytes. A Corrupt Error when the output would pass `limit`
// ("… expands to more than N bytes").
Expected<std::vector<uint8_t>> lzss_expand(std::span<const uint8_t> in, size_t limit);

// The adaptive Huffman tree both directions keep in step (an encoder walks it from a leaf up,
// a decoder from the root down). Public so that the tests' encoder can be checked against it;
// the tests keep their own.
class LzssTree {
  public:
    static constexpr size_t kNodes = 2 * kLzssSymbols - 1;  // 627
    static constexpr size_t kRoot = kNodes - 1;

    LzssTree();
    // The child of internal node `node` for `bit`: a node index, or kNodes + symbol for a leaf.
    unsigned child(unsigned node, unsigned bit) const { return son_[node] + bit; }
    unsigned son(unsigned node) const { return son_[node]; }
    // Counts one more `symbol` and restores the tree's order.
    void update(unsigned symbol);

  private:
    void rebuild();

    uint16_t freq_[kNodes + 1];
    int16_t parent_[kNodes + kLzssSymbols];
    int16_t son_[kNodes];
};

}  // namespace fdplug::floppy
