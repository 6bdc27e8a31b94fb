// libFuzzer target: the Teledisk reader (hw/block/media/td0_format.h), its LZSS + adaptive
// Huffman expander (td0_lzss.h) and what a medium does with the tracks it read. The input is a
// whole (mostly hostile) TD0 file. A hostile file rarely carries a matching header CRC, so each
// input that starts with "TD" or "td" is read a second time with its header CRC made right: the
// fuzzer reaches the comment, track and sector code without having to guess a CRC-16.
//
// Checked for every input, besides "no sanitizer report":
//   - a refused file is Corrupt or Unsupported, with a message "at byte N: …" whose N lies
//     within the file (for a "td" file: "at byte N of the expanded data: …", N within the
//     expansion limit);
//   - an accepted file has its tracks within the model's bounds; the geometry rules and the
//     raw-image losses run on them; every sector they list can be read through MemoryTracks;
//     tracks an IMD file can hold are written as IMD and read back to the same tracks;
//   - the expander alone, on an input that is not a "td" file (which the reader expanded
//     already) as a compressed stream, stays within its limit.
//
// Seeds: FDPLUG_TD0_FUZZ_SEEDS=DIR td0_parse_fuzz writes its seeds into DIR (files the tests'
// TD0 writer makes, tests/support/td0_bytes.h: both variants, every flag and encoding) and
// exits; tests/fuzz/make-seeds runs it.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <span>
#include <string>
#include <vector>

#include "hw/block/media/imd_format.h"
#include "hw/block/media/memory_tracks.h"
#include "hw/block/media/td0_format.h"
#include "hw/block/media/td0_lzss.h"
#include "hw/block/media/track_geometry.h"
#include "tests/support/td0_bytes.h"

namespace fdplug::floppy::fuzz {
namespace {

[[noreturn]] void fail(const char *what, const std::string &detail = "") {
    std::fprintf(stderr, "td0_parse_fuzz: %s%s%s\n", what, detail.empty() ? "" : ": ",
                 detail.c_str());
    std::abort();
}

void check_refusal(const Error<> &error, size_t size) {
    if (error.kind() != ErrorKind::Corrupt && error.kind() != ErrorKind::Unsupported)
        fail("a refusal of an unexpected kind", error.message());
    const std::string &m = error.message();
    const std::string prefix = "at byte ";
    if (m.rfind(prefix, 0) != 0) fail("a refusal without its offset", m);
    const size_t at = std::strtoull(m.c_str() + prefix.size(), nullptr, 10);
    const bool expanded = m.find(" of the expanded data: ") != std::string::npos;
    if (at > (expanded ? kMaxTd0ExpandedBytes : size))
        fail("a refusal names an offset past the data", m);
}

void check_as_medium(const Td0File &file) {
    if (file.warnings.size() > 101) fail("more warnings than the cap");
    for (DriveType drive : {DriveType::Auto, DriveType::k144, DriveType::k120, DriveType::k360}) {
        auto choice = choose_track_format(file.disk, drive);
        if (!choice && choice.error().message().empty())
            fail("a refused geometry without a reason");
    }
    (void)sector_image_losses(file.disk);
    MemoryTracks medium(file.disk, true);
    TrackInfo info;
    std::vector<uint8_t> buf;
    bool imd_holds = true;
    for (unsigned c = 0; c < kMaxTrackCylinders; ++c) {
        for (unsigned h = 0; h < kMaxTrackHeads; ++h) {
            const Track *t = file.disk.find(c, h);
            if (!t) continue;
            if (t->sector_count() > kMaxSectorsPerTrack || t->data_bytes() > kMaxTrackDataBytes)
                fail("a track past the model's bounds");
            imd_holds = imd_holds && imd_can_hold(*t);
            if (medium.track_info(c, h, info) != MediaStatus::Ok) fail("track_info failed");
            for (size_t i = 0; i < info.sectors.size(); ++i) {
                buf.resize(sector_size(info.sectors[i].size_code));
                if (medium.read_data(c, h, i, buf) != MediaStatus::Ok)
                    fail("a listed sector cannot be read");
            }
        }
    }
    if (!imd_holds) return;
    auto imd = write_imd(imd_header("01/01/2026 00:00:00", "fuzz\r\n"), file.disk);
    if (!imd) fail("tracks an IMD file holds cannot be written", imd.error().message());
    auto back = parse_imd(*imd);
    if (!back || !(back->disk == file.disk)) fail("the tracks changed through IMD");
}

void check_file(std::span<const uint8_t> bytes) {
    auto file = parse_td0(bytes);
    if (!file) {
        check_refusal(file.error(), bytes.size());
        return;
    }
    check_as_medium(*file);
}

// Bytes that differ per offset.
std::vector<uint8_t> pattern(size_t size, uint32_t seed) {
    std::vector<uint8_t> v(size);
    for (size_t i = 0; i < size; ++i) v[i] = uint8_t(seed * 37 + i * 13 + (i >> 5));
    return v;
}

void write_seeds(const char *dir) {
    using namespace test;
    auto put = [dir](const std::string &name, const std::vector<uint8_t> &bytes) {
        std::ofstream(std::string(dir) + "/" + name, std::ios::binary)
            .write(reinterpret_cast<const char *>(bytes.data()), std::streamsize(bytes.size()));
    };
    auto small = [](uint8_t c, uint8_t h, unsigned spt) {
        return td0_standard_track(c, h, spt, 0, [](uint8_t r) { return pattern(128, r); });
    };
    Td0TrackSpec flags{.cylinder = 0, .head = 0};
    uint8_t r = 1;
    for (uint8_t f : {0x00, 0x01, 0x02, 0x04, 0x06, 0x10, 0x20, 0x40})
        flags.sectors.push_back({.r = r++, .n = 0, .flags = f, .data = pattern(128, f)});
    flags.sectors.push_back({.r = r++, .n = 8});
    Td0TrackSpec encodings{.cylinder = 1, .head = 1};
    auto runs = std::vector<uint8_t>(128, 0xE5);
    for (size_t i = 0; i < 20; ++i) runs[i * 3] = uint8_t(i);
    encodings.sectors = {
        {.c = 1, .h = 1, .r = 1, .n = 0, .data = pattern(128, 1), .encoding = Td0Encoding::Raw},
        {.c = 1, .h = 1, .r = 2, .n = 0, .data = std::vector<uint8_t>(128, 0xF6)},
        {.c = 1, .h = 1, .r = 3, .n = 0, .data = runs, .encoding = Td0Encoding::Runs},
    };
    for (bool advanced : {false, true}) {
        const std::string v = advanced ? "advanced-" : "normal-";
        Td0Spec two{
            .advanced = advanced, .data_rate = 0, .tracks = {small(0, 0, 4), small(0, 1, 4)}};
        put(v + "two-tracks", td0_file(two));
        Td0Spec commented = two;
        commented.comment = std::string("a comment\0second line\0", 22);
        put(v + "comment", td0_file(commented));
        put(v + "every-flag", td0_file({.advanced = advanced, .tracks = {flags}}));
        put(v + "every-encoding", td0_file({.advanced = advanced, .tracks = {encodings}}));
        Td0Spec fm{.advanced = advanced, .data_rate = 0x81, .tracks = {small(0, 0x80, 3)}};
        put(v + "fm-300", td0_file(fm));
        put(v + "no-tracks", td0_file({.advanced = advanced}));
        auto cut = td0_file(two);
        cut.resize(cut.size() * 2 / 3);
        put(v + "truncated", cut);
    }
    Td0Spec literal{.advanced = true, .data_rate = 4, .tracks = {small(2, 0, 2)}};
    put("advanced-literals-only-1000", td0_file(literal, true));
}

}  // namespace
}  // namespace fdplug::floppy::fuzz

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
    if (const char *dir = std::getenv("FDPLUG_TD0_FUZZ_SEEDS")) {
        fdplug::floppy::fuzz::write_seeds(dir);
        std::exit(0);
    }
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    using namespace fdplug::floppy;
    const std::span<const uint8_t> bytes(data, size);
    fuzz::check_file(bytes);
    if (size >= kTd0HeaderBytes && !looks_like_td0(bytes) &&
        ((data[0] == 'T' && data[1] == 'D') || (data[0] == 't' && data[1] == 'd'))) {
        std::vector<uint8_t> fixed(data, data + size);
        const uint16_t crc = td0_crc(std::span<const uint8_t>(fixed.data(), 10));
        fixed[10] = uint8_t(crc);
        fixed[11] = uint8_t(crc >> 8);
        fuzz::check_file(fixed);
    }
    if (size >= 2 && data[0] == 't' && data[1] == 'd') return 0;  // expanded above already
    auto out = lzss_expand(bytes, 64 * 1024);
    if (out && out->size() > 64 * 1024) fuzz::fail("the expander passed its limit");
    return 0;
}
