// -----------------------------------------------------------------------------
// task.h
// -----------------------------------------------------------------------------
//
// `Task` is a cancellation scope on a `Queue`: the userspace counterpart of the
// kernel's per-task io-wq. Every item enqueued through a task carries the
// task's owner token, which is unique for the life of the process and never
// reused (a counter, never a pid or tid).
//
// Contract
//
// * States: open -> exiting (drain or cancel) -> shut down. `Shutdown()` sets
//   the exit flag first, then cancels, then waits for the task's in-flight work
//   (queued, taken or running, dependents included) to reach zero. Anything
//   enqueued after the flag is set is cancelled at once on the enqueuing
//   thread.
//     - kDrain: bound work (e.g. buffered writes) still runs; unbound work is
//       cancelled, pending or running.
//     - kCancel: all of the task's work is cancelled; a worker's remaining
//       chain is cancelled item by item (the exit flag is checked before every
//       item), and running items get their cancel flag set.
//   Shutdown never hangs as long as running `DoWork()` calls honour
//   `cancel_requested()` (kCancel) or finish in bounded time (kDrain).
// * Cancellation through a task never touches another task's work. `Cancel`
//   and `Shutdown` allocate nothing (see queue.h): the destructor cannot
//   throw for want of memory.
// * Thread-safe. REQUIRES: `Shutdown()` and the destructor must not be called
//   from a work item of the same task. The `Queue` must outlive the task. The
//   destructor calls `Shutdown(kCancel)` unless a shutdown already completed.
// * `completions()` is the task's FIFO completion queue; work items may post to
//   it (hold the shared_ptr: it outlives the task and falls back to running
//   completions inline once closed).
#ifndef URINGFS_ENV_WQ_TASK_H_
#define URINGFS_ENV_WQ_TASK_H_

#include <atomic>
#include <cstdint>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "env/wq/completion_queue.h"
#include "env/wq/work_item.h"

namespace uringfs {
namespace wq {

class Queue;

enum class ShutdownMode { kDrain, kCancel };

namespace internal {

// State shared by a task and its in-flight items. Thread-safe.
class TaskState final {
 public:
  explicit TaskState(uint64_t owner) : owner_(owner) {}
  TaskState(const TaskState&) = delete;
  TaskState& operator=(const TaskState&) = delete;

  uint64_t owner() const { return owner_; }

  // Sets (or escalates drain -> cancel) the exit flag.
  void SetExit(ShutdownMode mode) {
    const int v = mode == ShutdownMode::kCancel ? kExitCancel : kExitDrain;
    // release: publishes the flag; readers that see it (acquire) also see
    // everything the shutting-down thread did before.
    int cur = exit_.load(std::memory_order_relaxed);
    while (cur < v &&
           !exit_.compare_exchange_weak(cur, v, std::memory_order_release,
                                        std::memory_order_relaxed)) {
    }
  }
  bool exiting() const {
    // acquire: pairs with the release in SetExit().
    return exit_.load(std::memory_order_acquire) != kExitNone;
  }
  // The per-item exit rule: kCancel cancels everything, kDrain cancels only
  // unbound work.
  bool CancelsOnExit(bool unbound) const {
    // acquire: pairs with the release in SetExit().
    const int v = exit_.load(std::memory_order_acquire);
    return v == kExitCancel || (v == kExitDrain && unbound);
  }

  void AddInflight() ABSL_LOCKS_EXCLUDED(mu_);
  void DoneInflight() ABSL_LOCKS_EXCLUDED(mu_);
  void WaitIdle() ABSL_LOCKS_EXCLUDED(mu_);
  int64_t inflight() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  static constexpr int kExitNone = 0;
  static constexpr int kExitDrain = 1;
  static constexpr int kExitCancel = 2;

  bool Idle() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return inflight_ == 0;
  }

  const uint64_t owner_;
  std::atomic<int> exit_{kExitNone};
  mutable absl::Mutex mu_;
  int64_t inflight_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace internal

class Task final {
 public:
  ~Task();
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;

  // Task::owner()
  //
  // This task's token, stamped on every item it enqueues. Never reused.
  uint64_t owner() const { return state_->owner(); }

  // Task::Enqueue()
  //
  // Captures the calling thread's credentials (unless the item carries some),
  // stamps the owner token and queues `item`. If the task or the queue is
  // exiting, or the item is pre-cancelled, the item is completed as cancelled
  // on this thread before Enqueue returns. Does not take ownership.
  void Enqueue(WorkItem* item);

  // Task::Cancel()
  //
  // `Queue::Cancel()` restricted to this task's items.
  CancelResult Cancel(const MatchFn& match, bool all);

  // Task::Shutdown()
  //
  // See the contract. Idempotent; a later kCancel escalates an earlier kDrain.
  void Shutdown(ShutdownMode mode);

  // Work items of this task that have not been freed yet.
  int64_t inflight() const { return state_->inflight(); }

  const std::shared_ptr<CompletionQueue>& completions() const {
    return completions_;
  }

 private:
  friend class Queue;
  Task(Queue* queue, uint64_t owner);

  Queue* const queue_;
  const std::shared_ptr<internal::TaskState> state_;
  const std::shared_ptr<CompletionQueue> completions_;
  std::atomic<bool> shut_down_{false};  // relaxed: only a destructor hint.
};

}  // namespace wq
}  // namespace uringfs

#endif  // URINGFS_ENV_WQ_TASK_H_
