// Out of memory while the queue makes a worker: every allocation the
// submitting thread makes inside the first `Enqueue` of a new queue (which
// starts the queue's first worker) is failed in turn, with a replaced global
// `operator new` that throws std::bad_alloc at the N-th call on this thread.
// Whatever fails, the process goes on (no thread handle is dropped while its
// thread runs, which would call std::terminate), the item is finished exactly
// once (run, or completed with an error), and Shutdown returns (no worker
// that was never started is waited for).

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <new>

#include <gtest/gtest.h>

#include "env/wq/queue.h"
#include "tests/testing/deadline.h"
#include "tests/wq/test_util.h"

namespace {

// -1: allocations succeed; N >= 0: the N-th next allocation of this thread
// throws.
thread_local long fail_countdown = -1;

}  // namespace

void* operator new(std::size_t n) {
  if (fail_countdown >= 0 && fail_countdown-- == 0) throw std::bad_alloc();
  void* p = std::malloc(n == 0 ? 1 : n);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace uringfs {
namespace wq {
namespace {

using testing::Counter;
using testing::TestItem;

TEST(SpawnAllocFailureTest, EveryFailedAllocationOfAFirstEnqueueIsSurvived) {
  long n = 0;
  for (; n < 500; ++n) {
    QueueOptions o;
    o.max_bound_workers = 2;
    auto queue = std::make_unique<Queue>(o);
    std::unique_ptr<Task> task = queue->NewTask();
    Counter freed;
    TestItem item(1);
    item.freed = &freed;
    bool threw = false;
    fail_countdown = n;
    try {
      task->Enqueue(&item);
    } catch (...) {
      threw = true;  // Allowed only if nothing was queued (checked below).
    }
    const bool fired = fail_countdown < 0;
    fail_countdown = -1;
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

}  // namespace
}  // namespace wq
}  // namespace uringfs
