// Floppy management over QMP (issue 5): every documented result of floppy-attach-image,
// floppy-release-image, floppy-attach-host-drive, floppy-release-host-drive and
// query-floppy-drives, reached through the real fdplug-host with the floppy plugin over its QMP
// socket, with what the guest sees checked over qtest in the same test (DIR bit 7, the result
// bytes of a command a release interrupts, the sectors a DMA READ brings), the events, the locks,
// and the files' bytes after a release. QEMU's eject / blockdev-change-medium are checked to go
// the same way.
//
// Real failing conditions only: permission errors come from running the host as `nobody` when
// the tests run as root; DISP_E_EXCEPTION from the image backends' test-only fault injection
// (x-fail-flush / x-fail-read make the real fdatasync / pread fail with EIO). Host drives are
// exercised through a loop device when the tests may create one (root and losetup), else those
// tests are skipped.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "tests/qtest/floppy_machine.h"
#include "tests/qtest/libqtest.h"
#include "tests/qtest/scratch_dir.h"

namespace fdplug::test {
namespace {

using nlohmann::json;

constexpr uint32_t k144 = 1474560;
constexpr int64_t kMs = 1'000'000;
// Two 1.44 MB drives, fd0 (unit 0) and fd1 (unit 1), on the pc machine's controller.
const std::string kTwoDrives =
    "-machine pc -nodefaults -device floppy,id=fd0,unit=0,drive-type=144 "
    "-device floppy,id=fd1,unit=1,drive-type=144" +
    kFast;

// --- files --------------------------------------------------------------------------------

class Scratch : public ScratchDir {
  public:
    // An image whose every sector starts with its LBA and is filled with a byte derived from it.
    std::string image(const std::string &name, uint32_t bytes = k144) const {
        std::vector<uint8_t> data(bytes);
        for (uint32_t i = 0; i < bytes; ++i) data[i] = sector_byte(i / 512, i % 512);
        const std::string p = path(name);
        std::ofstream(p, std::ios::binary)
            .write(reinterpret_cast<const char *>(data.data()), std::streamsize(bytes));
        ::chmod(p.c_str(), 0644);
        return p;
    }
    static uint8_t sector_byte(uint32_t lba, unsigned offset) {
        return offset < 2 ? uint8_t(lba >> (8 * offset)) : uint8_t(lba * 7 + offset * 13 + 1);
    }
};

std::vector<uint8_t> expected_sector(uint32_t lba) {
    std::vector<uint8_t> s(512);
    for (unsigned i = 0; i < 512; ++i) s[i] = Scratch::sector_byte(lba, i);
    return s;
}

std::string run(const std::string &command) {
    std::string out;
    if (FILE *p = ::popen(command.c_str(), "r")) {
        char buf[256];
        while (std::fgets(buf, sizeof buf, p)) out += buf;
        ::pclose(p);
    }
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    return out;
}

// A loop device over a file: a real block device for the host-drive commands. Creating one needs
// root and losetup; `dev` stays empty (and the test is skipped) otherwise.
class LoopDevice {
  public:
    explicit LoopDevice(const std::string &file, bool read_only = false) {
        if (::geteuid() != 0 || ::access("/dev/loop-control", F_OK) != 0) return;
        const std::string d =
            run("losetup -f --show " + std::string(read_only ? "-r " : "") + file + " 2>/dev/null");
        if (d.rfind("/dev/loop", 0) == 0) dev = d;
    }
    ~LoopDevice() {
        if (!dev.empty()) run("losetup -d " + dev + " 2>&1");
    }
    std::string dev;
};

#define REQUIRE_LOOP(loop) \
    if ((loop).dev.empty()) GTEST_SKIP() << "no loop device here (needs root and losetup)"

// --- the machine --------------------------------------------------------------------------

// The host and guest of floppy_machine.h, plus what only these tests ask of them.
class Machine : public FloppyMachine {
  public:
    using FloppyMachine::FloppyMachine;

    json attach_host(const std::string &id, const std::string &device) {
        return qmp("floppy-attach-host-drive", {{"id", id}, {"device", device}});
    }
    json release_host(const std::string &id) {
        return qmp("floppy-release-host-drive", {{"id", id}});
    }
    // The events of that name since the last call, oldest first.
    std::vector<json> events(const std::string &name) {
        std::vector<json> out;
        auto &all = q.events();
        for (auto it = all.begin(); it != all.end();) {
            if (it->value("event", "") == name) {
                out.push_back((*it)["data"]);
                it = all.erase(it);
            } else {
                ++it;
            }
        }
        return out;
    }
    bool no_media_events() {
        return events("FLOPPY_MEDIA_INSERTED").empty() && events("FLOPPY_MEDIA_EJECTED").empty();
    }

    // DIR bit 7 of a unit: DOR selects the drive DIR reports (motors left as they are).
    bool disk_changed(unsigned unit = 0) {
        q.outb(kDorPort, uint8_t((dor_ & 0xFC) | unit));
        return q.inb(kDirPort) & dir::kDiskChange;
    }
    void motor_on(unsigned unit) {
        dor_ |= uint8_t(0x10 << unit);
        q.outb(kDorPort, dor_);
    }
    uint8_t st3(unsigned unit) {
        send_all({0x04, uint8_t(unit)});
        return take(1)[0];
    }

  private:
    uint8_t dor_ = 0x0C;
};

// 1.44 MB: LBA = (C × 2 + H) × 18 + R − 1.
uint32_t lba(unsigned c, unsigned h, unsigned r) {
    return (c * 2 + h) * 18 + r - 1;
}

std::vector<uint8_t> guest_bytes(size_t n, uint8_t seed) {
    std::vector<uint8_t> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = uint8_t(seed ^ (i * 31 + (i >> 9)));
    return v;
}

// An error reply of a Virtual PC class: the class, its HRESULT, a desc that names `mention`
// (the drive), and nothing else changed by the command.
::testing::AssertionResult vpc_error(const json &reply, const std::string &cls,
                                     const std::string &hresult, const std::string &mention) {
    if (!reply.contains("error"))
        return ::testing::AssertionFailure() << "no error: " << reply.dump();
    const json &e = reply["error"];
    if (e.value("class", "") != cls || e.value("hresult", "") != hresult)
        return ::testing::AssertionFailure()
               << "want " << cls << " " << hresult << ", got " << reply.dump();
    if (e.value("desc", "").find(mention) == std::string::npos)
        return ::testing::AssertionFailure()
               << "desc does not name '" << mention << "': " << reply.dump();
    return ::testing::AssertionSuccess();
}
::testing::AssertionResult ok(const json &reply) {
    if (reply.contains("return") && reply["return"] == json::object())
        return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << reply.dump();
}

const std::string kVmUnknown = "VM_E_VM_UNKNOWN", kVmUnknownHr = "0xA0040207";
const std::string kCaptureFail = "VM_E_IMAGE_CAPTURE_FAIL", kCaptureFailHr = "0xA0040650";
const std::string kHostFail = "VM_E_HOST_FLOPPY_CAPTURE_FAIL", kHostFailHr = "0xA0040651";
const std::string kNoMedia = "VM_E_NO_MEDIA_CAPTURED", kNoMediaHr = "0xA0040652";
const std::string kReadOnly = "VM_E_FILE_READ_ONLY", kReadOnlyHr = "0xA004067A";
const std::string kInUse = "VM_E_DRIVE_IN_USE", kInUseHr = "0xA0040727";
const std::string kWrongType = "VM_E_MEDIA_WRONG_TYPE", kWrongTypeHr = "0xA0040728";
const std::string kDispException = "DISP_E_EXCEPTION", kDispExceptionHr = "0x80020009";
const std::string kInvalidArg = "E_INVALIDARG", kInvalidArgHr = "0x80070057";

// Each test: a scratch directory with a.img and b.img (1.44 MB, patterned), and one machine.
class FloppyQmp : public ::testing::Test {
  protected:
    Scratch s;
    const std::string img = s.image("a.img"), b = s.image("b.img");

    Machine &start(const std::string &args = kTwoDrives, bool unprivileged = false) {
        machine_ = std::make_unique<Machine>(args, unprivileged);
        return *machine_;
    }

  private:
    std::unique_ptr<Machine> machine_;
};
using FloppyAttachImage = FloppyQmp;
using FloppyReleaseImage = FloppyQmp;
using FloppyAttachHostDrive = FloppyQmp;
using FloppyReleaseHostDrive = FloppyQmp;
using QueryFloppyDrives = FloppyQmp;
using FloppyQemuCommands = FloppyQmp;
using FloppyQmpProtocol = FloppyQmp;

// ============================================================================================
// floppy-attach-image
// ============================================================================================

TEST_F(FloppyAttachImage, SucceedsAndTheGuestReadsTheNewDisk) {
    Machine &m = start();
    ASSERT_TRUE(m.ok());
    m.specify();
    m.seek(0, 1);
    EXPECT_TRUE(m.disk_changed()) << "an empty drive keeps DSKCHG";
    ASSERT_TRUE(ok(m.attach("fd0", img)));
    const auto inserted = m.events("FLOPPY_MEDIA_INSERTED");
    ASSERT_EQ(inserted.size(), 1u);
    EXPECT_EQ(inserted[0],
              (json{{"id", "fd0"}, {"path", img}, {"attachment", "image"}, {"read-only", false}}));
    EXPECT_TRUE(m.disk_changed()) << "DSKCHG is set until the guest steps with the disk in";
    const json d = m.drive("fd0");
    EXPECT_EQ(d["attachment"], "image");
    EXPECT_EQ(d["image-file"], img);
    EXPECT_EQ(d["read-only"], false);
    EXPECT_EQ(d["geometry"]["format"], "1.44M");
    EXPECT_EQ(m.qmp("query-block")["return"][0]["inserted"]["file"], img)
        << "query-block sees it too";
    m.seek(0, 2);
    EXPECT_FALSE(m.disk_changed());
    std::vector<uint8_t> data;
    const auto r = m.read(0, 2, 1, 3, 2, &data);
    EXPECT_EQ(r[0] & st0::kIc, 0) << "IC=00";
    ASSERT_EQ(data.size(), 1024u);
    EXPECT_EQ(std::vector<uint8_t>(data.begin(), data.begin() + 512),
              expected_sector(lba(2, 1, 3)));
    EXPECT_EQ(std::vector<uint8_t>(data.begin() + 512, data.end()), expected_sector(lba(2, 1, 4)));
}

TEST_F(FloppyAttachImage, ReadOnlyIsWriteProtectedForTheGuest) {
    const auto before = read_file(img);
    Machine &m = start();
    ASSERT_TRUE(m.ok());
    ASSERT_TRUE(ok(m.attach("fd0", img, true)));
    EXPECT_EQ(m.events("FLOPPY_MEDIA_INSERTED").at(0)["read-only"], true);
    EXPECT_EQ(m.drive("fd0")["read-only"], true);
    m.specify();
    EXPECT_EQ(m.st3(0) & 0x40, 0x40) << "ST3 WP";
    const auto r = m.write(0, 0, 0, 1, guest_bytes(512, 0x5A));
    EXPECT_EQ(r[0] & st0::kIc, st0::kIcAbnormal);
    EXPECT_EQ(r[1], st1::kNw);
    ASSERT_TRUE(ok(m.release("fd0")));
    EXPECT_EQ(read_file(img), before);
}

// Virtual PC checks the path's form first — before it even looks the drive up — and fdplug
// reports every form failure as VM_E_IMAGE_CAPTURE_FAIL with a desc naming the rule.
TEST_F(FloppyAttachImage, PathFormIsRefusedFirstAsImageCaptureFail) {
    Machine &m = start();
    ASSERT_TRUE(m.ok());
    struct Case {
        std::string path, rule;
    };
    std::vector<Case> cases = {
        {"", "no image path"}, {"a.img", "not absolute"}, {"./a.img", "not absolute"}};
    for (char c : std::string("*?<>|\""))
        cases.push_back({s.path(std::string("a") + c + ".img"), std::string("'") + c + "'"});
    cases.push_back({s.path("a\x01.img"), "control character 0x01"});
    cases.push_back({"/" + std::string(259, 'x'), "260 characters"});
    for (const std::string id : {"fd0", "nope"})
        for (const Case &c : cases) {
            const json r = m.attach(id, c.path);
            EXPECT_TRUE(vpc_error(r, kCaptureFail, kCaptureFailHr, c.rule))
                << "path " << json(c.path).dump();
            EXPECT_TRUE(vpc_error(r, kCaptureFail, kCaptureFailHr, id));
        }
    // 259 characters pass the form check (and then the file is missing).
    const json r = m.attach("fd0", "/" + std::string(120, 'x') + "/" + std::string(137, 'y'));
    EXPECT_TRUE(vpc_error(r, kCaptureFail, kCaptureFailHr, "does not exist")) << r.dump();
    EXPECT_EQ(m.drive("fd0")["attachment"], "none");
    EXPECT_TRUE(m.no_media_events());
}

TEST_F(FloppyAttachImage, UnknownOrUnconfiguredDriveIsVmUnknown) {
    Machine &m = start(
        "-machine pc -nodefaults -device floppy,id=fd0,drive-type=144 -device "
        "floppy,id=nodrive,drive-type=none" +
        kFast);
    ASSERT_TRUE(m.ok());
    EXPECT_TRUE(vpc_error(m.attach("nope", img), kVmUnknown, kVmUnknownHr, "'nope'"));
    const json r = m.attach("nodrive", img);
    EXPECT_TRUE(vpc_error(r, kVmUnknown, kVmUnknownHr, "'nodrive'"));
    EXPECT_NE(r["error"]["desc"].get<std::string>().find("drive-type=none"), std::string::npos)
        << r.dump();
    EXPECT_TRUE(m.no_media_events());
    // The file was never opened: a writable attach elsewhere works.
    EXPECT_TRUE(ok(m.attach("fd0", img)));
}

TEST_F(FloppyAttachImage, DriveHoldingMediaIsDriveInUse) {
    Machine &m = start();
    ASSERT_TRUE(m.ok());
    ASSERT_TRUE(ok(m.attach("fd0", img)));
    m.events("FLOPPY_MEDIA_INSERTED");
    m.specify();
    m.seek(0, 1);
    const json r = m.attach("fd0", b);
    EXPECT_TRUE(vpc_error(r, kInUse, kInUseHr, "fd0"));
    EXPECT_NE(r["error"]["desc"].get<std::string>().find(img), std::string::npos)
        << "names what is in it: " << r.dump();
    EXPECT_TRUE(vpc_error(m.attach("fd0", img), kInUse, kInUseHr, "floppy-release-image"));
    EXPECT_EQ(m.drive("fd0")["image-file"], img);
    EXPECT_FALSE(m.disk_changed()) << "the guest saw no change";
    EXPECT_TRUE(m.no_media_events());
}

TEST_F(FloppyAttachImage, FilesThatCannotBeCapturedAreImageCaptureFail) {
    const std::string fifo = s.path("fifo.img");
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
    const std::string odd = s.image("odd.img", 1000), big = s.image("big.img", 2949120);
    std::filesystem::create_directory(s.path("dir.img"));
    Machine &m = start();
    ASSERT_TRUE(m.ok());
    const std::pair<std::string, std::string> cases[] = {
        {s.path("missing.img"), "does not exist"},
        {s.path("dir.img"), "a directory"},
        {fifo, "FIFO"},
        {"/dev/null", "character device"},
        {odd, "cannot be used"},
        {big, "cannot be used"},  // a 2.88 MB medium in a 1.44 MB drive
    };
    for (const auto &[path, why] : cases) {
        const auto t0 = std::chrono::steady_clock::now();
        const json r = m.attach("fd0", path);
        EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2))
            << path << " never blocks the monitor";
        EXPECT_TRUE(vpc_error(r, kCaptureFail, kCaptureFailHr, why)) << path;
        EXPECT_TRUE(vpc_error(r, kCaptureFail, kCaptureFailHr, "fd0"));
    }
    EXPECT_EQ(m.drive("fd0")["attachment"], "none");
    EXPECT_TRUE(m.no_media_events());
}

TEST_F(FloppyAttachImage, UnreadableFileIsImageCaptureFail) {
    ASSERT_EQ(::chmod(img.c_str(), 0000), 0);
    Machine &m = start(kTwoDrives, true);
    ASSERT_TRUE(m.ok());
    for (bool ro : {false, true})
        EXPECT_TRUE(
            vpc_error(m.attach("fd0", img, ro), kCaptureFail, kCaptureFailHr, "Permission denied"));
    EXPECT_EQ(m.drive("fd0")["attachment"], "none");
}

TEST_F(FloppyAttachImage, ReadOnlyFileAskedReadWriteIsFileReadOnly) {
    ASSERT_EQ(::chmod(img.c_str(), 0444), 0);
    if (::geteuid() != 0) {
        ASSERT_NE(::access(img.c_str(), W_OK), 0);
    }
    Machine &m = start(kTwoDrives, true);
    ASSERT_TRUE(m.ok());
    const json r = m.attach("fd0", img);
    EXPECT_TRUE(vpc_error(r, kReadOnly, kReadOnlyHr, "fd0"));
    EXPECT_NE(r["error"]["desc"].get<std::string>().find("\"read-only\": true"), std::string::npos)
        << r.dump();
    EXPECT_TRUE(m.no_media_events());
    EXPECT_TRUE(ok(m.attach("fd0", img, true))) << "read-only works";
}

// A writable image is in one drive at a time (exclusive lock); a read-only one may be shared.
TEST_F(FloppyAttachImage, WritableImageIsLockedAgainstTheOtherDrive) {
    Machine &m = start();
    ASSERT_TRUE(m.ok());
    ASSERT_TRUE(ok(m.attach("fd0", img)));
    for (bool ro : {false, true}) {
        const json r = m.attach("fd1", img, ro);
        EXPECT_TRUE(vpc_error(r, kCaptureFail, kCaptureFailHr, "lock")) << "read-only=" << ro;
        EXPECT_TRUE(vpc_error(r, kCaptureFail, kCaptureFailHr, "fd1"));
    }
    EXPECT_EQ(m.drive("fd1")["attachment"], "none");
    ASSERT_TRUE(ok(m.release("fd0")));
    ASSERT_TRUE(ok(m.attach("fd0", img, true)));
    EXPECT_TRUE(ok(m.attach("fd1", img, true))) << "read-only images are shared";
    ASSERT_TRUE(ok(m.release("fd1")));
    EXPECT_TRUE(vpc_error(m.attach("fd1", img), kCaptureFail, kCaptureFailHr, "lock"))
        << "read-write while fd0 reads it";
}

TEST_F(FloppyAttachImage, LockHeldByAnotherProcessIsImageCaptureFail) {
    Machine &m = start();
    ASSERT_TRUE(m.ok());
    // This test process is the other user: it holds the image's write lock, as QEMU would.
    const int fd = ::open(img.c_str(), O_RDWR | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    struct flock lock = {};
    lock.l_type = F_WRLCK;
    lock.l_whence = SEEK_SET;
    ASSERT_EQ(::fcntl(fd, F_OFD_SETLK, &lock), 0);
    EXPECT_TRUE(vpc_error(m.attach("fd0", img), kCaptureFail, kCaptureFailHr, "lock"));
    ::close(fd);
    EXPECT_TRUE(ok(m.attach("fd0", img))) << "once the other user is gone";
}

// An I/O error reading a file that passed every check is unexpected: DISP_E_EXCEPTION, and the
// drive stays empty. (x-fail-read=1 makes the backend's first pread fail with EIO.)
TEST_F(FloppyAttachImage, ReadFailureIsDispException) {
    Machine &m =
        start("-machine pc -nodefaults -device floppy,id=fd0,drive-type=144,x-fail-read=1" + kFast);
    ASSERT_TRUE(m.ok());
    const json r = m.attach("fd0", img);
    EXPECT_TRUE(vpc_error(r, kDispException, kDispExceptionHr, "fd0"));
    EXPECT_NE(r["error"]["desc"].get<std::string>().find("Input/output error"), std::string::npos)
        << r.dump();
    EXPECT_EQ(m.drive("fd0")["attachment"], "none");
    EXPECT_TRUE(m.no_media_events());
    // Nothing was left behind (no lock): the next attach works and the guest reads the disk.
    ASSERT_TRUE(ok(m.attach("fd0", img)));
    m.specify();
    std::vector<uint8_t> data;
    EXPECT_EQ(m.read(0, 0, 0, 1, 1, &data)[0] & st0::kIc, 0);
    EXPECT_EQ(data, expected_sector(0));
}

// ============================================================================================
// floppy-release-image
// ============================================================================================

TEST_F(FloppyReleaseImage, ReleasesDropsTheLockAndSetsDiskChange) {
    Machine &m = start();
    ASSERT_TRUE(m.ok());
    ASSERT_TRUE(ok(m.attach("fd0", img)));
    m.events("FLOPPY_MEDIA_INSERTED");
    m.specify();
    m.seek(0, 3);
    ASSERT_FALSE(m.disk_changed());
    ASSERT_TRUE(ok(m.release("fd0")));
    EXPECT_EQ(m.events("FLOPPY_MEDIA_EJECTED"),
              (std::vector<json>{{{"id", "fd0"}, {"path", img}, {"attachment", "image"}}}));
    EXPECT_TRUE(m.disk_changed()) << "DIR bit 7";
    m.seek(0, 4);
    EXPECT_TRUE(m.disk_changed()) << "and it stays set: no disk";
    const json d = m.drive("fd0");
    EXPECT_EQ(d["attachment"], "none");
    EXPECT_FALSE(d.contains("image-file"));
    EXPECT_FALSE(d.contains("geometry"));
    EXPECT_FALSE(m.qmp("query-block")["return"][0].contains("inserted"));
    EXPECT_TRUE(ok(m.attach("fd1", img))) << "the lock went with the image";
}

// A command in flight on the drive ends with IC=01 when the image goes: here a DMA READ that
// waits in its execution phase for the masked DMA channel.
TEST_F(FloppyReleaseImage, ReadInFlightEndsAbnormally) {
    Machine &m = start();
    ASSERT_TRUE(m.ok());
    ASSERT_TRUE(ok(m.attach("fd0", img)));
    m.specify();
    m.dma(true, 0x20000, 512, true);
    m.start_read(0, 0, 0, 1, 18);
    m.q.clock_step(100 * kMs);
    EXPECT_EQ(m.msr(), 0x10) << "waiting in execution";
    EXPECT_FALSE(m.irq());
    ASSERT_TRUE(ok(m.release("fd0")));
    EXPECT_TRUE(m.irq()) << "the command ended";
    const auto r = m.take(7);
    EXPECT_EQ(r[0] & st0::kIc, st0::kIcAbnormal) << "ST0 IC=01";
    EXPECT_EQ(r[0] & 0x03, 0) << "unit 0";
    EXPECT_NE(r[1] & 0x05, 0) << "ST1 MA or ND";
    EXPECT_FALSE(m.irq());
    EXPECT_EQ(m.msr() & (msr::kRqm | msr::kDio | 0x10), msr::kRqm) << "back in the command phase";
    EXPECT_TRUE(m.disk_changed());
    EXPECT_EQ(m.events("FLOPPY_MEDIA_EJECTED").size(), 1u);
}

TEST_F(FloppyReleaseImage, TheFileHoldsTheGuestsWrites) {
    const auto before = read_file(img);
    Machine &m = start();
    ASSERT_TRUE(m.ok());
    ASSERT_TRUE(ok(m.attach("fd1", img)));
    m.specify();
    m.seek(1, 5);
    const auto data = guest_bytes(3 * 512, 0xC3);
    EXPECT_EQ(m.write(1, 5, 1, 7, data)[0] & st0::kIc, 0);
    ASSERT_TRUE(ok(m.release("fd1")));
    const auto after = read_file(img);
    ASSERT_EQ(after.size(), before.size());
    const size_t at = lba(5, 1, 7) * 512u;
    EXPECT_EQ(
        std::vector<uint8_t>(after.begin() + long(at), after.begin() + long(at + data.size())),
        data);
    EXPECT_TRUE(std::equal(after.begin(), after.begin() + long(at), before.begin()));
    EXPECT_TRUE(std::equal(after.begin() + long(at + data.size()), after.end(),
                           before.begin() + long(at + data.size())));
}

TEST_F(FloppyReleaseImage, UnknownOrUnconfiguredDriveIsVmUnknown) {
    Machine &m = start(
        "-machine pc -nodefaults -device floppy,id=fd0,drive-type=144 -device "
        "floppy,id=nodrive,drive-type=none" +
        kFast);
    ASSERT_TRUE(m.ok());
    EXPECT_TRUE(vpc_error(m.release("nope"), kVmUnknown, kVmUnknownHr, "'nope'"));
    EXPECT_TRUE(vpc_error(m.release("nodrive"), kVmUnknown, kVmUnknownHr, "drive-type=none"));
    Machine none("-machine pc -nodefaults" + kFast);
    ASSERT_TRUE(none.ok());
    EXPECT_TRUE(vpc_error(none.release("floppy0"), kVmUnknown, kVmUnknownHr, "no floppy drives"));
}

TEST_F(FloppyReleaseImage, EmptyDriveIsNoMediaCaptured) {
    Machine &m = start();
    ASSERT_TRUE(m.ok());
    EXPECT_TRUE(vpc_error(m.release("fd0"), kNoMedia, kNoMediaHr, "fd0"));
    ASSERT_TRUE(ok(m.attach("fd0", img)));
    ASSERT_TRUE(ok(m.release("fd0")));
    m.events("FLOPPY_MEDIA_INSERTED");
    m.events("FLOPPY_MEDIA_EJECTED");
    EXPECT_TRUE(vpc_error(m.release("fd0"), kNoMedia, kNoMediaHr, "floppy-attach-image"))
        << "a second release";
    EXPECT_TRUE(m.no_media_events());
    EXPECT_TRUE(ok(m.qmp("eject", {{"id", "fd0"}}))) << "where QEMU's eject succeeds";
}

TEST_F(FloppyReleaseImage, HostDriveAttachedIsMediaWrongType) {
    LoopDevice loop(img);
    REQUIRE_LOOP(loop);
    Machine &m = start();
    ASSERT_TRUE(m.ok());
    ASSERT_TRUE(ok(m.attach_host("fd0", loop.dev)));
    m.events("FLOPPY_MEDIA_INSERTED");
    const json r = m.release("fd0");
    EXPECT_TRUE(vpc_error(r, kWrongType, kWrongTypeHr, "floppy-release-host-drive"));
    EXPECT_TRUE(vpc_error(r, kWrongType, kWrongTypeHr, loop.dev));
    EXPECT_EQ(m.drive("fd0")["host-device"], loop.dev);
    EXPECT_TRUE(m.no_media_events());
    EXPECT_TRUE(ok(m.release_host("fd0")));
}

// The final flush fails (x-fail-flush=1: the backend's fdatasync fails with EIO once): the
// release is DISP_E_EXCEPTION and the drive is left untouched — still attached, no event, no
// disk change for the guest, which still reads what it wrote. A second release succeeds.
TEST_F(FloppyReleaseImage, FailedFlushIsDispExceptionAndLeavesTheDriveUntouched) {
    Machine &m = start(
        "-machine pc -nodefaults -device floppy,id=fd0,drive-type=144,x-fail-flush=1" + kFast);
    ASSERT_TRUE(m.ok());
    ASSERT_TRUE(ok(m.attach("fd0", img)));
    m.events("FLOPPY_MEDIA_INSERTED");
    m.specify();
    m.seek(0, 2);
    const auto data = guest_bytes(512, 0x77);
    EXPECT_EQ(m.write(0, 2, 0, 9, data)[0] & st0::kIc, 0);
    const json r = m.release("fd0");
    EXPECT_TRUE(vpc_error(r, kDispException, kDispExceptionHr, "fd0"));
    EXPECT_NE(r["error"]["desc"].get<std::string>().find("Input/output error"), std::string::npos)
        << r.dump();
    EXPECT_NE(r["error"]["desc"].get<std::string>().find("stays attached"), std::string::npos)
        << r.dump();
    EXPECT_TRUE(m.no_media_events());
    EXPECT_EQ(m.drive("fd0")["attachment"], "image");
    EXPECT_EQ(m.drive("fd0")["image-file"], img);
    EXPECT_FALSE(m.disk_changed()) << "the guest saw no change";
    std::vector<uint8_t> back;
    EXPECT_EQ(m.read(0, 2, 0, 9, 1, &back)[0] & st0::kIc, 0) << "the drive still works";
    EXPECT_EQ(back, data);
    ASSERT_TRUE(ok(m.release("fd0"))) << "the retry flushes";
    EXPECT_EQ(m.events("FLOPPY_MEDIA_EJECTED").size(), 1u);
    EXPECT_TRUE(m.disk_changed());
    const auto after = read_file(img);
    EXPECT_EQ(std::vector<uint8_t>(after.begin() + lba(2, 0, 9) * 512,
                                   after.begin() + lba(2, 0, 10) * 512),
              data);
}

// ============================================================================================
// floppy-attach-host-drive
// ============================================================================================

TEST_F(FloppyAttachHostDrive, CapturesABlockDeviceAndTheGuestReadsIt) {
    LoopDevice loop(img);
    REQUIRE_LOOP(loop);
    Machine &m = start();
    ASSERT_TRUE(m.ok());
    ASSERT_TRUE(ok(m.attach_host("fd0", loop.dev)));
    EXPECT_EQ(m.events("FLOPPY_MEDIA_INSERTED"), (std::vector<json>{{{"id", "fd0"},
                                                                     {"path", loop.dev},
                                                                     {"attachment", "host-drive"},
                                                                     {"read-only", false}}}));
    const json d = m.drive("fd0");
    EXPECT_EQ(d["attachment"], "host-drive");
    EXPECT_EQ(d["host-device"], loop.dev);
    EXPECT_FALSE(d.contains("image-file"));
    EXPECT_EQ(d["geometry"]["size"], k144);
    const json block = m.qmp("query-block")["return"][0]["inserted"];
    EXPECT_EQ(block["drv"], "host_device");
    EXPECT_EQ(block["file"], loop.dev);
    EXPECT_TRUE(m.disk_changed());
    m.specify();
    m.seek(0, 7);
    EXPECT_FALSE(m.disk_changed());
    std::vector<uint8_t> data;
    EXPECT_EQ(m.read(0, 7, 0, 18, 1, &data)[0] & st0::kIc, 0);
    EXPECT_EQ(data, expected_sector(lba(7, 0, 18)));
}

TEST_F(FloppyAttachHostDrive, ReadOnlyDeviceIsWriteProtected) {
    LoopDevice loop(img, true);
    REQUIRE_LOOP(loop);
    Machine &m = start();
    ASSERT_TRUE(m.ok());
    ASSERT_TRUE(ok(m.attach_host("fd0", loop.dev)));
    EXPECT_EQ(m.drive("fd0")["read-only"], true);
    m.specify();
    EXPECT_EQ(m.st3(0) & 0x40, 0x40) << "ST3 WP";
    EXPECT_EQ(m.write(0, 0, 0, 1, guest_bytes(512, 1))[1], st1::kNw);
}

// E_INVALIDARG: a device name of a bad form, or one that is not a block device at all.
TEST_F(FloppyAttachHostDrive, BadNamesAndNonDevicesAreInvalidArg) {
    std::filesystem::create_directory(s.path("dir"));
    Machine &m = start();
    ASSERT_TRUE(m.ok());
    const std::pair<std::string, std::string> cases[] = {
        {"", "no host drive name"},
        {"fd0", "not absolute"},
        {"/dev/fd*", "'*'"},
        {"/dev/" + std::string(260, 'f'), "260 characters"},
        {img, "a regular file, not a floppy drive"},
        {"/dev/null", "a character device, not a floppy drive"},
        {s.path("dir"), "a directory"},
    };
    for (const auto &[device, why] : cases) {
        const json r = m.attach_host("fd0", device);
        EXPECT_TRUE(vpc_error(r, kInvalidArg, kInvalidArgHr, why)) << device;
        EXPECT_TRUE(vpc_error(r, kInvalidArg, kInvalidArgHr, "fd0"));
    }
    EXPECT_EQ(m.drive("fd0")["attachment"], "none");
    EXPECT_TRUE(m.no_media_events());
}

TEST_F(FloppyAttachHostDrive, MissingDeviceIsHostFloppyCaptureFail) {
    Machine &m = start();
    ASSERT_TRUE(m.ok());
    for (const std::string dev : {"/dev/fd7", "/dev/no-such-floppy"}) {
        const json r = m.attach_host("fd1", dev);
        EXPECT_TRUE(vpc_error(r, kHostFail, kHostFailHr, dev + "' does not exist"));
        EXPECT_TRUE(vpc_error(r, kHostFail, kHostFailHr, "fd1"));
    }
    EXPECT_EQ(m.drive("fd1")["attachment"], "none");
}

TEST_F(FloppyAttachHostDrive, BusyOrNonFloppyDeviceIsHostFloppyCaptureFail) {
    LoopDevice loop(img);
    LoopDevice disk(s.image("hd.img", 10 * 1024 * 1024));
    REQUIRE_LOOP(loop);
    REQUIRE_LOOP(disk);
    Machine &m = start();
    ASSERT_TRUE(m.ok());
    ASSERT_TRUE(ok(m.attach_host("fd0", loop.dev)));
    EXPECT_TRUE(vpc_error(m.attach_host("fd1", loop.dev), kHostFail, kHostFailHr, "in use"))
        << "captured by fd0";
    EXPECT_TRUE(
        vpc_error(m.attach_host("fd1", disk.dev), kHostFail, kHostFailHr, "10485760 bytes"));
    EXPECT_EQ(m.drive("fd1")["attachment"], "none");
}

TEST_F(FloppyAttachHostDrive, UnknownOrUnconfiguredDriveIsVmUnknown) {
    Machine &m = start(
        "-machine pc -nodefaults -device floppy,id=fd0,drive-type=144 -device "
        "floppy,id=nodrive,drive-type=none" +
        kFast);
    ASSERT_TRUE(m.ok());
    EXPECT_TRUE(vpc_error(m.attach_host("nope", "/dev/fd0"), kVmUnknown, kVmUnknownHr, "'nope'"));
    EXPECT_TRUE(vpc_error(m.attach_host("nodrive", "/dev/fd0"), kVmUnknown, kVmUnknownHr,
                          "drive-type=none"));
}

TEST_F(FloppyAttachHostDrive, DriveHoldingMediaIsDriveInUse) {
    Machine &m = start();
    ASSERT_TRUE(m.ok());
    ASSERT_TRUE(ok(m.attach("fd0", img)));
    // The drive is checked before the device: even a missing device is DRIVE_IN_USE here.
    EXPECT_TRUE(vpc_error(m.attach_host("fd0", "/dev/fd7"), kInUse, kInUseHr, img));
    EXPECT_EQ(m.drive("fd0")["attachment"], "image");
}

// ============================================================================================
// floppy-release-host-drive
// ============================================================================================

TEST_F(FloppyReleaseHostDrive, ReleasesAndTheDeviceHoldsTheGuestsWrites) {
    LoopDevice loop(img);
    REQUIRE_LOOP(loop);
    Machine &m = start();
    ASSERT_TRUE(m.ok());
    ASSERT_TRUE(ok(m.attach_host("fd1", loop.dev)));
    m.specify();
    m.seek(1, 3);
    const auto data = guest_bytes(1024, 0x39);
    EXPECT_EQ(m.write(1, 3, 0, 4, data)[0] & st0::kIc, 0);
    ASSERT_TRUE(ok(m.release_host("fd1")));
    EXPECT_EQ(
        m.events("FLOPPY_MEDIA_EJECTED"),
        (std::vector<json>{{{"id", "fd1"}, {"path", loop.dev}, {"attachment", "host-drive"}}}));
    EXPECT_TRUE(m.disk_changed(1));
    EXPECT_EQ(m.drive("fd1")["attachment"], "none");
    const auto after = read_file(img);  // the loop device's backing file
    const size_t at = lba(3, 0, 4) * 512u;
    EXPECT_EQ(std::vector<uint8_t>(after.begin() + long(at), after.begin() + long(at + 1024)),
              data);
    EXPECT_TRUE(ok(m.attach_host("fd0", loop.dev))) << "the device is free again";
}

TEST_F(FloppyReleaseHostDrive, ImageAttachedIsMediaWrongType) {
    Machine &m = start();
    ASSERT_TRUE(m.ok());
    ASSERT_TRUE(ok(m.attach("fd0", img)));
    m.events("FLOPPY_MEDIA_INSERTED");
    const json r = m.release_host("fd0");
    EXPECT_TRUE(vpc_error(r, kWrongType, kWrongTypeHr, "floppy-release-image"));
    EXPECT_TRUE(vpc_error(r, kWrongType, kWrongTypeHr, img));
    EXPECT_EQ(m.drive("fd0")["attachment"], "image");
    EXPECT_TRUE(m.no_media_events());
}

TEST_F(FloppyReleaseHostDrive, EmptyDriveIsNoMediaCaptured) {
    Machine &m = start();
    ASSERT_TRUE(m.ok());
    EXPECT_TRUE(vpc_error(m.release_host("fd1"), kNoMedia, kNoMediaHr, "floppy-attach-host-drive"));
}

TEST_F(FloppyReleaseHostDrive, UnknownOrUnconfiguredDriveIsVmUnknown) {
    Machine &m = start(
        "-machine pc -nodefaults -device floppy,id=fd0,drive-type=144 -device "
        "floppy,id=nodrive,drive-type=none" +
        kFast);
    ASSERT_TRUE(m.ok());
    EXPECT_TRUE(vpc_error(m.release_host("nope"), kVmUnknown, kVmUnknownHr, "'nope'"));
    EXPECT_TRUE(vpc_error(m.release_host("nodrive"), kVmUnknown, kVmUnknownHr, "drive-type=none"));
}

TEST_F(FloppyReleaseHostDrive, FailedFlushIsDispExceptionAndLeavesTheDriveUntouched) {
    LoopDevice loop(img);
    REQUIRE_LOOP(loop);
    Machine &m = start(
        "-machine pc -nodefaults -device floppy,id=fd0,drive-type=144,x-fail-flush=1" + kFast);
    ASSERT_TRUE(m.ok());
    ASSERT_TRUE(ok(m.attach_host("fd0", loop.dev)));
    m.events("FLOPPY_MEDIA_INSERTED");
    m.specify();
    m.seek(0, 1);
    EXPECT_TRUE(vpc_error(m.release_host("fd0"), kDispException, kDispExceptionHr, loop.dev));
    EXPECT_EQ(m.drive("fd0")["host-device"], loop.dev);
    EXPECT_FALSE(m.disk_changed());
    EXPECT_TRUE(m.no_media_events());
    EXPECT_TRUE(ok(m.release_host("fd0")));
}

// ============================================================================================
// query-floppy-drives
// ============================================================================================

TEST_F(QueryFloppyDrives, ListsEveryDriveWithItsState) {
    Machine &m = start(
        "-machine pc -nodefaults -device floppy,id=fd0,unit=0,drive-type=144 -device "
        "floppy,unit=2,drive-type=120 "
        "-device isa-fdc,id=fdc2,iobase=0x370,irq=5,dma=3 -device "
        "floppy,id=far,bus=fdc2,drive-type=288" +
        kFast);
    ASSERT_TRUE(m.ok());
    json list = m.drives();
    ASSERT_EQ(list.size(), 3u) << list.dump();
    EXPECT_EQ(list[0], (json{{"id", "fd0"},
                             {"path", "/machine/peripheral/fd0"},
                             {"device", ""},
                             {"controller", list[0]["controller"]},
                             {"unit", 0},
                             {"drive-type", "144"},
                             {"attachment", "none"},
                             {"read-only", false},
                             {"transient", false},
                             {"disk-changed", true},
                             {"motor", false},
                             {"cylinder", 0}}));
    EXPECT_EQ(list[1]["unit"], 2);
    EXPECT_EQ(list[1]["drive-type"], "120");
    EXPECT_EQ(list[1]["id"], list[1]["path"]) << "a drive without an id is named by its path";
    EXPECT_EQ(list[2]["controller"], "fdc2");
    EXPECT_EQ(list[2]["drive-type"], "288");
    EXPECT_EQ(list[0]["controller"], list[1]["controller"]);

    ASSERT_TRUE(ok(m.attach("fd0", img)));
    m.motor_on(0);
    m.specify();
    m.seek(0, 9);
    const json d = m.drive("fd0");
    EXPECT_EQ(d["attachment"], "image");
    EXPECT_EQ(d["image-file"], img);
    EXPECT_EQ(d["motor"], true);
    EXPECT_EQ(d["cylinder"], 9);
    EXPECT_EQ(d["disk-changed"], false);
    EXPECT_EQ(d["geometry"], (json{{"cylinders", 80},
                                   {"heads", 2},
                                   {"sectors", 18},
                                   {"sector-size", 512},
                                   {"size", k144},
                                   {"data-rate", 500},
                                   {"rpm", 300},
                                   {"format", "1.44M"}}));
    // The anonymous drive answers to its path.
    EXPECT_TRUE(vpc_error(m.release(list[1]["id"]), kNoMedia, kNoMediaHr,
                          list[1]["id"].get<std::string>()));
}

// id: a device id, else a legacy drive name (floppy0, the -drive id), else a QOM path.
TEST_F(QueryFloppyDrives, LegacyDriveNamesAndPathsNameDrives) {
    Machine &m = start("-machine pc -drive if=floppy,index=0,file=" + img +
                       ",format=raw -drive if=none,id=drv1,file=" + b +
                       ",format=raw -device floppy,id=fdB,unit=1,drive=drv1" + kFast);
    ASSERT_TRUE(m.ok());
    const json list = m.drives();
    ASSERT_EQ(list.size(), 2u) << list.dump();
    EXPECT_EQ(list[0]["id"], "floppy0");
    EXPECT_EQ(list[0]["device"], "floppy0");
    EXPECT_EQ(list[0]["image-file"], img) << "the -drive medium, there at power-on";
    EXPECT_EQ(list[1]["id"], "fdB");
    EXPECT_EQ(list[1]["device"], "drv1");
    EXPECT_TRUE(ok(m.release("floppy0")));
    EXPECT_EQ(m.events("FLOPPY_MEDIA_EJECTED").at(0)["id"], "floppy0");
    EXPECT_TRUE(ok(m.release("drv1"))) << "the -drive id names fdB";
    EXPECT_TRUE(ok(m.attach(list[0]["path"], img))) << "the QOM path";
    EXPECT_EQ(m.drive("floppy0")["image-file"], img);
    EXPECT_TRUE(ok(m.attach("fdB", b)));
}

// ============================================================================================
// QEMU's block commands on the same drives: same code, same events, QEMU's semantics
// ============================================================================================

TEST_F(FloppyQemuCommands, EjectAndChangeMediumGoTheSameWay) {
    Machine &m = start();
    ASSERT_TRUE(m.ok());
    ASSERT_TRUE(ok(m.qmp("blockdev-change-medium",
                         {{"id", "fd0"}, {"filename", img}, {"read-only-mode", "read-write"}})));
    EXPECT_EQ(m.events("FLOPPY_MEDIA_INSERTED"),
              (std::vector<json>{
                  {{"id", "fd0"}, {"path", img}, {"attachment", "image"}, {"read-only", false}}}));
    EXPECT_TRUE(m.events("FLOPPY_MEDIA_EJECTED").empty()) << "nothing was in it";
    EXPECT_EQ(m.drive("fd0")["image-file"], img);
    EXPECT_TRUE(vpc_error(m.attach("fd0", b), kInUse, kInUseHr, img));
    EXPECT_TRUE(vpc_error(m.attach("fd1", img), kCaptureFail, kCaptureFailHr, "lock"))
        << "the same lock";
    m.specify();
    m.seek(0, 1);
    ASSERT_TRUE(ok(m.qmp("blockdev-change-medium", {{"id", "fd0"}, {"filename", b}})));
    EXPECT_EQ(m.events("FLOPPY_MEDIA_EJECTED"),
              (std::vector<json>{{{"id", "fd0"}, {"path", img}, {"attachment", "image"}}}));
    EXPECT_EQ(m.events("FLOPPY_MEDIA_INSERTED").size(), 1u);
    EXPECT_TRUE(m.disk_changed());
    ASSERT_TRUE(ok(m.qmp("eject", {{"id", "fd0"}})));
    EXPECT_EQ(m.events("FLOPPY_MEDIA_EJECTED"),
              (std::vector<json>{{{"id", "fd0"}, {"path", b}, {"attachment", "image"}}}));
    EXPECT_TRUE(vpc_error(m.release("fd0"), kNoMedia, kNoMediaHr, "fd0")) << "eject released it";
    EXPECT_TRUE(ok(m.qmp("eject", {{"id", "fd0"}}))) << "QEMU: an empty drive ejects";
    EXPECT_TRUE(m.no_media_events());
    const json r = m.qmp("eject", {{"id", "nope"}});
    EXPECT_EQ(r["error"]["class"], "DeviceNotFound") << r.dump();
    EXPECT_FALSE(r["error"].contains("hresult"));
    // And the other way round: an image attached by floppy-attach-image ejects.
    ASSERT_TRUE(ok(m.attach("fd1", img)));
    ASSERT_TRUE(ok(m.qmp("eject", {{"id", "fd1"}})));
    EXPECT_EQ(m.events("FLOPPY_MEDIA_EJECTED").size(), 1u);
    EXPECT_TRUE(ok(m.attach("fd0", img))) << "lock dropped by eject";
}

TEST_F(FloppyQemuCommands, EjectReleasesAHostDrive) {
    LoopDevice loop(img);
    REQUIRE_LOOP(loop);
    Machine &m = start();
    ASSERT_TRUE(m.ok());
    ASSERT_TRUE(ok(m.attach_host("fd0", loop.dev)));
    ASSERT_TRUE(ok(m.qmp("eject", {{"id", "fd0"}})));
    EXPECT_EQ(m.events("FLOPPY_MEDIA_EJECTED").at(0)["attachment"], "host-drive");
    EXPECT_TRUE(vpc_error(m.release_host("fd0"), kNoMedia, kNoMediaHr, "fd0"));
}

TEST_F(FloppyQemuCommands, EjectAfterAFailedFlushNeedsForce) {
    Machine &m = start(
        "-machine pc -nodefaults -device floppy,id=fd0,drive-type=144,x-fail-flush=1" + kFast);
    ASSERT_TRUE(m.ok());
    ASSERT_TRUE(ok(m.attach("fd0", img)));
    m.events("FLOPPY_MEDIA_INSERTED");
    json r = m.qmp("eject", {{"id", "fd0"}});
    EXPECT_EQ(r["error"]["class"], "GenericError") << r.dump();
    EXPECT_NE(r["error"]["desc"].get<std::string>().find("force"), std::string::npos) << r.dump();
    EXPECT_EQ(m.drive("fd0")["attachment"], "image");
    EXPECT_TRUE(m.no_media_events());
    ASSERT_TRUE(ok(m.qmp("eject", {{"id", "fd0"}, {"force", true}})));
    EXPECT_EQ(m.events("FLOPPY_MEDIA_EJECTED").size(), 1u);
}

// ============================================================================================
// The protocol around them
// ============================================================================================

TEST_F(FloppyQmpProtocol, MalformedArgumentsAreGenericErrorsWithoutHresult) {
    Machine &m = start();
    ASSERT_TRUE(m.ok());
    const std::pair<std::string, json> cases[] = {
        {"floppy-release-image", json::object()},
        {"floppy-release-image", {{"id", 5}}},
        {"floppy-attach-image", {{"id", "fd0"}}},
        {"floppy-attach-image", {{"id", "fd0"}, {"filename", img}, {"read-only", "yes"}}},
        {"floppy-attach-image", {{"id", "fd0"}, {"filename", img}, {"format", "qcow2"}}},
        {"floppy-attach-host-drive", {{"id", "fd0"}, {"device", "/dev/fd0"}, {"force", true}}},
        {"query-floppy-drives", {{"id", "fd0"}}},
    };
    for (const auto &[command, args] : cases) {
        const json r = m.qmp(command, args);
        EXPECT_EQ(r["error"]["class"], "GenericError")
            << command << " " << args.dump() << " -> " << r.dump();
        EXPECT_FALSE(r["error"].contains("hresult")) << r.dump();
    }
    EXPECT_EQ(m.drive("fd0")["attachment"], "none");
    EXPECT_TRUE(
        ok(m.qmp("floppy-attach-image", {{"id", "fd0"}, {"filename", img}, {"format", "raw"}})));
}

TEST_F(FloppyQmpProtocol, CommandsAndEventsAreIntrospectable) {
    Machine &m = start();
    ASSERT_TRUE(m.ok());
    std::vector<std::string> names;
    const json commands = m.qmp("query-commands");
    ASSERT_TRUE(commands.contains("return")) << commands.dump();
    for (const json &c : commands["return"]) names.push_back(c["name"]);
    for (const char *c : {"floppy-attach-image", "floppy-release-image", "floppy-attach-host-drive",
                          "floppy-release-host-drive", "query-floppy-drives"})
        EXPECT_NE(std::find(names.begin(), names.end(), c), names.end()) << c;
    std::vector<std::string> schema;
    const json introspection = m.qmp("query-qmp-schema");
    for (const json &e : introspection["return"]) schema.push_back(e["name"]);
    for (const char *e : {"FLOPPY_MEDIA_INSERTED", "FLOPPY_MEDIA_EJECTED", "floppy-attach-image"})
        EXPECT_NE(std::find(schema.begin(), schema.end(), e), schema.end()) << e;
}

}  // namespace
}  // namespace fdplug::test
