// FloppyManager's transient writes (docs/floppy-management.md#transient-writes): attach with
// "transient", the query's "transient" and "dirty-tracks", floppy-commit-image and
// floppy-export-image — each check in its order with its class and description, on the real core
// and real image files, the guest writing through the controller's ports.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "hw/block/management/floppy_manager.h"
#include "tests/support/td0_bytes.h"
#include "tests/unit/management/management_rig.h"
#include "tests/unit/media/without_privileges.h"

namespace fdplug::floppy::test {
namespace {

constexpr uint64_t kShortBytes = 1296384;  // 2 532 sectors, taken as a 1.44M disk

// Where sector C H R of a 1.44M disk lies in a raw file.
constexpr size_t offset(unsigned c, unsigned h, unsigned r) {
    return ((c * 2 + h) * 18 + r - 1) * 512;
}

class FloppyManagerTransient : public ManagementRig {
  protected:
    // A raw image whose sectors all differ, so that a misplaced write shows.
    std::string patterned(const std::string &name, uint64_t size = k144Bytes) {
        const std::string path = dir.file(name);
        write_file(path, pattern(size, 5));
        return path;
    }
    std::string td0(const std::string &name) {
        Td0Spec spec{.data_rate = 2, .drive_type = 4};
        for (uint8_t c = 0; c < 80; ++c)
            for (uint8_t h = 0; h < 2; ++h)
                spec.tracks.push_back(td0_standard_track(
                    c, h, 18, 2, [](uint8_t r) { return std::vector<uint8_t>(512, r); }));
        const std::string path = dir.file(name);
        write_file(path, td0_file(spec));
        return path;
    }
    CommandResult attach_transient(const std::string &id, const std::string &path) {
        return manager.attach_image(id, path, false, "", true);
    }
    // The guest writes 512 bytes of `byte` into C H R of `unit` with WRITE DATA through DMA;
    // ST0 of the result.
    uint8_t guest_writes(unsigned unit, uint8_t c, uint8_t h, uint8_t r, uint8_t byte) {
        guest_seeks(unit, c);
        host.program_dma(DmaCycle::FromMemory, 512, std::vector<uint8_t>(512, byte));
        send({0x45, uint8_t(h << 2 | unit), c, h, r, 2, 18, 0x1B, 0xFF});
        EXPECT_GE(host.run_until_irq(1000 * kNsPerMs), 0) << "WRITE DATA ends with INT";
        return result()[0];
    }
    Json drive(unsigned index) { return manager.query_drives()->at(index); }
};

std::vector<uint8_t> with_sector(std::vector<uint8_t> bytes, size_t at, uint8_t byte) {
    std::fill_n(bytes.begin() + at, 512, byte);
    return bytes;
}

// --- attach and query ---------------------------------------------------------------------------

TEST_F(FloppyManagerTransient, ATransientAttachKeepsTheGuestsWritesInMemory) {
    const std::string a = patterned("a.img");
    const std::vector<uint8_t> before = read_file(a);
    ASSERT_TRUE(attach_transient("fd0", a));
    EXPECT_TRUE(fd0->transient());
    EXPECT_FALSE(fd0->read_only()) << "the guest may write";
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].data["read-only"], false);
    Json d = drive(0);
    EXPECT_EQ(d["transient"], true);
    EXPECT_EQ(d["dirty-tracks"], 0);
    EXPECT_EQ(d["read-only"], false);
    EXPECT_EQ(d["image-format"], "raw");

    EXPECT_EQ(guest_writes(0, 2, 1, 3, 0xAB) & st0::kIc, 0);
    EXPECT_EQ(guest_writes(0, 2, 1, 4, 0xAC) & st0::kIc, 0);
    EXPECT_EQ(drive(0)["dirty-tracks"], 1) << "two sectors of one track";
    EXPECT_EQ(guest_writes(0, 9, 0, 1, 0xAD) & st0::kIc, 0);
    EXPECT_EQ(drive(0)["dirty-tracks"], 2);
    EXPECT_EQ(read_file(a), before) << "the file never changes";
    ASSERT_TRUE(manager.release_image("fd0"));
    EXPECT_EQ(read_file(a), before) << "a release discards the changes";
    EXPECT_FALSE(drive(0).contains("dirty-tracks"));
}

TEST_F(FloppyManagerTransient, TheFileIsSharedWithReadersButNoWriter) {
    const std::string a = patterned("a.img");
    ASSERT_TRUE(attach_transient("fd0", a));
    ASSERT_TRUE(manager.attach_image("fd1", a, true)) << "a reader shares the file";
    ASSERT_TRUE(manager.release_image("fd1"));
    const CommandResult writer = manager.attach_image("fd1", a, false);
    ASSERT_FALSE(writer);
    EXPECT_EQ(writer.error().kind(), VpcError::ImageCaptureFail) << writer.error().message();
}

TEST_F(FloppyManagerTransient, ReadOnlyWinsOverTransient) {
    const std::string a = patterned("a.img");
    ASSERT_TRUE(manager.attach_image("fd0", a, true, "", true));
    EXPECT_TRUE(fd0->read_only());
    EXPECT_FALSE(fd0->transient());
    const Json d = drive(0);
    EXPECT_EQ(d["read-only"], true);
    EXPECT_EQ(d["transient"], false);
    EXPECT_FALSE(d.contains("dirty-tracks")) << d.dump();
    EXPECT_EQ(guest_writes(0, 0, 0, 1, 0xAB) & st0::kIc, st0::kIcAbnormal) << "write-protected";
}

TEST_F(FloppyManagerTransient, ExecuteTakesTransientFromJson) {
    const std::string a = patterned("a.img");
    ASSERT_TRUE(manager.execute("floppy-attach-image",
                                {{"id", "fd0"}, {"filename", a}, {"transient", true}}));
    EXPECT_EQ(drive(0)["transient"], true);
    EXPECT_FALSE(manager.execute("floppy-attach-image", {{"id", "fd1"}, {"filename", a}}))
        << "the transient drive's shared lock keeps a writer out";
    ASSERT_TRUE(manager.execute("floppy-attach-image",
                                {{"id", "fd1"}, {"filename", a}, {"read-only", true}}));
    EXPECT_EQ(drive(1)["transient"], false);
}

// --- floppy-commit-image ------------------------------------------------------------------------

TEST_F(FloppyManagerTransient, CommitWritesTheChangesIntoTheFileWithoutAnEvent) {
    const std::string a = patterned("a.img");
    std::vector<uint8_t> expected = read_file(a);
    ASSERT_TRUE(attach_transient("fd0", a));
    ASSERT_TRUE(manager.commit_image("fd0")) << "nothing to commit is no error";
    EXPECT_EQ(read_file(a), expected);
    EXPECT_EQ(guest_writes(0, 2, 1, 3, 0xAB) & st0::kIc, 0);
    EXPECT_EQ(guest_writes(0, 79, 1, 18, 0xCD) & st0::kIc, 0);
    ASSERT_EQ(drive(0)["dirty-tracks"], 2);

    const CommandResult r = manager.execute("floppy-commit-image", {{"id", "fd0"}});
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->dump(), "{}");
    expected = with_sector(with_sector(expected, offset(2, 1, 3), 0xAB), offset(79, 1, 18), 0xCD);
    EXPECT_EQ(read_file(a), expected);
    EXPECT_EQ(drive(0)["dirty-tracks"], 0);
    EXPECT_EQ(drive(0)["transient"], true) << "still transient";
    EXPECT_EQ(event_names(), std::vector<std::string>{"FLOPPY_MEDIA_INSERTED"});

    EXPECT_EQ(guest_writes(0, 3, 0, 1, 0xEF) & st0::kIc, 0);
    ASSERT_TRUE(manager.release_image("fd0"));
    EXPECT_EQ(read_file(a), expected) << "writes after a commit are transient again";
}

TEST_F(FloppyManagerTransient, CommitChecksTheDriveThenWhatItHolds) {
    const std::string a = patterned("a.img");
    EXPECT_TRUE(fails_with(manager.commit_image("nope"), VpcError::VmUnknown,
                           "no floppy drive 'nope': give a floppy device's id or a drive name "
                           "such as floppy0 (query-floppy-drives lists them)"));
    const CommandResult unconfigured = manager.commit_image("nodrive");
    ASSERT_FALSE(unconfigured);
    EXPECT_EQ(unconfigured.error().kind(), VpcError::VmUnknown);
    EXPECT_TRUE(fails_with(manager.commit_image("fd0"), VpcError::NoMediaCaptured,
                           "floppy drive 'fd0' holds no image; there is nothing to commit (attach "
                           "one with floppy-attach-image and \"transient\": true)"));
    fd1->insert(opened(std::make_unique<FlakyMedium>("/dev/fake-fd"), Attachment::HostDrive));
    EXPECT_TRUE(fails_with(manager.commit_image("fd1"), VpcError::MediaWrongType,
                           "floppy drive 'fd1' holds the host drive '/dev/fake-fd', which is "
                           "written in place; only a transient image has changes to commit"));
    // Not transient: the writes went to the file, or nowhere.
    for (const auto &[read_only, how] :
         {std::pair{false, "read-write, written in place"}, std::pair{true, "read-only"}}) {
        ASSERT_TRUE(manager.attach_image("fd0", a, read_only));
        EXPECT_TRUE(fails_with(manager.commit_image("fd0"), VpcError::MediaWrongType,
                               "floppy drive 'fd0' holds the image '" + a + "' attached " + how +
                                   ", not transient: there are no changes to commit (attach it "
                                   "with \"transient\": true to keep the guest's writes in "
                                   "memory)"));
        ASSERT_TRUE(manager.release_image("fd0"));
    }
}

TEST_F(FloppyManagerTransient, ATd0FileIsFileReadOnlyAndKeepsTheChanges) {
    const std::string t = td0("a.td0");
    const std::vector<uint8_t> before = read_file(t);
    ASSERT_TRUE(attach_transient("fd0", t));
    EXPECT_EQ(drive(0)["image-format"], "td0");
    EXPECT_EQ(guest_writes(0, 1, 0, 5, 0x42) & st0::kIc, 0);
    EXPECT_TRUE(fails_with(manager.commit_image("fd0"), VpcError::FileReadOnly,
                           "floppy drive 'fd0': the image '" + t +
                               "' is a Teledisk file, which fdplug cannot write; save the changes "
                               "to a new file with floppy-export-image (\"format\": \"imd\")"));
    EXPECT_EQ(drive(0)["dirty-tracks"], 1);
    EXPECT_EQ(read_file(t), before);
}

// What the file refuses: a class for each cause, the file as it was, the changes kept.
TEST_F(FloppyManagerTransient, ACommitTheFileRefusesKeepsTheChanges) {
    const std::string a = patterned("a.img");
    const std::vector<uint8_t> before = read_file(a);
    const std::string prefix = "floppy drive 'fd0': committing to '" + a + "' failed: ";
    ASSERT_TRUE(attach_transient("fd0", a));
    EXPECT_EQ(guest_writes(0, 0, 0, 1, 0x11) & st0::kIc, 0);

    // Another drive reads the file: its shared lock keeps the writer out.
    ASSERT_TRUE(manager.attach_image("fd1", a, true));
    const CommandResult in_use = manager.commit_image("fd0");
    ASSERT_FALSE(in_use);
    EXPECT_EQ(in_use.error().kind(), VpcError::ImageCaptureFail) << in_use.error().message();
    EXPECT_EQ(in_use.error().message().rfind(prefix, 0), 0u) << in_use.error().message();
    EXPECT_TRUE(in_use.error().message().ends_with(
        "; the changes stay in memory (the file cannot be captured for writing while another "
        "program or drive uses it)"))
        << in_use.error().message();
    ASSERT_TRUE(manager.release_image("fd1"));

    // A layout a raw file cannot hold (the guest's FORMAT as the core hands it to the medium).
    TrackFormat five{.rate = DataRate::k500, .size_code = 3, .fill = 0x5A};
    for (uint8_t r = 1; r <= 5; ++r) five.ids.push_back({4, 0, r, 3});
    ASSERT_EQ(fdc->drive(0).media()->tracks()->format_track(4, 0, five), MediaStatus::Ok);
    EXPECT_TRUE(fails_with(manager.commit_image("fd0"), VpcError::MediaWrongType,
                           prefix + "a sector image cannot hold cylinder 4 head 0: the track has 5 "
                                    "sectors, the image 18; the changes stay in memory (save them "
                                    "with floppy-export-image, \"format\": \"imd\")"));
    EXPECT_EQ(drive(0)["dirty-tracks"], 2);
    EXPECT_EQ(read_file(a), before);
}

TEST_F(FloppyManagerTransient, DataPastTheEndOfAShortFileIsMediaWrongType) {
    const std::string s = patterned("short.img", kShortBytes);
    const std::vector<uint8_t> before = read_file(s);
    ASSERT_TRUE(attach_transient("fd0", s));
    EXPECT_EQ(guest_writes(0, 70, 0, 12, 0x22) & st0::kIc, 0) << "the file's last sector";
    ASSERT_TRUE(manager.commit_image("fd0"));
    const std::vector<uint8_t> committed = with_sector(before, offset(70, 0, 12), 0x22);
    EXPECT_EQ(read_file(s), committed) << "the same length, the last sector written";

    EXPECT_EQ(guest_writes(0, 0, 0, 1, 0x11) & st0::kIc, 0);
    EXPECT_EQ(guest_writes(0, 70, 0, 13, 0x33) & st0::kIc, 0) << "past the end, in memory";
    EXPECT_TRUE(fails_with(manager.commit_image("fd0"), VpcError::MediaWrongType,
                           "floppy drive 'fd0': committing to '" + s +
                               "' failed: the image is 1296384 bytes, shorter than its geometry "
                               "(1474560 bytes), and is never extended: 1 sector past its end "
                               "holds data: cylinder 70 head 0 sector 13; the changes stay in "
                               "memory (save them with floppy-export-image, \"format\": "
                               "\"imd\")"));
    EXPECT_EQ(read_file(s), committed) << "not even the sector the file could hold";
    EXPECT_EQ(drive(0)["dirty-tracks"], 2);
}

TEST_F(FloppyManagerTransient, AFileThatCanOnlyBeReadIsFileReadOnly) {
    ASSERT_EQ(::chmod(dir.path().c_str(), 0755), 0);
    const std::string ro = patterned("ro.img");
    ASSERT_EQ(::chmod(ro.c_str(), 0444), 0);
    const std::vector<uint8_t> before = read_file(ro);
    // The verdict as an exit code: the class's number; 98 when the commit succeeded, 97 when the
    // attach failed, 96 when the changes were not kept.
    const auto verdict = without_privileges([&] {
        if (!attach_transient("fd0", ro)) return 97;
        if ((guest_writes(0, 0, 0, 1, 0x11) & st0::kIc) != 0) return 95;
        const CommandResult r = manager.commit_image("fd0");
        if (r) return 98;
        if (drive(0)["dirty-tracks"] != 1) return 96;
        return int(r.error().kind());
    });
    if (!verdict) GTEST_SKIP() << "cannot drop root privileges to test permissions";
    EXPECT_EQ(*verdict, int(VpcError::FileReadOnly));
    EXPECT_EQ(read_file(ro), before);
}

TEST_F(FloppyManagerTransient, AFailedWriteBackIsDispExceptionAndCanBeRetried) {
    const std::string a = patterned("a.img");
    ASSERT_TRUE(attach_transient("fd0", a));
    EXPECT_EQ(guest_writes(0, 5, 1, 2, 0x77) & st0::kIc, 0);
    fd0_faults->fail_flushes = 1;  // the writer's fdatasync
    EXPECT_TRUE(fails_with(manager.commit_image("fd0"), VpcError::DispException,
                           "floppy drive 'fd0': committing to '" + a +
                               "' failed: flushing floppy image '" + a +
                               "' failed: Input/output error; the changes stay in memory"));
    EXPECT_EQ(drive(0)["dirty-tracks"], 1);
    ASSERT_TRUE(manager.commit_image("fd0")) << "the fault has passed";
    EXPECT_EQ(drive(0)["dirty-tracks"], 0);
    EXPECT_EQ(read_file(a)[offset(5, 1, 2)], 0x77);
}

// --- floppy-export-image ------------------------------------------------------------------------

TEST_F(FloppyManagerTransient, ExportSavesTheDiskWithItsChangesAndLeavesThemInMemory) {
    const std::string a = patterned("a.img");
    const std::vector<uint8_t> before = read_file(a);
    ASSERT_TRUE(attach_transient("fd0", a));
    EXPECT_EQ(guest_writes(0, 7, 0, 9, 0x5C) & st0::kIc, 0);

    const std::string raw = dir.file("saved.img");
    const CommandResult r = manager.execute("floppy-export-image",
                                            {{"id", "fd0"}, {"filename", raw}, {"format", "raw"}});
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->dump(), "{}");
    EXPECT_EQ(read_file(raw), with_sector(before, offset(7, 0, 9), 0x5C));
    EXPECT_EQ(read_file(a), before) << "an export is no commit";
    EXPECT_EQ(drive(0)["dirty-tracks"], 1);
    EXPECT_EQ(event_names(), std::vector<std::string>{"FLOPPY_MEDIA_INSERTED"});

    const std::string imd = dir.file("saved.imd");
    ASSERT_TRUE(manager.export_image("fd0", imd, "imd"));
    const std::vector<uint8_t> imd_bytes = read_file(imd);
    ASSERT_GE(imd_bytes.size(), 4u);
    EXPECT_EQ(std::string(imd_bytes.begin(), imd_bytes.begin() + 4), "IMD ");
    ASSERT_TRUE(manager.attach_image("fd1", imd, true));
    EXPECT_EQ(drive(1)["image-format"], "imd");
    std::array<uint8_t, 512> sector, expected;
    expected.fill(0x5C);
    ASSERT_EQ(fdc->drive(1).media()->read_sector(7, 0, 9, sector), MediaStatus::Ok);
    EXPECT_EQ(sector, expected);
}

TEST_F(FloppyManagerTransient, ExportWorksOnAnyMedium) {
    const std::string a = patterned("a.img");
    ASSERT_TRUE(manager.attach_image("fd0", a, false));
    ASSERT_TRUE(manager.export_image("fd0", dir.file("plain.img"), "raw"));
    EXPECT_EQ(read_file(dir.file("plain.img")), read_file(a));
    fd1->insert(opened(std::make_unique<FlakyMedium>("/dev/fake-fd"), Attachment::HostDrive));
    ASSERT_TRUE(manager.export_image("fd1", dir.file("host.img"), "raw"));
    EXPECT_EQ(read_file(dir.file("host.img")), std::vector<uint8_t>(k144Bytes));
}

TEST_F(FloppyManagerTransient, ExportChecksThePathThenTheDriveThenTheNewFile) {
    EXPECT_TRUE(fails_with(manager.export_image("nope", "saved.imd", "imd"), VpcError::InvalidArg,
                           "floppy drive 'nope': export path 'saved.imd' is not absolute; give "
                           "the full path, starting with '/' (e.g. /srv/floppies/saved.imd)"))
        << "the path's form before the drive";
    EXPECT_TRUE(fails_with(manager.export_image("nope", dir.file("o.imd"), "imd"),
                           VpcError::VmUnknown,
                           "no floppy drive 'nope': give a floppy device's id or a drive name "
                           "such as floppy0 (query-floppy-drives lists them)"));
    EXPECT_TRUE(fails_with(manager.export_image("fd0", dir.file("o.imd"), "imd"),
                           VpcError::NoMediaCaptured,
                           "floppy drive 'fd0' holds no medium; there is nothing to export"));

    const std::string a = patterned("a.img");
    ASSERT_TRUE(attach_transient("fd0", a));
    EXPECT_TRUE(fails_with(manager.export_image("fd0", a, "raw"), VpcError::InvalidArg,
                           "floppy drive 'fd0': the export file '" + a +
                               "' already exists; an export never replaces a file: choose a new "
                               "name or remove it"));
    const CommandResult no_dir = manager.export_image("fd0", dir.file("no/such.img"), "raw");
    ASSERT_FALSE(no_dir);
    EXPECT_EQ(no_dir.error().kind(), VpcError::InvalidArg) << no_dir.error().message();

    // A layout raw cannot hold: an invalid argument, no file left; IMD keeps it.
    TrackFormat five{.rate = DataRate::k500, .size_code = 3, .fill = 0x5A};
    for (uint8_t r = 1; r <= 5; ++r) five.ids.push_back({4, 0, r, 3});
    ASSERT_EQ(fdc->drive(0).media()->tracks()->format_track(4, 0, five), MediaStatus::Ok);
    const std::string lossy = dir.file("lossy.img");
    const CommandResult refused = manager.export_image("fd0", lossy, "raw");
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().kind(), VpcError::InvalidArg) << refused.error().message();
    EXPECT_FALSE(std::filesystem::exists(lossy));
    EXPECT_TRUE(manager.export_image("fd0", dir.file("kept.imd"), "imd"));
}

TEST_F(FloppyManagerTransient, ExportIntoADirectoryThatCannotBeWrittenIsFileReadOnly) {
    ASSERT_EQ(::chmod(dir.path().c_str(), 0755), 0);
    const std::string a = patterned("a.img");
    const std::string locked = dir.file("locked");
    ASSERT_EQ(::mkdir(locked.c_str(), 0555), 0);
    ASSERT_TRUE(manager.attach_image("fd0", a, true));
    const auto verdict = without_privileges([&] {
        const CommandResult r = manager.export_image("fd0", locked + "/saved.imd", "imd");
        return r ? 98 : int(r.error().kind());
    });
    if (!verdict) GTEST_SKIP() << "cannot drop root privileges to test permissions";
    EXPECT_EQ(*verdict, int(VpcError::FileReadOnly));
}

TEST_F(FloppyManagerTransient, AFailedReadOfTheMediumIsDispExceptionAndLeavesNoFile) {
    const std::string a = patterned("a.img");
    ASSERT_TRUE(attach_transient("fd0", a));
    fd0_faults->fail_reads = 1;  // the first unchanged track read through to the file
    const std::string out = dir.file("out.img");
    const CommandResult r = manager.export_image("fd0", out, "raw");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind(), VpcError::DispException) << r.error().message();
    EXPECT_EQ(
        r.error().message().rfind("floppy drive 'fd0': reading the medium to export failed: ", 0),
        0u)
        << r.error().message();
    EXPECT_FALSE(std::filesystem::exists(out));
}

}  // namespace
}  // namespace fdplug::floppy::test
