// What the controller core needs from whoever hosts it: the virtual clock, one timer, and the
// INT and DRQ output pins. The core calls nothing else outside itself; a plugin binding, a Bochs
// adapter or a unit test's fake host implements this.
#pragma once

#include <cstdint>

namespace fdplug::floppy {

class FdcHost {
  public:
    virtual ~FdcHost() = default;
    virtual int64_t now_ns() const = 0;
    virtual void set_irq(bool level) = 0;
    virtual void set_drq(bool level) = 0;
    // One timer: arming replaces the previous deadline. The host calls Fdc82077::on_timer()
    // when the clock reaches it.
    virtual void arm_timer(int64_t deadline_ns) = 0;
    virtual void cancel_timer() = 0;
};

// How a DMA cycle moves data, in the 8237's terms seen from the controller.
enum class DmaCycle : uint8_t {
    Verify,      // no memory cycle: the bytes go nowhere (reads) or are undefined (writes)
    ToMemory,    // 8237 "write": the controller produces the bytes
    FromMemory,  // 8237 "read": the controller consumes the bytes
};

}  // namespace fdplug::floppy
