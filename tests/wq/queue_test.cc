// Queue behaviour: hashing, ordering, dependents, exceptions, credentials via
// the syscall seam. Invariants of docs/design.md, appendix A, covered here:
//   1  SameKeyItemsNeverRunConcurrently
//   2  SameKeyItemsRunInSubmitOrderIncludingItemsQueuedWhileRunning
//   3  CollidingBucketsAreSerialisedInSubmitOrder
//   4  BlockedChainDoesNotHoldUpUnrelatedWork
//   5  StalledBucketsAreAlwaysResumed. The kernel's sub-cases (enqueue or
//      release during the STALLED handshake, release with no waiter) do not
//      apply: enqueue, bucket release and a worker's decision to park all
//      happen under the one queue mutex, so there is no handshake and no
//      shared hash wait queue. The test checks the observable property.
//   10 UnhashedDependentRunsInlineOnSameWorker,
//      HashedDependentIsRequeuedBehindItsBucket. "Never visible as current on
//      the old worker" holds by construction (AfterItem only ever puts an
//      inline dependent on the worker's private chain, never in `current`).
//   26 (seam part) FailedCredsSwitchFailsItemWithoutRunningIt,
//      SameCredsItemsDoNotReswitch. The root part is in creds_test.cc.
//   27 Cancel-path callbacks: see cancel_test.cc.
//   29 ThrowingDoWorkIsCaughtAndBucketIsReleased
#include "env/wq/queue.h"

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/wq/test_util.h"

namespace uringfs {
namespace wq {
namespace {

using testing::BoundWorkers;
using testing::Counter;
using testing::Key;
using testing::kWait;
using testing::Log;
using testing::Quiesce;
using testing::TestItem;

std::vector<std::unique_ptr<TestItem>> MakeItems(int n, Counter* freed) {
  std::vector<std::unique_ptr<TestItem>> items;
  for (int i = 0; i < n; ++i) {
    items.push_back(std::make_unique<TestItem>(i));
    items.back()->freed = freed;
  }
  return items;
}

// Gives every item of `items` hash key 1 and the start log `log`; the first
// one, once running, counts itself in `running` and waits for `gate`.
void SameKeyFirstHeld(const std::vector<std::unique_ptr<TestItem>>& items,
                      Log* log, Counter* running, absl::Notification* gate) {
  for (const auto& item : items) {
    item->SetHashKey(Key(1));
    item->started_log = log;
  }
  items[0]->body = [running, gate](TestItem*) {
    running->Add();
    gate->WaitForNotificationWithTimeout(kWait);
  };
}

// Checks that no two items of one key are inside DoWork at once.
class OverlapDetector {
 public:
  void Enter(int key) {
    // relaxed: the counter itself is the only shared state checked.
    if (active_[key].fetch_add(1, std::memory_order_relaxed) != 0) {
      overlaps_.fetch_add(1, std::memory_order_relaxed);
    }
    std::this_thread::yield();
  }
  void Leave(int key) { active_[key].fetch_sub(1, std::memory_order_relaxed); }
  int overlaps() const { return overlaps_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int> active_[16] = {};
  std::atomic<int> overlaps_{0};
};

TEST(WorkQueueTest, SameKeyItemsNeverRunConcurrently) {
  constexpr int kPerKey = 60, kKeys = 3;
  Counter freed;
  OverlapDetector detector;
  Log log[kKeys];
  auto items = MakeItems(kPerKey * kKeys, &freed);
  Queue queue(BoundWorkers(4));
  auto task_a = queue.NewTask();
  auto task_b = queue.NewTask();  // Two tasks share the key space.
  for (int i = 0; i < kPerKey * kKeys; ++i) {
    const int key = i % kKeys;
    TestItem* item = items[i].get();
    item->SetHashKey(Key(key));
    item->SetConcurrent();  // Push for as many workers as allowed.
    item->body = [&detector, key](TestItem*) {
      detector.Enter(key);
      detector.Leave(key);
    };
    item->started_log = &log[key];
    (i % 2 == 0 ? task_a : task_b)->Enqueue(item);
  }
  ASSERT_TRUE(freed.WaitAtLeast(kPerKey * kKeys));
  EXPECT_EQ(detector.overlaps(), 0);
  for (int k = 0; k < kKeys; ++k) {
    std::vector<int> ids = log[k].ids();
    ASSERT_EQ(ids.size(), static_cast<size_t>(kPerKey));
    for (size_t j = 1; j < ids.size(); ++j) EXPECT_LT(ids[j - 1], ids[j]);
  }
}

TEST(WorkQueueTest,
     SameKeyItemsRunInSubmitOrderIncludingItemsQueuedWhileRunning) {
  Counter freed, first_running;
  absl::Notification gate;
  Log log;
  auto items = MakeItems(10, &freed);
  Queue queue(BoundWorkers(4));
  auto task = queue.NewTask();
  SameKeyFirstHeld(items, &log, &first_running, &gate);
  for (int i = 0; i < 3; ++i) task->Enqueue(items[i].get());
  ASSERT_TRUE(first_running.WaitAtLeast(1));
  // The run [0..2] is executing: these form a new run behind it.
  for (int i = 3; i < 10; ++i) task->Enqueue(items[i].get());
  gate.Notify();
  ASSERT_TRUE(freed.WaitAtLeast(10));
  EXPECT_EQ(log.ids(), (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
}

TEST(WorkQueueTest, CollidingBucketsAreSerialisedInSubmitOrder) {
  Counter freed;
  OverlapDetector detector;
  Log log;
  auto items = MakeItems(40, &freed);
  QueueOptions options = BoundWorkers(4);
  options.bucket_fn = [](const HashKey&) { return HashKey{0, 0}; };
  Queue queue(std::move(options));
  auto task = queue.NewTask();
  for (auto& item : items) {
    item->SetHashKey(Key(item->id() % 2));  // Two keys, one bucket.
    item->SetConcurrent();
    item->started_log = &log;
    item->body = [&detector](TestItem*) {
      detector.Enter(0);
      detector.Leave(0);
    };
    task->Enqueue(item.get());
  }
  ASSERT_TRUE(freed.WaitAtLeast(40));
  EXPECT_EQ(detector.overlaps(), 0);
  std::vector<int> ids = log.ids();
  for (size_t j = 1; j < ids.size(); ++j) EXPECT_LT(ids[j - 1], ids[j]);
}

TEST(WorkQueueTest, BlockedChainDoesNotHoldUpUnrelatedWork) {
  Counter freed, blocked;
  absl::Notification gate;
  auto items = MakeItems(5, &freed);
  Queue queue(BoundWorkers(2));
  auto task = queue.NewTask();
  items[0]->SetHashKey(Key(1));
  items[0]->body = [&](TestItem*) {
    blocked.Add();
    gate.WaitForNotificationWithTimeout(kWait);
  };
  items[1]->SetHashKey(Key(1));  // Behind the blocked run.
  items[3]->SetHashKey(Key(2));  // A free bucket.
  task->Enqueue(items[0].get());
  ASSERT_TRUE(blocked.WaitAtLeast(1));
  Counter others;
  for (int i : {2, 3, 4}) items[i]->freed = &others;
  items[2]->SetConcurrent();  // Start the second worker.
  for (int i = 1; i < 5; ++i) task->Enqueue(items[i].get());
  // 2 (unhashed), 3 (key 2) and 4 (unhashed) finish while key 1 is blocked.
  ASSERT_TRUE(others.WaitAtLeast(3));
  EXPECT_EQ(items[1]->do_calls(), 0);
  gate.Notify();
  ASSERT_TRUE(freed.WaitAtLeast(2));
}

TEST(WorkQueueTest, StalledBucketsAreAlwaysResumed) {
  constexpr int kItems = 400;
  Counter freed;
  OverlapDetector detector;
  auto items = MakeItems(kItems, &freed);
  QueueOptions options = BoundWorkers(3);
  // Many keys, two buckets: most workers find only held buckets and park.
  options.bucket_fn = [](const HashKey& k) { return HashKey{0, k.lo % 2}; };
  Queue queue(std::move(options));
  auto task_a = queue.NewTask();
  auto task_b = queue.NewTask();
  for (auto& item : items) {
    item->SetHashKey(Key(static_cast<uint64_t>(item->id())));
    if (item->id() % 7 == 0) item->SetConcurrent();
    const int bucket = item->id() % 2;
    item->body = [&detector, bucket](TestItem*) {
      detector.Enter(bucket);
      detector.Leave(bucket);
    };
  }
  std::thread other([&] {
    for (int i = 1; i < kItems; i += 2) task_b->Enqueue(items[i].get());
  });
  for (int i = 0; i < kItems; i += 2) task_a->Enqueue(items[i].get());
  other.join();
  ASSERT_TRUE(freed.WaitAtLeast(kItems)) << "an item waited forever";
  EXPECT_EQ(detector.overlaps(), 0);
  EXPECT_TRUE(Quiesce(queue));
}

TEST(WorkQueueTest, UnhashedDependentRunsInlineOnSameWorker) {
  Counter freed;
  auto items = MakeItems(2, &freed);
  Queue queue(BoundWorkers(4));
  auto task = queue.NewTask();
  items[0]->SetDependent(items[1].get());
  task->Enqueue(items[0].get());
  ASSERT_TRUE(freed.WaitAtLeast(2));
  EXPECT_EQ(items[1]->do_status(), 0);
  EXPECT_EQ(items[1]->do_thread(), items[0]->do_thread());
  EXPECT_EQ(items[1]->owner(), task->owner());
  ASSERT_TRUE(Quiesce(queue));
  EXPECT_EQ(task->inflight(), 0);
}

TEST(WorkQueueTest, HashedDependentIsRequeuedBehindItsBucket) {
  Counter freed, first_running;
  absl::Notification gate;
  Log log;
  auto items = MakeItems(4, &freed);
  Queue queue(BoundWorkers(4));
  auto task = queue.NewTask();
  SameKeyFirstHeld(items, &log, &first_running, &gate);
  items[0]->SetDependent(items[3].get());  // Hashed dependent of item 0.
  task->Enqueue(items[0].get());
  ASSERT_TRUE(first_running.WaitAtLeast(1));
  task->Enqueue(items[1].get());  // Queued before the dependent appears.
  task->Enqueue(items[2].get());
  gate.Notify();
  ASSERT_TRUE(freed.WaitAtLeast(4));
  EXPECT_EQ(log.ids(), (std::vector<int>{0, 1, 2, 3}));
}

TEST(WorkQueueTest, ThrowingDoWorkIsCaughtAndBucketIsReleased) {
  Counter freed;
  auto items = MakeItems(3, &freed);
  Queue queue(BoundWorkers(1));
  auto task = queue.NewTask();
  for (auto& item : items) item->SetHashKey(Key(9));
  items[0]->throw_in_do_work = true;
  for (auto& item : items) task->Enqueue(item.get());
  ASSERT_TRUE(freed.WaitAtLeast(3));
  EXPECT_EQ(items[0]->free_status(), kStatusThrew);
  EXPECT_EQ(items[0]->free_calls(), 1);
  EXPECT_EQ(items[1]->free_status(), 0);
  EXPECT_EQ(items[2]->free_status(), 0);
  EXPECT_TRUE(Quiesce(queue));  // The bucket was released.
}

// A per-thread fake of the credential system calls (no root needed).
class FakeCredsOps final : public CredsOps {
 public:
  long SetFsuid(uid_t id) override {
    calls.fetch_add(1, std::memory_order_relaxed);
    const long prev = state().fsuid;
    if (id != static_cast<uid_t>(-1) && !fail_ids) state().fsuid = id;
    return prev;
  }
  long SetFsgid(gid_t id) override {
    calls.fetch_add(1, std::memory_order_relaxed);
    const long prev = state().fsgid;
    if (id != static_cast<gid_t>(-1) && !fail_ids) state().fsgid = id;
    return prev;
  }
  int SetGroups(const std::vector<gid_t>& groups) override {
    calls.fetch_add(1, std::memory_order_relaxed);
    state().groups = groups;
    return 0;
  }
  int GetGroups(std::vector<gid_t>* groups) override {
    *groups = state().groups;
    return 0;
  }
  // No capabilities at all: nothing to switch there.
  int CapGet(Capabilities* caps) override {
    *caps = Capabilities();
    return 0;
  }
  int CapSet(const Capabilities& /*caps*/) override {
    calls.fetch_add(1, std::memory_order_relaxed);
    return 0;
  }
  static uid_t CurrentFsuid() { return state().fsuid; }

  std::atomic<bool> fail_ids{false};  // relaxed: set before use.
  std::atomic<int> calls{0};          // relaxed: a counter.

 private:
  struct State {
    uid_t fsuid = 100;
    gid_t fsgid = 100;
    std::vector<gid_t> groups;
  };
  static State& state() {
    thread_local State s;
    return s;
  }
};

TEST(WorkQueueTest, FailedCredsSwitchFailsItemWithoutRunningIt) {
  Counter freed;
  FakeCredsOps ops;
  auto items = MakeItems(2, &freed);
  QueueOptions options = BoundWorkers(1);
  options.creds_ops = &ops;
  Queue queue(std::move(options));
  auto task = queue.NewTask();
  ops.fail_ids = true;
  items[0]->SetCreds(std::make_shared<const Creds>(5, 5, std::vector<gid_t>()));
  bool ran = false;
  items[0]->body = [&ran](TestItem*) { ran = true; };
  task->Enqueue(items[0].get());
  task->Enqueue(items[1].get());  // Captured: the worker's own; still runs.
  ASSERT_TRUE(freed.WaitAtLeast(2));
  EXPECT_FALSE(ran);
  EXPECT_EQ(items[0]->do_status(), -EPERM);
  EXPECT_EQ(items[0]->free_status(), -EPERM);
  EXPECT_EQ(items[1]->do_status(), 0);
}

TEST(WorkQueueTest, SameCredsItemsDoNotReswitch) {
  Counter freed;
  FakeCredsOps ops;
  auto items = MakeItems(10, &freed);
  QueueOptions options = BoundWorkers(1);
  options.creds_ops = &ops;
  Queue queue(std::move(options));
  auto task = queue.NewTask();
  auto tenant = std::make_shared<const Creds>(7, 8, std::vector<gid_t>{9});
  std::atomic<int> wrong{0};  // relaxed: read after all items are freed.
  absl::Notification all_queued;
  for (auto& item : items) {
    item->SetHashKey(Key(1));
    item->SetCreds(tenant);
    item->body = [&wrong, &all_queued](TestItem*) {
      // Keep the worker busy until all ten are queued.
      all_queued.WaitForNotificationWithTimeout(kWait);
      if (FakeCredsOps::CurrentFsuid() != 7) {
        wrong.fetch_add(1, std::memory_order_relaxed);
      }
    };
    task->Enqueue(item.get());
  }
  all_queued.Notify();
  ASSERT_TRUE(freed.WaitAtLeast(10));
  // Wait until the worker is parked: it keeps the tenant's identity.
  ASSERT_TRUE(Quiesce(queue));
  EXPECT_EQ(wrong.load(), 0);
  // One switch to the tenant (same creds for all ten), none back.
  EXPECT_EQ(queue.GetStats().creds_switches, 1u);
  EXPECT_EQ(FakeCredsOps::CurrentFsuid(), 100u);  // This thread: untouched.
}

}  // namespace
}  // namespace wq
}  // namespace uringfs
