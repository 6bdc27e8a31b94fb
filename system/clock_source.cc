#include "system/clock_source.h"

#include "system/virtual_clock.h"

namespace fdplug {

struct ClockSource::Source {
    GSource base;
    ClockSource *owner;
};

ClockSource::ClockSource(VirtualClock &clock) : clock_(clock) {
    static GSourceFuncs funcs = {nullptr, nullptr, &ClockSource::dispatch,
                                 nullptr, nullptr, nullptr};
    source_ = g_source_new(&funcs, sizeof(Source));
    reinterpret_cast<Source *>(source_)->owner = this;
    g_source_set_ready_time(source_, -1);
    g_source_attach(source_, nullptr);
    clock_.on_deadline_change = [this] { rearm(); };
    rearm();
}

ClockSource::~ClockSource() {
    clock_.on_deadline_change = nullptr;
    g_source_destroy(source_);
    g_source_unref(source_);
}

void ClockSource::rearm() {
    const auto deadline = clock_.next_deadline();
    if (!deadline || !clock_.running() || clock_.mode() == VirtualClock::Mode::Manual) {
        g_source_set_ready_time(source_, -1);
        return;
    }
    const int64_t wait_ns = *deadline - clock_.now();
    const int64_t wait_us = wait_ns <= 0 ? 0 : (wait_ns + 999) / 1000;
    g_source_set_ready_time(source_, g_get_monotonic_time() + wait_us);
}

gboolean ClockSource::dispatch(GSource *source, GSourceFunc, gpointer) {
    ClockSource *self = reinterpret_cast<Source *>(source)->owner;
    g_source_set_ready_time(source, -1);
    self->clock_.run_due();  // re-arms through on_deadline_change
    return G_SOURCE_CONTINUE;
}

}  // namespace fdplug
