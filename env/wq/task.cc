#include "env/wq/task.h"

#include "env/wq/queue.h"

namespace uringfs {
namespace wq {
namespace internal {

void TaskState::AddInflight() {
  absl::MutexLock l(&mu_);
  ++inflight_;
}

void TaskState::DoneInflight() {
  absl::MutexLock l(&mu_);
  --inflight_;
}

void TaskState::WaitIdle() {
  absl::MutexLock l(&mu_);
  mu_.Await(absl::Condition(this, &TaskState::Idle));
}

int64_t TaskState::inflight() const {
  absl::MutexLock l(&mu_);
  return inflight_;
}

}  // namespace internal

Task::Task(Queue* queue, uint64_t owner)
    : queue_(queue),
      state_(std::make_shared<internal::TaskState>(owner)),
      completions_(std::make_shared<CompletionQueue>()) {}

Task::~Task() {
  if (!shut_down_.load(std::memory_order_relaxed)) {
    Shutdown(ShutdownMode::kCancel);
  }
  completions_->Close();
}

void Task::Enqueue(WorkItem* item) { queue_->Enqueue(state_, item); }

CancelResult Task::Cancel(const MatchFn& match, bool all) {
  const uint64_t owner = state_->owner();
  return queue_->Cancel(
      [owner, &match](const WorkItem& w) {
        return w.owner() == owner && match(w);
      },
      all);
}

void Task::Shutdown(ShutdownMode mode) {
  // 1. The exit flag first (set under the queue lock, so every enqueue either
  //    is visible to the cancel below or sees the flag).
  queue_->BeginTaskExit(state_.get(), mode);
  // 2. Cancel: everything (kCancel) or the unbound work (kDrain).
  const uint64_t owner = state_->owner();
  const bool all_work = mode == ShutdownMode::kCancel;
  queue_->Cancel(
      [owner, all_work](const WorkItem& w) {
        return w.owner() == owner && (all_work || w.unbound());
      },
      /*all=*/true);
  // 3. Wait for running work and for the remaining chains.
  state_->WaitIdle();
  shut_down_.store(true, std::memory_order_relaxed);
}

}  // namespace wq
}  // namespace uringfs
