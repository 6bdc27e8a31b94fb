// The PC's MC146818 real-time clock and its CMOS NVRAM (ports 0x70 index, 0x71 data).
// The time registers follow a time source the host gives (virtual or wall clock); writing them
// moves this RTC's offset from that source, as setting a real RTC would.
#pragma once

#include <array>
#include <cstdint>
#include <functional>

namespace fdplug {

class IsaBus;

class CmosRtc {
  public:
    // Nanoseconds since the Unix epoch.
    using TimeSource = std::function<int64_t()>;

    explicit CmosRtc(TimeSource now);
    void attach(IsaBus &bus);

    uint8_t nvram(uint8_t index) const { return ram_[index & 0x7F]; }
    void set_nvram(uint8_t index, uint8_t value) { ram_[index & 0x7F] = value; }

    uint8_t read_data();
    void write_data(uint8_t value);
    void write_index(uint8_t value) {
        index_ = value & 0x7F;
        nmi_disabled_ = value & 0x80;
    }
    bool nmi_disabled() const { return nmi_disabled_; }

    // NVRAM, index latch and the offset the guest set the clock to, for saving and restoring a
    // machine (system/machine_state.cc).
    struct Registers {
        std::array<uint8_t, 128> ram{};
        uint8_t index = 0;
        bool nmi_disabled = false;
        int64_t offset_s = 0;
    };
    Registers registers() const { return {ram_, index_, nmi_disabled_, offset_s_}; }
    void set_registers(const Registers &r) {
        ram_ = r.ram;
        index_ = r.index & 0x7F;
        nmi_disabled_ = r.nmi_disabled;
        offset_s_ = r.offset_s;
    }

    static constexpr uint8_t kRegA = 0x0A, kRegB = 0x0B, kRegC = 0x0C, kRegD = 0x0D;
    static constexpr uint8_t kCentury = 0x32;

  private:
    int64_t seconds_now() const;
    uint8_t encode(unsigned value) const;  // BCD or binary per register B
    unsigned decode(uint8_t value) const;

    TimeSource now_;
    int64_t offset_s_ = 0;
    std::array<uint8_t, 128> ram_{};
    uint8_t index_ = 0;
    bool nmi_disabled_ = false;
};

}  // namespace fdplug
