// -----------------------------------------------------------------------------
// env/uring/features.h
// -----------------------------------------------------------------------------
//
// `Features` is what one probe found out about io_uring on this kernel, in
// this process: whether a ring can be set up at all (seccomp, the
// `kernel.io_uring_disabled` sysctl, RLIMIT_MEMLOCK and old kernels make
// setup fail with EPERM, ENOSYS, ENOMEM or EINVAL), with which flags, and
// which opcodes exist. uringfs probes once per file system and falls back to
// plain system calls whenever `usable()` is false. No `#ifdef`: everything is
// decided here, at run time.
//
// Thread-safety: an immutable value after `ProbeFeatures` returns.

#ifndef URINGFS_ENV_URING_FEATURES_H_
#define URINGFS_ENV_URING_FEATURES_H_

#include <cstdint>
#include <string>

#include "env/uring/fault_injector.h"

namespace uringfs {
namespace uring {

struct Features {
  bool requested = true;      // False when the user turned io_uring off.
  int setup_errno = 0;        // Why setup failed; 0 if it worked.
  uint32_t setup_flags = 0;   // IORING_SETUP_* that rings are created with.
  uint32_t feature_bits = 0;  // io_uring_params.features (IORING_FEAT_*).
  bool op_read = false;       // IORING_OP_READ (5.6+).
  bool op_async_cancel = false;

  // Whether uringfs reads through io_uring: requested, set up, IORING_OP_READ
  // present, and completions never dropped (IORING_FEAT_NODROP).
  bool usable() const;

  // IORING_FEAT_NODROP: the kernel never drops a completion (required).
  bool nodrop() const;
  // IORING_SETUP_COOP_TASKRUN (5.19): rings were set up with it.
  bool coop_taskrun() const;

  // One line for logs and stats, e.g. "io_uring: on (features 0x3ffff,
  // flags 0x100)" or "io_uring: off, fallback to pread (setup: EPERM ...)".
  std::string Describe() const;
};

// ProbeFeatures()
//
// Sets up and tears down one ring of `entries` entries. With `use_io_uring`
// false it probes nothing and reports the fallback. `faults` may be null.
Features ProbeFeatures(bool use_io_uring, unsigned entries,
                       FaultInjector* faults);

}  // namespace uring
}  // namespace uringfs

#endif  // URINGFS_ENV_URING_FEATURES_H_
