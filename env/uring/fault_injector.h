// -----------------------------------------------------------------------------
// env/uring/fault_injector.h
// -----------------------------------------------------------------------------
//
// `FaultInjector` is the test seam of the read path (no `#ifdef`): it can make
// ring setup fail with a chosen errno, rewrite the result of any read,
// whether it came from an io_uring completion or from the `pread` fallback,
// and make the device look slow or fast to an asynchronous read's Poll.
// Production code passes nullptr; tests subclass it.
//
// Thread-safety: implementations must be safe for concurrent use; the read
// path calls them from every reading thread.

#ifndef URINGFS_ENV_URING_FAULT_INJECTOR_H_
#define URINGFS_ENV_URING_FAULT_INJECTOR_H_

#include <cstddef>
#include <cstdint>

namespace uringfs {
namespace uring {

class FaultInjector {
 public:
  virtual ~FaultInjector() = default;

  // FaultInjector::SetupErrno()
  //
  // 0 lets ring setup proceed; a positive errno makes every ring setup fail
  // with it, as a kernel, seccomp filter or memlock limit would.
  virtual int SetupErrno() { return 0; }

  // FaultInjector::EnterErrno()
  //
  // 0 lets the async reader enter the kernel (submit, wait); a positive errno
  // makes each of those calls fail with it instead, as a seccomp rule added
  // after the ring was set up would.
  virtual int EnterErrno() { return 0; }

  // FaultInjector::NowaitErrno()
  //
  // 0 lets a single buffered read of `fd` try `preadv2(RWF_NOWAIT)`; a positive
  // errno makes that try fail with it instead (EOPNOTSUPP: a file system
  // without RWF_NOWAIT; ENOSYS: a kernel without preadv2).
  virtual int NowaitErrno(int fd) {
    (void)fd;
    return 0;
  }

  // FaultInjector::PollWaitNanos()
  //
  // Called by each Poll that reports asynchronous reads with how long it
  // waited for the device (0: every read had completed); returns what
  // uringfs records instead (a test's slow or fast device). Changes no
  // result.
  virtual int64_t PollWaitNanos(int64_t waited) { return waited; }

  // FaultInjector::OnResult()
  //
  // Called with the result of every read (`*res`: bytes, or -errno) of
  // `requested` bytes at `offset` before uringfs looks at it. May replace it
  // with a shorter non-negative count (the read path must then read the
  // rest again) or with a negative errno such as -EAGAIN, -EINTR or -EIO.
  // It must never make a result longer than the real one.
  virtual void OnResult(uint64_t offset, size_t requested, int64_t* res) {
    (void)offset;
    (void)requested;
    (void)res;
  }
};

}  // namespace uring
}  // namespace uringfs

#endif  // URINGFS_ENV_URING_FAULT_INJECTOR_H_
