// PeriodicThread: calls come every period, Stop() returns promptly whatever
// the period, nothing is called after it, and a child of fork() never waits
// for the parent's thread.

#include "env/periodic_thread.h"

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

#include <gtest/gtest.h>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "tests/testing/child_process.h"
#include "tests/testing/deadline.h"

namespace uringfs {
namespace {

using std::chrono::milliseconds;
using testing::Background;
using testing::Eventually;

TEST(PeriodicThreadTest, CallsTheFunctionOncePerPeriod) {
  std::atomic<int> calls{0};
  PeriodicThread t(
      absl::Milliseconds(20), [&] { ++calls; }, "test-periodic");
  ASSERT_TRUE(t.started());
  EXPECT_TRUE(Eventually([&] { return calls.load() >= 3; }));
}

TEST(PeriodicThreadTest, FirstCallComesAPeriodAfterConstruction) {
  std::atomic<int> calls{0};
  PeriodicThread t(
      absl::Milliseconds(400), [&] { ++calls; }, "test-periodic");
  std::this_thread::sleep_for(milliseconds(100));
  EXPECT_EQ(calls.load(), 0);
  EXPECT_TRUE(Eventually([&] { return calls.load() >= 1; }));
}

TEST(PeriodicThreadTest, StopReturnsPromptlyDuringALongPeriod) {
  std::atomic<int> calls{0};
  PeriodicThread t(
      absl::Hours(1), [&] { ++calls; }, "test-periodic");
  Background stop([&] { t.Stop(); });
  EXPECT_TRUE(stop.Finished(milliseconds(1000)));
  EXPECT_EQ(calls.load(), 0);
}

TEST(PeriodicThreadTest, DestroyingItStopsItPromptly) {
  auto t = std::make_unique<PeriodicThread>(
      absl::Hours(1), [] {}, "test-periodic");
  Background destroy([&] { t.reset(); });
  EXPECT_TRUE(destroy.Finished(milliseconds(1000)));
}

TEST(PeriodicThreadTest, NothingIsCalledAfterStopReturns) {
  std::atomic<int> calls{0};
  PeriodicThread t(
      absl::Milliseconds(5), [&] { ++calls; }, "test-periodic");
  ASSERT_TRUE(Eventually([&] { return calls.load() >= 2; }));
  t.Stop();
  const int after_stop = calls.load();
  std::this_thread::sleep_for(milliseconds(100));
  EXPECT_EQ(calls.load(), after_stop);
  t.Stop();  // Again: a no-op.
}

TEST(PeriodicThreadTest, StopWaitsForTheCallInProgressOnly) {
  absl::Notification entered;
  absl::Notification release;
  std::atomic<bool> returned{false};
  PeriodicThread t(
      absl::Milliseconds(5),
      [&] {
        if (!entered.HasBeenNotified()) entered.Notify();
        release.WaitForNotification();
        returned = true;
      },
      "test-periodic");
  entered.WaitForNotification();
  Background stop([&] { t.Stop(); });
  EXPECT_FALSE(stop.Finished(milliseconds(100)));  // The call is running.
  release.Notify();
  EXPECT_TRUE(stop.Finished(milliseconds(2000)));
  EXPECT_TRUE(returned.load());
}

TEST(PeriodicThreadTest, ConcurrentStopsAllReturn) {
  PeriodicThread t(
      absl::Hours(1), [] {}, "test-periodic");
  Background a([&] { t.Stop(); });
  Background b([&] { t.Stop(); });
  EXPECT_TRUE(a.Finished(milliseconds(1000)));
  EXPECT_TRUE(b.Finished(milliseconds(1000)));
}

TEST(PeriodicThreadTest, ChildOfForkStopsAndDestroysItWithoutWaiting) {
  std::atomic<int> calls{0};
  auto t = std::make_unique<PeriodicThread>(
      absl::Milliseconds(5), [&] { ++calls; }, "test-periodic");
  ASSERT_TRUE(Eventually([&] { return calls.load() >= 1; }));
  testing::ExpectChildPasses(
      [&] {
        // The thread does not exist here; this must neither join nor lock.
        t->Stop();
        t.reset();
        const int in_child = calls.load();
        std::this_thread::sleep_for(milliseconds(50));
        EXPECT_EQ(calls.load(), in_child);
      },
      /*alarm_seconds=*/5);
  // The parent's thread goes on.
  const int before = calls.load();
  EXPECT_TRUE(Eventually([&] { return calls.load() > before; }));
}

}  // namespace
}  // namespace uringfs
