// -----------------------------------------------------------------------------
// queue.h
// -----------------------------------------------------------------------------
//
// `Queue` is uringfs's worker queue, modelled on the kernel's io-wq: one
// pool per process, with `Task`s as cancellation scopes.
//
// Contract
//
// * Accounts: bound work (regular files; completes in bounded time) and
//   unbound work (may block indefinitely) have separate pending lists, worker
//   limits (changeable at run time) and workers; a worker never changes
//   account. Hashed work is always bound.
// * Hashed work: items with equal buckets (by default the exact `HashKey`)
//   never run at the same time and start in submit order, including items
//   queued while that bucket's run is executing. A worker takes a bucket's
//   whole queued run at once; other buckets and unhashed work proceed in
//   parallel.
// * Workers are created on demand from the enqueue path (no manager thread),
//   never above the limit: an idle worker is activated first, otherwise a new
//   one is started only if no worker of the account is running or the item is
//   `concurrent`. A worker inside a `BlockingScope` counts as not running, so
//   queued work can proceed. Idle workers exit after `idle_timeout`, except the
//   last one of an account. If a thread cannot be started and the account is
//   left with no worker, its pending work is cancelled instead of stranded.
// * Cancellation (`Cancel`) scans queued work, then the rest of the runs that
//   workers have taken but not started, then the items workers hold as
//   current. Queued and taken items are completed as cancelled on the calling
//   thread before Cancel returns (kCancelled). A current item whose DoWork has
//   not begun is flagged and completed as cancelled by its worker (also
//   kCancelled); one already in DoWork is only flagged (kRunning): nothing is
//   interrupted. The predicate runs under the queue lock.
// * Out of memory: `Cancel` and `Shutdown` allocate nothing of their own, so
//   neither fails or throws for want of memory (completions run the items'
//   own DoWork/FreeWork, whose exceptions the queue catches).
// * Credentials: an item runs with the credentials captured on its submitting
//   thread at enqueue (fsuid, fsgid, groups, effective capabilities; see
//   creds.h). Before each item the worker reads what its thread actually runs
//   as (process-wide set*id calls change every thread, workers included) and
//   changes only what differs. There is no baseline: an idle worker keeps
//   what its last item ran as. A failed switch completes the item with -EPERM
//   without running it.
// * `Shutdown()` (also run by the destructor) cancels everything still queued,
//   flags running work, wakes every worker and joins every thread: afterwards
//   no worker thread is left, and later enqueues are cancelled at once.
// * Thread-safe. `DoWork`/`FreeWork`/match/hook callbacks never run with a
// queue
//   lock held (except the match predicate, see above). No exception escapes a
//   worker.
#ifndef URINGFS_ENV_WQ_QUEUE_H_
#define URINGFS_ENV_WQ_QUEUE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <thread>
#include <unordered_map>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "env/wq/creds.h"
#include "env/wq/pending_list.h"
#include "env/wq/task.h"
#include "env/wq/thread_factory.h"
#include "env/wq/work_item.h"

namespace uringfs {
namespace wq {

namespace internal {
struct Worker;
}  // namespace internal

enum class Account { kBound = 0, kUnbound = 1 };

// The array index of an account (Queue::acct_).
inline size_t Index(Account a) { return static_cast<size_t>(a); }

// Test seams: named points where a test hook may block to force a race.
enum class HookPoint {
  kItemTaken,       // A worker made the item current; DoWork not called yet.
  kWorkerIdleExit,  // A worker decided to exit on idle timeout and unlisted
                    // itself; its thread has not returned yet. Item: nullptr.
};

struct QueueOptions {
  int max_bound_workers = 0;  // 0: 4 x online CPUs.
  int max_unbound_workers = 256;
  absl::Duration idle_timeout = absl::Seconds(5);
  // Seams; nullptr / empty means the production default.
  ThreadFactory* thread_factory = nullptr;
  CredsOps* creds_ops = nullptr;
  // Maps an item's key to its bucket (default: identity, i.e. exact keys).
  std::function<HashKey(const HashKey&)> bucket_fn;
  std::function<void(HookPoint, const WorkItem*)> hook;
};

struct AccountStats {
  int max_workers = 0;
  int workers = 0;  // Existing plus being created.
  int running = 0;  // Not parked and not inside a BlockingScope.
  int idle = 0;     // Parked on the free list.
  size_t pending = 0;
};

struct QueueStats {
  AccountStats bound;
  AccountStats unbound;
  uint64_t threads_started = 0;
  uint64_t spawn_failures = 0;
  uint64_t blocking_spawns = 0;  // Creations requested by a BlockingScope.
  uint64_t creds_switches = 0;   // Items whose switch made a set* call.
  size_t held_buckets = 0;
  size_t live_threads = 0;  // Started and not yet joined.
};

class Queue final {
 public:
  explicit Queue(QueueOptions options = QueueOptions());
  ~Queue();
  Queue(const Queue&) = delete;
  Queue& operator=(const Queue&) = delete;

  // Queue::NewTask()
  //
  // A new cancellation scope with a fresh owner token.
  std::unique_ptr<Task> NewTask();

  // Queue::Cancel()
  //
  // Cancels the first match (`all == false`) or every match. See the contract.
  CancelResult Cancel(const MatchFn& match, bool all) ABSL_LOCKS_EXCLUDED(mu_);

  // Queue::SetMaxWorkers()
  //
  // Changes an account's limit (>= 1). Extra workers exit when idle.
  void SetMaxWorkers(Account account, int max) ABSL_LOCKS_EXCLUDED(mu_);

  QueueStats GetStats() const ABSL_LOCKS_EXCLUDED(mu_);

  // Queue::Shutdown()
  //
  // Final exit; idempotent. REQUIRES: not called from a work item.
  void Shutdown() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  friend class Task;
  friend class BlockingScope;

  struct Acct {
    internal::PendingList list;
    int max_workers = 1;
    int nr_workers = 0;
    int nr_running = 0;
    std::vector<internal::Worker*> free;  // Parked workers, LIFO.
  };

  // --- Enqueue and completion paths (queue.cc) ---
  void Enqueue(const std::shared_ptr<internal::TaskState>& task, WorkItem* item)
      ABSL_LOCKS_EXCLUDED(mu_);
  void Submit(WorkItem* item) ABSL_LOCKS_EXCLUDED(mu_);
  void BeginTaskExit(internal::TaskState* task, ShutdownMode mode)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Runs DoWork(status) + FreeWork on this thread, then each dependent as
  // cancelled. Never called with a lock held.
  void CompleteInline(WorkItem* item, int status) ABSL_LOCKS_EXCLUDED(mu_);
  // CompleteInline(item, -ECANCELED) for every item of `chain`, in order.
  void CancelInline(internal::ItemChain* chain) ABSL_LOCKS_EXCLUDED(mu_);
  // Stamps a dependent with its parent's task and credentials.
  static void AdoptDependent(const std::shared_ptr<internal::TaskState>& task,
                             const CredsRef& creds, WorkItem* dependent);
  static int CallDoWork(WorkItem* item, int status);
  static WorkItem* CallFreeWork(WorkItem* item, int status);
  // Never allocates: a cancel or shutdown cannot fail for want of memory.
  size_t CollectCancels(const MatchFn& match, bool all,
                        internal::ItemChain* out, bool* running)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // --- Worker accounting (queue.cc) ---
  bool ActivateFree(Acct& acct) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Unpark(internal::Worker* w) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // ReserveWorker, or null when there is no memory for another worker.
  internal::Worker* ReserveWorkerNoThrow(Account account)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Starts `w`'s thread; retries EAGAIN/ENOMEM a few times. 0 or -errno.
  int StartThreadRetrying(internal::Worker* w, std::thread* thread)
      ABSL_LOCKS_EXCLUDED(mu_);
  static constexpr int kSpawnRetries = 3;
  // Makes a worker (not yet started) with its place in `workers_` and an
  // empty slot in `threads_` for its thread's handle; null when the account
  // is full. Throws only before it changed anything.
  internal::Worker* ReserveWorker(Account account)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void StartWorker(internal::Worker* w) ABSL_LOCKS_EXCLUDED(mu_);
  void ReapLocked(std::vector<std::thread>* out)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool AllWorkersGone() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // --- The worker side (worker.cc) ---
  void WorkerMain(internal::Worker* w) ABSL_LOCKS_EXCLUDED(mu_);
  WorkItem* NextItem(internal::Worker* w) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  WorkItem* RunItem(internal::Worker* w, WorkItem* item, CredsSwitcher* creds)
      ABSL_LOCKS_EXCLUDED(mu_);
  WorkItem* AfterItem(internal::Worker* w, WorkItem* dependent, bool exiting)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool ParkOrExit(internal::Worker* w) ABSL_LOCKS_EXCLUDED(mu_);
  void Unregister(internal::Worker* w) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void EnterBlocking(internal::Worker* w) ABSL_LOCKS_EXCLUDED(mu_);
  void LeaveBlocking(internal::Worker* w) ABSL_LOCKS_EXCLUDED(mu_);
  void Hook(HookPoint point, const WorkItem* item) const {
    if (hook_) hook_(point, item);
  }

  // Immutable after construction.
  const absl::Duration idle_timeout_;
  ThreadFactory* const thread_factory_;
  CredsOps* const creds_ops_;
  const std::function<HashKey(const HashKey&)> bucket_fn_;
  const std::function<void(HookPoint, const WorkItem*)> hook_;

  mutable absl::Mutex mu_;
  Acct acct_[2] ABSL_GUARDED_BY(mu_);
  internal::BucketSet held_ ABSL_GUARDED_BY(mu_);
  // Every worker, parked or busy (the kernel's all_list); cancel and shutdown
  // walk this list so no worker moving between states is missed.
  std::vector<std::unique_ptr<internal::Worker>> workers_ ABSL_GUARDED_BY(mu_);
  // Each worker's thread handle, by worker id; reserved empty (not
  // joinable) while its thread is being started, so storing the handle then
  // never allocates.
  std::unordered_map<uint64_t, std::thread> threads_ ABSL_GUARDED_BY(mu_);
  std::vector<uint64_t> exited_ ABSL_GUARDED_BY(mu_);  // Not joined yet.
  int spawning_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t next_worker_id_ ABSL_GUARDED_BY(mu_) = 1;
  bool shutdown_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t threads_started_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t spawn_failures_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t blocking_spawns_ ABSL_GUARDED_BY(mu_) = 0;
  // relaxed: a statistic; no other memory depends on it.
  std::atomic<uint64_t> creds_switches_{0};
};

// -----------------------------------------------------------------------------
// BlockingScope
// -----------------------------------------------------------------------------
//
// RAII guard that a `DoWork()` wraps around a call that may block (fsync,
// a throttled pwrite). While it lives, the worker counts as not running, so
// queued work of its account gets another worker (activated or created, at
// most one creation per blocking episode). A no-op on non-worker threads.
// Thread-compatible: construct and destroy on the same thread.
class BlockingScope final {
 public:
  BlockingScope();
  ~BlockingScope();
  BlockingScope(const BlockingScope&) = delete;
  BlockingScope& operator=(const BlockingScope&) = delete;

 private:
  internal::Worker* const worker_;
};

}  // namespace wq
}  // namespace uringfs

#endif  // URINGFS_ENV_WQ_QUEUE_H_
