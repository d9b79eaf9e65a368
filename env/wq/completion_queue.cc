#include "env/wq/completion_queue.h"

namespace uringfs {
namespace wq {

CompletionQueue::~CompletionQueue() { Close(); }

bool CompletionQueue::Post(Completion* c) {
  {
    absl::MutexLock l(&mu_);
    if (!closed_) {
      c->next_ = nullptr;
      (tail_ != nullptr ? tail_->next_ : head_) = c;
      tail_ = c;
      if (pending_) return false;
      pending_ = true;
      return true;
    }
  }
  c->Complete();  // Fallback: the owner is gone.
  return false;
}

size_t CompletionQueue::RunList(Completion* head) {
  size_t n = 0;
  while (head != nullptr) {
    Completion* next = head->next_;  // Read first: Complete() may re-post.
    head->Complete();
    head = next;
    ++n;
  }
  return n;
}

size_t CompletionQueue::Drain() {
  size_t n = 0;
  {
    absl::MutexLock l(&mu_);
    if (draining_) return 0;
    draining_ = true;
  }
  for (;;) {
    Completion* batch;
    {
      absl::MutexLock l(&mu_);
      batch = head_;
      head_ = tail_ = nullptr;
      if (batch == nullptr) {
        pending_ = false;  // Same critical section as the emptiness check.
        draining_ = false;
        return n;
      }
    }
    n += RunList(batch);
  }
}

bool CompletionQueue::WaitPending(absl::Duration timeout) {
  absl::MutexLock l(&mu_);
  mu_.AwaitWithTimeout(absl::Condition(this, &CompletionQueue::PendingLocked),
                       timeout);
  return pending_;
}

void CompletionQueue::Close() {
  {
    absl::MutexLock l(&mu_);
    if (closed_) return;
    closed_ = true;
  }
  Drain();
}

bool CompletionQueue::pending() const {
  absl::MutexLock l(&mu_);
  return pending_;
}

}  // namespace wq
}  // namespace uringfs
