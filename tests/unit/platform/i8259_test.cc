#include "hw/intc/i8259.h"

#include <gtest/gtest.h>

#include "hw/isa/isa_bus.h"

namespace fdplug {
namespace {

class PicTest : public ::testing::Test {
  protected:
    IsaBus bus;
    PicPair pic;
    std::vector<bool> intr_changes;
    void SetUp() override {
        pic.attach(bus);
        pic.on_intr = [this](bool level) { intr_changes.push_back(level); };
        bus.write(0x21, 0x00, 1);  // unmask everything
        bus.write(0xA1, 0x00, 1);
    }
};

TEST_F(PicTest, FirmwareVectorsAndEdgeDelivery) {
    pic.set_irq(6, true);
    ASSERT_TRUE(pic.intr());
    EXPECT_EQ(pic.acknowledge(), 0x0E);  // 0x08 + 6
    EXPECT_FALSE(pic.intr()) << "in service, and the edge was consumed";
    bus.write(0x20, 0x0B, 1);  // OCW3: read ISR
    EXPECT_EQ(bus.read(0x20, 1), 0x40u);
    bus.write(0x20, 0x20, 1);  // non-specific EOI
    EXPECT_EQ(bus.read(0x20, 1), 0x00u);
    EXPECT_EQ(intr_changes, (std::vector<bool>{true, false}));
}

TEST_F(PicTest, MaskHoldsARequest) {
    bus.write(0x21, 0x40, 1);
    pic.set_irq(6, true);
    EXPECT_FALSE(pic.intr());
    bus.write(0x20, 0x0A, 1);  // read IRR
    EXPECT_EQ(bus.read(0x20, 1), 0x40u);
    bus.write(0x21, 0x00, 1);
    EXPECT_TRUE(pic.intr());
}

TEST_F(PicTest, SlaveDeliversThroughCascade) {
    pic.set_irq(14, true);
    ASSERT_TRUE(pic.intr());
    EXPECT_EQ(pic.acknowledge(), 0x76);  // 0x70 + 6
}

TEST_F(PicTest, PriorityLowerPinWins) {
    pic.set_irq(6, true);
    pic.set_irq(3, true);
    EXPECT_EQ(pic.acknowledge(), 0x0B);
    // IRQ 6 ranks below 3, which is in service: no delivery until EOI.
    EXPECT_FALSE(pic.intr());
    bus.write(0x20, 0x63, 1);  // specific EOI for 3
    EXPECT_TRUE(pic.intr());
    EXPECT_EQ(pic.acknowledge(), 0x0E);
}

TEST_F(PicTest, LevelTriggeredLineRequestsAgainAfterEoi) {
    bus.write(0x4D0, 0x40, 1);  // IRQ 6 level-triggered
    EXPECT_EQ(bus.read(0x4D0, 1), 0x40u);
    pic.set_irq(6, true);
    EXPECT_EQ(pic.acknowledge(), 0x0E);
    bus.write(0x20, 0x20, 1);
    EXPECT_TRUE(pic.intr()) << "the line is still high";
    pic.set_irq(6, false);
    EXPECT_FALSE(pic.intr());
}

TEST_F(PicTest, SpuriousWhenNothingPending) {
    EXPECT_EQ(pic.acknowledge(), 0x0F);  // 0x08 + 7
}

TEST_F(PicTest, ReinitialisationSetsNewVectors) {
    bus.write(0x20, 0x11, 1);
    bus.write(0x21, 0x20, 1);
    bus.write(0x21, 0x04, 1);
    bus.write(0x21, 0x01, 1);
    pic.set_irq(1, true);
    EXPECT_EQ(pic.acknowledge(), 0x21);
}

}  // namespace
}  // namespace fdplug
