// ImageDisk (.IMD) media through the real host: a drive defined on an IMD file (told by its
// content), the guest reading it over qtest by sector ID whatever the physical order, what the
// datasheet says a real disk shows (deleted marks with and without SK, a data CRC error, a
// FORMAT of 1024-byte sectors read back), and the guest's writes reaching the file as a valid
// IMD file when the image is released — read back by a fresh attach and, where Debian's
// mame-tools is installed, identified by MAME's floptool.
#include <gtest/gtest.h>

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "tests/qtest/floppy_machine.h"
#include "tests/qtest/scratch_dir.h"
#include "tests/support/imd_bytes.h"
#include "tests/support/shell_command.h"

namespace fdplug::test {
namespace {

using floppy::test::imd_data_record;
using floppy::test::imd_file;
using floppy::test::ImdTrackSpec;
using floppy::test::standard_imd_track;
using nlohmann::json;

constexpr uint8_t kMode500Mfm = 3;
// IMD data record types: normal, deleted, data error (docs/media.md).
constexpr uint8_t kNormal = 1, kDeleted = 3, kDataError = 5;
// Track C2 H0 holds a deleted sector (R=2) and one with a data CRC error (R=5).
constexpr uint8_t kOddCylinder = 2, kDeletedR = 2, kCrcErrorR = 5;

// The 512 bytes the test disk holds in the sector with ID C H R 2.
std::vector<uint8_t> sector_data(unsigned c, unsigned h, unsigned r) {
    const auto rec = imd_data_record(1, 512, uint8_t(c * 31 + h * 17 + r));
    return {rec.begin() + 1, rec.end()};
}

// Tracks a raw image cannot hold, one per behaviour (docs/hardware/82077aa.md §6.1): IDs naming
// cylinder 11 on C10 H0 and cylinder FF on C10 H1; an FM track of 8 × 256 bytes on C11 H0 and a
// 250 kbit/s track on C11 H1; 128-byte sectors (N = 0) on C12 H0; on C12 H1 an ID whose data
// field is missing (R=3, IMD's "unavailable" record).
constexpr uint8_t kWrongC = 10, kFmC = 11, kSmallC = 12;
constexpr uint8_t kMode500Fm = 0, kMode250Mfm = 5;
constexpr uint8_t kUnavailable = 0, kNoDataR = 3;

std::optional<ImdTrackSpec> special_track(uint8_t c, uint8_t h) {
    if (c == kWrongC) {
        ImdTrackSpec t = standard_imd_track(c, h, 18, 2, kMode500Mfm);
        t.c_map.assign(18, h == 0 ? uint8_t(kWrongC + 1) : uint8_t(0xFF));
        return t;
    }
    if (c == kFmC)
        return h == 0 ? standard_imd_track(c, h, 8, 1, kMode500Fm)
                      : standard_imd_track(c, h, 9, 2, kMode250Mfm);
    if (c == kSmallC && h == 0) return standard_imd_track(c, h, 16, 0, kMode500Mfm);
    if (c == kSmallC && h == 1) {
        ImdTrackSpec t = standard_imd_track(c, h, 18, 2, kMode500Mfm);
        t.records[kNoDataR - 1] = {kUnavailable};
        return t;
    }
    return std::nullopt;
}

// A 1.44 MB disk as an IMD file; track C0 H0 is interleaved 2:1 (R 1, 10, 2, 11, …), so that
// only a search by ID finds its sectors where a raw image would have them; C2 H0 has a deleted
// sector and a data CRC error; and the special tracks above.
std::vector<uint8_t> test_disk() {
    std::vector<ImdTrackSpec> tracks;
    for (uint8_t c = 0; c < 80; ++c)
        for (uint8_t h = 0; h < 2; ++h) {
            if (auto special = special_track(c, h)) {
                tracks.push_back(*special);
                continue;
            }
            ImdTrackSpec t{.mode = kMode500Mfm, .cylinder = c, .head = h};
            for (unsigned i = 0; i < 18; ++i) {
                const unsigned r = c == 0 && h == 0 ? (i % 2 ? 10 + i / 2 : 1 + i / 2) : i + 1;
                t.r_map.push_back(uint8_t(r));
                const bool odd = c == kOddCylinder && h == 0;
                const uint8_t type = odd && r == kDeletedR    ? kDeleted
                                     : odd && r == kCrcErrorR ? kDataError
                                                              : kNormal;
                t.records.push_back(imd_data_record(type, 512, uint8_t(c * 31 + h * 17 + r)));
            }
            tracks.push_back(t);
        }
    return imd_file(tracks);
}

std::vector<uint8_t> slice(const std::vector<uint8_t> &v, size_t from, size_t n) {
    return {v.begin() + long(from), v.begin() + long(from + n)};
}

class FloppyImd : public ::testing::Test {
  protected:
    ScratchDir dir;
    const std::string disk = dir.path("disk.img");  // the name says nothing: the content does

    void SetUp() override { write_file(disk, test_disk()); }

    // One 1.44 MB drive, fd0, on the IMD file (no format= given).
    std::unique_ptr<FloppyMachine> start() {
        auto m = std::make_unique<FloppyMachine>(
            "-machine pc -nodefaults -drive if=none,id=d0,file=" + disk +
            " -device floppy,id=fd0,drive=d0,drive-type=144" + kFast);
        if (m->ok()) {
            m->specify();
            m->seek(0, 0);
        }
        return m;
    }
};

TEST_F(FloppyImd, TheGuestReadsSectorsByTheirIdsWhateverThePhysicalOrder) {
    auto m = start();
    ASSERT_TRUE(m->ok());
    const json drive = m->drive("fd0");
    EXPECT_EQ(drive["image-format"], "imd") << drive.dump();
    EXPECT_EQ(drive["uniform"], false) << "track 0 is interleaved: " << drive.dump();
    EXPECT_EQ(drive["geometry"]["format"], "1.44M") << drive.dump();

    std::vector<uint8_t> data;
    const auto result = m->read(0, 0, 0, 1, 18, &data);
    EXPECT_EQ(result[0] & st0::kIc, 0) << "ST0 " << hex(result[0]) << " ST1 " << hex(result[1]);
    for (unsigned r = 1; r <= 18; ++r)
        EXPECT_EQ(slice(data, (r - 1) * 512, 512), sector_data(0, 0, r)) << "R=" << r;

    EXPECT_EQ(m->seek(0, 40), 40);
    EXPECT_EQ(m->read(0, 40, 1, 5, 5, &data)[0] & st0::kIc, 0);
    for (unsigned r = 5; r <= 9; ++r)
        EXPECT_EQ(slice(data, (r - 5) * 512, 512), sector_data(40, 1, r)) << "R=" << r;
}

// READ DATA meets the deleted sector: without SK it moves it with CM and ends after it; with SK
// it skips it. A data CRC error moves the data and ends with DE + DD.
TEST_F(FloppyImd, DeletedMarksAndDataCrcErrorsReachTheGuest) {
    auto m = start();
    ASSERT_TRUE(m->ok());
    EXPECT_EQ(m->seek(0, kOddCylinder), kOddCylinder);
    std::vector<uint8_t> data;
    auto r = m->read(0, kOddCylinder, 0, 1, 4, &data);
    EXPECT_EQ(r[0] & st0::kIc, 0) << "ST0 " << hex(r[0]);
    EXPECT_EQ(r[2] & st2::kCm, st2::kCm) << "ST2 " << hex(r[2]);
    EXPECT_EQ(slice(data, 512, 512), sector_data(kOddCylinder, 0, kDeletedR));
    EXPECT_EQ(m->dma_count(), 2 * 512 - 1) << "two sectors moved, then the end";

    m->dma(true, 0x20000, 3 * 512);
    m->data_command(0x66, 0, kOddCylinder, 0, 1, 4);  // READ DATA, MFM, SK
    ASSERT_TRUE(m->irq());
    r = m->take(7);
    EXPECT_EQ(r[0] & st0::kIc, 0) << "ST0 " << hex(r[0]);
    EXPECT_EQ(r[2] & st2::kCm, st2::kCm) << "ST2 " << hex(r[2]);
    data = m->q.memread(0x20000, 3 * 512);
    EXPECT_EQ(slice(data, 0, 512), sector_data(kOddCylinder, 0, 1));
    EXPECT_EQ(slice(data, 512, 512), sector_data(kOddCylinder, 0, 3)) << "R=2 skipped";
    EXPECT_EQ(slice(data, 1024, 512), sector_data(kOddCylinder, 0, 4));

    r = m->read(0, kOddCylinder, 0, kCrcErrorR, 2, &data);
    EXPECT_EQ(r[0] & st0::kIc, st0::kIcAbnormal) << "ST0 " << hex(r[0]);
    EXPECT_EQ(r[1], st1::kDe);
    EXPECT_EQ(r[2], st2::kDd);
    EXPECT_EQ(r[5], kCrcErrorR) << "the result names the sector";
    EXPECT_EQ(slice(data, 0, 512), sector_data(kOddCylinder, 0, kCrcErrorR)) << "data moved";
}

// FORMAT lays down what the host asks for — five 1024-byte sectors, interleaved — and READ DATA
// with N=3 finds them; the file keeps the new track after a release.
TEST_F(FloppyImd, FormatLaysDownFiveKilobyteSectorsTheGuestReadsBack) {
    auto m = start();
    ASSERT_TRUE(m->ok());
    constexpr uint8_t kC = 3, kN = 3, kFill = 0x6D;
    const uint8_t order[] = {1, 4, 2, 5, 3};
    std::vector<uint8_t> ids;
    for (uint8_t r : order) ids.insert(ids.end(), {kC, 0, r, kN});
    EXPECT_EQ(m->seek(0, kC), kC);
    auto r = m->format(0, 0, kN, ids, kFill);
    EXPECT_EQ(r[0] & st0::kIc, 0) << "ST0 " << hex(r[0]) << " ST1 " << hex(r[1]);

    m->dma(true, 0x20000, 5 * 1024);
    m->send_all({0x46, 0, kC, 0, 1, kN, 5, 0x35, 0xFF});
    ASSERT_TRUE(m->irq());
    r = m->take(7);
    EXPECT_EQ(r[0] & st0::kIc, 0) << "ST0 " << hex(r[0]) << " ST1 " << hex(r[1]);
    EXPECT_EQ(m->q.memread(0x20000, 5 * 1024), std::vector<uint8_t>(5 * 1024, kFill));
    EXPECT_EQ(m->drive("fd0")["uniform"], false);

    // A 512-byte READ finds no such ID on that track any more.
    r = m->read(0, kC, 0, 1, 1, nullptr);
    EXPECT_EQ(r[0] & st0::kIc, st0::kIcAbnormal);
    EXPECT_EQ(r[1] & st1::kNd, st1::kNd) << "ST1 " << hex(r[1]);

    ASSERT_EQ(m->release("fd0").dump(), R"({"return":{}})");
    ASSERT_EQ(m->attach("fd0", disk).dump(), R"({"return":{}})");
    EXPECT_EQ(m->seek(0, kC), kC);
    m->dma(true, 0x20000, 1024);
    m->send_all({0x46, 0, kC, 0, 4, kN, 4, 0x35, 0xFF});
    ASSERT_TRUE(m->irq());
    EXPECT_EQ(m->take(7)[0] & st0::kIc, 0) << "the formatted track is in the file";
    EXPECT_EQ(m->q.memread(0x20000, 1024), std::vector<uint8_t>(1024, kFill));
}

// The search compares C with the IDs: a track whose IDs name another cylinder ends with ND and
// ST2 WC, and with BC as well when that cylinder is FF.
TEST_F(FloppyImd, IdsOfAnotherCylinderSetWrongAndBadCylinder) {
    auto m = start();
    ASSERT_TRUE(m->ok());
    EXPECT_EQ(m->seek(0, kWrongC), kWrongC);
    auto r = m->read(0, kWrongC, 0, 1, 1, nullptr);
    EXPECT_EQ(r[0] & st0::kIc, st0::kIcAbnormal) << "ST0 " << hex(r[0]);
    EXPECT_EQ(r[1], st1::kNd) << "ST1 " << hex(r[1]);
    EXPECT_EQ(r[2], st2::kWc) << "ST2 " << hex(r[2]);
    r = m->read(0, kWrongC, 1, 1, 1, nullptr);
    EXPECT_EQ(r[1], st1::kNd) << "ST1 " << hex(r[1]);
    EXPECT_EQ(r[2], st2::kWc | st2::kBc) << "ST2 " << hex(r[2]);
    // READ DATA naming the cylinder the IDs carry finds the sector under the head.
    std::vector<uint8_t> data;
    r = m->read(0, kWrongC + 1, 0, 4, 1, &data);
    EXPECT_EQ(r[0] & st0::kIc, 0) << "ST0 " << hex(r[0]) << " ST1 " << hex(r[1]);
    EXPECT_EQ(data, sector_data(kWrongC, 0, 4));
}

// An FM track shows no ID to an MFM read (MA), and gives its 256-byte sectors to an FM read; a
// track recorded at 250 kbit/s shows no ID at 500 kbit/s.
TEST_F(FloppyImd, EncodingAndRateMustMatchTheTrack) {
    auto m = start();
    ASSERT_TRUE(m->ok());
    EXPECT_EQ(m->seek(0, kFmC), kFmC);
    auto r = m->read(0, kFmC, 0, 1, 1, nullptr);
    EXPECT_EQ(r[0] & st0::kIc, st0::kIcAbnormal);
    EXPECT_EQ(r[1], st1::kMa) << "MFM read of an FM track: ST1 " << hex(r[1]);

    m->dma(true, 0x20000, 2 * 256);
    m->send_all({0x06, 0, kFmC, 0, 3, 1, 4, 0x1B, 0xFF});  // READ DATA, FM, N = 1, R 3..4
    ASSERT_TRUE(m->irq());
    r = m->take(7);
    EXPECT_EQ(r[0] & st0::kIc, 0) << "ST0 " << hex(r[0]) << " ST1 " << hex(r[1]);
    auto want = imd_data_record(1, 256, uint8_t(kFmC * 31 + 3));
    want.erase(want.begin());
    EXPECT_EQ(m->q.memread(0x20000, 256), want);

    r = m->read(0, kFmC, 1, 1, 1, nullptr);
    EXPECT_EQ(r[1], st1::kMa) << "a 250 kbit/s track read at 500: ST1 " << hex(r[1]);
}

// N = 0: each 128-byte sector moves DTL bytes of its data field.
TEST_F(FloppyImd, NZeroMovesDtlBytesOfEachSector) {
    auto m = start();
    ASSERT_TRUE(m->ok());
    EXPECT_EQ(m->seek(0, kSmallC), kSmallC);
    constexpr uint8_t kDtl = 0x40;
    m->dma(true, 0x20000, 2 * kDtl);
    m->send_all({0x46, 0, kSmallC, 0, 5, 0, 6, 0x07, kDtl});  // READ DATA, N = 0, R 5..6
    ASSERT_TRUE(m->irq());
    const auto r = m->take(7);
    EXPECT_EQ(r[0] & st0::kIc, 0) << "ST0 " << hex(r[0]) << " ST1 " << hex(r[1]);
    const auto data = m->q.memread(0x20000, 2 * kDtl);
    for (unsigned i = 0; i < 2; ++i) {
        auto want = imd_data_record(1, kDtl, uint8_t(kSmallC * 31 + 5 + i));
        want.erase(want.begin());
        EXPECT_EQ(slice(data, i * kDtl, kDtl), want) << "R=" << 5 + i;
    }
}

// An ID with no data field after it: MA + MD.
TEST_F(FloppyImd, AnIdWithoutADataFieldEndsWithMissingDataMark) {
    auto m = start();
    ASSERT_TRUE(m->ok());
    EXPECT_EQ(m->seek(0, kSmallC), kSmallC);
    const auto r = m->read(0, kSmallC, 1, kNoDataR, 1, nullptr);
    EXPECT_EQ(r[0] & st0::kIc, st0::kIcAbnormal);
    EXPECT_EQ(r[1], st1::kMa) << "ST1 " << hex(r[1]);
    EXPECT_EQ(r[2], st2::kMd) << "ST2 " << hex(r[2]);
    EXPECT_EQ(r[5], kNoDataR);
}

// READ ID gives the IDs as they pass under the head, so on the interleaved track each ID is
// the one after the previous in physical order; READ TRACK moves the sectors in that order.
TEST_F(FloppyImd, ReadIdAndReadTrackFollowThePhysicalOrder) {
    auto m = start();
    ASSERT_TRUE(m->ok());
    const std::vector<uint8_t> physical = {1,  10, 2,  11, 3,  12, 4,  13, 5,
                                           14, 6,  15, 7,  16, 8,  17, 9,  18};
    std::vector<uint8_t> seen;
    for (int i = 0; i < 6; ++i) {
        m->send_all({0x4A, 0});  // READ ID, MFM, head 0: it waits for an ID even under fast
        for (int step = 0; step < 100 && !m->irq(); ++step) m->q.clock_step();
        ASSERT_TRUE(m->irq());
        const auto r = m->take(7);
        EXPECT_EQ(r[0] & st0::kIc, 0) << "ST0 " << hex(r[0]);
        seen.push_back(r[5]);
    }
    const auto at = std::find(physical.begin(), physical.end(), seen[0]) - physical.begin();
    for (size_t i = 1; i < seen.size(); ++i)
        EXPECT_EQ(seen[i], physical[(at + i) % physical.size()]) << "READ ID " << i + 1;

    m->dma(true, 0x20000, 18 * 512);
    m->send_all({0x42, 0, 0, 0, 1, 2, 18, 0x1B, 0xFF});  // READ TRACK, MFM
    ASSERT_TRUE(m->irq());
    const auto r = m->take(7);
    EXPECT_EQ(r[1] & ~st1::kEn, 0) << "ST1 " << hex(r[1]);
    const auto data = m->q.memread(0x20000, 18 * 512);
    for (size_t i = 0; i < physical.size(); ++i)
        EXPECT_EQ(slice(data, i * 512, 512), sector_data(0, 0, physical[i])) << "slot " << i;
}

// WRITE DELETED DATA stores the mark: READ DATA then meets it (CM), also after the file has
// been written back and attached again.
TEST_F(FloppyImd, WriteDeletedKeepsTheMarkInTheFile) {
    auto m = start();
    ASSERT_TRUE(m->ok());
    constexpr uint8_t kC = 6, kR = 7;
    EXPECT_EQ(m->seek(0, kC), kC);
    const std::vector<uint8_t> written(512, 0x3C);
    m->q.memwrite(0x30000, written);
    m->dma(false, 0x30000, 512);
    m->data_command(0x49, 0, kC, 1, kR, kR);  // WRITE DELETED DATA, MFM
    ASSERT_TRUE(m->irq());
    EXPECT_EQ(m->take(7)[0] & st0::kIc, 0);
    for (int pass = 0; pass < 2; ++pass) {
        std::vector<uint8_t> data;
        const auto r = m->read(0, kC, 1, kR, 1, &data);
        EXPECT_EQ(r[0] & st0::kIc, 0) << "pass " << pass << ": ST0 " << hex(r[0]);
        EXPECT_EQ(r[2], st2::kCm) << "pass " << pass << ": ST2 " << hex(r[2]);
        EXPECT_EQ(data, written) << "pass " << pass;
        ASSERT_EQ(m->release("fd0").dump(), R"({"return":{}})");
        ASSERT_EQ(m->attach("fd0", disk).dump(), R"({"return":{}})");
        EXPECT_EQ(m->seek(0, kC), kC);
    }
}

TEST_F(FloppyImd, WritesReachTheFileAsImdWhenTheImageIsReleased) {
    const auto before = read_file(disk);
    auto m = start();
    ASSERT_TRUE(m->ok());
    EXPECT_EQ(m->seek(0, 5), 5);
    std::vector<uint8_t> written(3 * 512);
    for (size_t i = 0; i < written.size(); ++i) written[i] = uint8_t(i * 13 + 7);
    written.resize(4 * 512, 0xE5);  // a uniform sector: compressed in the file
    EXPECT_EQ(m->write(0, 5, 1, 7, written)[0] & st0::kIc, 0);
    EXPECT_EQ(read_file(disk), before) << "an IMD medium keeps writes until a flush";

    ASSERT_EQ(m->release("fd0").dump(), R"({"return":{}})");
    const auto after = read_file(disk);
    ASSERT_GE(after.size(), 4u);
    EXPECT_EQ(std::string(after.begin(), after.begin() + 4), "IMD ");
    EXPECT_LT(after.size(), before.size()) << "the 0xE5 sector is stored compressed";
    const std::string comment = "A test disk\r\n";
    EXPECT_NE(std::string(after.begin(), after.end()).find(comment), std::string::npos)
        << "the comment is kept";

    // A fresh attach reads what the guest wrote, and the rest as it was.
    ASSERT_EQ(m->attach("fd0", disk).dump(), R"({"return":{}})");
    EXPECT_EQ(m->drive("fd0")["image-format"], "imd");
    std::vector<uint8_t> data;
    EXPECT_EQ(m->seek(0, 5), 5);
    EXPECT_EQ(m->read(0, 5, 1, 6, 5, &data)[0] & st0::kIc, 0);
    EXPECT_EQ(slice(data, 0, 512), sector_data(5, 1, 6));
    EXPECT_EQ(slice(data, 512, written.size()), written);

    // An independent reader: MAME's floptool identifies the file fdplug wrote.
    if (!have_command("floptool")) {
        std::printf("floptool not installed (mame-tools): independent check skipped\n");
        return;
    }
    ASSERT_EQ(m->release("fd0").dump(), R"({"return":{}})");
    const ShellResult id = run_shell("floptool identify '" + disk + "'");
    EXPECT_NE(id.output.find("IMD disk image"), std::string::npos) << id.output;
}

}  // namespace
}  // namespace fdplug::test
