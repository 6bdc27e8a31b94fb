// The format table and the per-drive-type facts (docs/hardware/media.md §1, §4, §5).
#include "hw/block/media/floppy_formats.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace fdplug::floppy {
namespace {

using enum DriveType;

const Geometry &fmt(const char *name) {
    const FloppyFormat *f = format_by_name(name);
    EXPECT_NE(f, nullptr) << name;
    static const Geometry none{};
    return f ? f->geometry : none;
}

TEST(FloppyFormats, QemuOrderAndCount) {
    auto t = floppy_formats();
    ASSERT_EQ(t.size(), 33u);
    // Spot checks of QEMU 7.2's fd_formats order: SPT, cylinders, heads per index.
    struct Row {
        size_t i;
        uint8_t s, c, h;
        DriveType d;
    };
    for (Row r : {Row{0, 18, 80, 2, k144}, Row{7, 24, 80, 2, k144}, Row{8, 36, 80, 2, k288},
                  Row{12, 48, 80, 2, k288}, Row{13, 9, 80, 2, k144}, Row{18, 14, 80, 2, k144},
                  Row{19, 15, 80, 2, k120}, Row{24, 9, 80, 2, k120}, Row{26, 9, 40, 2, k120},
                  Row{27, 9, 40, 1, k120}, Row{31, 8, 40, 1, k120}, Row{32, 9, 80, 1, k144}}) {
        SCOPED_TRACE(r.i);
        EXPECT_EQ(t[r.i].geometry.sectors, r.s);
        EXPECT_EQ(t[r.i].geometry.cylinders, r.c);
        EXPECT_EQ(t[r.i].geometry.heads, r.h);
        EXPECT_EQ(t[r.i].drive, r.d);
    }
}

TEST(FloppyFormats, NamesAreUniqueAndFindable) {
    std::set<std::string> names;
    for (const auto &f : floppy_formats()) {
        EXPECT_TRUE(names.insert(f.name).second) << f.name;
        EXPECT_EQ(format_by_name(f.name), &f);
        EXPECT_EQ(format_of(f.geometry), &f) << f.name;
    }
    EXPECT_EQ(format_by_name("1.45M"), nullptr);
}

TEST(FloppyFormats, StandardMediaOfSectionOne) {
    struct Row {
        const char *name;
        uint32_t bytes;
        DataRate rate;
        uint16_t rpm;
        DriveType native;
    };
    for (Row r : {Row{"160K", 163840, DataRate::k250, 300, k360},
                  Row{"180K", 184320, DataRate::k250, 300, k360},
                  Row{"320K", 327680, DataRate::k250, 300, k360},
                  Row{"360K", 368640, DataRate::k250, 300, k360},
                  Row{"720K", 737280, DataRate::k250, 300, k720},
                  Row{"1.2M", 1228800, DataRate::k500, 360, k120},
                  Row{"1.44M", 1474560, DataRate::k500, 300, k144},
                  Row{"2.88M", 2949120, DataRate::k1000, 300, k288},
                  Row{"1.68M-DMF", 1720320, DataRate::k500, 300, k144},
                  Row{"1.72M", 1763328, DataRate::k500, 300, k144},
                  Row{"1.84M-XDF", 1884160, DataRate::k500, 300, k144}}) {
        SCOPED_TRACE(r.name);
        const Geometry &g = fmt(r.name);
        EXPECT_EQ(g.size_bytes(), r.bytes);
        EXPECT_EQ(g.rate, r.rate);
        EXPECT_EQ(g.rpm, r.rpm);
        EXPECT_EQ(g.native_drive, r.native);
        EXPECT_EQ(g.perpendicular, r.native == k288);
    }
}

TEST(FloppyFormats, EveryEntryIsReadableByTheDriveItIsListedUnder) {
    for (const auto &f : floppy_formats()) {
        EXPECT_TRUE(drive_accepts(f.drive, f.geometry)) << f.name;
        EXPECT_TRUE(drive_accepts(Auto, f.geometry)) << f.name;
        EXPECT_EQ(f.geometry.perpendicular, f.geometry.rate == DataRate::k1000) << f.name;
    }
}

TEST(FloppyFormats, DriveTypeNamesRoundTrip) {
    for (DriveType t : {None, Auto, k120, k144, k288, k360, k720})
        EXPECT_EQ(parse_drive_type(drive_type_name(t)), t) << drive_type_name(t);
    EXPECT_EQ(std::string(drive_type_name(k144)), "144");
    EXPECT_EQ(std::string(drive_type_name(Auto)), "auto");
    EXPECT_FALSE(parse_drive_type("1.44"));
    EXPECT_FALSE(parse_drive_type(""));
    EXPECT_FALSE(parse_drive_type("AUTO"));
    EXPECT_STREQ(drive_type_name(DriveType(200)),
                 "none");  // junk reads as none, not past the table
}

TEST(FloppyFormats, CmosCodes) {
    EXPECT_EQ(cmos_drive_code(None), 0);
    EXPECT_EQ(cmos_drive_code(k360), 1);
    EXPECT_EQ(cmos_drive_code(k120), 2);
    EXPECT_EQ(cmos_drive_code(k720), 3);
    EXPECT_EQ(cmos_drive_code(k144), 4);
    EXPECT_EQ(cmos_drive_code(k288), 5);
    EXPECT_EQ(cmos_drive_code(Auto), cmos_drive_code(kFallbackDriveType));  // QEMU: 0x50
}

TEST(FloppyFormats, MechanicsPerDriveType) {
    EXPECT_EQ(max_cylinder(k144), 83);
    EXPECT_EQ(max_cylinder(k288), 83);
    EXPECT_EQ(max_cylinder(k720), 83);
    EXPECT_EQ(max_cylinder(k120), 83);
    EXPECT_EQ(max_cylinder(k360), 41);
    EXPECT_EQ(drive_rpm(k120), 360);
    for (DriveType t : {k144, k288, k360, k720}) EXPECT_EQ(drive_rpm(t), 300);
    EXPECT_EQ(form_factor(k120), FormFactor::Inch525);
    EXPECT_EQ(form_factor(k360), FormFactor::Inch525);
    for (DriveType t : {k144, k288, k720}) EXPECT_EQ(form_factor(t), FormFactor::Inch35);
    EXPECT_EQ(data_rate_kbps(DataRate::k250), 250u);
    EXPECT_EQ(data_rate_kbps(DataRate::k300), 300u);
    EXPECT_EQ(data_rate_kbps(DataRate::k500), 500u);
    EXPECT_EQ(data_rate_kbps(DataRate::k1000), 1000u);
}

TEST(DriveAccepts, RefusalsOfSectionFour) {
    EXPECT_FALSE(drive_accepts(k144, fmt("2.88M")));  // ED media in an HD drive
    EXPECT_FALSE(drive_accepts(k144, fmt("1.2M")));   // 5.25" media in a 3.5" drive
    EXPECT_FALSE(drive_accepts(k288, fmt("1.2M")));
    EXPECT_FALSE(drive_accepts(k120, fmt("1.44M")));  // 3.5" media in a 5.25" drive
    EXPECT_FALSE(drive_accepts(k120, fmt("720K")));
    EXPECT_FALSE(drive_accepts(k360, fmt("1.2M")));       // HD media in a DD drive
    EXPECT_FALSE(drive_accepts(k360, fmt("720K-5.25")));  // 80 tracks in a 40-track drive
    EXPECT_FALSE(drive_accepts(k720, fmt("1.44M")));
    EXPECT_FALSE(drive_accepts(k720, fmt("2.88M")));
    EXPECT_FALSE(drive_accepts(k144, fmt("360K")));
    for (const auto &f : floppy_formats()) EXPECT_FALSE(drive_accepts(None, f.geometry));
}

TEST(DriveAccepts, WhatEachDriveReads) {
    for (const char *n : {"720K", "1.44M", "1.68M-DMF", "1.72M", "1.84M-XDF", "360K-3.5"})
        EXPECT_TRUE(drive_accepts(k144, fmt(n))) << n;
    for (const char *n : {"720K", "1.44M", "2.88M", "3.84M"})
        EXPECT_TRUE(drive_accepts(k288, fmt(n))) << n;
    for (const char *n : {"1.2M", "360K", "160K", "420K", "720K-5.25"})
        EXPECT_TRUE(drive_accepts(k120, fmt(n))) << n;
    for (const char *n : {"160K", "180K", "320K", "360K", "410K", "420K"})
        EXPECT_TRUE(drive_accepts(k360, fmt(n))) << n;
    EXPECT_TRUE(drive_accepts(k720, fmt("720K")));
}

TEST(DriveAccepts, EndStopsAndNonsense) {
    Geometry g = fmt("1.74M");  // 83 cylinders: the furthest a 3.5" head goes
    EXPECT_TRUE(drive_accepts(k144, g));
    g.cylinders = 85;
    EXPECT_FALSE(drive_accepts(k144, g));
    Geometry dd = fmt("420K");  // 42 cylinders: the 360K drive's limit
    EXPECT_TRUE(drive_accepts(k360, dd));
    dd.cylinders = 43;
    EXPECT_FALSE(drive_accepts(k360, dd));
    Geometry bad = fmt("1.44M");
    bad.heads = 3;
    EXPECT_FALSE(drive_accepts(k144, bad));
    bad.heads = 0;
    EXPECT_FALSE(drive_accepts(Auto, bad));
    Geometry nowhere = fmt("1.44M");
    nowhere.native_drive = Auto;
    EXPECT_FALSE(drive_accepts(Auto, nowhere));
}

TEST(GeometryInDrive, DoubleDensityFiveInchRateFollowsTheSpindle) {
    auto in120 = geometry_in_drive(fmt("360K"), k120);
    ASSERT_TRUE(in120);
    EXPECT_EQ(in120->rate, DataRate::k300);  // QEMU's rate for 360K in a 1.2M drive
    EXPECT_EQ(in120->rpm, 360);
    auto in360 = geometry_in_drive(fmt("360K"), k360);
    ASSERT_TRUE(in360);
    EXPECT_EQ(in360->rate, DataRate::k250);
    EXPECT_EQ(in360->rpm, 300);
    EXPECT_EQ(geometry_in_drive(fmt("1.2M"), k120)->rate, DataRate::k500);
    EXPECT_EQ(geometry_in_drive(fmt("720K"), k288)->rate, DataRate::k250);
    EXPECT_EQ(geometry_in_drive(fmt("1.44M"), Auto), fmt("1.44M"));
    EXPECT_FALSE(geometry_in_drive(fmt("2.88M"), k144));
}

}  // namespace
}  // namespace fdplug::floppy
