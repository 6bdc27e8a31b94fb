// MemoryImage: LBA order, short stores, write protection, range checks.
#include "hw/block/media/memory_image.h"

#include <gtest/gtest.h>

#include <array>

#include "hw/block/media/floppy_formats.h"

namespace fdplug::floppy {
namespace {

const Geometry k144 = format_by_name("1.44M")->geometry;
using Sector = std::array<uint8_t, DiskImage::kSectorSize>;

TEST(MemoryImage, ZeroFilledAndFullSize) {
    MemoryImage m(k144);
    EXPECT_EQ(m.bytes().size(), 1474560u);
    EXPECT_EQ(m.geometry(), k144);
    EXPECT_FALSE(m.read_only());
    EXPECT_EQ(m.source(), "");
    Sector s;
    s.fill(0xAA);
    EXPECT_EQ(m.read_sector(79, 1, 18, s), MediaStatus::Ok);
    EXPECT_EQ(s, Sector{});
    EXPECT_TRUE(m.flush());
}

TEST(MemoryImage, WritesLandAtTheLbaOffset) {
    MemoryImage m(k144);
    Sector s;
    for (size_t i = 0; i < s.size(); ++i) s[i] = uint8_t(i * 7 + 3);
    ASSERT_EQ(m.write_sector(2, 1, 5, s), MediaStatus::Ok);
    const size_t at = ((2 * 2 + 1) * 18 + 4) * 512;
    EXPECT_TRUE(std::equal(s.begin(), s.end(), m.bytes().begin() + at));
    Sector back;
    ASSERT_EQ(m.read_sector(2, 1, 5, back), MediaStatus::Ok);
    EXPECT_EQ(back, s);
}

TEST(MemoryImage, OutOfRangeSectors) {
    MemoryImage m(k144);
    Sector s{};
    EXPECT_EQ(m.read_sector(80, 0, 1, s), MediaStatus::OutOfRange);
    EXPECT_EQ(m.read_sector(0, 2, 1, s), MediaStatus::OutOfRange);
    EXPECT_EQ(m.read_sector(0, 0, 0, s), MediaStatus::OutOfRange);
    EXPECT_EQ(m.read_sector(0, 0, 19, s), MediaStatus::OutOfRange);
    EXPECT_EQ(m.write_sector(0, 0, 19, s), MediaStatus::OutOfRange);
}

TEST(MemoryImage, ShortStoreReadsZerosAndRefusesWritesPastItsEnd) {
    std::vector<uint8_t> bytes(512 + 100, 0x5A);  // one sector and a bit
    MemoryImage m(k144, bytes);
    Sector s;
    ASSERT_EQ(m.read_sector(0, 0, 2, s), MediaStatus::Ok);
    for (size_t i = 0; i < s.size(); ++i) ASSERT_EQ(s[i], i < 100 ? 0x5A : 0) << i;
    ASSERT_EQ(m.read_sector(0, 0, 3, s), MediaStatus::Ok);
    EXPECT_EQ(s, Sector{});
    EXPECT_EQ(m.write_sector(0, 0, 2, s), MediaStatus::IoError);
    EXPECT_EQ(m.write_sector(0, 0, 1, s), MediaStatus::Ok);
    EXPECT_EQ(m.bytes().size(), 612u);  // never grows
}

TEST(MemoryImage, ReadOnlyRefusesWritesFirst) {
    MemoryImage m(k144, /*read_only=*/true);
    Sector s;
    s.fill(1);
    EXPECT_TRUE(m.read_only());
    EXPECT_EQ(m.write_sector(0, 0, 1, s), MediaStatus::ReadOnly);
    EXPECT_EQ(m.write_sector(99, 0, 1, s), MediaStatus::ReadOnly);  // write protect is seen first
    EXPECT_EQ(m.bytes()[0], 0);
}

}  // namespace
}  // namespace fdplug::floppy
