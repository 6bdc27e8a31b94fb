// What the core's unit tests share: a controller on the fake host, and the guest's side of its
// ports — writes that let the fake DMA channel run, and the driver of tests/support/fdc_guest.h
// over them (command bytes with the MSR handshake, result phases read back).
#pragma once

#include <gtest/gtest.h>

#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "hw/block/fdc/fdc82077.h"
#include "tests/support/fdc_guest.h"
#include "tests/unit/block/fake_fdc_host.h"

namespace fdplug::floppy::test {

// The core's registers by offset; the fake DMA channel runs after every write, as the 8237
// would answer DRQ.
struct CoreBus {
    FakeFdcHost &host;
    std::unique_ptr<Fdc82077> &fdc;
    uint8_t read(uint16_t offset) { return fdc->read(offset); }
    void write(uint16_t offset, uint8_t v) {
        fdc->write(offset, v);
        host.service_dma();
    }
};

class FdcGuestPorts {
  protected:
    FakeFdcHost host;
    std::unique_ptr<Fdc82077> fdc;

    void out(unsigned port, uint8_t v) { bus_.write(uint16_t(port), v); }
    uint8_t in(unsigned port) { return bus_.read(uint16_t(port)); }
    void send(std::initializer_list<uint8_t> bytes) { guest_.send(bytes); }
    std::vector<uint8_t> result() { return guest_.result(); }
    std::vector<uint8_t> sis() { return guest_.sense_interrupt(); }

  private:
    CoreBus bus_{host, fdc};
    // A command byte the controller is not ready for fails the test.
    fdplug::test::FdcGuest<CoreBus> guest_{
        bus_, {.base = 0}, [](const std::string &what) { FAIL() << what; }};
};

}  // namespace fdplug::floppy::test
