#include "hw/core/guest_memory.h"

#include <gtest/gtest.h>

#include <array>

namespace fdplug {
namespace {

TEST(GuestMemory, LazyPagesAndZeroReads) {
    GuestMemory mem(128ull << 20);
    std::array<uint8_t, 4> out{1, 1, 1, 1};
    mem.read(0x123456, out);
    EXPECT_EQ(out, (std::array<uint8_t, 4>{0, 0, 0, 0}));
    EXPECT_EQ(mem.pages_allocated(), 0u);
    const std::array<uint8_t, 3> in{0xde, 0xad, 0xbe};
    mem.write(GuestMemory::kPageSize - 1, in);  // straddles two pages
    EXPECT_EQ(mem.pages_allocated(), 2u);
    std::array<uint8_t, 3> back{};
    mem.read(GuestMemory::kPageSize - 1, back);
    EXPECT_EQ(back, in);
}

TEST(GuestMemory, OutsideRamReadsZeroAndDropsWrites) {
    GuestMemory mem(4096);
    const std::array<uint8_t, 4> in{1, 2, 3, 4};
    mem.write(4094, in);  // two bytes land, two are outside
    std::array<uint8_t, 4> out{9, 9, 9, 9};
    mem.read(4094, out);
    EXPECT_EQ(out, (std::array<uint8_t, 4>{1, 2, 0, 0}));
    mem.read(~0ull - 1, out);  // address arithmetic must not wrap into RAM
    EXPECT_EQ(out, (std::array<uint8_t, 4>{0, 0, 0, 0}));
    mem.write(~0ull - 1, in);
    mem.read(0, out);
    EXPECT_EQ(out, (std::array<uint8_t, 4>{0, 0, 0, 0}));
}

TEST(GuestMemory, FillZeroDoesNotAllocate) {
    GuestMemory mem(1 << 20);
    mem.fill(0, 1 << 20, 0);
    EXPECT_EQ(mem.pages_allocated(), 0u);
    mem.fill(10, 3, 0x5a);
    std::array<uint8_t, 5> out{};
    mem.read(9, out);
    EXPECT_EQ(out, (std::array<uint8_t, 5>{0, 0x5a, 0x5a, 0x5a, 0}));
}

}  // namespace
}  // namespace fdplug
