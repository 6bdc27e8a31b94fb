// fdplug-host inside the benchmark process: the same objects system/main.cc builds (plugin
// loader, machine, QMP dispatcher with the host's and the plugins' schemas, the plugin ABI
// table), without sockets or a main loop. Port accesses go through the host's ISA bus, DMA
// through its i8237, and the clock is the host's virtual clock (manual under -accel qtest).
//
// The plugin ABI reaches the machine through process-wide globals (system/host_api.cc), so a
// process holds one InProcHost at a time.
#pragma once

#include <glib.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "monitor/dispatcher.h"
#include "monitor/json_stream.h"
#include "system/host_control.h"
#include "system/machine.h"
#include "system/plugin_loader.h"

namespace fdplug::bench {

class InProcHost {
  public:
    // args: a fdplug-host command line without argv[0] (e.g. -machine pc -accel qtest ...).
    // On failure ok() is false and error() says why.
    explicit InProcHost(const std::vector<std::string> &args);
    ~InProcHost();
    InProcHost(const InProcHost &) = delete;
    InProcHost &operator=(const InProcHost &) = delete;

    bool ok() const { return error_.empty(); }
    const std::string &error() const { return error_; }

    Machine &machine() { return *machine_; }
    IsaBus &bus() { return machine_->bus(); }
    qmp::Dispatcher &dispatcher() { return dispatcher_; }

    uint8_t inb(uint16_t port) { return uint8_t(machine_->bus().read(port, 1)); }
    void outb(uint16_t port, uint8_t v) { machine_->bus().write(port, v, 1); }
    void memread(uint64_t addr, std::span<uint8_t> out) { machine_->memory().read(addr, out); }

    // The virtual clock (ns). step_next(): to the next timer deadline, as qtest's clock_step
    // without an argument; false when no timer is armed.
    int64_t now() { return machine_->clock().now(); }
    bool step_next();
    void step_to(int64_t t) { machine_->clock().step_to(t); }

    // The ISA IRQ lines as qtest's irq_intercept_in("ioapic") sees them.
    bool irq(unsigned line) const { return line < 16 && irq_[line]; }

    // QMP: one request object → its reply (negotiation is done at construction).
    qmp::Json qmp(const qmp::Json &request);
    // QMP as text on the wire: request bytes in, reply line out (JSON stream, dispatcher,
    // QMP writer), as a Monitor does for a chardev.
    std::string qmp_text(std::string_view request);

  private:
    std::string error_;
    GMainLoop *loop_ = nullptr;
    std::unique_ptr<PluginLoader> plugins_;
    std::unique_ptr<Machine> machine_;
    qmp::Dispatcher dispatcher_;
    std::unique_ptr<HostControl> control_;
    std::unique_ptr<qmp::JsonStream> stream_;
    std::string reply_;
    bool negotiated_ = false;
    bool irq_[16] = {};
};

}  // namespace fdplug::bench
