// The Teledisk reader (td0_format.h, td0_lzss.h) against files the tests' own writer makes
// (tests/support/td0_bytes.h): both compression variants, every sector flag and data encoding,
// FM and the data rates, the comment, CRC mismatches, and corrupt or cut files refused with the
// offset of the problem.
#include "hw/block/media/td0_format.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "hw/block/media/td0_lzss.h"
#include "temp_dir.h"
#include "tests/support/expected_text.h"
#include "tests/support/td0_bytes.h"

namespace fdplug::floppy {
namespace {

using test::error_text;
using test::Td0Encoding;
using test::Td0SectorSpec;
using test::Td0Spec;
using test::Td0TrackSpec;

std::vector<uint8_t> filled(size_t size, uint8_t value) {
    return std::vector<uint8_t>(size, value);
}

// The track a reader should make of `t` (encoding and rate given).
Track expected_track(const Td0TrackSpec &t, Encoding e, DataRate rate) {
    Track out(e, rate);
    for (const Td0SectorSpec &s : t.sectors) {
        SectorInfo info{.id = {s.c, s.h, s.r, s.n},
                        .size_code = s.n <= 7 ? s.n : uint8_t(0),
                        .id_crc_ok = !(s.flags & 0x40),
                        .mark = (s.flags & 0x20) || s.n > 7 ? DataMark::None
                                : (s.flags & 0x04)          ? DataMark::Deleted
                                                            : DataMark::Normal,
                        .data_crc_ok = !(s.flags & 0x02)};
        if (info.mark == DataMark::None) info.data_crc_ok = true;  // meaningless without data
        if (test::td0_has_block(s))
            EXPECT_TRUE(out.add(info, s.data));
        else
            EXPECT_TRUE(out.add_filled(info, 0));
    }
    return out;
}

Td0Spec mixed_disk(bool advanced) {
    Td0Spec spec{.advanced = advanced, .data_rate = 0, .drive_type = 1};
    spec.comment = std::string("first line\0second line\0", 23);
    for (uint8_t c = 0; c < 3; ++c)
        for (uint8_t h = 0; h < 2; ++h)
            spec.tracks.push_back(test::td0_standard_track(c, h, 9, 2, [&](uint8_t r) {
                // raw, pattern and run-friendly sectors
                if (r % 3 == 0) return filled(512, 0xE5);
                if (r % 3 == 1) return test::pattern(512, c * 100 + h * 10 + r);
                auto d = filled(512, 0);
                for (size_t i = 0; i < 40; ++i) d[i * 7] = uint8_t(i + r);
                return d;
            }));
    return spec;
}

TEST(Td0Crc, TableMatchesTheBitwiseDefinition) {
    for (uint32_t seed = 1; seed < 20; ++seed) {
        const auto data = test::pattern(seed * 13, seed);
        EXPECT_EQ(td0_crc(data), test::td0_test_crc(data)) << seed;
    }
    EXPECT_EQ(td0_crc({}), 0);
}

TEST(Td0Lzss, ExpandsWhatTheTestCompressorWrites) {
    std::vector<std::vector<uint8_t>> inputs = {
        test::pattern(5000, 3), filled(20000, 0xF6), {'a'}, {}};
    std::vector<uint8_t> text;
    for (int i = 0; i < 3000; ++i) {
        const std::string line = "line " + std::to_string(i % 97) + " of some text\n";
        text.insert(text.end(), line.begin(), line.end());
    }
    inputs.push_back(text);  // long enough (> 32 768 symbols' worth) to rebuild the tree
    for (bool literals : {false, true}) {
        for (const auto &in : inputs) {
            const auto packed = test::Td0TestCompressor().compress(in, literals);
            auto out = lzss_expand(packed, 1 << 20);
            ASSERT_TRUE(out) << error_text(out);
            // The last byte's padding bits may decode to a symbol past the end.
            ASSERT_GE(out->size(), in.size());
            EXPECT_LE(out->size() - in.size(), kLzssMaxMatch);
            EXPECT_TRUE(std::equal(in.begin(), in.end(), out->begin()))
                << in.size() << " bytes, literals only: " << literals;
        }
    }
    const auto packed = test::Td0TestCompressor().compress(text);
    EXPECT_LT(packed.size(), text.size() / 4);
}

TEST(Td0Lzss, StopsAtItsLimit) {
    const auto packed = test::Td0TestCompressor().compress(filled(10000, 1));
    auto out = lzss_expand(packed, 9000);
    ASSERT_FALSE(out);
    EXPECT_EQ(out.error().kind(), ErrorKind::Corrupt);
    EXPECT_NE(out.error().message().find("more than 9000 bytes"), std::string::npos);
}

TEST(Td0Lzss, DistancePrefixIsTheCanonicalCode) {
    EXPECT_EQ(lzss_distance_prefix(0).length, 3);
    EXPECT_EQ(lzss_distance_prefix(0).value, 0);
    EXPECT_EQ(lzss_distance_prefix(1).value, 0b0010);
    EXPECT_EQ(lzss_distance_prefix(4).value, 0b01010);
    EXPECT_EQ(lzss_distance_prefix(63).length, 8);
    EXPECT_EQ(lzss_distance_prefix(63).value, 0xFF);
}

TEST(Td0Format, BothVariantsReadToTheSameTracks) {
    for (bool advanced : {false, true}) {
        const Td0Spec spec = mixed_disk(advanced);
        const auto bytes = test::td0_file(spec);
        ASSERT_TRUE(looks_like_td0(bytes));
        auto file = parse_td0(bytes);
        ASSERT_TRUE(file) << error_text(file);
        EXPECT_EQ(file->header.advanced, advanced);
        EXPECT_EQ(file->header.drive_type, 1);
        EXPECT_TRUE(file->warnings.empty()) << file->warnings.front();
        ASSERT_TRUE(file->has_comment);
        EXPECT_EQ(file->comment.year, 124);
        EXPECT_EQ(file->comment.second, 5);
        EXPECT_EQ(td0_comment_text(file->comment), "first line\nsecond line");
        TrackDisk want;
        for (const auto &t : spec.tracks)
            want.put(t.cylinder, t.head, expected_track(t, Encoding::Mfm, DataRate::k250));
        EXPECT_TRUE(file->disk == want) << "advanced: " << advanced;
    }
}

TEST(Td0Format, AdvancedWithLiteralsOnlyAndNormalAreTheSameDisk) {
    const auto a = parse_td0(test::td0_file(mixed_disk(true), true));
    const auto n = parse_td0(test::td0_file(mixed_disk(false)));
    ASSERT_TRUE(a) << error_text(a);
    ASSERT_TRUE(n) << error_text(n);
    EXPECT_TRUE(a->disk == n->disk);
}

TEST(Td0Format, EveryDataEncodingExpands) {
    Td0TrackSpec t{.cylinder = 0, .head = 0};
    auto runs = filled(256, 0x11);
    for (size_t i = 100; i < 120; ++i) runs[i] = uint8_t(i);
    t.sectors = {
        {.r = 1, .n = 1, .data = test::pattern(256, 1), .encoding = Td0Encoding::Raw},
        {.r = 2, .n = 1, .data = filled(256, 0xAB), .encoding = Td0Encoding::Pattern},
        {.r = 3, .n = 1, .data = runs, .encoding = Td0Encoding::Runs},
        // A 4-byte pattern fragment (kind 2), as MAME reads it, and literals around it.
        {.r = 4,
         .n = 0,
         .data = {},
         .block = std::vector<uint8_t>{2, 0, 2, 9, 8, 2, 31, 1, 2, 3, 4, 0, 2, 7, 6}},
    };
    std::vector<uint8_t> four{9, 8};
    for (int i = 0; i < 31; ++i) four.insert(four.end(), {1, 2, 3, 4});
    four.insert(four.end(), {7, 6});
    t.sectors[3].data = four;
    Td0Spec spec{.tracks = {t}};
    auto file = parse_td0(test::td0_file(spec));
    ASSERT_TRUE(file) << error_text(file);
    EXPECT_TRUE(file->warnings.empty()) << file->warnings.front();
    const Track *got = file->disk.find(0, 0);
    ASSERT_NE(got, nullptr);
    EXPECT_TRUE(*got == expected_track(t, Encoding::Mfm, DataRate::k500));
}

TEST(Td0Format, EverySectorFlagMapsToTheTrackModel) {
    Td0TrackSpec t{.cylinder = 5, .head = 1};
    const auto d = test::pattern(512, 5);
    t.sectors = {
        {.c = 5, .h = 1, .r = 1, .n = 2, .flags = 0x00, .data = d},
        {.c = 5, .h = 1, .r = 1, .n = 2, .flags = 0x01, .data = test::pattern(512, 6)},  // dup
        {.c = 5, .h = 1, .r = 2, .n = 2, .flags = 0x02, .data = d},                      // CRC
        {.c = 5, .h = 1, .r = 3, .n = 2, .flags = 0x04, .data = d},                      // deleted
        {.c = 5, .h = 1, .r = 4, .n = 2, .flags = 0x06, .data = d},  // deleted + CRC
        {.c = 5, .h = 1, .r = 5, .n = 2, .flags = 0x10},             // skipped (DOS)
        {.c = 5, .h = 1, .r = 6, .n = 2, .flags = 0x20},             // ID only
        {.c = 5, .h = 1, .r = 6, .n = 2, .flags = 0x22},             // ID only, "CRC error"
        {.c = 5, .h = 1, .r = 7, .n = 2, .flags = 0x40, .data = d},  // data without an ID
        {.c = 9, .h = 0, .r = 8, .n = 9},                            // N > 7: no data block
    };
    Td0Spec spec{.data_rate = 1, .tracks = {t}};
    auto file = parse_td0(test::td0_file(spec));
    ASSERT_TRUE(file) << error_text(file);
    const Track &got = *file->disk.find(5, 1);
    ASSERT_EQ(got.sector_count(), 10u);
    EXPECT_TRUE(got == expected_track(t, Encoding::Mfm, DataRate::k300));
    // Spelled out, physical order kept:
    EXPECT_EQ(got.info(1).id, got.info(0).id);  // the duplicate stays, after the first
    EXPECT_EQ(std::vector<uint8_t>(got.data(1).begin(), got.data(1).end()), test::pattern(512, 6));
    EXPECT_FALSE(got.info(2).data_crc_ok);
    EXPECT_EQ(got.info(3).mark, DataMark::Deleted);
    EXPECT_EQ(got.info(5).mark, DataMark::Normal);  // skipped: data read as zeros
    EXPECT_EQ(got.data(5)[0], 0);
    EXPECT_EQ(got.info(6).mark, DataMark::None);
    EXPECT_EQ(got.info(7).mark, DataMark::None);
    EXPECT_TRUE(got.info(7).data_crc_ok);  // no data, so no data CRC (found by td0_parse_fuzz)
    EXPECT_FALSE(got.info(8).id_crc_ok);   // no ID a controller can find
    EXPECT_EQ(got.info(9).mark, DataMark::None);
    EXPECT_EQ(got.info(9).id.n, 9);
}

TEST(Td0Format, FmAndDataRates) {
    const std::pair<uint8_t, DataRate> rates[] = {
        {0, DataRate::k250}, {1, DataRate::k300}, {2, DataRate::k500}, {4, DataRate::k1000}};
    for (auto [byte, rate] : rates) {
        for (bool header_fm : {false, true}) {
            Td0Spec spec{.data_rate = uint8_t(byte | (header_fm ? 0x80 : 0))};
            spec.tracks.push_back(test::td0_standard_track(
                0, 0, 2, 0, [](uint8_t r) { return test::pattern(128, r); }));
            spec.tracks.push_back(test::td0_standard_track(
                1, 0x80, 2, 0, [](uint8_t r) { return test::pattern(128, r); }));
            auto file = parse_td0(test::td0_file(spec));
            ASSERT_TRUE(file) << error_text(file);
            EXPECT_EQ(file->disk.find(0, 0)->rate(), rate);
            EXPECT_EQ(file->disk.find(0, 0)->encoding(), header_fm ? Encoding::Fm : Encoding::Mfm);
            EXPECT_EQ(file->disk.find(1, 0)->encoding(), Encoding::Fm);  // the track's FM bit
        }
    }
    Td0Spec bad{.data_rate = 6};
    auto file = parse_td0(test::td0_file(bad));
    ASSERT_FALSE(file);
    EXPECT_EQ(file.error().message(),
              "at byte 5: data rate byte 0x06 names no data rate (bits 0-2: 0 to 5)");
}

TEST(Td0Format, CommentAndSectorCrcMismatchesAreWarnings) {
    Td0Spec spec = mixed_disk(false);
    spec.tracks[1].sectors[2].crc = 0x00;
    const auto bytes = test::td0_file(spec);
    auto file = parse_td0(bytes);
    ASSERT_TRUE(file) << error_text(file);
    ASSERT_EQ(file->warnings.size(), 1u);
    EXPECT_NE(file->warnings[0].find("cylinder 0 head 1's sector 2 (R=3)'s CRC byte is 0x00"),
              std::string::npos)
        << file->warnings[0];
    const size_t at = std::stoul(file->warnings[0].substr(std::string("at byte ").size()));
    EXPECT_EQ(bytes[at], 0x00);  // the offset names the CRC byte
    // The comment's CRC, corrupted in place.
    auto damaged = test::td0_file(mixed_disk(false));
    damaged[12] ^= 0xFF;
    file = parse_td0(damaged);
    ASSERT_TRUE(file) << error_text(file);
    ASSERT_EQ(file->warnings.size(), 1u);
    EXPECT_EQ(file->warnings[0].rfind("at byte 12: the comment's CRC is", 0), 0u)
        << file->warnings[0];
}

TEST(Td0Format, StructuralDamageIsRefusedWithItsOffset) {
    auto refuse = [](const std::vector<uint8_t> &bytes) {
        auto file = parse_td0(bytes);
        EXPECT_FALSE(file);
        return file ? std::string() : file.error().message();
    };
    Td0Spec spec = mixed_disk(false);
    spec.header_crc = 0x1234;
    EXPECT_EQ(refuse(test::td0_file(spec)).rfind("at byte 10: the header's CRC is 0x1234", 0), 0u);
    EXPECT_FALSE(looks_like_td0(test::td0_file(spec)));

    spec = mixed_disk(false);
    spec.comment.reset();
    spec.tracks[0].crc = 0x77;
    {
        const uint8_t head[3] = {9, 0, 0};
        static const char *kDigits = "0123456789ABCDEF";
        const uint8_t c = uint8_t(test::td0_test_crc(head, 3));
        EXPECT_EQ(refuse(test::td0_file(spec)),
                  std::string("at byte 15: the track header's CRC byte is 0x77, but its bytes "
                              "give 0x") +
                      kDigits[c >> 4] + kDigits[c & 15]);
    }

    spec = mixed_disk(false);
    spec.comment.reset();
    spec.tracks[0].sectors[0].block = std::vector<uint8_t>{7, 1, 2};
    EXPECT_EQ(refuse(test::td0_file(spec)),
              "at byte 24: cylinder 0 head 0's sector 0 (R=1)'s data block: encoding 7 is not a "
              "Teledisk data encoding (0 raw, 1 repeated pattern, 2 runs)");
    spec.tracks[0].sectors[0].block = std::vector<uint8_t>{1, 100, 0, 1, 2};
    EXPECT_NE(refuse(test::td0_file(spec)).find("encoding 1 gives 200 bytes for a sector of 512"),
              std::string::npos);
    spec.tracks[0].sectors[0].block = std::vector<uint8_t>{2, 1, 255, 1, 2, 1, 2, 3, 4};
    EXPECT_NE(refuse(test::td0_file(spec)).find("encoding 2 gives 514 bytes for a sector of 512"),
              std::string::npos);

    spec = mixed_disk(false);
    spec.tracks.push_back(spec.tracks[0]);
    EXPECT_NE(refuse(test::td0_file(spec)).find("a second record for cylinder 0 head 0"),
              std::string::npos);
    spec = mixed_disk(false);
    spec.tracks[0].cylinder = 84;
    EXPECT_NE(refuse(test::td0_file(spec)).find("cylinder 84 lies beyond"), std::string::npos);

    Td0Spec old{.advanced = true, .version = 15};
    auto file = parse_td0(test::td0_file(old));
    ASSERT_FALSE(file);
    EXPECT_EQ(file.error().kind(), ErrorKind::Unsupported);
    EXPECT_EQ(file.error().message().rfind("at byte 4: version 1.5 advanced compression (LZW", 0),
              0u);
    EXPECT_EQ(refuse({'T', 'X', 0}),
              "at byte 0: no \"TD\" or \"td\" signature: this is not a "
              "Teledisk file");
}

TEST(Td0Format, EveryTruncationIsRefusedWithAnOffsetInsideTheData) {
    for (bool advanced : {false, true}) {
        const auto whole = test::td0_file(mixed_disk(advanced));
        const auto expanded_size = [&] {
            auto body = test::td0_body(mixed_disk(advanced));
            return body.size() + kTd0HeaderBytes;
        }();
        size_t refused = 0;
        for (size_t cut = 0; cut < whole.size(); cut += 7) {
            const std::vector<uint8_t> part(whole.begin(), whole.begin() + long(cut));
            auto file = parse_td0(part);
            if (file) continue;  // an advanced file may lose only padding bits
            ++refused;
            const std::string &m = file.error().message();
            ASSERT_EQ(m.rfind("at byte ", 0), 0u) << m;
            const size_t at = std::stoul(m.substr(8));
            EXPECT_LE(at, advanced ? expanded_size : part.size()) << m;
            if (advanced && cut > kTd0HeaderBytes) {
                EXPECT_NE(m.find(" of the expanded data: "), std::string::npos) << m;
            }
        }
        EXPECT_GE(refused, whole.size() / 7 - 1);
    }
}

}  // namespace
}  // namespace fdplug::floppy
