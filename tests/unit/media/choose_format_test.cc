// choose_format(): QEMU's size rules, the BPB refinement, the smallest-fitting fallback and the
// refusals (docs/hardware/media.md §2, §4).
#include <gtest/gtest.h>

#include <array>
#include <string>

#include "hw/block/media/floppy_formats.h"

namespace fdplug::floppy {
namespace {

using enum DriveType;

struct Bpb {
    uint16_t spt, heads, total16 = 0;
    uint32_t total32 = 0;
    uint16_t bytes_per_sector = 512;
};

std::array<uint8_t, 512> boot_sector(const Bpb &b) {
    std::array<uint8_t, 512> s{};
    s[0] = 0xEB, s[1] = 0x3C, s[2] = 0x90;
    auto put = [&](size_t at, uint32_t v, int n) {
        for (int i = 0; i < n; ++i) s[at + i] = uint8_t(v >> (8 * i));
    };
    put(0x0B, b.bytes_per_sector, 2);
    put(0x13, b.total16, 2);
    put(0x18, b.spt, 2);
    put(0x1A, b.heads, 2);
    put(0x20, b.total32, 4);
    s[510] = 0x55, s[511] = 0xAA;
    return s;
}

FormatChoice must_choose(uint64_t bytes, DriveType drive, std::span<const uint8_t> boot = {}) {
    auto c = choose_format(bytes, drive, boot);
    EXPECT_TRUE(c) << bytes << " bytes: " << (c ? "" : c.error().message());
    return c ? *c : FormatChoice{{}, None};
}

std::string refusal(uint64_t bytes, DriveType drive, std::span<const uint8_t> boot = {}) {
    auto c = choose_format(bytes, drive, boot);
    if (c) {
        ADD_FAILURE() << bytes << " bytes resolved to " << int(c->geometry.sectors);
        return "";
    }
    EXPECT_EQ(c.error().kind(), ErrorKind::UnknownSize);
    EXPECT_FALSE(c.error().message().empty());
    return c.error().message();
}

bool same_chs(const Geometry &a, const Geometry &b) {
    return a.cylinders == b.cylinders && a.heads == b.heads && a.sectors == b.sectors;
}

TEST(ChooseFormat, EveryEntrySizeResolvesToItselfOnItsOwnDriveType) {
    for (const FloppyFormat &f : floppy_formats()) {
        SCOPED_TRACE(f.name);
        FormatChoice c = must_choose(f.geometry.size_bytes(), f.drive);
        EXPECT_EQ(c.geometry, *geometry_in_drive(f.geometry, f.drive));
        EXPECT_EQ(c.drive, f.drive);
        EXPECT_FALSE(c.from_bpb);
        EXPECT_FALSE(c.size_mismatch);
    }
}

TEST(ChooseFormat, AutoDriveFollowsQemuOrder) {
    struct Row {
        uint64_t bytes;
        uint8_t c, h, s;
        DriveType drive;
        DataRate rate;
    };
    for (Row r : {Row{1474560, 80, 2, 18, k144, DataRate::k500},  // 1.44M before 5.25" 18 SPT
                  Row{737280, 80, 2, 9, k144, DataRate::k250},    // 3.5" 720K before 5.25" QD
                  Row{368640, 40, 2, 9, k120, DataRate::k300},    // 5.25" 360K before 3.5" SS
                  Row{1638400, 80, 2, 20, k144, DataRate::k500},  // 1.6M: 3.5" first
                  Row{1228800, 80, 2, 15, k120, DataRate::k500},
                  Row{2949120, 80, 2, 36, k288, DataRate::k1000},
                  Row{163840, 40, 1, 8, k120, DataRate::k300},
                  Row{1720320, 80, 2, 21, k144, DataRate::k500}}) {
        SCOPED_TRACE(r.bytes);
        FormatChoice c = must_choose(r.bytes, Auto);
        EXPECT_EQ(c.geometry.cylinders, r.c);
        EXPECT_EQ(c.geometry.heads, r.h);
        EXPECT_EQ(c.geometry.sectors, r.s);
        EXPECT_EQ(c.drive, r.drive);
        EXPECT_EQ(c.geometry.rate, r.rate);
    }
    EXPECT_EQ(must_choose(1228800, Auto).geometry.rpm, 360);
    EXPECT_EQ(must_choose(2949120, Auto).geometry.perpendicular, true);
}

TEST(ChooseFormat, FixedDriveTakesItsOwnEntryThenItsFormFactor) {
    // 368 640 bytes in a 1.44M drive: QEMU's last entry, 3.5" single-sided 80x1x9.
    FormatChoice c = must_choose(368640, k144);
    EXPECT_EQ(c.geometry.cylinders, 80);
    EXPECT_EQ(c.geometry.heads, 1);
    EXPECT_EQ(c.drive, k144);
    // 1.44M in a 2.88M drive: no 288 entry has the size, the first 3.5" one does.
    c = must_choose(1474560, k288);
    EXPECT_EQ(c.geometry.sectors, 18);
    EXPECT_EQ(c.drive, k288);
    EXPECT_EQ(c.geometry.native_drive, k144);
    // 1.44M in a 1.2M drive: the 5.25" 18-sector entry, at 360 rpm.
    c = must_choose(1474560, k120);
    EXPECT_EQ(c.geometry.sectors, 18);
    EXPECT_EQ(c.geometry.rpm, 360);
    EXPECT_EQ(c.geometry.native_drive, k120);
    // The drive types QEMU does not have: their form factor's entries.
    c = must_choose(368640, k360);
    EXPECT_EQ(c.geometry.cylinders, 40);
    EXPECT_EQ(c.geometry.rate, DataRate::k250);
    EXPECT_EQ(c.geometry.rpm, 300);
    c = must_choose(737280, k720);
    EXPECT_EQ(c.geometry.cylinders, 80);
    EXPECT_EQ(c.geometry.native_drive, k720);
}

TEST(ChooseFormat, BpbSettles368640As40x2x9Or80x1x9) {
    auto ds = boot_sector({.spt = 9, .heads = 2, .total16 = 720});
    auto ss = boot_sector({.spt = 9, .heads = 1, .total16 = 720});
    FormatChoice c = must_choose(368640, Auto, ds);
    EXPECT_TRUE(c.from_bpb);
    EXPECT_TRUE(same_chs(c.geometry, {40, 2, 9}));
    EXPECT_EQ(c.drive, k120);
    c = must_choose(368640, Auto, ss);
    EXPECT_TRUE(c.from_bpb);
    EXPECT_TRUE(same_chs(c.geometry, {80, 1, 9}));
    EXPECT_EQ(c.drive, k144);  // the only 80x1x9 entry is the 3.5" one
    // 80x1x9 is listed only as 3.5" media, so a 1.2M drive refuses that BPB.
    refusal(368640, k120, ss);
    // The size alone in a 1.44M drive says 80x1x9; a BPB saying 40x2x9 is 5.25" media that a
    // 3.5" drive cannot read, so it is refused rather than misread.
    EXPECT_TRUE(same_chs(must_choose(368640, k144).geometry, {80, 1, 9}));
    std::string why = refusal(368640, k144, ds);
    EXPECT_NE(why.find("40x2x9"), std::string::npos) << why;
    EXPECT_NE(why.find("1.44 MB drive"), std::string::npos) << why;
}

TEST(ChooseFormat, BpbSettles737280) {
    // A 360K file system in a 720K-size file: the BPB wins and the tail is unused.
    auto small = boot_sector({.spt = 9, .heads = 2, .total16 = 720});
    FormatChoice c = must_choose(737280, Auto, small);
    EXPECT_TRUE(c.from_bpb);
    EXPECT_TRUE(same_chs(c.geometry, {40, 2, 9}));
    EXPECT_FALSE(c.size_mismatch);
    // The 720K BPB: 3.5" in an auto drive, quad density in a 1.2M drive.
    auto dd = boot_sector({.spt = 9, .heads = 2, .total16 = 1440});
    c = must_choose(737280, Auto, dd);
    EXPECT_TRUE(same_chs(c.geometry, {80, 2, 9}));
    EXPECT_EQ(c.drive, k144);
    c = must_choose(737280, k120, dd);
    EXPECT_TRUE(same_chs(c.geometry, {80, 2, 9}));
    EXPECT_EQ(c.geometry.native_drive, k120);
    EXPECT_EQ(c.geometry.rate, DataRate::k300);
}

TEST(ChooseFormat, BpbWithThirtyTwoBitTotalAndOffTableGeometry) {
    auto b = boot_sector({.spt = 18, .heads = 2, .total16 = 0, .total32 = 2880});
    FormatChoice c = must_choose(1474560, Auto, b);
    EXPECT_TRUE(c.from_bpb);
    EXPECT_TRUE(same_chs(c.geometry, {80, 2, 18}));
    // 12 SPT is in no entry: it takes the next denser 3.5" family (13 SPT, 250 kbit/s).
    auto odd = boot_sector({.spt = 12, .heads = 2, .total16 = 1920});
    c = must_choose(1920 * 512, k144, odd);
    EXPECT_TRUE(same_chs(c.geometry, {80, 2, 12}));
    EXPECT_EQ(c.geometry.rate, DataRate::k250);
    // An off-table 40-cylinder 3.5" layout is fine; a 1.2M BPB is 5.25" media, refused.
    auto short35 = boot_sector({.spt = 18, .heads = 2, .total16 = 1440});
    c = must_choose(1474560, k144, short35);
    EXPECT_TRUE(same_chs(c.geometry, {40, 2, 18}));
    EXPECT_EQ(c.geometry.native_drive, k144);
    auto hd525 = boot_sector({.spt = 15, .heads = 2, .total16 = 2400});
    refusal(1474560, k144, hd525);
    EXPECT_EQ(must_choose(1474560, Auto, hd525).drive, k120);
    // Heads beyond the limit of the 360K drive's end stop: refused there.
    auto deep = boot_sector({.spt = 9, .heads = 2, .total16 = 9 * 2 * 45});
    refusal(368640 * 2, k360, deep);
}

TEST(ChooseFormat, InvalidBpbsAreIgnored) {
    const uint64_t size = 368640;
    const Bpb bad[] = {
        {.spt = 9, .heads = 1, .total16 = 720, .bytes_per_sector = 1024},
        {.spt = 7, .heads = 1, .total16 = 720},
        {.spt = 49, .heads = 1, .total16 = 720},
        {.spt = 9, .heads = 3, .total16 = 720},
        {.spt = 9, .heads = 1, .total16 = 721},  // larger than the image
        {.spt = 9, .heads = 1, .total16 = 0, .total32 = 0},
    };
    FormatChoice c;
    for (const Bpb &b : bad) {
        auto s = boot_sector(b);
        c = must_choose(size, Auto, s);
        EXPECT_FALSE(c.from_bpb);
        EXPECT_TRUE(same_chs(c.geometry, {40, 2, 9}));
    }
    // GRUB's rescue floppy fills the BPB with 0x90.
    std::array<uint8_t, 512> grub;
    grub.fill(0x90);
    EXPECT_FALSE(must_choose(size, Auto, grub).from_bpb);
    // A truncated boot sector has no BPB to read.
    auto s = boot_sector({.spt = 9, .heads = 1, .total16 = 720});
    EXPECT_FALSE(must_choose(size, Auto, std::span(s).first(0x20)).from_bpb);
    // More cylinders than any drive reaches (8x1 per cylinder, 360 cylinders): not a floppy
    // BPB, so the size decides.
    auto tall = boot_sector({.spt = 8, .heads = 1, .total16 = 2880});
    c = must_choose(1474560, Auto, tall);
    EXPECT_FALSE(c.from_bpb);
    EXPECT_TRUE(same_chs(c.geometry, {80, 2, 18}));
}

TEST(ChooseFormat, GrubRescueSizeTakesTheSmallestFormatThatHoldsIt) {
    const uint64_t grub = 1296384;  // 2532 sectors, in no table entry
    FormatChoice c = must_choose(grub, Auto);
    EXPECT_TRUE(same_chs(c.geometry, {80, 2, 18}));
    EXPECT_EQ(c.drive, k144);
    EXPECT_TRUE(c.size_mismatch);
    EXPECT_FALSE(c.from_bpb);
    for (DriveType d : {k144, k288, k120}) {
        c = must_choose(grub, d);
        EXPECT_EQ(c.geometry.total_sectors(), 2880u) << drive_type_name(d);
        EXPECT_EQ(c.drive, d);
        EXPECT_TRUE(c.size_mismatch);
    }
    // A drive whose formats are all smaller refuses it.
    std::string why = refusal(grub, k360);
    EXPECT_NE(why.find("larger than any format"), std::string::npos) << why;
    EXPECT_NE(why.find("420K"), std::string::npos) << why;
    refusal(grub, k720);
}

TEST(ChooseFormat, OtherOffTableSizes) {
    // One sector more than 1.44M: the next 3.5" HD format.
    FormatChoice c = must_choose(1474560 + 512, k144);
    EXPECT_EQ(c.geometry.sectors, 20);
    EXPECT_TRUE(c.size_mismatch);
    // A single sector: the smallest format of all.
    c = must_choose(512, Auto);
    EXPECT_TRUE(same_chs(c.geometry, {40, 1, 8}));
    EXPECT_EQ(must_choose(512, k144).geometry.total_sectors(), 720u);
}

TEST(ChooseFormat, ZeroOddAndHugeSizesAreRefusedWithReasons) {
    EXPECT_NE(refusal(0, Auto).find("empty"), std::string::npos);
    std::string odd = refusal(1474561, Auto);
    EXPECT_NE(odd.find("1474561"), std::string::npos) << odd;
    EXPECT_NE(odd.find("512"), std::string::npos) << odd;
    std::string huge = refusal(uint64_t(1) << 40, Auto);
    EXPECT_NE(huge.find("larger than any format"), std::string::npos) << huge;
    EXPECT_NE(huge.find("3.84M"), std::string::npos) << huge;
    refusal(3932160 + 512, Auto);                  // one sector past the largest format
    refusal(~uint64_t(0) & ~uint64_t(511), k144);  // no overflow anywhere
    EXPECT_NE(refusal(1474560, None).find("none"), std::string::npos);
}

TEST(ChooseFormat, MediaTheDriveCannotReadAreRefused) {
    std::string why = refusal(2949120, k144);  // 2.88M in a 1.44M drive
    EXPECT_NE(why.find("2.88M"), std::string::npos) << why;
    EXPECT_NE(why.find("drive-type=288"), std::string::npos) << why;
    why = refusal(1228800, k144);  // 1.2M in a 3.5" drive
    EXPECT_NE(why.find("1.2M"), std::string::npos) << why;
    EXPECT_NE(why.find("drive-type=120"), std::string::npos) << why;
    refusal(1228800, k288);
    refusal(1228800, k720);
    refusal(1474560, k720);
    refusal(1228800, k360);
    refusal(737280, k360);  // 80 tracks in a 40-track drive
    refusal(2949120, k120);
}

}  // namespace
}  // namespace fdplug::floppy
