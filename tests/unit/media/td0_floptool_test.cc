// An independent reader for the TD0 files the tests' writer makes (tests/support/td0_bytes.h):
// MAME's floptool (Debian's mame-tools). Each file — both compression variants — must be
// identified as a Teledisk image and convert to MAME's own format; standard disks must also
// convert to a raw PC image equal, byte for byte, to the sectors they were made from, and read
// the same through fdplug's reader. Skipped (exit 77) when floptool is not installed.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "hw/block/media/td0_format.h"
#include "temp_dir.h"
#include "tests/support/expected_text.h"
#include "tests/support/shell_command.h"
#include "tests/support/td0_bytes.h"

namespace fdplug::floppy {
namespace {

using test::error_text;
using test::TempDir;

using Result = fdplug::test::ShellResult;
using fdplug::test::run_shell;

bool floptool_present() {
    return fdplug::test::have_command("floptool");
}

// A standard disk of C x 2 x SPT 512-byte sectors, and the raw image of it.
struct Standard {
    const char *name;
    uint8_t cylinders, spt, rate, drive_type;
};

std::vector<uint8_t> sector_bytes(unsigned c, unsigned h, unsigned r) {
    // Text-like data with repeats, so that the compressor finds matches as well as literals.
    std::vector<uint8_t> d = test::pattern(512, c * 64 + h * 32 + r);
    for (size_t i = 0; i < 512; i += 64) std::fill_n(d.begin() + long(i), 24, uint8_t('A' + r));
    return d;
}

class Floptool : public ::testing::Test {
  protected:
    TempDir dir;

    std::string check_readable(const std::string &name, const std::vector<uint8_t> &bytes) {
        const std::string path = dir.file(name + ".td0");
        test::write_file(path, bytes);
        const Result id = run_shell("floptool identify '" + path + "'");
        EXPECT_EQ(id.status, 0) << id.output;
        EXPECT_NE(id.output.find("td0"), std::string::npos) << name << ": " << id.output;
        EXPECT_NE(id.output.find("Teledisk disk image"), std::string::npos) << id.output;
        const std::string mfi = dir.file(name + ".mfi");
        const Result conv = run_shell("floptool flopconvert td0 mfi '" + path + "' '" + mfi + "'");
        EXPECT_EQ(conv.status, 0) << name << ": " << conv.output;
        EXPECT_GT(test::read_file(mfi).size(), 0u) << name << ": " << conv.output;
        std::printf("%s: %zu bytes\n", name.c_str(), bytes.size());
        return path;
    }
};

TEST_F(Floptool, StandardDisksConvertToTheSameSectorsInBothVariants) {
    const Standard disks[] = {
        {"360K", 40, 9, 0, 1}, {"720K", 80, 9, 0, 3}, {"1.44M", 80, 18, 2, 4}};
    for (const Standard &d : disks) {
        test::Td0Spec spec{.data_rate = d.rate, .drive_type = d.drive_type};
        spec.comment = std::string("floptool test\0", 14);
        std::vector<uint8_t> raw;
        for (uint8_t c = 0; c < d.cylinders; ++c)
            for (uint8_t h = 0; h < 2; ++h) {
                spec.tracks.push_back(test::td0_standard_track(
                    c, h, d.spt, 2, [&](uint8_t r) { return sector_bytes(c, h, r); }));
                for (unsigned r = 1; r <= d.spt; ++r) {
                    const auto s = sector_bytes(c, h, r);
                    raw.insert(raw.end(), s.begin(), s.end());
                }
            }
        for (bool advanced : {false, true}) {
            spec.advanced = advanced;
            const std::string name = std::string(d.name) + (advanced ? "-advanced" : "-normal");
            const auto bytes = test::td0_file(spec);
            auto ours = parse_td0(bytes);
            ASSERT_TRUE(ours) << name << ": " << error_text(ours);
            const std::string path = check_readable(name, bytes);
            const std::string back = dir.file(name + ".img");
            const Result conv =
                run_shell("floptool flopconvert td0 pc '" + path + "' '" + back + "'");
            ASSERT_EQ(conv.status, 0) << conv.output;
            EXPECT_EQ(test::read_file(back), raw) << name;
        }
    }
}

TEST_F(Floptool, IrregularDisksAreIdentifiedAndConvert) {
    test::Td0Spec spec{.data_rate = 0, .drive_type = 1};
    // Every flag and every data encoding on one track, an FM track, and mixed sizes.
    test::Td0TrackSpec flags{.cylinder = 0, .head = 0};
    const uint8_t kFlags[] = {0x00, 0x01, 0x02, 0x04, 0x06, 0x10, 0x20, 0x40};
    uint8_t r = 1;
    for (uint8_t f : kFlags) {
        flags.sectors.push_back({.r = r, .n = 1, .flags = f, .data = test::pattern(256, r)});
        ++r;
    }
    auto runs = std::vector<uint8_t>(256, 0xE5);
    for (size_t i = 0; i < 30; ++i) runs[i * 5] = uint8_t(i);
    flags.sectors.push_back({.r = r++, .n = 1, .data = std::vector<uint8_t>(256, 0xF6)});
    flags.sectors.push_back({.r = r++, .n = 1, .data = runs, .encoding = test::Td0Encoding::Runs});
    spec.tracks.push_back(flags);
    spec.tracks.push_back(
        test::td0_standard_track(1, 0x80, 10, 0, [](uint8_t s) { return test::pattern(128, s); }));
    test::Td0TrackSpec mixed{.cylinder = 2, .head = 1};
    mixed.sectors.push_back({.c = 2, .h = 1, .r = 1, .n = 3, .data = test::pattern(1024, 1)});
    mixed.sectors.push_back({.c = 2, .h = 1, .r = 2, .n = 0, .data = test::pattern(128, 2)});
    spec.tracks.push_back(mixed);
    for (bool advanced : {false, true}) {
        spec.advanced = advanced;
        const auto bytes = test::td0_file(spec);
        auto ours = parse_td0(bytes);
        ASSERT_TRUE(ours) << error_text(ours);
        check_readable(advanced ? "irregular-advanced" : "irregular-normal", bytes);
    }
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
