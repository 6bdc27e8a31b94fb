// The track model: Track's bounds and data, TrackDisk, MemoryTracks (read, write, format and
// the format's limits), UniformTracks over a sector image (today's raw behaviour), the geometry
// and losses of a disk of tracks, and the memory a 2.88 MB disk's tracks take.
#include "hw/block/media/track.h"

#include <gtest/gtest.h>
#include <malloc.h>

#include <algorithm>
#include <array>

#include "hw/block/media/floppy_formats.h"
#include "hw/block/media/imd_format.h"
#include "hw/block/media/memory_image.h"
#include "hw/block/media/memory_tracks.h"
#include "hw/block/media/track_convert.h"
#include "hw/block/media/track_geometry.h"
#include "hw/block/media/uniform_tracks.h"
#include "temp_dir.h"
#include "tests/support/expected_text.h"

namespace fdplug::floppy {
namespace {

using test::error_text;

SectorInfo sector(uint8_t c, uint8_t h, uint8_t r, uint8_t n = 2) {
    return {.id = {c, h, r, n}, .size_code = n};
}

Track standard_track(unsigned c, unsigned h, unsigned spt, DataRate rate = DataRate::k500) {
    Track t(Encoding::Mfm, rate);
    for (unsigned r = 1; r <= spt; ++r)
        t.add(sector(uint8_t(c), uint8_t(h), uint8_t(r)), test::pattern(512, c * 100 + h * 50 + r));
    return t;
}

TEST(Track, SectorsKeepPhysicalOrderAndTheirOwnSizes) {
    Track t(Encoding::Fm, DataRate::k250);
    ASSERT_TRUE(t.add(sector(0, 0, 9, 0), test::pattern(128, 1)));
    ASSERT_TRUE(t.add_filled(sector(0, 0, 3, 3), 0xE5));
    ASSERT_TRUE(t.add(sector(0, 0, 1, 1), test::pattern(256, 2)));
    ASSERT_EQ(t.sector_count(), 3u);
    EXPECT_EQ(t.info(0).id.r, 9);
    EXPECT_EQ(t.info(1).id.r, 3);
    EXPECT_EQ(t.data(0).size(), 128u);
    EXPECT_EQ(t.data(1).size(), 1024u);
    EXPECT_EQ(t.data(2).size(), 256u);
    EXPECT_TRUE(std::ranges::equal(t.data(0), test::pattern(128, 1)));
    EXPECT_TRUE(std::ranges::all_of(t.data(1), [](uint8_t b) { return b == 0xE5; }));
    EXPECT_TRUE(std::ranges::equal(t.data(2), test::pattern(256, 2)));
    EXPECT_EQ(t.data_bytes(), 128u + 1024 + 256);
}

TEST(Track, RefusesWhatPassesItsBounds) {
    Track t(Encoding::Mfm, DataRate::k500);
    EXPECT_FALSE(t.add_filled(sector(0, 0, 1, kMaxSizeCode + 1), 0));  // N 8: 32 KiB
    EXPECT_FALSE(t.add(sector(0, 0, 1, 2), test::pattern(511)));       // wrong data length
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(t.add_filled(sector(0, 0, 1, 7), 0));  // 4 x 16 KiB
    EXPECT_FALSE(t.add_filled(sector(0, 0, 5, 0), 0));  // the 64 KiB bound
    EXPECT_EQ(t.sector_count(), 4u);

    Track many(Encoding::Fm, DataRate::k500);
    for (size_t i = 0; i < kMaxSectorsPerTrack; ++i)
        ASSERT_TRUE(many.add_filled(sector(0, 0, 1, 0), 0));
    EXPECT_FALSE(many.add_filled(sector(0, 0, 1, 0), 0));
}

TEST(Track, WriteGivesAFreshFieldWithAGoodCrc) {
    Track t(Encoding::Mfm, DataRate::k500);
    SectorInfo bad = sector(0, 0, 1);
    bad.data_crc_ok = false;
    bad.mark = DataMark::None;
    t.add_filled(bad, 0);
    t.write(0, DataMark::Deleted, test::pattern(512, 4));
    EXPECT_EQ(t.info(0).mark, DataMark::Deleted);
    EXPECT_TRUE(t.info(0).data_crc_ok);
    EXPECT_TRUE(std::ranges::equal(t.data(0), test::pattern(512, 4)));
}

TEST(TrackDisk, CountsCylindersAndHeadsFromTheTracksItRecords) {
    TrackDisk d;
    EXPECT_EQ(d.cylinders(), 0u);
    EXPECT_EQ(d.heads(), 0u);
    ASSERT_TRUE(d.put(0, 0, standard_track(0, 0, 9)));
    ASSERT_TRUE(d.put(39, 0, standard_track(39, 0, 9)));
    EXPECT_EQ(d.cylinders(), 40u);
    EXPECT_EQ(d.heads(), 1u);
    EXPECT_EQ(d.find(5, 0), nullptr);  // not recorded: unformatted
    ASSERT_TRUE(d.put(2, 1, standard_track(2, 1, 9)));
    EXPECT_EQ(d.heads(), 2u);
    EXPECT_EQ(d.track_count(), 3u);
    EXPECT_FALSE(d.put(kMaxTrackCylinders, 0, standard_track(0, 0, 1)));
    EXPECT_FALSE(d.put(0, 2, standard_track(0, 0, 1)));
}

TEST(MemoryTracks, ReadsWritesAndFindsSectorsInPhysicalOrder) {
    TrackDisk d;
    Track t(Encoding::Mfm, DataRate::k250);
    for (uint8_t r : {1, 4, 7, 2, 5, 8, 3, 6, 9}) t.add(sector(0, 0, r), test::pattern(512, r));
    d.put(0, 0, std::move(t));
    MemoryTracks m(std::move(d));
    TrackInfo info;
    ASSERT_EQ(m.track_info(0, 0, info), MediaStatus::Ok);
    EXPECT_EQ(info.rate, DataRate::k250);
    ASSERT_EQ(info.sectors.size(), 9u);
    EXPECT_EQ(find_sector(info, {0, 0, 2, 2}), 3u);
    EXPECT_EQ(find_sector(info, {0, 0, 2, 3}), std::nullopt);  // N differs
    EXPECT_EQ(find_sector(info, {0, 0, 1, 2}, 1), std::nullopt);

    std::vector<uint8_t> buf(512);
    ASSERT_EQ(m.read_data(0, 0, 3, buf), MediaStatus::Ok);
    EXPECT_EQ(buf, test::pattern(512, 2));
    EXPECT_FALSE(m.dirty());
    ASSERT_EQ(m.write_data(0, 0, 3, DataMark::Deleted, test::pattern(512, 99)), MediaStatus::Ok);
    EXPECT_TRUE(m.dirty());
    ASSERT_EQ(m.track_info(0, 0, info), MediaStatus::Ok);
    EXPECT_EQ(info.sectors[3].mark, DataMark::Deleted);
    ASSERT_EQ(m.read_data(0, 0, 3, buf), MediaStatus::Ok);
    EXPECT_EQ(buf, test::pattern(512, 99));

    EXPECT_EQ(m.read_data(0, 0, 9, buf), MediaStatus::OutOfRange);  // no tenth sector
    std::vector<uint8_t> small(256);
    EXPECT_EQ(m.read_data(0, 0, 0, small), MediaStatus::OutOfRange);  // wrong size
    ASSERT_EQ(m.track_info(1, 0, info), MediaStatus::Ok);
    EXPECT_TRUE(info.sectors.empty());  // not recorded: unformatted
}

TEST(MemoryTracks, FormatLaysDownAnyIdsAndSizes) {
    MemoryTracks m{TrackDisk{}};
    TrackFormat f{.encoding = Encoding::Fm, .rate = DataRate::k250, .size_code = 1, .fill = 0x6C};
    f.ids = {{7, 1, 200, 1}, {0, 0, 0, 9}, {7, 1, 200, 1}};  // any byte, repeats allowed
    std::string why;
    ASSERT_EQ(error_text(m.can_format(3, 1, f)), "");
    ASSERT_EQ(m.format_track(3, 1, f), MediaStatus::Ok);
    TrackInfo info;
    m.track_info(3, 1, info);
    EXPECT_EQ(info.encoding, Encoding::Fm);
    ASSERT_EQ(info.sectors.size(), 3u);
    EXPECT_EQ(info.sectors[1].id, (SectorId{0, 0, 0, 9}));
    EXPECT_EQ(info.sectors[1].size_code, 1);  // the field has the command's N
    std::vector<uint8_t> buf(256);
    m.read_data(3, 1, 2, buf);
    EXPECT_EQ(buf, std::vector<uint8_t>(256, 0x6C));
    EXPECT_EQ(m.cylinders(), 4u);
    EXPECT_EQ(m.heads(), 2u);

    f.size_code = 8;
    why = error_text(m.can_format(3, 1, f));
    EXPECT_NE(why, "");
    EXPECT_EQ(m.format_track(3, 1, f), MediaStatus::OutOfRange);
    f.size_code = 7;
    f.ids.assign(5, SectorId{});  // 80 KiB
    why = error_text(m.can_format(3, 1, f));
    EXPECT_NE(why, "");
    EXPECT_NE(why.find("more than a track holds"), std::string::npos) << why;
    f.ids.assign(1, SectorId{});
    why = error_text(m.can_format(kMaxTrackCylinders, 0, f));
    EXPECT_NE(why, "");
}

TEST(MemoryTracks, TheBackingFormatRefusesWhatItCannotHoldAndNothingChanges) {
    TrackDisk d;
    d.put(0, 0, standard_track(0, 0, 2));
    MemoryTracks m(std::move(d), false, imd_can_hold);
    TrackFormat f{.rate = DataRate::k1000, .size_code = 2, .ids = {{0, 0, 1, 2}}};
    std::string why;
    why = error_text(m.can_format(0, 0, f));
    EXPECT_NE(why, "");
    EXPECT_NE(why.find("1 Mbit/s"), std::string::npos) << why;
    f.rate = DataRate::k500;
    f.ids = {{0, 0, 1, 3}};  // ID N differs from the field's N: IMD keeps one
    why = error_text(m.can_format(0, 0, f));
    EXPECT_NE(why, "");
    EXPECT_EQ(m.format_track(0, 0, f), MediaStatus::OutOfRange);
    EXPECT_FALSE(m.dirty());
    TrackInfo info;
    m.track_info(0, 0, info);
    EXPECT_EQ(info.sectors.size(), 2u);
}

TEST(MemoryTracks, ReadOnlyRefusesWritesAndFormats) {
    TrackDisk d;
    d.put(0, 0, standard_track(0, 0, 1));
    MemoryTracks m(std::move(d), true);
    EXPECT_EQ(m.write_data(0, 0, 0, DataMark::Normal, test::pattern(512)), MediaStatus::ReadOnly);
    EXPECT_EQ(m.format_track(0, 0, {.ids = {{0, 0, 1, 2}}}), MediaStatus::ReadOnly);
    EXPECT_FALSE(m.dirty());
}

// Raw and memory images: today's behaviour, seen as tracks.
TEST(UniformTracks, ASectorImageIsUniformMfmTracksAtItsRate) {
    const Geometry g = format_by_name("720K")->geometry;
    MemoryImage image(g, test::pattern(g.size_bytes(), 5));
    TracksOf tracks(image);
    EXPECT_EQ(tracks->cylinders(), 80u);
    EXPECT_EQ(tracks->heads(), 2u);
    TrackInfo info;
    ASSERT_EQ(tracks->track_info(79, 1, info), MediaStatus::Ok);
    EXPECT_EQ(info.encoding, Encoding::Mfm);
    EXPECT_EQ(info.rate, DataRate::k250);
    ASSERT_EQ(info.sectors.size(), 9u);
    for (unsigned i = 0; i < 9; ++i) EXPECT_EQ(info.sectors[i], sector(79, 1, uint8_t(i + 1)));
    std::vector<uint8_t> buf(512);
    ASSERT_EQ(tracks->read_data(79, 1, 8, buf), MediaStatus::Ok);
    const size_t at = size_t(*g.lba(79, 1, 9)) * 512;
    EXPECT_TRUE(std::equal(buf.begin(), buf.end(), image.bytes().begin() + ptrdiff_t(at)));
    ASSERT_EQ(tracks->track_info(80, 0, info), MediaStatus::Ok);
    EXPECT_TRUE(info.sectors.empty());
}

TEST(UniformTracks, WriteDeletedKeepsTheDataAndANormalMark) {
    const Geometry g = format_by_name("1.44M")->geometry;
    MemoryImage image(g);
    UniformTracks tracks(image);
    ASSERT_EQ(tracks.write_data(3, 0, 4, DataMark::Deleted, test::pattern(512, 8)),
              MediaStatus::Ok);
    const size_t at = size_t(*g.lba(3, 0, 5)) * 512;
    EXPECT_TRUE(std::equal(image.bytes().begin() + ptrdiff_t(at),
                           image.bytes().begin() + ptrdiff_t(at + 512),
                           test::pattern(512, 8).begin()));
    TrackInfo info;
    tracks.track_info(3, 0, info);
    EXPECT_EQ(info.sectors[4].mark, DataMark::Normal);
}

TEST(UniformTracks, FormatTakesOnlyTheImagesOwnLayout) {
    const Geometry g = format_by_name("1.44M")->geometry;
    MemoryImage image(g, test::pattern(g.size_bytes(), 2));
    UniformTracks tracks(image);
    TrackFormat ok{.rate = DataRate::k500, .size_code = 2, .fill = 0xF6};
    for (uint8_t r : {18, 1, 5}) ok.ids.push_back({2, 1, r, 2});
    std::string why;
    ASSERT_EQ(error_text(tracks.can_format(2, 1, ok)), "");
    ASSERT_EQ(tracks.format_track(2, 1, ok), MediaStatus::Ok);
    std::vector<uint8_t> buf(512);
    tracks.read_data(2, 1, 17, buf);
    EXPECT_EQ(buf, std::vector<uint8_t>(512, 0xF6));
    tracks.read_data(2, 1, 1, buf);  // R=2 was not named: unchanged, as today
    EXPECT_NE(buf, std::vector<uint8_t>(512, 0xF6));

    auto refused = [&](TrackFormat f) {
        const uint64_t before = test::checksum(image.bytes());
        why = error_text(tracks.can_format(2, 1, f));
        EXPECT_NE(why, "");
        EXPECT_EQ(tracks.format_track(2, 1, f), MediaStatus::OutOfRange);
        EXPECT_EQ(test::checksum(image.bytes()), before);
        return why;
    };
    TrackFormat f = ok;
    f.size_code = 3;
    EXPECT_NE(refused(f).find("512-byte"), std::string::npos);
    f = ok;
    f.ids[1].r = 19;
    refused(f);
    f = ok;
    f.ids[2].c = 3;
    refused(f);
    f = ok;
    f.ids[0].n = 3;
    refused(f);
    f = ok;
    f.ids.assign(19, SectorId{2, 1, 1, 2});
    refused(f);
    f = ok;
    f.ids.clear();
    refused(f);
    f = ok;
    f.rate = DataRate::k250;
    refused(f);
    f = ok;
    f.encoding = Encoding::Fm;
    refused(f);
    MemoryImage locked(g, true);
    UniformTracks ro(locked);
    EXPECT_EQ(ro.format_track(2, 1, ok), MediaStatus::ReadOnly);
}

TEST(TrackGeometry, AUniformDiskIsItsTableFormatAndLosesNothingAsRaw) {
    const Geometry g = format_by_name("1.44M")->geometry;
    MemoryImage image(g, test::pattern(g.size_bytes(), 3));
    auto read = read_tracks(image);
    ASSERT_TRUE(read) << error_text(read);
    const TrackDisk &disk = *read;
    EXPECT_TRUE(sector_image_losses(disk).empty());
    auto choice = choose_track_format(disk, DriveType::Auto);
    ASSERT_TRUE(choice) << error_text(choice);
    EXPECT_EQ(choice->geometry, g);
    EXPECT_EQ(choice->drive, DriveType::k144);
    EXPECT_EQ(sector_image_of(disk, g), image.bytes());
}

TEST(TrackGeometry, OneTrackOfExtraSectorsLeavesTheFormatToTheOthers) {
    // Copy protection's way: C2/H1 holds two more sectors than the other 159 tracks.
    TrackDisk disk;
    for (unsigned c = 0; c < 80; ++c)
        for (unsigned h = 0; h < 2; ++h)
            disk.put(c, h, standard_track(c, h, c == 2 && h == 1 ? 20 : 18, DataRate::k500));
    auto choice = choose_track_format(disk, DriveType::Auto);
    ASSERT_TRUE(choice) << error_text(choice);
    EXPECT_EQ(choice->geometry, format_by_name("1.44M")->geometry);
    EXPECT_EQ(choice->drive, DriveType::k144);
}

TEST(TrackGeometry, DoubleDensityFiveInchMediaFollowTheDrivesSpeed) {
    // A 360K disk imaged in a 1.2M drive: 300 kbit/s.
    TrackDisk disk;
    for (unsigned c = 0; c < 40; ++c)
        for (unsigned h = 0; h < 2; ++h) disk.put(c, h, standard_track(c, h, 9, DataRate::k300));
    std::string why;
    auto in_360 = choose_track_format(disk, DriveType::k360);
    ASSERT_TRUE(in_360) << error_text(in_360);
    EXPECT_EQ(in_360->geometry, format_by_name("360K")->geometry);  // 250 kbit/s at 300 rpm
    // An auto drive becomes the type the table lists 360K under, as for a raw image.
    auto in_auto = choose_track_format(disk, DriveType::Auto);
    ASSERT_TRUE(in_auto) << error_text(in_auto);
    EXPECT_EQ(in_auto->drive, DriveType::k120);
    EXPECT_EQ(in_auto->geometry.rate, DataRate::k300);
    EXPECT_EQ(in_auto->geometry.rpm, 360);
    why = error_text(choose_track_format(disk, DriveType::k144));
    EXPECT_NE(why, "");
    EXPECT_NE(why.find("cannot read"), std::string::npos) << why;
}

TEST(TrackGeometry, IrregularDisksGetAGeometryAndTheirLosses) {
    TrackDisk disk;
    disk.put(0, 0, standard_track(0, 0, 9, DataRate::k250));
    Track odd(Encoding::Fm, DataRate::k250);
    odd.add_filled(sector(1, 0, 1, 0), 0xE5);
    SectorInfo deleted = sector(1, 0, 2, 3);
    deleted.mark = DataMark::Deleted;
    deleted.data_crc_ok = false;
    odd.add_filled(deleted, 0);
    disk.put(1, 0, std::move(odd));
    disk.put(3, 0, standard_track(3, 0, 10, DataRate::k250));
    const auto losses = sector_image_losses(disk);
    auto has = [&](const char *text) {
        return std::ranges::any_of(
            losses, [&](const std::string &l) { return l.find(text) != std::string::npos; });
    };
    EXPECT_TRUE(has("cylinder 1 head 0 is FM")) << testing::PrintToString(losses);
    EXPECT_TRUE(has("cylinder 2 head 0 is not recorded"));
    EXPECT_TRUE(has("cylinder 1 head 0 has 2 sectors"));
    EXPECT_TRUE(has("holds 128 bytes"));
    EXPECT_TRUE(has("deleted data mark"));
    std::string why;
    auto choice = choose_track_format(disk, DriveType::Auto);
    ASSERT_TRUE(choice) << error_text(choice);
    EXPECT_EQ(choice->geometry.cylinders, 4);
    EXPECT_EQ(choice->geometry.heads, 1);
    EXPECT_EQ(choice->geometry.sectors, 10);
    EXPECT_EQ(choice->drive, DriveType::k360);
    why = error_text(choose_track_format(TrackDisk{}, DriveType::Auto));
    EXPECT_NE(why, "");
}

// A 2.88 MB disk as tracks must not take more than twice its data: measured both from the
// capacities the model reports and from the heap glibc hands out while it is built.
TEST(TrackMemory, A288DiskTakesLessThanTwiceItsData) {
    const Geometry g = format_by_name("2.88M")->geometry;
    MemoryImage image(g, test::pattern(g.size_bytes(), 6));
    const size_t before = mallinfo2().uordblks;
    auto read = read_tracks(image);
    ASSERT_TRUE(read) << error_text(read);
    auto disk = std::make_unique<TrackDisk>(std::move(*read));
    const size_t heap = mallinfo2().uordblks - before;
    const size_t data = g.size_bytes();
    EXPECT_EQ(disk->data_bytes(), data);
    EXPECT_LE(disk->heap_bytes(), 2 * data);
    std::printf("2.88M as tracks: %zu data bytes, model %zu bytes (%.3fx), malloc'd %zu (%.3fx)\n",
                data, disk->heap_bytes(), double(disk->heap_bytes()) / double(data), heap,
                double(heap) / double(data));
    if (heap != 0) {  // 0 under a sanitizer's allocator
        EXPECT_LE(heap, 2 * data);
    }
}

}  // namespace
}  // namespace fdplug::floppy
