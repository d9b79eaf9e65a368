// -----------------------------------------------------------------------------
// thread_factory.h
// -----------------------------------------------------------------------------
//
// `ThreadFactory` is the seam through which the queue starts worker threads.
// Tests inject factories that fail, count, or hold a start back so that races
// around worker creation can be forced deterministically.
//
// Contract: `Start()` is called with no queue lock held, possibly from several
// threads at once (implementations must be thread-safe). On success it has
// started a thread running `body` and stored its handle in `*thread`; the queue
// joins it. On failure it returns a negative errno, `body` never runs and
// `*thread` is untouched. It must not throw.
#ifndef URINGFS_ENV_WQ_THREAD_FACTORY_H_
#define URINGFS_ENV_WQ_THREAD_FACTORY_H_

#include <functional>
#include <thread>

namespace uringfs {
namespace wq {

class ThreadFactory {
 public:
  virtual ~ThreadFactory() = default;
  virtual int Start(std::function<void()> body, std::thread* thread) = 0;

  // A process-wide factory backed by std::thread. Thread-safe.
  static ThreadFactory* Default();
};

}  // namespace wq
}  // namespace uringfs

#endif  // URINGFS_ENV_WQ_THREAD_FACTORY_H_
