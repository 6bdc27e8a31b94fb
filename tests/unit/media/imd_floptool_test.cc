// An independent reader for the IMD files fdplug writes: MAME's floptool (Debian's mame-tools).
// Each file write_imd() makes here — standard disks converted from raw images and irregular
// ones (FM tracks, every record type, cylinder and head maps, sizes from 128 to 8192 bytes) —
// must be identified as IMD and convert to MAME's own format; standard disks must also convert
// to a raw PC image byte for byte equal to the raw image they came from. Skipped (exit 77) when
// floptool is not installed.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "hw/block/media/floppy_formats.h"
#include "hw/block/media/imd_format.h"
#include "hw/block/media/memory_image.h"
#include "hw/block/media/track_convert.h"
#include "temp_dir.h"
#include "tests/support/expected_text.h"
#include "tests/support/shell_command.h"

namespace fdplug::floppy {
namespace {

using test::error_text;
using test::TempDir;

using Result = fdplug::test::ShellResult;
using fdplug::test::run_shell;

bool floptool_present() {
    return fdplug::test::have_command("floptool");
}

std::vector<uint8_t> imd_bytes(const TrackDisk &disk, const std::string &comment) {
    auto out = write_imd(imd_header("01/02/2024 03:04:05", comment), disk);
    EXPECT_EQ(error_text(out), "");
    return out ? *out : std::vector<uint8_t>{};
}

class Floptool : public ::testing::Test {
  protected:
    TempDir dir;

    // Writes the file, and checks that floptool identifies it as IMD and converts it to MFI.
    std::string check_readable(const std::string &name, const std::vector<uint8_t> &bytes) {
        const std::string path = dir.file(name + ".imd");
        test::write_file(path, bytes);
        const Result id = run_shell("floptool identify '" + path + "'");
        EXPECT_EQ(id.status, 0) << id.output;
        EXPECT_NE(id.output.find("imd"), std::string::npos) << name << ": " << id.output;
        EXPECT_NE(id.output.find("IMD disk image"), std::string::npos) << id.output;
        const std::string mfi = dir.file(name + ".mfi");
        const Result conv = run_shell("floptool flopconvert imd mfi '" + path + "' '" + mfi + "'");
        EXPECT_EQ(conv.status, 0) << name << ": " << conv.output;
        EXPECT_GT(test::read_file(mfi).size(), 0u) << name << ": " << conv.output;
        std::printf("%s: %zu bytes; identify: %s", name.c_str(), bytes.size(),
                    id.output.substr(id.output.find(':') + 1).c_str());
        return path;
    }
};

TEST_F(Floptool, StandardDisksAreIdentifiedAndConvertBackToTheSameSectors) {
    for (const char *name : {"1.44M", "360K"}) {
        const Geometry g = format_by_name(name)->geometry;
        MemoryImage raw(g, test::pattern(g.size_bytes(), g.sectors));
        auto disk = read_tracks(raw);
        ASSERT_TRUE(disk) << error_text(disk);
        const std::string path = check_readable(name, imd_bytes(*disk, "converted from raw"));
        const std::string back = dir.file(std::string(name) + ".img");
        const Result conv = run_shell("floptool flopconvert imd pc '" + path + "' '" + back + "'");
        ASSERT_EQ(conv.status, 0) << conv.output;
        EXPECT_EQ(test::read_file(back), raw.bytes()) << name;
    }
}

TEST_F(Floptool, IrregularDisksAreIdentifiedAndConvert) {
    TrackDisk disk;
    // FM: 26 x 128 bytes at 500 kbit/s (the 8" single density layout), 10 x 128 at 250
    // (what fits in one turn at 300 rpm; MAME lays the sectors out on a real track).
    for (unsigned c = 0; c < 2; ++c) {
        Track fm(Encoding::Fm, c ? DataRate::k250 : DataRate::k500);
        for (uint8_t r = 1; r <= (c ? 10 : 26); ++r)
            fm.add({.id = {uint8_t(c), 0, r, 0}, .size_code = 0}, test::pattern(128, r));
        disk.put(c, 0, std::move(fm));
    }
    // Every mark and CRC state, compressed and not, at 300 kbit/s MFM.
    Track marks(Encoding::Mfm, DataRate::k300);
    const DataMark kinds[] = {DataMark::Normal, DataMark::Deleted};
    uint8_t r = 1;
    for (DataMark mark : kinds)
        for (bool crc : {true, false})
            for (bool uniform : {true, false}) {
                SectorInfo s{.id = {2, 0, r, 1}, .size_code = 1, .mark = mark, .data_crc_ok = crc};
                if (uniform)
                    marks.add_filled(s, r);
                else
                    marks.add(s, test::pattern(256, r));
                ++r;
            }
    marks.add_filled({.id = {2, 0, r, 1}, .size_code = 1, .mark = DataMark::None}, 0);
    disk.put(2, 0, std::move(marks));
    // Cylinder and head maps; sizes up to 8192 bytes; an interleaved track.
    Track maps(Encoding::Mfm, DataRate::k250);
    maps.add({.id = {40, 1, 1, 2}, .size_code = 2}, test::pattern(512, 1));
    maps.add({.id = {3, 0, 2, 2}, .size_code = 2}, test::pattern(512, 2));
    disk.put(3, 0, std::move(maps));
    Track big(Encoding::Mfm, DataRate::k500);
    big.add({.id = {4, 0, 1, 6}, .size_code = 6}, test::pattern(8192, 4));
    disk.put(4, 0, std::move(big));
    Track interleaved(Encoding::Mfm, DataRate::k250);
    for (uint8_t s : {1, 4, 7, 2, 5, 8, 3, 6, 9})
        interleaved.add({.id = {5, 0, s, 2}, .size_code = 2}, test::pattern(512, s));
    disk.put(5, 0, std::move(interleaved));
    check_readable("irregular", imd_bytes(disk, "every record type\r\nand a second line"));
}

}  // namespace
}  // namespace fdplug::floppy

int main(int argc, char **argv) {
    if (!fdplug::floppy::floptool_present()) {
        std::printf("SKIP: floptool is not installed (Debian package mame-tools; scripts/setup)\n");
        return 77;
    }
    ::testing::InitGoogleTest(&argc, argv);
    return RUN_ALL_TESTS();
}
