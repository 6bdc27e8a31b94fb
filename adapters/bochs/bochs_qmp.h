// QMP inside Bochs (FDPLUG_QMP=unix:PATH or tcp:HOST:PORT): fdplug's own monitor — the socket
// chardev, the QMP protocol, the dispatcher with the embedded QAPI schemas — serving the
// floppy-* commands of FloppyManager and a few protocol commands, so that media can be swapped
// in a running Bochs. Nothing here is new protocol code: it is system/chardev, monitor/ and
// hw/block/management/floppy_manager put together for a host that has no GLib main loop.
//
// Threading: Bochs runs its devices on one thread and has no main loop of ours. The socket's
// watches therefore live in a GLib main context of their own (not the default one, which a
// GTK-based Bochs GUI may iterate on its own thread), and poll() iterates it without blocking.
// The adapter calls poll() from a periodic Bochs timer, on Bochs' thread: commands, the media
// changes they make and the events they send all happen there, between two emulated
// instructions, like any other device callback. No locks, no second thread.
#pragma once

#include <glib.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "chardev/chardev.h"
#include "hw/block/management/floppy_manager.h"
#include "monitor/dispatcher.h"
#include "monitor/host_commands.h"
#include "monitor/monitor.h"

namespace fdplug::bochs {

class BochsQmp final : private qmp::MachineControl {
  public:
    // The commands offered besides the floppy-* ones: the protocol's, query-status and QEMU's
    // block commands (on the same drives, through MediaSlot). Nothing that would need to stop,
    // reset or quit Bochs.
    static const std::vector<std::string> kHostCommands;

    // Listens (or connects) as `address` says: unix:PATH or tcp:HOST:PORT, with -qmp's options
    // (server=on and wait=off unless given). `slots` are the drives, in query order. nullptr
    // and *error when the address is wrong or the socket cannot be set up.
    static std::unique_ptr<BochsQmp> start(const std::string &address,
                                           floppy::FloppyManager &manager,
                                           std::vector<floppy::MediaSlot *> slots,
                                           std::string *error);
    ~BochsQmp() override;
    BochsQmp(const BochsQmp &) = delete;
    BochsQmp &operator=(const BochsQmp &) = delete;

    // Services the socket without blocking: accepts a client, reads requests, runs them, writes
    // replies and events. Call it on Bochs' thread only.
    void poll();
    // "unix:/tmp/x.sock", "tcp:localhost:4444": where the monitor is.
    const std::string &where() const { return where_; }

  private:
    BochsQmp(floppy::FloppyManager &manager, std::vector<floppy::MediaSlot *> slots);

    // qmp::MachineControl: Bochs is always running as far as QMP can tell; stop, cont,
    // system_reset and quit are not offered, so the other members are never called.
    std::string run_state() const override { return "running"; }
    bool running() const override { return true; }
    void stop() override {}
    void cont() override {}
    void system_reset() override {}
    void request_quit() override {}
    std::string name() const override { return {}; }
    std::vector<BlockSlot> block_slots() const override;

    floppy::FloppyManager &manager_;
    std::vector<floppy::MediaSlot *> slots_;
    qmp::Dispatcher dispatcher_;
    GMainContext *context_ = nullptr;
    std::unique_ptr<Chardev> chardev_;
    std::unique_ptr<qmp::Monitor> monitor_;
    std::string where_;
};

}  // namespace fdplug::bochs
