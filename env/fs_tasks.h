// -----------------------------------------------------------------------------
// env/fs_tasks.h
// -----------------------------------------------------------------------------
//
// `FsTasks` is the set of tasks (include/uringfs/task.h) of one uringfs file
// system: its default task and the ones opened on it, each an `FsTask` over
// a `wq::Task` of the process-wide worker queue. It answers "which task does
// the I/O this thread issues now belong to" (`Current`), and shuts the whole
// file system down.
//
// The file system owns its `FsTasks` and hands it to both engines' users:
// the write scheduler queues work under `Current()`, and the read side tags
// asynchronous reads with its id. Asynchronous reads live in the read engine,
// not in the worker queue; a task's Cancel and Shutdown ask the engine
// (`uring::ReadEngine::CancelAsync`) to cancel the in-flight reads of the
// task, so they cover reads too.
//
// Thread-safety: safe for concurrent use.

#ifndef URINGFS_ENV_FS_TASKS_H_
#define URINGFS_ENV_FS_TASKS_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "base/fork_generation.h"
#include "env/uring/read_engine.h"
#include "env/wq/queue.h"
#include "env/wq/task.h"
#include "uringfs/task.h"

namespace uringfs {

// Monotonic counters (relaxed atomics: statistics only).
struct CancelCounters {
  std::atomic<uint64_t> cancelled{0};  // Cancel() outcomes.
  std::atomic<uint64_t> running{0};
  std::atomic<uint64_t> not_found{0};
  std::atomic<uint64_t> reads_cancelled{0};  // Async reads asked to stop.
};

// What a file system's tasks share, and may outlive the file system: the
// counters and the read engine whose asynchronous reads they cancel.
class TaskHome final {
 public:
  // `reads` is not kept alive by the tasks: once it is gone, so are its
  // reads.
  explicit TaskHome(std::weak_ptr<uring::ReadEngine> reads)
      : reads_(std::move(reads)) {}

  // Cancels the in-flight asynchronous reads of the task with this id;
  // returns how many it asked to stop.
  size_t CancelReads(uint64_t task_id) const;
  CancelCounters& counters() { return counters_; }
  const CancelCounters& counters() const { return counters_; }

  // Set for good once any task of the file system refuses new work; until
  // then no task's own flag needs to be looked up. release/acquire: a
  // reader that sees it set also sees the task's flag.
  void NoteRefusal() {
    some_task_refuses_.store(true, std::memory_order_release);
  }
  bool SomeTaskRefuses() const {
    return some_task_refuses_.load(std::memory_order_acquire);
  }

 private:
  CancelCounters counters_;
  std::atomic<bool> some_task_refuses_{false};
  const std::weak_ptr<uring::ReadEngine> reads_;  // Immutable.
};

class FsTask final : public IoTask {
 public:
  // In a child of fork(), a task made before it is the parent's: Cancel
  // finds nothing and Shutdown returns at once (its work and workers are
  // not in this process).
  FsTask(std::shared_ptr<TaskHome> home, std::unique_ptr<wq::Task> task);
  ~FsTask() override;

  uint64_t id() const override { return task_->owner(); }
  CancelOutcome Cancel() override;
  void Shutdown(ShutdownMode mode) override;
  bool is_shut_down() const override {
    return shut_down_.load(std::memory_order_acquire);
  }

  // Marks the task shut down (new work is refused) and cancels its async
  // reads, without waiting; Shutdown does this first.
  void RefuseNewWork();

  wq::Task& work() { return *task_; }
  const TaskHome* home() const { return home_.get(); }

 private:
  // Returns how many async reads were asked to stop.
  size_t CancelReads();

  const uint64_t generation_;  // ForkGeneration() at construction.
  const std::shared_ptr<TaskHome> home_;
  // Not const: in a child of fork() the destructor leaks it (see there).
  std::unique_ptr<wq::Task> task_;
  // release/acquire: once seen, new work of this task is refused.
  std::atomic<bool> shut_down_{false};
};

class FsTasks final {
 public:
  // Creates the default task on `queue`, which must outlive every task.
  // The tasks cancel the asynchronous reads of `reads`.
  FsTasks(wq::Queue* queue, std::weak_ptr<uring::ReadEngine> reads);

  FsTasks(const FsTasks&) = delete;
  FsTasks& operator=(const FsTasks&) = delete;

  // FsTasks::NewTask()
  //
  // A new task, or null if the file system is shut down (or being shut
  // down: a task is either created before `Shutdown` and shut down by it,
  // or refused).
  std::shared_ptr<FsTask> NewTask() ABSL_LOCKS_EXCLUDED(mu_);

  const std::shared_ptr<FsTask>& default_task() const { return default_; }

  // FsTasks::Current()
  //
  // The task of this thread's innermost `IoTaskScope` for this file
  // system, else the default task. Valid while the scope (or this object)
  // lives.
  FsTask* Current() const;

  // FsTasks::CurrentRefuses()
  //
  // `Current()->is_shut_down()`, without finding the current task while no
  // task of the file system has been shut down (the common case, on every
  // append). Racing with a shutdown, either answer may come back, as with
  // the task's own flag.
  bool CurrentRefuses() const {
    return home_->SomeTaskRefuses() && Current()->is_shut_down();
  }

  // FsTasks::Shutdown()
  //
  // Marks the file system shut down and shuts every live task down in `mode`.
  // Allocates nothing, so it cannot throw (it runs in a destructor): the
  // tasks opened before are visited in place, as `opened_` no longer changes
  // once the flag is set.
  void Shutdown(ShutdownMode mode) ABSL_LOCKS_EXCLUDED(mu_);
  bool shut_down() const { return shut_down_.load(std::memory_order_acquire); }

  TaskHome& home() { return *home_; }
  const TaskHome& home() const { return *home_; }

 private:
  wq::Queue* const queue_;
  const std::shared_ptr<TaskHome> home_;
  const std::shared_ptr<FsTask> default_;
  // Set under `mu_` (so NewTask sees it under the lock too), read freely:
  // release/acquire, as FsTask's.
  std::atomic<bool> shut_down_{false};
  // The first live task of `opened_` at or after `*i`, with `*i` moved past
  // it; null at the end.
  std::shared_ptr<FsTask> NextOpened(size_t* i) const ABSL_LOCKS_EXCLUDED(mu_);

  mutable absl::Mutex mu_;
  std::vector<std::weak_ptr<FsTask>> opened_ ABSL_GUARDED_BY(mu_);
};

}  // namespace uringfs

#endif  // URINGFS_ENV_FS_TASKS_H_
