// A worker thread that cannot be created for a moment (EAGAIN: the thread or
// memory limit) is tried again, as the kernel's io-wq does, instead of
// cancelling every queued item of the account at the first refusal.

#include <atomic>
#include <cerrno>
#include <functional>
#include <thread>

#include <gtest/gtest.h>

#include "env/wq/queue.h"
#include "env/wq/thread_factory.h"
#include "tests/wq/test_util.h"

namespace uringfs {
namespace wq {
namespace {

using testing::Counter;
using testing::TestItem;

// Refuses the first `refusals` starts with `err`, then starts threads.
class RefusingFactory final : public ThreadFactory {
 public:
  RefusingFactory(int refusals, int err) : left_(refusals), err_(err) {}
  int Start(std::function<void()> body, std::thread* thread) override {
    attempts.fetch_add(1);
    if (left_.fetch_sub(1) > 0) return -err_;
    *thread = std::thread(std::move(body));
    return 0;
  }
  std::atomic<int> attempts{0};

 private:
  std::atomic<int> left_;
  const int err_;
};

struct SpawnRun {
  int do_status = 1;
  int attempts = 0;
  uint64_t spawn_failures = 0;
};

SpawnRun EnqueueOneWith(RefusingFactory* factory) {
  QueueOptions o;
  o.max_bound_workers = 2;
  o.thread_factory = factory;
  Queue queue(o);
  std::unique_ptr<Task> task = queue.NewTask();
  Counter freed;
  TestItem item(1);
  item.freed = &freed;
  task->Enqueue(&item);
  EXPECT_TRUE(freed.WaitAtLeast(1));
  SpawnRun r;
  r.do_status = item.do_status();
  r.attempts = factory->attempts.load();
  r.spawn_failures = queue.GetStats().spawn_failures;
  task->Shutdown(ShutdownMode::kDrain);
  return r;
}

TEST(SpawnRetryTest, TransientEagainIsRetriedAndTheItemRuns) {
  RefusingFactory factory(2, EAGAIN);
  const SpawnRun r = EnqueueOneWith(&factory);
  EXPECT_EQ(r.do_status, 0) << "the item was cancelled, not run";
  EXPECT_EQ(r.attempts, 3);
  EXPECT_EQ(r.spawn_failures, 0u);
}

TEST(SpawnRetryTest, PersistentEagainStillCancelsAfterTheRetries) {
  RefusingFactory factory(1000, EAGAIN);
  const SpawnRun r = EnqueueOneWith(&factory);
  EXPECT_EQ(r.do_status, -ECANCELED);
  EXPECT_EQ(r.attempts, 4);  // The first try and three more.
  EXPECT_EQ(r.spawn_failures, 1u);
}

TEST(SpawnRetryTest, OtherErrorsAreNotRetried) {
  RefusingFactory factory(1000, EPERM);
  const SpawnRun r = EnqueueOneWith(&factory);
  EXPECT_EQ(r.do_status, -ECANCELED);
  EXPECT_EQ(r.attempts, 1);
}

}  // namespace
}  // namespace wq
}  // namespace uringfs
