// A growing byte buffer written in the saved-state formats' order: integers little endian, in
// the width the format gives them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace fdplug {

class ByteWriter {
  public:
    // The low `width` bytes of v (at most 8), least significant first.
    void u(uint64_t v, size_t width) {
        uint8_t b[8];
        for (size_t i = 0; i < width && i < 8; ++i) b[i] = uint8_t(v >> (8 * i));
        bytes(b, width);
    }
    // One way in, so that GCC 12 sees no push_back onto a vector it thinks empty (its
    // -Wstringop-overflow false positive).
    void bytes(const void *p, size_t n) {
        const size_t at = out.size();
        out.resize(at + n);
        if (n) std::memcpy(out.data() + at, p, n);
    }

    std::vector<uint8_t> out;
};

}  // namespace fdplug
