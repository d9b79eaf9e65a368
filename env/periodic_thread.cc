#include "env/periodic_thread.h"

#include <pthread.h>

#include <utility>

#include "base/fork_generation.h"

namespace uringfs {

PeriodicThread::PeriodicThread(absl::Duration period, std::function<void()> fn,
                               const char* name)
    : generation_(ForkGeneration()), period_(period), fn_(std::move(fn)) {
  try {
    thread_ = std::make_unique<std::thread>([this] { Run(); });
  } catch (...) {
    thread_.reset();  // No thread, no calls: statistics are best effort.
    return;
  }
  // Named before the constructor returns, so it shows at once. Cosmetic: a
  // failure changes nothing.
  ::pthread_setname_np(thread_->native_handle(), name);
}

PeriodicThread::~PeriodicThread() {
  if (ForkedSince(generation_)) {
    // The thread is the parent's: joining it here would wait for ever, and
    // destroying a joinable std::thread ends the process. Left alone.
    (void)thread_.release();
    return;
  }
  Stop();
}

void PeriodicThread::Stop() {
  if (ForkedSince(generation_) || thread_ == nullptr) return;
  {
    absl::MutexLock l(&mu_);
    stop_ = true;
  }
  absl::MutexLock j(&join_mu_);
  if (!joined_) {
    thread_->join();
    joined_ = true;
  }
}

void PeriodicThread::Run() {
  for (;;) {
    {
      absl::MutexLock l(&mu_);
      if (mu_.AwaitWithTimeout(absl::Condition(&stop_), period_)) return;
    }
    fn_();  // Without the lock: Stop() must not wait for a call to begin.
  }
}

}  // namespace uringfs
