#include "tools/probe/host_limits.h"

#include <sys/resource.h>
#include <sys/utsname.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>

#include "env/size_text.h"

namespace uringfs {
namespace probe {
namespace {

// The integer in the file `path`, or -1 if it cannot be read.
int ReadIntFile(const char* path) {
  std::ifstream in(path);
  int value = -1;
  if (!(in >> value)) return -1;
  return value;
}

// The number after "Seccomp:" in /proc/self/status, or -1.
int ReadSeccompMode() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Seccomp:", 0) == 0) {
      return std::atoi(line.c_str() + sizeof("Seccomp:") - 1);
    }
  }
  return -1;
}

std::string LimitText(rlim_t limit) {
  if (limit == RLIM_INFINITY) return "unlimited";
  return FormatSize(static_cast<uint64_t>(limit));
}

std::string ReadMemlock() {
  struct rlimit rl {};
  if (::getrlimit(RLIMIT_MEMLOCK, &rl) != 0) return "unknown";
  return LimitText(rl.rlim_cur) + " (hard " + LimitText(rl.rlim_max) + ")";
}

}  // namespace

HostLimits ReadHostLimits() {
  HostLimits h;
  struct utsname u {};
  h.kernel_release = ::uname(&u) == 0 ? u.release : "unknown";
  h.io_uring_disabled = ReadIntFile("/proc/sys/kernel/io_uring_disabled");
  h.seccomp_mode = ReadSeccompMode();
  h.memlock = ReadMemlock();
  return h;
}

const char* SeccompModeName(int mode) {
  switch (mode) {
    case 0:
      return "disabled";
    case 1:
      return "strict";
    case 2:
      return "filter";
    default:
      return "unknown";
  }
}

std::string WhyNotHint(int setup_errno, const HostLimits& limits) {
  if (limits.io_uring_disabled == 2) return "kernel.io_uring_disabled=2";
  if (limits.io_uring_disabled == 1 && setup_errno == EPERM) {
    return "kernel.io_uring_disabled=1 and not in kernel.io_uring_group";
  }
  if (setup_errno == ENOSYS) {
    return limits.seccomp_mode == 2 ? "a seccomp filter, or a kernel without "
                                      "io_uring"
                                    : "a kernel without io_uring";
  }
  if (setup_errno == EPERM && limits.seccomp_mode == 2) {
    return "a seccomp filter";
  }
  if (setup_errno == ENOMEM) return "RLIMIT_MEMLOCK too small";
  return "";
}

}  // namespace probe
}  // namespace uringfs
