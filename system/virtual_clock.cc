#include "system/virtual_clock.h"

#include <algorithm>
#include <chrono>

namespace fdplug {

VirtualClock::VirtualClock(Mode mode) : mode_(mode) {}
VirtualClock::~VirtualClock() = default;

int64_t VirtualClock::monotonic_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

int64_t VirtualClock::realtime_now() const {
    return running_ ? base_ + (monotonic_ns() - resumed_at_) : base_;
}

void VirtualClock::set_running(bool running) {
    if (mode_ == Mode::Manual || running == running_) {
        running_ = running;
        return;
    }
    if (running) {
        resumed_at_ = monotonic_ns();
    } else {
        base_ = now();
    }
    running_ = running;
    notify();
}

VirtualClock::Timer *VirtualClock::timer_new(std::function<void()> callback) {
    timers_.push_back(std::unique_ptr<Timer>(new Timer(std::move(callback))));
    return timers_.back().get();
}

void VirtualClock::timer_mod(Timer *t, int64_t deadline) {
    if (!t || t->freed_) return;
    if (t->armed_) queue_.erase({t->deadline_, t->seq_, t});
    t->deadline_ = deadline;
    t->seq_ = next_seq_++;
    t->armed_ = true;
    queue_.insert({t->deadline_, t->seq_, t});
    notify();
}

void VirtualClock::timer_del(Timer *t) {
    if (!t || !t->armed_) return;
    queue_.erase({t->deadline_, t->seq_, t});
    t->armed_ = false;
    notify();
}

void VirtualClock::timer_free(Timer *t) {
    if (!t) return;
    timer_del(t);
    t->freed_ = true;
    if (firing_depth_ == 0)
        std::erase_if(timers_, [](const std::unique_ptr<Timer> &p) { return p->freed_; });
}

std::optional<int64_t> VirtualClock::next_deadline() const {
    if (queue_.empty()) return std::nullopt;
    return std::get<0>(*queue_.begin());
}

bool VirtualClock::fire_next(int64_t limit) {
    if (queue_.empty()) return false;
    auto [deadline, seq, t] = *queue_.begin();
    if (deadline > limit) return false;
    queue_.erase(queue_.begin());
    t->armed_ = false;
    if (mode_ == Mode::Manual) manual_now_ = std::max(manual_now_, deadline);
    ++firing_depth_;
    t->callback_();
    if (after_callback) after_callback();
    --firing_depth_;
    if (firing_depth_ == 0)
        std::erase_if(timers_, [](const std::unique_ptr<Timer> &p) { return p->freed_; });
    return true;
}

void VirtualClock::step_to(int64_t dest) {
    while (fire_next(dest)) {
    }
    if (mode_ == Mode::Manual) manual_now_ = std::max(manual_now_, dest);
    notify();
}

void VirtualClock::run_due() {
    // Re-read the clock each round: timers a callback arms for "now" run in this pass too, up
    // to a bound, so that a timer re-arming itself in the past cannot starve the main loop.
    for (int budget = 100000; budget > 0 && fire_next(now()); --budget) {
    }
    notify();
}

}  // namespace fdplug
