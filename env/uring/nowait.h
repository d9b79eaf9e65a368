// -----------------------------------------------------------------------------
// env/uring/nowait.h
// -----------------------------------------------------------------------------
//
// How uringfs reads the answer of a `preadv2`/`pwritev2` with RWF_NOWAIT,
// which either completes from the page cache without blocking or refuses.
// The read path (ReadEngine) and tools/uringfs-probe share this reading, so
// the probe's "RWF_NOWAIT works" is exactly what the read path acts on.
//
// Thread-safety: a pure function.

#ifndef URINGFS_ENV_URING_NOWAIT_H_
#define URINGFS_ENV_URING_NOWAIT_H_

#include <sys/types.h>

#include <cerrno>

namespace uringfs {
namespace uring {

enum class NowaitAnswer {
  kDone,           // Completed, or failed for a reason of its own (EIO...).
  kWouldBlock,     // EAGAIN: the flag works; this call would have blocked.
  kFileRefuses,    // EOPNOTSUPP, EINVAL: this file's file system does not
                   // take the flag (NFS, FUSE, ...).
  kSystemRefuses,  // ENOSYS, EPERM: no such call or flag for any file (an
                   // old kernel, a seccomp filter).
};

// ClassifyNowait()
//
// The answer of a call that returned `result`, with `err` its errno when
// `result` is negative.
inline NowaitAnswer ClassifyNowait(ssize_t result, int err) {
  if (result >= 0) return NowaitAnswer::kDone;
  switch (err) {
    case EAGAIN:
      return NowaitAnswer::kWouldBlock;
    case EOPNOTSUPP:
    case EINVAL:
      return NowaitAnswer::kFileRefuses;
    case ENOSYS:
    case EPERM:
      return NowaitAnswer::kSystemRefuses;
    default:
      return NowaitAnswer::kDone;
  }
}

}  // namespace uring
}  // namespace uringfs

#endif  // URINGFS_ENV_URING_NOWAIT_H_
