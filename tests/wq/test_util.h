// Test helpers for the worker queue: instrumented work items, counters and
// seams (thread factories, credential ops). testonly.
#ifndef URINGFS_TESTS_WQ_TEST_UTIL_H_
#define URINGFS_TESTS_WQ_TEST_UTIL_H_

#include <atomic>
#include <cerrno>
#include <functional>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "env/wq/queue.h"
#include "env/wq/thread_factory.h"
#include "env/wq/work_item.h"

namespace uringfs {
namespace wq {
namespace testing {

// Generous bound for "eventually"; tests never sleep for it when they pass.
inline constexpr absl::Duration kWait = absl::Seconds(10);

// A monotonically counted event with waiting.
class Counter final {
 public:
  void Add(int n = 1) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock l(&mu_);
    value_ += n;
  }
  int value() const ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock l(&mu_);
    return value_;
  }
  // True if the value reached `n` within `timeout`.
  bool WaitAtLeast(int n, absl::Duration timeout = kWait)
      ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock l(&mu_);
    auto reached = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return value_ >= n;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&reached), timeout);
  }

 private:
  mutable absl::Mutex mu_;
  int value_ ABSL_GUARDED_BY(mu_) = 0;
};

// A thread-safe log of ids.
class Log final {
 public:
  void Append(int id) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock l(&mu_);
    ids_.push_back(id);
  }
  std::vector<int> ids() const ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock l(&mu_);
    return ids_;
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<int> ids_ ABSL_GUARDED_BY(mu_);
};

// An instrumented item. Owned by the test; FreeWork never deletes it.
class TestItem final : public WorkItem {
 public:
  explicit TestItem(int id = 0) : id_(id) {}

  int id() const { return id_; }
  // Runs inside DoWork when status == 0.
  std::function<void(TestItem*)> body;
  Log* started_log = nullptr;   // id appended when DoWork runs for real.
  Log* finished_log = nullptr;  // id appended when FreeWork runs.
  Counter* freed = nullptr;     // Add() on FreeWork.
  bool throw_in_do_work = false;

  void DoWork(int status) override {
    do_calls_.fetch_add(1, std::memory_order_relaxed);
    do_status_.store(status, std::memory_order_relaxed);
    do_thread_ = std::this_thread::get_id();
    saw_cancel_at_start_ = cancel_requested();
    if (status != 0) return;
    if (started_log != nullptr) started_log->Append(id_);
    if (throw_in_do_work) throw 42;
    if (body) body(this);
  }

  WorkItem* FreeWork(int status) override {
    free_status_.store(status, std::memory_order_relaxed);
    if (finished_log != nullptr) finished_log->Append(id_);
    WorkItem* d = TakeDependent();
    // Counted last: after this the test may inspect (and destroy) the item.
    free_calls_.fetch_add(1, std::memory_order_release);
    if (freed != nullptr) freed->Add();
    return d;
  }

  int do_calls() const { return do_calls_.load(std::memory_order_relaxed); }
  int free_calls() const { return free_calls_.load(std::memory_order_acquire); }
  int do_status() const { return do_status_.load(std::memory_order_relaxed); }
  int free_status() const {
    return free_status_.load(std::memory_order_relaxed);
  }
  std::thread::id do_thread() const { return do_thread_; }
  bool saw_cancel_at_start() const { return saw_cancel_at_start_; }

 private:
  const int id_;
  std::atomic<int> do_calls_{0};
  std::atomic<int> free_calls_{0};
  std::atomic<int> do_status_{1};
  std::atomic<int> free_status_{1};
  std::thread::id do_thread_;
  bool saw_cancel_at_start_ = false;
};

inline HashKey Key(uint64_t n) { return HashKey{7, n}; }

// Queue options with at most `n` bound workers, the rest default.
inline QueueOptions BoundWorkers(int n) {
  QueueOptions o;
  o.max_bound_workers = n;
  return o;
}

// Polls `cond` until it holds or `kWait` passes. For conditions that have no
// event to wait on (worker counts, timeouts); returns the final value.
inline bool Eventually(const std::function<bool()>& cond) {
  for (absl::Time end = absl::Now() + kWait; absl::Now() < end;) {
    if (cond()) return true;
    absl::SleepFor(absl::Milliseconds(1));
  }
  return cond();
}

// Waits until every worker is parked and no bucket is held: the point after
// which a finished item's bookkeeping (bucket release, in-flight count) is
// visible. FreeWork runs before that bookkeeping.
inline bool Quiesce(const Queue& queue) {
  return Eventually([&queue] {
    QueueStats s = queue.GetStats();
    return s.bound.running == 0 && s.unbound.running == 0 &&
           s.held_buckets == 0;
  });
}

// A thread factory that can fail on demand and counts starts.
class TestThreadFactory final : public ThreadFactory {
 public:
  int Start(std::function<void()> body, std::thread* thread) override {
    attempts.fetch_add(1, std::memory_order_relaxed);
    if (hold != nullptr) hold->WaitForNotificationWithTimeout(kWait);
    if (fail.load(std::memory_order_relaxed)) return -EAGAIN;
    *thread = std::thread(std::move(body));
    return 0;
  }
  // relaxed: plain test knobs/counters, read after synchronising otherwise.
  std::atomic<bool> fail{false};
  std::atomic<int> attempts{0};
  // If set, Start() waits for it: holds a creation in flight.
  absl::Notification* hold = nullptr;
};

}  // namespace testing
}  // namespace wq
}  // namespace uringfs

#endif  // URINGFS_TESTS_WQ_TEST_UTIL_H_
