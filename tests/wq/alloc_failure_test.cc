// Out of memory inside the worker queue (failing_new.h fails the N-th
// allocation of the test's thread).
//
// * Making a worker: every allocation of a first `Enqueue` of a new queue
//   (which starts the queue's first worker) is failed in turn. Whatever
//   fails, the process goes on (no thread handle is dropped while its thread
//   runs, which would call std::terminate), the item is finished exactly
//   once, and Shutdown returns (no worker that was never started is waited
//   for).
// * Cancelling and shutting down allocate nothing, so they cannot fail (or
//   throw out of a destructor) for want of memory.

#include <cerrno>
#include <chrono>
#include <memory>
#include <new>
#include <vector>

#include <gtest/gtest.h>

#include "absl/time/clock.h"
#include "absl/time/time.h"

#include "env/wq/queue.h"
#include "tests/testing/deadline.h"
#include "tests/testing/failing_new.h"
#include "tests/wq/test_util.h"

namespace uringfs {
namespace wq {
namespace {

using testing::Counter;
using testing::TestItem;
using uringfs::testing::ArmAllocationFailure;
using uringfs::testing::DisarmAllocationFailure;

TEST(AllocFailureTest, EveryFailedAllocationOfAFirstEnqueueIsSurvived) {
  long n = 0;
  for (; n < 500; ++n) {
    QueueOptions o;
    o.max_bound_workers = 2;
    auto queue = std::make_unique<Queue>(o);
    std::unique_ptr<Task> task = queue->NewTask();
    TestItem item(1);
    bool threw = false;
    ArmAllocationFailure(n);
    try {
      task->Enqueue(&item);
    } catch (...) {
      threw = true;  // Allowed only if nothing was queued (checked below).
    }
    const bool fired = DisarmAllocationFailure();
    uringfs::testing::WithDeadline(
        "Shutdown after a failed allocation", std::chrono::seconds(10), [&] {
          task->Shutdown(ShutdownMode::kCancel);
          task.reset();
          queue.reset();
        });
    if (threw) {
      EXPECT_EQ(item.free_calls(), 0) << "allocation " << n;
    } else {
      EXPECT_EQ(item.free_calls(), 1) << "allocation " << n;
      EXPECT_TRUE(item.do_status() == 0 || item.do_status() == -ENOMEM ||
                  item.do_status() == -ECANCELED)
          << "allocation " << n << ": status " << item.do_status();
    }
    if (!fired) break;  // Enqueue makes fewer than n + 1 allocations.
  }
  EXPECT_GT(n, 0) << "the first Enqueue allocates (its worker, its thread)";
  EXPECT_LT(n, 500);
}

// Cancel, Task::Shutdown and Queue::Shutdown allocate nothing on the calling
// thread: with the very next allocation armed to fail, none fires, and every
// queued item is still completed as cancelled exactly once. (A shutdown that
// needed memory could throw out of a destructor: std::terminate.)
TEST(AllocFailureTest, CancelAndShutdownAllocateNothing) {
  auto queue = std::make_unique<Queue>(testing::BoundWorkers(1));
  std::unique_ptr<Task> task = queue->NewTask();
  // The one worker runs `blocker` until it is cancelled, so everything
  // enqueued after it stays queued.
  Counter started;
  TestItem blocker(0);
  blocker.SetHashKey(testing::Key(1));
  blocker.body = [&started](TestItem* self) {
    started.Add();
    const absl::Time end = absl::Now() + testing::kWait;
    while (!self->cancel_requested() && absl::Now() < end) {
      absl::SleepFor(absl::Milliseconds(1));
    }
  };
  task->Enqueue(&blocker);
  ASSERT_TRUE(started.WaitAtLeast(1));
  std::vector<std::unique_ptr<TestItem>> queued;
  for (int id = 1; id <= 6; ++id) {
    queued.push_back(std::make_unique<TestItem>(id));
    queued.back()->SetHashKey(testing::Key(id % 3));
    task->Enqueue(queued.back().get());
  }

  ArmAllocationFailure(0);
  const CancelResult cancelled = task->Cancel(
      [](const WorkItem& w) {
        return static_cast<const TestItem&>(w).id() % 2 == 1;
      },
      /*all=*/true);
  EXPECT_FALSE(DisarmAllocationFailure()) << "Task::Cancel allocated";
  EXPECT_EQ(cancelled, CancelResult::kCancelled);
  for (const auto& item : queued) {
    if (item->id() % 2 == 0) continue;
    EXPECT_EQ(item->free_calls(), 1) << "item " << item->id();
    EXPECT_EQ(item->do_status(), -ECANCELED) << "item " << item->id();
  }

  uringfs::testing::WithDeadline(
      "Shutdown armed to fail", std::chrono::seconds(10), [&] {
        ArmAllocationFailure(0);
        task->Shutdown(ShutdownMode::kCancel);
        EXPECT_FALSE(DisarmAllocationFailure()) << "Task::Shutdown allocated";
        ArmAllocationFailure(0);
        queue->Shutdown();
        EXPECT_FALSE(DisarmAllocationFailure()) << "Queue::Shutdown allocated";
      });
  EXPECT_EQ(blocker.free_calls(), 1);
  for (const auto& item : queued) {
    EXPECT_EQ(item->free_calls(), 1) << "item " << item->id();
    EXPECT_EQ(item->do_status(), -ECANCELED) << "item " << item->id();
  }
  task.reset();
  queue.reset();
}

}  // namespace
}  // namespace wq
}  // namespace uringfs
