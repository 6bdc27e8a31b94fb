// A host for the controller core in unit tests: a manual virtual clock, the INT and DRQ pins
// with a log of their edges, one timer, and a DMA channel that serves DRQ the way the 8237 does
// (the real i8237 lives in the reference host; here the channel is a buffer and a count).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "hw/block/fdc/fdc82077.h"

namespace fdplug::floppy::test {

class FakeFdcHost : public FdcHost {
  public:
    int64_t now = 0;
    bool irq = false, drq = false;
    std::vector<std::pair<int64_t, bool>> irq_edges;
    std::vector<std::pair<int64_t, bool>> drq_edges;
    int64_t deadline = kNever;
    Fdc82077 *fdc = nullptr;

    // DMA channel: `memory` is what the guest programmed; count bytes remain.
    std::vector<uint8_t> memory;
    size_t dma_pos = 0, dma_count = 0;
    bool dma_masked = true;
    DmaCycle dma_cycle = DmaCycle::ToMemory;
    // Bus latency: the channel answers a DRQ this long after it rose (0: at once).
    int64_t dma_delay_ns = 0;
    // Bytes per DMA cycle the channel offers (0: the whole remaining count). With 1 the
    // channel re-samples DRQ after every byte, like the 8237 in single mode.
    size_t dma_chunk = 0;

    int64_t now_ns() const override { return now; }
    void set_irq(bool level) override {
        irq = level;
        irq_edges.emplace_back(now, level);
    }
    void set_drq(bool level) override {
        drq = level;
        drq_since_ = now;
        dma_stuck_ = false;
        drq_edges.emplace_back(now, level);
    }
    void arm_timer(int64_t t) override { deadline = t; }
    void cancel_timer() override { deadline = kNever; }

    void program_dma(DmaCycle cycle, size_t count, std::vector<uint8_t> bytes = {}) {
        dma_cycle = cycle;
        memory = bytes.empty() ? std::vector<uint8_t>(count, 0) : std::move(bytes);
        dma_pos = 0;
        dma_count = count;
        dma_masked = false;
        dma_stuck_ = false;
    }

    // When the channel will next serve DRQ, or kNever.
    int64_t dma_due() const {
        if (!fdc || !drq || dma_masked || dma_pos >= dma_count || dma_stuck_) return kNever;
        return drq_since_ + dma_delay_ns;
    }

    // Serve DRQ (once its latency has passed) until it drops or the channel is done.
    void service_dma() {
        for (int guard = 0; guard < 100000 && dma_due() <= now; ++guard) {
            size_t len = dma_count - dma_pos;
            if (dma_chunk) len = std::min(len, dma_chunk);
            const bool tc = dma_pos + len == dma_count;
            const size_t n =
                fdc->dma_transfer(dma_cycle, std::span<uint8_t>(memory.data() + dma_pos, len), tc);
            if (n == 0) {
                dma_stuck_ = true;  // DRQ without data: wait for the controller to change
                break;
            }
            dma_pos += n;
        }
    }

    // Move the clock to t, firing the timer and the DMA channel at each of their times on the
    // way (clock = that time).
    void advance_to(int64_t t) {
        service_dma();
        for (int guard = 0; guard < 50'000'000 && next_event() <= t; ++guard) step();
        now = std::max(now, t);
        service_dma();
    }
    void advance(int64_t ns) { advance_to(now + ns); }

    // Run until INT rises (or `limit` ns pass); returns the time it rose, or -1.
    int64_t run_until_irq(int64_t limit) {
        const int64_t end = now + limit;
        service_dma();
        while (!irq) {
            if (next_event() > end) {
                now = end;
                return -1;
            }
            step();
        }
        return now;
    }

    // The channel as the platform holds it, its one instant relative to now: device state
    // tests carry it from one host to a fresh one, as a real host saves its 8237.
    struct Channel {
        std::vector<uint8_t> memory;
        size_t dma_pos = 0, dma_count = 0;
        bool dma_masked = true;
        DmaCycle dma_cycle = DmaCycle::ToMemory;
        int64_t dma_delay_ns = 0;
        size_t dma_chunk = 0;
        int64_t drq_since_rel = 0;
        bool dma_stuck = false;
    };
    Channel channel() const {
        return {memory,       dma_pos,   dma_count,        dma_masked, dma_cycle,
                dma_delay_ns, dma_chunk, drq_since_ - now, dma_stuck_};
    }
    void restore_channel(const Channel &c) {
        memory = c.memory;
        dma_pos = c.dma_pos;
        dma_count = c.dma_count;
        dma_masked = c.dma_masked;
        dma_cycle = c.dma_cycle;
        dma_delay_ns = c.dma_delay_ns;
        dma_chunk = c.dma_chunk;
        drq_since_ = now + c.drq_since_rel;
        dma_stuck_ = c.dma_stuck;
    }

  private:
    int64_t drq_since_ = 0;
    bool dma_stuck_ = false;

    int64_t next_event() const { return std::min(deadline, dma_due()); }
    void step() {
        now = std::max(now, next_event());
        if (deadline <= now) {
            deadline = kNever;
            dma_stuck_ = false;
            fdc->on_timer();
        }
        service_dma();
    }
};

}  // namespace fdplug::floppy::test
