// Drives the virtual clock's timers from the GLib main loop in realtime mode: one GSource whose
// ready time is the earliest deadline, so an idle host sleeps instead of polling.
#pragma once

#include <glib.h>

namespace fdplug {

class VirtualClock;

class ClockSource {
  public:
    explicit ClockSource(VirtualClock &clock);
    ~ClockSource();
    ClockSource(const ClockSource &) = delete;
    ClockSource &operator=(const ClockSource &) = delete;

    // Recomputes the wakeup after the deadlines or the run state changed.
    void rearm();

  private:
    struct Source;
    static gboolean dispatch(GSource *source, GSourceFunc, gpointer);

    VirtualClock &clock_;
    GSource *source_;
};

}  // namespace fdplug
