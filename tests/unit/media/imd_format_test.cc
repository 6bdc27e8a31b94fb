// IMD parsing and writing: every mode and record type, the cylinder and head maps, mixed sector
// sizes, the comment, compression on write, byte-identical round trips, and every corrupt or
// truncated form refused with its byte offset. Files come from the tests' own writer
// (imd_bytes.h), never from the one under test.
#include "hw/block/media/imd_format.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "tests/support/expected_text.h"
#include "tests/support/imd_bytes.h"

namespace fdplug::floppy {
namespace {

using test::error_text;
using test::imd_data_record;
using test::imd_file;
using test::imd_fill_record;
using test::ImdTrackSpec;
using test::kTestImdHeader;
using test::standard_imd_track;

ImdFile parse_ok(const std::vector<uint8_t> &bytes) {
    auto f = parse_imd(bytes);
    EXPECT_EQ(error_text(f), "");
    return f ? *f : ImdFile{};
}

// The message of a refused file; it must name `offset`.
std::string refused_at(const std::vector<uint8_t> &bytes, size_t offset) {
    const std::string error = error_text(parse_imd(bytes));
    EXPECT_NE(error, "");
    EXPECT_EQ(error.rfind("at byte " + std::to_string(offset) + ": ", 0), 0u) << error;
    return error;
}

std::vector<uint8_t> rewritten(const ImdFile &f) {
    auto out = write_imd(f.header, f.disk);
    EXPECT_EQ(error_text(out), "");
    return out ? *out : std::vector<uint8_t>{};
}

size_t header_end() {
    return kTestImdHeader.size() + 1;
}

TEST(ImdParse, HeaderCommentAndAStandardTrack) {
    const auto bytes = imd_file({standard_imd_track(0, 0, 9)});
    const ImdFile f = parse_ok(bytes);
    EXPECT_EQ(f.header, kTestImdHeader);
    EXPECT_EQ(imd_comment(f.header), "A test disk\r\n");
    const Track *t = f.disk.find(0, 0);
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->encoding(), Encoding::Mfm);
    EXPECT_EQ(t->rate(), DataRate::k250);
    ASSERT_EQ(t->sector_count(), 9u);
    for (unsigned i = 0; i < 9; ++i) {
        EXPECT_EQ(t->info(i).id, (SectorId{0, 0, uint8_t(i + 1), 2}));
        EXPECT_EQ(t->info(i).mark, DataMark::Normal);
        const auto want = imd_data_record(1, 512, uint8_t(i + 1));
        EXPECT_TRUE(std::equal(t->data(i).begin(), t->data(i).end(), want.begin() + 1));
    }
    EXPECT_EQ(rewritten(f), bytes);
}

TEST(ImdParse, EveryModeGivesItsRateAndEncoding) {
    const std::pair<DataRate, Encoding> want[] = {
        {DataRate::k500, Encoding::Fm},  {DataRate::k300, Encoding::Fm},
        {DataRate::k250, Encoding::Fm},  {DataRate::k500, Encoding::Mfm},
        {DataRate::k300, Encoding::Mfm}, {DataRate::k250, Encoding::Mfm}};
    std::vector<ImdTrackSpec> tracks;
    for (uint8_t mode = 0; mode < 6; ++mode)
        tracks.push_back(standard_imd_track(mode, 0, 2, 1, mode));
    const auto bytes = imd_file(tracks);
    const ImdFile f = parse_ok(bytes);
    for (unsigned mode = 0; mode < 6; ++mode) {
        const Track *t = f.disk.find(mode, 0);
        ASSERT_NE(t, nullptr);
        EXPECT_EQ(t->rate(), want[mode].first) << mode;
        EXPECT_EQ(t->encoding(), want[mode].second) << mode;
    }
    EXPECT_EQ(rewritten(f), bytes);
}

TEST(ImdParse, EveryRecordTypeGivesItsMarkCrcAndData) {
    ImdTrackSpec t{.mode = 3, .size_code = 1};
    for (uint8_t type = 0; type <= 8; ++type) {
        t.r_map.push_back(uint8_t(type + 1));
        const bool compressed = type == 2 || type == 4 || type == 6 || type == 8;
        if (type == 0)
            t.records.push_back({0});
        else if (compressed)
            t.records.push_back(imd_fill_record(type, uint8_t(0x40 + type)));
        else
            t.records.push_back(imd_data_record(type, 256, type));
    }
    const auto bytes = imd_file({t});
    const ImdFile f = parse_ok(bytes);
    const Track *track = f.disk.find(0, 0);
    ASSERT_NE(track, nullptr);
    struct Want {
        DataMark mark;
        bool crc_ok;
    };
    const Want want[] = {
        {DataMark::None, true},    {DataMark::Normal, true},   {DataMark::Normal, true},
        {DataMark::Deleted, true}, {DataMark::Deleted, true},  {DataMark::Normal, false},
        {DataMark::Normal, false}, {DataMark::Deleted, false}, {DataMark::Deleted, false}};
    for (uint8_t type = 0; type <= 8; ++type) {
        const SectorInfo &s = track->info(type);
        EXPECT_EQ(s.mark, want[type].mark) << int(type);
        if (type) {
            EXPECT_EQ(s.data_crc_ok, want[type].crc_ok) << int(type);
        }
        EXPECT_EQ(track->data(type).size(), 256u);
        if (type == 2 || type == 4 || type == 6 || type == 8) {
            EXPECT_TRUE(std::ranges::all_of(track->data(type),
                                            [&](uint8_t b) { return b == 0x40 + type; }));
        }
    }
    EXPECT_EQ(rewritten(f), bytes);  // each type is written back as itself
}

TEST(ImdParse, CylinderAndHeadMapsNameTheIds) {
    ImdTrackSpec t = standard_imd_track(5, 1, 3);
    t.c_map = {5, 44, 5};
    ImdTrackSpec u = standard_imd_track(6, 0, 3);
    u.h_map = {0, 1, 7};
    ImdTrackSpec both = standard_imd_track(7, 1, 2);
    both.c_map = {1, 2};
    both.h_map = {3, 4};
    const auto bytes = imd_file({t, u, both});
    const ImdFile f = parse_ok(bytes);
    EXPECT_EQ(f.disk.find(5, 1)->info(1).id, (SectorId{44, 1, 2, 2}));
    EXPECT_EQ(f.disk.find(6, 0)->info(2).id, (SectorId{6, 7, 3, 2}));
    EXPECT_EQ(f.disk.find(7, 1)->info(1).id, (SectorId{2, 4, 2, 2}));
    EXPECT_EQ(rewritten(f), bytes);
}

TEST(ImdParse, MixedSizesFmTracksAndInterleaveAcrossTheDisk) {
    ImdTrackSpec fm = standard_imd_track(0, 0, 26, 0, 2);   // 8" style: 26 x 128, FM
    ImdTrackSpec big = standard_imd_track(1, 0, 5, 3, 3);   // 5 x 1024, 500 kbit/s MFM
    ImdTrackSpec huge = standard_imd_track(2, 0, 1, 6, 3);  // one 8192-byte sector
    ImdTrackSpec interleaved = standard_imd_track(3, 0, 9);
    interleaved.r_map = {1, 6, 2, 7, 3, 8, 4, 9, 5};
    ImdTrackSpec empty{.mode = 5, .cylinder = 4, .size_code = 0};
    const auto bytes = imd_file({fm, big, huge, interleaved, empty});
    const ImdFile f = parse_ok(bytes);
    EXPECT_EQ(f.disk.find(0, 0)->sector_count(), 26u);
    EXPECT_EQ(f.disk.find(0, 0)->encoding(), Encoding::Fm);
    EXPECT_EQ(f.disk.find(1, 0)->data(4).size(), 1024u);
    EXPECT_EQ(f.disk.find(2, 0)->data(0).size(), 8192u);
    EXPECT_EQ(f.disk.find(3, 0)->info(1).id.r, 6);
    ASSERT_NE(f.disk.find(4, 0), nullptr);  // recorded, with no sectors: unformatted
    EXPECT_EQ(f.disk.find(4, 0)->sector_count(), 0u);
    EXPECT_EQ(rewritten(f), bytes);
}

TEST(ImdParse, AnEmptyCommentAndNoTracks) {
    const std::string header = "IMD 1.18: 01/01/2000 00:00:00\r\n";
    const auto bytes = imd_file({}, header);
    const ImdFile f = parse_ok(bytes);
    EXPECT_EQ(imd_comment(f.header), "");
    EXPECT_EQ(f.disk.track_count(), 0u);
    EXPECT_EQ(rewritten(f), bytes);
}

TEST(ImdWrite, UniformSectorsAreCompressedAndOthersKeptWhole) {
    TrackDisk disk;
    Track t(Encoding::Mfm, DataRate::k500);
    t.add_filled({.id = {0, 0, 1, 2}}, 0xE5);
    std::vector<uint8_t> mixed(512, 0xE5);
    mixed[511] = 0;
    t.add({.id = {0, 0, 2, 2}}, mixed);
    t.add_filled({.id = {0, 0, 3, 2}, .mark = DataMark::Deleted, .data_crc_ok = false}, 0);
    t.add_filled({.id = {0, 0, 4, 2}, .mark = DataMark::None}, 0);
    disk.put(0, 0, std::move(t));
    const std::string header = imd_header("02/03/2024 04:05:06", "made by a test");
    auto written = write_imd(header, disk);
    ASSERT_EQ(error_text(written), "");
    const std::vector<uint8_t> &out = *written;
    std::vector<uint8_t> want(header.begin(), header.end());
    want.insert(want.end(), {0x1A, 3, 0, 0, 4, 2, 1, 2, 3, 4, 2, 0xE5, 1});
    want.insert(want.end(), mixed.begin(), mixed.end());
    want.insert(want.end(), {8, 0, 0});
    EXPECT_EQ(out, want);
    EXPECT_EQ(header, "IMD 1.18: 02/03/2024 04:05:06\r\nmade by a test");
}

TEST(ImdWrite, RefusesWhatAnImdFileCannotHold) {
    auto refuses = [&](Track t, const char *text) {
        TrackDisk disk;
        disk.put(2, 1, std::move(t));
        const std::string error = error_text(write_imd(kTestImdHeader, disk));
        EXPECT_NE(error.find("cylinder 2 head 1: "), std::string::npos) << error;
        EXPECT_NE(error.find(text), std::string::npos) << error;
    };
    Track fast(Encoding::Mfm, DataRate::k1000);
    refuses(std::move(fast), "1 Mbit/s");
    Track mixed(Encoding::Mfm, DataRate::k500);
    mixed.add_filled({.id = {2, 1, 1, 2}, .size_code = 2}, 0);
    mixed.add_filled({.id = {2, 1, 2, 3}, .size_code = 3}, 0);
    refuses(std::move(mixed), "mixes 512 and 1024");
    Track n7(Encoding::Mfm, DataRate::k500);
    n7.add_filled({.id = {2, 1, 1, 7}, .size_code = 7}, 0);
    refuses(std::move(n7), "128 to 8192");
    Track id_n(Encoding::Mfm, DataRate::k500);
    id_n.add_filled({.id = {2, 1, 1, 3}, .size_code = 2}, 0);
    refuses(std::move(id_n), "N=3 in its ID");
    Track id_crc(Encoding::Mfm, DataRate::k500);
    id_crc.add_filled({.id = {2, 1, 1, 2}, .id_crc_ok = false}, 0);
    refuses(std::move(id_crc), "ID CRC error");

    EXPECT_NE(error_text(write_imd("not an imd", TrackDisk{})), "");
    EXPECT_NE(error_text(write_imd("IMD 1.18: \x1A in the comment", TrackDisk{})), "");
}

TEST(ImdDetect, TheSignatureDecides) {
    const std::string imd = "IMD 1.18";
    EXPECT_TRUE(looks_like_imd(std::span(reinterpret_cast<const uint8_t *>(imd.data()), 4)));
    const uint8_t boot[] = {0xEB, 0x3C, 0x90, 'M'};
    EXPECT_FALSE(looks_like_imd(boot));
    const uint8_t close[] = {'I', 'M', 'D', '1'};
    EXPECT_FALSE(looks_like_imd(close));
    EXPECT_FALSE(looks_like_imd(std::span<const uint8_t>(boot, 3)));
}

// Every corrupt or truncated form: refused with the offset of the byte at fault.
TEST(ImdCorrupt, SignatureAndHeader) {
    refused_at({'R', 'A', 'W', ' ', 0x1A}, 0);
    std::vector<uint8_t> no_end(kTestImdHeader.begin(), kTestImdHeader.end());
    refused_at(no_end, no_end.size());
}

TEST(ImdCorrupt, TrackHeaderFields) {
    const size_t at = header_end();
    auto with = [](auto edit) {
        ImdTrackSpec t = standard_imd_track(0, 0, 2);
        edit(t);
        return imd_file({t});
    };
    EXPECT_NE(refused_at(with([](ImdTrackSpec &t) { t.mode = 6; }), at).find("mode 0x06"),
              std::string::npos);
    refused_at(with([](ImdTrackSpec &t) { t.cylinder = 84; }), at + 1);
    refused_at(with([](ImdTrackSpec &t) { t.extra_head_bits = 0x02; }), at + 2);
    refused_at(with([](ImdTrackSpec &t) { t.extra_head_bits = 0x20; }), at + 2);
    refused_at(with([](ImdTrackSpec &t) { t.size_code = 7; }), at + 4);
    EXPECT_NE(refused_at(with([](ImdTrackSpec &t) { t.size_code = 0xFF; }), at + 4).find("0xFF"),
              std::string::npos);
}

TEST(ImdCorrupt, DeclaredSizesAreBoundedBeforeAnyData) {
    // 9 sectors of 8192 bytes (72 KiB): refused at the count byte, with no data present at all.
    ImdTrackSpec t{.size_code = 6};
    for (uint8_t r = 1; r <= 9; ++r) t.r_map.push_back(r);
    const auto bytes = imd_file({t});
    EXPECT_NE(refused_at(bytes, header_end() + 3).find("more than a track holds"),
              std::string::npos);
}

TEST(ImdCorrupt, BadRecordTypeAndDuplicateTrack) {
    ImdTrackSpec t = standard_imd_track(0, 0, 2);
    t.records[1][0] = 9;
    const size_t second_record = header_end() + 5 + 2 + 513;
    refused_at(imd_file({t}), second_record);

    const auto twice = imd_file({standard_imd_track(3, 1, 1), standard_imd_track(3, 1, 1)});
    const size_t second_track = header_end() + 5 + 1 + 513;
    EXPECT_NE(
        refused_at(twice, second_track).find("first is at byte " + std::to_string(header_end())),
        std::string::npos);
}

// Cutting a valid file anywhere inside its tracks is refused at the cut (a truncated track
// header at its start), with what was being read.
TEST(ImdCorrupt, EveryTruncationIsRefusedWhereTheFileEnds) {
    ImdTrackSpec maps = standard_imd_track(1, 1, 3, 0);
    maps.c_map = {1, 1, 9};
    maps.h_map = {1, 0, 1};
    maps.records[1] = imd_fill_record(4, 0x11);
    const auto full =
        imd_file({standard_imd_track(0, 0, 2, 0), maps, standard_imd_track(2, 0, 1, 0)});
    ASSERT_EQ(error_text(parse_imd(full)), "");
    // Track record starts, to tell a cut inside a track header from one inside its body.
    const size_t t0 = header_end(), t1 = t0 + 5 + 2 + 2 * 129, t2 = t1 + 5 + 9 + 129 + 2 + 129;
    for (size_t cut = header_end() + 1; cut < full.size(); ++cut) {
        if (cut == t1 || cut == t2) continue;  // a whole number of tracks: valid
        const std::vector<uint8_t> part(full.begin(), full.begin() + ptrdiff_t(cut));
        const std::string error = error_text(parse_imd(part));
        ASSERT_NE(error, "") << "cut at " << cut;
        const size_t start = cut < t1 ? t0 : cut < t2 ? t1 : t2;
        if (cut - start < 5) {
            EXPECT_EQ(error.rfind("at byte " + std::to_string(start) + ": ", 0), 0u) << error;
            EXPECT_NE(error.find("5 header bytes"), std::string::npos) << error;
        } else {
            EXPECT_NE(error.find("but the file ends"), std::string::npos) << error;
            // The offset named is where the missing piece starts: at or before the cut.
            const size_t named = std::stoul(error.substr(8));
            EXPECT_LE(named, cut) << error;
            EXPECT_GT(named, start) << error;
        }
    }
}

TEST(ImdCorrupt, AFileLargerThanAnyDiskIsRefusedUnread) {
    std::vector<uint8_t> big(kMaxImdFileBytes + 1);
    std::copy(kTestImdHeader.begin(), kTestImdHeader.end(), big.begin());
    EXPECT_NE(refused_at(big, 0).find("larger than any IMD disk"), std::string::npos);
}

}  // namespace
}  // namespace fdplug::floppy
