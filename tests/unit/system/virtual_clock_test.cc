#include "system/virtual_clock.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace fdplug {
namespace {

TEST(VirtualClock, StepsDeadlineByDeadlineAndCallbacksSeeTheirDeadline) {
    VirtualClock clock(VirtualClock::Mode::Manual);
    std::vector<std::pair<std::string, int64_t>> fired;
    auto *a = clock.timer_new([&] { fired.emplace_back("a", clock.now()); });
    auto *b = clock.timer_new([&] { fired.emplace_back("b", clock.now()); });
    clock.timer_mod(b, 300);
    clock.timer_mod(a, 100);
    clock.step_to(250);
    EXPECT_EQ(clock.now(), 250);
    clock.step_to(1000);
    EXPECT_EQ(fired, (std::vector<std::pair<std::string, int64_t>>{{"a", 100}, {"b", 300}}));
    EXPECT_EQ(clock.now(), 1000);
}

TEST(VirtualClock, EqualDeadlinesFireInArmingOrder) {
    VirtualClock clock(VirtualClock::Mode::Manual);
    std::string order;
    auto *x = clock.timer_new([&] { order += 'x'; });
    auto *y = clock.timer_new([&] { order += 'y'; });
    auto *z = clock.timer_new([&] { order += 'z'; });
    clock.timer_mod(y, 50);
    clock.timer_mod(z, 50);
    clock.timer_mod(x, 50);
    clock.step_to(50);
    EXPECT_EQ(order, "yzx");
}

TEST(VirtualClock, RearmInsideCallbackAndNothingMerged) {
    VirtualClock clock(VirtualClock::Mode::Manual);
    std::vector<int64_t> at;
    VirtualClock::Timer *t = nullptr;
    t = clock.timer_new([&] {
        at.push_back(clock.now());
        if (at.size() < 5) clock.timer_mod(t, clock.now() + 10);
    });
    clock.timer_mod(t, 10);
    clock.step_to(1000);
    EXPECT_EQ(at, (std::vector<int64_t>{10, 20, 30, 40, 50}));
}

TEST(VirtualClock, PastTimeIsANoOpAndNextDeadline) {
    VirtualClock clock(VirtualClock::Mode::Manual);
    clock.step_to(500);
    clock.step_to(100);
    EXPECT_EQ(clock.now(), 500);
    EXPECT_FALSE(clock.next_deadline());
    auto *t = clock.timer_new([] {});
    clock.timer_mod(t, 900);
    EXPECT_EQ(clock.next_deadline(), 900);
    clock.timer_del(t);
    EXPECT_FALSE(clock.next_deadline());
}

TEST(VirtualClock, FreeInsideOwnCallbackIsSafe) {
    VirtualClock clock(VirtualClock::Mode::Manual);
    int runs = 0;
    VirtualClock::Timer *t = nullptr;
    t = clock.timer_new([&] {
        ++runs;
        clock.timer_free(t);
    });
    clock.timer_mod(t, 5);
    clock.step_to(10);
    EXPECT_EQ(runs, 1);
}

TEST(VirtualClock, AfterCallbackHookRunsPerTimer) {
    VirtualClock clock(VirtualClock::Mode::Manual);
    int hooks = 0;
    clock.after_callback = [&] { ++hooks; };
    auto *a = clock.timer_new([] {});
    auto *b = clock.timer_new([] {});
    clock.timer_mod(a, 1);
    clock.timer_mod(b, 2);
    clock.step_to(3);
    EXPECT_EQ(hooks, 2);
}

TEST(VirtualClock, RealtimeClockStandsStillWhileStopped) {
    VirtualClock clock(VirtualClock::Mode::Realtime);
    EXPECT_EQ(clock.now(), 0);
    clock.set_running(true);
    const int64_t t0 = clock.now();
    EXPECT_GE(t0, 0);
    clock.set_running(false);
    const int64_t frozen = clock.now();
    EXPECT_EQ(clock.now(), frozen);
    int fired = 0;
    auto *t = clock.timer_new([&] { ++fired; });
    clock.timer_mod(t, frozen);  // already due
    clock.run_due();
    EXPECT_EQ(fired, 1);
}

}  // namespace
}  // namespace fdplug
