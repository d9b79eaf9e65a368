// Randomized stress test (docs/design.md, appendix A, invariant 30): enqueue,
// cancel one/all (queue-wide and by task), blocking work, dependents and task
// exit, all at once. Invariants are checked continuously by counters:
//   1  no two items of one bucket inside DoWork at once (buckets collide: the
//      bucket function folds 16 keys onto 8 buckets);
//   2  per key, items start in submit order (each key has one submitter);
//   8  every item gets exactly one DoWork and one FreeWork;
//   19 workers never exceed the limit (a monitor samples the stats).
// The fixed seeds make the operation mix repeatable; the interleaving is not.
// Run under --config=tsan and --config=asan as well.
#include <atomic>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "env/wq/queue.h"
#include "gtest/gtest.h"
#include "tests/wq/test_util.h"

namespace uringfs {
namespace wq {
namespace {

constexpr int kThreads = 4;
constexpr int kItemsPerThread = 10000;
constexpr int kKeysPerThread = 4;
constexpr int kBuckets = 8;
constexpr int kBoundMax = 4;
constexpr int kUnboundMax = 3;

struct Shared {
  // relaxed everywhere: independent counters, read after all threads joined
  // (or compared only with themselves).
  std::atomic<int> bucket_active[kBuckets] = {};
  std::atomic<int> overlaps{0};
  std::atomic<int> order_violations{0};
  std::atomic<int> limit_violations{0};
  std::atomic<int64_t> last_started[kThreads * kKeysPerThread] = {};
};

class StressItem final : public WorkItem {
 public:
  void Init(Shared* shared, int key, int64_t seq, int kind) {
    shared_ = shared;
    key_ = key;
    seq_ = seq;
    kind_ = kind;
  }

  void DoWork(int status) override {
    do_calls.fetch_add(1, std::memory_order_relaxed);
    if (status != 0) return;
    if (key_ >= 0) {
      const int b = key_ % kBuckets;
      if (shared_->bucket_active[b].fetch_add(1, std::memory_order_relaxed)) {
        shared_->overlaps.fetch_add(1, std::memory_order_relaxed);
      }
      std::atomic<int64_t>& last = shared_->last_started[key_];
      if (last.load(std::memory_order_relaxed) >= seq_) {
        shared_->order_violations.fetch_add(1, std::memory_order_relaxed);
      }
      last.store(seq_, std::memory_order_relaxed);
    }
    if (kind_ == 1) {  // Blocking, like an fsync.
      BlockingScope scope;
      absl::SleepFor(absl::Microseconds(50));
    } else if (kind_ == 2) {  // Cooperative long work.
      for (int i = 0; i < 20 && !cancel_requested(); ++i) {
        absl::SleepFor(absl::Microseconds(10));
      }
    }
    if (key_ >= 0) {
      shared_->bucket_active[key_ % kBuckets].fetch_sub(
          1, std::memory_order_relaxed);
    }
  }

  WorkItem* FreeWork(int /*status*/) override {
    free_calls.fetch_add(1, std::memory_order_relaxed);
    return TakeDependent();
  }

  // relaxed: checked after every thread has joined.
  std::atomic<int> do_calls{0};
  std::atomic<int> free_calls{0};

 private:
  Shared* shared_ = nullptr;
  int key_ = -1;
  int64_t seq_ = 0;
  int kind_ = 0;
};

void Submitter(Queue* queue, Shared* shared, int t, StressItem* items) {
  std::mt19937 rng(1234 + t);
  std::unique_ptr<Task> task = queue->NewTask();
  int64_t seq = 0;
  for (int i = 0; i < kItemsPerThread; ++i) {
    StressItem* item = &items[i];
    const int r = static_cast<int>(rng() % 100);
    const int kind = r < 10 ? 1 : (r < 15 ? 2 : 0);
    int key = -1;
    if (r % 3 != 0) {
      key = t * kKeysPerThread + static_cast<int>(rng() % kKeysPerThread);
      item->SetHashKey(HashKey{1, static_cast<uint64_t>(key)});
    } else if (r % 5 == 0) {
      item->SetUnbound();
    }
    if (r % 11 == 0) item->SetConcurrent();
    if (r % 17 == 0) item->RequestCancel();
    item->Init(shared, key, ++seq, kind);
    // Unhashed dependents (the last slots are reserved for them).
    if (r % 13 == 0 && i + 1 < kItemsPerThread) {
      StressItem* dep = &items[++i];
      dep->Init(shared, -1, 0, 0);
      item->SetDependent(dep);
    }
    task->Enqueue(item);
    const int op = static_cast<int>(rng() % 1000);
    if (op < 10) {
      task->Cancel([](const WorkItem&) { return true; }, op % 2 == 0);
    } else if (op < 14) {
      task->Shutdown(op % 2 ? ShutdownMode::kDrain : ShutdownMode::kCancel);
      task = queue->NewTask();
    }
  }
  task->Shutdown(ShutdownMode::kDrain);
}

int CountNotExactlyOnce(
    const std::vector<std::unique_ptr<StressItem[]>>& items) {
  int bad = 0;
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kItemsPerThread; ++i) {
      const StressItem& it = items[t][i];
      if (it.do_calls.load() != 1 || it.free_calls.load() != 1) ++bad;
    }
  }
  return bad;
}

TEST(StressTest, RandomMixKeepsInvariants) {
  Shared shared;
  std::vector<std::unique_ptr<StressItem[]>> items;
  for (int t = 0; t < kThreads; ++t) {
    items.emplace_back(new StressItem[kItemsPerThread]);
  }
  QueueOptions options;
  options.max_bound_workers = kBoundMax;
  options.max_unbound_workers = kUnboundMax;
  options.idle_timeout = absl::Milliseconds(5);
  options.bucket_fn = [](const HashKey& k) {
    return HashKey{0, k.lo % kBuckets};
  };
  Queue queue(std::move(options));
  std::atomic<bool> done{false};  // relaxed: a stop flag for helper threads.
  std::thread monitor([&] {
    while (!done.load(std::memory_order_relaxed)) {
      QueueStats s = queue.GetStats();
      if (s.bound.workers > kBoundMax || s.unbound.workers > kUnboundMax ||
          s.bound.running > s.bound.workers ||
          s.unbound.running > s.unbound.workers) {
        shared.limit_violations.fetch_add(1, std::memory_order_relaxed);
      }
      absl::SleepFor(absl::Microseconds(200));
    }
  });
  std::thread canceller([&] {
    std::mt19937 rng(99);
    while (!done.load(std::memory_order_relaxed)) {
      const uint64_t pick = rng() % 7;
      queue.Cancel(
          [pick](const WorkItem& w) {
            return w.hashed() && w.hash_key().lo % 7 == pick;
          },
          rng() % 2 == 0);
      absl::SleepFor(absl::Microseconds(300));
    }
  });
  std::vector<std::thread> submitters;
  for (int t = 0; t < kThreads; ++t) {
    submitters.emplace_back(Submitter, &queue, &shared, t, items[t].get());
  }
  for (auto& s : submitters) s.join();
  done.store(true, std::memory_order_relaxed);
  canceller.join();
  monitor.join();
  queue.Shutdown();

  EXPECT_EQ(shared.overlaps.load(), 0);
  EXPECT_EQ(shared.order_violations.load(), 0);
  EXPECT_EQ(shared.limit_violations.load(), 0);
  EXPECT_EQ(CountNotExactlyOnce(items), 0)
      << "items without exactly one DoWork/FreeWork";
  QueueStats s = queue.GetStats();
  EXPECT_EQ(s.live_threads, 0u);
  EXPECT_EQ(s.bound.workers + s.unbound.workers, 0);
}

}  // namespace
}  // namespace wq
}  // namespace uringfs
