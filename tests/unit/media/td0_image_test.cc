// TD0 files as media (td0_image.h, open_medium.h): detected by content next to IMD, opened
// read-only or as a snapshot, refused read-write with the ways out, read through the sector
// interface, and a file that only starts with "TD" left to the raw image rules.
#include "hw/block/media/td0_image.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "hw/block/media/floppy_formats.h"
#include "hw/block/media/open_medium.h"
#include "temp_dir.h"
#include "tests/support/expected_text.h"
#include "tests/support/td0_bytes.h"

namespace fdplug::floppy {
namespace {

using test::error_text;
using test::TempDir;

// A 1.44M disk whose sector (c, h, r) holds pattern(512, seed(c, h, r)).
uint32_t seed(unsigned c, unsigned h, unsigned r) {
    return c * 1000 + h * 100 + r;
}
test::Td0Spec disk144(bool advanced) {
    test::Td0Spec spec{.advanced = advanced, .data_rate = 2, .drive_type = 4};
    spec.comment = std::string("a 1.44M test disk\0", 18);
    for (uint8_t c = 0; c < 80; ++c)
        for (uint8_t h = 0; h < 2; ++h)
            spec.tracks.push_back(test::td0_standard_track(
                c, h, 18, 2, [&](uint8_t r) { return test::pattern(512, seed(c, h, r)); }));
    return spec;
}

MediumRequest request(const std::string &file, const std::string &format = "",
                      bool read_only = false, bool snapshot = false) {
    MediumRequest r;
    r.file = file;
    r.format = format;
    r.read_only = read_only;
    r.transient = snapshot;
    return r;
}

class Td0Image : public ::testing::Test {
  protected:
    TempDir dir;
    std::string write(const std::string &name, const std::vector<uint8_t> &bytes) {
        const std::string path = dir.file(name);
        test::write_file(path, bytes);
        return path;
    }
};

TEST_F(Td0Image, DetectedByContentAndReadThroughTheSectorInterface) {
    for (bool advanced : {false, true}) {
        const std::string path =
            write(advanced ? "adv.td0" : "normal.dsk", test::td0_file(disk144(advanced)));
        EXPECT_TRUE(is_td0_file(path));
        auto opened = open_medium(request(path, "", true));
        ASSERT_TRUE(opened) << error_text(opened);
        EXPECT_EQ(opened->format, "td0");
        EXPECT_TRUE(opened->read_only);
        EXPECT_EQ(opened->wants, DriveType::k144);
        DiskImage &image = *opened->image;
        EXPECT_EQ(image.geometry(), format_by_name("1.44M")->geometry);
        EXPECT_TRUE(image.uniform());
        std::array<uint8_t, 512> buf;
        for (unsigned c : {0u, 41u, 79u})
            for (unsigned r : {1u, 18u}) {
                ASSERT_EQ(image.read_sector(c, 1, r, buf), MediaStatus::Ok);
                const auto want = test::pattern(512, seed(c, 1, r));
                EXPECT_TRUE(std::equal(want.begin(), want.end(), buf.begin())) << c << " " << r;
            }
        EXPECT_EQ(image.write_sector(0, 0, 1, buf), MediaStatus::ReadOnly);
        auto &td0 = dynamic_cast<floppy::Td0Image &>(image);
        ASSERT_TRUE(td0.comment());
        EXPECT_EQ(td0_comment_text(*td0.comment()), "a 1.44M test disk");
        EXPECT_EQ(td0.header().advanced, advanced);
    }
}

TEST_F(Td0Image, ReadWriteIsRefusedWithTheWaysOut) {
    const std::string path = write("disk.td0", test::td0_file(disk144(true)));
    for (const std::string format : {"", "td0"}) {
        auto opened = open_medium(request(path, format));
        ASSERT_FALSE(opened);
        EXPECT_EQ(opened.error().kind(), ErrorKind::ReadOnly);
        const std::string &m = opened.error().message();
        EXPECT_NE(m.find("can only be opened read-only"), std::string::npos) << m;
        EXPECT_NE(m.find("transient"), std::string::npos) << m;
        EXPECT_NE(m.find("fdplug-img convert -O imd"), std::string::npos) << m;
    }
}

TEST_F(Td0Image, SnapshotKeepsWritesInMemoryOnly) {
    const auto bytes = test::td0_file(disk144(false));
    const std::string path = write("disk.td0", bytes);
    auto opened = open_medium(request(path, "", false, true));
    ASSERT_TRUE(opened) << error_text(opened);
    EXPECT_FALSE(opened->read_only);
    std::array<uint8_t, 512> buf;
    buf.fill(0x42);
    ASSERT_EQ(opened->image->write_sector(3, 1, 7, buf), MediaStatus::Ok);
    buf.fill(0);
    ASSERT_EQ(opened->image->read_sector(3, 1, 7, buf), MediaStatus::Ok);
    EXPECT_EQ(buf[511], 0x42);
    EXPECT_TRUE(opened->image->flush());
    opened->image.reset();
    EXPECT_EQ(test::read_file(path), bytes);
}

TEST_F(Td0Image, CorruptFilesAreRefusedWithPathAndOffset) {
    auto bytes = test::td0_file(disk144(false));
    bytes.resize(bytes.size() / 2);
    const std::string cut = write("cut.td0", bytes);
    auto opened = open_medium(request(cut, "", true));
    ASSERT_FALSE(opened);
    EXPECT_EQ(opened.error().kind(), ErrorKind::Corrupt);
    EXPECT_EQ(opened.error().message().rfind(
                  "Teledisk image '" + cut + "' is corrupt or truncated: at byte ", 0),
              0u)
        << opened.error().message();
}

TEST_F(Td0Image, OnlyAHeaderWithItsCrcIsTakenForTd0) {
    // A raw 1.44M image whose first bytes happen to be "TD": no matching CRC, so raw.
    std::vector<uint8_t> raw(1474560, 0);
    raw[0] = 'T';
    raw[1] = 'D';
    const std::string path = write("raw.img", raw);
    EXPECT_FALSE(is_td0_file(path));
    auto opened = open_medium(request(path, "", true));
    ASSERT_TRUE(opened) << error_text(opened);
    EXPECT_EQ(opened->format, "raw");
    // format=td0 insists, and says why it is not one.
    opened = open_medium(request(path, "td0", true));
    ASSERT_FALSE(opened);
    EXPECT_NE(opened.error().message().find("at byte 10: the header's CRC is"), std::string::npos)
        << opened.error().message();
    EXPECT_TRUE(check_image_format("td0"));
    EXPECT_NE(error_text(check_image_format("td1")).find("format=td0"), std::string::npos);
}

}  // namespace
}  // namespace fdplug::floppy
