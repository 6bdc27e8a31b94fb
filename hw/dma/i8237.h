// The PC's two cascaded Intel 8237A DMA controllers (channels 0-3 byte-wide, 4-7 word-wide) and
// the page registers that extend their 16-bit addresses. Devices see a channel as a DREQ line
// plus a transfer callback; this class does the address/count arithmetic and the memory side.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "fdplug/plugin.h"

namespace fdplug {

class GuestMemory;
class IsaBus;

class IsaDma {
  public:
    // The device side of one transfer burst: see FdplugDmaHandler in include/fdplug/plugin.h.
    using Handler =
        std::function<size_t(FdplugDmaDir dir, std::span<uint8_t> buf, bool terminal_count)>;

    struct ChannelState {
        uint16_t base_address = 0, base_count = 0;
        uint16_t current_address = 0, current_count = 0;
        uint8_t mode = 0;
        uint8_t page = 0;
        bool masked = true;
        bool dreq = false;            // hardware request from the device
        bool soft_request = false;    // request register
        bool terminal_count = false;  // status bit, cleared by reading status
    };

    explicit IsaDma(GuestMemory &memory);

    void attach(IsaBus &bus);
    // The state PC firmware leaves: all channels masked except channel 4 (the cascade).
    void reset();

    void set_handler(unsigned channel, Handler handler);
    // Records the device's DREQ; run() services it (never from inside the device's call).
    void set_request(unsigned channel, bool dreq);
    // Services every requesting, unmasked channel; safe to call from anywhere, never re-enters.
    void run();
    bool work_pending() const;
    // A DREQ or request-register bit is set (run() has something to look at); inline, for the
    // host's after-every-access hook.
    bool requested() const { return requests_ != 0; }

    const ChannelState &channel(unsigned ch) const { return channels_[ch & 7]; }

    // Every register of both controllers, for saving and restoring a machine
    // (system/machine_state.cc). Handlers and the transfer buffer are not state.
    struct Registers {
        std::array<ChannelState, 8> channels{};
        std::array<uint8_t, 2> command{}, temporary{};
        std::array<bool, 2> flip_flop{};
        std::array<uint8_t, 16> pages{};
    };
    Registers registers() const;
    void set_registers(const Registers &r);

    // Register access by controller (0: channels 0-3, 1: channels 4-7) and register number 0-15.
    uint8_t read_register(unsigned ctrl, unsigned reg);
    void write_register(unsigned ctrl, unsigned reg, uint8_t value);
    uint8_t read_page(unsigned index) const { return page_regs_[index & 15]; }
    void write_page(unsigned index, uint8_t value);

  private:
    struct Controller {
        uint8_t command = 0;
        uint8_t temporary = 0;
        bool flip_flop = false;  // false: next access is the low byte
    };

    bool ready(unsigned ch) const;
    bool transfer_burst(unsigned ch);  // true when progress was made
    // Recomputes requests_ after a DREQ or request-register bit changed.
    void update_requests();
    static FdplugDmaDir direction(uint8_t mode);

    GuestMemory &memory_;
    std::array<ChannelState, 8> channels_{};
    std::array<Controller, 2> ctrl_{};
    std::array<Handler, 8> handlers_{};
    std::array<uint8_t, 16> page_regs_{};
    // Bit ch: channel ch's DREQ or request-register bit is set. run() follows every port access
    // and timer callback, so the common case (nothing asks) must cost one test.
    uint8_t requests_ = 0;
    // One burst's bytes between memory and the device (kept: no allocation per burst).
    std::vector<uint8_t> burst_;
    bool running_ = false;
    bool rerun_ = false;
};

}  // namespace fdplug
