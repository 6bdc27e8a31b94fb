// FloppyManager: the floppy-* commands on the real core — each documented error class, in the
// order the checks are made (docs/floppy-management.md), with its description byte for byte;
// nothing changes on a failure, and a failed release leaves the drive as it was; the events, their
// order and what the drive shows when they are sent; query-floppy-drives; the guest's
// disk-change line; image locks between two drives; the QMP edge (class, desc, hresult).
#include "hw/block/management/floppy_manager.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "tests/support/imd_bytes.h"
#include "tests/unit/management/management_rig.h"
#include "tests/unit/media/without_privileges.h"

namespace fdplug::floppy::test {
namespace {

class FloppyManagerTest : public ManagementRig {};

const std::string kReleaseHint =
    "; it stays attached, unchanged: fix the cause and release it again (or eject with "
    "force=true to drop the unsaved writes)";

// --- attach and release ----------------------------------------------------------------------

TEST_F(FloppyManagerTest, AttachInsertsTheImageAndSendsInserted) {
    const std::string a = image("a.img");
    const CommandResult r = manager.attach_image("fd0", a, false);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->dump(), "{}");
    EXPECT_EQ(fd0->attachment(), Attachment::Image);
    EXPECT_EQ(fd0->source(), a);
    EXPECT_FALSE(fd0->read_only());
    ASSERT_TRUE(fdc->drive(0).has_media());
    EXPECT_EQ(fdc->drive(0).media()->geometry().sectors, 18);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].name, "FLOPPY_MEDIA_INSERTED");
    EXPECT_EQ(
        events[0].data.dump(),
        Json({{"id", "fd0"}, {"path", a}, {"attachment", "image"}, {"read-only", false}}).dump());
    EXPECT_EQ(events[0].attachment_then, Attachment::Image) << "sent once the drive shows it";
}

TEST_F(FloppyManagerTest, ReleaseEmptiesTheDriveAndSendsEjected) {
    const std::string a = image("a.img");
    ASSERT_TRUE(manager.attach_image("fd0", a, true));
    ASSERT_TRUE(manager.release_image("fd0"));
    EXPECT_EQ(fd0->attachment(), Attachment::None);
    EXPECT_EQ(fd0->source(), "");
    EXPECT_FALSE(fdc->drive(0).has_media());
    ASSERT_EQ(event_names(),
              (std::vector<std::string>{"FLOPPY_MEDIA_INSERTED", "FLOPPY_MEDIA_EJECTED"}));
    EXPECT_EQ(events[1].data.dump(),
              Json({{"id", "fd0"}, {"path", a}, {"attachment", "image"}}).dump());
    EXPECT_EQ(events[1].attachment_then, Attachment::None) << "sent once the drive shows it";
    EXPECT_EQ(events[0].data["read-only"], true);
}

TEST_F(FloppyManagerTest, HostDriveReleasesWithItsOwnCommand) {
    fd0->insert(opened(std::make_unique<FlakyMedium>("/dev/fake-fd"), Attachment::HostDrive));
    EXPECT_TRUE(fails_with(manager.release_image("fd0"), VpcError::MediaWrongType,
                           "floppy drive 'fd0' holds the host drive '/dev/fake-fd', not an image; "
                           "release it with floppy-release-host-drive"));
    EXPECT_TRUE(fdc->drive(0).has_media()) << "a refused release changes nothing";
    ASSERT_TRUE(manager.release_host_drive("fd0"));
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[1].data.dump(),
              Json({{"id", "fd0"}, {"path", "/dev/fake-fd"}, {"attachment", "host-drive"}}).dump());
}

TEST_F(FloppyManagerTest, ImageIsTheWrongTypeForReleaseHostDrive) {
    const std::string a = image("a.img");
    ASSERT_TRUE(manager.attach_image("fd0", a, false));
    EXPECT_TRUE(fails_with(manager.release_host_drive("fd0"), VpcError::MediaWrongType,
                           "floppy drive 'fd0' holds the image '" + a +
                               "', not a host drive; release it with floppy-release-image"));
    EXPECT_EQ(fd0->attachment(), Attachment::Image);
    EXPECT_EQ(events.size(), 1u) << "no EJECTED";
}

// --- the errors, each with its description ----------------------------------------------------

TEST_F(FloppyManagerTest, UnknownDriveIsVmUnknown) {
    EXPECT_TRUE(fails_with(manager.release_image("nope"), VpcError::VmUnknown,
                           "no floppy drive 'nope': give a floppy device's id or a drive name "
                           "such as floppy0 (query-floppy-drives lists them)"));
    EXPECT_TRUE(fails_with(manager.attach_image("", image("a.img"), false), VpcError::VmUnknown,
                           "no floppy drive '': give a floppy device's id or a drive name such as "
                           "floppy0 (query-floppy-drives lists them)"));
    FloppyManager empty;
    EXPECT_TRUE(fails_with(empty.release_host_drive("floppy0"), VpcError::VmUnknown,
                           "no floppy drive 'floppy0': this machine has no floppy drives"));
}

TEST_F(FloppyManagerTest, UnitWithoutADriveIsVmUnknown) {
    const std::string desc =
        "floppy drive 'nodrive' is not configured: unit 2 of 'fdc0' has drive-type=none, so no "
        "drive is connected; ";
    EXPECT_TRUE(fails_with(manager.attach_image("nodrive", image("a.img"), false),
                           VpcError::VmUnknown,
                           desc + "give the floppy device a drive-type (144, 288, 120, 720, 360 "
                                  "or auto)"));
    manager.set_configure_hint("set floppyc: in bochsrc");
    EXPECT_TRUE(fails_with(manager.release_image("nodrive"), VpcError::VmUnknown,
                           desc + "set floppyc: in bochsrc"));
    EXPECT_TRUE(events.empty());
}

TEST_F(FloppyManagerTest, ReleaseOfAnEmptyDriveIsNoMediaCaptured) {
    EXPECT_TRUE(fails_with(manager.release_image("fd0"), VpcError::NoMediaCaptured,
                           "floppy drive 'fd0' holds no image; there is nothing to release "
                           "(attach one with floppy-attach-image)"));
    EXPECT_TRUE(fails_with(manager.release_host_drive("fd0"), VpcError::NoMediaCaptured,
                           "floppy drive 'fd0' holds no host drive; there is nothing to release "
                           "(attach one with floppy-attach-host-drive)"));
    EXPECT_TRUE(events.empty());
}

TEST_F(FloppyManagerTest, AttachToAFullDriveIsDriveInUse) {
    const std::string a = image("a.img"), b = image("b.img");
    ASSERT_TRUE(manager.attach_image("fd0", a, false));
    EXPECT_TRUE(fails_with(manager.attach_image("fd0", b, false), VpcError::DriveInUse,
                           "floppy drive 'fd0' already holds the image '" + a +
                               "'; release it first with floppy-release-image"));
    EXPECT_EQ(fd0->source(), a) << "the first image stays";
    fd1->insert(opened(std::make_unique<FlakyMedium>("/dev/fake-fd"), Attachment::HostDrive));
    EXPECT_TRUE(fails_with(manager.attach_image("fd1", b, false), VpcError::DriveInUse,
                           "floppy drive 'fd1' already holds the host drive '/dev/fake-fd'; "
                           "release it first with floppy-release-host-drive"));
    EXPECT_EQ(event_names(),
              (std::vector<std::string>{"FLOPPY_MEDIA_INSERTED", "FLOPPY_MEDIA_INSERTED"}));
}

TEST_F(FloppyManagerTest, PathsOfABadFormAreImageCaptureFailBeforeTheDriveIsLookedUp) {
    EXPECT_TRUE(fails_with(manager.attach_image("nope", "a.img", false), VpcError::ImageCaptureFail,
                           "floppy drive 'nope': image path 'a.img' is not absolute; give the "
                           "full path, starting with '/' (e.g. /srv/floppies/dos622.img)"));
    EXPECT_TRUE(fails_with(manager.attach_image("fd0", "", false), VpcError::ImageCaptureFail,
                           "floppy drive 'fd0': no image path was given; give an absolute path "
                           "such as /srv/floppies/dos622.img"));
    EXPECT_TRUE(fails_with(manager.attach_image("fd0", "/tmp/a?.img", false),
                           VpcError::ImageCaptureFail,
                           "floppy drive 'fd0': image path '/tmp/a?.img' contains the character "
                           "'?', which is not allowed (none of * ? < > | \" or control "
                           "characters)"));
    EXPECT_TRUE(fails_with(manager.attach_image("fd0", "/" + std::string(259, 'a'), false),
                           VpcError::ImageCaptureFail,
                           "floppy drive 'fd0': image path is 260 characters long; paths of 260 "
                           "characters or more are refused (Virtual PC's MAX_PATH)"));
    EXPECT_EQ(fd0->attachment(), Attachment::None);
    EXPECT_TRUE(events.empty());
}

TEST_F(FloppyManagerTest, FilesThatCannotBeCapturedAreImageCaptureFail) {
    const std::string missing = dir.file("missing.img");
    EXPECT_TRUE(fails_with(
        manager.attach_image("fd0", missing, false), VpcError::ImageCaptureFail,
        "floppy drive 'fd0': floppy image '" + missing + "' does not exist; check the path"));
    const std::string odd = image("odd.img", 1000);
    const CommandResult r = manager.attach_image("fd0", odd, false);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind(), VpcError::ImageCaptureFail);
    EXPECT_EQ(r.error().message().rfind("floppy drive 'fd0': floppy image '" + odd +
                                            "' cannot be used: the image is 1000 bytes, not a "
                                            "whole number of 512-byte sectors",
                                        0),
              0u)
        << r.error().message();
    EXPECT_FALSE(fdc->drive(0).has_media());
    EXPECT_TRUE(events.empty());
}

TEST_F(FloppyManagerTest, ReadWriteOfAReadOnlyFileIsFileReadOnly) {
    ASSERT_EQ(::chmod(dir.path().c_str(), 0755), 0);
    const std::string ro = image("ro.img");
    ASSERT_EQ(::chmod(ro.c_str(), 0444), 0);
    const std::string desc = "floppy drive 'fd0': floppy image '" + ro +
                             "' can only be opened read-only (Permission denied); attach it "
                             "read-only, or make the file writable (floppy-attach-image with "
                             "\"read-only\": true)";
    // The verdict as an exit code: the class's number, or 99 when the description differs.
    const auto verdict = without_privileges([&] {
        const CommandResult r = manager.attach_image("fd0", ro, false);
        if (r) return 98;
        return r.error().message() == desc ? int(r.error().kind()) : 99;
    });
    if (!verdict) GTEST_SKIP() << "cannot drop root privileges to test permissions";
    EXPECT_EQ(*verdict, int(VpcError::FileReadOnly)) << "98: attached; 99: another desc";
    EXPECT_TRUE(events.empty());
}

TEST_F(FloppyManagerTest, AnUnexpectedReadFailureIsDispExceptionAndTheDriveStaysEmpty) {
    const std::string a = image("a.img");
    fd0_faults->fail_reads = 1;  // the boot sector's read
    EXPECT_TRUE(fails_with(manager.attach_image("fd0", a, false), VpcError::DispException,
                           "floppy drive 'fd0': unexpected failure capturing the image: reading "
                           "the boot sector of floppy image '" +
                               a + "' failed: Input/output error; the drive stays empty"));
    EXPECT_EQ(fd0->attachment(), Attachment::None);
    EXPECT_FALSE(fdc->drive(0).has_media());
    EXPECT_TRUE(events.empty());
    EXPECT_TRUE(manager.attach_image("fd0", a, false)) << "the file's lock went with the failure";
}

TEST_F(FloppyManagerTest, AFailedFlushIsDispExceptionAndLeavesTheDriveUntouched) {
    const std::string a = image("a.img");
    ASSERT_TRUE(manager.attach_image("fd0", a, false));
    guest_seeks(0, 1);
    ASSERT_FALSE(guest_sees_disk_change(0));
    fd0_faults->fail_flushes = 1;
    EXPECT_TRUE(fails_with(manager.release_image("fd0"), VpcError::DispException,
                           "floppy drive 'fd0': releasing the image '" + a +
                               "' failed: flushing floppy image '" + a +
                               "' failed: Input/output error" + kReleaseHint));
    EXPECT_EQ(fd0->attachment(), Attachment::Image);
    EXPECT_EQ(fd0->source(), a);
    EXPECT_TRUE(fdc->drive(0).has_media());
    EXPECT_FALSE(guest_sees_disk_change(0)) << "the guest sees no change";
    EXPECT_EQ(events.size(), 1u) << "no EJECTED";
    EXPECT_TRUE(fails_with(manager.attach_image("fd1", a, false), VpcError::ImageCaptureFail,
                           "floppy drive 'fd1': the image's lock cannot be taken: floppy image '" +
                               a +
                               "' is in use by another process or another drive; release it "
                               "there first, or attach it read-only if nobody writes it"))
        << "the file is still open and locked";

    ASSERT_TRUE(manager.release_image("fd0")) << "a later release succeeds";
    EXPECT_EQ(event_names().back(), "FLOPPY_MEDIA_EJECTED");
}

TEST_F(FloppyManagerTest, AFailedFlushOfAFakeMediumNamesItsCause) {
    fd1->insert(opened(std::make_unique<FlakyMedium>("/fake/a.img", 1), Attachment::Image));
    EXPECT_TRUE(fails_with(manager.release_image("floppy1"), VpcError::DispException,
                           "floppy drive 'floppy1': releasing the image '/fake/a.img' failed: "
                           "flushing '/fake/a.img' failed: the store is gone" +
                               kReleaseHint));
    EXPECT_TRUE(fdc->drive(1).has_media());
    EXPECT_TRUE(manager.release_image("floppy1"));
}

TEST_F(FloppyManagerTest, HostDriveNamesOfABadFormOrNotBlockDevicesAreInvalidArg) {
    EXPECT_TRUE(fails_with(manager.attach_host_drive("fd0", "dev/fd0"), VpcError::InvalidArg,
                           "floppy drive 'fd0': host drive name 'dev/fd0' is not absolute; give "
                           "the full path, starting with '/' (e.g. /dev/fd0)"));
    const std::string file = image("a.img");
    const CommandResult r = manager.attach_host_drive("fd0", file);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind(), VpcError::InvalidArg);
    EXPECT_EQ(r.error().message().rfind(
                  "floppy drive 'fd0': '" + file + "' is a regular file, not a floppy drive; ", 0),
              0u)
        << r.error().message();
    EXPECT_TRUE(fails_with(manager.attach_host_drive("fd0", "/dev/fdplug-no-such-drive"),
                           VpcError::HostFloppyCaptureFail,
                           "floppy drive 'fd0': host drive '/dev/fdplug-no-such-drive' does not "
                           "exist; check the device name"));
    EXPECT_TRUE(events.empty());
}

// --- locks between two drives ------------------------------------------------------------------

TEST_F(FloppyManagerTest, AWritableImageIsInOneDriveAtATime) {
    const std::string a = image("a.img");
    ASSERT_TRUE(manager.attach_image("fd0", a, false));
    EXPECT_TRUE(fails_with(manager.attach_image("fd1", a, true), VpcError::ImageCaptureFail,
                           "floppy drive 'fd1': the image's lock cannot be taken: floppy image '" +
                               a +
                               "' is open read-write elsewhere (another process or another drive "
                               "holds its write lock); release it there first"))
        << "readers wait for the writer";
    EXPECT_EQ(fd1->attachment(), Attachment::None);
    ASSERT_TRUE(manager.release_image("fd0"));
    EXPECT_TRUE(manager.attach_image("fd1", a, false)) << "the release dropped the lock";
}

TEST_F(FloppyManagerTest, AReadOnlyImageIsShared) {
    const std::string a = image("a.img");
    ASSERT_TRUE(manager.attach_image("fd0", a, true));
    ASSERT_TRUE(manager.attach_image("fd1", a, true));
    EXPECT_TRUE(fd0->read_only() && fd1->read_only());
    ASSERT_TRUE(manager.release_image("fd1"));
    EXPECT_TRUE(fails_with(manager.attach_image("fd1", a, false), VpcError::ImageCaptureFail,
                           "floppy drive 'fd1': the image's lock cannot be taken: floppy image '" +
                               a +
                               "' is in use by another process or another drive; release it "
                               "there first, or attach it read-only if nobody writes it"))
        << "a writer waits for the readers";
}

// --- what the guest sees ------------------------------------------------------------------------

TEST_F(FloppyManagerTest, AReleaseRaisesTheGuestsDiskChangeLine) {
    ASSERT_TRUE(manager.attach_image("fd0", image("a.img"), false));
    EXPECT_TRUE(guest_sees_disk_change(0)) << "a new disk: changed until the head steps";
    guest_seeks(0, 2);
    EXPECT_FALSE(guest_sees_disk_change(0));
    ASSERT_TRUE(manager.release_image("fd0"));
    EXPECT_TRUE(guest_sees_disk_change(0));
    EXPECT_EQ(manager.query_drives()->at(0)["disk-changed"], true);
    guest_seeks(0, 3);
    EXPECT_TRUE(guest_sees_disk_change(0)) << "stays set while the drive is empty";
}

// --- query-floppy-drives ------------------------------------------------------------------------

TEST_F(FloppyManagerTest, QueryListsEveryDriveWithItsMedium) {
    const std::string a = image("a.img");
    ASSERT_TRUE(manager.attach_image("fd0", a, true));
    const CommandResult r = manager.query_drives();
    ASSERT_TRUE(r);
    ASSERT_EQ(r->size(), 3u);
    const Json geometry = {{"cylinders", 80},    {"heads", 2},       {"sectors", 18},
                           {"sector-size", 512}, {"size", 1474560},  {"data-rate", 500},
                           {"rpm", 300},         {"format", "1.44M"}};
    EXPECT_EQ((*r)[0].dump(), Json({{"id", "fd0"},
                                    {"path", "/machine/peripheral/fd0"},
                                    {"device", ""},
                                    {"controller", "fdc0"},
                                    {"unit", 0},
                                    {"drive-type", "144"},
                                    {"attachment", "image"},
                                    {"image-file", a},
                                    {"image-format", "raw"},
                                    {"read-only", true},
                                    {"transient", false},
                                    {"geometry", geometry},
                                    {"uniform", true},
                                    {"disk-changed", true},
                                    {"motor", false},
                                    {"cylinder", 0}})
                                  .dump());
    EXPECT_EQ((*r)[1].dump(), Json({{"id", "fd1"},
                                    {"path", "/machine/peripheral/fd1"},
                                    {"device", "floppy1"},
                                    {"controller", "fdc0"},
                                    {"unit", 1},
                                    {"drive-type", "144"},
                                    {"attachment", "none"},
                                    {"read-only", false},
                                    {"transient", false},
                                    {"disk-changed", true},
                                    {"motor", false},
                                    {"cylinder", 0}})
                                  .dump());
    EXPECT_EQ((*r)[2]["drive-type"], "none");
}

// IMD files: told by their content (whatever the name) or asked for with format=imd; the query
// says which format the drive holds and whether a raw image could hold it.
TEST_F(FloppyManagerTest, AnImdFileIsAttachedByItsContentAndReportedAsSuch) {
    std::vector<ImdTrackSpec> tracks;
    for (uint8_t c = 0; c < 80; ++c)
        for (uint8_t h = 0; h < 2; ++h) tracks.push_back(standard_imd_track(c, h, 18, 2, 3));
    const std::string plain = dir.file("plain.img");
    write_file(plain, imd_file(tracks));
    tracks[5].records[3] = imd_fill_record(4, 0xE5);  // C2 H1 R4: a deleted data mark
    const std::string odd = dir.file("odd.imd");
    write_file(odd, imd_file(tracks));

    ASSERT_TRUE(manager.attach_image("fd0", plain, false));
    Json drive = manager.query_drives()->at(0);
    EXPECT_EQ(drive["image-format"], "imd");
    EXPECT_EQ(drive["uniform"], true);
    EXPECT_EQ(drive["geometry"]["format"], "1.44M");
    ASSERT_TRUE(manager.attach_image("fd1", odd, true, "imd"));
    drive = manager.query_drives()->at(1);
    EXPECT_EQ(drive["image-format"], "imd");
    EXPECT_EQ(drive["uniform"], false);
    EXPECT_EQ(drive["read-only"], true);
    // Asked to take it as raw, the file is 1.4 MB of IMD records: no raw format has that size.
    ASSERT_TRUE(manager.release_image("fd0"));
    const CommandResult raw = manager.attach_image("fd0", plain, false, "raw");
    ASSERT_FALSE(raw);
    EXPECT_EQ(raw.error().kind(), VpcError::ImageCaptureFail);
}

TEST_F(FloppyManagerTest, ACorruptImdFileIsImageCaptureFailNamingTheByte) {
    std::vector<uint8_t> bytes =
        imd_file({standard_imd_track(0, 0, 9), standard_imd_track(1, 0, 9)});
    bytes.erase(bytes.end() - 10,
                bytes.end());  // erase: gcc -O2 + ASan misreads a shrinking resize
    const std::string cut = dir.file("cut.imd");
    write_file(cut, bytes);
    const CommandResult r = manager.attach_image("fd0", cut, false);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind(), VpcError::ImageCaptureFail);
    const std::string desc = qmp_error(r.error()).desc;
    EXPECT_NE(desc.find("'" + cut + "' is corrupt or truncated: at byte "), std::string::npos)
        << desc;
    EXPECT_NE(desc.find("the file ends after 502 of them"), std::string::npos) << desc;
    EXPECT_EQ(manager.query_drives()->at(0)["attachment"], "none");
}

TEST_F(FloppyManagerTest, QueryShowsAHostDriveAndTheHead) {
    fd0->insert(opened(std::make_unique<FlakyMedium>("/dev/fake-fd"), Attachment::HostDrive));
    guest_seeks(0, 5);
    const Json drive = manager.query_drives()->at(0);
    EXPECT_EQ(drive["attachment"], "host-drive");
    EXPECT_EQ(drive["host-device"], "/dev/fake-fd");
    EXPECT_FALSE(drive.contains("image-file"));
    EXPECT_EQ(drive["cylinder"], 5);
    EXPECT_EQ(drive["motor"], true);
    EXPECT_EQ(drive["disk-changed"], false);
}

// A drive is found by its device id, then its legacy name, then its path.
TEST_F(FloppyManagerTest, DrivesAreFoundByIdThenLegacyNameThenPath) {
    EXPECT_EQ(manager.find("fd1"), fd1.get());
    EXPECT_EQ(manager.find("floppy1"), fd1.get());
    EXPECT_EQ(manager.find("/machine/peripheral/fd0"), fd0.get());
    EXPECT_EQ(manager.find(""), nullptr);
    auto shadow = slot(3, {"floppy1", "/machine/peripheral/shadow", "", "fdc0"}, nullptr);
    EXPECT_EQ(manager.find("floppy1"), shadow.get()) << "an id before a legacy name";
    manager.remove(*shadow);
    EXPECT_EQ(manager.find("floppy1"), fd1.get());
}

// --- the QMP edge -------------------------------------------------------------------------------

TEST_F(FloppyManagerTest, ExecuteRunsTheCommandsOnJsonArguments) {
    const std::string a = image("a.img");
    ASSERT_TRUE(manager.execute("floppy-attach-image",
                                {{"id", "fd0"}, {"filename", a}, {"read-only", true}}));
    EXPECT_TRUE(fd0->read_only());
    EXPECT_EQ(manager.execute("query-floppy-drives", nlohmann::json::object())->size(), 3u);
    ASSERT_TRUE(manager.execute("floppy-release-image", {{"id", "fd0"}}));
    EXPECT_TRUE(fails_with(manager.execute("floppy-release-host-drive", {{"id", "fd0"}}),
                           VpcError::NoMediaCaptured,
                           "floppy drive 'fd0' holds no host drive; there is nothing to release "
                           "(attach one with floppy-attach-host-drive)"));
}

TEST_F(FloppyManagerTest, ExecuteTurnsTheUnexpectedIntoDispException) {
    const CommandResult thrown =
        manager.execute("floppy-attach-image", {{"id", "fd0"}, {"read-only", "yes"}});
    ASSERT_FALSE(thrown);
    EXPECT_EQ(thrown.error().kind(), VpcError::DispException);
    EXPECT_EQ(thrown.error().message().rfind("floppy-attach-image failed unexpectedly: ", 0), 0u)
        << thrown.error().message();
    EXPECT_TRUE(fails_with(manager.execute("floppy-format", nlohmann::json::object()),
                           VpcError::DispException,
                           "the floppy plugin has no command floppy-format"));
}

TEST(FloppyQmpError, CarriesTheClassTheDescAndTheHresult) {
    const QmpError e = qmp_error(Error(VpcError::NoMediaCaptured, "nothing to release"));
    EXPECT_STREQ(e.cls, "VM_E_NO_MEDIA_CAPTURED");
    EXPECT_EQ(e.desc, "nothing to release");
    EXPECT_EQ(e.members.dump(), R"({"hresult":"0xA0040652"})");
    for (const VpcErrorInfo &info : vpc_errors()) {
        const QmpError each = qmp_error(Error(info.error, "x"));
        EXPECT_STREQ(each.cls, info.symbol);
        EXPECT_EQ(each.members["hresult"], hresult_text(info.hresult));
    }
    EXPECT_EQ(qmp_error(Error(VpcError::DispException, "x")).members["hresult"], "0x80020009");
    EXPECT_EQ(qmp_error(Error(VpcError::FileReadOnly, "x")).members["hresult"], "0xA004067A");
}

}  // namespace
}  // namespace fdplug::floppy::test
