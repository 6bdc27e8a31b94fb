// A host for the controller core in unit tests: a manual virtual clock, the INT and DRQ pins
// with a log of their edges, one timer, and a DMA channel that serves DRQ the way the 8237 does
// (the real i8237 lives in the reference host; here the channel is a buffer and a count).
#pragma once

#include <cstdint>
#include <vector>

#include "hw/block/fdc82077.h"

namespace fdplug::floppy::test {

class FakeFdcHost : public FdcHost {
public:
    int64_t now = 0;
    bool irq = false, drq = false;
    std::vector<std::pair<int64_t, bool>> irq_edges;
    int64_t deadline = kNever;
    Fdc82077 *fdc = nullptr;

    // DMA channel: `memory` is what the guest programmed; count bytes remain.
    std::vector<uint8_t> memory;
    size_t dma_pos = 0, dma_count = 0;
    bool dma_masked = true;
    DmaCycle dma_cycle = DmaCycle::ToMemory;

    int64_t now_ns() const override { return now; }
    void set_irq(bool level) override {
        irq = level;
        irq_edges.emplace_back(now, level);
    }
    void set_drq(bool level) override { drq = level; }
    void arm_timer(int64_t t) override { deadline = t; }
    void cancel_timer() override { deadline = kNever; }

    void program_dma(DmaCycle cycle, size_t count, std::vector<uint8_t> bytes = {}) {
        dma_cycle = cycle;
        memory = bytes.empty() ? std::vector<uint8_t>(count, 0) : std::move(bytes);
        dma_pos = 0;
        dma_count = count;
        dma_masked = false;
    }

    // Serve DRQ until it drops or the channel is done, like the 8237 in single mode.
    void service_dma() {
        for (int guard = 0; guard < 100000 && fdc && drq && !dma_masked && dma_pos < dma_count; ++guard) {
            const size_t len = dma_count - dma_pos;
            const size_t n = fdc->dma_transfer(dma_cycle, std::span<uint8_t>(memory.data() + dma_pos, len), true);
            if (n == 0) break;
            dma_pos += n;
        }
    }

    // Move the clock to t, firing the timer at each deadline on the way (clock = deadline).
    void advance_to(int64_t t) {
        service_dma();
        for (int guard = 0; guard < 10'000'000 && deadline <= t; ++guard) {
            now = std::max(now, deadline);
            deadline = kNever;
            fdc->on_timer();
            service_dma();
        }
        now = std::max(now, t);
        service_dma();
    }
    void advance(int64_t ns) { advance_to(now + ns); }

    // Run until INT rises (or `limit` ns pass); returns the time it rose, or -1.
    int64_t run_until_irq(int64_t limit) {
        const int64_t end = now + limit;
        service_dma();
        while (!irq) {
            if (deadline > end) {
                now = end;
                return -1;
            }
            now = std::max(now, deadline);
            deadline = kNever;
            fdc->on_timer();
            service_dma();
        }
        return now;
    }
};

}  // namespace fdplug::floppy::test
