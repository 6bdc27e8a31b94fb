#include "hw/rtc/mc146818.h"

#include <gtest/gtest.h>

#include "hw/isa/isa_bus.h"

namespace fdplug {
namespace {

// 2026-11-23 23:45:07 UTC, a Monday.
constexpr int64_t kNow = 1795477507LL * 1'000'000'000;

class RtcTest : public ::testing::Test {
  protected:
    int64_t now = kNow;
    IsaBus bus;
    CmosRtc rtc{[this] { return now; }};
    void SetUp() override { rtc.attach(bus); }
    uint8_t reg(uint8_t index) {
        bus.write(0x70, index, 1);
        return uint8_t(bus.read(0x71, 1));
    }
};

TEST_F(RtcTest, BcdTimeFromTheSource) {
    EXPECT_EQ(reg(0x00), 0x07);
    EXPECT_EQ(reg(0x02), 0x45);
    EXPECT_EQ(reg(0x04), 0x23);
    EXPECT_EQ(reg(0x07), 0x23);
    EXPECT_EQ(reg(0x08), 0x11);
    EXPECT_EQ(reg(0x09), 0x26);
    EXPECT_EQ(reg(0x32), 0x20);
    EXPECT_EQ(reg(0x06), 0x02);  // Monday
    now += 2'000'000'000;
    EXPECT_EQ(reg(0x00), 0x09);
}

TEST_F(RtcTest, BinaryAnd12HourModes) {
    bus.write(0x70, 0x0B, 1);
    bus.write(0x71, 0x04, 1);  // binary, 12-hour
    EXPECT_EQ(reg(0x02), 45);
    EXPECT_EQ(reg(0x04), 0x80 | 11);  // 11 pm
}

TEST_F(RtcTest, SettingTheTimeMovesTheOffset) {
    bus.write(0x70, 0x02, 1);
    bus.write(0x71, 0x10, 1);  // minutes = 10
    EXPECT_EQ(reg(0x02), 0x10);
    EXPECT_EQ(reg(0x04), 0x23);
    now += 60'000'000'000;
    EXPECT_EQ(reg(0x02), 0x11);
}

TEST_F(RtcTest, NvramAndNmiBit) {
    rtc.set_nvram(0x10, 0x40);
    bus.write(0x70, 0x90, 1);  // index 0x10 with NMI disabled
    EXPECT_TRUE(rtc.nmi_disabled());
    EXPECT_EQ(bus.read(0x71, 1), 0x40u);
    bus.write(0x71, 0x44, 1);
    EXPECT_EQ(rtc.nvram(0x10), 0x44);
    EXPECT_EQ(reg(0x0D), 0x80);  // valid RAM
}

TEST_F(RtcTest, RegisterCClearsOnRead) {
    rtc.set_nvram(0x0C, 0x90);
    EXPECT_EQ(reg(0x0C), 0x90);
    EXPECT_EQ(reg(0x0C), 0x00);
}

}  // namespace
}  // namespace fdplug
