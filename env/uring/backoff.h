// -----------------------------------------------------------------------------
// env/uring/backoff.h
// -----------------------------------------------------------------------------
//
// `BackOff` sleeps 1 ms, doubling per call up to 100 ms. For a ring that
// keeps failing while the kernel still owns requests of ours: returning would
// hand buffers the kernel may still write into back to RocksDB, and spinning
// would burn a core, so the read path waits like this instead.
//
// Thread-safety: stateless apart from the caller's counter.

#ifndef URINGFS_ENV_URING_BACKOFF_H_
#define URINGFS_ENV_URING_BACKOFF_H_

#include <time.h>

#include <algorithm>

namespace uringfs {
namespace uring {

inline void BackOff(int* attempt) {
  const long ms = std::min(100L, 1L << std::min(*attempt, 7));
  ++*attempt;
  timespec ts{0, ms * 1000000L};
  ::nanosleep(&ts, nullptr);
}

}  // namespace uring
}  // namespace uringfs

#endif  // URINGFS_ENV_URING_BACKOFF_H_
