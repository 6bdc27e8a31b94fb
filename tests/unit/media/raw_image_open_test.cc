// RawImage::open(): every kind of error it reports, with a message that names the file, and the OFD
// lock rules (shared for read-only, exclusive for read-write, even within one process).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memory>

#include "hw/block/media/raw_image.h"
#include "temp_dir.h"
#include "without_privileges.h"

namespace fdplug::floppy {
namespace {

using test::TempDir;
using test::without_privileges;

constexpr uint64_t k144Bytes = 1474560;

using Opened = Expected<std::unique_ptr<RawImage>>;

Opened open_image(const std::string &path, bool read_only = false,
                  DriveType drive = DriveType::Auto) {
    return RawImage::open({.path = path, .read_only = read_only, .drive = drive});
}

// The error's message, or "" when the image opened.
std::string message(const Opened &r) {
    return r ? std::string() : r.error().message();
}

// Checks the error's kind, and that the message names the file when there is one.
void expect_error(const Opened &r, ErrorKind want, const std::string &path) {
    ASSERT_FALSE(r) << "opened";
    EXPECT_EQ(r.error().kind(), want) << error_kind_name(r.error().kind()) << ": " << message(r);
    if (!path.empty()) {
        EXPECT_NE(message(r).find(path), std::string::npos) << message(r);
    }
}

class RawImageOpen : public ::testing::Test {
  protected:
    TempDir dir;
    std::string image(const std::string &name, uint64_t size = k144Bytes) {
        std::string p = dir.file(name);
        test::write_file(p, std::vector<uint8_t>(size));
        return p;
    }
};

// An open's outcome as an exit code (another process's, see without_privileges): the error's
// kind, or kOpened.
constexpr int kOpened = 99;
int exit_code(const Opened &r) {
    return r ? kOpened : int(r.error().kind());
}

TEST_F(RawImageOpen, OpensAndPicksTheGeometry) {
    std::string p = image("a.img");
    auto r = open_image(p);
    ASSERT_TRUE(r) << message(r);
    const RawImage &image = **r;
    EXPECT_EQ(image.source(), p);
    EXPECT_EQ(image.file_size(), k144Bytes);
    EXPECT_EQ(image.geometry().sectors, 18);
    EXPECT_EQ(image.format().drive, DriveType::k144);
    EXPECT_FALSE(image.read_only());
    EXPECT_TRUE(image.locked());
}

TEST_F(RawImageOpen, BadPaths) {
    expect_error(open_image(""), ErrorKind::BadPath, "");
    expect_error(open_image("a.img"), ErrorKind::BadPath, "a.img");
    expect_error(open_image("./a.img"), ErrorKind::BadPath, "./a.img");
    expect_error(open_image(std::string(dir.file("a.img")) + std::string(1, '\0') + "x"),
                 ErrorKind::BadPath, "");
    EXPECT_NE(message(open_image("a.img")).find("absolute"), std::string::npos);
}

TEST_F(RawImageOpen, MissingFiles) {
    std::string p = dir.file("missing.img");
    expect_error(open_image(p), ErrorKind::NotFound, p);
    expect_error(open_image(p, true), ErrorKind::NotFound, p);
    std::string through_file = image("plain.img") + "/inner.img";  // ENOTDIR
    expect_error(open_image(through_file), ErrorKind::NotFound, through_file);
}

TEST_F(RawImageOpen, DirectoriesAndDevicesAreNotImages) {
    expect_error(open_image(dir.path()), ErrorKind::WrongFileType, dir.path());
    expect_error(open_image("/dev/null"), ErrorKind::WrongFileType, "/dev/null");
    EXPECT_NE(message(open_image(dir.path())).find("directory"), std::string::npos);
}

TEST_F(RawImageOpen, FifoIsRefusedWithoutBlocking) {
    std::string p = dir.file("pipe.img");
    ASSERT_EQ(::mkfifo(p.c_str(), 0600), 0);
    ::alarm(10);  // a blocking open would hang here: let SIGALRM fail the test instead
    auto rw = open_image(p);
    auto ro = open_image(p, true);
    ::alarm(0);
    expect_error(rw, ErrorKind::WrongFileType, p);
    expect_error(ro, ErrorKind::WrongFileType, p);
    EXPECT_NE(message(rw).find("FIFO"), std::string::npos) << message(rw);
}

TEST_F(RawImageOpen, UnreadableFile) {
    ASSERT_EQ(::chmod(dir.path().c_str(), 0755), 0);
    std::string p = image("secret.img");
    ASSERT_EQ(::chmod(p.c_str(), 0000), 0);
    auto rw = without_privileges([&] { return exit_code(open_image(p)); });
    auto ro = without_privileges([&] { return exit_code(open_image(p, true)); });
    if (!rw || !ro) GTEST_SKIP() << "cannot drop root privileges to test permissions";
    EXPECT_EQ(*rw, int(ErrorKind::Unreadable));
    EXPECT_EQ(*ro, int(ErrorKind::Unreadable));
}

TEST_F(RawImageOpen, UnreachableDirectory) {
    ASSERT_EQ(::chmod(dir.path().c_str(), 0755), 0);
    std::string sub = dir.file("locked");
    ASSERT_EQ(::mkdir(sub.c_str(), 0700), 0);
    std::string p = sub + "/a.img";
    test::write_file(p, std::vector<uint8_t>(k144Bytes));
    auto r = without_privileges([&] { return exit_code(open_image(p, true)); });
    if (!r) GTEST_SKIP() << "cannot drop root privileges to test permissions";
    EXPECT_EQ(*r, int(ErrorKind::Unreadable));
}

// Root may write any file, so a read-only *file* needs an unprivileged user: the child drops to
// `nobody`, for whom a root-owned 0444 file opens read-only but not read-write.
TEST_F(RawImageOpen, ReadWriteOfAReadOnlyFile) {
    ASSERT_EQ(::chmod(dir.path().c_str(), 0755), 0);
    std::string p = image("ro.img");
    ASSERT_EQ(::chmod(p.c_str(), 0444), 0);
    auto rw = without_privileges([&] { return exit_code(open_image(p)); });
    auto ro = without_privileges([&] { return exit_code(open_image(p, true)); });
    if (!rw || !ro) GTEST_SKIP() << "cannot drop root privileges to test permissions";
    EXPECT_EQ(*rw, int(ErrorKind::ReadOnly));
    EXPECT_EQ(*ro, kOpened);
    if (::geteuid() != 0) {
        auto r = open_image(p);
        EXPECT_NE(message(r).find("read-only"), std::string::npos) << message(r);
    }
}

TEST_F(RawImageOpen, SizesNoFormatFits) {
    for (uint64_t size : {uint64_t(0), uint64_t(1474561), uint64_t(8) << 20}) {
        SCOPED_TRACE(size);
        std::string p = image("size" + std::to_string(size) + ".img", size);
        auto r = open_image(p);
        expect_error(r, ErrorKind::UnknownSize, p);
        EXPECT_NE(message(r).find("cannot be used"), std::string::npos) << message(r);
    }
}

TEST_F(RawImageOpen, MediaTheDriveRefuses) {
    std::string p = image("ed.img", 2949120);
    auto r = open_image(p, false, DriveType::k144);
    expect_error(r, ErrorKind::UnknownSize, p);
    EXPECT_NE(message(r).find("2.88M"), std::string::npos) << message(r);
    expect_error(open_image(p, false, DriveType::None), ErrorKind::UnknownSize, p);
    EXPECT_TRUE(open_image(p, false, DriveType::k288));
}

TEST_F(RawImageOpen, SecondReadWriteOpenIsLocked) {
    std::string p = image("a.img");
    auto first = open_image(p);
    ASSERT_TRUE(first) << message(first);
    auto second = open_image(p);
    expect_error(second, ErrorKind::InUse, p);
    EXPECT_NE(message(second).find("in use"), std::string::npos) << message(second);
    expect_error(open_image(p, true), ErrorKind::InUse, p);  // readers wait for the writer
}

TEST_F(RawImageOpen, ReadWriteAfterReadOnlyIsLocked) {
    std::string p = image("a.img");
    auto reader = open_image(p, true);
    ASSERT_TRUE(reader) << message(reader);
    expect_error(open_image(p), ErrorKind::InUse, p);
}

TEST_F(RawImageOpen, ReadersShare) {
    std::string p = image("a.img");
    auto a = open_image(p, true), b = open_image(p, true);
    EXPECT_TRUE(a) << message(a);
    EXPECT_TRUE(b) << message(b);
}

TEST_F(RawImageOpen, ClosingReleasesTheLock) {
    std::string p = image("a.img");
    {
        auto first = open_image(p);
        ASSERT_TRUE(first);
    }
    auto again = open_image(p);
    EXPECT_TRUE(again) << message(again);
}

TEST_F(RawImageOpen, LockHoldsAgainstAnotherProcess) {
    std::string p = image("a.img");
    auto writer = open_image(p);
    ASSERT_TRUE(writer);
    pid_t pid = ::fork();
    if (pid == 0) ::_exit(exit_code(open_image(p, true)));
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), int(ErrorKind::InUse));
}

}  // namespace
}  // namespace fdplug::floppy
