// -----------------------------------------------------------------------------
// tools/probe/host_limits.h
// -----------------------------------------------------------------------------
//
// The settings of this host and process that decide whether io_uring may be
// used, read at run time: the kernel release, the sysctl
// `kernel.io_uring_disabled` (Linux 6.6+; 0 allowed, 1 only for the group
// `kernel.io_uring_group` and CAP_SYS_ADMIN, 2 nobody), the process's seccomp
// mode, and RLIMIT_MEMLOCK (kernels before 5.12 charge rings to it).
//
// Thread-safety: pure functions, safe for concurrent use.

#ifndef URINGFS_TOOLS_PROBE_HOST_LIMITS_H_
#define URINGFS_TOOLS_PROBE_HOST_LIMITS_H_

#include <string>

namespace uringfs {
namespace probe {

struct HostLimits {
  std::string kernel_release;  // uname -r.
  int io_uring_disabled = -1;  // -1: the sysctl does not exist here.
  int seccomp_mode = -1;       // 0 none, 1 strict, 2 filter; -1 unknown.
  std::string memlock;         // "8M", "unlimited", or why unknown.
};

// ReadHostLimits()
//
// Reads the settings above for this process.
HostLimits ReadHostLimits();

// SeccompModeName()
//
// "disabled", "strict", "filter" or "unknown".
const char* SeccompModeName(int mode);

// WhyNotHint()
//
// For io_uring setup refused with `setup_errno`, the likeliest cause given
// `limits`, in a few words ("kernel.io_uring_disabled=2"), or "" if none
// stands out.
std::string WhyNotHint(int setup_errno, const HostLimits& limits);

}  // namespace probe
}  // namespace uringfs

#endif  // URINGFS_TOOLS_PROBE_HOST_LIMITS_H_
