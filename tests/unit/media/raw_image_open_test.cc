// RawImage::open(): every ImageOpenError, with a message that names the file, and the OFD
// lock rules (shared for read-only, exclusive for read-write, even within one process).
#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>

#include "hw/block/media/raw_image.h"
#include "temp_dir.h"

namespace fdplug::floppy {
namespace {

using test::TempDir;

constexpr uint64_t k144Bytes = 1474560;

ImageOpenResult open_image(const std::string &path, bool read_only = false,
                           DriveType drive = DriveType::Auto) {
    return RawImage::open({.path = path, .read_only = read_only, .drive = drive});
}

// Checks the error class, and that the message names the file when there is one.
void expect_error(const ImageOpenResult &r, ImageOpenError want, const std::string &path) {
    EXPECT_EQ(r.image, nullptr);
    EXPECT_EQ(r.error, want) << image_open_error_name(r.error) << ": " << r.message;
    if (!path.empty()) {
        EXPECT_NE(r.message.find(path), std::string::npos) << r.message;
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

// Runs `body` without root's permission override: in a child that became `nobody` when the
// tests run as root (root opens any file read-write, so permission errors need another user),
// in-process otherwise. The child reports the error class as its exit status.
std::optional<ImageOpenError> without_privileges(const std::function<ImageOpenError()> &body) {
    if (::geteuid() != 0) return body();
    pid_t pid = ::fork();
    if (pid == 0) {
        if (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0)
            ::_exit(100);
        ::_exit(int(body()));
    }
    int status = 0;
    if (pid < 0 || ::waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
        WEXITSTATUS(status) == 100)
        return std::nullopt;
    return ImageOpenError(WEXITSTATUS(status));
}

TEST_F(RawImageOpen, OpensAndPicksTheGeometry) {
    std::string p = image("a.img");
    auto r = open_image(p);
    ASSERT_TRUE(r.image) << r.message;
    EXPECT_EQ(r.error, ImageOpenError::None);
    EXPECT_EQ(r.image->source(), p);
    EXPECT_EQ(r.image->file_size(), k144Bytes);
    EXPECT_EQ(r.image->geometry().sectors, 18);
    EXPECT_EQ(r.image->format().drive, DriveType::k144);
    EXPECT_FALSE(r.image->read_only());
    EXPECT_TRUE(r.image->locked());
}

TEST_F(RawImageOpen, BadPaths) {
    expect_error(open_image(""), ImageOpenError::BadPath, "");
    expect_error(open_image("a.img"), ImageOpenError::BadPath, "a.img");
    expect_error(open_image("./a.img"), ImageOpenError::BadPath, "./a.img");
    expect_error(open_image(std::string(dir.file("a.img")) + std::string(1, '\0') + "x"),
                 ImageOpenError::BadPath, "");
    EXPECT_NE(open_image("a.img").message.find("absolute"), std::string::npos);
}

TEST_F(RawImageOpen, MissingFiles) {
    std::string p = dir.file("missing.img");
    expect_error(open_image(p), ImageOpenError::NotFound, p);
    expect_error(open_image(p, true), ImageOpenError::NotFound, p);
    std::string through_file = image("plain.img") + "/inner.img";  // ENOTDIR
    expect_error(open_image(through_file), ImageOpenError::NotFound, through_file);
}

TEST_F(RawImageOpen, DirectoriesAndDevicesAreNotImages) {
    expect_error(open_image(dir.path()), ImageOpenError::NotRegular, dir.path());
    expect_error(open_image("/dev/null"), ImageOpenError::NotRegular, "/dev/null");
    EXPECT_NE(open_image(dir.path()).message.find("directory"), std::string::npos);
}

TEST_F(RawImageOpen, FifoIsRefusedWithoutBlocking) {
    std::string p = dir.file("pipe.img");
    ASSERT_EQ(::mkfifo(p.c_str(), 0600), 0);
    ::alarm(10);  // a blocking open would hang here: let SIGALRM fail the test instead
    auto rw = open_image(p);
    auto ro = open_image(p, true);
    ::alarm(0);
    expect_error(rw, ImageOpenError::NotRegular, p);
    expect_error(ro, ImageOpenError::NotRegular, p);
    EXPECT_NE(rw.message.find("FIFO"), std::string::npos) << rw.message;
}

TEST_F(RawImageOpen, UnreadableFile) {
    ASSERT_EQ(::chmod(dir.path().c_str(), 0755), 0);
    std::string p = image("secret.img");
    ASSERT_EQ(::chmod(p.c_str(), 0000), 0);
    auto rw = without_privileges([&] { return open_image(p).error; });
    auto ro = without_privileges([&] { return open_image(p, true).error; });
    if (!rw || !ro) GTEST_SKIP() << "cannot drop root privileges to test permissions";
    EXPECT_EQ(*rw, ImageOpenError::Unreadable);
    EXPECT_EQ(*ro, ImageOpenError::Unreadable);
}

TEST_F(RawImageOpen, UnreachableDirectory) {
    ASSERT_EQ(::chmod(dir.path().c_str(), 0755), 0);
    std::string sub = dir.file("locked");
    ASSERT_EQ(::mkdir(sub.c_str(), 0700), 0);
    std::string p = sub + "/a.img";
    test::write_file(p, std::vector<uint8_t>(k144Bytes));
    auto r = without_privileges([&] { return open_image(p, true).error; });
    if (!r) GTEST_SKIP() << "cannot drop root privileges to test permissions";
    EXPECT_EQ(*r, ImageOpenError::Unreadable);
}

// Root may write any file, so a read-only *file* needs an unprivileged user: the child drops to
// `nobody`, for whom a root-owned 0444 file opens read-only but not read-write.
TEST_F(RawImageOpen, ReadWriteOfAReadOnlyFile) {
    ASSERT_EQ(::chmod(dir.path().c_str(), 0755), 0);
    std::string p = image("ro.img");
    ASSERT_EQ(::chmod(p.c_str(), 0444), 0);
    auto rw = without_privileges([&] { return open_image(p).error; });
    auto ro = without_privileges([&] { return open_image(p, true).error; });
    if (!rw || !ro) GTEST_SKIP() << "cannot drop root privileges to test permissions";
    EXPECT_EQ(*rw, ImageOpenError::FileReadOnly);
    EXPECT_EQ(*ro, ImageOpenError::None);
    if (::geteuid() != 0) {
        auto r = open_image(p);
        EXPECT_NE(r.message.find("read-only"), std::string::npos) << r.message;
    }
}

TEST_F(RawImageOpen, SizesNoFormatFits) {
    for (uint64_t size : {uint64_t(0), uint64_t(1474561), uint64_t(8) << 20}) {
        SCOPED_TRACE(size);
        std::string p = image("size" + std::to_string(size) + ".img", size);
        auto r = open_image(p);
        expect_error(r, ImageOpenError::UnknownSize, p);
        EXPECT_NE(r.message.find("cannot be used"), std::string::npos) << r.message;
    }
}

TEST_F(RawImageOpen, MediaTheDriveRefuses) {
    std::string p = image("ed.img", 2949120);
    auto r = open_image(p, false, DriveType::k144);
    expect_error(r, ImageOpenError::UnknownSize, p);
    EXPECT_NE(r.message.find("2.88M"), std::string::npos) << r.message;
    expect_error(open_image(p, false, DriveType::None), ImageOpenError::UnknownSize, p);
    EXPECT_TRUE(open_image(p, false, DriveType::k288).image);
}

TEST_F(RawImageOpen, SecondReadWriteOpenIsLocked) {
    std::string p = image("a.img");
    auto first = open_image(p);
    ASSERT_TRUE(first.image) << first.message;
    auto second = open_image(p);
    expect_error(second, ImageOpenError::Locked, p);
    EXPECT_NE(second.message.find("in use"), std::string::npos) << second.message;
    expect_error(open_image(p, true), ImageOpenError::Locked, p);  // readers wait for the writer
}

TEST_F(RawImageOpen, ReadWriteAfterReadOnlyIsLocked) {
    std::string p = image("a.img");
    auto reader = open_image(p, true);
    ASSERT_TRUE(reader.image) << reader.message;
    expect_error(open_image(p), ImageOpenError::Locked, p);
}

TEST_F(RawImageOpen, ReadersShare) {
    std::string p = image("a.img");
    auto a = open_image(p, true), b = open_image(p, true);
    EXPECT_TRUE(a.image) << a.message;
    EXPECT_TRUE(b.image) << b.message;
}

TEST_F(RawImageOpen, ClosingReleasesTheLock) {
    std::string p = image("a.img");
    {
        auto first = open_image(p);
        ASSERT_TRUE(first.image);
    }
    auto again = open_image(p);
    EXPECT_TRUE(again.image) << again.message;
}

TEST_F(RawImageOpen, LockHoldsAgainstAnotherProcess) {
    std::string p = image("a.img");
    auto writer = open_image(p);
    ASSERT_TRUE(writer.image);
    pid_t pid = ::fork();
    if (pid == 0) ::_exit(int(open_image(p, true).error));
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(ImageOpenError(WEXITSTATUS(status)), ImageOpenError::Locked);
}

TEST(ImageOpenErrorName, NamesEveryValue) {
    EXPECT_STREQ(image_open_error_name(ImageOpenError::None), "None");
    EXPECT_STREQ(image_open_error_name(ImageOpenError::FileReadOnly), "FileReadOnly");
    EXPECT_STREQ(image_open_error_name(ImageOpenError::IoError), "IoError");
    EXPECT_STREQ(image_open_error_name(ImageOpenError(99)), "Unknown");
}

}  // namespace
}  // namespace fdplug::floppy
