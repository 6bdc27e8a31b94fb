#include "hw/isa/isa_bus.h"

#include <gtest/gtest.h>

#include <vector>

namespace fdplug {
namespace {

struct Recorder {
    std::vector<std::tuple<uint16_t, uint32_t, unsigned>> writes;
    PortHandler handler(uint8_t native, uint8_t split) {
        PortHandler h;
        h.native_sizes = native;
        h.split_sizes = split;
        h.read = [](uint16_t off, unsigned size) -> uint32_t { return 0x10u + off + size * 0x100; };
        h.write = [this](uint16_t off, uint32_t v, unsigned size) {
            writes.emplace_back(off, v, size);
        };
        return h;
    }
};

TEST(IsaBus, UnassignedPortsReadAllOnes) {
    IsaBus bus;
    EXPECT_EQ(bus.read(0x3f0, 1), 0xFFu);
    EXPECT_EQ(bus.read(0x3f0, 2), 0xFFFFu);
    EXPECT_EQ(bus.read(0x3f0, 4), 0xFFFFFFFFu);
    EXPECT_EQ(bus.undecoded_accesses(), 3u);
}

TEST(IsaBus, OverlapIsRejectedNamingBothRegions) {
    IsaBus bus;
    Recorder r;
    std::string err;
    ASSERT_TRUE(bus.add_region(0x3f0, 6, r.handler(1, 2), "fdc", &err));
    EXPECT_FALSE(bus.add_region(0x3f5, 2, r.handler(1, 2), "ide", &err));
    EXPECT_NE(err.find("'ide'"), std::string::npos) << err;
    EXPECT_NE(err.find("'fdc'"), std::string::npos) << err;
    EXPECT_NE(err.find("0x03f0-0x03f5"), std::string::npos) << err;
    EXPECT_FALSE(bus.add_region(0xfffe, 4, r.handler(1, 2), "past-end", &err));
    EXPECT_FALSE(bus.add_region(0x100, 0, r.handler(1, 2), "empty", &err));
}

TEST(IsaBus, WordAccessSplitsIntoBytesLittleEndian) {
    IsaBus bus;
    Recorder r;
    ASSERT_TRUE(bus.add_region(0x3f0, 6, r.handler(1, 2), "fdc", nullptr));
    bus.write(0x3f4, 0x0500, 2);  // DSR <- 0x00, FIFO <- 0x05
    ASSERT_EQ(r.writes.size(), 2u);
    EXPECT_EQ(r.writes[0], std::make_tuple(uint16_t(4), uint32_t(0x00), 1u));
    EXPECT_EQ(r.writes[1], std::make_tuple(uint16_t(5), uint32_t(0x05), 1u));
    EXPECT_EQ(bus.read(0x3f4, 2), 0x1514u);  // bytes 0x14 (DSR offset 4) and 0x15
}

TEST(IsaBus, SizeOutsideBothMasksIsNotDecoded) {
    IsaBus bus;
    Recorder r;
    ASSERT_TRUE(bus.add_region(0x3f0, 6, r.handler(1, 2), "fdc", nullptr));
    EXPECT_EQ(bus.read(0x3f4, 4), 0xFFFFFFFFu);
    bus.write(0x3f4, 0x12345678, 4);
    EXPECT_TRUE(r.writes.empty());
}

TEST(IsaBus, SplitByteOnUnassignedNeighbourReadsFF) {
    IsaBus bus;
    Recorder r;
    ASSERT_TRUE(bus.add_region(0x3f5, 1, r.handler(1, 2), "fifo", nullptr));
    EXPECT_EQ(bus.read(0x3f5, 2), 0xFF10u);
}

TEST(IsaBus, RemovedRegionNoLongerDecodes) {
    IsaBus bus;
    Recorder r;
    auto id = bus.add_region(0x200, 8, r.handler(1, 0), "dev", nullptr);
    ASSERT_TRUE(id);
    EXPECT_EQ(bus.read(0x203, 1), 0x13u);
    bus.remove_region(*id);
    EXPECT_EQ(bus.read(0x203, 1), 0xFFu);
    EXPECT_TRUE(bus.add_region(0x200, 8, r.handler(1, 0), "again", nullptr));
}

TEST(IsaBus, AfterAccessHookRunsOnEveryAccess) {
    IsaBus bus;
    int calls = 0;
    bus.after_access = [&] { ++calls; };
    bus.read(0x80, 1);
    bus.write(0x80, 1, 1);
    EXPECT_EQ(calls, 2);
}

}  // namespace
}  // namespace fdplug
