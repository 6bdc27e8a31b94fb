// An optional listener for what the controller does, so tracing, metrics and tests hook in
// without touching the model. Every method defaults to doing nothing.
#pragma once

#include <cstdint>
#include <span>

namespace fdplug::floppy {

class FdcObserver {
  public:
    virtual ~FdcObserver() = default;
    virtual void command_started(uint8_t /*opcode*/, const char * /*name*/) {}
    virtual void result_phase(std::span<const uint8_t> /*bytes*/) {}
    virtual void seek_done(unsigned /*unit*/, uint8_t /*pcn*/) {}
    virtual void overrun(unsigned /*unit*/) {}
    // A FIFO access the handshake did not allow (dropped write, read with nothing to read).
    virtual void bad_access(unsigned /*offset*/, bool /*write*/) {}
};

}  // namespace fdplug::floppy
