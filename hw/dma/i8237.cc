#include "hw/dma/i8237.h"

#include <algorithm>

#include "hw/core/guest_memory.h"
#include "hw/isa/isa_bus.h"

namespace fdplug {

namespace {
// Page register (offset from 0x80) of each channel, as the PC/AT wires its 74LS612.
constexpr std::array<uint8_t, 8> kPageIndex = {0x7, 0x3, 0x1, 0x2, 0xF, 0xB, 0x9, 0xA};

enum Reg : unsigned {
    kStatusCommand = 8,
    kRequest = 9,
    kSingleMask = 10,
    kMode = 11,
    kClearFlipFlop = 12,
    kTempMasterClear = 13,
    kClearMask = 14,
    kAllMask = 15,
};

constexpr uint8_t kModeAutoinit = 0x10, kModeDecrement = 0x20;
constexpr uint8_t kCommandDisable = 0x04;
constexpr size_t kMaxBurst = 4096;
// Bytes one run() may move: a device that never drops DREQ on an autoinit channel must not hang
// the host; the next run() (after the next access or timer) continues.
constexpr size_t kRunBudget = 16u << 20;
}  // namespace

IsaDma::IsaDma(GuestMemory &memory) : memory_(memory) {
    reset();
}

void IsaDma::reset() {
    for (auto &c : channels_) {
        const bool dreq = c.dreq;  // the device's line is not ours to reset
        c = ChannelState{};
        c.dreq = dreq;
    }
    update_requests();
    ctrl_ = {};
    channels_[4].mode = 0xC0;  // cascade
    channels_[4].masked = false;
}

IsaDma::Registers IsaDma::registers() const {
    Registers r;
    r.channels = channels_;
    for (unsigned i = 0; i < 2; ++i) {
        r.command[i] = ctrl_[i].command;
        r.temporary[i] = ctrl_[i].temporary;
        r.flip_flop[i] = ctrl_[i].flip_flop;
    }
    r.pages = page_regs_;
    return r;
}

void IsaDma::set_registers(const Registers &r) {
    channels_ = r.channels;
    for (unsigned i = 0; i < 2; ++i) {
        ctrl_[i].command = r.command[i];
        ctrl_[i].temporary = r.temporary[i];
        ctrl_[i].flip_flop = r.flip_flop[i];
    }
    page_regs_ = r.pages;
    update_requests();
}

void IsaDma::attach(IsaBus &bus) {
    for (unsigned ctrl = 0; ctrl < 2; ++ctrl) {
        PortHandler h;
        h.native_sizes = 1;
        h.split_sizes = 2;
        const unsigned shift = ctrl;  // DMA2's registers sit at even ports
        h.read = [this, ctrl, shift](uint16_t off, unsigned) -> uint32_t {
            if (off & ((1u << shift) - 1)) return 0xFF;
            return read_register(ctrl, off >> shift);
        };
        h.write = [this, ctrl, shift](uint16_t off, uint32_t v, unsigned) {
            if (!(off & ((1u << shift) - 1))) write_register(ctrl, off >> shift, uint8_t(v));
        };
        bus.add_region(ctrl ? 0xC0 : 0x00, ctrl ? 0x20 : 0x10, std::move(h), ctrl ? "dma2" : "dma1",
                       nullptr);
    }
    PortHandler page;
    page.native_sizes = 1;
    page.split_sizes = 2;
    page.read = [this](uint16_t off, unsigned) -> uint32_t { return read_page(off); };
    page.write = [this](uint16_t off, uint32_t v, unsigned) { write_page(off, uint8_t(v)); };
    bus.add_region(0x80, 0x10, std::move(page), "dma-page", nullptr);
}

void IsaDma::write_page(unsigned index, uint8_t value) {
    page_regs_[index & 15] = value;
    for (unsigned ch = 0; ch < 8; ++ch)
        if (kPageIndex[ch] == (index & 15)) channels_[ch].page = value;
}

uint8_t IsaDma::read_register(unsigned ctrl, unsigned reg) {
    Controller &c = ctrl_[ctrl & 1];
    const unsigned first = (ctrl & 1) * 4;
    reg &= 15;
    if (reg < 8) {
        const ChannelState &ch = channels_[first + reg / 2];
        const uint16_t v = (reg & 1) ? ch.current_count : ch.current_address;
        const uint8_t byte = c.flip_flop ? uint8_t(v >> 8) : uint8_t(v);
        c.flip_flop = !c.flip_flop;
        return byte;
    }
    switch (reg) {
        case kStatusCommand: {
            uint8_t status = 0;
            for (unsigned i = 0; i < 4; ++i) {
                ChannelState &ch = channels_[first + i];
                if (ch.terminal_count) status |= uint8_t(1u << i);
                if (ch.dreq || ch.soft_request) status |= uint8_t(0x10u << i);
                ch.terminal_count = false;
            }
            return status;
        }
        case kTempMasterClear:
            return c.temporary;
        case kAllMask: {  // readable on later PC chipsets; harmless here
            uint8_t m = 0xF0;
            for (unsigned i = 0; i < 4; ++i)
                if (channels_[first + i].masked) m |= uint8_t(1u << i);
            return m;
        }
        default:
            return 0xFF;
    }
}

void IsaDma::write_register(unsigned ctrl, unsigned reg, uint8_t value) {
    Controller &c = ctrl_[ctrl & 1];
    const unsigned first = (ctrl & 1) * 4;
    reg &= 15;
    if (reg < 8) {
        ChannelState &ch = channels_[first + reg / 2];
        uint16_t &base = (reg & 1) ? ch.base_count : ch.base_address;
        uint16_t &current = (reg & 1) ? ch.current_count : ch.current_address;
        base = c.flip_flop ? uint16_t((base & 0x00FF) | (value << 8))
                           : uint16_t((base & 0xFF00) | value);
        current = base;  // the 8237 writes base and current together
        c.flip_flop = !c.flip_flop;
        return;
    }
    switch (reg) {
        case kStatusCommand:
            c.command = value;
            break;
        case kRequest:
            channels_[first + (value & 3)].soft_request = value & 4;
            update_requests();
            break;
        case kSingleMask:
            channels_[first + (value & 3)].masked = value & 4;
            break;
        case kMode:
            channels_[first + (value & 3)].mode = value;
            break;
        case kClearFlipFlop:
            c.flip_flop = false;
            break;
        case kTempMasterClear:
            c = Controller{};
            for (unsigned i = 0; i < 4; ++i) {
                ChannelState &ch = channels_[first + i];
                ch.masked = true;
                ch.soft_request = false;
                ch.terminal_count = false;
            }
            update_requests();
            break;
        case kClearMask:
            for (unsigned i = 0; i < 4; ++i) channels_[first + i].masked = false;
            break;
        case kAllMask:
            for (unsigned i = 0; i < 4; ++i) channels_[first + i].masked = value & (1u << i);
            break;
        default:
            break;
    }
    run();
}

void IsaDma::set_handler(unsigned channel, Handler handler) {
    handlers_[channel & 7] = std::move(handler);
}

void IsaDma::set_request(unsigned channel, bool dreq) {
    // Only recorded: the device raising DREQ is in the middle of its own callback, and the
    // host services the channel (run()) once that callback has returned.
    channels_[channel & 7].dreq = dreq;
    update_requests();
    if (running_ && dreq) rerun_ = true;
}

void IsaDma::update_requests() {
    uint8_t bits = 0;
    for (unsigned ch = 0; ch < 8; ++ch)
        if (channels_[ch].dreq || channels_[ch].soft_request) bits |= uint8_t(1u << ch);
    requests_ = bits;
}

FdplugDmaDir IsaDma::direction(uint8_t mode) {
    switch ((mode >> 2) & 3) {
        case 1:
            return FDPLUG_DMA_DEV_TO_MEM;
        case 2:
            return FDPLUG_DMA_MEM_TO_DEV;
        default:
            return FDPLUG_DMA_VERIFY;  // 0 = verify; 3 is illegal and moves no memory
    }
}

bool IsaDma::ready(unsigned ch) const {
    const ChannelState &c = channels_[ch];
    if (!(c.dreq || c.soft_request) || c.masked || !handlers_[ch]) return false;
    if ((c.mode & 0xC0) == 0xC0) return false;  // cascade: not a transfer channel
    if (ctrl_[ch / 4].command & kCommandDisable) return false;
    if (ch < 4) {  // DMA1 reaches the bus through DMA2's channel 4
        const ChannelState &cascade = channels_[4];
        if (cascade.masked || (ctrl_[1].command & kCommandDisable)) return false;
    }
    return true;
}

bool IsaDma::work_pending() const {
    for (unsigned ch = 0; ch < 8; ++ch)
        if (ready(ch)) return true;
    return false;
}

bool IsaDma::transfer_burst(unsigned ch) {
    ChannelState &c = channels_[ch];
    const bool wide = ch >= 4;
    const unsigned unit = wide ? 2 : 1;
    const bool decrement = c.mode & kModeDecrement;

    // Units left (count N means N+1 transfers), and units before the address wraps its page.
    const uint32_t left = uint32_t(c.current_count) + 1;
    const uint32_t to_wrap =
        decrement ? uint32_t(c.current_address) + 1 : 0x10000u - c.current_address;
    const uint32_t units = std::min<uint32_t>({left, to_wrap, uint32_t(kMaxBurst / unit)});
    const bool tc_in_burst = units == left;

    const uint64_t page_base = wide ? (uint64_t(c.page & 0xFE) << 16) : (uint64_t(c.page) << 16);
    auto phys = [&](uint32_t unit_index) -> uint64_t {
        const uint32_t a =
            decrement ? c.current_address - unit_index : c.current_address + unit_index;
        return page_base + (wide ? (uint64_t(a & 0xFFFF) << 1) : (a & 0xFFFF));
    };

    // Incrementing, the burst is one contiguous run of memory (it stops where the address would
    // wrap its 64 KiB / 128 KiB page), so it moves with one copy; decrementing goes unit by unit.
    burst_.assign(units * unit, 0);
    const std::span<uint8_t> buf(burst_);
    const FdplugDmaDir dir = direction(c.mode);
    if (dir == FDPLUG_DMA_MEM_TO_DEV) {
        if (!decrement)
            memory_.read(phys(0), buf);
        else
            for (uint32_t i = 0; i < units; ++i) memory_.read(phys(i), buf.subspan(i * unit, unit));
    }
    size_t bytes = handlers_[ch](dir, buf, tc_in_burst);
    bytes = std::min(bytes, buf.size());
    const uint32_t done = uint32_t(bytes / unit);
    if (done == 0) return false;
    if (dir == FDPLUG_DMA_DEV_TO_MEM) {
        if (!decrement)
            memory_.write(phys(0), buf.first(done * unit));
        else
            for (uint32_t i = 0; i < done; ++i) memory_.write(phys(i), buf.subspan(i * unit, unit));
    }
    c.current_address = uint16_t(decrement ? c.current_address - done : c.current_address + done);
    c.current_count = uint16_t(c.current_count - done);
    if (done == left) {  // the count rolled over: terminal count
        c.terminal_count = true;
        c.soft_request = false;
        update_requests();
        if (c.mode & kModeAutoinit) {
            c.current_address = c.base_address;
            c.current_count = c.base_count;
        } else {
            c.masked = true;
        }
    }
    return true;
}

void IsaDma::run() {
    if (!requests_) return;  // nothing asks for service
    if (running_) {
        rerun_ = true;
        return;
    }
    running_ = true;
    size_t budget = kRunBudget / kMaxBurst;
    bool progress;
    do {
        rerun_ = false;
        progress = false;
        for (unsigned ch = 0; ch < 8; ++ch)  // fixed priority: channel 0 first
            while (budget && ready(ch) && transfer_burst(ch)) {
                progress = true;
                --budget;
            }
    } while (budget && (progress || rerun_));
    running_ = false;
}

}  // namespace fdplug
