// The host's virtual clock and its timers: one deterministic list ordered by (deadline, arming
// order). Under qtest, time moves only when told (step_to); otherwise it follows the host's
// monotonic clock while the machine runs, and the main loop calls run_due().
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <tuple>
#include <vector>

namespace fdplug {

class VirtualClock {
  public:
    enum class Mode { Manual, Realtime };

    class Timer {
      public:
        bool armed() const { return armed_; }
        int64_t deadline() const { return deadline_; }

      private:
        friend class VirtualClock;
        explicit Timer(std::function<void()> cb) : callback_(std::move(cb)) {}
        std::function<void()> callback_;
        int64_t deadline_ = 0;
        uint64_t seq_ = 0;
        bool armed_ = false;
        bool freed_ = false;
    };

    explicit VirtualClock(Mode mode);
    ~VirtualClock();

    Mode mode() const { return mode_; }
    // Inline for the manual clock: devices read the clock on most port accesses.
    int64_t now() const { return mode_ == Mode::Manual ? manual_now_ : realtime_now(); }

    Timer *timer_new(std::function<void()> callback);
    // Arms (or re-arms) the timer for an absolute deadline; a deadline in the past fires at the
    // next opportunity, with the clock unchanged.
    void timer_mod(Timer *timer, int64_t deadline_ns);
    void timer_del(Timer *timer);
    void timer_free(Timer *timer);

    std::optional<int64_t> next_deadline() const;

    // Manual mode: advance to dest deadline by deadline; the clock equals each deadline while
    // its timers run. A dest in the past leaves the clock where it is.
    void step_to(int64_t dest);
    // Realtime mode: pause or resume the clock (a stopped machine's time stands still).
    void set_running(bool running);
    bool running() const { return running_; }
    // Realtime mode: run every timer whose deadline has passed.
    void run_due();

    // Called after each timer callback (the host runs deferred work such as DMA there).
    std::function<void()> after_callback;
    // Called whenever the earliest deadline may have changed (the main loop re-arms its wakeup).
    std::function<void()> on_deadline_change;

  private:
    using Key = std::tuple<int64_t, uint64_t, Timer *>;
    bool fire_next(int64_t limit);  // fires the earliest timer if due by limit
    void notify() {
        if (on_deadline_change) on_deadline_change();
    }
    static int64_t monotonic_ns();
    int64_t realtime_now() const;

    Mode mode_;
    int64_t manual_now_ = 0;
    // Realtime: virtual = base_ + (monotonic - resumed_at_) while running.
    int64_t base_ = 0, resumed_at_ = 0;
    bool running_ = false;
    uint64_t next_seq_ = 0;
    std::set<Key> queue_;
    std::vector<std::unique_ptr<Timer>> timers_;
    int firing_depth_ = 0;
};

}  // namespace fdplug
