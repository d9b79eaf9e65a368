// -----------------------------------------------------------------------------
// worker.h
// -----------------------------------------------------------------------------
//
// `internal::Worker`: the queue's record of one worker thread (the kernel's
// `io_worker`). Internal to `Queue`.
//
// Contract
//
// * Every field except `started` is guarded by the owning `Queue::mu_`. Clang's
//   analysis cannot name a lock held by another object, so the rule is kept by
//   touching a Worker only in `Queue` methods annotated
//   `ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_)` (or before the worker is published).
// * States: reserved (counted, thread being started) -> running <-> parked,
//   running <-> blocked -> exited (unlisted by itself, under the lock).
// * `chain` is the worker's private remainder of a bucket run: taken off the
//   pending list but not started. It stays visible to cancellation.
// * `current` is the item between "taken" and "FreeWork": cancellation flags
// it.
//   `started` tells a canceller whether DoWork may already be running.
// * Owned by `Queue::workers_`; freed by the worker itself as its last step.
#ifndef URINGFS_ENV_WQ_WORKER_H_
#define URINGFS_ENV_WQ_WORKER_H_

#include <atomic>
#include <cstdint>

#include "absl/synchronization/mutex.h"
#include "env/wq/queue.h"
#include "env/wq/work_item.h"

namespace uringfs {
namespace wq {
namespace internal {

struct Worker final {
  Worker(Queue* q, uint64_t worker_id, Account a)
      : queue(q), id(worker_id), account(a) {}
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  Queue* const queue;
  const uint64_t id;
  const Account account;
  absl::CondVar cv;  // Signalled (with Queue::mu_) to activate a parked worker.

  bool parked = false;            // On its account's free list.
  bool blocked = false;           // Inside a BlockingScope.
  bool create_requested = false;  // One creation per blocking episode.
  bool holds_bucket = false;      // `bucket` is in Queue::held_.
  HashKey bucket;
  WorkItem* chain = nullptr;    // Taken, not started (private run remainder).
  WorkItem* current = nullptr;  // Taken, DoWork pending or running.
  // seq_cst: Dekker-style handshake with WorkItem::cancel_ (see RunItem): the
  // worker stores `started` then loads the cancel flag; a canceller stores the
  // cancel flag then loads `started`. One of them sees the other.
  std::atomic<bool> started{false};
};

}  // namespace internal
}  // namespace wq
}  // namespace uringfs

#endif  // URINGFS_ENV_WQ_WORKER_H_
