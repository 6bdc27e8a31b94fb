// What the core's unit tests share: a controller on the fake host, and the guest's side of its
// ports — writes that let the fake DMA channel run, command bytes sent with the MSR handshake,
// result phases read back.
#pragma once

#include <gtest/gtest.h>

#include <initializer_list>
#include <memory>
#include <vector>

#include "hw/block/fdc/fdc82077.h"
#include "tests/unit/block/fake_fdc_host.h"

namespace fdplug::floppy::test {

class FdcGuestPorts {
  protected:
    FakeFdcHost host;
    std::unique_ptr<Fdc82077> fdc;

    void out(unsigned port, uint8_t v) {
        fdc->write(port, v);
        host.service_dma();
    }
    uint8_t in(unsigned port) { return fdc->read(port); }
    void send(std::initializer_list<uint8_t> bytes) {
        for (uint8_t b : bytes) {
            ASSERT_EQ(in(kMsr) & (msr::kRqm | msr::kDio), msr::kRqm)
                << "controller not ready for byte " << int(b);
            out(kFifo, b);
        }
    }
    // The result phase: RQM + DIO + CB without NDM (with NDM the bytes would be PIO data).
    std::vector<uint8_t> result() {
        constexpr uint8_t kResultPhase = msr::kRqm | msr::kDio | msr::kCb;
        std::vector<uint8_t> r;
        while ((in(kMsr) & ~msr::kDriveBusy) == kResultPhase && r.size() < 16)
            r.push_back(in(kFifo));
        return r;
    }
    std::vector<uint8_t> sis() {
        send({0x08});
        return result();
    }
};

}  // namespace fdplug::floppy::test
