// HostFloppy (host floppy drives as block devices) and the backends' test-only fault injection:
// the refusals that need no device (bad names, missing nodes, things that are not block devices —
// a FIFO among them, which must not block), and, where a loop device can be made (root and
// losetup), a real block device read, written, flushed and claimed exclusively.
#include "hw/block/media/host_floppy.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "hw/block/media/raw_image.h"
#include "temp_dir.h"

namespace fdplug::floppy {
namespace {

using test::TempDir;
using Sector = std::array<uint8_t, DiskImage::kSectorSize>;

constexpr uint64_t k144Bytes = 1474560;

Expected<std::unique_ptr<HostFloppy>> open_device(const std::string &device,
                                                  MediaFaultsPtr faults = {}) {
    return HostFloppy::open({.device = device, .drive = DriveType::k144}, std::move(faults));
}

TEST(HostFloppyOpen, BadNames) {
    for (const char *name : {"", "fd0", "dev/fd0"}) {
        const auto r = open_device(name);
        ASSERT_FALSE(r) << name;
        EXPECT_EQ(r.error().kind(), ErrorKind::BadPath) << name << ": " << r.error().message();
    }
}

TEST(HostFloppyOpen, MissingNodeIsNotFound) {
    const auto r = open_device("/dev/fdplug-no-such-drive");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind(), ErrorKind::NotFound) << r.error().message();
    EXPECT_NE(r.error().message().find("/dev/fdplug-no-such-drive"), std::string::npos);
}

TEST(HostFloppyOpen, AnythingButABlockDeviceIsRefusedWithoutBlocking) {
    TempDir dir;
    const std::string file = dir.file("a.img"), fifo = dir.file("fifo");
    test::write_file(file, std::vector<uint8_t>(k144Bytes));
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    for (const std::string &path : {file, fifo, dir.path(), std::string("/dev/null")}) {
        const auto t0 = std::chrono::steady_clock::now();
        const auto r = open_device(path);
        EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2)) << path;
        ASSERT_FALSE(r) << path;
        EXPECT_EQ(r.error().kind(), ErrorKind::WrongFileType)
            << path << ": " << r.error().message();
        EXPECT_NE(r.error().message().find("not a floppy drive"), std::string::npos)
            << r.error().message();
    }
}

// A loop device over an image: a real block device. Needs root and losetup.
class LoopDevice {
  public:
    explicit LoopDevice(const std::string &file) {
        if (::geteuid() != 0 || ::access("/dev/loop-control", F_OK) != 0) return;
        if (FILE *p = ::popen(("losetup -f --show " + file + " 2>/dev/null").c_str(), "r")) {
            char buf[64] = {};
            if (std::fgets(buf, sizeof buf, p)) dev = std::string(buf, std::strcspn(buf, "\n"));
            ::pclose(p);
        }
    }
    ~LoopDevice() {
        if (!dev.empty()) std::system(("losetup -d " + dev).c_str());
    }
    std::string dev;
};

TEST(HostFloppyLoop, ReadsWritesFlushesAndClaimsTheDevice) {
    TempDir dir;
    const std::string file = dir.file("disk.img");
    const auto bytes = test::pattern(k144Bytes);
    test::write_file(file, bytes);
    LoopDevice loop(file);
    if (loop.dev.empty()) GTEST_SKIP() << "no loop device here (needs root and losetup)";
    auto r = open_device(loop.dev);
    ASSERT_TRUE(r) << r.error().message();
    std::unique_ptr<HostFloppy> &drive = *r;
    EXPECT_EQ(drive->device_size(), k144Bytes);
    EXPECT_EQ(drive->geometry().sectors, 18);
    EXPECT_FALSE(drive->read_only());
    EXPECT_EQ(drive->source(), loop.dev);
    Sector s{};
    ASSERT_EQ(drive->read_sector(1, 0, 1, s), MediaStatus::Ok);
    EXPECT_TRUE(std::equal(s.begin(), s.end(), bytes.begin() + 36 * 512));
    EXPECT_EQ(drive->read_sector(80, 0, 1, s), MediaStatus::OutOfRange);

    const auto second = open_device(loop.dev);
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().kind(), ErrorKind::InUse) << "O_EXCL: " << second.error().message();

    s.fill(0xAB);
    ASSERT_EQ(drive->write_sector(0, 1, 2, s), MediaStatus::Ok);
    const Status flushed = drive->flush();
    ASSERT_TRUE(flushed) << flushed.error().message();
    drive.reset();
    EXPECT_EQ(test::read_file(file)[19 * 512], 0xAB) << "through the device into its backing file";
    EXPECT_TRUE(open_device(loop.dev)) << "free again once closed";
}

TEST(HostFloppyLoop, NonFloppySizeIsUnknownSize) {
    TempDir dir;
    const std::string file = dir.file("hd.img");
    test::write_file(file, std::vector<uint8_t>(8 * 1024 * 1024));
    LoopDevice loop(file);
    if (loop.dev.empty()) GTEST_SKIP() << "no loop device here (needs root and losetup)";
    const auto r = open_device(loop.dev);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind(), ErrorKind::UnknownSize) << r.error().message();
    EXPECT_NE(r.error().message().find("8388608 bytes"), std::string::npos) << r.error().message();
}

// Fault injection: the counts are spent one failing call at a time; the real call runs after.
TEST(MediaFaults, ReadAndFlushFaultsFailTheRealCallsOnce) {
    TempDir dir;
    const std::string file = dir.file("a.img");
    test::write_file(file, test::pattern(k144Bytes));
    auto faults = std::make_shared<MediaFaults>();
    faults->fail_reads = 1;
    faults->fail_flushes = 1;
    auto r = RawImage::open({.path = file}, faults);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind(), ErrorKind::IoError)
        << "the boot-sector read failed: " << r.error().message();
    EXPECT_NE(r.error().message().find("Input/output error"), std::string::npos)
        << r.error().message();
    r = RawImage::open({.path = file}, faults);
    ASSERT_TRUE(r) << "the fault is spent: " << r.error().message();
    RawImage &image = **r;
    faults->fail_reads = 1;  // shared with the image: the next sector read fails
    Sector s{};
    EXPECT_EQ(image.read_sector(0, 0, 1, s), MediaStatus::IoError);
    EXPECT_NE(image.last_error().find("Input/output error"), std::string::npos);
    EXPECT_EQ(image.read_sector(0, 0, 1, s), MediaStatus::Ok);
    const Status failed = image.flush();
    ASSERT_FALSE(failed);
    EXPECT_EQ(failed.error().kind(), ErrorKind::IoError);
    EXPECT_NE(failed.error().message().find("flushing floppy image"), std::string::npos)
        << failed.error().message();
    EXPECT_TRUE(image.flush()) << "spent";
    EXPECT_EQ(faults->fail_reads + faults->fail_flushes, 0u);
}

}  // namespace
}  // namespace fdplug::floppy
