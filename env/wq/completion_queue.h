// -----------------------------------------------------------------------------
// completion_queue.h
// -----------------------------------------------------------------------------
//
// `CompletionQueue` delivers completions from workers to the submitting side in
// FIFO order: one list per task plus one "pending" bit, as the kernel delivers
// io_uring completions to a task (docs/design.md, appendix A, invariant 28).
//
// Contract
//
// * States: open -> closed (once, by `Close()`).
// * `Post()` appends (and always rewrites the node's link, so a completion that
//   was drained may be posted again). It returns true exactly when it set the
//   pending bit: the poster should then wake the owner (one wakeup per batch).
//   After `Close()`, `Post()` runs the completion on the posting thread (the
//   fallback path) and returns false.
// * `Drain()` runs completions in posting order until it finds the list empty,
//   and clears the pending bit in the same critical section as that emptiness
//   check, so a completion posted at the edge is either run by this drain or
//   sets the bit again. Only one drain runs at a time; a concurrent call
//   returns 0 and leaves the work to the running drain. Completions run with no
//   lock held and may post again.
// * Thread-safe. A posted completion must stay alive until it has run.
#ifndef URINGFS_ENV_WQ_COMPLETION_QUEUE_H_
#define URINGFS_ENV_WQ_COMPLETION_QUEUE_H_

#include <cstddef>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace uringfs {
namespace wq {

class Completion {
 public:
  Completion() = default;
  virtual ~Completion() = default;
  Completion(const Completion&) = delete;
  Completion& operator=(const Completion&) = delete;

  // Runs once per `Post()`; must not throw.
  virtual void Complete() = 0;

 private:
  friend class CompletionQueue;
  Completion* next_ = nullptr;  // Written by every Post().
};

class CompletionQueue final {
 public:
  CompletionQueue() = default;
  ~CompletionQueue();  // Closes (running what is left).
  CompletionQueue(const CompletionQueue&) = delete;
  CompletionQueue& operator=(const CompletionQueue&) = delete;

  bool Post(Completion* c) ABSL_LOCKS_EXCLUDED(mu_);
  size_t Drain() ABSL_LOCKS_EXCLUDED(mu_);
  // Waits up to `timeout` for the pending bit. Returns its value.
  bool WaitPending(absl::Duration timeout) ABSL_LOCKS_EXCLUDED(mu_);
  void Close() ABSL_LOCKS_EXCLUDED(mu_);
  bool pending() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  size_t RunList(Completion* head);
  bool PendingLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return pending_;
  }

  mutable absl::Mutex mu_;
  Completion* head_ ABSL_GUARDED_BY(mu_) = nullptr;
  Completion* tail_ ABSL_GUARDED_BY(mu_) = nullptr;
  bool pending_ ABSL_GUARDED_BY(mu_) = false;
  bool draining_ ABSL_GUARDED_BY(mu_) = false;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace wq
}  // namespace uringfs

#endif  // URINGFS_ENV_WQ_COMPLETION_QUEUE_H_
