// Transient writes through the real host (issue 19): a Teledisk file attached with "transient"
// is writable by the guest, which writes and FORMATs over qtest and reads its changes back;
// after a release the changes are gone and the file's bytes never changed. floppy-commit-image
// writes the changes into raw and IMD files (a FORMAT of a new layout included), and
// floppy-export-image saves the disk with its changes as raw or IMD, checked by attaching the
// new file and, where Debian's mame-tools is installed, by MAME's floptool.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "tests/qtest/floppy_machine.h"
#include "tests/qtest/scratch_dir.h"
#include "tests/support/imd_bytes.h"
#include "tests/support/shell_command.h"
#include "tests/support/td0_bytes.h"

namespace fdplug::test {
namespace {

using nlohmann::json;

constexpr const char *kOk = R"({"return":{}})";
constexpr uint8_t kMode500Mfm = 3;
// The layout no raw image holds: five 1024-byte sectors (N=3).
constexpr uint8_t kN1024 = 3, kFill = 0x6D;

// The 512 bytes of sector (c, h, r) on the test disks, whatever their format.
std::vector<uint8_t> sector_data(unsigned c, unsigned h, unsigned r) {
    std::vector<uint8_t> v(512);
    for (size_t i = 0; i < v.size(); ++i) v[i] = uint8_t(c * 7 + h * 3 + r + i * 5);
    return v;
}

// A 1.44 MB disk with sector_data() in every sector: an advanced-compression TD0 file...
std::vector<uint8_t> td0_disk() {
    floppy::test::Td0Spec spec{.advanced = true, .data_rate = 2, .drive_type = 4};
    for (uint8_t c = 0; c < 80; ++c)
        for (uint8_t h = 0; h < 2; ++h)
            spec.tracks.push_back(floppy::test::td0_standard_track(
                c, h, 18, 2, [&](uint8_t r) { return sector_data(c, h, r); }));
    return floppy::test::td0_file(spec);
}

// ...an IMD file...
std::vector<uint8_t> imd_disk() {
    std::vector<floppy::test::ImdTrackSpec> tracks;
    for (uint8_t c = 0; c < 80; ++c)
        for (uint8_t h = 0; h < 2; ++h) {
            floppy::test::ImdTrackSpec t{.mode = kMode500Mfm, .cylinder = c, .head = h};
            for (uint8_t r = 1; r <= 18; ++r) {
                t.r_map.push_back(r);
                std::vector<uint8_t> record{1};
                const auto data = sector_data(c, h, r);
                record.insert(record.end(), data.begin(), data.end());
                t.records.push_back(record);
            }
            tracks.push_back(t);
        }
    return floppy::test::imd_file(tracks);
}

// ...and a raw image.
std::vector<uint8_t> raw_disk() {
    std::vector<uint8_t> bytes;
    for (unsigned c = 0; c < 80; ++c)
        for (unsigned h = 0; h < 2; ++h)
            for (unsigned r = 1; r <= 18; ++r) {
                const auto data = sector_data(c, h, r);
                bytes.insert(bytes.end(), data.begin(), data.end());
            }
    return bytes;
}

std::vector<uint8_t> pattern(size_t n, uint8_t seed) {
    std::vector<uint8_t> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = uint8_t(seed ^ (i * 11 + (i >> 8)));
    return v;
}

// The IDs of a 5 x 1024 track on cylinder c, head h.
std::vector<uint8_t> five_ids(uint8_t c, uint8_t h) {
    std::vector<uint8_t> ids;
    for (uint8_t r = 1; r <= 5; ++r) ids.insert(ids.end(), {c, h, r, kN1024});
    return ids;
}

class FloppyTransient : public ::testing::Test {
  protected:
    ScratchDir dir;

    std::string file(const std::string &name, const std::vector<uint8_t> &bytes) {
        const std::string p = dir.path(name);
        write_file(p, bytes);
        return p;
    }
    // Two 1.44 MB drives, empty.
    std::unique_ptr<FloppyMachine> start() {
        auto m = std::make_unique<FloppyMachine>(
            "-machine pc -nodefaults -device floppy,id=fd0,unit=0,drive-type=144 "
            "-device floppy,id=fd1,unit=1,drive-type=144" +
            kFast);
        if (m->ok()) m->specify();
        return m;
    }
    static json attach_transient(FloppyMachine &m, const std::string &path) {
        return m.qmp("floppy-attach-image",
                     {{"id", "fd0"}, {"filename", path}, {"transient", true}});
    }
    // The guest writes two sectors on C5 H0 and FORMATs C7 H1 as 5 x 1024, checking each.
    static void write_and_format(FloppyMachine &m, const std::vector<uint8_t> &written) {
        EXPECT_EQ(m.seek(0, 5), 5);
        auto r = m.write(0, 5, 0, 3, written);
        EXPECT_EQ(r[0] & st0::kIc, 0)
            << "the guest may write: ST0 " << hex(r[0]) << " ST1 " << hex(r[1]);
        EXPECT_EQ(m.seek(0, 7), 7);
        r = m.format(0, 1, kN1024, five_ids(7, 1), kFill);
        EXPECT_EQ(r[0] & st0::kIc, 0) << "the guest may FORMAT: ST0 " << hex(r[0]);
    }
    // The guest reads C7 H1's 5 x 1024 sectors; their bytes.
    static std::vector<uint8_t> read_1024s(FloppyMachine &m) {
        EXPECT_EQ(m.seek(0, 7), 7);
        m.dma(true, 0x20000, 5 * 1024);
        m.send_all({0x46, 1 << 2, 7, 1, 1, kN1024, 5, 0x35, 0xFF});
        EXPECT_TRUE(m.irq());
        const auto r = m.take(7);
        EXPECT_EQ(r[0] & st0::kIc, 0) << "ST0 " << hex(r[0]) << " ST1 " << hex(r[1]);
        return m.q.memread(0x20000, 5 * 1024);
    }
    static std::vector<uint8_t> read_c5(FloppyMachine &m) {
        std::vector<uint8_t> data;
        EXPECT_EQ(m.seek(0, 5), 5);
        EXPECT_EQ(m.read(0, 5, 0, 3, 2, &data)[0] & st0::kIc, 0);
        return data;
    }
};

TEST_F(FloppyTransient, Td0GuestWritesAndFormatsVanishOnReleaseAndTheFileNeverChanges) {
    const std::string td0 = file("disk.td0", td0_disk());
    const auto before = read_file(td0);
    auto m = start();
    ASSERT_TRUE(m->ok());
    ASSERT_EQ(m->attach("fd0", td0).dump().find("VM_E_FILE_READ_ONLY") != std::string::npos, true)
        << "read-write is refused for a TD0 file";
    ASSERT_EQ(attach_transient(*m, td0).dump(), kOk);
    json drive = m->drive("fd0");
    EXPECT_EQ(drive["image-format"], "td0");
    EXPECT_EQ(drive["read-only"], false) << "a transient TD0 is writable by the guest";
    EXPECT_EQ(drive["transient"], true);
    EXPECT_EQ(drive["dirty-tracks"], 0);

    const auto written = pattern(2 * 512, 0x3C);
    write_and_format(*m, written);
    EXPECT_EQ(read_c5(*m), written) << "the guest reads its writes back";
    EXPECT_EQ(read_1024s(*m), std::vector<uint8_t>(5 * 1024, kFill)) << "and its FORMAT";
    drive = m->drive("fd0");
    EXPECT_EQ(drive["dirty-tracks"], 2) << drive.dump();
    EXPECT_EQ(drive["uniform"], false);
    EXPECT_EQ(read_file(td0), before);

    const json commit = m->qmp("floppy-commit-image", {{"id", "fd0"}});
    EXPECT_EQ(commit["error"]["class"], "VM_E_FILE_READ_ONLY") << commit.dump();
    EXPECT_NE(commit.dump().find("floppy-export-image"), std::string::npos) << commit.dump();

    ASSERT_EQ(m->release("fd0").dump(), kOk);
    EXPECT_EQ(read_file(td0), before) << "the file's bytes never changed";
    ASSERT_EQ(m->attach("fd0", td0, true).dump(), kOk);
    std::vector<uint8_t> original = sector_data(5, 0, 3), next = sector_data(5, 0, 4);
    original.insert(original.end(), next.begin(), next.end());
    EXPECT_EQ(read_c5(*m), original) << "the release discarded the guest's writes";
    EXPECT_EQ(m->drive("fd0")["transient"], false);
}

TEST_F(FloppyTransient, CommitWritesTheChangesIntoARawFile) {
    const std::string raw = file("disk.img", raw_disk());
    auto expected = read_file(raw);
    auto m = start();
    ASSERT_TRUE(m->ok());
    ASSERT_EQ(attach_transient(*m, raw).dump(), kOk);
    const auto written = pattern(2 * 512, 0x5A);
    EXPECT_EQ(m->seek(0, 5), 5);
    EXPECT_EQ(m->write(0, 5, 0, 3, written)[0] & st0::kIc, 0);
    EXPECT_EQ(read_file(raw), expected) << "nothing reaches the file before the commit";
    EXPECT_EQ(m->drive("fd0")["dirty-tracks"], 1);

    ASSERT_EQ(m->qmp("floppy-commit-image", {{"id", "fd0"}}).dump(), kOk);
    std::copy(written.begin(), written.end(), expected.begin() + ((5 * 2 + 0) * 18 + 2) * 512);
    EXPECT_EQ(read_file(raw), expected);
    EXPECT_EQ(m->drive("fd0")["dirty-tracks"], 0);
    EXPECT_EQ(read_c5(*m), written) << "the guest sees no change";
    ASSERT_EQ(m->release("fd0").dump(), kOk);
    EXPECT_EQ(read_file(raw), expected);
}

TEST_F(FloppyTransient, CommitWritesAFormattedLayoutIntoAnImdFile) {
    const std::string imd = file("disk.imd", imd_disk());
    const auto before = read_file(imd);
    auto m = start();
    ASSERT_TRUE(m->ok());
    ASSERT_EQ(attach_transient(*m, imd).dump(), kOk);
    const auto written = pattern(2 * 512, 0x77);
    write_and_format(*m, written);
    EXPECT_EQ(read_file(imd), before);
    ASSERT_EQ(m->qmp("floppy-commit-image", {{"id", "fd0"}}).dump(), kOk);
    EXPECT_NE(read_file(imd), before);
    ASSERT_EQ(m->release("fd0").dump(), kOk);

    // Attached as it is now, written in place: the changes are the file's.
    ASSERT_EQ(m->attach("fd0", imd, true).dump(), kOk);
    EXPECT_EQ(read_c5(*m), written);
    EXPECT_EQ(read_1024s(*m), std::vector<uint8_t>(5 * 1024, kFill));
    ASSERT_EQ(m->release("fd0").dump(), kOk);
    if (!have_command("floptool")) {
        std::printf("floptool not installed (mame-tools): independent check skipped\n");
        return;
    }
    const ShellResult id = run_shell("floptool identify '" + imd + "'");
    EXPECT_NE(id.output.find("IMD disk image"), std::string::npos) << id.output;
}

TEST_F(FloppyTransient, ExportSavesTheDiskWithItsChangesAsRawOrImd) {
    const std::string td0 = file("disk.td0", td0_disk());
    const auto before = read_file(td0);
    auto m = start();
    ASSERT_TRUE(m->ok());
    ASSERT_EQ(attach_transient(*m, td0).dump(), kOk);
    const auto written = pattern(2 * 512, 0x21);
    EXPECT_EQ(m->seek(0, 5), 5);
    EXPECT_EQ(m->write(0, 5, 0, 3, written)[0] & st0::kIc, 0);

    const std::string raw = dir.path("saved.img"), imd = dir.path("saved.imd");
    auto export_to = [&](const std::string &path, const char *format) {
        return m->qmp("floppy-export-image",
                      {{"id", "fd0"}, {"filename", path}, {"format", format}});
    };
    ASSERT_EQ(export_to(raw, "raw").dump(), kOk);
    auto expected = raw_disk();
    std::copy(written.begin(), written.end(), expected.begin() + ((5 * 2 + 0) * 18 + 2) * 512);
    EXPECT_EQ(read_file(raw), expected) << "the raw export holds the disk with the changes";
    ASSERT_EQ(export_to(imd, "imd").dump(), kOk);

    // The IMD export, attached in the other drive, holds the guest's writes too.
    ASSERT_EQ(m->qmp("floppy-attach-image", {{"id", "fd1"}, {"filename", imd}, {"read-only", true}})
                  .dump(),
              kOk);
    EXPECT_EQ(m->drive("fd1")["image-format"], "imd");
    std::vector<uint8_t> data;
    EXPECT_EQ(m->seek(1, 5), 5);
    EXPECT_EQ(m->read(1, 5, 0, 3, 2, &data)[0] & st0::kIc, 0);
    EXPECT_EQ(data, written);

    // A layout raw cannot hold: the raw export is refused and leaves no file; IMD keeps it.
    EXPECT_EQ(m->seek(0, 7), 7);
    EXPECT_EQ(m->format(0, 1, kN1024, five_ids(7, 1), kFill)[0] & st0::kIc, 0);
    const json lossy = export_to(dir.path("lossy.img"), "raw");
    EXPECT_EQ(lossy["error"]["class"], "E_INVALIDARG") << lossy.dump();
    EXPECT_FALSE(std::filesystem::exists(dir.path("lossy.img")));
    const std::string kept = dir.path("kept.imd");
    ASSERT_EQ(export_to(kept, "imd").dump(), kOk);
    ASSERT_EQ(m->release("fd0").dump(), kOk);
    EXPECT_EQ(read_file(td0), before);
    ASSERT_EQ(m->attach("fd0", kept, true).dump(), kOk);
    EXPECT_EQ(read_1024s(*m), std::vector<uint8_t>(5 * 1024, kFill));

    if (!have_command("floptool")) {
        std::printf("floptool not installed (mame-tools): independent check skipped\n");
        return;
    }
    for (const std::string &path : {imd, kept}) {
        const ShellResult id = run_shell("floptool identify '" + path + "'");
        EXPECT_NE(id.output.find("IMD disk image"), std::string::npos) << path << id.output;
    }
}

}  // namespace
}  // namespace fdplug::test
