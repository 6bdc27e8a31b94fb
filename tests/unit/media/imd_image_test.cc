// ImdImage as a medium: opened with format=imd or by its content through open_medium(), the
// geometry its tracks give, the sector interface, writes saved on flush (and only then), the
// comment kept, round trips raw -> IMD -> raw and IMD -> write -> flush -> reopen, read-only and
// snapshot media, locks, a failing flush, and corrupt files refused with their offset.
#include "hw/block/media/imd_image.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>

#include "hw/block/media/floppy_formats.h"
#include "hw/block/media/imd_format.h"
#include "hw/block/media/media_fingerprint.h"
#include "hw/block/media/memory_image.h"
#include "hw/block/media/open_medium.h"
#include "hw/block/media/track_convert.h"
#include "hw/block/media/track_geometry.h"
#include "hw/block/media/uniform_tracks.h"
#include "temp_dir.h"
#include "tests/support/expected_text.h"
#include "tests/support/imd_bytes.h"

namespace fdplug::floppy {
namespace {

using test::error_text;

using Sector = std::array<uint8_t, DiskImage::kSectorSize>;
using test::imd_data_record;
using test::imd_file;
using test::imd_fill_record;
using test::ImdTrackSpec;
using test::standard_imd_track;
using test::TempDir;

// A whole disk of standard tracks, as the tests' own writer makes it.
std::vector<uint8_t> standard_disk(unsigned cylinders, unsigned heads, unsigned spt, uint8_t mode) {
    std::vector<ImdTrackSpec> tracks;
    for (unsigned c = 0; c < cylinders; ++c)
        for (unsigned h = 0; h < heads; ++h)
            tracks.push_back(standard_imd_track(uint8_t(c), uint8_t(h), spt, 2, mode));
    return imd_file(tracks);
}

// The IMD file of a raw image's disk (what a conversion writes).
std::vector<uint8_t> imd_of_raw(DiskImage &raw, const std::string &comment) {
    auto disk = read_tracks(raw);
    EXPECT_EQ(error_text(disk), "");
    if (!disk) return {};
    auto out = write_imd(imd_header("01/01/2024 00:00:00", comment), *disk);
    EXPECT_EQ(error_text(out), "");
    return out ? *out : std::vector<uint8_t>{};
}

class ImdImageTest : public ::testing::Test {
  protected:
    TempDir dir;

    std::string file(const std::string &name, const std::vector<uint8_t> &bytes) {
        const std::string p = dir.file(name);
        test::write_file(p, bytes);
        return p;
    }
    // What open_medium() gave, and when it failed, the error's kind and message.
    struct Opened : OpenedMedium {
        std::optional<ErrorKind> kind;
        std::string error;
    };
    static Opened result(Expected<OpenedMedium> r) {
        Opened out;
        if (r)
            static_cast<OpenedMedium &>(out) = std::move(*r);
        else
            out.kind = r.error().kind(), out.error = r.error().message();
        return out;
    }
    static Opened open(const std::string &path, const std::string &format = "",
                       bool read_only = false, DriveType drive = DriveType::Auto,
                       bool snapshot = false) {
        MediumRequest r;
        r.file = path;
        r.format = format;
        r.read_only = read_only;
        r.drive = drive;
        r.transient = snapshot;
        return result(open_medium(r));
    }
    static ImdImage &imd(OpenedMedium &m) { return dynamic_cast<ImdImage &>(*m.image); }
};

TEST_F(ImdImageTest, DetectedByContentWhateverItsNameAndOpenedWithFormatImd) {
    const std::string p = file("disk.img", standard_disk(40, 2, 9, 4));  // 300 kbit/s MFM
    Opened m = open(p);
    ASSERT_TRUE(m.image) << m.error;
    ASSERT_NE(dynamic_cast<ImdImage *>(m.image.get()), nullptr);
    EXPECT_EQ(m.file, p);
    // As for a raw 360K image: an auto drive becomes the type the table lists it under.
    EXPECT_EQ(m.wants, DriveType::k120);
    EXPECT_EQ(m.image->geometry(),
              *geometry_in_drive(format_by_name("360K")->geometry, DriveType::k120));
    EXPECT_NE(m.image->tracks(), nullptr);
    m.image.reset();

    Opened named = open(p, "imd", false, DriveType::k360);
    ASSERT_TRUE(named.image) << named.error;
    EXPECT_EQ(named.image->geometry(), format_by_name("360K")->geometry);  // 250 kbit/s
}

TEST_F(ImdImageTest, FormatRawStillTakesTheFileAsRaw) {
    const std::string p = file("disk.imd", standard_disk(40, 2, 9, 4));
    Opened m = open(p, "raw");
    EXPECT_FALSE(m.image);
    EXPECT_EQ(m.kind, ErrorKind::UnknownSize) << m.error;
    Opened other = open(p, "qcow2");
    EXPECT_FALSE(other.image);
    EXPECT_NE(other.error.find("format=imd"), std::string::npos) << other.error;
}

TEST_F(ImdImageTest, TheSectorInterfaceReadsByIdAndReportsMarksAndCrcErrors) {
    ImdTrackSpec t = standard_imd_track(0, 0, 9);
    t.r_map = {1, 6, 2, 7, 3, 8, 4, 9, 5};       // interleaved: the IDs still find their data
    t.records[2] = imd_data_record(5, 512, 77);  // R=2: data error
    t.records[4] = {0};                          // R=3: no data
    t.records[6] = imd_fill_record(4, 0x5A);     // R=4: deleted, compressed
    std::vector<ImdTrackSpec> tracks{t};
    for (uint8_t c = 1; c < 40; ++c) tracks.push_back(standard_imd_track(c, 0, 9));
    Opened m = open(file("odd.imd", imd_file(tracks)), "", false, DriveType::k360);
    ASSERT_TRUE(m.image) << m.error;
    ImdImage &image = imd(m);
    Sector s;
    ASSERT_EQ(image.read_sector(0, 0, 6, s), MediaStatus::Ok);
    const auto want = imd_data_record(1, 512, 2);  // the record in place 1 (R=6)
    EXPECT_TRUE(std::equal(s.begin(), s.end(), want.begin() + 1));
    EXPECT_EQ(image.read_sector(0, 0, 2, s), MediaStatus::IoError);
    EXPECT_NE(image.last_error().find("data CRC error"), std::string::npos);
    EXPECT_EQ(image.read_sector(0, 0, 3, s), MediaStatus::IoError);
    EXPECT_NE(image.last_error().find("no data field"), std::string::npos);
    ASSERT_EQ(image.read_sector(0, 0, 4, s), MediaStatus::Ok);
    Sector filled;
    filled.fill(0x5A);
    EXPECT_EQ(s, filled);
    EXPECT_EQ(image.read_sector(0, 0, 10, s), MediaStatus::OutOfRange);
    EXPECT_EQ(image.read_sector(0, 1, 1, s), MediaStatus::OutOfRange);
    EXPECT_FALSE(sector_image_losses(image.disk()).empty());
}

TEST_F(ImdImageTest, WritesReachTheFileOnlyAtFlushAndKeepTheComment) {
    const std::string p = file("w.imd", standard_disk(80, 2, 18, 3));
    const auto original = test::read_file(p);
    Opened m = open(p);
    ASSERT_TRUE(m.image) << m.error;
    EXPECT_EQ(m.image->geometry(), format_by_name("1.44M")->geometry);
    ImdImage &image = imd(m);
    EXPECT_EQ(image.comment(), "A test disk\r\n");
    ASSERT_EQ(error_text(image.flush()), "");  // nothing written: the file is untouched
    EXPECT_EQ(test::read_file(p), original);

    Sector s;
    s.fill(0x00);
    s[0] = 1;
    ASSERT_EQ(image.write_sector(79, 1, 18, s), MediaStatus::Ok);
    Sector fill;
    fill.fill(0xE5);
    ASSERT_EQ(image.write_sector(0, 0, 1, fill), MediaStatus::Ok);
    EXPECT_EQ(test::read_file(p), original);  // not yet
    ASSERT_EQ(error_text(image.flush()), "");
    const auto saved = test::read_file(p);
    EXPECT_LT(saved.size(), original.size());  // the 0xE5 sector is compressed now
    m.image.reset();

    Opened again = open(p);
    ASSERT_TRUE(again.image) << again.error;
    EXPECT_EQ(imd(again).comment(), "A test disk\r\n");
    Sector back;
    ASSERT_EQ(again.image->read_sector(79, 1, 18, back), MediaStatus::Ok);
    EXPECT_EQ(back, s);
    ASSERT_EQ(again.image->read_sector(0, 0, 1, back), MediaStatus::Ok);
    EXPECT_EQ(back, fill);
    ASSERT_EQ(again.image->read_sector(40, 1, 7, back), MediaStatus::Ok);
    const auto want = imd_data_record(1, 512, uint8_t(40 * 31 + 17 + 7));
    EXPECT_TRUE(std::equal(back.begin(), back.end(), want.begin() + 1));
}

TEST_F(ImdImageTest, FormatThroughTheTracksIsSavedAndReopened) {
    const std::string p = file("f.imd", standard_disk(80, 2, 9, 5));
    {
        Opened m = open(p);
        ASSERT_TRUE(m.image) << m.error;
        TracksOf tracks(*m.image);
        TrackFormat f{.encoding = Encoding::Fm,
                      .rate = DataRate::k250,
                      .size_code = 1,
                      .fill = 0x4E,
                      .ids = {{5, 0, 3, 1}, {5, 0, 1, 1}, {99, 7, 2, 1}}};
        ASSERT_EQ(error_text(tracks->can_format(5, 0, f)), "");
        ASSERT_EQ(tracks->format_track(5, 0, f), MediaStatus::Ok);
        ASSERT_EQ(tracks->write_data(5, 0, 1, DataMark::Deleted, test::pattern(256, 3)),
                  MediaStatus::Ok);
        f.rate = DataRate::k1000;
        EXPECT_NE(error_text(tracks->can_format(6, 0, f)), "");  // IMD has no 1 Mbit/s mode
        ASSERT_EQ(error_text(m.image->flush()), "");
    }
    Opened m = open(p);
    ASSERT_TRUE(m.image) << m.error;
    const Track *t = imd(m).disk().find(5, 0);
    ASSERT_NE(t, nullptr);
    ASSERT_EQ(t->sector_count(), 3u);
    EXPECT_EQ(t->encoding(), Encoding::Fm);
    EXPECT_EQ(t->info(2).id, (SectorId{99, 7, 2, 1}));
    EXPECT_EQ(t->info(1).mark, DataMark::Deleted);
    EXPECT_TRUE(std::ranges::equal(t->data(1), test::pattern(256, 3)));
    EXPECT_TRUE(std::ranges::all_of(t->data(0), [](uint8_t b) { return b == 0x4E; }));
}

TEST_F(ImdImageTest, RawToImdToRawLosesNothing) {
    for (const char *name : {"1.44M", "720K", "360K", "1.2M", "160K"}) {
        const Geometry g = format_by_name(name)->geometry;
        MemoryImage raw(g, test::pattern(g.size_bytes(), g.sectors));
        const std::string p = file(std::string(name) + ".imd", imd_of_raw(raw, "from raw"));
        Opened m = open(p, "", false, g.native_drive);
        ASSERT_TRUE(m.image) << name << ": " << m.error;
        EXPECT_EQ(m.image->geometry(), g) << name;
        EXPECT_TRUE(sector_image_losses(imd(m).disk()).empty()) << name;
        EXPECT_EQ(sector_image_of(imd(m).disk(), m.image->geometry()), raw.bytes()) << name;
        Sector s;
        for (unsigned c = 0; c < g.cylinders; c += 7)
            for (unsigned h = 0; h < g.heads; ++h)
                for (unsigned r = 1; r <= g.sectors; ++r) {
                    ASSERT_EQ(m.image->read_sector(c, h, r, s), MediaStatus::Ok);
                    ASSERT_TRUE(std::equal(s.begin(), s.end(),
                                           raw.bytes().begin() + ptrdiff_t(*g.lba(c, h, r)) * 512));
                }
    }
}

TEST_F(ImdImageTest, ReadOnlyAndSnapshotNeverTouchTheFile) {
    const std::string p = file("ro.imd", standard_disk(80, 2, 9, 5));
    const auto original = test::read_file(p);
    Sector s{};
    {
        Opened m = open(p, "", true);
        ASSERT_TRUE(m.image) << m.error;
        EXPECT_TRUE(m.read_only);
        EXPECT_EQ(m.image->write_sector(0, 0, 1, s), MediaStatus::ReadOnly);
        EXPECT_EQ(TracksOf(*m.image)->format_track(0, 0, {.ids = {{0, 0, 1, 2}}}),
                  MediaStatus::ReadOnly);
        EXPECT_EQ(error_text(m.image->flush()), "");
    }
    {
        Opened m = open(p, "", false, DriveType::Auto, true);
        ASSERT_TRUE(m.image) << m.error;
        ASSERT_EQ(m.image->write_sector(0, 0, 1, s), MediaStatus::Ok);
        Sector back;
        m.image->read_sector(0, 0, 1, back);
        EXPECT_EQ(back, s);
        EXPECT_EQ(error_text(m.image->flush()), "");
    }
    EXPECT_EQ(test::read_file(p), original);
}

TEST_F(ImdImageTest, LockedLikeARawImageAcrossTheSave) {
    const std::string p = file("l.imd", standard_disk(80, 2, 9, 5));
    Opened writer = open(p);
    ASSERT_TRUE(writer.image) << writer.error;
    EXPECT_EQ(open(p).kind, ErrorKind::InUse);
    EXPECT_EQ(open(p, "", true).kind, ErrorKind::InUse);
    Sector s{};
    ASSERT_EQ(writer.image->write_sector(1, 1, 1, s), MediaStatus::Ok);
    ASSERT_EQ(error_text(writer.image->flush()), "");
    // The replacement file took the name already locked.
    EXPECT_EQ(open(p).kind, ErrorKind::InUse);
    writer.image.reset();
    Opened reader = open(p, "", true);
    ASSERT_TRUE(reader.image) << reader.error;
    Opened second = open(p, "", true);
    EXPECT_TRUE(second.image) << second.error;
}

TEST_F(ImdImageTest, SaveKeepsTheModeFollowsSymlinksAndLeavesNoTemporaryFile) {
    const std::string p = file("real.imd", standard_disk(80, 2, 9, 5));
    ASSERT_EQ(::chmod(p.c_str(), 0640), 0);
    const std::string link = dir.file("link.imd");
    ASSERT_EQ(::symlink(p.c_str(), link.c_str()), 0);
    Opened m = open(link);
    ASSERT_TRUE(m.image) << m.error;
    Sector s{};
    s[5] = 5;
    ASSERT_EQ(m.image->write_sector(2, 0, 3, s), MediaStatus::Ok);
    ASSERT_EQ(error_text(m.image->flush()), "");
    struct stat st;
    ASSERT_EQ(::lstat(link.c_str(), &st), 0);
    EXPECT_TRUE(S_ISLNK(st.st_mode));
    ASSERT_EQ(::stat(p.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0640u);
    size_t entries = 0;
    for ([[maybe_unused]] const auto &e : std::filesystem::directory_iterator(dir.path()))
        ++entries;
    EXPECT_EQ(entries, 2u);
}

TEST_F(ImdImageTest, AFailingSaveLeavesTheOldFileAndTheWritesPending) {
    const std::string p = file("fail.imd", standard_disk(80, 2, 9, 5));
    const auto original = test::read_file(p);
    MediumRequest r;
    r.file = p;
    r.faults = std::make_shared<MediaFaults>();
    Opened m = result(open_medium(r));
    ASSERT_TRUE(m.image) << m.error;
    Sector s{};
    s[0] = 0x77;
    ASSERT_EQ(m.image->write_sector(3, 1, 4, s), MediaStatus::Ok);
    r.faults->fail_flushes = 1;
    std::string error = error_text(m.image->flush());
    EXPECT_NE(error, "");
    EXPECT_NE(error.find("fail.imd"), std::string::npos) << error;
    EXPECT_EQ(test::read_file(p), original);
    size_t entries = 0;
    for ([[maybe_unused]] const auto &e : std::filesystem::directory_iterator(dir.path()))
        ++entries;
    EXPECT_EQ(entries, 1u);
    ASSERT_EQ(error_text(m.image->flush()), "");  // the writes were kept for the next try
    EXPECT_NE(test::read_file(p), original);
}

TEST_F(ImdImageTest, UnsavedWritesAreSavedWhenTheMediumGoes) {
    const std::string p = file("d.imd", standard_disk(80, 2, 9, 5));
    {
        Opened m = open(p);
        ASSERT_TRUE(m.image) << m.error;
        Sector s;
        s.fill(0x31);
        ASSERT_EQ(m.image->write_sector(0, 1, 9, s), MediaStatus::Ok);
    }
    Opened m = open(p);
    ASSERT_TRUE(m.image) << m.error;
    Sector back;
    ASSERT_EQ(m.image->read_sector(0, 1, 9, back), MediaStatus::Ok);
    EXPECT_EQ(back[100], 0x31);
}

// Saved states name a medium by its fingerprint: a uniform IMD file is the same medium as its
// raw twin; one with CRC errors and missing data still has one, and a deleted mark changes it.
TEST_F(ImdImageTest, FingerprintsCoverWhatARawImageCannotHold) {
    const Geometry g = format_by_name("720K")->geometry;
    MemoryImage raw(g, test::pattern(g.size_bytes(), 11));
    Opened twin = open(file("twin.imd", imd_of_raw(raw, "twin")), "", false, DriveType::k144);
    ASSERT_TRUE(twin.image) << twin.error;
    EXPECT_EQ(error_text(media_fingerprint(*twin.image)), "");
    EXPECT_EQ(*media_fingerprint(*twin.image), *media_fingerprint(raw));

    ImdTrackSpec t = standard_imd_track(0, 0, 9);
    t.records[2] = imd_data_record(5, 512, 77);  // data CRC error
    t.records[4] = {0};                          // no data field
    std::vector<ImdTrackSpec> tracks{t};
    for (uint8_t c = 1; c < 40; ++c) tracks.push_back(standard_imd_track(c, 0, 9));
    Opened odd = open(file("odd.imd", imd_file(tracks)), "", false, DriveType::k360);
    ASSERT_TRUE(odd.image) << odd.error;
    const auto before = media_fingerprint(*odd.image);
    ASSERT_EQ(error_text(before), "");
    TracksOf view(*odd.image);
    ASSERT_EQ(view->write_data(0, 0, 1, DataMark::Deleted, test::pattern(512, 1)), MediaStatus::Ok);
    const auto deleted = media_fingerprint(*odd.image);
    ASSERT_EQ(error_text(deleted), "");
    EXPECT_NE(*deleted, *before);
    ASSERT_EQ(view->write_data(0, 0, 1, DataMark::Normal, test::pattern(512, 1)), MediaStatus::Ok);
    EXPECT_NE(*media_fingerprint(*odd.image), *deleted) << "the mark alone tells them apart";
}

TEST_F(ImdImageTest, CorruptFilesAreRefusedWithTheirOffset) {
    auto bytes = standard_disk(2, 1, 9, 5);
    bytes.erase(bytes.end() - 100, bytes.end());  // the last sector's data is cut short
    Opened m = open(file("cut.imd", bytes));
    EXPECT_FALSE(m.image);
    EXPECT_EQ(m.kind, ErrorKind::Corrupt);
    EXPECT_NE(m.error.find("cut.imd"), std::string::npos) << m.error;
    EXPECT_NE(m.error.find("at byte " + std::to_string(bytes.size() - 412)), std::string::npos)
        << m.error;
    EXPECT_NE(m.error.find("the file ends after 412"), std::string::npos) << m.error;

    Opened empty = open(file("empty.imd", imd_file({})));
    EXPECT_EQ(empty.kind, ErrorKind::UnknownSize);
    EXPECT_NE(empty.error.find("no track"), std::string::npos) << empty.error;
}

TEST_F(ImdImageTest, OpenErrorsNameTheFile) {
    EXPECT_EQ(open(dir.file("missing.imd"), "imd").kind, ErrorKind::NotFound);
    EXPECT_EQ(open(dir.path(), "imd").kind, ErrorKind::WrongFileType);
    const std::string fifo = dir.file("fifo");
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    EXPECT_FALSE(is_imd_file(fifo));  // never opened, so never blocks
    EXPECT_EQ(open(fifo, "imd").kind, ErrorKind::WrongFileType);
    EXPECT_EQ(ImdImage::open({.path = "rel.imd"}).error().kind(), ErrorKind::BadPath);
    // Media no drive of this type reads: 80-track 5.25" media in a 360 KB drive.
    Opened m = open(file("qd.imd", standard_disk(80, 2, 15, 3)), "", false, DriveType::k360);
    EXPECT_EQ(m.kind, ErrorKind::UnknownSize);
    EXPECT_NE(m.error.find("cannot read"), std::string::npos) << m.error;
}

}  // namespace
}  // namespace fdplug::floppy
