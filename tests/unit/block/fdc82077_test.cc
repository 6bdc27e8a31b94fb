// Controller core against a fake host: registers, commands, data paths and timing.
#include "hw/block/fdc/fdc82077.h"

#include <gtest/gtest.h>

#include <numeric>

#include "hw/block/media/floppy_formats.h"
#include "hw/block/media/memory_image.h"
#include "tests/unit/block/fdc_guest_ports.h"

namespace fdplug::floppy::test {
namespace {

constexpr Geometry k144{80, 2, 18, DataRate::k500, 300, DriveType::k144, false};
constexpr Geometry k720{80, 2, 9, DataRate::k250, 300, DriveType::k144, false};

// Each byte of the image says where it is: sector LBA and offset.
std::vector<uint8_t> patterned(const Geometry &g) {
    std::vector<uint8_t> v(g.size_bytes());
    for (size_t i = 0; i < v.size(); ++i) v[i] = uint8_t((i / 512) * 7 + (i % 512));
    return v;
}

class Fdc : public ::testing::Test, protected FdcGuestPorts {
  protected:
    MemoryImage *image = nullptr;

    void make(TimingPolicy timing, const Geometry &g = k144, bool read_only = false,
              bool media = true) {
        fdc = std::make_unique<Fdc82077>(host, FdcConfig{FdcMode::At, timing});
        host.fdc = fdc.get();
        fdc->drive(0).connect(DriveType::k144);
        fdc->drive(1).connect(DriveType::k144);
        if (media) {
            auto m = std::make_unique<MemoryImage>(g, patterned(g), read_only);
            image = m.get();
            fdc->insert_media(0, std::move(m));
        }
    }
    void motor_on_and_spin(unsigned unit = 0) {
        out(kDor, uint8_t(0x0C | unit | (0x10 << unit)));
        host.advance(400 * kNsPerMs);
    }
};

TEST_F(Fdc, PowerOnRegistersAreTheFirmwareState) {
    make(TimingPolicy::Fast, k144, false, false);
    EXPECT_EQ(in(kMsr), 0x80);
    EXPECT_EQ(in(kDor), 0x0C);
    EXPECT_EQ(in(kDir), 0x80) << "empty drive shows DSKCHG";
    EXPECT_EQ(in(kSra), 0xFF) << "SRA is not driven in AT mode";
    EXPECT_EQ(in(kSrb), 0xFF);
    EXPECT_FALSE(host.irq);
    send({0x08});
    EXPECT_EQ(result(), (std::vector<uint8_t>{0x80})) << "nothing pending after power-on";
}

TEST_F(Fdc, VersionLockInvalidAndDumpreg) {
    make(TimingPolicy::Fast);
    send({0x10});
    EXPECT_EQ(result(), (std::vector<uint8_t>{0x90}));
    send({0x94});
    EXPECT_EQ(result(), (std::vector<uint8_t>{0x10}));
    send({0x14});
    EXPECT_EQ(result(), (std::vector<uint8_t>{0x00}));
    for (uint8_t op : {0x00, 0x01, 0x18, 0x2E, 0x4E, 0x17, 0x33, 0x8E, 0xCD, 0xED, 0xFF}) {
        send({op});
        EXPECT_EQ(result(), (std::vector<uint8_t>{0x80})) << "opcode " << int(op);
        EXPECT_FALSE(host.irq) << "invalid opcodes raise no INT";
    }
    send({0x03, 0xDF, 0x02});        // SPECIFY
    send({0x13, 0x00, 0x57, 0x05});  // CONFIGURE: EIS, FIFO on, poll off, thr 7, pretrk 5
    send({0x12, 0x80 | 0x14});       // PERPENDICULAR OW, D1 D3
    send({0x0E});
    EXPECT_EQ(result(), (std::vector<uint8_t>{0, 0, 0, 0, 0xDF, 0x02, 0, 0x14, 0x57, 0x05}));
}

TEST_F(Fdc, ResetPollsFourDrivesThenNothing) {
    make(TimingPolicy::Accurate);
    out(kDor, 0x08);
    EXPECT_EQ(in(kMsr), 0x00) << "held in reset";
    out(kDor, 0x0C);
    EXPECT_FALSE(host.irq);
    host.advance(kResetToPollNs);
    EXPECT_TRUE(host.irq);
    for (uint8_t u = 0; u < 4; ++u) {
        auto r = sis();
        ASSERT_EQ(r.size(), 2u);
        EXPECT_EQ(r[0], 0xC0 | u);
        EXPECT_FALSE(host.irq) << "INT drops at the first SENSE INTERRUPT";
    }
    EXPECT_EQ(sis(), (std::vector<uint8_t>{0x80}));
}

TEST_F(Fdc, SoftwareResetKeepsSpecifyAndRestoresConfigureUnlessLocked) {
    make(TimingPolicy::Fast);
    send({0x03, 0xAF, 0x1E});
    send({0x13, 0x00, 0x4A, 0x09});
    out(kDsr, 0x80);
    for (int i = 0; i < 4; ++i) sis();
    send({0x0E});
    auto r = result();
    EXPECT_EQ(r[4], 0xAF);
    EXPECT_EQ(r[5], 0x1E);
    EXPECT_EQ(r[8], 0x20) << "CONFIGURE back to its defaults";
    send({0x94});
    result();
    send({0x13, 0x00, 0x4A, 0x09});
    out(kDsr, 0x80);
    for (int i = 0; i < 4; ++i) sis();
    send({0x0E});
    r = result();
    EXPECT_EQ(r[8], 0x0A) << "LOCK keeps EFIFO and FIFOTHR; EIS back to 0";
    EXPECT_EQ(r[9], 0x09) << "LOCK keeps PRETRK";
}

TEST_F(Fdc, SeekTakesStepRateTimesDistanceAndReportsSeekEnd) {
    make(TimingPolicy::Accurate);
    send({0x03, 0xDF, 0x02});  // SRT=D: 3 ms at 500 kbit/s
    const int64_t t0 = host.now;
    send({0x0F, 0x00, 10});
    EXPECT_EQ(in(kMsr), 0x81) << "idle, drive 0 busy";
    const int64_t t = host.run_until_irq(kNsPerMs * 1000);
    EXPECT_EQ(t - t0, 30 * kNsPerMs);
    EXPECT_EQ(sis(), (std::vector<uint8_t>{0x20, 10}));
    EXPECT_EQ(in(kMsr), 0x80);
    EXPECT_EQ(fdc->drive(0).cylinder(), 10u);
    EXPECT_EQ(in(kDir), 0x00) << "a step with a disk present clears DSKCHG";
}

TEST_F(Fdc, SeekAtTheSlowerRateScalesTheStepTime) {
    make(TimingPolicy::Accurate, k720);
    out(kCcr, 2);              // 250 kbit/s: k = 2
    send({0x03, 0xDF, 0x02});  // 6 ms per step
    const int64_t t0 = host.now;
    send({0x0F, 0x00, 5});
    EXPECT_EQ(host.run_until_irq(kNsPerMs * 1000) - t0, 30 * kNsPerMs);
}

TEST_F(Fdc, DataCommandToASeekingDriveStartsWhenTheSeekEnds) {
    make(TimingPolicy::Accurate);
    send({0x03, 0xDF, 0x02});  // 3 ms per step
    motor_on_and_spin();
    send({0x0F, 0x00, 4});  // 12 ms seek
    host.program_dma(DmaCycle::ToMemory, 512);
    send({0x46, 0x00, 4, 0, 1, 2, 18, 0x1B, 0xFF});
    host.advance(kNsPerMs * 1000);
    EXPECT_EQ(result(), (std::vector<uint8_t>{0x00, 0x00, 0x00, 4, 0, 2, 2}))
        << "the read waited for the seek, then ran on cylinder 4";
    EXPECT_EQ(sis(), (std::vector<uint8_t>{0x20, 4})) << "the seek's own status is still there";
}

TEST_F(Fdc, RecalibrateFromBeyondTheStepLimitFailsWithEquipmentCheck) {
    make(TimingPolicy::Fast);
    send({0x0F, 0x00, 82});
    sis();
    send({0x07, 0x00});
    auto r = sis();
    EXPECT_EQ(r[0], 0x70) << "IC=01, SE, EC after 79 pulses";
    send({0x07, 0x00});
    r = sis();
    EXPECT_EQ(r, (std::vector<uint8_t>{0x20, 0}));
}

TEST_F(Fdc, RelativeSeekOutPastTrackZeroSetsEquipmentCheck) {
    make(TimingPolicy::Fast);
    send({0x0F, 0x00, 3});
    sis();
    send({0x8F, 0x00, 2});
    EXPECT_EQ(sis(), (std::vector<uint8_t>{0x20, 1}));
    send({0xCF, 0x00, 4});
    EXPECT_EQ(sis(), (std::vector<uint8_t>{0x20, 5}));
    send({0x8F, 0x00, 9});
    EXPECT_EQ(sis()[0], 0x70);
}

TEST_F(Fdc, DmaReadOfTwoSectorsEndsByTerminalCount) {
    make(TimingPolicy::Fast);
    host.program_dma(DmaCycle::ToMemory, 1024);
    send({0xE6, 0x00, 0, 0, 1, 2, 18, 0x1B, 0xFF});
    ASSERT_TRUE(host.irq);
    EXPECT_EQ(result(), (std::vector<uint8_t>{0x00, 0x00, 0x00, 0, 0, 3, 2}));
    EXPECT_FALSE(host.irq) << "INT drops with the last result byte";
    const auto &img = image->bytes();
    EXPECT_TRUE(std::equal(host.memory.begin(), host.memory.end(), img.begin()));
}

TEST_F(Fdc, DmaReadMultiTrackCrossesToHeadOne) {
    make(TimingPolicy::Fast);
    host.program_dma(DmaCycle::ToMemory, 19 * 512);
    send({0xC6, 0x00, 0, 0, 18, 2, 18, 0x1B, 0xFF});
    // Sector 18 of head 0, then head 1 sectors 1..18: TC after head 1 sector 18.
    EXPECT_EQ(result(), (std::vector<uint8_t>{0x04, 0x00, 0x00, 1, 0, 1, 2}));
    const auto &img = image->bytes();
    EXPECT_TRUE(std::equal(host.memory.begin(), host.memory.end(), img.begin() + 17 * 512));
}

TEST_F(Fdc, DmaCountLongerThanTheTrackEndsWithEndOfCylinder) {
    make(TimingPolicy::Fast);
    host.program_dma(DmaCycle::ToMemory, 4 * 512);
    send({0x46, 0x00, 0, 0, 17, 2, 18, 0x1B, 0xFF});
    // EN: C/H/R name the last sector transferred (docs/hardware/82077aa.md §6.5).
    EXPECT_EQ(result(), (std::vector<uint8_t>{0x40, 0x80, 0x00, 0, 0, 18, 2}));
}

TEST_F(Fdc, PioReadEndsAtEotWithEndOfCylinder) {
    make(TimingPolicy::Fast);
    send({0x03, 0xDF, 0x03});  // ND=1: PIO
    send({0x46, 0x00, 0, 0, 1, 2, 1, 0x1B, 0xFF});
    std::vector<uint8_t> data;
    while ((in(kMsr)&0xF0) == 0xF0) data.push_back(in(kFifo));
    ASSERT_EQ(data.size(), 512u);
    EXPECT_TRUE(std::equal(data.begin(), data.end(), image->bytes().begin()));
    EXPECT_TRUE(host.irq);
    EXPECT_EQ(result(), (std::vector<uint8_t>{0x40, 0x80, 0x00, 0, 0, 1, 2}));
}

TEST_F(Fdc, DmaWriteReachesTheMedium) {
    make(TimingPolicy::Fast);
    std::vector<uint8_t> data(1024);
    std::iota(data.begin(), data.end(), uint8_t(3));
    send({0x0F, 0x00, 2});
    sis();
    host.program_dma(DmaCycle::FromMemory, 1024, data);
    send({0x45, 0x04, 2, 1, 5, 2, 18, 0x1B, 0xFF});
    EXPECT_EQ(result(), (std::vector<uint8_t>{0x04, 0x00, 0x00, 2, 1, 7, 2})) << "ST0 names head 1";
    const size_t off = ((2 * 2 + 1) * 18 + 4) * 512;
    EXPECT_TRUE(std::equal(data.begin(), data.end(), image->bytes().begin() + off));
}

TEST_F(Fdc, WriteToAProtectedMediumFailsBeforeAnyData) {
    make(TimingPolicy::Fast, k144, true);
    const auto before = image->bytes();
    host.program_dma(DmaCycle::FromMemory, 512, std::vector<uint8_t>(512, 0xAA));
    send({0x45, 0x00, 0, 0, 1, 2, 18, 0x1B, 0xFF});
    EXPECT_EQ(result(), (std::vector<uint8_t>{0x40, 0x02, 0x00, 0, 0, 1, 2}));
    EXPECT_EQ(image->bytes(), before);
    EXPECT_EQ(host.dma_pos, 0u);
}

TEST_F(Fdc, EmptyDriveEndsAtOnceWithMissingAddressMark) {
    make(TimingPolicy::Accurate, k144, false, false);
    send({0x46, 0x01, 0, 0, 1, 2, 18, 0x1B, 0xFF});
    EXPECT_EQ(result(), (std::vector<uint8_t>{0x41, 0x01, 0x00, 0, 0, 1, 2}));
}

TEST_F(Fdc, EotBelowRAbortsWithoutTransfer) {
    make(TimingPolicy::Fast);
    host.program_dma(DmaCycle::ToMemory, 512);
    send({0x16, 0x00, 0, 0, 2, 2, 1, 0x1B, 0x00});
    EXPECT_EQ(result(), (std::vector<uint8_t>{0x40, 0x01, 0x00, 0, 0, 2, 2}));
    EXPECT_EQ(host.dma_pos, 0u);
}

TEST_F(Fdc, WrongDataRateFindsNoAddressMark) {
    make(TimingPolicy::Fast);
    out(kCcr, 2);
    send({0x46, 0x00, 0, 0, 1, 2, 18, 0x1B, 0xFF});
    EXPECT_EQ(result(), (std::vector<uint8_t>{0x40, 0x01, 0x00, 0, 0, 1, 2}));
}

TEST_F(Fdc, WrongCylinderGivesNoDataAndWrongCylinder) {
    make(TimingPolicy::Fast);
    send({0x46, 0x00, 5, 0, 1, 2, 18, 0x1B, 0xFF});
    EXPECT_EQ(result(), (std::vector<uint8_t>{0x40, 0x04, 0x10, 5, 0, 1, 2}));
}

TEST_F(Fdc, ImpliedSeekWhenEnabled) {
    make(TimingPolicy::Fast);
    send({0x13, 0x00, 0x60, 0x00});  // EIS
    host.program_dma(DmaCycle::ToMemory, 512);
    send({0x46, 0x00, 7, 0, 1, 2, 18, 0x1B, 0xFF});
    EXPECT_EQ(result(), (std::vector<uint8_t>{0x20, 0x00, 0x00, 7, 0, 2, 2}));
    EXPECT_EQ(fdc->pcn(0), 7);
}

TEST_F(Fdc, ImpliedSeekAlwaysSeeksWithoutConfigure) {
    fdc = std::make_unique<Fdc82077>(
        host, FdcConfig{FdcMode::At, TimingPolicy::Fast, ImpliedSeek::Always});
    host.fdc = fdc.get();
    fdc->drive(0).connect(DriveType::k144);
    auto m = std::make_unique<MemoryImage>(k144, patterned(k144));
    image = m.get();
    fdc->insert_media(0, std::move(m));
    host.program_dma(DmaCycle::ToMemory, 512);
    send({0x46, 0x00, 7, 0, 1, 2, 18, 0x1B, 0xFF});
    EXPECT_EQ(result(), (std::vector<uint8_t>{0x20, 0x00, 0x00, 7, 0, 2, 2}));
    EXPECT_EQ(fdc->pcn(0), 7);
    EXPECT_TRUE(
        std::equal(host.memory.begin(), host.memory.end(), image->bytes().begin() + 7 * 36 * 512));
}

// A 360 KB disk in a 1.2 MB drive lies on every other track (docs/hardware/media.md): Linux's
// driver seeks to PCN 2 for C = 1 and reads with C = 1. The adapter's `always` implied seek must
// not step the head back to PCN 1 (logical C0, so ND/WC); with EIS = 1 the chip's rule holds.
TEST_F(Fdc, ImpliedSeekAlwaysLeavesADoubleSteppedHeadAlone) {
    constexpr Geometry k360in120{40, 2, 9, DataRate::k300, 360, DriveType::k120, false};
    fdc = std::make_unique<Fdc82077>(
        host, FdcConfig{FdcMode::At, TimingPolicy::Fast, ImpliedSeek::Always});
    host.fdc = fdc.get();
    fdc->drive(0).connect(DriveType::k120);
    auto m = std::make_unique<MemoryImage>(k360in120, patterned(k360in120));
    image = m.get();
    fdc->insert_media(0, std::move(m));
    out(kCcr, 1);  // 300 kbit/s
    send({0x0F, 0x00, 2});
    host.run_until_irq(kNsPerMs * 100);
    send({0x08});
    EXPECT_EQ(result(), (std::vector<uint8_t>{0x20, 2}));
    host.program_dma(DmaCycle::ToMemory, 512);
    send({0x46, 0x00, 1, 0, 1, 2, 9, 0x23, 0xFF});
    EXPECT_EQ(result(), (std::vector<uint8_t>{0x00, 0x00, 0x00, 1, 0, 2, 2}))
        << "no SE: no implied seek";
    EXPECT_EQ(fdc->pcn(0), 2);
    EXPECT_TRUE(
        std::equal(host.memory.begin(), host.memory.end(), image->bytes().begin() + 18 * 512));
    // With EIS the datasheet rule: C = 1 differs from PCN 2, so the head steps to track 1,
    // which holds logical cylinder 0.
    send({0x13, 0x00, 0x40, 0x00});
    host.program_dma(DmaCycle::ToMemory, 512);
    send({0x46, 0x00, 1, 0, 1, 2, 9, 0x23, 0xFF});
    EXPECT_EQ(result(), (std::vector<uint8_t>{0x60, 0x04, 0x10, 1, 0, 1, 2}));
    EXPECT_EQ(fdc->pcn(0), 1);
}

TEST_F(Fdc, FormatFillsTheTrack) {
    make(TimingPolicy::Fast);
    std::vector<uint8_t> ids;
    for (uint8_t r = 1; r <= 18; ++r) ids.insert(ids.end(), {0, 1, r, 2});
    host.program_dma(DmaCycle::FromMemory, ids.size(), ids);
    send({0x4D, 0x04, 2, 18, 0x54, 0xE5});
    auto r = result();
    ASSERT_EQ(r.size(), 7u);
    EXPECT_EQ(r[0], 0x04);
    for (size_t i = 18 * 512; i < 36 * 512; ++i) ASSERT_EQ(image->bytes()[i], 0xE5) << i;
    EXPECT_NE(image->bytes()[0], 0xE5) << "head 0 untouched";
}

TEST_F(Fdc, FormatBeyondTheMediumIsRefused) {
    make(TimingPolicy::Fast);
    for (uint8_t sc : {0, 19, 255}) {
        send({0x4D, 0x00, 2, sc, 0x54, 0xE5});
        EXPECT_EQ(result(), (std::vector<uint8_t>{0x40, 0x80, 0x00, 0, 0, 0, 2})) << int(sc);
    }
}

TEST_F(Fdc, ReadIdCountsUpAndTakesTwentyMillisecondsWhenFast) {
    make(TimingPolicy::Fast);
    const int64_t t0 = host.now;
    send({0x4A, 0x00});
    EXPECT_FALSE(host.irq);
    EXPECT_EQ(host.run_until_irq(kNsPerMs * 100) - t0, 20 * kNsPerMs);
    EXPECT_EQ(result(), (std::vector<uint8_t>{0x00, 0x00, 0x00, 0, 0, 1, 2}));
    send({0x4A, 0x00});
    host.run_until_irq(kNsPerMs * 100);
    EXPECT_EQ(result()[5], 2);
}

TEST_F(Fdc, AccurateSectorReadIrqComesAtTheEndOfItsDataField) {
    make(TimingPolicy::Accurate);
    send({0x03, 0xDF, 0x02});
    motor_on_and_spin();
    host.program_dma(DmaCycle::ToMemory, 512);
    const TrackLayout L = track_layout(k144);
    const int64_t origin = fdc->drive(0).at_speed_ns();
    const int64_t rev = revolution_ns(300);
    const int64_t start = host.now;
    send({0x46, 0x00, 0, 0, 5, 2, 18, 0x1B, 0xFF});
    // Head unloaded: HLT=1 → 2 ms; then sector 5's ID passes; INT 574 bytes after it.
    const int64_t from = start + 2 * kNsPerMs;
    int64_t id = origin + L.ns(L.sector_start(5));
    while (id + L.ns(12) < from) id += rev;
    const int64_t t = host.run_until_irq(kNsPerMs * 1000);
    EXPECT_EQ(t, id + L.ns(574));
    EXPECT_EQ(result(), (std::vector<uint8_t>{0x00, 0x00, 0x00, 0, 0, 6, 2}));
    EXPECT_TRUE(
        std::equal(host.memory.begin(), host.memory.end(), image->bytes().begin() + 4 * 512));
}

TEST_F(Fdc, AccurateEighteenSectorsTakeSeventeenSlotsAndOneSector) {
    make(TimingPolicy::Accurate);
    motor_on_and_spin();
    host.program_dma(DmaCycle::ToMemory, 18 * 512);
    send({0x46, 0x00, 0, 0, 1, 2, 18, 0x1B, 0xFF});
    const TrackLayout L = track_layout(k144);
    // Find sector 1's ID time: the first pass after the command.
    const int64_t origin = fdc->drive(0).at_speed_ns();
    int64_t id = origin + L.ns(L.sector_start(1));
    const int64_t rev = revolution_ns(300);
    while (id + L.ns(12) < host.now + head_load_ns(0, DataRate::k500)) id += rev;
    const int64_t t = host.run_until_irq(kNsPerMs * 2000);
    EXPECT_NEAR(double(t - id), 194.7e6, 0.1e6);
    EXPECT_EQ(result()[0], 0x00);
    EXPECT_TRUE(std::equal(host.memory.begin(), host.memory.end(), image->bytes().begin()));
}

TEST_F(Fdc, AccurateSectorNotFoundGivesUpAfterTwoIndexPulses) {
    make(TimingPolicy::Accurate);
    send({0x03, 0xDF, 0x02});
    motor_on_and_spin();
    host.program_dma(DmaCycle::ToMemory, 512);
    const int64_t start = host.now;
    send({0x46, 0x00, 0, 0, 19, 2, 19, 0x1B, 0xFF});
    const int64_t t = host.run_until_irq(kNsPerMs * 1000);
    EXPECT_GE(t - start, 200 * kNsPerMs);
    EXPECT_LE(t - start, 402 * kNsPerMs);
    EXPECT_EQ(result(), (std::vector<uint8_t>{0x40, 0x04, 0x00, 0, 0, 19, 2}));
}

TEST_F(Fdc, AccurateMaskedDmaOverruns) {
    make(TimingPolicy::Accurate);
    motor_on_and_spin();
    send({0x46, 0x00, 0, 0, 1, 2, 18, 0x1B, 0xFF});
    EXPECT_EQ(in(kMsr), 0x10);
    host.run_until_irq(kNsPerMs * 1000);
    EXPECT_EQ(result()[1], 0x10) << "OR: nobody serviced DRQ";
}

TEST_F(Fdc, FastMaskedDmaWaitsInExecution) {
    make(TimingPolicy::Fast);
    send({0x46, 0x00, 0, 0, 1, 2, 18, 0x1B, 0xFF});
    host.advance(kNsPerMs * 1000);
    EXPECT_EQ(in(kMsr), 0x10);
    EXPECT_FALSE(host.irq);
}

// A read whose last byte the host leaves in the FIFO waits for it however long: the byte count
// of the stream must not multiply the wait by the byte clock (it overflowed after about 5 hours
// at 500 kbit/s; found by state_load_fuzz).
TEST_F(Fdc, AccurateReadLeftAtTheSectorEndForHoursStillGivesItsLastByte) {
    make(TimingPolicy::Accurate);
    motor_on_and_spin();
    send({0x03, 0xDF, 0x03});  // PIO
    send({0x46, 0x00, 0, 0, 1, 2, 1, 0x1B, 0xFF});
    unsigned got = 0;
    for (int guard = 0; guard < 1'000'000 && got < 511; ++guard) {
        if ((in(kMsr)&0xE0) == 0xE0) {  // RQM, DIO, NDM: a data byte
            (void)in(kFifo);
            ++got;
        } else {
            host.advance(1000);
        }
    }
    ASSERT_EQ(got, 511u);
    host.advance(int64_t(100) * 3600 * 1000 * kNsPerMs);  // 100 hours
    EXPECT_EQ(in(kMsr)&0xF0, 0xF0) << "the last byte still waits";
    (void)in(kFifo);
    EXPECT_GT(host.run_until_irq(kNsPerMs * 1000), 0);
    EXPECT_EQ(result()[0] & 0xC0, 0x40) << "no TC: EN at EOT";
}

TEST_F(Fdc, AccurateMotorOffMeansNoIndexAndTheCommandWaits) {
    make(TimingPolicy::Accurate);
    host.program_dma(DmaCycle::ToMemory, 512);
    send({0x46, 0x00, 0, 0, 1, 2, 18, 0x1B, 0xFF});
    host.advance(kNsPerMs * 2000);
    EXPECT_EQ(in(kMsr), 0x10) << "no rotation: still searching";
    out(kDor, 0x1C);
    EXPECT_GT(host.run_until_irq(kNsPerMs * 1000), 0);
    EXPECT_EQ(result()[0], 0x00);
}

TEST_F(Fdc, EjectDuringACommandEndsItAbnormally) {
    make(TimingPolicy::Fast);
    send({0x46, 0x00, 0, 0, 1, 2, 18, 0x1B, 0xFF});  // DMA masked: waits
    auto m = fdc->eject_media(0);
    ASSERT_TRUE(m);
    auto r = result();
    ASSERT_EQ(r.size(), 7u);
    EXPECT_EQ(r[0] & 0xC0, 0x40);
    EXPECT_EQ(in(kDir), 0x80);
}

TEST_F(Fdc, SenseDriveStatus) {
    make(TimingPolicy::Fast, k144, true);
    send({0x04, 0x00});
    EXPECT_EQ(result(), (std::vector<uint8_t>{0x78}));
    send({0x04, 0x05});
    EXPECT_EQ(result(), (std::vector<uint8_t>{0x7D})) << "empty drive 1: WP, T0, head 1";
}

// Linux's floppy driver with floppy=nodma ("pseudo-DMA", docs/hardware/82077aa.md §9.1): IRQ 6
// is edge-triggered, and on each rising edge of INT its handler moves bytes while MSR shows RQM
// and NON-DMA, until the count it was given runs out; then it reads MSR once more. NON-DMA clear
// means the result phase, which it hands to the driver; anything else, it returns and waits for
// the next edge. Its track commands are multi-track (MT) with EOT 18 and a count of one head's 18
// sectors, so the controller goes on to head 1 sector 1, which the handler never serves: the
// command can only end by an overrun, and only a fresh INT edge tells the handler so.
class FdcLinuxPio : public Fdc, public ::testing::WithParamInterface<TimingPolicy> {
  protected:
    static constexpr size_t kCount = 18 * 512;
    size_t count = kCount;                            // the handler's byte count
    static constexpr int64_t kIrqLatencyNs = 10'000;  // edge → the handler's first MSR read
    static constexpr int64_t kPerByteNs = 1'000;      // one pass of the handler's loop

    size_t seen = 0;    // INT edges the "PIC" has looked at
    int64_t last = -1;  // when the handler last moved a byte
    uint8_t final_msr = 0;

    void setup_like_linux() {
        make(GetParam());
        motor_on_and_spin();
        send({0x13, 0x00, 0x1A, 0x00});  // CONFIGURE: FIFO on, FIFOTHR 10, no polling
        send({0x03, 0xDF, 0x03});        // SPECIFY: ND = 1
    }
    // The next rising edge of INT at or after the last one looked at; -1 if none comes in `limit`.
    int64_t next_rise(int64_t limit) {
        const int64_t end = host.now + limit;
        for (;;) {
            while (seen < host.irq_edges.size())
                if (host.irq_edges[seen++].second) return host.irq_edges[seen - 1].first;
            if (host.now >= end) return -1;
            host.advance_to(std::min(host.deadline, end));
        }
    }
    // Runs the handler on every edge until it sees the result phase; `move` moves one byte.
    // Returns false (with a failure) when no edge comes.
    template <class Move>
    bool run_handler(size_t &moved, Move move) {
        for (unsigned runs = 0; runs < 100'000; ++runs) {
            if (next_rise(2'000 * kNsPerMs) < 0) {
                ADD_FAILURE() << "no INT edge after " << moved << " bytes; MSR " << int(in(kMsr));
                return false;
            }
            host.advance(kIrqLatencyNs);
            while (moved < count) {
                const uint8_t m = in(kMsr);
                if ((m & 0xA0) != 0xA0) break;
                EXPECT_TRUE(host.irq)
                    << "byte " << moved << " offered (MSR " << int(m) << ") with INT low";
                move(moved);
                ++moved;
                last = host.now;
                host.advance(kPerByteNs);
            }
            final_msr = in(kMsr);
            if (!(final_msr & 0x20)) {
                // The handler has handed the result on; an edge it has not looked at would be
                // an interrupt nobody expects (the driver logs "unexpected interrupt").
                for (size_t i = seen; i < host.irq_edges.size(); ++i)
                    EXPECT_FALSE(host.irq_edges[i].second)
                        << "INT rose at " << host.irq_edges[i].first << " after the result";
                return true;
            }
        }
        ADD_FAILURE() << "the handler never saw the result phase";
        return false;
    }
    // INT after the handler's last byte: the next byte's request may rise (it stays up under
    // fast, where the byte is there at once), then the request falls when the byte is lost and
    // INT rises again, at the same instant, for the result phase.
    void expect_overrun_edges() {
        std::vector<std::pair<int64_t, bool>> after;
        for (const auto &e : host.irq_edges)
            if (e.first > last) after.push_back(e);
        ASSERT_GE(after.size(), 2u);
        const auto fall = after[after.size() - 2], rise = after.back();
        EXPECT_FALSE(fall.second);
        EXPECT_TRUE(rise.second);
        EXPECT_EQ(fall.first, rise.first) << "the result phase follows the lost byte at once";
        if (GetParam() == TimingPolicy::Fast) {
            EXPECT_EQ(after.size(), 2u) << "under fast the request stays up until the overrun";
            // FIFO depth + 1 byte times at 500 kbit/s, less the 1.5 µs set-up, from the last byte.
            EXPECT_EQ(fall.first - last, 17 * 16'000 - 1'500 + 1);
        } else {
            ASSERT_EQ(after.size(), 3u) << "head 1 sector 1's request, its loss, the result";
            EXPECT_TRUE(after[0].second);
        }
    }
};

TEST_P(FdcLinuxPio, ReadPastTheCountOverrunsWithAFreshInterrupt) {
    setup_like_linux();
    send({0xE6, 0x00, 0, 0, 1, 2, 18, 0x1B, 0xFF});  // READ, MT MFM SK, C0 H0 R1, EOT 18
    std::vector<uint8_t> data;
    size_t moved = 0;
    ASSERT_TRUE(run_handler(moved, [&](size_t) { data.push_back(in(kFifo)); }));
    ASSERT_EQ(data.size(), kCount);
    EXPECT_TRUE(std::equal(data.begin(), data.end(), image->bytes().begin()));
    EXPECT_EQ(final_msr, 0xD0) << "result phase";
    EXPECT_TRUE(host.irq);
    expect_overrun_edges();
    // IC = 01, head 1; ST1 OR; C/H/R name head 1 sector 1, the sector lost, from which the driver
    // counts 18 sectors done.
    EXPECT_EQ(result(), (std::vector<uint8_t>{0x44, 0x10, 0x00, 0, 1, 1, 2}));
    EXPECT_FALSE(host.irq) << "INT falls with the last result byte";
    EXPECT_EQ(in(kMsr), 0x80);
}

TEST_P(FdcLinuxPio, WritePastTheCountUnderrunsWithAFreshInterruptAndWritesNothingMore) {
    setup_like_linux();
    std::vector<uint8_t> pattern(kCount);
    for (size_t i = 0; i < pattern.size(); ++i) pattern[i] = uint8_t(i * 13 + 5);
    const std::vector<uint8_t> before = image->bytes();
    send({0xC5, 0x00, 0, 0, 1, 2, 18, 0x1B, 0xFF});  // WRITE, MT MFM, C0 H0 R1, EOT 18
    size_t moved = 0;
    ASSERT_TRUE(run_handler(moved, [&](size_t i) { out(kFifo, pattern[i]); }));
    ASSERT_EQ(moved, kCount);
    EXPECT_EQ(final_msr, 0xD0) << "result phase";
    expect_overrun_edges();
    EXPECT_EQ(result(), (std::vector<uint8_t>{0x44, 0x10, 0x00, 0, 1, 1, 2}));
    const std::vector<uint8_t> &after = image->bytes();
    EXPECT_TRUE(std::equal(pattern.begin(), pattern.end(), after.begin())) << "head 0 written";
    EXPECT_TRUE(std::equal(after.begin() + kCount, after.end(), before.begin() + kCount))
        << "head 1 sector 1 got no byte and is not written";
}

// A whole cylinder (count 36 sectors): the command ends at head 1's EOT without TC, IC = 01 with
// EN, C/H/R naming the last sector. The driver counts the sectors done as
// ((C − C0)·heads + H − H0)·EOT + R − R0 + EN and warns ("long rw") when that is more than it
// asked for.
TEST_P(FdcLinuxPio, ReadOfACylinderEndsAtEotWithTheLastSector) {
    setup_like_linux();
    count = 2 * kCount;
    send({0xE6, 0x00, 0, 0, 1, 2, 18, 0x1B, 0xFF});
    std::vector<uint8_t> data;
    size_t moved = 0;
    ASSERT_TRUE(run_handler(moved, [&](size_t) { data.push_back(in(kFifo)); }));
    ASSERT_EQ(data.size(), count);
    EXPECT_TRUE(std::equal(data.begin(), data.end(), image->bytes().begin()));
    const std::vector<uint8_t> r = result();
    ASSERT_EQ(r, (std::vector<uint8_t>{0x44, 0x80, 0x00, 0, 1, 18, 2}));
    const int eoc = (r[1] & 0x80) ? 1 : 0;
    EXPECT_EQ(((r[3] - 0) * 2 + r[4] - 0) * 18 + r[5] - 1 + eoc, 36);
}

INSTANTIATE_TEST_SUITE_P(BothTimings, FdcLinuxPio,
                         ::testing::Values(TimingPolicy::Accurate, TimingPolicy::Fast),
                         [](const auto &info) {
                             return info.param == TimingPolicy::Fast ? "Fast" : "Accurate";
                         });

// A PIO write the host gives up in the middle of a sector still writes that sector, padded with
// zeros, under both timings (docs/hardware/82077aa.md §7).
TEST_P(FdcLinuxPio, WriteStoppedInsideASectorPadsItAndEndsWithOverrun) {
    setup_like_linux();
    send({0x45, 0x00, 0, 0, 1, 2, 18, 0x1B, 0xFF});  // WRITE, C0 H0 R1
    unsigned given = 0;
    for (int guard = 0; guard < 1'000'000 && given < 100; ++guard) {
        if ((in(kMsr)&0xE0) == 0xA0) {
            out(kFifo, 0xA5);
            ++given;
        } else {
            host.advance(1'000);
        }
    }
    ASSERT_EQ(given, 100u);
    // INT is up for the next byte; the command ends on its own.
    for (int guard = 0; guard < 100 && (in(kMsr)&0x20); ++guard)
        host.advance_to(std::min(host.deadline, host.now + 2'000 * kNsPerMs));
    ASSERT_EQ(in(kMsr), 0xD0) << "the write never underruns";
    EXPECT_TRUE(host.irq);
    EXPECT_EQ(result(), (std::vector<uint8_t>{0x40, 0x10, 0x00, 0, 0, 1, 2}));
    const std::vector<uint8_t> &m = image->bytes();
    EXPECT_TRUE(std::all_of(m.begin(), m.begin() + 100, [](uint8_t b) { return b == 0xA5; }));
    EXPECT_TRUE(std::all_of(m.begin() + 100, m.begin() + 512, [](uint8_t b) { return b == 0; }));
    EXPECT_EQ(m[512], patterned(k144)[512]) << "sector 2 untouched";
}

// VENOM (CVE-2015-3456): however many bytes a guest writes, the controller takes only what a
// command needs and stays resettable.
TEST_F(Fdc, EveryOpcodeFollowedByTenThousandBytesIsHarmless) {
    make(TimingPolicy::Fast);
    for (unsigned op = 0; op < 256; ++op) {
        out(kFifo, uint8_t(op));
        for (int i = 0; i < 10000; ++i) {
            out(kFifo, uint8_t(i * 31 + op));
            if (i % 1000 == 0) out(kDsr, 0x00);
        }
        for (int i = 0; i < 40; ++i) in(kFifo);
        out(kDor, 0x08);
        out(kDor, 0x0C);
        for (int i = 0; i < 4; ++i) sis();
        send({0x10});
        ASSERT_EQ(result(), (std::vector<uint8_t>{0x90})) << "opcode " << op;
        ASSERT_EQ(in(kMsr), 0x80);
    }
}

}  // namespace
}  // namespace fdplug::floppy::test
