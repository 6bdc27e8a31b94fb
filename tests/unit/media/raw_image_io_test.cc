// RawImage sector I/O: pread/pwrite at the LBA offset, short files, no growth, read-only.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>

#include "hw/block/media/raw_image.h"
#include "temp_dir.h"

namespace fdplug::floppy {
namespace {

using test::TempDir;
using Sector = std::array<uint8_t, DiskImage::kSectorSize>;

constexpr uint64_t k144Bytes = 1474560;
constexpr uint64_t kGrubRescueBytes = 1296384;  // 2532 sectors (grub-rescue-pc)

uint64_t lba_offset(unsigned c, unsigned h, unsigned r) {
    return ((c * 2 + h) * 18 + r - 1) * 512;
}

class RawImageIo : public ::testing::Test {
  protected:
    TempDir dir;
    std::string path = dir.file("disk.img");
    std::unique_ptr<RawImage> open(bool read_only = false) {
        auto r = RawImage::open({.path = path, .read_only = read_only});
        if (!r) {
            ADD_FAILURE() << r.error().message();
            return nullptr;
        }
        return std::move(*r);
    }
};

TEST_F(RawImageIo, EverySectorReadsTheFileBytesAtItsLba) {
    auto bytes = test::pattern(k144Bytes);
    test::write_file(path, bytes);
    auto img = open(true);
    ASSERT_TRUE(img);
    Sector s;
    for (unsigned c = 0; c < 80; ++c)
        for (unsigned h = 0; h < 2; ++h)
            for (unsigned r = 1; r <= 18; ++r) {
                ASSERT_EQ(img->read_sector(c, h, r, s), MediaStatus::Ok);
                ASSERT_TRUE(std::equal(s.begin(), s.end(), bytes.begin() + lba_offset(c, h, r)))
                    << c << "/" << h << "/" << r;
            }
}

TEST_F(RawImageIo, WriteRoundTripLandsAtTheLbaOffset) {
    auto bytes = test::pattern(k144Bytes);
    test::write_file(path, bytes);
    Sector s;
    for (size_t i = 0; i < s.size(); ++i) s[i] = uint8_t(0xFF - i);
    {
        auto img = open();
        ASSERT_TRUE(img);
        ASSERT_EQ(img->write_sector(41, 1, 7, s), MediaStatus::Ok);
        Sector back;
        ASSERT_EQ(img->read_sector(41, 1, 7, back), MediaStatus::Ok);
        EXPECT_EQ(back, s);
        // Write-through: the file has the bytes before any flush.
        auto now = test::read_file(path);
        EXPECT_TRUE(std::equal(s.begin(), s.end(), now.begin() + lba_offset(41, 1, 7)));
        const Status flushed = img->flush();
        EXPECT_TRUE(flushed) << flushed.error().message();
    }
    auto after = test::read_file(path);
    ASSERT_EQ(after.size(), k144Bytes);
    std::copy(s.begin(), s.end(), bytes.begin() + lba_offset(41, 1, 7));
    EXPECT_EQ(after, bytes);  // that sector changed, nothing else did
}

TEST_F(RawImageIo, OutOfRangeSectors) {
    test::write_file(path, std::vector<uint8_t>(k144Bytes));
    auto img = open();
    ASSERT_TRUE(img);
    Sector s{};
    EXPECT_EQ(img->read_sector(80, 0, 1, s), MediaStatus::OutOfRange);
    EXPECT_EQ(img->read_sector(0, 2, 1, s), MediaStatus::OutOfRange);
    EXPECT_EQ(img->read_sector(0, 0, 0, s), MediaStatus::OutOfRange);
    EXPECT_EQ(img->write_sector(0, 0, 19, s), MediaStatus::OutOfRange);
    EXPECT_EQ(test::file_size(path), k144Bytes);
}

TEST_F(RawImageIo, ShortFileReadsZerosAndNeverGrows) {
    auto bytes = test::pattern(kGrubRescueBytes, 7);
    test::write_file(path, bytes);
    auto img = open();
    ASSERT_TRUE(img);
    EXPECT_TRUE(img->format().size_mismatch);
    EXPECT_EQ(img->geometry().total_sectors(), 2880u);
    // LBA 2531 is the file's last sector; 2532 is the first past its end.
    auto chs = [](unsigned lba) {
        return std::array<unsigned, 3>{lba / 36, (lba / 18) % 2, lba % 18 + 1};
    };
    auto [lc, lh, lr] = chs(2531);
    auto [pc, ph, pr] = chs(2532);
    Sector s;
    ASSERT_EQ(img->read_sector(lc, lh, lr, s), MediaStatus::Ok);
    EXPECT_TRUE(std::equal(s.begin(), s.end(), bytes.end() - 512));
    ASSERT_EQ(img->read_sector(pc, ph, pr, s), MediaStatus::Ok);
    EXPECT_EQ(s, Sector{});
    ASSERT_EQ(img->read_sector(79, 1, 18, s), MediaStatus::Ok);
    EXPECT_EQ(s, Sector{});

    s.fill(0x42);
    EXPECT_EQ(img->write_sector(pc, ph, pr, s), MediaStatus::IoError);
    EXPECT_NE(img->last_error().find(path), std::string::npos) << img->last_error();
    EXPECT_EQ(img->write_sector(79, 1, 18, s), MediaStatus::IoError);
    EXPECT_EQ(test::file_size(path), kGrubRescueBytes);
    EXPECT_EQ(img->write_sector(lc, lh, lr, s), MediaStatus::Ok);
    EXPECT_EQ(test::file_size(path), kGrubRescueBytes);
}

TEST_F(RawImageIo, FileCutAfterOpenIsNotRegrown) {
    test::write_file(path, test::pattern(k144Bytes));
    auto img = open();
    ASSERT_TRUE(img);
    ASSERT_EQ(::truncate(path.c_str(), 512 * 36), 0);  // one cylinder left
    Sector s;
    s.fill(9);
    EXPECT_EQ(img->write_sector(1, 0, 1, s), MediaStatus::IoError);
    EXPECT_EQ(test::file_size(path), 512u * 36);
    ASSERT_EQ(img->read_sector(1, 0, 1, s), MediaStatus::Ok);
    EXPECT_EQ(s, Sector{});
    EXPECT_EQ(img->write_sector(0, 1, 18, s), MediaStatus::Ok);
}

TEST_F(RawImageIo, ReadOnlyNeverModifiesTheFile) {
    test::write_file(path, test::pattern(k144Bytes, 3));
    struct stat before_st;
    ASSERT_EQ(::stat(path.c_str(), &before_st), 0);
    const uint64_t before = test::checksum(test::read_file(path));
    {
        auto img = open(true);
        ASSERT_TRUE(img);
        EXPECT_TRUE(img->read_only());
        Sector s;
        s.fill(0xEE);
        for (unsigned c = 0; c < 80; c += 7)
            EXPECT_EQ(img->write_sector(c, 1, 3, s), MediaStatus::ReadOnly);
        EXPECT_EQ(img->write_sector(200, 0, 1, s), MediaStatus::ReadOnly);
        EXPECT_EQ(img->read_sector(5, 0, 5, s), MediaStatus::Ok);
        const Status flushed = img->flush();
        EXPECT_TRUE(flushed) << flushed.error().message();
    }
    struct stat after_st;
    ASSERT_EQ(::stat(path.c_str(), &after_st), 0);
    EXPECT_EQ(test::checksum(test::read_file(path)), before);
    EXPECT_EQ(after_st.st_size, before_st.st_size);
    EXPECT_EQ(after_st.st_mtim.tv_sec, before_st.st_mtim.tv_sec);
    EXPECT_EQ(after_st.st_mtim.tv_nsec, before_st.st_mtim.tv_nsec);
}

TEST_F(RawImageIo, BootSectorBpbDecidesTheGeometry) {
    std::vector<uint8_t> bytes(368640);
    bytes[0x0B] = 0x00, bytes[0x0C] = 0x02;
    bytes[0x13] = 0xD0, bytes[0x14] = 0x02;  // 720 sectors
    bytes[0x18] = 9;
    bytes[0x1A] = 1;  // single-sided: 80x1x9, not 40x2x9
    test::write_file(path, bytes);
    auto img = open();
    ASSERT_TRUE(img);
    EXPECT_TRUE(img->format().from_bpb);
    EXPECT_EQ(img->geometry().cylinders, 80);
    EXPECT_EQ(img->geometry().heads, 1);
}

TEST_F(RawImageIo, FlushSucceedsOnAWritableImage) {
    test::write_file(path, std::vector<uint8_t>(k144Bytes));
    auto img = open();
    ASSERT_TRUE(img);
    EXPECT_TRUE(img->flush());
    EXPECT_EQ(img->last_error(), "");
}

}  // namespace
}  // namespace fdplug::floppy
