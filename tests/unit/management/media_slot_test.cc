// MediaSlot: the one way media go in (insert) and out (release), and QEMU's block commands on top
// of them (eject, blockdev-change-medium, query-block) — events and warnings to the observer, a
// failed flush that keeps the medium, a forced one that drops its writes, the lock of the image
// a change re-inserts, and the messages QEMU's GenericError carries.
#include "hw/block/management/media_slot.h"

#include <gtest/gtest.h>

#include "tests/unit/management/management_rig.h"

namespace fdplug::floppy::test {
namespace {

class MediaSlotTest : public ManagementRig {
  protected:
    // Opens `path` for `slot` read-write, as the floppy-* commands do, and inserts it.
    void insert_image(MediaSlot &slot, const std::string &path, bool notify = true) {
        MediumRequest request;
        request.file = path;
        Expected<OpenedMedium> medium = slot.open_image(request);
        ASSERT_TRUE(medium) << medium.error().message();
        slot.insert(std::move(*medium), notify);
    }
};

const std::string kFlushFailed = "flushing '/fake/a.img' failed: the store is gone";

TEST_F(MediaSlotTest, OpensMediaForItsDriveType) {
    MediumRequest request;
    request.file = image("ed.img", 2949120);  // 2.88M: more than a 1.44 MB drive reads
    Expected<OpenedMedium> medium = fd0->open_image(request);
    ASSERT_FALSE(medium);
    EXPECT_EQ(medium.error().kind(), ErrorKind::UnknownSize) << medium.error().message();
    request.format = "qcow2";
    medium = fd0->open_image(request);
    ASSERT_FALSE(medium);
    EXPECT_EQ(medium.error().kind(), ErrorKind::Unsupported);
    EXPECT_EQ(medium.error().message(),
              "format=qcow2 is not supported: floppy drives take raw sector images (format=raw), "
              "ImageDisk files (format=imd) and Teledisk files (format=td0, read-only)");
}

TEST_F(MediaSlotTest, InsertAtPowerOnSendsNoEvent) {
    const std::string a = image("a.img");
    insert_image(*fd0, a, false);
    EXPECT_TRUE(events.empty());
    EXPECT_EQ(fd0->attachment(), Attachment::Image);
    EXPECT_EQ(fd0->source(), a);
    EXPECT_TRUE(fdc->drive(0).has_media());
}

TEST_F(MediaSlotTest, ReleasingAnEmptyDriveSucceedsQuietly) {
    EXPECT_TRUE(fd0->release(false));
    EXPECT_TRUE(fd0->eject(false));
    EXPECT_TRUE(events.empty());
    EXPECT_TRUE(fd0->flush()) << "nothing to flush";
}

TEST_F(MediaSlotTest, AFailedFlushKeepsTheMedium) {
    fd0->insert(opened(std::make_unique<FlakyMedium>("/fake/a.img", 1), Attachment::Image));
    guest_seeks(0, 1);
    const Status released = fd0->release(false);
    ASSERT_FALSE(released);
    EXPECT_EQ(released.error().kind(), ErrorKind::IoError);
    EXPECT_EQ(released.error().message(), kFlushFailed);
    EXPECT_TRUE(fdc->drive(0).has_media());
    EXPECT_EQ(fd0->attachment(), Attachment::Image);
    EXPECT_EQ(fd0->source(), "/fake/a.img");
    EXPECT_FALSE(guest_sees_disk_change(0));
    EXPECT_EQ(event_names(), (std::vector<std::string>{"FLOPPY_MEDIA_INSERTED"}));
    EXPECT_TRUE(fd0->release(false)) << "the next flush succeeds";
    EXPECT_TRUE(guest_sees_disk_change(0));
}

TEST_F(MediaSlotTest, AForcedReleaseDropsTheUnsavedWritesWithAWarning) {
    fd0->insert(opened(std::make_unique<FlakyMedium>("/fake/a.img", 1), Attachment::Image));
    ASSERT_TRUE(fd0->release(true));
    EXPECT_FALSE(fdc->drive(0).has_media());
    EXPECT_EQ(warnings,
              (std::vector<std::string>{
                  "floppy drive 'fd0': released without its unsaved writes: " + kFlushFailed}));
    EXPECT_EQ(event_names(),
              (std::vector<std::string>{"FLOPPY_MEDIA_INSERTED", "FLOPPY_MEDIA_EJECTED"}));
}

TEST_F(MediaSlotTest, EjectOfAMediumThatCannotBeFlushedSaysHowToForceIt) {
    fd0->insert(opened(std::make_unique<FlakyMedium>("/fake/a.img", 2), Attachment::Image));
    const Status ejected = fd0->eject(false);
    ASSERT_FALSE(ejected);
    EXPECT_EQ(
        ejected.error().message(),
        "flushing the medium of floppy unit 0 failed, so it stays in the drive: " + kFlushFailed +
            " (fix the file and eject again, or use force=true to drop unsaved writes)");
    EXPECT_TRUE(fdc->drive(0).has_media());
    EXPECT_TRUE(fd0->eject(true));
    EXPECT_FALSE(fdc->drive(0).has_media());
    EXPECT_EQ(warnings.size(), 1u);
}

TEST_F(MediaSlotTest, ChangeMediumEjectsThenInserts) {
    const std::string a = image("a.img"), b = image("b.img");
    insert_image(*fd0, a);
    ASSERT_TRUE(fd0->change_medium(b, "raw", "read-only"));
    EXPECT_EQ(fd0->source(), b);
    EXPECT_TRUE(fd0->read_only());
    ASSERT_EQ(event_names(),
              (std::vector<std::string>{"FLOPPY_MEDIA_INSERTED", "FLOPPY_MEDIA_EJECTED",
                                        "FLOPPY_MEDIA_INSERTED"}));
    EXPECT_EQ(events[1].data["path"], a);
    EXPECT_EQ(events[1].attachment_then, Attachment::None);
    EXPECT_EQ(events[2].data["path"], b);
    EXPECT_EQ(events[2].data["read-only"], true);
    EXPECT_EQ(events[2].attachment_then, Attachment::Image);
}

TEST_F(MediaSlotTest, ChangeMediumKeepsTheReadOnlyModeOfTheLastMedium) {
    const std::string a = image("a.img"), b = image("b.img");
    ASSERT_TRUE(fd0->change_medium(a, "", "read-only"));
    ASSERT_TRUE(fd0->change_medium(b, "", "retain"));
    EXPECT_TRUE(fd0->read_only()) << "retain: the mode of the medium before";
    ASSERT_TRUE(fd0->change_medium(b, "", "read-write"));
    EXPECT_FALSE(fd0->read_only());
    // A medium attached another way (floppy-attach-image) sets the mode an eject retains.
    ASSERT_TRUE(fd0->eject(false));
    ASSERT_TRUE(manager.attach_image("fd0", a, true));
    ASSERT_TRUE(fd0->eject(false));
    ASSERT_TRUE(fd0->change_medium(b, "", "retain"));
    EXPECT_TRUE(fd0->read_only()) << "an eject keeps the last medium's mode";
}

// The drive itself holds the write lock of the image it re-inserts: it lets go and opens again.
TEST_F(MediaSlotTest, ChangeMediumToTheSameImageReleasesItsOwnLock) {
    const std::string a = image("a.img");
    insert_image(*fd0, a);
    ASSERT_TRUE(fd0->change_medium(a, "raw", "read-write"));
    EXPECT_EQ(fd0->source(), a);
    EXPECT_TRUE(fdc->drive(0).has_media());
    EXPECT_EQ(event_names(),
              (std::vector<std::string>{"FLOPPY_MEDIA_INSERTED", "FLOPPY_MEDIA_EJECTED",
                                        "FLOPPY_MEDIA_INSERTED"}));
}

TEST_F(MediaSlotTest, ChangeMediumToAnImageAnotherDriveHoldsKeepsTheCurrentOne) {
    const std::string a = image("a.img"), b = image("b.img");
    insert_image(*fd0, a);
    insert_image(*fd1, b);
    const Status changed = fd0->change_medium(b, "raw", "read-write");
    ASSERT_FALSE(changed);
    EXPECT_EQ(changed.error().kind(), ErrorKind::InUse);
    EXPECT_EQ(changed.error().message(),
              "floppy image '" + b +
                  "' is in use by another process or another drive; release it there first, or "
                  "attach it read-only if nobody writes it");
    EXPECT_EQ(fd0->source(), a) << "a failed open changes nothing";
    EXPECT_EQ(events.size(), 2u);
}

TEST_F(MediaSlotTest, ChangeMediumWhoseCurrentMediumCannotBeFlushedKeepsIt) {
    fd0->insert(opened(std::make_unique<FlakyMedium>("/fake/a.img", 1), Attachment::Image));
    const Status changed = fd0->change_medium(image("b.img"), "raw", "retain");
    ASSERT_FALSE(changed);
    EXPECT_EQ(changed.error().message(),
              "flushing the current medium failed, so it stays in the drive: " + kFlushFailed);
    EXPECT_EQ(fd0->source(), "/fake/a.img");
    EXPECT_EQ(events.size(), 1u);
}

TEST_F(MediaSlotTest, ChangeMediumRefusesWhatIsNoMedium) {
    EXPECT_EQ(nodrive->change_medium(image("a.img"), "raw", "retain").error().message(),
              "floppy unit 2 has no drive (drive-type=none); attach the medium to a unit with a "
              "drive");
    EXPECT_EQ(fd0->change_medium("", "raw", "retain").error().message(),
              "blockdev-change-medium needs a filename");
    const std::string missing = dir.file("missing.img");
    const Status changed = fd0->change_medium(missing, "raw", "retain");
    ASSERT_FALSE(changed);
    EXPECT_EQ(changed.error().kind(), ErrorKind::NotFound);
    EXPECT_EQ(changed.error().message(),
              "floppy image '" + missing + "' does not exist; check the path");
    EXPECT_TRUE(events.empty());
}

TEST_F(MediaSlotTest, QueryBlockDescribesTheMedium) {
    Json empty = fd1->query_block();
    EXPECT_EQ(empty.dump(), Json({{"device", "floppy1"},
                                  {"qdev", "fd1"},
                                  {"locked", false},
                                  {"removable", true},
                                  {"tray_open", false},
                                  {"type", "unknown"}})
                                .dump());
    const std::string a = image("a.img");
    insert_image(*fd1, a);
    const Json inserted = fd1->query_block()["inserted"];
    EXPECT_EQ(inserted["file"], a);
    EXPECT_EQ(inserted["ro"], false);
    EXPECT_EQ(inserted["drv"], "raw");
    EXPECT_EQ(inserted["image"]["virtual-size"], k144Bytes);
    fd0->insert(opened(std::make_unique<FlakyMedium>("/dev/fake-fd"), Attachment::HostDrive));
    EXPECT_EQ(fd0->query_block()["inserted"]["drv"], "host_device");
    EXPECT_EQ(fd0->query_block()["qdev"], "fd0");
}

TEST_F(MediaSlotTest, NamesFallBackFromIdToLegacyNameToPath) {
    MediaSlot legacy(*fdc, 3, {"", "/machine/fdc/floppy3", "floppy3", "fdc0"}, nullptr, false);
    EXPECT_EQ(legacy.name(), "floppy3");
    EXPECT_EQ(legacy.qdev(), "/machine/fdc/floppy3");
    MediaSlot anonymous(*fdc, 3, {"", "/machine/fdc/floppy3", "", "fdc0"}, nullptr, false);
    EXPECT_EQ(anonymous.name(), "/machine/fdc/floppy3");
    EXPECT_EQ(fd1->name(), "fd1");
    EXPECT_EQ(fd1->qdev(), "fd1");
}

}  // namespace
}  // namespace fdplug::floppy::test
