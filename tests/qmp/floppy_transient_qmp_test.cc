// The transient-writes commands over the real QMP socket of fdplug-host with the floppy plugin
// (qapi/floppy.json): floppy-attach-image's and blockdev-change-medium's "transient",
// query-floppy-drives' "transient" and "dirty-tracks", and every error class of
// floppy-commit-image and floppy-export-image, each reached by a real failing condition (a
// read-only file as `nobody`, a lock another process holds, a layout a raw file cannot hold).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "tests/qtest/floppy_machine.h"
#include "tests/qtest/scratch_dir.h"
#include "tests/support/td0_bytes.h"

namespace fdplug::test {
namespace {

using nlohmann::json;

constexpr const char *kOk = R"({"return":{}})";
constexpr uint32_t k144 = 1474560;
const std::string kDrives =
    "-machine pc -nodefaults -device floppy,id=fd0,unit=0,drive-type=144 "
    "-device floppy,id=fd1,unit=1,drive-type=144 -device floppy,id=none,unit=2,drive-type=none" +
    kFast;

class FloppyTransientQmp : public ::testing::Test {
  protected:
    ScratchDir dir;

    void SetUp() override { ::chmod(dir.path("").c_str(), 0755); }

    std::string image(const std::string &name, mode_t mode = 0644) {
        const std::string p = dir.path(name);
        std::vector<uint8_t> bytes(k144);
        for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = uint8_t(i / 512 + i);
        write_file(p, bytes);
        ::chmod(p.c_str(), mode);
        return p;
    }
    std::string td0(const std::string &name) {
        floppy::test::Td0Spec spec{.data_rate = 2, .drive_type = 4};
        for (uint8_t c = 0; c < 80; ++c)
            for (uint8_t h = 0; h < 2; ++h)
                spec.tracks.push_back(floppy::test::td0_standard_track(
                    c, h, 18, 2, [](uint8_t r) { return std::vector<uint8_t>(512, r); }));
        const std::string p = dir.path(name);
        write_file(p, floppy::test::td0_file(spec));
        ::chmod(p.c_str(), 0644);
        return p;
    }
    static json attach(FloppyMachine &m, const std::string &id, const std::string &file,
                       json extra = json::object()) {
        extra["id"] = id;
        extra["filename"] = file;
        return m.qmp("floppy-attach-image", extra);
    }
    static json commit(FloppyMachine &m, const std::string &id) {
        return m.qmp("floppy-commit-image", {{"id", id}});
    }
    static json export_to(FloppyMachine &m, const std::string &id, const std::string &file,
                          const std::string &format) {
        return m.qmp("floppy-export-image", {{"id", id}, {"filename", file}, {"format", format}});
    }
    static std::string error_class(const json &reply) {
        return reply.contains("error") ? reply["error"].value("class", "") : "(no error)";
    }
    // The guest writes one sector, C0 H0 R1, on unit 0.
    static void guest_write(FloppyMachine &m) {
        m.specify();
        EXPECT_EQ(m.seek(0, 0), 0);
        EXPECT_EQ(m.write(0, 0, 0, 1, std::vector<uint8_t>(512, 0xAB))[0] & st0::kIc, 0);
    }
};

TEST_F(FloppyTransientQmp, QueryShowsTransientAndDirtyTracks) {
    const std::string img = image("a.img");
    FloppyMachine m(kDrives);
    ASSERT_TRUE(m.ok());
    json d = m.drive("fd0");
    EXPECT_EQ(d["transient"], false);
    EXPECT_FALSE(d.contains("dirty-tracks")) << d.dump();

    ASSERT_EQ(attach(m, "fd0", img, {{"transient", true}}).dump(), kOk);
    const json inserted = m.q.events().back();
    EXPECT_EQ(inserted["event"], "FLOPPY_MEDIA_INSERTED");
    EXPECT_EQ(inserted["data"]["read-only"], false);
    d = m.drive("fd0");
    EXPECT_EQ(d["transient"], true);
    EXPECT_EQ(d["read-only"], false);
    EXPECT_EQ(d["dirty-tracks"], 0);
    EXPECT_EQ(d["image-format"], "raw");
    guest_write(m);
    EXPECT_EQ(m.drive("fd0")["dirty-tracks"], 1);

    // read-only wins: write-protected, not transient.
    ASSERT_EQ(attach(m, "fd1", img, {{"transient", true}, {"read-only", true}}).dump(), kOk);
    d = m.drive("fd1");
    EXPECT_EQ(d["read-only"], true);
    EXPECT_EQ(d["transient"], false);
}

TEST_F(FloppyTransientQmp, CommitRefusesWhatHasNothingToCommit) {
    const std::string img = image("a.img");
    FloppyMachine m(kDrives);
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(error_class(commit(m, "nosuch")), "VM_E_VM_UNKNOWN");
    EXPECT_EQ(error_class(commit(m, "none")), "VM_E_VM_UNKNOWN");
    EXPECT_EQ(error_class(commit(m, "fd0")), "VM_E_NO_MEDIA_CAPTURED");
    ASSERT_EQ(attach(m, "fd0", img).dump(), kOk);
    const json wrong = commit(m, "fd0");
    EXPECT_EQ(error_class(wrong), "VM_E_MEDIA_WRONG_TYPE") << wrong.dump();
    EXPECT_NE(wrong.dump().find("not transient"), std::string::npos) << wrong.dump();
    EXPECT_EQ(wrong["error"]["hresult"], "0xA0040728");
    const json malformed = m.qmp("floppy-commit-image", json::object());
    EXPECT_EQ(error_class(malformed), "GenericError");
}

TEST_F(FloppyTransientQmp, CommitOfATd0IsFileReadOnlyAndPointsToExport) {
    const std::string file = td0("a.td0");
    FloppyMachine m(kDrives);
    ASSERT_TRUE(m.ok());
    ASSERT_EQ(attach(m, "fd0", file, {{"transient", true}}).dump(), kOk);
    guest_write(m);
    const json reply = commit(m, "fd0");
    EXPECT_EQ(error_class(reply), "VM_E_FILE_READ_ONLY") << reply.dump();
    EXPECT_EQ(reply["error"]["hresult"], "0xA004067A");
    EXPECT_NE(reply.dump().find("floppy-export-image"), std::string::npos) << reply.dump();
    EXPECT_EQ(m.drive("fd0")["dirty-tracks"], 1) << "the changes stay";
}

TEST_F(FloppyTransientQmp, CommitOfAReadOnlyFileIsFileReadOnly) {
    const std::string img = image("ro.img", 0444);
    const auto before = read_file(img);
    FloppyMachine m(kDrives, /*unprivileged=*/true);
    ASSERT_TRUE(m.ok());
    ASSERT_EQ(attach(m, "fd0", img, {{"transient", true}}).dump(), kOk)
        << "a read-only file can be attached transient";
    guest_write(m);
    const json reply = commit(m, "fd0");
    EXPECT_EQ(error_class(reply), "VM_E_FILE_READ_ONLY") << reply.dump();
    EXPECT_NE(reply.dump().find("floppy-export-image"), std::string::npos) << reply.dump();
    EXPECT_EQ(m.drive("fd0")["dirty-tracks"], 1);
    EXPECT_EQ(read_file(img), before);
    // Nor can it export into a directory it may not write.
    const std::string locked = dir.path("locked");
    ASSERT_EQ(::mkdir(locked.c_str(), 0555), 0);
    const json exported = export_to(m, "fd0", locked + "/saved.imd", "imd");
    EXPECT_EQ(error_class(exported), "VM_E_FILE_READ_ONLY") << exported.dump();
}

TEST_F(FloppyTransientQmp, CommitWhileAnotherProcessReadsTheFileIsImageCaptureFail) {
    const std::string img = image("a.img");
    const auto before = read_file(img);
    FloppyMachine m(kDrives);
    ASSERT_TRUE(m.ok());
    ASSERT_EQ(attach(m, "fd0", img, {{"transient", true}}).dump(), kOk);
    guest_write(m);
    {
        // Another reader's shared lock (this process's own open file description).
        const int fd = ::open(img.c_str(), O_RDONLY | O_CLOEXEC);
        ASSERT_GE(fd, 0);
        struct flock lock = {};
        lock.l_type = F_RDLCK;
        lock.l_whence = SEEK_SET;
        ASSERT_EQ(::fcntl(fd, F_OFD_SETLK, &lock), 0);
        const json reply = commit(m, "fd0");
        EXPECT_EQ(error_class(reply), "VM_E_IMAGE_CAPTURE_FAIL") << reply.dump();
        EXPECT_EQ(read_file(img), before);
        ::close(fd);
    }
    ASSERT_EQ(commit(m, "fd0").dump(), kOk) << "once the reader has gone";
    EXPECT_NE(read_file(img), before);
    EXPECT_EQ(m.drive("fd0")["dirty-tracks"], 0);
}

TEST_F(FloppyTransientQmp, CommitOfALayoutRawCannotHoldIsMediaWrongType) {
    const std::string img = image("a.img");
    const auto before = read_file(img);
    FloppyMachine m(kDrives);
    ASSERT_TRUE(m.ok());
    ASSERT_EQ(attach(m, "fd0", img, {{"transient", true}}).dump(), kOk);
    m.specify();
    EXPECT_EQ(m.seek(0, 2), 2);
    EXPECT_EQ(m.format(0, 0, 3, {2, 0, 1, 3, 2, 0, 2, 3}, 0x11)[0] & st0::kIc, 0)
        << "a transient raw image takes any FORMAT";
    EXPECT_EQ(m.drive("fd0")["uniform"], false);
    const json reply = commit(m, "fd0");
    EXPECT_EQ(error_class(reply), "VM_E_MEDIA_WRONG_TYPE") << reply.dump();
    EXPECT_NE(reply.dump().find("imd"), std::string::npos) << reply.dump();
    EXPECT_EQ(read_file(img), before);
}

// A raw file shorter than its geometry (2 532 sectors taken as a 1.44M disk). Attached the usual
// way, a guest write past its end fails and the file never grows; transient, the guest may write
// there, and a commit that would have to grow the file is refused before any byte is written.
TEST_F(FloppyTransientQmp, CommitToAShortRawFileNeverGrowsItNorHalfWritesIt) {
    constexpr uint32_t kShort = 1296384;
    const std::string img = dir.path("short.img");
    std::vector<uint8_t> bytes(kShort);
    for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = uint8_t(i / 512 + i);
    write_file(img, bytes);
    ::chmod(img.c_str(), 0644);
    const std::vector<uint8_t> sector(512, 0xAB);
    FloppyMachine m(kDrives);
    ASSERT_TRUE(m.ok());
    m.specify();

    // The direct path: the write past the end ends abnormally, the file is unchanged.
    ASSERT_EQ(attach(m, "fd0", img).dump(), kOk);
    EXPECT_EQ(m.seek(0, 79), 79);
    EXPECT_EQ(m.write(0, 79, 1, 18, sector)[0] & st0::kIc, st0::kIcAbnormal);
    EXPECT_EQ(read_file(img), bytes);
    ASSERT_EQ(m.release("fd0").dump(), kOk);

    // Transient: within the file, the commit writes the sector and keeps the length.
    ASSERT_EQ(attach(m, "fd0", img, {{"transient", true}}).dump(), kOk);
    EXPECT_EQ(m.seek(0, 70), 70);
    EXPECT_EQ(m.write(0, 70, 0, 12, sector)[0] & st0::kIc, 0) << "the file's last sector";
    ASSERT_EQ(commit(m, "fd0").dump(), kOk);
    std::copy(sector.begin(), sector.end(), bytes.end() - 512);
    EXPECT_EQ(read_file(img), bytes);

    // Past the end, beside a change the file could hold: refused, nothing written.
    EXPECT_EQ(m.write(0, 70, 0, 1, std::vector<uint8_t>(512, 0x5A))[0] & st0::kIc, 0);
    EXPECT_EQ(m.seek(0, 79), 79);
    EXPECT_EQ(m.write(0, 79, 1, 18, sector)[0] & st0::kIc, 0) << "the overlay takes it";
    const json reply = commit(m, "fd0");
    EXPECT_EQ(error_class(reply), "VM_E_MEDIA_WRONG_TYPE") << reply.dump();
    EXPECT_EQ(reply["error"].value("desc", ""),
              "floppy drive 'fd0': committing to '" + img +
                  "' failed: the image is 1296384 bytes, shorter than its geometry (1474560 "
                  "bytes), and is never extended: 1 sector past its end holds data: cylinder 79 "
                  "head 1 sector 18; the changes stay in memory (save them with "
                  "floppy-export-image, \"format\": \"imd\")");
    EXPECT_EQ(read_file(img), bytes) << "not one byte of the commit written";
    EXPECT_EQ(m.drive("fd0")["dirty-tracks"], 2) << "the changes stay";
}

TEST_F(FloppyTransientQmp, ExportRefusesBadRequests) {
    const std::string img = image("a.img");
    FloppyMachine m(kDrives);
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(error_class(export_to(m, "fd0", "out.img", "raw")), "E_INVALIDARG");
    EXPECT_EQ(error_class(export_to(m, "nosuch", dir.path("o.img"), "raw")), "VM_E_VM_UNKNOWN");
    EXPECT_EQ(error_class(export_to(m, "fd0", dir.path("o.img"), "raw")), "VM_E_NO_MEDIA_CAPTURED");
    EXPECT_EQ(error_class(export_to(m, "fd0", dir.path("o.img"), "qcow2")), "GenericError");
    ASSERT_EQ(attach(m, "fd0", img, {{"transient", true}}).dump(), kOk);
    const json exists = export_to(m, "fd0", img, "raw");
    EXPECT_EQ(error_class(exists), "E_INVALIDARG") << exists.dump();
    EXPECT_NE(exists.dump().find("already exists"), std::string::npos) << exists.dump();
    EXPECT_EQ(error_class(export_to(m, "fd0", dir.path("no/such/dir.img"), "raw")), "E_INVALIDARG");
    ASSERT_EQ(export_to(m, "fd0", dir.path("o.img"), "raw").dump(), kOk);
    EXPECT_EQ(read_file(dir.path("o.img")), read_file(img));
}

TEST_F(FloppyTransientQmp, BlockdevChangeMediumTakesTransient) {
    const std::string img = image("a.img");
    const auto before = read_file(img);
    FloppyMachine m(kDrives);
    ASSERT_TRUE(m.ok());
    ASSERT_EQ(
        m.qmp("blockdev-change-medium", {{"id", "fd0"}, {"filename", img}, {"transient", true}})
            .dump(),
        kOk);
    EXPECT_EQ(m.drive("fd0")["transient"], true);
    guest_write(m);
    EXPECT_EQ(m.drive("fd0")["dirty-tracks"], 1);
    ASSERT_EQ(m.qmp("eject", {{"id", "fd0"}}).dump(), kOk);
    EXPECT_EQ(read_file(img), before) << "the eject dropped the guest's write";
}

TEST_F(FloppyTransientQmp, TheNewCommandsAreIntrospectable) {
    FloppyMachine m(kDrives);
    ASSERT_TRUE(m.ok());
    const std::string commands = m.qmp("query-commands").dump();
    EXPECT_NE(commands.find("floppy-commit-image"), std::string::npos);
    EXPECT_NE(commands.find("floppy-export-image"), std::string::npos);
    const std::string schema = m.qmp("query-qmp-schema").dump();
    EXPECT_NE(schema.find("dirty-tracks"), std::string::npos);
}

}  // namespace
}  // namespace fdplug::test
