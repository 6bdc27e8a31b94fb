// Guest RAM of the reference host. Allocated lazily page by page, so a 128 MiB machine that a
// test touches in three places costs three pages.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace fdplug {

class GuestMemory {
  public:
    static constexpr uint64_t kPageSize = 64 * 1024;

    explicit GuestMemory(uint64_t size_bytes);

    uint64_t size() const { return size_; }
    // Bytes outside RAM read as 0; writes there are dropped.
    void read(uint64_t addr, std::span<uint8_t> out) const;
    void write(uint64_t addr, std::span<const uint8_t> in);
    void fill(uint64_t addr, uint64_t len, uint8_t value);
    size_t pages_allocated() const;

    // Page by page, for saving and restoring a machine (system/machine_state.cc): how many
    // pages RAM has, a page's bytes (nullptr: never written, reads as zeros), and dropping them
    // all (RAM reads as zeros again).
    size_t page_count() const { return pages_.size(); }
    const uint8_t *page(size_t index) const {
        return index < pages_.size() ? pages_[index].get() : nullptr;
    }
    void clear() {
        for (auto &p : pages_) p.reset();
    }

  private:
    using Page = std::unique_ptr<uint8_t[]>;
    uint8_t *page_for_write(uint64_t page_index);

    uint64_t size_;
    std::vector<Page> pages_;
};

}  // namespace fdplug
