// End-to-end tests of the floppy plugin: the real fdplug-host with fdplug-floppy loaded, driven
// over qtest (ports, the 8237, IRQ 6, the virtual clock) and QMP, the way QEMU's
// tests/qtest/fdc-test.c drives QEMU. Each test starts its own host.
//
// The QEMU fdc-test cases are ported with the adaptations docs/hardware/82077aa.md §13.2 asks
// for (marked "Δn" below): where QEMU 7.2 and the datasheet disagree, these tests expect the
// datasheet. Timing expectations come from docs/hardware/timing.md. Unless a test is about
// timing it runs with timing=fast, as QEMU's does.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "tests/qtest/floppy_machine.h"
#include "tests/qtest/libqtest.h"
#include "tests/qtest/scratch_dir.h"

namespace fdplug::test {
namespace {

using nlohmann::json;

// --- ports, commands, bits (docs/hardware/82077aa.md §1–§5) --------------------------------------

// Ports and register bits are floppy_machine.h's.
constexpr uint8_t kCmdSenseInt = 0x08, kCmdSpecify = 0x03, kCmdSeek = 0x0F, kCmdVersion = 0x10,
                  kCmdDumpreg = 0x0E, kCmdPerpendicular = 0x12, kCmdSenseDrive = 0x04;
constexpr uint8_t kCmdReadIdMfm = 0x4A, kCmdReadIdFm = 0x0A;
constexpr uint8_t kCmdReadMtMfmSk = 0xE6, kCmdReadMfm = 0x46, kCmdReadMtMfm = 0xC6,
                  kCmdWriteMfm = 0x45, kCmdVerify = 0x16, kCmdFormatMfm = 0x4D;
constexpr uint8_t kCmdRelSeekOut = 0x8F, kCmdRelSeekIn = 0xCF;

constexpr uint32_t k144Bytes = 1474560;
constexpr int64_t kMs = 1'000'000;
constexpr int64_t kByte500k = 16'000;  // ns per byte at 500 kbit/s (docs/hardware/timing.md §2)

// QEMU fdc-test's machines (MACHINE_ONE_DRIVE, MACHINE_TWO_DRIVES).
const std::string kOneDrive = "-machine pc -device floppy,id=floppy0";
const std::string kTwoDrives =
    "-machine pc -device floppy,id=floppy0,unit=0 -device floppy,id=floppy1,unit=1";

// --- images -------------------------------------------------------------------------------

// A byte that differs per sector and offset, so a misplaced sector shows.
uint8_t pattern(uint32_t lba, unsigned offset) {
    if (offset == 0) return uint8_t(lba);
    if (offset == 1) return uint8_t(lba >> 8);
    return uint8_t(lba * 29 + offset * 7 + (offset >> 8) * 3 + 0x11);
}

std::string make_image(const ScratchDir &dir, const std::string &name, uint32_t bytes,
                       bool patterned = true) {
    const std::string path = dir.path(name);
    std::vector<uint8_t> data(bytes, 0);
    if (patterned)
        for (uint32_t i = 0; i < bytes; ++i) data[i] = pattern(i / 512, i % 512);
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char *>(data.data()), std::streamsize(data.size()));
    return path;
}

std::vector<uint8_t> sector_of(const std::vector<uint8_t> &image, uint32_t lba) {
    return std::vector<uint8_t>(image.begin() + lba * 512, image.begin() + (lba + 1) * 512);
}

// 1.44 MB geometry: LBA = (C × 2 + H) × 18 + R − 1.
uint32_t lba144(unsigned c, unsigned h, unsigned r) {
    return (c * 2 + h) * 18 + r - 1;
}

// --- the machine under test and the helpers fdc-test has ----------------------------------

// floppy_machine.h's send / recv are fdc-test's floppy_send / floppy_recv.
class Fdc : public FloppyMachine {
  public:
    using FloppyMachine::FloppyMachine;

    uint8_t dir() { return q.inb(kDirPort); }
    int64_t now() { return q.clock_step(0); }

    // A data command's 7 result bytes, checking QEMU's IRQ points: high until the last byte.
    std::vector<uint8_t> result7() {
        std::vector<uint8_t> r;
        for (int i = 0; i < 6; ++i) r.push_back(recv());
        EXPECT_TRUE(irq()) << "INT stays high until the last result byte";
        r.push_back(recv());
        EXPECT_FALSE(irq()) << "INT drops with the last result byte";
        EXPECT_EQ(msr() & (msr::kRqm | msr::kDio | msr::kCb), msr::kRqm)
            << "back in the command phase";
        return r;
    }

    // fdc-test's ack_irq: SENSE INTERRUPT after an interrupt; returns {ST0, PCN}.
    std::pair<uint8_t, uint8_t> ack_irq() {
        EXPECT_TRUE(irq()) << "an interrupt to acknowledge";
        send(kCmdSenseInt);
        const uint8_t st0 = recv();
        const uint8_t pcn = recv();
        EXPECT_FALSE(irq());
        return {st0, pcn};
    }
    // SEEK under the fast policy: it ends at once. fdc-test's argument order and IRQ checks
    // (hides FloppyMachine::seek).
    std::pair<uint8_t, uint8_t> seek(uint8_t cyl, uint8_t head = 0, uint8_t unit = 0) {
        send(kCmdSeek);
        send(uint8_t(head << 2 | unit));
        EXPECT_FALSE(irq());
        send(cyl);
        return ack_irq();
    }
    void specify(uint8_t srt_hut, uint8_t hlt_nd) { send_all({kCmdSpecify, srt_hut, hlt_nd}); }
    void data_command(uint8_t op, uint8_t unit_head, uint8_t c, uint8_t h, uint8_t r, uint8_t n,
                      uint8_t eot, uint8_t gpl = 0x1B, uint8_t dtl = 0xFF) {
        send_all({op, unit_head, c, h, r, n, eot, gpl, dtl});
    }

    uint8_t cmos(uint8_t reg) {
        q.outb(0x70, reg);
        return q.inb(0x71);
    }

    // QMP as fdc-test writes it: the request's text as it stands.
    void qmp_ok(const std::string &text) {
        const json r = q.qmp(text);
        EXPECT_TRUE(r.contains("return")) << text << " -> " << r.dump();
    }
    // fdc-test's media_insert / media_eject name the drive by its qdev id; `key` "device"
    // names it by the legacy drive name instead (-drive if=floppy: floppy0).
    void media_insert(const std::string &file, const std::string &name = "floppy0",
                      const std::string &key = "id") {
        qmp_ok("{'execute':'blockdev-change-medium', 'arguments':{'" + key + "':'" + name +
               "', 'filename':'" + file + "', 'format':'raw'}}");
    }
    void media_eject(const std::string &name = "floppy0", const std::string &key = "id") {
        qmp_ok("{'execute':'eject', 'arguments':{'" + key + "':'" + name + "'}}");
    }
    json query_block() { return q.qmp("{'execute':'query-block'}")["return"]; }

    // Steps the virtual clock deadline by deadline until INT rises; returns the time, or -1
    // when nothing is pending any more or `limit` passes.
    int64_t step_until_irq(int64_t limit) {
        int64_t t = now();
        while (!irq()) {
            const int64_t next = q.clock_step();
            if (next == t || next > limit) return -1;
            t = next;
        }
        return t;
    }
};

// ============================================================================================
// QEMU fdc-test, ported
// ============================================================================================

// /fdc/cmos: QEMU accepts 0x40 or 0x50; an empty `auto` drive takes the fallback type 288
// (docs/hardware/media.md §5), so exactly 0x50.
TEST(FdcQemuPort, Cmos) {
    Fdc f(kOneDrive + kFast);
    ASSERT_TRUE(f.ok()) << f.q.error();
    EXPECT_EQ(f.cmos(0x10), 0x50);
}

// /fdc/no_media_on_start: DSKCHG stays set while the drive is empty, even across a step.
TEST(FdcQemuPort, NoMediaOnStart) {
    Fdc f(kOneDrive + kFast);
    ASSERT_TRUE(f.ok());
    EXPECT_EQ(f.dir() & dir::kDiskChange, dir::kDiskChange);
    EXPECT_EQ(f.dir() & dir::kDiskChange, dir::kDiskChange) << "reading DIR does not clear it";
    f.seek(1);
    EXPECT_EQ(f.dir() & dir::kDiskChange, dir::kDiskChange)
        << "a step without a disk clears nothing";
    EXPECT_EQ(f.dir() & dir::kDiskChange, dir::kDiskChange);
}

// fdc-test's send_read_command on an empty drive: the result comes at once (no clock step),
// ST0 = 0x40. DS adds ST1 = MA (Δ22).
void expect_empty_drive_ends_at_once(Fdc &f, uint8_t op) {
    f.send(op);
    f.send(0x00);
    EXPECT_FALSE(f.irq());
    f.send_all({0, 0, 1, 2, 1, 0x1B, 0xFF});
    EXPECT_EQ(f.msr(), 0xD0) << "result phase without any clock step";
    const auto r = f.result7();
    EXPECT_EQ(r[0], 0x40);
    EXPECT_EQ(r[1], st1::kMa) << "no index pulses on an empty drive: missing address mark (Δ22)";
}

TEST(FdcQemuPort, ReadWithoutMedia) {
    Fdc f(kOneDrive + kFast);
    ASSERT_TRUE(f.ok());
    expect_empty_drive_ends_at_once(f, kCmdReadMtMfmSk);
}

// /fdc/verify: VERIFY on the empty drive, like READ.
TEST(FdcQemuPort, VerifyWithoutMedia) {
    Fdc f(kOneDrive + kFast);
    ASSERT_TRUE(f.ok());
    expect_empty_drive_ends_at_once(f, kCmdVerify);
}

// /fdc/media_insert: DSKCHG survives the insert and a seek to the current track; the first
// real step pulse clears it.
void media_insert_sequence(Fdc &f, const std::string &image) {
    f.media_insert(image);
    EXPECT_EQ(f.dir() & dir::kDiskChange, dir::kDiskChange);
    EXPECT_EQ(f.dir() & dir::kDiskChange, dir::kDiskChange);
    f.seek(0);
    EXPECT_EQ(f.dir() & dir::kDiskChange, dir::kDiskChange) << "no step pulse, no clear";
    EXPECT_EQ(f.dir() & dir::kDiskChange, dir::kDiskChange);
    f.seek(1);
    EXPECT_EQ(f.dir() & dir::kDiskChange, 0) << "a step with a disk present clears DSKCHG";
    EXPECT_EQ(f.dir() & dir::kDiskChange, 0);
}

TEST(FdcQemuPort, MediaInsert) {
    ScratchDir d;
    const std::string img = make_image(d, "a.img", k144Bytes, false);
    Fdc f(kOneDrive + kFast);
    ASSERT_TRUE(f.ok());
    media_insert_sequence(f, img);
}

// /fdc/media_change: after an eject DSKCHG is set and no step clears it.
TEST(FdcQemuPort, MediaChange) {
    ScratchDir d;
    const std::string img = make_image(d, "a.img", k144Bytes, false);
    Fdc f(kOneDrive + kFast);
    ASSERT_TRUE(f.ok());
    media_insert_sequence(f, img);
    f.media_eject();
    EXPECT_EQ(f.dir() & dir::kDiskChange, dir::kDiskChange);
    EXPECT_EQ(f.dir() & dir::kDiskChange, dir::kDiskChange);
    f.seek(0);
    EXPECT_EQ(f.dir() & dir::kDiskChange, dir::kDiskChange);
    f.seek(1);
    EXPECT_EQ(f.dir() & dir::kDiskChange, dir::kDiskChange) << "empty drive: DSKCHG forever";
    EXPECT_EQ(f.dir() & dir::kDiskChange, dir::kDiskChange);
}

// /fdc/sense_interrupt: SIS with nothing pending is invalid (0x80); after a SEEK it reports
// SE with H=0 (0x20).
TEST(FdcQemuPort, SenseInterrupt) {
    Fdc f(kOneDrive + kFast);
    ASSERT_TRUE(f.ok());
    f.send(kCmdSenseInt);
    EXPECT_EQ(f.recv(), 0x80);
    EXPECT_EQ(f.msr(), 0x80) << "a one-byte result";
    f.send(kCmdSeek);
    f.send(0x04);  // head 1: SIS's ST0 still shows H=0
    EXPECT_FALSE(f.irq());
    f.send(0);
    f.send(kCmdSenseInt);
    EXPECT_EQ(f.recv(), 0x20);
    EXPECT_EQ(f.recv(), 0);
}

// /fdc/relative_seek: RELATIVE SEEK in and out by one.
TEST(FdcQemuPort, RelativeSeek) {
    Fdc f(kOneDrive + kFast);
    ASSERT_TRUE(f.ok());
    f.seek(0);
    f.send_all({kCmdRelSeekIn, 0x00});
    EXPECT_FALSE(f.irq());
    f.send(1);
    auto [st0, pcn] = f.ack_irq();
    EXPECT_EQ(st0, 0x20);
    EXPECT_EQ(pcn, 1);
    f.send_all({kCmdRelSeekOut, 0x00});
    EXPECT_FALSE(f.irq());
    f.send(1);
    std::tie(st0, pcn) = f.ack_irq();
    EXPECT_EQ(st0, 0x20);
    EXPECT_EQ(pcn, 0);
}

// Δ13 (DS): stepping out past track 0 ends abnormally with EC; QEMU stops at 0 silently.
TEST(FdcQemuPort, RelativeSeekOutPastTrackZeroSetsEc) {
    Fdc f(kOneDrive + kFast);
    ASSERT_TRUE(f.ok());
    f.seek(2);
    f.send_all({kCmdRelSeekOut, 0x00, 5});
    const auto [st0, pcn] = f.ack_irq();
    EXPECT_EQ(st0, 0x70) << "IC=01, SE, EC";
    EXPECT_EQ(pcn, 0);
}

// READ ID (fast policy: 20 ms like QEMU) and its result; returns {ST0, ST1, C, H, R}.
struct IdResult {
    uint8_t st0, st1, c, h, r;
};
IdResult read_id(Fdc &f, uint8_t op, uint8_t unit_head) {
    f.send(op);
    EXPECT_FALSE(f.irq());
    f.send(unit_head);
    if (!f.irq()) {
        const uint8_t m = f.msr();
        EXPECT_EQ(m & msr::kCb, msr::kCb);
        EXPECT_EQ(m & msr::kRqm, 0);
    }
    for (int i = 0; i < 50 && !f.irq(); ++i) f.q.clock_step(1'000'000'000LL / 50);
    EXPECT_EQ(f.msr() & (msr::kCb | msr::kRqm | msr::kDio), msr::kCb | msr::kRqm | msr::kDio);
    const auto r = f.result7();
    return {r[0], r[1], r[3], r[4], r[5]};
}

// /fdc/read_id, adapted (Δ12, Δ17): with a medium inserted first, and the MFM bit set.
TEST(FdcQemuPort, ReadId) {
    ScratchDir d;
    const std::string img = make_image(d, "a.img", k144Bytes);
    Fdc f(kOneDrive + kFast);
    ASSERT_TRUE(f.ok());
    f.media_insert(img);
    f.seek(0);
    IdResult id = read_id(f, kCmdReadIdMfm, 0x00);
    EXPECT_EQ(id.c, 0);
    EXPECT_EQ(id.h, 0);
    EXPECT_EQ(id.st0, 0x00);
    EXPECT_EQ(id.st1, 0x00);

    f.send_all({kCmdSeek, 0x04});
    EXPECT_FALSE(f.irq());
    f.send(8);
    EXPECT_TRUE(f.irq());
    f.ack_irq();
    id = read_id(f, kCmdReadIdMfm, 0x04);
    EXPECT_EQ(id.c, 8);
    EXPECT_EQ(id.h, 1);
    EXPECT_EQ(id.st0, 0x04);
    // Consecutive READ IDs count up sector numbers modulo SPT (§6.3); the start is free.
    const uint8_t first = read_id(f, kCmdReadIdMfm, 0x04).r;
    const uint8_t second = read_id(f, kCmdReadIdMfm, 0x04).r;
    EXPECT_GE(first, 1);
    EXPECT_LE(first, 18);
    EXPECT_EQ(second, first % 18 + 1);
}

// Under the fast policy READ ID still takes QEMU's 20 ms (docs/hardware/timing.md §1).
TEST(FdcQemuPort, ReadIdTakesTwentyMillisecondsUnderFast) {
    ScratchDir d;
    const std::string img = make_image(d, "a.img", k144Bytes);
    Fdc f("-machine pc -drive if=floppy,format=raw,file=" + img + kFast);
    ASSERT_TRUE(f.ok());
    const int64_t t0 = f.now();
    f.send_all({kCmdReadIdMfm, 0x00});
    f.q.clock_step(20 * kMs - 1);
    EXPECT_FALSE(f.irq()) << "not before 20 ms";
    EXPECT_EQ(f.msr(), msr::kCb);
    EXPECT_EQ(f.q.clock_step(1), t0 + 20 * kMs);
    EXPECT_TRUE(f.irq()) << "at 20 ms";
}

// Δ17 (DS): READ ID with MFM=0 on MFM media finds no ID (fdc-test 7.2 sends 0x0A).
TEST(FdcQemuPort, ReadIdInFmFindsNothingOnMfmMedia) {
    ScratchDir d;
    const std::string img = make_image(d, "a.img", k144Bytes);
    Fdc f(kOneDrive + kFast);
    ASSERT_TRUE(f.ok());
    f.media_insert(img);
    const IdResult id = read_id(f, kCmdReadIdFm, 0x00);
    EXPECT_EQ(id.st0 & st0::kIc, st0::kIcAbnormal);
    EXPECT_EQ(id.st1 & st1::kMa, st1::kMa);
}

// /fdc/read_id_no_media (newer upstream; DS): MA on an empty drive.
TEST(FdcQemuPort, ReadIdNoMedia) {
    Fdc f(kOneDrive + kFast);
    ASSERT_TRUE(f.ok());
    const IdResult id = read_id(f, kCmdReadIdMfm, 0x00);
    EXPECT_EQ(id.st0 & st0::kIc, st0::kIcAbnormal);
    EXPECT_EQ(id.st1 & st1::kMa, st1::kMa);
}

// /fdc/read_id_other_drive (newer upstream; DS Δ12): READ ID uses its own command's drive.
TEST(FdcQemuPort, ReadIdOtherDrive) {
    ScratchDir d;
    const std::string img = make_image(d, "a.img", k144Bytes);
    Fdc f(kTwoDrives + kFast);
    ASSERT_TRUE(f.ok());
    f.media_insert(img);
    f.seek(0);  // selects drive 0, which has the medium
    const IdResult id = read_id(f, kCmdReadIdMfm, 0x01);
    EXPECT_EQ(id.st0 & 0x03, 1) << "answers for drive 1";
    EXPECT_EQ(id.st0 & st0::kIc, st0::kIcAbnormal);
    EXPECT_EQ(id.st1 & st1::kMa, st1::kMa);
}

// fdc-test's send_read_no_dma_command, in PIO: reads every byte the controller offers (MSR
// checked per byte), compares it with the image, then the result. Returns the 7 result bytes
// and the number of data bytes.
std::pair<std::vector<uint8_t>, size_t> read_pio(Fdc &f, const std::vector<uint8_t> &image,
                                                 uint8_t eot, std::vector<uint32_t> expected_lbas) {
    f.send(kCmdReadMtMfmSk);
    f.send(0x00);
    EXPECT_FALSE(f.irq());
    f.send_all({0, 0, 1, 2, eot, 0x1B, 0xFF});
    size_t bytes = 0;
    size_t mismatches = 0;
    for (;;) {
        const uint8_t m = f.msr();
        if (m != (msr::kRqm | msr::kDio | msr::kNonDma | msr::kCb)) break;
        const uint8_t v = f.q.inb(kFifoPort);
        const size_t s = bytes / 512;
        if (s < expected_lbas.size() && v != image[expected_lbas[s] * 512 + bytes % 512])
            ++mismatches;
        ++bytes;
        if (bytes > 40 * 512) break;
    }
    EXPECT_EQ(mismatches, 0u) << "PIO data differs from the image";
    EXPECT_EQ(f.msr(), 0xD0) << "result phase after the data";
    EXPECT_TRUE(f.irq());
    return {f.result7(), bytes};
}

std::vector<uint32_t> lbas_from(uint32_t first, uint32_t count) {
    std::vector<uint32_t> v(count);
    for (uint32_t i = 0; i < count; ++i) v[i] = first + i;
    return v;
}

// The portable PIO recipe (Δ2): DOR keeps DMA GATE set, SPECIFY ND=1 selects PIO.
void enter_pio(Fdc &f, const std::string &img) {
    f.media_insert(img);
    f.specify(0xDF, 0x03);
    f.seek(0);
}

// /fdc/read_no_dma_1, adapted (Δ20): with MT, EOT=1 reads sector 1 of both heads; PIO has no TC,
// so it ends with IC=01 + EN and the last sector's C/H/R (0/1/1), H in ST0 = the head in use.
TEST(FdcQemuPort, ReadNoDma1) {
    ScratchDir d;
    const std::string img = make_image(d, "a.img", k144Bytes);
    const auto image = read_file(img);
    Fdc f(kOneDrive + kFast);
    ASSERT_TRUE(f.ok());
    enter_pio(f, img);
    const auto [r, bytes] = read_pio(f, image, 1, {lba144(0, 0, 1), lba144(0, 1, 1)});
    EXPECT_EQ(bytes, 2u * 512);
    EXPECT_EQ(r[0], 0x44) << "IC=01, head 1 at termination";
    EXPECT_EQ(r[1], st1::kEn);
    EXPECT_EQ(r[2], 0x00);
    EXPECT_EQ(r[3], 0);
    EXPECT_EQ(r[4], 1);
    EXPECT_EQ(r[5], 1);
    EXPECT_EQ(r[6], 2);
}

// /fdc/read_no_dma_18, adapted: a whole cylinder (36 sectors), then EN.
TEST(FdcQemuPort, ReadNoDma18) {
    ScratchDir d;
    const std::string img = make_image(d, "a.img", k144Bytes);
    const auto image = read_file(img);
    Fdc f(kOneDrive + kFast);
    ASSERT_TRUE(f.ok());
    enter_pio(f, img);
    const auto [r, bytes] = read_pio(f, image, 18, lbas_from(0, 36));
    EXPECT_EQ(bytes, 36u * 512);
    EXPECT_EQ(r[0], 0x44);
    EXPECT_EQ(r[1], st1::kEn);
    EXPECT_EQ(r[3], 0);
    EXPECT_EQ(r[4], 1);
    EXPECT_EQ(r[5], 18);
}

// /fdc/read_no_dma_19, adapted: EOT=19 on an 18-sector track. QEMU reads 38 sectors; on the
// datasheet sector 19 has no ID, so after sectors 1..18 the search ends with ND (§6.1, Δ22),
// C/H/R naming the missing sector.
TEST(FdcQemuPort, ReadNoDma19) {
    ScratchDir d;
    const std::string img = make_image(d, "a.img", k144Bytes);
    const auto image = read_file(img);
    Fdc f(kOneDrive + kFast);
    ASSERT_TRUE(f.ok());
    enter_pio(f, img);
    const auto [r, bytes] = read_pio(f, image, 19, lbas_from(0, 18));
    EXPECT_EQ(bytes, 18u * 512);
    EXPECT_EQ(r[0], 0x40);
    EXPECT_EQ(r[1], st1::kNd);
    EXPECT_EQ(r[3], 0);
    EXPECT_EQ(r[4], 0);
    EXPECT_EQ(r[5], 19);
}

// /fdc/fuzz-registers: random register traffic must not crash or wedge the controller; a
// reset afterwards gives a working controller (polling statuses, VERSION).
TEST(FdcQemuPort, FuzzRegisters) {
    ScratchDir d;
    const std::string img = make_image(d, "a.img", k144Bytes);
    Fdc f("-machine pc -drive if=floppy,format=raw,file=" + img + kFast);
    ASSERT_TRUE(f.ok());
    std::mt19937 rng(20120328);
    for (int i = 0; i < 1000; ++i) {
        const uint16_t reg = uint16_t(kFdcBase + rng() % 8);
        f.q.outb(reg, uint8_t(rng()));
        f.q.inb(reg);
        if (i % 97 == 0) f.q.clock_step(5 * kMs);
    }
    ASSERT_EQ(f.q.request("endianness"), "OK little") << "the host survived";
    f.q.outb(kDorPort, 0x08);
    f.q.outb(kDorPort, 0x0C);
    f.q.clock_step(kMs);
    for (uint8_t u = 0; u < 4; ++u) {
        f.send(kCmdSenseInt);
        EXPECT_EQ(f.recv(), 0xC0 | u);
        f.recv();
    }
    f.send(kCmdVersion);
    EXPECT_EQ(f.recv(), 0x90);
}

// /fdc/fuzz/cve_2021_20196: the sequence that made QEMU dereference a NULL drive.
TEST(FdcQemuPort, Cve2021_20196) {
    Fdc f(
        "-nographic -m 32M -nodefaults "
        "-drive if=floppy,file=null-co://,file.read-zeroes=on,format=raw,size=1440k" +
        kFast);
    ASSERT_TRUE(f.ok());
    f.q.outw(0x3f4, 0x0500);
    f.q.outb(0x3f5, 0x00);
    f.q.outb(0x3f5, 0x00);
    f.q.outw(0x3f4, 0x0000);
    f.q.outb(0x3f5, 0x00);
    f.q.outw(0x3f1, 0x0400);
    f.q.outw(0x3f4, 0x0000);
    f.q.outw(0x3f4, 0x0000);
    f.q.outb(0x3f5, 0x00);
    f.q.outb(0x3f5, 0x01);
    f.q.outw(0x3f1, 0x0500);
    f.q.outb(0x3f5, 0x00);
    EXPECT_EQ(f.q.request("endianness"), "OK little");
    EXPECT_EQ(f.q.quit(), 0);
}

// /fdc/fuzz/cve_2021_3507: EOT < R with DMA must not read out of bounds.
TEST(FdcQemuPort, Cve2021_3507) {
    ScratchDir d;
    const std::string img = make_image(d, "a.img", k144Bytes);
    Fdc f("-nographic -m 32M -nodefaults -drive file=" + img + ",format=raw,if=floppy,snapshot=on" +
          kFast);
    ASSERT_TRUE(f.ok());
    f.q.outl(0x9, 0x0a0206);
    f.q.outw(0x3f4, 0x1600);
    f.q.outw(0x3f4, 0x0000);
    f.q.outw(0x3f4, 0x0000);
    f.q.outw(0x3f4, 0x0000);
    f.q.outw(0x3f4, 0x0200);
    f.q.outw(0x3f4, 0x0200);
    f.q.outw(0x3f4, 0x0000);
    f.q.outw(0x3f4, 0x0000);
    f.q.outw(0x3f4, 0x0000);
    EXPECT_EQ(f.q.request("endianness"), "OK little");
    EXPECT_EQ(read_file(img), read_file(make_image(d, "b.img", k144Bytes)))
        << "snapshot=on never writes the file";
    EXPECT_EQ(f.q.quit(), 0);
}

// ============================================================================================
// Datasheet behaviour end to end (docs/hardware/82077aa.md), fast policy
// ============================================================================================

TEST(FdcPorts, DecodesItsPortsAndLeavesIdeTheirs) {
    Fdc f(kOneDrive + kFast);
    ASSERT_TRUE(f.ok());
    EXPECT_EQ(f.q.inb(kSraPort), 0xFF) << "AT mode: SRA not driven (Δ1)";
    EXPECT_EQ(f.q.inb(kSrbPort), 0xFF) << "AT mode: SRB not driven (Δ1)";
    EXPECT_EQ(f.q.inb(kDorPort), 0x0C) << "firmware state (Δ3)";
    EXPECT_EQ(f.msr(), 0x80);
    EXPECT_EQ(f.q.inb(0x3F6), 0xFF) << "+6 is the IDE controller's: not claimed";
    EXPECT_EQ(f.q.inw(0x3F4), 0x0080) << "a 16-bit read is two byte reads";
    EXPECT_EQ(f.q.inl(0x3F4), 0xFFFFFFFFu) << "32-bit accesses are not decoded";
    f.q.outw(0x3F4, 0x1000);  // DSR <- 0x00, FIFO <- VERSION
    EXPECT_EQ(f.recv(), 0x90);
}

TEST(FdcPorts, Ps2ModeDrivesSrb) {
    Fdc f(kOneDrive + kFast + " -global isa-fdc.mode=ps2");
    ASSERT_TRUE(f.ok());
    EXPECT_EQ(f.q.inb(kSrbPort), 0xC0) << "PS/2 SRB at power-on (§2.2)";
    f.q.outb(kDorPort, 0x1C);
    EXPECT_EQ(f.q.inb(kSrbPort), 0xC1) << "MOT EN0";
    f.q.outb(kDorPort, 0x2D);
    EXPECT_EQ(f.q.inb(kSrbPort), 0xE2) << "DRIVE SEL0, MOT EN1";
}

TEST(FdcPorts, SecondControllerAt0x370OnItsOwnBus) {
    ScratchDir d;
    const std::string img = make_image(d, "a.img", k144Bytes);
    const auto image = read_file(img);
    Fdc f(
        "-machine pc -nodefaults -device isa-fdc,id=fdc1,iobase=0x370,irq=5,dma=3 "
        "-drive if=none,id=d1,format=raw,file=" +
        img +
        " -device floppy,bus=fdc1,drive=d1 "
        "-global isa-fdc.timing=fast");
    ASSERT_TRUE(f.ok());
    EXPECT_EQ(f.cmos(0x10), 0x00) << "only the machine's own controller fills CMOS";
    EXPECT_EQ(f.q.inb(0x374), 0x80);
    // PIO read of sector 1 on the secondary controller.
    auto out = [&](uint8_t b) {
        EXPECT_EQ(f.q.inb(0x374) & (msr::kRqm | msr::kDio), msr::kRqm);
        f.q.outb(0x375, b);
    };
    for (uint8_t b : {kCmdSpecify, uint8_t(0xDF), uint8_t(0x03)}) out(b);
    for (uint8_t b : {kCmdReadMfm, uint8_t(0), uint8_t(0), uint8_t(0), uint8_t(1), uint8_t(2),
                      uint8_t(1), uint8_t(0x1B), uint8_t(0xFF)})
        out(b);
    std::vector<uint8_t> got;
    while (f.q.inb(0x374) == 0xF0 && got.size() < 1024) got.push_back(f.q.inb(0x375));
    EXPECT_EQ(got, sector_of(image, 0));
    EXPECT_TRUE(f.q.get_irq(5)) << "its own IRQ line";
    EXPECT_FALSE(f.q.get_irq(6));
}

// DMA READ of several sectors through channel 2, checked against the image file; TC ends the
// command normally after the sector in which it came, with the next sector's C/H/R (§6.1, Δ20).
TEST(FdcDma, ReadSeveralSectorsIntoGuestMemory) {
    ScratchDir d;
    const std::string img = make_image(d, "a.img", k144Bytes);
    const auto image = read_file(img);
    Fdc f("-machine pc -drive if=floppy,format=raw,file=" + img + kFast);
    ASSERT_TRUE(f.ok());
    f.specify(0xDF, 0x02);
    f.seek(1);
    f.dma(true, 0x12000, 3 * 512);
    f.data_command(kCmdReadMfm, 0x00, 1, 0, 2, 2, 18);
    EXPECT_TRUE(f.irq());
    const auto r = f.result7();
    EXPECT_EQ(r[0], 0x00) << "IC=00, no SE";
    EXPECT_EQ(r[1], 0x00);
    EXPECT_EQ(r[2], 0x00);
    EXPECT_EQ((std::vector<uint8_t>{r[3], r[4], r[5], r[6]}), (std::vector<uint8_t>{1, 0, 5, 2}));
    const auto mem = f.q.memread(0x12000, 3 * 512 + 16);
    for (unsigned s = 0; s < 3; ++s)
        EXPECT_EQ(std::vector<uint8_t>(mem.begin() + s * 512, mem.begin() + (s + 1) * 512),
                  sector_of(image, lba144(1, 0, 2 + s)))
            << "sector " << 2 + s;
    EXPECT_EQ(std::vector<uint8_t>(mem.begin() + 1536, mem.end()), std::vector<uint8_t>(16, 0))
        << "nothing past the count";
    EXPECT_EQ(f.q.inb(0x08) & 0x04, 0x04) << "8237 status: TC on channel 2";
}

// MT: from sector 17 of head 0 on to head 1; ST0 H shows the head at termination.
TEST(FdcDma, MultiTrackReadContinuesOnHeadOne) {
    ScratchDir d;
    const std::string img = make_image(d, "a.img", k144Bytes);
    const auto image = read_file(img);
    Fdc f("-machine pc -drive if=floppy,format=raw,file=" + img + kFast);
    ASSERT_TRUE(f.ok());
    f.specify(0xDF, 0x02);
    f.dma(true, 0x20000, 4 * 512);
    f.data_command(kCmdReadMtMfm, 0x00, 0, 0, 17, 2, 18);
    const auto r = f.result7();
    EXPECT_EQ(r[0], 0x04);
    EXPECT_EQ(r[1], 0x00);
    EXPECT_EQ((std::vector<uint8_t>{r[3], r[4], r[5]}), (std::vector<uint8_t>{0, 1, 3}));
    const auto mem = f.q.memread(0x20000, 4 * 512);
    const uint32_t want[] = {lba144(0, 0, 17), lba144(0, 0, 18), lba144(0, 1, 1), lba144(0, 1, 2)};
    for (unsigned s = 0; s < 4; ++s)
        EXPECT_EQ(std::vector<uint8_t>(mem.begin() + s * 512, mem.begin() + (s + 1) * 512),
                  sector_of(image, want[s]))
            << "sector " << s;
}

// A DMA count longer than the request: no TC by EOT, so EN (§9; QEMU ends IC=00, Δ20).
TEST(FdcDma, CountLongerThanTheRequestEndsWithEnAtEot) {
    ScratchDir d;
    const std::string img = make_image(d, "a.img", k144Bytes);
    Fdc f("-machine pc -drive if=floppy,format=raw,file=" + img + kFast);
    ASSERT_TRUE(f.ok());
    f.specify(0xDF, 0x02);
    f.dma(true, 0x20000, 4 * 512);
    f.data_command(kCmdReadMfm, 0x00, 0, 0, 1, 2, 2);
    const auto r = f.result7();
    EXPECT_EQ(r[0], 0x40);
    EXPECT_EQ(r[1], st1::kEn);
    EXPECT_EQ((std::vector<uint8_t>{r[3], r[4], r[5]}), (std::vector<uint8_t>{0, 0, 2}))
        << "EN: the last sector";
    EXPECT_EQ(f.dma_count(), 2 * 512 - 1) << "two sectors moved";
}

// While the channel is masked the controller waits in execution with MSR=0x10 and no INT.
TEST(FdcDma, MaskedChannelWaitsInExecution) {
    ScratchDir d;
    const std::string img = make_image(d, "a.img", k144Bytes);
    Fdc f("-machine pc -drive if=floppy,format=raw,file=" + img + kFast);
    ASSERT_TRUE(f.ok());
    f.specify(0xDF, 0x02);
    f.dma(true, 0x20000, 512);
    f.q.outb(0x0A, 0x06);  // mask channel 2 again
    f.data_command(kCmdReadMfm, 0x00, 0, 0, 1, 2, 18);
    f.q.clock_step(100 * kMs);
    EXPECT_EQ(f.msr(), 0x10);
    EXPECT_FALSE(f.irq());
    f.q.outb(0x0A, 0x02);  // unmask: the transfer runs
    EXPECT_TRUE(f.irq());
    EXPECT_EQ(f.result7()[0], 0x00);
}

// DMA WRITE, then the file: exactly the two sectors changed, and they hold the guest's bytes
// once the eject (which flushes) has completed.
TEST(FdcDma, WriteReachesTheImageFile) {
    ScratchDir d;
    const std::string img = make_image(d, "a.img", k144Bytes);
    const auto before = read_file(img);
    Fdc f("-machine pc -drive if=floppy,format=raw,file=" + img + kFast);
    ASSERT_TRUE(f.ok());
    std::vector<uint8_t> data(1024);
    for (size_t i = 0; i < data.size(); ++i) data[i] = uint8_t(0xA5 ^ (i * 11));
    f.q.memwrite(0x30000, data);
    f.specify(0xDF, 0x02);
    f.seek(1);
    f.dma(false, 0x30000, 1024);
    f.data_command(kCmdWriteMfm, 0x04, 1, 1, 5, 2, 18);
    const auto r = f.result7();
    EXPECT_EQ(r[0], 0x04);
    EXPECT_EQ(r[1], 0x00);
    EXPECT_EQ((std::vector<uint8_t>{r[3], r[4], r[5]}), (std::vector<uint8_t>{1, 1, 7}));
    f.qmp_ok("{'execute':'eject', 'arguments':{'device':'floppy0'}}");
    const auto after = read_file(img);
    ASSERT_EQ(after.size(), before.size()) << "the file never grows";
    const uint32_t first = lba144(1, 1, 5);
    EXPECT_EQ(std::vector<uint8_t>(after.begin() + first * 512, after.begin() + (first + 2) * 512),
              data);
    EXPECT_TRUE(std::equal(after.begin(), after.begin() + first * 512, before.begin()))
        << "nothing before changed";
    EXPECT_TRUE(std::equal(after.begin() + (first + 2) * 512, after.end(),
                           before.begin() + (first + 2) * 512))
        << "nothing after changed";
}

// Write protect: IC=01, ST1 NW, before any data moves (§6.1 item 8; QEMU's DMA gives 0x60, Δ21).
TEST(FdcDma, WriteProtectedWriteEndsWithNotWritable) {
    ScratchDir d;
    const std::string img = make_image(d, "a.img", k144Bytes);
    const auto before = read_file(img);
    Fdc f("-machine pc -drive if=floppy,format=raw,readonly=on,file=" + img + kFast);
    ASSERT_TRUE(f.ok());
    f.specify(0xDF, 0x02);
    f.dma(false, 0x30000, 512);
    f.data_command(kCmdWriteMfm, 0x00, 0, 0, 1, 2, 18);
    const auto r = f.result7();
    EXPECT_EQ(r[0], 0x40);
    EXPECT_EQ(r[1], st1::kNw);
    EXPECT_EQ(f.dma_count(), 511) << "no byte taken from memory";
    // ST3 shows WP too.
    f.send_all({kCmdSenseDrive, 0x00});
    EXPECT_EQ(f.recv() & 0x40, 0x40);
    EXPECT_EQ(read_file(img), before);
}

// Wrong data rate for the medium: no ID can be read, MA (§11).
TEST(FdcErrors, WrongDataRateGivesMissingAddressMark) {
    ScratchDir d;
    const std::string img = make_image(d, "a.img", k144Bytes);
    Fdc f("-machine pc -drive if=floppy,format=raw,file=" + img + kFast);
    ASSERT_TRUE(f.ok());
    f.specify(0xDF, 0x02);
    f.q.outb(kCcrPort, 0x02);  // 250 kbit/s: a 1.44 MB medium needs 500
    f.dma(true, 0x20000, 512);
    f.data_command(kCmdReadMfm, 0x00, 0, 0, 1, 2, 18);
    auto r = f.result7();
    EXPECT_EQ(r[0], 0x40);
    EXPECT_EQ(r[1], st1::kMa);
    EXPECT_EQ(f.dma_count(), 511);
    const IdResult id = read_id(f, kCmdReadIdMfm, 0x00);
    EXPECT_EQ(id.st0, 0x40);
    EXPECT_EQ(id.st1, st1::kMa);
    f.q.outb(kCcrPort, 0x00);  // the right rate: the same READ works
    f.data_command(kCmdReadMfm, 0x00, 0, 0, 1, 2, 18);
    r = f.result7();
    EXPECT_EQ(r[0], 0x00);
    EXPECT_EQ(r[1], 0x00);
}

// EOT below R: IC=01 + MA with no transfer (Δ22: QEMU's behaviour, CVE-2021-3507).
TEST(FdcErrors, EotBelowRGivesMissingAddressMark) {
    ScratchDir d;
    const std::string img = make_image(d, "a.img", k144Bytes);
    Fdc f("-machine pc -drive if=floppy,format=raw,file=" + img + kFast);
    ASSERT_TRUE(f.ok());
    f.specify(0xDF, 0x02);
    f.dma(true, 0x20000, 512);
    f.data_command(kCmdReadMfm, 0x00, 0, 0, 5, 2, 3);
    const auto r = f.result7();
    EXPECT_EQ(r[0], 0x40);
    EXPECT_EQ(r[1], st1::kMa);
    EXPECT_EQ(f.dma_count(), 511);
}

// MSR drive-busy bits (Δ5, DS): set from the seek until its SENSE INTERRUPT.
TEST(FdcRegisters, MsrDriveBusyUntilSenseInterrupt) {
    Fdc f(kTwoDrives + kFast);
    ASSERT_TRUE(f.ok());
    f.send_all({kCmdSeek, 0x01, 3});
    EXPECT_EQ(f.msr(), 0x82) << "RQM, drive 1 busy, CB clear";
    f.send(kCmdSenseInt);
    EXPECT_EQ(f.recv(), 0x21);
    EXPECT_EQ(f.recv(), 3);
    EXPECT_EQ(f.msr(), 0x80);
}

// DUMPREG in the datasheet layout (§5.2; QEMU's bytes 5–8 differ, Δ15).
TEST(FdcRegisters, DumpregBytes) {
    ScratchDir d;
    const std::string img = make_image(d, "a.img", k144Bytes);
    Fdc f("-machine pc -drive if=floppy,format=raw,file=" + img + kFast);
    ASSERT_TRUE(f.ok());
    f.specify(0xAF, 0x1E);  // HLT=0x0F, ND=0 (DMA)
    f.seek(5);
    f.send_all({kCmdPerpendicular, 0x85});
    f.dma(true, 0x20000, 512);
    f.data_command(kCmdReadMfm, 0x00, 5, 0, 1, 2, 18);
    f.result7();
    f.send(kCmdDumpreg);
    std::vector<uint8_t> r;
    for (int i = 0; i < 10; ++i) r.push_back(f.recv());
    EXPECT_EQ(f.msr(), 0x80);
    EXPECT_EQ(r, (std::vector<uint8_t>{5, 0, 0, 0, 0xAF, 0x1E, 18, 0x05, 0x20, 0x00}));
}

// Register commands answer without INT: VERSION 0x90, LOCK/UNLOCK 0x10/0x00, an invalid
// opcode 0x80, SENSE DRIVE STATUS 0x78 on an empty drive 0 (§4, §5, §10).
TEST(FdcRegisters, RegisterCommandsAndInvalidOpcodes) {
    Fdc f(kOneDrive + kFast);
    ASSERT_TRUE(f.ok());
    f.send(kCmdVersion);
    EXPECT_EQ(f.recv(), 0x90);
    f.send(0x94);
    EXPECT_EQ(f.recv(), 0x10) << "LOCK";
    f.send(0x14);
    EXPECT_EQ(f.recv(), 0x00) << "UNLOCK";
    for (uint8_t op : {uint8_t(0x18), uint8_t(0x2E), uint8_t(0x00), uint8_t(0xFF)}) {
        f.send(op);
        EXPECT_EQ(f.recv(), 0x80) << "invalid opcode " << int(op);
        EXPECT_EQ(f.msr(), 0x80);
    }
    f.send_all({kCmdSenseDrive, 0x00});
    EXPECT_EQ(f.recv(), 0x78) << "WP, T0, two-sided, ready bit on an empty drive";
    f.send_all({kCmdSenseDrive, 0x05});
    EXPECT_EQ(f.recv(), 0x7D) << "head 1, drive 1";
    EXPECT_FALSE(f.irq()) << "no register command raises INT";
}

// DIR in the PS/2 and Model 30 personalities (§2.8).
TEST(FdcRegisters, DirInPs2AndModel30Modes) {
    {
        Fdc f(kOneDrive + kFast + " -global isa-fdc.mode=ps2");
        ASSERT_TRUE(f.ok());
        EXPECT_EQ(f.dir(), 0xF8) << "DSKCHG, 1111, rate 00, nHIGH DENS 0";
        f.q.outb(kCcrPort, 0x02);
        EXPECT_EQ(f.dir(), 0xFD) << "rate 10, nHIGH DENS 1";
    }
    {
        ScratchDir d;
        const std::string img = make_image(d, "a.img", k144Bytes, false);
        Fdc f(kOneDrive + kFast + " -global isa-fdc.mode=model30");
        ASSERT_TRUE(f.ok());
        EXPECT_EQ(f.dir(), 0x08) << "nDSKCHG 0 (changed), DMA GATE";
        f.media_insert(img);
        f.seek(1);
        EXPECT_EQ(f.dir(), 0x88) << "nDSKCHG 1 after a step with a disk";
    }
}

// Implied seek only with CONFIGURE EIS=1 (Δ19): without it the head stays on cylinder 0 and the
// IDs there carry another C: ND with ST2 WC. With it the head moves, PCN follows, ST0 SE.
TEST(FdcRegisters, ImpliedSeekOnlyWithEis) {
    ScratchDir d;
    const std::string img = make_image(d, "a.img", k144Bytes);
    const auto image = read_file(img);
    Fdc f("-machine pc -drive if=floppy,format=raw,file=" + img + kFast);
    ASSERT_TRUE(f.ok());
    f.specify(0xDF, 0x02);
    f.dma(true, 0x20000, 512);
    f.data_command(kCmdReadMfm, 0x00, 3, 0, 1, 2, 18);
    auto r = f.result7();
    EXPECT_EQ(r[0], 0x40);
    EXPECT_EQ(r[1], st1::kNd);
    EXPECT_EQ(r[2], 0x10) << "WC";
    f.send_all({0x13, 0x00, 0x60, 0x00});  // CONFIGURE: EIS=1, FIFO off, polling on
    f.dma(true, 0x20000, 512);
    f.data_command(kCmdReadMfm, 0x00, 3, 0, 1, 2, 18);
    r = f.result7();
    EXPECT_EQ(r[0], st0::kSe) << "IC=00 with SE: the implied seek ran";
    EXPECT_EQ(r[1], 0x00);
    EXPECT_EQ(f.q.memread(0x20000, 512), sector_of(image, lba144(3, 0, 1)));
    f.send(kCmdDumpreg);
    EXPECT_EQ(f.recv(), 3) << "PCN follows the implied seek";
    for (int i = 0; i < 9; ++i) f.recv();
}

// PIO WRITE (Δ20/Δ26): MSR 0xB0 per byte, IC=01 + EN at EOT, the bytes in the file.
TEST(FdcPio, WriteOneSector) {
    ScratchDir d;
    const std::string img = make_image(d, "a.img", k144Bytes);
    const auto before = read_file(img);
    Fdc f("-machine pc -drive if=floppy,format=raw,file=" + img + kFast);
    ASSERT_TRUE(f.ok());
    f.specify(0xDF, 0x03);
    f.seek(2);
    f.data_command(kCmdWriteMfm, 0x00, 2, 0, 7, 2, 7);
    std::vector<uint8_t> data(512);
    size_t bad_msr = 0;
    for (size_t i = 0; i < data.size(); ++i) {
        data[i] = uint8_t(i * 5 + 3);
        if (f.msr() != 0xB0) ++bad_msr;
        f.q.outb(kFifoPort, data[i]);
    }
    EXPECT_EQ(bad_msr, 0u) << "RQM, NON-DMA, CB with DIO=0 before every byte";
    EXPECT_EQ(f.msr(), 0xD0);
    const auto r = f.result7();
    EXPECT_EQ(r[0], 0x40);
    EXPECT_EQ(r[1], st1::kEn);
    EXPECT_EQ((std::vector<uint8_t>{r[3], r[4], r[5]}), (std::vector<uint8_t>{2, 0, 7}))
        << "EN: the last sector";
    f.media_eject("floppy0", "device");
    const auto after = read_file(img);
    EXPECT_EQ(sector_of(after, lba144(2, 0, 7)), data);
    EXPECT_EQ(sector_of(after, lba144(2, 0, 8)), sector_of(before, lba144(2, 0, 8)));
}

// FORMAT TRACK really formats (Δ11, DS): every sector of the track holds the fill byte.
TEST(FdcFormat, FormatTrackFillsTheTrack) {
    ScratchDir d;
    const std::string img = make_image(d, "a.img", k144Bytes);
    const auto before = read_file(img);
    Fdc f("-machine pc -drive if=floppy,format=raw,file=" + img + kFast);
    ASSERT_TRUE(f.ok());
    std::vector<uint8_t> ids;
    for (uint8_t r = 1; r <= 18; ++r) ids.insert(ids.end(), {3, 1, r, 2});
    f.q.memwrite(0x40000, ids);
    f.specify(0xDF, 0x02);
    f.seek(3);
    f.dma(false, 0x40000, uint16_t(ids.size()));
    f.send_all({kCmdFormatMfm, 0x04, 2, 18, 0x6C, 0xE5});
    ASSERT_NE(f.step_until_irq(f.now() + 2000 * kMs), -1);
    const auto r = f.result7();
    EXPECT_EQ(r[0], 0x04) << "IC=00, head 1";
    EXPECT_EQ(r[1], 0x00);
    f.media_eject("floppy0", "device");
    const auto after = read_file(img);
    const uint32_t first = lba144(3, 1, 1);
    EXPECT_TRUE(std::all_of(after.begin() + first * 512, after.begin() + (first + 18) * 512,
                            [](uint8_t b) { return b == 0xE5; }));
    EXPECT_TRUE(std::equal(after.begin(), after.begin() + first * 512, before.begin()));
    EXPECT_TRUE(std::equal(after.begin() + (first + 18) * 512, after.end(),
                           before.begin() + (first + 18) * 512));
}

// A track the image cannot represent (SC beyond the medium) is refused with EN (§6.4).
TEST(FdcFormat, FormatBeyondTheMediumIsRefused) {
    ScratchDir d;
    const std::string img = make_image(d, "a.img", k144Bytes);
    const auto before = read_file(img);
    Fdc f("-machine pc -drive if=floppy,format=raw,file=" + img + kFast);
    ASSERT_TRUE(f.ok());
    f.specify(0xDF, 0x02);
    f.dma(false, 0x40000, 19 * 4);
    f.send_all({kCmdFormatMfm, 0x00, 2, 19, 0x6C, 0xE5});
    ASSERT_NE(f.step_until_irq(f.now() + 2000 * kMs), -1);
    const auto r = f.result7();
    EXPECT_EQ(r[0] & st0::kIc, st0::kIcAbnormal);
    EXPECT_EQ(r[1], st1::kEn);
    f.media_eject("floppy0", "device");
    EXPECT_EQ(read_file(img), before);
}

// system_reset over QMP is a hardware reset: PCN 0, ND=0, DOR back to the firmware value,
// pending interrupt gone.
TEST(FdcReset, SystemResetOverQmpResetsTheController) {
    Fdc f(kOneDrive + kFast);
    ASSERT_TRUE(f.ok());
    f.specify(0xAF, 0x03);
    f.send_all({kCmdSeek, 0x00, 7});
    EXPECT_TRUE(f.irq());
    f.q.outb(kDorPort, 0x1D);
    f.qmp_ok("{'execute':'system_reset'}");
    EXPECT_FALSE(f.irq());
    EXPECT_EQ(f.q.inb(kDorPort), 0x0C);
    EXPECT_EQ(f.msr(), 0x80);
    f.send(kCmdSenseInt);
    EXPECT_EQ(f.recv(), 0x80) << "the seek's status is gone";
    f.send(kCmdDumpreg);
    std::vector<uint8_t> r;
    for (int i = 0; i < 10; ++i) r.push_back(f.recv());
    EXPECT_EQ(r[0], 0) << "PCN";
    EXPECT_EQ(r[5] & 1, 0) << "ND=0 after a hardware reset";
    EXPECT_EQ(r[8], 0x20) << "CONFIGURE defaults";
}

// The portable reset preamble (Δ3): DOR 0x08 then 0x0C, one INT, four polling statuses.
TEST(FdcReset, DorResetPollsFourDrives) {
    Fdc f(kOneDrive + kFast);
    ASSERT_TRUE(f.ok());
    f.q.outb(kDorPort, 0x08);
    EXPECT_EQ(f.msr(), 0x00) << "held in reset";
    f.q.outb(kDorPort, 0x0C);
    f.q.clock_step(kMs);
    EXPECT_TRUE(f.irq());
    for (uint8_t u = 0; u < 4; ++u) {
        f.send(kCmdSenseInt);
        EXPECT_FALSE(f.irq()) << "INT drops at the first SIS";
        EXPECT_EQ(f.recv(), 0xC0 | u);
        f.recv();
    }
    f.send(kCmdSenseInt);
    EXPECT_EQ(f.recv(), 0x80);
}

// ============================================================================================
// Drives, media, CMOS, QMP
// ============================================================================================

// CMOS 0x10 and the equipment byte for several configurations (docs/hardware/media.md §5).
TEST(FdcCmos, DriveTypesForSeveralConfigurations) {
    ScratchDir d;
    const std::string i144 = make_image(d, "a144.img", k144Bytes, false);
    const std::string i720 = make_image(d, "a720.img", 737280, false);
    const std::string i288 = make_image(d, "a288.img", 2949120, false);
    const std::string i120 = make_image(d, "a120.img", 1228800, false);
    struct Case {
        std::string args;
        uint8_t cmos10, equipment;  // equipment: bits 0 and 7-6 (bit 1, FPU, is the host's)
    } cases[] = {
        {"-machine pc", 0x50, 0x01},
        {"-machine pc -device floppy,id=floppy0", 0x50, 0x01},
        {"-machine pc -drive if=floppy,format=raw,file=" + i144, 0x40, 0x01},
        {"-machine pc -drive if=floppy,format=raw,file=" + i720, 0x40, 0x01},
        {"-machine pc -drive if=floppy,format=raw,file=" + i288, 0x50, 0x01},
        {"-machine pc -drive if=floppy,format=raw,file=" + i120, 0x20, 0x01},
        {"-machine pc -device floppy,drive-type=144", 0x40, 0x01},
        {"-machine pc -device floppy,drive-type=none", 0x00, 0x00},
        {"-machine pc -nodefaults", 0x00, 0x00},
        {"-machine pc -global isa-fdc.fallback=144", 0x40, 0x01},
        {"-machine pc -nodefaults -device floppy,drive-type=144 -device floppy,drive-type=120",
         0x42, 0x41},
        {"-machine pc -nodefaults -device floppy,unit=1,drive-type=720", 0x03, 0x01},
        {"-machine pc -drive if=floppy,index=1,format=raw,file=" + i144, 0x54, 0x41},
    };
    for (const Case &c : cases) {
        Fdc f(c.args + kFast);
        ASSERT_TRUE(f.ok()) << c.args;
        EXPECT_EQ(f.cmos(0x10), c.cmos10) << c.args;
        EXPECT_EQ(f.cmos(0x14) & 0xC1, c.equipment) << c.args;
        EXPECT_EQ(f.cmos(0x14) & 0x02, 0x02) << c.args << ": the FPU bit is kept";
    }
}

// A drive of the right type reads an image: PIO read of one sector, compared with the file.
std::vector<uint8_t> pio_read_sector(Fdc &f, uint8_t unit, uint8_t c, uint8_t h, uint8_t r) {
    f.specify(0xDF, 0x03);
    f.data_command(kCmdReadMfm, uint8_t(h << 2 | unit), c, h, r, 2, r);
    std::vector<uint8_t> got;
    while (f.msr() == 0xF0 && got.size() < 1024) got.push_back(f.q.inb(kFifoPort));
    const auto res = f.result7();
    EXPECT_EQ(res[0] & st0::kIc, st0::kIcAbnormal) << "PIO ends with EN (Δ20)";
    EXPECT_EQ(res[1], st1::kEn);
    return got;
}

TEST(FdcDrives, GlobalDriveAAttachesADriveToUnitZero) {
    ScratchDir d;
    const std::string img = make_image(d, "a.img", k144Bytes);
    const auto image = read_file(img);
    Fdc f("-machine pc -nodefaults -drive if=none,id=d0,format=raw,file=" + img +
          " -global isa-fdc.driveA=d0" + kFast);
    ASSERT_TRUE(f.ok());
    EXPECT_EQ(f.cmos(0x10), 0x40);
    EXPECT_EQ(pio_read_sector(f, 0, 0, 1, 3), sector_of(image, lba144(0, 1, 3)));
    const json blocks = f.query_block();
    ASSERT_EQ(blocks.size(), 1u) << blocks.dump();
    EXPECT_EQ(blocks[0]["device"], "d0");
    EXPECT_EQ(blocks[0]["inserted"]["file"], img);
}

TEST(FdcDrives, DriveIfFloppyIndexOneIsUnitOne) {
    ScratchDir d;
    const std::string img = make_image(d, "a.img", k144Bytes);
    const auto image = read_file(img);
    Fdc f("-machine pc -nodefaults -drive if=floppy,index=1,format=raw,file=" + img + kFast);
    ASSERT_TRUE(f.ok());
    EXPECT_EQ(f.cmos(0x10), 0x04);
    EXPECT_EQ(pio_read_sector(f, 1, 0, 0, 1), sector_of(image, 0));
    const json blocks = f.query_block();
    ASSERT_EQ(blocks.size(), 1u) << blocks.dump();
    EXPECT_EQ(blocks[0]["device"], "floppy1");
}

TEST(FdcDrives, DeviceFloppyWithADrive) {
    ScratchDir d;
    const std::string img = make_image(d, "a.img", 737280);
    const auto image = read_file(img);
    Fdc f("-machine pc -nodefaults -drive if=none,id=d7,format=raw,file=" + img +
          " -device floppy,id=fd7,unit=2,drive=d7,drive-type=144" + kFast);
    ASSERT_TRUE(f.ok());
    f.q.outb(kCcrPort, 0x02);  // 720 KB media: 250 kbit/s
    EXPECT_EQ(pio_read_sector(f, 2, 0, 1, 9), sector_of(image, (0 * 2 + 1) * 9 + 8));
}

TEST(FdcDrives, SnapshotOnKeepsTheFileUntouched) {
    ScratchDir d;
    const std::string img = make_image(d, "a.img", k144Bytes);
    const auto before = read_file(img);
    Fdc f("-machine pc -drive if=floppy,format=raw,snapshot=on,file=" + img + kFast);
    ASSERT_TRUE(f.ok());
    f.q.request("memset 0x30000 0x200 0x77");
    f.specify(0xDF, 0x02);
    f.dma(false, 0x30000, 512);
    f.data_command(kCmdWriteMfm, 0x00, 0, 0, 1, 2, 18);
    EXPECT_EQ(f.result7()[0], 0x00) << "the guest may write";
    f.dma(true, 0x31000, 512);
    f.data_command(kCmdReadMfm, 0x00, 0, 0, 1, 2, 18);
    f.result7();
    EXPECT_EQ(f.q.memread(0x31000, 512), std::vector<uint8_t>(512, 0x77))
        << "and reads back its write";
    f.media_eject("floppy0", "device");
    EXPECT_EQ(read_file(img), before) << "the file is untouched";
}

// query-block: QEMU's BlockInfo for each drive slot.
TEST(FdcQmp, QueryBlockShowsFloppy0) {
    ScratchDir d;
    const std::string img = make_image(d, "a.img", k144Bytes);
    Fdc f("-machine pc -drive if=floppy,format=raw,file=" + img + kFast);
    ASSERT_TRUE(f.ok());
    const json blocks = f.query_block();
    ASSERT_EQ(blocks.size(), 1u) << blocks.dump();
    const json &b = blocks[0];
    EXPECT_EQ(b["device"], "floppy0");
    EXPECT_EQ(b["removable"], true);
    EXPECT_EQ(b["locked"], false);
    EXPECT_EQ(b["type"], "unknown");
    EXPECT_EQ(b["tray_open"], false);
    ASSERT_TRUE(b.contains("inserted")) << b.dump();
    EXPECT_EQ(b["inserted"]["file"], img);
    EXPECT_EQ(b["inserted"]["ro"], false);
    EXPECT_EQ(b["inserted"]["drv"], "raw");
    EXPECT_EQ(b["inserted"]["image"]["virtual-size"], k144Bytes);
}

TEST(FdcQmp, QueryBlockOfDeviceFloppyAndMediaChanges) {
    ScratchDir d;
    const std::string img = make_image(d, "a.img", k144Bytes);
    Fdc f(kOneDrive + kFast);
    ASSERT_TRUE(f.ok());
    json blocks = f.query_block();
    ASSERT_EQ(blocks.size(), 1u) << blocks.dump();
    EXPECT_EQ(blocks[0]["device"], "") << "QEMU: a floppy without a -drive has no drive name";
    EXPECT_EQ(blocks[0]["qdev"], "floppy0");
    EXPECT_FALSE(blocks[0].contains("inserted"));
    f.qmp_ok("{'execute':'blockdev-change-medium', 'arguments':{'id':'floppy0', 'filename':'" +
             img + "', 'read-only-mode':'read-only'}}");
    blocks = f.query_block();
    ASSERT_TRUE(blocks[0].contains("inserted"));
    EXPECT_EQ(blocks[0]["inserted"]["file"], img);
    EXPECT_EQ(blocks[0]["inserted"]["ro"], true);
    // The guest sees the medium write-protected.
    f.specify(0xDF, 0x02);
    f.dma(false, 0x30000, 512);
    f.data_command(kCmdWriteMfm, 0x00, 0, 0, 1, 2, 18);
    EXPECT_EQ(f.result7()[1], st1::kNw);
    f.media_eject();
    EXPECT_FALSE(f.query_block()[0].contains("inserted"));
}

TEST(FdcQmp, QueryBlockOfTheDefaultDriveAndNodefaults) {
    {
        Fdc f("-machine pc" + kFast);
        ASSERT_TRUE(f.ok());
        const json blocks = f.query_block();
        ASSERT_EQ(blocks.size(), 1u) << blocks.dump();
        EXPECT_EQ(blocks[0]["device"], "floppy0");
        EXPECT_FALSE(blocks[0].contains("inserted"));
    }
    {
        Fdc f("-machine pc -nodefaults" + kFast);
        ASSERT_TRUE(f.ok());
        EXPECT_EQ(f.query_block(), json::array());
        EXPECT_EQ(f.q.inb(kDorPort), 0x0C) << "the controller is still there, with no drives";
    }
}

// eject: DSKCHG comes back; an empty drive ejects fine; an unknown one is DeviceNotFound.
TEST(FdcQmp, EjectSetsDiskChange) {
    ScratchDir d;
    const std::string img = make_image(d, "a.img", k144Bytes);
    Fdc f("-machine pc -drive if=floppy,format=raw,file=" + img + kFast);
    ASSERT_TRUE(f.ok());
    f.seek(1);
    EXPECT_EQ(f.dir() & dir::kDiskChange, 0);
    f.qmp_ok("{'execute':'eject', 'arguments':{'device':'floppy0'}}");
    EXPECT_EQ(f.dir() & dir::kDiskChange, dir::kDiskChange);
    f.qmp_ok("{'execute':'eject', 'arguments':{'device':'floppy0'}}");
    const json r = f.q.qmp("{'execute':'eject', 'arguments':{'device':'floppy9'}}");
    EXPECT_EQ(r["error"]["class"], "DeviceNotFound") << r.dump();
    // Re-inserting the same image (the drive held its lock) works.
    f.media_insert(img, "floppy0", "device");
    f.seek(2);
    EXPECT_EQ(f.dir() & dir::kDiskChange, 0);
    f.qmp_ok("{'execute':'blockdev-change-medium', 'arguments':{'device':'floppy0', 'filename':'" +
             img + "'}}");
    EXPECT_EQ(f.dir() & dir::kDiskChange, dir::kDiskChange) << "a change sets DSKCHG";
}

TEST(FdcQmp, ChangeMediumErrorsNameTheProblem) {
    ScratchDir d;
    const std::string i288 = make_image(d, "big.img", 2949120, false);
    Fdc f("-machine pc -nodefaults -device floppy,id=fd0,drive-type=144" + kFast);
    ASSERT_TRUE(f.ok());
    json r = f.q.qmp("{'execute':'blockdev-change-medium', 'arguments':{'id':'fd0', 'filename':'" +
                     d.path("none.img") + "'}}");
    EXPECT_EQ(r["error"]["class"], "GenericError") << r.dump();
    EXPECT_NE(r["error"]["desc"].get<std::string>().find("none.img"), std::string::npos)
        << r.dump();
    r = f.q.qmp("{'execute':'blockdev-change-medium', 'arguments':{'id':'fd0', 'filename':'" +
                i288 + "'}}");
    EXPECT_EQ(r["error"]["class"], "GenericError")
        << "a 2.88 MB medium in a 1.44 MB drive: " << r.dump();
    r = f.q.qmp("{'execute':'blockdev-change-medium', 'arguments':{'id':'fd0', 'filename':'" +
                i288 + "', 'format':'qcow2'}}");
    EXPECT_NE(r["error"]["desc"].get<std::string>().find("raw"), std::string::npos) << r.dump();
    EXPECT_FALSE(f.query_block()[0].contains("inserted"));
}

// ============================================================================================
// Start-up errors: the host exits 1 with a message naming the thing and the fix
// ============================================================================================

TEST(FdcStartup, BadConfigurationsAreRefusedWithAMessage) {
    ScratchDir d;
    const std::string i288 = make_image(d, "big.img", 2949120, false);
    const std::string i144 = make_image(d, "a.img", k144Bytes, false);
    struct Case {
        std::string args;
        std::vector<std::string> mentions;
    } cases[] = {
        {"-machine pc -drive if=floppy,format=raw,file=" + d.path("missing.img"),
         {"missing.img", "if=floppy"}},
        {"-machine pc -drive if=none,id=d,format=raw,file=" + i288 +
             " -device floppy,drive=d,drive-type=144",
         {"big.img"}},
        {"-machine pc -drive if=floppy,format=qcow2,file=" + i144, {"qcow2", "raw"}},
        {"-machine pc -device floppy,drive=nope", {"drive=nope", "-drive if=none,id=nope"}},
        {"-machine pc -global isa-fdc.iobase=0x3f1", {"iobase", "0x3f0"}},
        {"-machine pc -global isa-fdc.driveA=nope", {"driveA", "nope"}},
        {"-machine pc -device floppy,unit=0 -device floppy,unit=0", {"unit 0", "in use"}},
        {"-machine pc -nodefaults -device floppy -device floppy -device floppy -device floppy "
         "-device floppy",
         {"units", "in use"}},
        {"-machine pc -drive if=none,id=d,format=raw,file=" + i144 +
             " -device floppy,drive=d -device floppy,drive=d",
         {"in use"}},
    };
    for (const Case &c : cases) {
        auto [status, out] = run_host(c.args, 20);
        EXPECT_EQ(status, 1) << c.args << "\n" << out;
        for (const std::string &m : c.mentions)
            EXPECT_NE(out.find(m), std::string::npos) << c.args << "\n" << out;
    }
}

// ============================================================================================
// Accurate timing (docs/hardware/timing.md), on the virtual clock
// ============================================================================================

const std::string kAccurate = "";  // the default policy

// SEEK of n cylinders: n × (16 − SRT) × k ms (docs/hardware/timing.md §5), DRV BUSY meanwhile.
TEST(FdcTiming, SeekTakesStepsTimesStepRate) {
    ScratchDir d;
    const std::string img = make_image(d, "a.img", k144Bytes);
    Fdc f("-machine pc -drive if=floppy,format=raw,file=" + img + kAccurate);
    ASSERT_TRUE(f.ok());
    f.specify(0xDF, 0x02);  // SRT=D: 3 ms per step at 500 kbit/s
    f.q.outb(kDorPort, 0x1C);
    const int64_t t0 = f.now();
    f.send_all({kCmdSeek, 0x00, 10});
    EXPECT_EQ(f.msr(), 0x81) << "drive 0 busy, command phase free";
    f.q.clock_step(30 * kMs - 1000);
    EXPECT_FALSE(f.irq()) << "not before 10 x 3 ms";
    EXPECT_EQ(f.msr(), 0x81);
    const int64_t t = f.step_until_irq(t0 + 31 * kMs);
    ASSERT_NE(t, -1);
    EXPECT_NEAR(double(t - t0), 30.0 * kMs, 0.01 * 30 * kMs);
    auto [st0, pcn] = f.ack_irq();
    EXPECT_EQ(st0, 0x20);
    EXPECT_EQ(pcn, 10);

    // At 250 kbit/s the same SRT takes twice as long per step: 5 × 6 ms.
    f.q.outb(kCcrPort, 0x02);
    const int64_t t1 = f.now();
    f.send_all({kCmdSeek, 0x00, 5});
    const int64_t t2 = f.step_until_irq(t1 + 40 * kMs);
    ASSERT_NE(t2, -1);
    EXPECT_NEAR(double(t2 - t1), 30.0 * kMs, 0.01 * 30 * kMs);
    std::tie(st0, pcn) = f.ack_irq();
    EXPECT_EQ(pcn, 5);
}

// One 1.44 MB sector by DMA, motor switched on with the command: no ID before spin-up
// (300 ms), then sector 1's ID 146 bytes after the index, INT 574 bytes after that ID
// (docs/hardware/timing.md §3, §4, §6, §7). Then sector 10 in the same revolution, and sector 1
// again, which has just passed: one lost revolution.
TEST(FdcTiming, ReadOneSectorCompletesInTheAnalyticWindow) {
    ScratchDir d;
    const std::string img = make_image(d, "a.img", k144Bytes);
    const auto image = read_file(img);
    Fdc f("-machine pc -drive if=floppy,format=raw,file=" + img + kAccurate);
    ASSERT_TRUE(f.ok());
    f.specify(0xDF, 0x02);  // HUT=F (240 ms), HLT=1 (2 ms), DMA
    f.dma(true, 0x20000, 512);
    const int64_t t0 = f.now();
    f.q.outb(kDorPort, 0x1C);  // motor on
    f.data_command(kCmdReadMfm, 0x00, 0, 0, 1, 2, 18);
    EXPECT_EQ(f.msr(), msr::kCb) << "DMA execution";
    const int64_t spin_up = 300 * kMs, rev = 200 * kMs;
    const int64_t id_to_irq = 574 * kByte500k;  // 9.184 ms
    f.q.clock_step(spin_up);
    EXPECT_FALSE(f.irq()) << "no data before the spindle is at speed";
    int64_t t = f.step_until_irq(t0 + 2 * 1000 * kMs);
    ASSERT_NE(t, -1);
    // The general window: after spin-up, within one revolution, plus ID-to-INT and HLT.
    EXPECT_GE(t - t0, spin_up + id_to_irq);
    EXPECT_LE(t - t0, spin_up + rev + id_to_irq + 2 * kMs);
    // Exactly: the index at spin-up, sector 1's ID at byte 146.
    const int64_t index0 = t0 + spin_up;
    EXPECT_NEAR(double(t), double(index0 + 146 * kByte500k + id_to_irq), double(kByte500k));
    auto r = f.result7();
    EXPECT_EQ(r[0], 0x00);
    EXPECT_EQ(r[1], 0x00);
    EXPECT_EQ(f.q.memread(0x20000, 512), sector_of(image, 0));

    // Sector 10 of the same track: same revolution, slot 682 bytes (GPL 0x6C).
    const int64_t slot = 682 * kByte500k;
    f.dma(true, 0x20000, 512);
    f.data_command(kCmdReadMfm, 0x00, 0, 0, 10, 2, 18);
    t = f.step_until_irq(t0 + 2 * 1000 * kMs);
    ASSERT_NE(t, -1);
    EXPECT_NEAR(double(t), double(index0 + 146 * kByte500k + 9 * slot + id_to_irq),
                double(kByte500k));
    f.result7();
    EXPECT_EQ(f.q.memread(0x20000, 512), sector_of(image, 9));

    // Sector 1 has passed: it comes round one revolution after the first read's.
    f.dma(true, 0x20000, 512);
    f.data_command(kCmdReadMfm, 0x00, 0, 0, 1, 2, 18);
    t = f.step_until_irq(t0 + 2 * 1000 * kMs);
    ASSERT_NE(t, -1);
    EXPECT_NEAR(double(t), double(index0 + rev + 146 * kByte500k + id_to_irq), double(kByte500k));
    f.result7();
}

// A sector that does not exist: ND at the second index pulse after the search starts, i.e.
// between one and two revolutions (docs/hardware/timing.md §7).
TEST(FdcTiming, SectorNotFoundAfterTwoIndexPulses) {
    ScratchDir d;
    const std::string img = make_image(d, "a.img", k144Bytes);
    Fdc f("-machine pc -drive if=floppy,format=raw,file=" + img + kAccurate);
    ASSERT_TRUE(f.ok());
    f.specify(0xDF, 0x02);
    const int64_t motor = f.now();
    f.q.outb(kDorPort, 0x1C);
    const int64_t index0 = motor + 300 * kMs, rev = 200 * kMs, hlt = 2 * kMs;
    // Start 150 ms into a revolution, well after spin-up.
    f.q.clock_set(index0 + 3 * rev + 150 * kMs);
    const int64_t start = f.now();
    f.dma(true, 0x20000, 512);
    f.data_command(kCmdReadMfm, 0x00, 0, 0, 30, 2, 30);
    const int64_t t = f.step_until_irq(start + 1000 * kMs);
    ASSERT_NE(t, -1);
    EXPECT_GE(t - start, rev) << "at least one revolution";
    EXPECT_LE(t - start, 2 * rev + hlt) << "at most two (plus the head load)";
    EXPECT_NEAR(double(t), double(index0 + 5 * rev), double(kByte500k)) << "the second index pulse";
    const auto r = f.result7();
    EXPECT_EQ(r[0], 0x40);
    EXPECT_EQ(r[1], st1::kNd);
    EXPECT_EQ(r[5], 30);
}

// Where a 1.44 MB track's IDs pass under the head (docs/hardware/timing.md §3, §4): the index at
// the end of spin-up and every 200 ms after, sector R's ID 146 + (R − 1) × 682 bytes after the
// index, INT 574 bytes after the ID of the last sector read.
struct Track144 {
    int64_t index0;  // motor on + 300 ms
    static constexpr int64_t kRev = 200 * kMs, kSlot = 682 * kByte500k, kPre = 146 * kByte500k,
                             kIdToIrq = 574 * kByte500k;
    int64_t id_offset(unsigned r) const { return kPre + int64_t(r - 1) * kSlot; }
    // The first pass of sector R's ID at or after `from`.
    int64_t next_id(unsigned r, int64_t from) const {
        int64_t t = index0 + id_offset(r);
        while (t < from) t += kRev;
        return t;
    }
    int64_t irq_for(unsigned r, int64_t search_from) const {
        return next_id(r, search_from) + kIdToIrq;
    }
};

// HLT is waited only when the head is unloaded, and the head unloads HUT after a command
// (docs/hardware/timing.md §5): three reads whose INT times differ by a revolution if either
// rule breaks.
TEST(FdcTiming, HeadLoadOnlyWhenUnloaded) {
    ScratchDir d;
    const std::string img = make_image(d, "a.img", k144Bytes);
    Fdc f("-machine pc -drive if=floppy,format=raw,file=" + img + kAccurate);
    ASSERT_TRUE(f.ok());
    f.specify(0xD1, 0x64);  // HUT=1: 16 ms; HLT=50: 100 ms; DMA
    const int64_t hut = 16 * kMs, hlt = 100 * kMs;
    const int64_t motor = f.now();
    f.q.outb(kDorPort, 0x1C);
    const Track144 track{motor + 300 * kMs};
    f.q.clock_set(track.index0 + 3 * Track144::kRev + 100 * kMs);  // at speed, head unloaded

    auto read = [&](unsigned r) {
        f.dma(true, 0x20000, 512);
        f.data_command(kCmdReadMfm, 0x00, 0, 0, uint8_t(r), 2, 18);
        const int64_t t = f.step_until_irq(f.now() + 1000 * kMs);
        EXPECT_EQ(f.result7()[0], 0x00);
        return t;
    };
    int64_t c = f.now();
    int64_t t = read(1);
    EXPECT_NEAR(double(t), double(track.irq_for(1, c + hlt)), double(kByte500k))
        << "unloaded: HLT first";
    c = f.now();
    t = read(5);
    EXPECT_NEAR(double(t), double(track.irq_for(5, c)), double(kByte500k))
        << "still loaded: no HLT";
    f.q.clock_step(hut + 4 * kMs);
    c = f.now();
    t = read(9);
    EXPECT_NEAR(double(t), double(track.irq_for(9, c + hlt)), double(kByte500k))
        << "unloaded after HUT: HLT again";
    EXPECT_NE(track.irq_for(9, c + hlt), track.irq_for(9, c)) << "the case tells the two apart";
}

// A whole side in one command: sectors 1..18 take 17 slots + 574 bytes from sector 1's ID,
// 194.7 ms (docs/hardware/timing.md §7).
TEST(FdcTiming, EighteenSectorReadTakesOneTrack) {
    ScratchDir d;
    const std::string img = make_image(d, "a.img", k144Bytes);
    const auto image = read_file(img);
    Fdc f("-machine pc -drive if=floppy,format=raw,file=" + img + kAccurate);
    ASSERT_TRUE(f.ok());
    f.specify(0xDF, 0x02);
    const int64_t motor = f.now();
    f.q.outb(kDorPort, 0x1C);
    const Track144 track{motor + 300 * kMs};
    f.q.clock_set(track.index0 + Track144::kRev + 150 * kMs);
    f.dma(true, 0x20000, 18 * 512);
    const int64_t c = f.now();
    f.data_command(kCmdReadMfm, 0x00, 0, 0, 1, 2, 18);
    const int64_t t = f.step_until_irq(c + 1000 * kMs);
    ASSERT_NE(t, -1);
    const int64_t first_id = track.next_id(1, c + 2 * kMs);
    EXPECT_NEAR(double(t - first_id), 194.688 * kMs, 0.01 * 194.688 * kMs);
    EXPECT_NEAR(double(t - first_id), double(17 * Track144::kSlot + Track144::kIdToIrq),
                double(kByte500k));
    const auto r = f.result7();
    EXPECT_EQ(r[0], 0x00);
    EXPECT_EQ(r[1], 0x00);
    const auto mem = f.q.memread(0x20000, 18 * 512);
    EXPECT_EQ(mem, std::vector<uint8_t>(image.begin(), image.begin() + 18 * 512));
}

// Consecutive READ IDs report the IDs in on-disk order, one slot apart (906 bytes across the
// index gap: 78 bytes of gap 4b and the 146-byte preamble add to the slot's 682)
// (docs/hardware/timing.md §11).
TEST(FdcTiming, ReadIdSequenceFollowsTheRotation) {
    ScratchDir d;
    const std::string img = make_image(d, "a.img", k144Bytes);
    Fdc f("-machine pc -drive if=floppy,format=raw,file=" + img + kAccurate);
    ASSERT_TRUE(f.ok());
    f.specify(0xDF, 0x02);
    f.q.outb(kDorPort, 0x1C);
    f.q.clock_step(1000 * kMs);
    int64_t last_t = -1;
    uint8_t last_r = 0;
    for (int i = 0; i < 40; ++i) {
        f.send_all({kCmdReadIdMfm, 0x00});
        const int64_t t = f.step_until_irq(f.now() + 500 * kMs);
        ASSERT_NE(t, -1);
        const auto r = f.result7();
        EXPECT_EQ(r[0], 0x00);
        EXPECT_EQ(r[3], 0);
        const uint8_t sector = r[5];
        if (last_t >= 0) {
            EXPECT_EQ(sector, last_r % 18 + 1) << "on-disk order";
            const int64_t want = (sector == 1 ? 906 : 682) * kByte500k;
            EXPECT_NEAR(double(t - last_t), double(want), double(kByte500k))
                << "after sector " << int(last_r);
        }
        last_t = t;
        last_r = sector;
    }
}

// About 1000 single-sector reads at random rotational phases: the mean time from command to INT
// is T_rev/2 + 9.18 ms = 109.2 ms ± 2 ms (docs/hardware/timing.md §7, §11). Stratified random
// sampling keeps the sample mean well inside the tolerance: every sector 1..18 is read at 56
// phases, one drawn at random from each 1/56 of a revolution, in random order, on a random head.
TEST(FdcTiming, MeanLatencyOfRandomSingleSectorReads) {
    ScratchDir d;
    const std::string img = make_image(d, "a.img", k144Bytes);
    Fdc f("-machine pc -drive if=floppy,format=raw,file=" + img + kAccurate);
    ASSERT_TRUE(f.ok());
    f.specify(0xD0, 0x02);  // HUT=0: 256 ms, longer than any pause below, so no HLT after the first
    const int64_t motor = f.now();
    f.q.outb(kDorPort, 0x1C);
    const Track144 track{motor + 300 * kMs};
    std::mt19937 rng(1000);
    constexpr int kStrata = 56;
    struct Read {
        uint8_t sector, head;
        int64_t phase;
    };
    std::vector<Read> reads;
    for (int j = 0; j < kStrata; ++j)
        for (uint8_t r = 1; r <= 18; ++r) {
            const double u = std::uniform_real_distribution<double>(0, 1)(rng);
            reads.push_back(
                {r, uint8_t(rng() % 2), int64_t((j + u) * double(Track144::kRev) / kStrata)});
        }
    std::shuffle(reads.begin(), reads.end(), rng);
    reads.insert(reads.begin(), Read{1, 0, 0});  // loads the head; not counted
    double total = 0;
    const int64_t chunk = 2 * kMs;
    for (size_t i = 0; i < reads.size(); ++i) {
        const Read &rd = reads[i];
        int64_t c = track.index0 + rd.phase;
        while (c < f.now()) c += Track144::kRev;
        f.q.clock_set(c);
        f.dma(true, 0x20000, 512);
        f.data_command(kCmdReadMfm, uint8_t(rd.head << 2), 0, rd.head, rd.sector, 2, rd.sector);
        int64_t t = f.q.clock_step(8 * kMs);  // no read ends sooner than 9.18 ms
        while (!f.irq() && t - c < 600 * kMs) t = f.q.clock_step(chunk);
        ASSERT_TRUE(f.irq()) << "read " << i;
        const auto r = f.result7();
        ASSERT_EQ(r[0], uint8_t(rd.head << 2)) << "read " << i;
        if (i > 0) total += double(t - chunk / 2 - c);  // INT came within the last chunk
    }
    const double mean = total / double(reads.size() - 1);
    EXPECT_NEAR(mean, 109.18 * kMs, 2.0 * kMs);
    std::printf("mean command-to-INT over %zu reads: %.2f ms (analytic 109.18 ms)\n",
                reads.size() - 1, mean / kMs);
}

// A PIO host that stops reading: with the FIFO off, a byte that is not taken within one byte
// time is overrun, and the command ends IC=01 with ST1 OR (docs/hardware/82077aa.md §7,
// docs/hardware/timing.md §8).
TEST(FdcTiming, PioReadOverrunsWhenTheHostStalls) {
    ScratchDir d;
    const std::string img = make_image(d, "a.img", k144Bytes);
    const auto image = read_file(img);
    Fdc f("-machine pc -drive if=floppy,format=raw,file=" + img + kAccurate);
    ASSERT_TRUE(f.ok());
    f.specify(0xDF, 0x03);  // PIO
    f.q.outb(kDorPort, 0x1C);
    f.data_command(kCmdReadMfm, 0x00, 0, 0, 1, 2, 1);
    ASSERT_NE(f.step_until_irq(f.now() + 1000 * kMs), -1) << "INT follows RQM in PIO (Δ26)";
    EXPECT_EQ(f.msr(), 0xF0) << "a byte is ready";
    EXPECT_EQ(f.q.inb(kFifoPort), image[0]);
    f.q.clock_step(kMs);
    EXPECT_EQ(f.msr(), 0xD0) << "the command ended";
    const auto r = f.result7();
    EXPECT_EQ(r[0], 0x40);
    EXPECT_EQ(r[1], 0x10) << "OR";
}

// An eject during a command ends it abnormally (§12).
TEST(FdcTiming, EjectDuringACommandEndsItAbnormally) {
    ScratchDir d;
    const std::string img = make_image(d, "a.img", k144Bytes);
    Fdc f("-machine pc -drive if=floppy,format=raw,file=" + img + kAccurate);
    ASSERT_TRUE(f.ok());
    f.specify(0xDF, 0x02);
    f.dma(true, 0x20000, 512);
    f.data_command(kCmdReadMfm, 0x00, 0, 0, 1, 2, 18);  // motor off: waits for the spindle
    f.q.clock_step(500 * kMs);
    EXPECT_EQ(f.msr(), msr::kCb);
    EXPECT_FALSE(f.irq());
    f.media_eject("floppy0", "device");
    EXPECT_TRUE(f.irq());
    const auto r = f.result7();
    EXPECT_EQ(r[0] & (st0::kIc | 0x03), st0::kIcAbnormal);
    EXPECT_EQ(f.dir() & dir::kDiskChange, dir::kDiskChange);
}

}  // namespace
}  // namespace fdplug::test
