// An IMD medium in a drive of the controller core, which reads it through its tracks: sectors
// found by ID whatever the interleave, a data CRC error reported as one (ST1 DE, ST2 DD), and
// a guest's DMA write in the file after a flush.
#include <gtest/gtest.h>

#include "hw/block/media/imd_image.h"
#include "temp_dir.h"
#include "tests/support/expected_text.h"
#include "tests/support/imd_bytes.h"
#include "tests/unit/block/fdc_guest_ports.h"

namespace fdplug::floppy {
namespace {

using test::error_text;

using test::imd_data_record;
using test::ImdTrackSpec;
using test::standard_imd_track;

class ImdInDrive : public ::testing::Test, protected test::FdcGuestPorts {
  protected:
    test::TempDir dir;
    std::string path = dir.file("disk.imd");

    // A 1.44M disk whose track 0.0 is interleaved 2:1 and has a data error on R=3.
    void insert() {
        std::vector<ImdTrackSpec> tracks;
        for (uint8_t c = 0; c < 80; ++c)
            for (uint8_t h = 0; h < 2; ++h) tracks.push_back(standard_imd_track(c, h, 18, 2, 3));
        ImdTrackSpec &t0 = tracks[0];
        t0.r_map = {1, 10, 2, 11, 3, 12, 4, 13, 5, 14, 6, 15, 7, 16, 8, 17, 9, 18};
        for (size_t i = 0; i < 18; ++i)
            t0.records[i] = imd_data_record(t0.r_map[i] == 3 ? 5 : 1, 512, t0.r_map[i]);
        test::write_file(path, test::imd_file(tracks));

        fdc = std::make_unique<Fdc82077>(host, FdcConfig{FdcMode::At, TimingPolicy::Fast});
        host.fdc = fdc.get();
        fdc->drive(0).connect(DriveType::k144);
        auto opened = ImdImage::open({.path = path, .drive = DriveType::k144});
        ASSERT_TRUE(opened) << error_text(opened);
        fdc->insert_media(0, std::move(*opened));
    }
};

TEST_F(ImdInDrive, ReadsSectorsByIdAcrossTheInterleave) {
    insert();
    host.program_dma(DmaCycle::ToMemory, 1024);
    send({0xE6, 0x00, 0, 0, 1, 2, 18, 0x1B, 0xFF});
    ASSERT_TRUE(host.irq);
    EXPECT_EQ(result(), (std::vector<uint8_t>{0x00, 0x00, 0x00, 0, 0, 3, 2}));
    for (uint8_t r = 1; r <= 2; ++r) {
        const auto want = imd_data_record(1, 512, r);
        EXPECT_TRUE(std::equal(want.begin() + 1, want.end(), host.memory.begin() + (r - 1) * 512))
            << "R=" << int(r);
    }
}

TEST_F(ImdInDrive, ADataCrcErrorEndsTheReadWithDataError) {
    insert();
    host.program_dma(DmaCycle::ToMemory, 512);
    send({0xE6, 0x00, 0, 0, 3, 2, 18, 0x1B, 0xFF});
    ASSERT_TRUE(host.irq);
    const auto r = result();
    ASSERT_EQ(r.size(), 7u);
    EXPECT_EQ(r[0] & 0xC0, 0x40);  // abnormal termination
    EXPECT_EQ(r[1], 0x20);         // ST1 DE
    EXPECT_EQ(r[2], 0x20);         // ST2 DD
}

TEST_F(ImdInDrive, AGuestWriteIsInTheFileAfterAFlush) {
    insert();
    std::vector<uint8_t> data(512);
    for (size_t i = 0; i < data.size(); ++i) data[i] = uint8_t(i * 3 + 1);
    host.program_dma(DmaCycle::FromMemory, 512, data);
    send({0xC5, 0x04, 0, 1, 7, 2, 18, 0x1B, 0xFF});
    ASSERT_TRUE(host.irq);
    EXPECT_EQ(result()[0] & 0xC0, 0x00);
    std::unique_ptr<DiskImage> medium = fdc->eject_media(0);
    ASSERT_EQ(error_text(medium->flush()), "");
    medium.reset();

    auto again = ImdImage::open({.path = path, .read_only = true});
    ASSERT_TRUE(again) << error_text(again);
    std::array<uint8_t, 512> back;
    ASSERT_EQ((*again)->read_sector(0, 1, 7, back), MediaStatus::Ok);
    EXPECT_TRUE(std::equal(back.begin(), back.end(), data.begin()));
}

}  // namespace
}  // namespace fdplug::floppy
