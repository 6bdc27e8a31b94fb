// The tests' own Teledisk (.TD0) writer: builds files byte by byte from a plain description,
// independent of hw/block/media/td0_format.cc and td0_lzss.cc, so that the reader is checked
// against bytes written from the format's description (docs/media.md) and not against itself.
// It writes both variants: "TD" (normal) and "td" (advanced compression: LZSS with a 4 KiB window
// over an adaptive Huffman code; a greedy compressor with a small hash chain).
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

namespace fdplug::floppy::test {

// Teledisk's CRC-16, bit by bit: polynomial 0xA097, initial value 0, most significant bit first.
inline uint16_t td0_test_crc(const uint8_t *p, size_t n, uint16_t crc = 0) {
    for (size_t i = 0; i < n; ++i) {
        crc ^= uint16_t(p[i] << 8);
        for (int b = 0; b < 8; ++b) crc = uint16_t(crc & 0x8000 ? (crc << 1) ^ 0xA097 : crc << 1);
    }
    return crc;
}
inline uint16_t td0_test_crc(const std::vector<uint8_t> &v, uint16_t crc = 0) {
    return td0_test_crc(v.data(), v.size(), crc);
}

enum class Td0Encoding { Raw = 0, Pattern = 1, Runs = 2, Best = 3 };

struct Td0SectorSpec {
    uint8_t c = 0, h = 0, r = 1, n = 2;
    uint8_t flags = 0;
    std::vector<uint8_t> data{};  // the expanded sector (128 << n bytes) when it has a block
    Td0Encoding encoding = Td0Encoding::Best;
    std::optional<std::vector<uint8_t>>
        block{};                   // the encoded block as it is (encoding byte first)
    std::optional<uint8_t> crc{};  // a CRC byte other than the right one
};

struct Td0TrackSpec {
    uint8_t cylinder = 0;
    uint8_t head = 0;  // bit 7: FM
    std::vector<Td0SectorSpec> sectors{};
    std::optional<uint8_t> crc{};
};

struct Td0Spec {
    bool advanced = false;
    uint8_t version = 21;
    uint8_t data_rate = 2;  // 500 kbit/s MFM
    uint8_t drive_type = 4;
    uint8_t stepping = 0;  // bit 7 is set when `comment` is
    uint8_t dos_allocation = 0;
    uint8_t sides = 2;
    std::optional<std::string> comment{};  // NUL-separated lines
    std::array<uint8_t, 6> date{124, 0, 2, 3, 4, 5};
    std::vector<Td0TrackSpec> tracks{};
    std::optional<uint16_t> header_crc{};
    std::vector<uint8_t> trailer{};  // after the end-of-tracks byte
};

inline bool td0_has_block(const Td0SectorSpec &s) {
    return !(s.flags & 0x30) && s.n <= 7;
}

// The whole sector as repeated 2-byte words.
inline bool td0_is_pattern(const std::vector<uint8_t> &d) {
    if (d.size() < 2 || d.size() % 2) return false;
    for (size_t i = 2; i < d.size(); ++i)
        if (d[i] != d[i - 2]) return false;
    return true;
}

// Encoding 2: runs of 4 or more repeated words as pattern fragments, the rest as literals.
inline std::vector<uint8_t> td0_runs(const std::vector<uint8_t> &d) {
    std::vector<uint8_t> out{2};
    std::vector<uint8_t> literal;
    auto flush = [&] {
        for (size_t i = 0; i < literal.size(); i += 255) {
            const size_t n = std::min<size_t>(255, literal.size() - i);
            out.push_back(0);
            out.push_back(uint8_t(n));
            out.insert(out.end(), literal.begin() + long(i), literal.begin() + long(i + n));
        }
        literal.clear();
    };
    size_t i = 0;
    while (i < d.size()) {
        size_t words = 0;
        while (words < 255 && i + 2 * words + 1 < d.size() && d[i + 2 * words] == d[i] &&
               d[i + 2 * words + 1] == d[i + 1])
            ++words;
        if (i + 1 < d.size() && words >= 4) {
            flush();
            out.insert(out.end(), {1, uint8_t(words), d[i], d[i + 1]});
            i += 2 * words;
        } else {
            literal.push_back(d[i++]);
        }
    }
    flush();
    return out;
}

inline std::vector<uint8_t> td0_block(const Td0SectorSpec &s) {
    if (s.block) return *s.block;
    const auto &d = s.data;
    Td0Encoding e = s.encoding;
    if (e == Td0Encoding::Best) {
        if (td0_is_pattern(d)) {
            e = Td0Encoding::Pattern;
        } else {
            e = td0_runs(d).size() < d.size() + 1 ? Td0Encoding::Runs : Td0Encoding::Raw;
        }
    }
    if (e == Td0Encoding::Pattern) {
        const size_t count = d.size() / 2;
        return {1, uint8_t(count), uint8_t(count >> 8), d[0], d[1]};
    }
    if (e == Td0Encoding::Runs) return td0_runs(d);
    std::vector<uint8_t> out{0};
    out.insert(out.end(), d.begin(), d.end());
    return out;
}

// Everything after the 12-byte header, uncompressed.
inline std::vector<uint8_t> td0_body(const Td0Spec &spec) {
    std::vector<uint8_t> out;
    if (spec.comment) {
        std::vector<uint8_t> rest{uint8_t(spec.comment->size()),
                                  uint8_t(spec.comment->size() >> 8)};
        rest.insert(rest.end(), spec.date.begin(), spec.date.end());
        rest.insert(rest.end(), spec.comment->begin(), spec.comment->end());
        const uint16_t crc = td0_test_crc(rest);
        out.push_back(uint8_t(crc));
        out.push_back(uint8_t(crc >> 8));
        out.insert(out.end(), rest.begin(), rest.end());
    }
    for (const auto &t : spec.tracks) {
        const uint8_t head[3] = {uint8_t(t.sectors.size()), t.cylinder, t.head};
        out.insert(out.end(), head, head + 3);
        out.push_back(t.crc.value_or(uint8_t(td0_test_crc(head, 3))));
        for (const auto &s : t.sectors) {
            const uint8_t id[5] = {s.c, s.h, s.r, s.n, s.flags};
            out.insert(out.end(), id, id + 5);
            if (!td0_has_block(s)) {
                out.push_back(s.crc.value_or(uint8_t(td0_test_crc(id, 5))));
                continue;
            }
            out.push_back(s.crc.value_or(uint8_t(td0_test_crc(s.data))));
            const std::vector<uint8_t> block = td0_block(s);
            out.push_back(uint8_t(block.size()));
            out.push_back(uint8_t(block.size() >> 8));
            out.insert(out.end(), block.begin(), block.end());
        }
    }
    out.push_back(0xFF);
    out.insert(out.end(), spec.trailer.begin(), spec.trailer.end());
    return out;
}

// LZSS + adaptive Huffman, written from the scheme's description: 314 symbols (256 literals,
// match lengths 3..60), a tree whose nodes are kept in order of count, children in pairs.
class Td0TestCompressor {
  public:
    static constexpr int kSymbols = 314, kNodes = 2 * kSymbols - 1, kRoot = kNodes - 1;

    Td0TestCompressor() : freq_(kNodes + 1), son_(kNodes), up_(kNodes + kSymbols) {
        for (int i = 0; i < kSymbols; ++i) {
            freq_[i] = 1;
            son_[i] = kNodes + i;
            up_[kNodes + i] = i;
        }
        for (int i = 0, j = kSymbols; j < kNodes; i += 2, ++j) {
            freq_[j] = freq_[i] + freq_[i + 1];
            son_[j] = i;
            up_[i] = up_[i + 1] = j;
        }
        freq_[kNodes] = 0xFFFF;
        up_[kRoot] = 0;
    }

    // `literals_only`: no matches at all (a valid stream of 1 symbol per byte).
    std::vector<uint8_t> compress(const std::vector<uint8_t> &in, bool literals_only = false) {
        std::vector<int> head(1 << 14, -1), prev(in.size(), -1);
        auto hash = [&](size_t i) {
            return ((in[i] << 6) ^ (in[i + 1] << 3) ^ in[i + 2]) & ((1 << 14) - 1);
        };
        size_t i = 0;
        while (i < in.size()) {
            size_t best = 0, best_d = 0;
            if (!literals_only && i + 3 <= in.size()) {
                int cand = head[hash(i)];
                for (int tries = 0; cand >= 0 && tries < 16; ++tries, cand = prev[cand]) {
                    const size_t d = i - size_t(cand);
                    if (d > 4095) break;
                    size_t len = 0;
                    while (len < 60 && i + len < in.size() && in[size_t(cand) + len] == in[i + len])
                        ++len;
                    if (len > best) best = len, best_d = d;
                }
            }
            const size_t step = best >= 3 ? best : 1;
            if (best >= 3) {
                symbol(256 + int(best) - 3);
                const unsigned pos = unsigned(best_d - 1), upper = pos >> 6;
                const auto [code, len] = prefix(upper);
                put(code, len);
                put(pos & 63, 6);
            } else {
                symbol(in[i]);
            }
            for (size_t k = i; k < i + step; ++k) {
                if (k + 3 <= in.size()) {
                    const int hv = hash(k);
                    prev[k] = head[hv];
                    head[hv] = int(k);
                }
            }
            i += step;
        }
        if (bits_) out_.push_back(uint8_t(acc_ << (8 - bits_)));
        return out_;
    }

  private:
    // The distance prefix: lengths 3 (1 code), 4 (3), 5 (8), 6 (12), 7 (24), 8 (16), canonical.
    static std::pair<unsigned, unsigned> prefix(unsigned upper) {
        static const unsigned kLens[6] = {3, 4, 5, 6, 7, 8}, kCounts[6] = {1, 3, 8, 12, 24, 16};
        unsigned code = 0, value = 0;
        for (int g = 0; g < 6; ++g) {
            if (g) code <<= 1;
            for (unsigned k = 0; k < kCounts[g]; ++k, ++value, ++code)
                if (value == upper) return {code, kLens[g]};
        }
        return {0, 0};
    }

    void put(unsigned value, unsigned count) {
        for (unsigned b = count; b-- > 0;) {
            acc_ = (acc_ << 1) | ((value >> b) & 1);
            if (++bits_ == 8) {
                out_.push_back(uint8_t(acc_));
                acc_ = bits_ = 0;
            }
        }
    }

    void symbol(int c) {
        std::vector<unsigned> path;  // leaf to root: the bit of each node
        for (int k = up_[kNodes + c]; k != kRoot; k = up_[k]) path.push_back(unsigned(k) & 1);
        for (size_t b = path.size(); b-- > 0;) put(path[b], 1);
        bump(c);
    }

    void rebuild() {
        int j = 0;
        for (int i = 0; i < kNodes; ++i)
            if (son_[i] >= kNodes) {
                freq_[j] = (freq_[i] + 1) / 2;
                son_[j] = son_[i];
                ++j;
            }
        for (int i = 0, n = kSymbols; n < kNodes; i += 2, ++n) {
            const unsigned f = freq_[i] + freq_[i + 1];
            int k = n - 1;
            while (f < freq_[k]) --k;
            ++k;
            freq_.insert(freq_.begin() + k, f);
            freq_.erase(freq_.begin() + n + 1);
            son_.insert(son_.begin() + k, i);
            son_.erase(son_.begin() + n + 1);
        }
        for (int i = 0; i < kNodes; ++i) {
            const int k = son_[i];
            up_[k] = i;
            if (k < kNodes) up_[k + 1] = i;
        }
    }

    void bump(int c) {
        if (freq_[kRoot] == 0x8000) rebuild();
        int node = up_[kNodes + c];
        do {
            const unsigned f = ++freq_[node];
            int l = node + 1;
            if (f > freq_[l]) {
                while (f > freq_[l + 1]) ++l;
                std::swap(freq_[node], freq_[l]);
                const int a = son_[node], b = son_[l];
                son_[node] = b;
                son_[l] = a;
                up_[a] = l;
                if (a < kNodes) up_[a + 1] = l;
                up_[b] = node;
                if (b < kNodes) up_[b + 1] = node;
                node = l;
            }
            node = up_[node];
        } while (node != 0);
    }

    std::vector<unsigned> freq_;
    std::vector<int> son_, up_;
    std::vector<uint8_t> out_;
    unsigned acc_ = 0, bits_ = 0;
};

inline std::vector<uint8_t> td0_header_bytes(const Td0Spec &spec) {
    std::vector<uint8_t> h{uint8_t(spec.advanced ? 't' : 'T'),
                           uint8_t(spec.advanced ? 'd' : 'D'),
                           0,
                           0x5A,
                           spec.version,
                           spec.data_rate,
                           spec.drive_type,
                           uint8_t(spec.stepping | (spec.comment ? 0x80 : 0)),
                           spec.dos_allocation,
                           spec.sides};
    const uint16_t crc = spec.header_crc.value_or(td0_test_crc(h));
    h.push_back(uint8_t(crc));
    h.push_back(uint8_t(crc >> 8));
    return h;
}

// The whole file; `literals_only` makes an advanced file's stream all literals.
inline std::vector<uint8_t> td0_file(const Td0Spec &spec, bool literals_only = false) {
    std::vector<uint8_t> out = td0_header_bytes(spec);
    const std::vector<uint8_t> body = td0_body(spec);
    if (!spec.advanced) {
        out.insert(out.end(), body.begin(), body.end());
        return out;
    }
    const std::vector<uint8_t> packed = Td0TestCompressor().compress(body, literals_only);
    out.insert(out.end(), packed.begin(), packed.end());
    // Padding, as Teledisk leaves some: readers that stop when their input buffer runs dry
    // (MAME's) lose the last bits they hold, which must not be those of the end-of-tracks byte.
    out.insert(out.end(), 4, 0);
    return out;
}

// A standard track: sectors 1..spt of 128 << n bytes, each filled by `fill(r)`.
template <class Fill>
Td0TrackSpec td0_standard_track(uint8_t cylinder, uint8_t head, unsigned spt, uint8_t n,
                                Fill fill) {
    Td0TrackSpec t{.cylinder = cylinder, .head = head};
    for (unsigned r = 1; r <= spt; ++r)
        t.sectors.push_back({.c = cylinder,
                             .h = uint8_t(head & 1),
                             .r = uint8_t(r),
                             .n = n,
                             .data = fill(uint8_t(r))});
    return t;
}

}  // namespace fdplug::floppy::test
