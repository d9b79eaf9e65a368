// -----------------------------------------------------------------------------
// work_item.h
// -----------------------------------------------------------------------------
//
// `WorkItem` is one unit of work for the worker queue (`queue.h`), the
// userspace counterpart of the kernel's `io_wq_work`. The submitter derives
// from it (the item is usually embedded in an operation object), fills in the
// flags and the optional hash key, and hands it to `Task::Enqueue()`.
//
// Contract
//
// * States: new -> (queued -> taken by a worker) -> running -> freed. Every
// path
//   out of the queue, including cancellation before the item ever reached a
//   worker, calls `DoWork()` exactly once and then `FreeWork()` exactly once.
// * `DoWork(status)`: `status == 0` means "do the work". A negative errno means
//   "do not do the work, complete with this error": `-ECANCELED` (cancelled, or
//   the task/queue is exiting, or no worker could be started), `-EPERM` (the
//   submitter's credentials could not be captured or applied), `-EINVAL` (the
//   item is invalid: hashed *and* unbound). While it runs,
//   `cancel_requested()` turns true if someone cancels it (cooperative
//   cancellation; nothing is ever interrupted).
// * `FreeWork(status)` gets the final outcome: 0, the error passed to `DoWork`,
//   or `kStatusThrew` if `DoWork` threw. It may delete the item and may return
//   a dependent item (usually `TakeDependent()`), which is enqueued for the
//   same task with the same credentials. Exceptions from either call are
//   caught.
// * Both calls may run on a worker thread or on the thread that cancels or
//   enqueues (cancel paths); they must not assume worker context, and are
//   called with no queue lock held, so they may enqueue.
// * Ownership: the queue never deletes an item; the item must stay alive until
//   `FreeWork()` is called. Setters may only be called before `Enqueue()`.
// * Thread-safety: setters are thread-compatible; `RequestCancel()` and
//   `cancel_requested()` are thread-safe.
#ifndef URINGFS_ENV_WQ_WORK_ITEM_H_
#define URINGFS_ENV_WQ_WORK_ITEM_H_

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

#include "env/wq/creds.h"

namespace uringfs {
namespace wq {

// The status passed to `FreeWork()` when `DoWork()` threw.
inline constexpr int kStatusThrew = -ENOTRECOVERABLE;

// An exact hash key, e.g. a file identity `{st_dev, st_ino}`. Items with equal
// keys never run at the same time and run in submit order.
struct HashKey {
  uint64_t hi = 0;
  uint64_t lo = 0;
  friend bool operator==(const HashKey& a, const HashKey& b) {
    return a.hi == b.hi && a.lo == b.lo;
  }
  friend bool operator!=(const HashKey& a, const HashKey& b) {
    return !(a == b);
  }
};

struct HashKeyHasher {
  size_t operator()(const HashKey& k) const {
    uint64_t x = k.hi * 0x9e3779b97f4a7c15ULL ^ k.lo;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return static_cast<size_t>(x);
  }
};

namespace internal {
class ItemChain;
class PendingList;
class TaskState;
}  // namespace internal

class WorkItem {
 public:
  WorkItem() = default;
  virtual ~WorkItem() = default;
  WorkItem(const WorkItem&) = delete;
  WorkItem& operator=(const WorkItem&) = delete;

  // WorkItem::DoWork()
  //
  // Runs the work (`status == 0`) or completes it with the error `status`.
  virtual void DoWork(int status) = 0;

  // WorkItem::FreeWork()
  //
  // The queue's last touch of the item. Returns a dependent item or nullptr.
  virtual WorkItem* FreeWork(int status) = 0;

  // Marks the item hashed with `key`. Hashed work is always bound.
  void SetHashKey(HashKey key) {
    key_ = key;
    hashed_ = true;
  }
  // May block for an unbounded time (sockets, pipes): runs on the unbound
  // account. Must not be combined with a hash key (the item fails with EINVAL).
  void SetUnbound() { unbound_ = true; }
  // Known to block: may start a new worker even while one is running.
  void SetConcurrent() { concurrent_ = true; }
  // Overrides credential capture at enqueue. nullptr means "capture".
  void SetCreds(CredsRef creds) { creds_ = std::move(creds); }
  // Sets the dependent item that `TakeDependent()` hands back.
  void SetDependent(WorkItem* dependent) { dependent_ = dependent; }
  WorkItem* TakeDependent() {
    WorkItem* d = dependent_;
    dependent_ = nullptr;
    return d;
  }

  // Pre-marks the item cancelled (it completes at once with -ECANCELED when
  // enqueued), or asks a running item to stop. Thread-safe.
  void RequestCancel() {
    // seq_cst: pairs with the worker's `started_` store in a Dekker-style
    // handshake (see Queue::RunItem) so that a cancel either sees the item as
    // started or the worker sees the cancel before calling DoWork.
    cancel_.store(true, std::memory_order_seq_cst);
  }
  bool cancel_requested() const {
    // seq_cst: the other half of the handshake described in RequestCancel().
    return cancel_.load(std::memory_order_seq_cst);
  }

  bool hashed() const { return hashed_; }
  bool unbound() const { return unbound_; }
  bool concurrent() const { return concurrent_; }
  const HashKey& hash_key() const { return key_; }
  // The owning task's token; 0 until enqueued. Never reused.
  uint64_t owner() const { return owner_; }
  // The credentials captured at enqueue (nullptr before).
  const CredsRef& creds() const { return creds_; }

 private:
  friend class Queue;
  friend class Task;
  friend class internal::ItemChain;
  friend class internal::PendingList;

  // Intrusive link, owned by the queue. Written on every insert.
  WorkItem* next_ = nullptr;
  WorkItem* dependent_ = nullptr;
  HashKey key_;
  HashKey bucket_;  // key_ after the queue's bucket function.
  bool hashed_ = false;
  bool unbound_ = false;
  bool concurrent_ = false;
  std::atomic<bool> cancel_{false};
  uint64_t owner_ = 0;
  CredsRef creds_;
  std::shared_ptr<internal::TaskState> task_;
};

// The result of a cancellation request. When several items match, the
// precedence is kRunning > kCancelled > kNotFound.
enum class CancelResult {
  kCancelled,  // Was queued or taken but not started; completed as cancelled.
  kRunning,    // Was running; its cancel flag is now set (cooperative).
  kNotFound,   // Nothing matched.
};

// A predicate for `Cancel()`. Called with the queue lock held, possibly while
// the item runs on a worker: it must be quick, must not call into the queue,
// and should only read what does not change after enqueue (owner, key, flags,
// or the submitter's own immutable fields).
using MatchFn = std::function<bool(const WorkItem&)>;

}  // namespace wq
}  // namespace uringfs

#endif  // URINGFS_ENV_WQ_WORK_ITEM_H_
