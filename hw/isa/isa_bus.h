// The ISA I/O port space of the reference host: 64 Ki ports, each owned by at most one region.
// Dispatch is a flat table lookup (no search) because every guest port access goes through it.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace fdplug {

struct PortHandler {
    // offset is relative to the region's base; size is 1, 2 or 4.
    std::function<uint32_t(uint16_t offset, unsigned size)> read;
    std::function<void(uint16_t offset, uint32_t value, unsigned size)> write;
    uint8_t native_sizes = 1;  // bitmask of sizes the handler takes itself
    uint8_t split_sizes = 0;   // wider sizes the bus splits into byte accesses, low port first
    // Optional plain C callbacks (a plugin's FdplugPortOps), used instead of read/write when
    // set: every guest port access goes through here, and this saves the std::function hop.
    uint32_t (*c_read)(void *opaque, uint16_t offset, unsigned size) = nullptr;
    void (*c_write)(void *opaque, uint16_t offset, uint32_t value, unsigned size) = nullptr;
    void *c_opaque = nullptr;
};

class IsaBus {
  public:
    using RegionId = uint32_t;

    IsaBus();

    // Fails (nullopt, *error set) on an empty range, a range past 0xFFFF or an overlap.
    std::optional<RegionId> add_region(uint16_t base, uint32_t len, PortHandler handler,
                                       std::string name, std::string *error);
    void remove_region(RegionId id);

    // Unassigned ports and undecoded sizes read all-ones; their writes are dropped.
    uint32_t read(uint16_t port, unsigned size);
    void write(uint16_t port, uint32_t value, unsigned size);

    // Called after every access (the host runs deferred work, e.g. DMA, from here).
    std::function<void()> after_access;

    uint64_t undecoded_accesses() const { return undecoded_; }

  private:
    struct Region {
        uint16_t base = 0;
        uint32_t len = 0;
        PortHandler handler;
        std::string name;
        bool live = false;
    };
    static constexpr uint16_t kNone = 0xFFFF;

    uint32_t read_byte(uint16_t port);
    void write_byte(uint16_t port, uint8_t value);
    uint32_t read_other(uint16_t port, unsigned size);  // all but a decoded byte access
    void write_other(uint16_t port, uint32_t value, unsigned size);
    static uint32_t call_read(const PortHandler &h, uint16_t offset, unsigned size) {
        return h.c_read ? h.c_read(h.c_opaque, offset, size) : h.read(offset, size);
    }
    static void call_write(const PortHandler &h, uint16_t offset, uint32_t value, unsigned size) {
        if (h.c_write)
            h.c_write(h.c_opaque, offset, value, size);
        else
            h.write(offset, value, size);
    }
    void done() {
        if (after_access) after_access();
    }

    std::vector<Region> regions_;
    std::array<uint16_t, 0x10000> owner_;  // port -> index into regions_, or kNone
    uint64_t undecoded_ = 0;
};

}  // namespace fdplug
