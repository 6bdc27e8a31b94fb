// read_bpb(): the four validity tests of docs/hardware/media.md §2 over the fields of §6.
#include "hw/block/media/boot_sector.h"

#include <gtest/gtest.h>

#include <array>

namespace fdplug::floppy {
namespace {

std::array<uint8_t, 512> dos_144() {
    std::array<uint8_t, 512> s{};
    s[0x0B] = 0x00, s[0x0C] = 0x02;  // 512 bytes per sector
    s[0x13] = 0x40, s[0x14] = 0x0B;  // 2880 sectors
    s[0x15] = 0xF0;
    s[0x18] = 18;
    s[0x1A] = 2;
    return s;
}

TEST(BootSector, ReadsAPlainDosBpb) {
    auto s = dos_144();
    auto b = read_bpb(s, 2880);
    ASSERT_TRUE(b);
    EXPECT_EQ(b->sectors_per_track, 18);
    EXPECT_EQ(b->heads, 2);
    EXPECT_EQ(b->total_sectors, 2880u);
}

TEST(BootSector, ThirtyTwoBitTotalWhenTheSixteenBitOneIsZero) {
    auto s = dos_144();
    s[0x13] = s[0x14] = 0;
    s[0x20] = 0x40, s[0x21] = 0x0B;
    auto b = read_bpb(s, 2880);
    ASSERT_TRUE(b);
    EXPECT_EQ(b->total_sectors, 2880u);
}

TEST(BootSector, TotalMayBeSmallerThanTheImageButNotLarger) {
    auto s = dos_144();
    EXPECT_TRUE(read_bpb(s, 4000));
    EXPECT_FALSE(read_bpb(s, 2879));
}

TEST(BootSector, RejectsWhatIsNotAFloppyBpb) {
    auto check = [](auto edit) {
        auto s = dos_144();
        edit(s);
        return read_bpb(s, 2880).has_value();
    };
    EXPECT_FALSE(check([](auto &s) { s[0x0C] = 0x04; }));  // 1024-byte sectors
    EXPECT_FALSE(check([](auto &s) { s[0x18] = 7; }));     // SPT below 8
    EXPECT_FALSE(check([](auto &s) { s[0x18] = 49; }));    // SPT above 48
    EXPECT_FALSE(check([](auto &s) { s[0x19] = 1; }));     // SPT high byte
    EXPECT_FALSE(check([](auto &s) { s[0x1A] = 0; }));     // no heads
    EXPECT_FALSE(check([](auto &s) { s[0x1A] = 3; }));
    EXPECT_FALSE(check([](auto &s) { s[0x13] = s[0x14] = 0; }));  // no total at all
    EXPECT_TRUE(check([](auto &s) { s[0x18] = 8; }));
    EXPECT_TRUE(check([](auto &s) {
        s[0x18] = 48;
        s[0x1A] = 1;
    }));
    std::array<uint8_t, 512> grub;
    grub.fill(0x90);
    EXPECT_FALSE(read_bpb(grub, 2880));
    std::array<uint8_t, 512> zeros{};
    EXPECT_FALSE(read_bpb(zeros, 2880));
    EXPECT_FALSE(read_bpb({}, 2880));
    auto s = dos_144();
    EXPECT_FALSE(read_bpb(std::span(s).first(0x23), 2880));  // too short to hold the BPB
}

}  // namespace
}  // namespace fdplug::floppy
