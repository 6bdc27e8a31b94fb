#include "hw/core/guest_memory.h"

#include <algorithm>
#include <cstring>

namespace fdplug {

GuestMemory::GuestMemory(uint64_t size_bytes)
    : size_(size_bytes), pages_((size_bytes + kPageSize - 1) / kPageSize) {}

void GuestMemory::read(uint64_t addr, std::span<uint8_t> out) const {
    size_t done = 0;
    while (done < out.size()) {
        const uint64_t a = addr + done;
        const size_t chunk_max = out.size() - done;
        if (a < addr || a >= size_) {  // wrapped or outside RAM
            std::memset(out.data() + done, 0, chunk_max);
            return;
        }
        const uint64_t index = a / kPageSize, offset = a % kPageSize;
        const size_t n = size_t(std::min<uint64_t>({chunk_max, kPageSize - offset, size_ - a}));
        if (const auto &page = pages_[index])
            std::memcpy(out.data() + done, page.get() + offset, n);
        else
            std::memset(out.data() + done, 0, n);
        done += n;
    }
}

uint8_t *GuestMemory::page_for_write(uint64_t index) {
    auto &page = pages_[index];
    if (!page) page = std::make_unique<uint8_t[]>(kPageSize);  // value-initialised: zeros
    return page.get();
}

void GuestMemory::write(uint64_t addr, std::span<const uint8_t> in) {
    size_t done = 0;
    while (done < in.size()) {
        const uint64_t a = addr + done;
        if (a < addr || a >= size_) return;
        const uint64_t index = a / kPageSize, offset = a % kPageSize;
        const size_t n =
            size_t(std::min<uint64_t>({in.size() - done, kPageSize - offset, size_ - a}));
        std::memcpy(page_for_write(index) + offset, in.data() + done, n);
        done += n;
    }
}

void GuestMemory::fill(uint64_t addr, uint64_t len, uint8_t value) {
    uint64_t done = 0;
    while (done < len) {
        const uint64_t a = addr + done;
        if (a < addr || a >= size_) return;
        const uint64_t index = a / kPageSize, offset = a % kPageSize;
        const uint64_t n = std::min<uint64_t>({len - done, kPageSize - offset, size_ - a});
        if (value != 0 || pages_[index]) std::memset(page_for_write(index) + offset, value, n);
        done += n;
    }
}

size_t GuestMemory::pages_allocated() const {
    return size_t(
        std::count_if(pages_.begin(), pages_.end(), [](const Page &p) { return bool(p); }));
}

}  // namespace fdplug
