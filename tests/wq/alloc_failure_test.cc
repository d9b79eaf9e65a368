// Out of memory inside the worker queue (failing_new.h fails the N-th
// allocation of the test's thread).
//
// * Making a worker: every allocation of a first `Enqueue` of a new queue
//   (which starts the queue's first worker) is failed in turn. Whatever
//   fails, the process goes on (no thread handle is dropped while its thread
//   runs, which would call std::terminate), the item is finished exactly
//   once, and Shutdown returns (no worker that was never started is waited
//   for).
// * Taking items off the pending list: when the list of removed items
//   cannot grow, what was not removed stays listed; no item is lost.

#include <cerrno>
#include <chrono>
#include <memory>
#include <new>
#include <vector>

#include <gtest/gtest.h>

#include "env/wq/pending_list.h"
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

TEST(AllocFailureTest, RemovalThatCannotListAnItemLeavesItQueued) {
  internal::PendingList list;
  TestItem a(1), b(2), c(3);
  for (TestItem* item : {&a, &b, &c}) list.Push(item, item->hash_key());
  std::vector<WorkItem*> out;
  out.reserve(1);  // Room for one: the second append must allocate.
  ArmAllocationFailure(0);
  EXPECT_THROW(
      list.RemoveIf([](const WorkItem&) { return true; }, true, &out),
      std::bad_alloc);
  EXPECT_TRUE(DisarmAllocationFailure());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], &a);
  EXPECT_EQ(list.size(), 2u);
  EXPECT_TRUE(list.CheckIntegrity());
  // The rest is still there to take.
  EXPECT_EQ(list.RemoveIf([](const WorkItem&) { return true; }, true, &out),
            2u);
  EXPECT_EQ(out.size(), 3u);
  EXPECT_TRUE(list.empty());
}

}  // namespace
}  // namespace wq
}  // namespace uringfs
