#include "env/fs_tasks.h"

#include <algorithm>
#include <utility>

#include "base/counter.h"

namespace uringfs {
namespace {

thread_local const IoTaskScope* tls_innermost = nullptr;
}  // namespace

IoTaskScope::IoTaskScope(std::shared_ptr<IoTask> task)
    : task_(std::move(task)), outer_(tls_innermost) {
  tls_innermost = this;
}

IoTaskScope::~IoTaskScope() { tls_innermost = outer_; }

const IoTaskScope* IoTaskScope::Innermost() { return tls_innermost; }

size_t TaskHome::CancelReads(uint64_t task_id) const {
  std::shared_ptr<uring::ReadEngine> engine = reads_.lock();
  return engine == nullptr ? 0 : engine->CancelAsync(task_id);
}

FsTask::FsTask(std::shared_ptr<TaskHome> home, std::unique_ptr<wq::Task> task)
    : IoTask(home.get()),
      generation_(ForkGeneration()),
      home_(std::move(home)),
      task_(std::move(task)) {}

FsTask::~FsTask() {
  if (ForkedSince(generation_)) {
    // The queue task is the parent's: destroying it would wait for work
    // that no thread of this process will ever run. Left alone for good.
    (void)task_.release();
    return;
  }
  Shutdown(ShutdownMode::kDrain);
}

size_t FsTask::CancelReads() {
  const size_t n = home_->CancelReads(id());
  Bump(home_->counters().reads_cancelled, n);
  return n;
}

CancelOutcome FsTask::Cancel() {
  if (ForkedSince(generation_)) return CancelOutcome::kNotFound;
  const wq::CancelResult r =
      task_->Cancel([](const wq::WorkItem&) { return true; }, /*all=*/true);
  const size_t reads = CancelReads();
  if (r == wq::CancelResult::kNotFound && reads > 0) {
    Bump(home_->counters().cancelled);
    return CancelOutcome::kCancelled;  // Reads in the kernel were.
  }
  switch (r) {
    case wq::CancelResult::kCancelled:
      Bump(home_->counters().cancelled);
      return CancelOutcome::kCancelled;
    case wq::CancelResult::kRunning:
      Bump(home_->counters().running);
      return CancelOutcome::kRunning;
    case wq::CancelResult::kNotFound:
      break;
  }
  Bump(home_->counters().not_found);
  return CancelOutcome::kNotFound;
}

void FsTask::RefuseNewWork() {
  shut_down_.store(true, std::memory_order_release);
  home_->NoteRefusal();
  CancelReads();
}

void FsTask::Shutdown(ShutdownMode mode) {
  if (ForkedSince(generation_)) return;
  RefuseNewWork();
  task_->Shutdown(mode == ShutdownMode::kCancel ? wq::ShutdownMode::kCancel
                                                : wq::ShutdownMode::kDrain);
}

FsTasks::FsTasks(wq::Queue* queue, std::weak_ptr<uring::ReadEngine> reads)
    : queue_(queue),
      home_(std::make_shared<TaskHome>(std::move(reads))),
      default_(std::make_shared<FsTask>(home_, queue->NewTask())) {}

std::shared_ptr<FsTask> FsTasks::NewTask() {
  absl::MutexLock l(&mu_);
  // Under the lock: Shutdown sets the flag under it before collecting the
  // tasks, so no task created here can escape it.
  if (shut_down()) return nullptr;
  auto task = std::make_shared<FsTask>(home_, queue_->NewTask());
  opened_.erase(std::remove_if(
                    opened_.begin(), opened_.end(),
                    [](const std::weak_ptr<FsTask>& t) { return t.expired(); }),
                opened_.end());
  opened_.push_back(task);
  return task;
}

FsTask* FsTasks::Current() const {
  for (const IoTaskScope* s = IoTaskScope::Innermost(); s != nullptr;
       s = s->outer()) {
    const IoTask* task = s->task().get();
    // Only this file system's own tasks carry its home: the cast is safe.
    if (task != nullptr && task->internal_home() == home_.get()) {
      return static_cast<FsTask*>(const_cast<IoTask*>(task));
    }
  }
  return default_.get();
}

std::shared_ptr<FsTask> FsTasks::NextOpened(size_t* i) const {
  absl::MutexLock l(&mu_);
  while (*i < opened_.size()) {
    if (std::shared_ptr<FsTask> task = opened_[(*i)++].lock()) return task;
  }
  return nullptr;
}

void FsTasks::Shutdown(ShutdownMode mode) {
  {
    absl::MutexLock l(&mu_);
    shut_down_.store(true, std::memory_order_release);
  }
  // Every task refuses new work before any is waited for.
  size_t i = 0;
  while (std::shared_ptr<FsTask> task = NextOpened(&i)) task->RefuseNewWork();
  default_->RefuseNewWork();
  i = 0;
  while (std::shared_ptr<FsTask> task = NextOpened(&i)) task->Shutdown(mode);
  default_->Shutdown(mode);
}

}  // namespace uringfs
