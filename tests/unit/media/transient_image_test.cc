// Transient writes (track_overlay.h, transient_image.h): the guest's writes and FORMATs land in
// an overlay holding only the tracks they changed, the file never changes, commit() writes the
// changes back (raw and IMD; refused for TD0 and for what a raw image cannot hold), and
// export_medium() saves the disk with its changes as raw or IMD.
#include "hw/block/media/transient_image.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <array>
#include <filesystem>
#include <string>
#include <vector>

#include "hw/block/media/export_medium.h"
#include "hw/block/media/floppy_formats.h"
#include "hw/block/media/memory_tracks.h"
#include "hw/block/media/open_medium.h"
#include "hw/block/media/track_copy.h"
#include "temp_dir.h"
#include "tests/support/expected_text.h"
#include "tests/support/imd_bytes.h"
#include "tests/support/td0_bytes.h"
#include "without_privileges.h"

namespace fdplug::floppy {
namespace {

using test::error_text;
using Sector = std::array<uint8_t, DiskImage::kSectorSize>;

constexpr uint64_t k144Bytes = 1474560;

Sector filled(uint8_t byte) {
    Sector s;
    s.fill(byte);
    return s;
}

// The FORMAT of a layout no raw image holds: 5 sectors of 1024 bytes.
TrackFormat five_by_1024(uint8_t c, uint8_t h) {
    TrackFormat f{.rate = DataRate::k500, .size_code = 3, .fill = 0x5A};
    for (uint8_t r = 1; r <= 5; ++r) f.ids.push_back({c, h, r, 3});
    return f;
}

class Transient : public ::testing::Test {
  protected:
    test::TempDir dir;

    std::string raw144(const std::string &name) {
        const std::string path = dir.file(name);
        test::write_file(path, test::pattern(k144Bytes, 7));
        return path;
    }
    OpenedMedium open(const std::string &path, bool transient = true) {
        MediumRequest r;
        r.file = path;
        r.transient = transient;
        Expected<OpenedMedium> m = open_medium(r);
        EXPECT_TRUE(m) << error_text(m);
        return m ? std::move(*m) : OpenedMedium{};
    }
    static TransientImage &transient(OpenedMedium &m) {
        return dynamic_cast<TransientImage &>(*m.image);
    }
};

TEST(TrackOverlay, CopiesOnlyTheTracksWrittenAndKeepsAnyFormat) {
    TrackDisk disk;
    for (unsigned c = 0; c < 80; ++c)
        for (unsigned h = 0; h < 2; ++h) {
            Track t(Encoding::Mfm, DataRate::k500);
            for (uint8_t r = 1; r <= 18; ++r)
                t.add_filled({.id = {uint8_t(c), uint8_t(h), r, 2}}, uint8_t(c + h + r));
            disk.put(c, h, std::move(t));
        }
    MemoryTracks base(disk, /*read_only=*/true);
    TrackOverlay overlay(base);
    const Sector data = filled(0xA5);
    ASSERT_EQ(overlay.write_data(10, 1, 4, DataMark::Deleted, data), MediaStatus::Ok);
    ASSERT_EQ(overlay.write_data(10, 1, 5, DataMark::Normal, data), MediaStatus::Ok);
    EXPECT_EQ(overlay.dirty_tracks(), 1u);
    // Memory: the one track written (and the table of track slots), not the disk.
    EXPECT_EQ(overlay.changes().data_bytes(), 18 * 512u);
    EXPECT_LT(overlay.changes().heap_bytes(), disk.heap_bytes() / 40)
        << overlay.changes().heap_bytes() << " bytes for one track of a " << disk.heap_bytes()
        << "-byte disk";
    EXPECT_EQ(overlay.write_data(10, 0, 99, DataMark::Normal, data), MediaStatus::OutOfRange);
    EXPECT_EQ(overlay.dirty_tracks(), 1u) << "a write that cannot land copies nothing";

    ASSERT_TRUE(overlay.can_format(3, 0, five_by_1024(3, 0)));
    ASSERT_EQ(overlay.format_track(3, 0, five_by_1024(3, 0)), MediaStatus::Ok);
    EXPECT_EQ(overlay.dirty_tracks(), 2u);

    TrackInfo info;
    ASSERT_EQ(overlay.track_info(10, 1, info), MediaStatus::Ok);
    EXPECT_EQ(info.sectors[4].mark, DataMark::Deleted);
    Sector back;
    ASSERT_EQ(overlay.read_data(10, 1, 5, back), MediaStatus::Ok);
    EXPECT_EQ(back, data);
    ASSERT_EQ(overlay.track_info(3, 0, info), MediaStatus::Ok);
    ASSERT_EQ(info.sectors.size(), 5u);
    EXPECT_EQ(info.sectors[0].size_code, 3);
    EXPECT_EQ(base.disk(), disk) << "the base is never written";

    const uint64_t before = overlay.generation();
    overlay.discard();
    EXPECT_GT(overlay.generation(), before);
    EXPECT_EQ(overlay.dirty_tracks(), 0u);
    ASSERT_EQ(overlay.track_info(3, 0, info), MediaStatus::Ok);
    EXPECT_EQ(info.sectors.size(), 18u);
}

TEST_F(Transient, RawWritesAndFormatsStayInMemoryAndTheFileNeverChanges) {
    const std::string path = raw144("a.img");
    const std::vector<uint8_t> bytes = test::read_file(path);
    OpenedMedium m = open(path);
    ASSERT_TRUE(m.image);
    EXPECT_TRUE(m.transient);
    EXPECT_FALSE(m.read_only);
    EXPECT_EQ(m.format, "raw");
    ASSERT_EQ(m.image->write_sector(0, 0, 1, filled(0x11)), MediaStatus::Ok);
    ASSERT_EQ(m.image->tracks()->format_track(5, 1, five_by_1024(5, 1)), MediaStatus::Ok);
    Sector back;
    ASSERT_EQ(m.image->read_sector(0, 0, 1, back), MediaStatus::Ok);
    EXPECT_EQ(back, filled(0x11));
    ASSERT_EQ(m.image->read_sector(0, 0, 2, back), MediaStatus::Ok);
    EXPECT_TRUE(std::equal(back.begin(), back.end(), bytes.begin() + 512));
    EXPECT_EQ(m.image->read_sector(5, 1, 1, back), MediaStatus::OutOfRange)
        << "the new layout has no 512-byte sectors";
    EXPECT_EQ(transient(m).dirty_tracks(), 2u);
    EXPECT_FALSE(m.image->uniform());
    EXPECT_TRUE(m.image->flush());

    // A raw file cannot take the 5 x 1024 track: refused, the file and the overlay untouched.
    Status committed = transient(m).commit();
    ASSERT_FALSE(committed);
    EXPECT_EQ(committed.error().kind(), ErrorKind::Unsupported) << committed.error().message();
    EXPECT_NE(committed.error().message().find("cylinder 5 head 1"), std::string::npos)
        << committed.error().message();
    EXPECT_EQ(transient(m).dirty_tracks(), 2u);
    ASSERT_EQ(m.image->read_sector(0, 0, 1, back), MediaStatus::Ok);
    EXPECT_EQ(back, filled(0x11));
    m.image.reset();  // released: the overlay goes with it
    EXPECT_EQ(test::read_file(path), bytes);
}

TEST_F(Transient, TheFileIsLockedSharedSoReadersMayJoinButNoWriter) {
    const std::string path = raw144("a.img");
    OpenedMedium m = open(path);
    MediumRequest r;
    r.file = path;
    r.read_only = true;
    EXPECT_TRUE(open_medium(r)) << "a read-only user shares the file";
    r.read_only = false;
    Expected<OpenedMedium> writer = open_medium(r);
    ASSERT_FALSE(writer);
    EXPECT_EQ(writer.error().kind(), ErrorKind::InUse);
}

TEST_F(Transient, RawCommitWritesTheChangedSectorsBack) {
    const std::string path = raw144("a.img");
    std::vector<uint8_t> expected = test::read_file(path);
    OpenedMedium m = open(path);
    ASSERT_EQ(m.image->write_sector(0, 0, 1, filled(0x11)), MediaStatus::Ok);
    ASSERT_EQ(m.image->write_sector(79, 1, 18, filled(0x22)), MediaStatus::Ok);
    // A FORMAT of the image's own layout is a change a raw file holds.
    TrackFormat same{.rate = DataRate::k500, .size_code = 2, .fill = 0x33};
    for (uint8_t r = 1; r <= 18; ++r) same.ids.push_back({40, 0, r, 2});
    ASSERT_EQ(m.image->tracks()->format_track(40, 0, same), MediaStatus::Ok);
    EXPECT_TRUE(m.image->uniform());
    EXPECT_EQ(transient(m).dirty_tracks(), 3u);
    ASSERT_TRUE(transient(m).commit()) << error_text(transient(m).commit());
    EXPECT_EQ(transient(m).dirty_tracks(), 0u);

    std::fill_n(expected.begin(), 512, 0x11);
    std::fill_n(expected.end() - 512, 512, 0x22);
    std::fill_n(expected.begin() + 40 * 2 * 18 * 512, 18 * 512, 0x33);
    EXPECT_EQ(test::read_file(path), expected);
    Sector back;
    ASSERT_EQ(m.image->read_sector(79, 1, 18, back), MediaStatus::Ok);
    EXPECT_EQ(back, filled(0x22)) << "the drive reads the committed file";
    ASSERT_EQ(m.image->write_sector(1, 0, 1, filled(0x44)), MediaStatus::Ok);
    m.image.reset();
    EXPECT_EQ(test::read_file(path), expected) << "writes after the commit stay transient";
}

// A raw file shorter than its geometry (Debian's grub-rescue-floppy.img size: 2 532 sectors of a
// 1.44M disk). Written in place, a sector past its end fails and the file never grows
// (raw_image_io_test.cc); a commit gives the same file. Track C70 H0 straddles the end: sectors
// 1..12 are in the file, 13..18 past it.
constexpr uint64_t kShortBytes = 1296384;

TEST_F(Transient, RawCommitToAShortFileWritesWhatItHoldsAndNeverGrowsIt) {
    const std::string path = dir.file("short.img");
    test::write_file(path, test::pattern(kShortBytes, 3));
    std::vector<uint8_t> expected = test::read_file(path);
    OpenedMedium m = open(path);
    ASSERT_EQ(m.image->geometry().total_sectors(), 2880u);
    ASSERT_EQ(m.image->write_sector(0, 0, 1, filled(0x11)), MediaStatus::Ok);
    // The straddling track is copied whole into the overlay, its tail as the file reads it.
    ASSERT_EQ(m.image->write_sector(70, 0, 12, filled(0x22)), MediaStatus::Ok);
    // Zeros past the end are what the file already reads there: nothing to store.
    ASSERT_EQ(m.image->write_sector(79, 1, 18, Sector{}), MediaStatus::Ok);
    ASSERT_EQ(transient(m).dirty_tracks(), 3u);
    Status committed = transient(m).commit();
    ASSERT_TRUE(committed) << error_text(committed);
    EXPECT_EQ(transient(m).dirty_tracks(), 0u);

    std::fill_n(expected.begin(), 512, 0x11);
    std::fill_n(expected.end() - 512, 512, 0x22);  // LBA 2531 = C70 H0 R12, the last sector
    EXPECT_EQ(test::file_size(path), kShortBytes) << "a commit never grows the file";
    EXPECT_EQ(test::read_file(path), expected);
    Sector back;
    ASSERT_EQ(m.image->read_sector(70, 0, 13, back), MediaStatus::Ok);
    EXPECT_EQ(back, Sector{}) << "past the end still reads as zeros";
}

TEST_F(Transient, RawCommitOfDataPastTheEndOfAShortFileIsRefusedBeforeAnyWrite) {
    const std::string path = dir.file("short.img");
    test::write_file(path, test::pattern(kShortBytes, 3));
    const std::vector<uint8_t> before = test::read_file(path);
    OpenedMedium m = open(path);
    // A change the file holds first, so that a commit that wrote as it went would leave it
    // half-written.
    ASSERT_EQ(m.image->write_sector(0, 0, 1, filled(0x11)), MediaStatus::Ok);
    ASSERT_EQ(m.image->write_sector(70, 0, 13, filled(0x33)), MediaStatus::Ok);
    ASSERT_EQ(m.image->write_sector(79, 1, 18, filled(0x44)), MediaStatus::Ok);
    Status committed = transient(m).commit();
    ASSERT_FALSE(committed);
    EXPECT_EQ(committed.error().kind(), ErrorKind::Unsupported) << committed.error().message();
    const std::string &why = committed.error().message();
    EXPECT_NE(why.find("1296384 bytes"), std::string::npos) << why;
    EXPECT_NE(why.find("cylinder 70 head 0 sector 13"), std::string::npos) << why;
    EXPECT_NE(why.find("2 sectors past its end"), std::string::npos) << why;
    EXPECT_EQ(test::read_file(path), before) << "not one byte written";
    EXPECT_EQ(transient(m).dirty_tracks(), 3u) << "a refused commit keeps the changes";
    Sector back;
    ASSERT_EQ(m.image->read_sector(79, 1, 18, back), MediaStatus::Ok);
    EXPECT_EQ(back, filled(0x44));

    // The way out: an export holds the whole disk.
    const std::string whole = dir.file("whole.img");
    ASSERT_TRUE(export_medium(*m.image, whole, ExportFormat::Raw));
    std::vector<uint8_t> expected = before;
    expected.resize(k144Bytes);
    std::fill_n(expected.begin(), 512, 0x11);
    std::fill_n(expected.begin() + 2532 * 512, 512, 0x33);
    std::fill_n(expected.end() - 512, 512, 0x44);
    EXPECT_EQ(test::read_file(whole), expected);
}

TEST_F(Transient, ImdCommitKeepsMarksAndNewLayouts) {
    std::vector<test::ImdTrackSpec> tracks;
    for (uint8_t c = 0; c < 40; ++c)
        for (uint8_t h = 0; h < 2; ++h) tracks.push_back(test::standard_imd_track(c, h, 9));
    const std::string path = dir.file("a.imd");
    test::write_file(path, test::imd_file(tracks));
    const std::vector<uint8_t> before = test::read_file(path);
    MediumRequest r;
    r.file = path;
    r.transient = true;
    r.drive = DriveType::k360;
    Expected<OpenedMedium> m = open_medium(r);
    ASSERT_TRUE(m) << error_text(m);
    EXPECT_EQ(m->format, "imd");
    TrackMedium &t = *m->image->tracks();
    ASSERT_EQ(t.write_data(2, 0, 3, DataMark::Deleted, filled(0x77)), MediaStatus::Ok);
    TrackFormat f = five_by_1024(7, 1);
    f.rate = DataRate::k250;
    ASSERT_EQ(t.format_track(7, 1, f), MediaStatus::Ok);
    EXPECT_EQ(test::read_file(path), before);
    ASSERT_TRUE(transient(*m).commit()) << error_text(transient(*m).commit());
    EXPECT_NE(test::read_file(path), before);
    m->image.reset();

    r.transient = false;
    r.read_only = true;
    Expected<OpenedMedium> again = open_medium(r);
    ASSERT_TRUE(again) << error_text(again);
    TrackInfo info;
    ASSERT_EQ(again->image->tracks()->track_info(2, 0, info), MediaStatus::Ok);
    EXPECT_EQ(info.sectors[3].mark, DataMark::Deleted);
    Sector back;
    ASSERT_EQ(again->image->tracks()->read_data(2, 0, 3, back), MediaStatus::Ok);
    EXPECT_EQ(back, filled(0x77));
    ASSERT_EQ(again->image->tracks()->track_info(7, 1, info), MediaStatus::Ok);
    ASSERT_EQ(info.sectors.size(), 5u);
    EXPECT_EQ(info.sectors[4].id, (SectorId{7, 1, 5, 3}));
}

TEST_F(Transient, Td0IsWritableButCannotBeCommitted) {
    test::Td0Spec spec{.advanced = true, .data_rate = 2, .drive_type = 4};
    for (uint8_t c = 0; c < 80; ++c)
        for (uint8_t h = 0; h < 2; ++h)
            spec.tracks.push_back(test::td0_standard_track(
                c, h, 18, 2, [&](uint8_t r) { return test::pattern(512, c * 100 + h * 50 + r); }));
    const std::string path = dir.file("a.td0");
    test::write_file(path, test::td0_file(spec));
    const std::vector<uint8_t> before = test::read_file(path);
    OpenedMedium m = open(path);
    ASSERT_TRUE(m.image);
    EXPECT_EQ(m.format, "td0");
    ASSERT_EQ(m.image->write_sector(3, 1, 7, filled(0x42)), MediaStatus::Ok);
    ASSERT_EQ(m.image->tracks()->format_track(9, 0, five_by_1024(9, 0)), MediaStatus::Ok);
    Sector back;
    ASSERT_EQ(m.image->read_sector(3, 1, 7, back), MediaStatus::Ok);
    EXPECT_EQ(back, filled(0x42));
    Status committed = transient(m).commit();
    ASSERT_FALSE(committed);
    EXPECT_EQ(committed.error().kind(), ErrorKind::ReadOnly) << committed.error().message();
    EXPECT_EQ(transient(m).dirty_tracks(), 2u) << "a refused commit keeps the changes";
    ASSERT_EQ(m.image->read_sector(3, 1, 7, back), MediaStatus::Ok);
    EXPECT_EQ(back, filled(0x42));
    m.image.reset();
    EXPECT_EQ(test::read_file(path), before);
}

TEST_F(Transient, CommitNeedsAWritableFile) {
    const std::string path = raw144("ro.img");
    ASSERT_EQ(::chmod(dir.path().c_str(), 0755), 0);
    ASSERT_EQ(::chmod(path.c_str(), 0444), 0);
    const std::vector<uint8_t> before = test::read_file(path);
    const std::optional<int> result = test::without_privileges([&] {
        MediumRequest r;
        r.file = path;
        r.transient = true;
        Expected<OpenedMedium> m = open_medium(r);
        if (!m) return 1;
        if (m->image->write_sector(0, 0, 1, filled(0x11)) != MediaStatus::Ok) return 2;
        auto &image = dynamic_cast<TransientImage &>(*m->image);
        Status committed = image.commit();
        if (committed || committed.error().kind() != ErrorKind::ReadOnly) return 3;
        Sector back;
        if (m->image->read_sector(0, 0, 1, back) != MediaStatus::Ok || back != filled(0x11))
            return 4;
        return image.dirty_tracks() == 1 ? 0 : 5;
    });
    if (!result) GTEST_SKIP() << "cannot drop root's privileges";
    EXPECT_EQ(*result, 0);
    EXPECT_EQ(test::read_file(path), before);
}

TEST_F(Transient, ExportSavesTheDiskWithItsChanges) {
    const std::string path = raw144("a.img");
    std::vector<uint8_t> expected = test::read_file(path);
    OpenedMedium m = open(path);
    ASSERT_EQ(m.image->write_sector(2, 1, 3, filled(0x99)), MediaStatus::Ok);
    std::fill_n(expected.begin() + ((2 * 2 + 1) * 18 + 2) * 512, 512, 0x99);

    const std::string raw = dir.file("out.img");
    ASSERT_TRUE(export_medium(*m.image, raw, ExportFormat::Raw));
    EXPECT_EQ(test::read_file(raw), expected);
    Status again = export_medium(*m.image, raw, ExportFormat::Raw);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().kind(), ErrorKind::Failed) << "an export never replaces a file";
    EXPECT_EQ(export_medium(*m.image, "out.img", ExportFormat::Raw).error().kind(),
              ErrorKind::BadPath);

    const std::string imd = dir.file("out.imd");
    ASSERT_TRUE(export_medium(*m.image, imd, ExportFormat::Imd));
    OpenedMedium from_imd = open(imd, false);
    ASSERT_TRUE(from_imd.image);
    EXPECT_EQ(from_imd.format, "imd");
    Expected<TrackDisk> exported = copy_disk(*from_imd.image->tracks());
    Expected<TrackDisk> current = copy_disk(*m.image->tracks());
    ASSERT_TRUE(exported && current);
    EXPECT_EQ(*exported, *current);

    // A layout raw cannot hold: raw refused (no file left), IMD keeps it.
    ASSERT_EQ(m.image->tracks()->format_track(0, 1, five_by_1024(0, 1)), MediaStatus::Ok);
    const std::string lossy = dir.file("lossy.img");
    Status refused = export_medium(*m.image, lossy, ExportFormat::Raw);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().kind(), ErrorKind::Unsupported);
    EXPECT_NE(refused.error().message().find("export it as imd"), std::string::npos)
        << refused.error().message();
    EXPECT_FALSE(std::filesystem::exists(lossy));
    const std::string kept = dir.file("kept.imd");
    ASSERT_TRUE(export_medium(*m.image, kept, ExportFormat::Imd));
    OpenedMedium reopened = open(kept, false);
    TrackInfo info;
    ASSERT_EQ(reopened.image->tracks()->track_info(0, 1, info), MediaStatus::Ok);
    EXPECT_EQ(info.sectors.size(), 5u);
}

}  // namespace
}  // namespace fdplug::floppy
