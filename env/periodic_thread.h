// -----------------------------------------------------------------------------
// env/periodic_thread.h
// -----------------------------------------------------------------------------
//
// `PeriodicThread` calls a function every `period` on a thread of its own,
// until it is stopped or destroyed. It serves the periodic statistics dump
// of a database's info log (env/stats_logger.h).
//
//   * The first call comes one period after construction; the next one a
//     period after the previous call returned.
//   * `Stop()` wakes the thread and joins it: it returns as soon as a call
//     in progress has returned, never after a whole period, and no call
//     starts after it. The destructor stops.
//   * The thread never keeps the process alive: nothing waits for it at
//     exit, and a process that exits with it running simply ends it.
//   * fork(): the thread exists only in the process that created the
//     object. In a child, `Stop()` and the destructor return at once, take
//     no lock (a parent thread may have held it when the process forked) and
//     leave the parent's thread handle alone (leaked, never joined).
//   * If no thread can be started (the process is out of threads or
//     memory), the function is never called; `started()` says so.
//
// Thread-safety: `Stop()` may be called from any thread, any number of
// times, concurrently — except from inside the function (it would wait for
// itself).

#ifndef URINGFS_ENV_PERIODIC_THREAD_H_
#define URINGFS_ENV_PERIODIC_THREAD_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace uringfs {

class PeriodicThread final {
 public:
  // Starts the thread. `period` must be positive; `fn` must not throw.
  // `name` (at most 15 characters) names the thread for ps, debuggers and
  // /proc/self/task/*/comm.
  PeriodicThread(absl::Duration period, std::function<void()> fn,
                 const char* name);
  ~PeriodicThread();

  PeriodicThread(const PeriodicThread&) = delete;
  PeriodicThread& operator=(const PeriodicThread&) = delete;

  // Whether the thread was started.
  bool started() const { return thread_ != nullptr; }

  // Stops and joins the thread, as described above.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_, join_mu_);

 private:
  void Run() ABSL_LOCKS_EXCLUDED(mu_);

  const uint64_t generation_;  // ForkGeneration() at construction.
  const absl::Duration period_;
  const std::function<void()> fn_;
  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  // Serialises joins; taken after `mu_` is released, never with it.
  absl::Mutex join_mu_;
  bool joined_ ABSL_GUARDED_BY(join_mu_) = false;
  // Set by the constructor only; null if no thread could be started.
  std::unique_ptr<std::thread> thread_;
};

}  // namespace uringfs

#endif  // URINGFS_ENV_PERIODIC_THREAD_H_
