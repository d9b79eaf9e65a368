#include "env/process_queue.h"

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace uringfs {

wq::Queue& ProcessQueue() {
  static wq::Queue* const queue = [] {
    wq::QueueOptions o;
    o.max_bound_workers = 1;  // Raised by each file system's write_workers.
    return new wq::Queue(o);
  }();
  return *queue;
}

void RaiseWorkerLimit(int workers) {
  static absl::Mutex mu(absl::kConstInit);
  static int limit ABSL_GUARDED_BY(mu) = 1;
  absl::MutexLock l(&mu);
  if (workers > limit) {
    limit = workers;
    ProcessQueue().SetMaxWorkers(wq::Account::kBound, limit);
  }
}

}  // namespace uringfs
