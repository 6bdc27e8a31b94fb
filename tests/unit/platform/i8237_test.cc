#include "hw/dma/i8237.h"

#include <gtest/gtest.h>

#include <numeric>
#include <vector>

#include "hw/core/guest_memory.h"
#include "hw/isa/isa_bus.h"

namespace fdplug {
namespace {

// A device that produces (or consumes) a byte stream and records TC, like an FDC sector.
struct StreamDevice {
    std::vector<uint8_t> produce;
    std::vector<uint8_t> consumed;
    size_t pos = 0;
    size_t tc_at = SIZE_MAX;  // bytes transferred when TC was seen
    size_t max_per_call = SIZE_MAX;
    std::vector<FdplugDmaDir> dirs;

    IsaDma::Handler handler() {
        return [this](FdplugDmaDir dir, std::span<uint8_t> buf, bool tc) -> size_t {
            dirs.push_back(dir);
            size_t n = std::min(buf.size(), max_per_call);
            if (dir == FDPLUG_DMA_DEV_TO_MEM) {
                n = std::min(n, produce.size() - pos);
                std::copy_n(produce.begin() + long(pos), n, buf.begin());
            } else if (dir == FDPLUG_DMA_MEM_TO_DEV) {
                consumed.insert(consumed.end(), buf.begin(), buf.begin() + long(n));
            }
            pos += n;
            if (tc && n == buf.size()) tc_at = pos;
            return n;
        };
    }
};

class IsaDmaTest : public ::testing::Test {
  protected:
    GuestMemory mem{1 << 24};
    IsaBus bus;
    IsaDma dma{mem};
    void SetUp() override { dma.attach(bus); }

    // Channel 2 programmed the way a PC floppy driver does it.
    void program_channel2(uint8_t mode, uint32_t phys, uint16_t count_minus_1) {
        bus.write(0x0A, 0x06, 1);  // mask channel 2
        bus.write(0x0C, 0x00, 1);  // clear flip-flop
        bus.write(0x0B, mode, 1);
        bus.write(0x04, phys & 0xFF, 1);
        bus.write(0x04, (phys >> 8) & 0xFF, 1);
        bus.write(0x81, (phys >> 16) & 0xFF, 1);
        bus.write(0x05, count_minus_1 & 0xFF, 1);
        bus.write(0x05, count_minus_1 >> 8, 1);
    }
    void unmask2() { bus.write(0x0A, 0x02, 1); }
};

std::vector<uint8_t> pattern(size_t n) {
    std::vector<uint8_t> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = uint8_t(i * 7 + 3);
    return v;
}

TEST_F(IsaDmaTest, FloppyStyleReadIntoMemoryWithTerminalCount) {
    StreamDevice dev;
    dev.produce = pattern(512);
    dma.set_handler(2, dev.handler());
    program_channel2(0x46, 0x12000, 511);  // single mode, write to memory, channel 2
    dma.set_request(2, true);
    dma.run();
    EXPECT_EQ(dev.pos, 0u) << "a masked channel must not transfer";
    unmask2();
    EXPECT_EQ(dev.pos, 512u);
    EXPECT_EQ(dev.tc_at, 512u);
    std::vector<uint8_t> got(512);
    mem.read(0x12000, got);
    EXPECT_EQ(got, dev.produce);
    EXPECT_TRUE(dma.channel(2).masked) << "TC without autoinit masks the channel";
    const uint8_t status = uint8_t(bus.read(0x08, 1));
    EXPECT_EQ(status & 0x04, 0x04);  // TC of channel 2
    EXPECT_EQ(bus.read(0x08, 1) & 0x04, 0u) << "status TC bits clear on read";
}

TEST_F(IsaDmaTest, ShorterCountEndsWithTcMidStream) {
    StreamDevice dev;
    dev.produce = pattern(1024);
    dma.set_handler(2, dev.handler());
    program_channel2(0x46, 0x2000, 99);
    unmask2();
    dma.set_request(2, true);
    dma.run();
    EXPECT_EQ(dev.pos, 100u);
    EXPECT_EQ(dev.tc_at, 100u);
}

TEST_F(IsaDmaTest, ReadFromMemoryFeedsTheDevice) {
    StreamDevice dev;
    auto data = pattern(300);
    mem.write(0x5000, data);
    dma.set_handler(2, dev.handler());
    program_channel2(0x4A, 0x5000, 299);  // read transfer
    unmask2();
    dma.set_request(2, true);
    dma.run();
    EXPECT_EQ(dev.consumed, data);
    EXPECT_EQ(dev.dirs.front(), FDPLUG_DMA_MEM_TO_DEV);
}

TEST_F(IsaDmaTest, VerifyTouchesNoMemory) {
    StreamDevice dev;
    dev.produce = pattern(64);
    dma.set_handler(2, dev.handler());
    program_channel2(0x42, 0x7000, 63);
    unmask2();
    dma.set_request(2, true);
    dma.run();
    EXPECT_EQ(dev.pos, 64u);
    EXPECT_EQ(dev.dirs.front(), FDPLUG_DMA_VERIFY);
    EXPECT_EQ(mem.pages_allocated(), 0u);
}

TEST_F(IsaDmaTest, AutoinitReloadsAndStaysUnmasked) {
    StreamDevice dev;
    dev.produce = pattern(48);
    dev.max_per_call = 16;
    dma.set_handler(2, dev.handler());
    program_channel2(0x56, 0x3000, 15);  // autoinit
    unmask2();
    dma.set_request(2, true);
    dma.run();
    // The device ran dry after 48 bytes: three full rounds of 16, each ending with TC.
    EXPECT_EQ(dev.pos, 48u);
    EXPECT_FALSE(dma.channel(2).masked);
    EXPECT_EQ(dma.channel(2).current_address, 0x3000);
    EXPECT_EQ(dma.channel(2).current_count, 15);
    std::vector<uint8_t> got(16);
    mem.read(0x3000, got);
    EXPECT_EQ(got, std::vector<uint8_t>(dev.produce.begin() + 32, dev.produce.end()));
}

TEST_F(IsaDmaTest, AddressDecrementWritesDownwards) {
    StreamDevice dev;
    dev.produce = {1, 2, 3, 4};
    dma.set_handler(2, dev.handler());
    program_channel2(0x66, 0x4003, 3);  // decrement
    unmask2();
    dma.set_request(2, true);
    dma.run();
    std::vector<uint8_t> got(4);
    mem.read(0x4000, got);
    EXPECT_EQ(got, (std::vector<uint8_t>{4, 3, 2, 1}));
}

TEST_F(IsaDmaTest, AddressWrapsWithinThe64KPage) {
    StreamDevice dev;
    dev.produce = pattern(32);
    dma.set_handler(2, dev.handler());
    program_channel2(0x46, 0x1FFF0, 31);
    unmask2();
    dma.set_request(2, true);
    dma.run();
    std::vector<uint8_t> tail(16), head(16), next(16);
    mem.read(0x1FFF0, tail);
    mem.read(0x10000, head);
    mem.read(0x20000, next);
    EXPECT_EQ(tail, std::vector<uint8_t>(dev.produce.begin(), dev.produce.begin() + 16));
    EXPECT_EQ(head, std::vector<uint8_t>(dev.produce.begin() + 16, dev.produce.end()));
    EXPECT_EQ(next, std::vector<uint8_t>(16, 0)) << "the page register does not carry";
}

TEST_F(IsaDmaTest, SixteenBitChannelUsesWordAddressing) {
    StreamDevice dev;
    dev.produce = pattern(8);
    dma.set_handler(5, dev.handler());
    bus.write(0xD4, 0x05, 1);  // mask ch5
    bus.write(0xD8, 0x00, 1);
    bus.write(0xD6, 0x45, 1);  // single, write, ch5 (=1 on DMA2)
    // word address 0x0800 on page 0x02 -> physical 0x21000
    bus.write(0xC4, 0x00, 1);
    bus.write(0xC4, 0x08, 1);
    bus.write(0x8B, 0x02, 1);
    bus.write(0xC6, 0x03, 1);  // 4 words
    bus.write(0xC6, 0x00, 1);
    bus.write(0xD4, 0x01, 1);  // unmask ch5
    dma.set_request(5, true);
    dma.run();
    std::vector<uint8_t> got(8);
    mem.read(0x21000, got);
    EXPECT_EQ(got, dev.produce);
    EXPECT_EQ(dev.tc_at, 8u);
}

TEST_F(IsaDmaTest, HandlerReturningZeroStops) {
    StreamDevice dev;  // produces nothing
    dma.set_handler(2, dev.handler());
    program_channel2(0x46, 0x1000, 9);
    unmask2();
    dma.set_request(2, true);
    dma.run();
    EXPECT_EQ(dma.channel(2).current_count, 9);
}

TEST_F(IsaDmaTest, SetRequestFromInsideTheHandlerDoesNotReenter) {
    int depth = 0, max_depth = 0, calls = 0;
    dma.set_handler(2, [&](FdplugDmaDir, std::span<uint8_t> buf, bool) -> size_t {
        ++depth;
        max_depth = std::max(max_depth, depth);
        ++calls;
        dma.set_request(2, calls < 3);  // re-raise twice, then drop
        --depth;
        return std::min<size_t>(buf.size(), 4);
    });
    program_channel2(0x46, 0x1000, 99);
    unmask2();
    dma.set_request(2, true);
    dma.run();
    EXPECT_EQ(max_depth, 1);
    EXPECT_EQ(calls, 3);
}

TEST_F(IsaDmaTest, FlipFlopAndCountReadback) {
    program_channel2(0x46, 0x0A1234, 0x1FF);
    bus.write(0x0C, 0, 1);
    EXPECT_EQ(bus.read(0x04, 1), 0x34u);
    EXPECT_EQ(bus.read(0x04, 1), 0x12u);
    EXPECT_EQ(bus.read(0x05, 1), 0xFFu);
    EXPECT_EQ(bus.read(0x05, 1), 0x01u);
    EXPECT_EQ(bus.read(0x81, 1), 0x0Au);
}

TEST_F(IsaDmaTest, MasterClearMasksAllAndDisableStopsService) {
    StreamDevice dev;
    dev.produce = pattern(16);
    dma.set_handler(2, dev.handler());
    program_channel2(0x46, 0x1000, 15);
    unmask2();
    bus.write(0x08, 0x04, 1);  // controller disable
    dma.set_request(2, true);
    dma.run();
    EXPECT_EQ(dev.pos, 0u);
    bus.write(0x08, 0x00, 1);  // enabling resumes service
    EXPECT_EQ(dev.pos, 16u);
    bus.write(0x0D, 0, 1);  // master clear
    for (unsigned ch = 0; ch < 4; ++ch) EXPECT_TRUE(dma.channel(ch).masked);
    bus.write(0x0E, 0, 1);  // clear all masks
    for (unsigned ch = 0; ch < 4; ++ch) EXPECT_FALSE(dma.channel(ch).masked);
}

TEST_F(IsaDmaTest, MaskedCascadeBlocksTheFirstController) {
    StreamDevice dev;
    dev.produce = pattern(16);
    dma.set_handler(2, dev.handler());
    program_channel2(0x46, 0x1000, 15);
    bus.write(0xD4, 0x04, 1);  // mask channel 4, the cascade
    unmask2();
    dma.set_request(2, true);
    dma.run();
    EXPECT_EQ(dev.pos, 0u);
    bus.write(0xD4, 0x00, 1);
    EXPECT_EQ(dev.pos, 16u);
}

}  // namespace
}  // namespace fdplug
