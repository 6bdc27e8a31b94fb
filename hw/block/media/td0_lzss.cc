#include "hw/block/media/td0_lzss.h"

#include <array>
#include <cstring>
#include <string>

namespace fdplug::floppy {

namespace {

// The distance prefix code is canonical: 1 code of 3 bits, 3 of 4, 8 of 5, 12 of 6, 24 of 7 and
// 16 of 8, assigned to the upper-6-bit values 0..63 in order.
struct PrefixTables {
    std::array<LzssPrefix, 64> by_value{};
    // For each possible next 8 bits: the value they start with and its code length.
    std::array<LzssPrefix, 256> by_byte{};
};

constexpr PrefixTables make_prefix_tables() {
    constexpr std::array<std::array<unsigned, 2>, 6> kGroups = {
        {{3, 1}, {4, 3}, {5, 8}, {6, 12}, {7, 24}, {8, 16}}};
    PrefixTables t;
    unsigned code = 0, value = 0, length = 3;
    for (const auto &[len, count] : kGroups) {
        code <<= (len - length);
        length = len;
        for (unsigned i = 0; i < count; ++i, ++value, ++code) {
            t.by_value[value] = {uint8_t(code), uint8_t(len)};
            const unsigned first = code << (8 - len), span = 1u << (8 - len);
            for (unsigned b = first; b < first + span; ++b)
                t.by_byte[b] = {uint8_t(value), uint8_t(len)};
        }
    }
    return t;
}

constexpr PrefixTables kPrefix = make_prefix_tables();

// Bits from the front of the input, most significant first.
class BitReader {
  public:
    explicit BitReader(std::span<const uint8_t> in) : in_(in) {}

    // Whether `n` (at most 32) more bits are there.
    bool has(unsigned n) {
        if (count_ >= n) return true;
        fill();
        return count_ >= n;
    }
    // The next `n` bits (1..32) without taking them; has(n) must hold.
    uint32_t peek(unsigned n) const { return uint32_t(buf_ >> (64 - n)); }
    void skip(unsigned n) {
        buf_ <<= n;
        count_ -= n;
    }
    uint32_t take(unsigned n) {
        const uint32_t v = peek(n);
        skip(n);
        return v;
    }

  private:
    void fill() {
        while (count_ <= 56 && pos_ < in_.size()) {
            buf_ |= uint64_t(in_[pos_++]) << (56 - count_);
            count_ += 8;
        }
    }

    std::span<const uint8_t> in_;
    size_t pos_ = 0;
    uint64_t buf_ = 0;  // left-aligned
    unsigned count_ = 0;
};

}  // namespace

LzssPrefix lzss_distance_prefix(unsigned upper6) {
    return kPrefix.by_value[upper6 & 63];
}

LzssTree::LzssTree() {
    for (unsigned i = 0; i < kLzssSymbols; ++i) {
        freq_[i] = 1;
        son_[i] = int16_t(i + kNodes);
        parent_[i + kNodes] = int16_t(i);
    }
    for (unsigned i = 0, j = kLzssSymbols; j <= kRoot; i += 2, ++j) {
        freq_[j] = uint16_t(freq_[i] + freq_[i + 1]);
        son_[j] = int16_t(i);
        parent_[i] = parent_[i + 1] = int16_t(j);
    }
    freq_[kNodes] = 0xFFFF;  // a sentinel no count reaches: the swap search stops there
    parent_[kRoot] = 0;
}

// Halves every leaf's count and builds the tree again from the leaves, keeping the nodes in
// order of count.
void LzssTree::rebuild() {
    unsigned j = 0;
    for (unsigned i = 0; i < kNodes; ++i) {
        if (son_[i] >= int(kNodes)) {
            freq_[j] = uint16_t((freq_[i] + 1) / 2);
            son_[j] = son_[i];
            ++j;
        }
    }
    for (unsigned i = 0, n = kLzssSymbols; n < kNodes; i += 2, ++n) {
        const uint16_t f = uint16_t(freq_[i] + freq_[i + 1]);
        unsigned k = n;
        while (k > 0 && f < freq_[k - 1]) --k;
        std::memmove(&freq_[k + 1], &freq_[k], (n - k) * sizeof freq_[0]);
        std::memmove(&son_[k + 1], &son_[k], (n - k) * sizeof son_[0]);
        freq_[k] = f;
        son_[k] = int16_t(i);
    }
    for (unsigned i = 0; i < kNodes; ++i) {
        const unsigned k = unsigned(son_[i]);
        if (k >= kNodes)
            parent_[k] = int16_t(i);
        else
            parent_[k] = parent_[k + 1] = int16_t(i);
    }
}

void LzssTree::update(unsigned symbol) {
    if (freq_[kRoot] == kLzssMaxFreq) rebuild();
    unsigned c = unsigned(parent_[symbol + kNodes]);
    do {
        const uint16_t k = ++freq_[c];
        // Keep the counts in order: move this node past the last one with a smaller count.
        if (k > freq_[c + 1]) {
            unsigned l = c + 1;
            while (k > freq_[l + 1]) ++l;
            freq_[c] = freq_[l];
            freq_[l] = k;
            const unsigned i = unsigned(son_[c]);
            parent_[i] = int16_t(l);
            if (i < kNodes) parent_[i + 1] = int16_t(l);
            const unsigned j = unsigned(son_[l]);
            son_[l] = int16_t(i);
            parent_[j] = int16_t(c);
            if (j < kNodes) parent_[j + 1] = int16_t(c);
            son_[c] = int16_t(j);
            c = l;
        }
        c = unsigned(parent_[c]);
    } while (c != 0);
}

Expected<std::vector<uint8_t>> lzss_expand(std::span<const uint8_t> in, size_t limit) {
    auto too_big = [&] {
        return Error(ErrorKind::Corrupt, "the compressed data expands to more than " +
                                             std::to_string(limit) + " bytes");
    };
    std::vector<uint8_t> out;
    out.reserve(std::min(limit, in.size() * 4));
    std::array<uint8_t, kLzssWindow> window;
    window.fill(' ');
    unsigned r = kLzssWindow - kLzssMaxMatch;
    LzssTree tree;
    BitReader bits(in);
    for (;;) {
        // A symbol: down the tree from the root, one bit per level.
        unsigned node = LzssTree::kRoot, s;
        bool complete = true;
        while ((s = tree.son(node)) < LzssTree::kNodes) {
            if (!bits.has(1)) {
                complete = false;
                break;
            }
            node = s + bits.take(1);
        }
        if (!complete) break;
        const unsigned symbol = s - LzssTree::kNodes;
        tree.update(symbol);
        if (symbol < 256) {
            if (out.size() >= limit) return too_big();
            out.push_back(uint8_t(symbol));
            window[r] = uint8_t(symbol);
            r = (r + 1) & (kLzssWindow - 1);
            continue;
        }
        // A match: its distance's upper 6 bits by the prefix code, then the lower 6.
        if (!bits.has(8)) break;
        const LzssPrefix p = kPrefix.by_byte[bits.peek(8)];
        if (!bits.has(p.length + 6u)) break;
        bits.skip(p.length);
        const unsigned distance = (unsigned(p.value) << 6) | bits.take(6);
        const size_t length = symbol - 256 + kLzssMinMatch;
        if (out.size() + length > limit) return too_big();
        unsigned from = (r - distance - 1) & (kLzssWindow - 1);
        for (size_t i = 0; i < length; ++i) {
            const uint8_t b = window[from];
            from = (from + 1) & (kLzssWindow - 1);
            out.push_back(b);
            window[r] = b;
            r = (r + 1) & (kLzssWindow - 1);
        }
    }
    return out;
}

}  // namespace fdplug::floppy
