// -----------------------------------------------------------------------------
// env/write_scheduler.h
// -----------------------------------------------------------------------------
//
// `WriteScheduler` is what one uringfs file system uses to run file work on
// the process-wide worker queue (env/wq, env/process_queue.h): it queues
// work under the file system's tasks (env/fs_tasks.h; work goes to the
// calling thread's current task), owns the write budget and the write
// counters, and knows which inodes the file system has open for writing.
//
// Contract
//
// * Ordering by file identity: work for an `OpenInode` is hashed by the
//   inode's `(st_dev, st_ino)`, so all work for one inode, from any handle,
//   runs one item at a time in submit order; different inodes run in
//   parallel on up to `write_workers` threads.
// * `Enqueue(inode, bytes, work, done)` takes `bytes` of budget first
//   (waiting if the budget is full), then queues `work`. Exactly once,
//   `work(0)` runs the work on a worker, or `work(-ECANCELED)` reports that
//   it was cancelled because the task is shutting down (that can happen on
//   the enqueuing thread). Then the budget is returned and `done()` runs.
//   Both run with the submitting thread's credentials (fsuid, fsgid, groups)
//   and must not throw.
// * `Drain(inode)` returns once every item queued for the inode before the
//   call has completed (run or cancelled), whichever task the items and the
//   caller belong to, shut down or not. It does not wait at all when nothing
//   is queued, and queues nothing itself.
// * Work goes to the calling thread's current task; once that task is shut
//   down, Enqueue cancels at once. The destructor shuts every task of the
//   file system down with kDrain (queued items point at the scheduler).
// * Thread-safe. REQUIRES: the destructor is not called from a work item.

#ifndef URINGFS_ENV_WRITE_SCHEDULER_H_
#define URINGFS_ENV_WRITE_SCHEDULER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "base/counter.h"
#include "base/fork_generation.h"
#include "env/append_copies.h"
#include "env/fs_tasks.h"
#include "env/wq/queue.h"
#include "env/wq/task.h"
#include "env/write_budget.h"
#include "rocksdb/io_status.h"
#include "uringfs/options.h"

namespace uringfs {

// One inode open for writing, shared by its handles and its queued work.
struct OpenInode {
  explicit OpenInode(wq::HashKey k) : key(k) {}
  const wq::HashKey key;
  FileBudget budget;
  // Items queued and not completed yet: a lock-free "nothing to wait for".
  // Increments are relaxed (a handle's own increments are program-ordered
  // before its later reads); the completion's decrement is a release and the
  // drain's read an acquire, so a drain that sees zero also sees what the
  // completed items did — their sticky error — on weakly ordered CPUs too.
  std::atomic<int64_t> queued{0};
  // The sequence numbers of the items not completed yet. Items may complete
  // out of submit order (a cancelled queued item before a running one), so
  // a drain waits until none at or below its mark is left.
  absl::Mutex mu;
  uint64_t next_seq ABSL_GUARDED_BY(mu) = 0;
  std::set<uint64_t> pending ABSL_GUARDED_BY(mu);
};

// Monotonic counters of the write path (relaxed atomics: statistics only).
// The per-append ones are sharded: a WAL writer and the flush and compaction
// threads append at the same time, and one shared cache line would bounce
// between their cores on every append.
struct WriteCounters {
  ShardedCounter appends_queued;  // Appends written behind.
  ShardedCounter appends_direct;  // Appends written by the caller.
  ShardedCounter bytes_queued;
  ShardedCounter bytes_direct;
  std::atomic<uint64_t> drains{0};        // Barriers that had to wait.
  std::atomic<uint64_t> write_errors{0};  // Failed queued operations.
  std::atomic<uint64_t> cancelled{0};     // Items cancelled by shutdown.
};

class WriteScheduler final {
 public:
  // Queues work under `tasks` (the file system's), which is shut down with
  // kDrain when the scheduler is destroyed.
  WriteScheduler(const UringFsOptions& options, std::shared_ptr<FsTasks> tasks);
  ~WriteScheduler();

  WriteScheduler(const WriteScheduler&) = delete;
  WriteScheduler& operator=(const WriteScheduler&) = delete;

  // WriteScheduler::Attach()
  //
  // The `OpenInode` of the existing file `fname`, shared with every other
  // handle of this file system open on the same inode. IOError if `fname`
  // cannot be stat'ed.
  rocksdb::IOStatus Attach(const std::string& fname,
                           std::shared_ptr<OpenInode>* inode)
      ABSL_LOCKS_EXCLUDED(mu_);

  // WriteScheduler::Enqueue()
  //
  // See the contract. If it throws (out of memory), nothing was queued and
  // neither callback runs.
  void Enqueue(const std::shared_ptr<OpenInode>& inode, uint64_t bytes,
               std::function<void(int)> work, std::function<void()> done);

  // WriteScheduler::Drain()
  //
  // See the contract.
  void Drain(const std::shared_ptr<OpenInode>& inode);

  // WriteScheduler::DrainByName()
  //
  // `Drain` for the inode `fname` names, if this file system has it open
  // for writing; otherwise (or if it cannot be stat'ed) returns at once.
  void DrainByName(const std::string& fname) ABSL_LOCKS_EXCLUDED(mu_);

  // True when the calling thread's current task is shut down.
  bool CurrentTaskShutDown() const { return tasks_->CurrentRefuses(); }

  const std::shared_ptr<FsTasks>& tasks() const { return tasks_; }

  // True in a child of fork(): the scheduler's queued work and workers are
  // the parent's. Drains return at once then; callers refuse new work.
  bool forked() const { return ForkedSince(generation_); }
  WriteCounters& counters() { return counters_; }
  const WriteCounters& counters() const { return counters_; }
  const WriteBudget& budget() const { return *budget_; }
  // The recycled copies of every write-behind file's queued appends.
  const std::shared_ptr<AppendCopies>& copies() const { return copies_; }

 private:
  std::shared_ptr<OpenInode> Find(const wq::HashKey& key)
      ABSL_LOCKS_EXCLUDED(mu_);

  const uint64_t generation_;  // ForkGeneration() at construction.
  const std::shared_ptr<WriteBudget> budget_;
  WriteCounters counters_;
  const std::shared_ptr<AppendCopies> copies_ =
      std::make_shared<AppendCopies>();
  const std::shared_ptr<FsTasks> tasks_;
  absl::Mutex mu_;
  std::unordered_map<wq::HashKey, std::weak_ptr<OpenInode>, wq::HashKeyHasher>
      open_ ABSL_GUARDED_BY(mu_);
  size_t sweep_at_ ABSL_GUARDED_BY(mu_) = 64;
};

}  // namespace uringfs

#endif  // URINGFS_ENV_WRITE_SCHEDULER_H_
