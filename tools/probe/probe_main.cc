// uringfs-probe [PATH]: what this host allows uringfs, in a few lines.
//
//   kernel, io_uring (usable or why not: kernel.io_uring_disabled, seccomp,
//   RLIMIT_MEMLOCK, the errno of io_uring_setup), the ring features and
//   opcodes uringfs uses, and for PATH (default "."): the file system type,
//   the direct-I/O alignment and whether buffered reads and writes take
//   RWF_NOWAIT.
//
// Exit status: 0 io_uring is usable, 1 it is not (uringfs then reads with
// pread), 2 bad usage or PATH.

#include <cstdio>
#include <cstring>
#include <string>

#include "env/uring/features.h"
#include "tools/probe/errno_name.h"
#include "tools/probe/host_limits.h"
#include "tools/probe/path_facts.h"
#include "uringfs/options.h"
#include "uringfs/version.h"

namespace uringfs {
namespace probe {
namespace {

const char* YesNo(bool b) { return b ? "yes" : "no"; }

std::string SysctlText(int value) {
  return value < 0 ? "absent (kernel before 6.6)" : std::to_string(value);
}

void PrintHost(const HostLimits& h) {
  std::printf("uringfs-probe %d.%d.%d\n", URINGFS_VERSION_MAJOR,
              URINGFS_VERSION_MINOR, URINGFS_VERSION_PATCH);
  std::printf("kernel:      %s\n", h.kernel_release.c_str());
  std::printf(
      "limits:      kernel.io_uring_disabled %s, seccomp %d (%s), "
      "memlock %s\n",
      SysctlText(h.io_uring_disabled).c_str(), h.seccomp_mode,
      SeccompModeName(h.seccomp_mode), h.memlock.c_str());
}

void PrintUring(const uring::Features& f, const HostLimits& h) {
  if (f.setup_errno != 0) {
    const std::string hint = WhyNotHint(f.setup_errno, h);
    std::printf(
        "io_uring:    NOT usable: io_uring_setup failed with %s "
        "(%s)%s%s\n",
        ErrnoName(f.setup_errno).c_str(), std::strerror(f.setup_errno),
        hint.empty() ? "" : "; likely cause: ", hint.c_str());
    return;
  }
  std::printf("io_uring:    %s (io_uring_setup: ok)\n",
              f.usable() ? "usable"
                         : "NOT usable: a feature uringfs needs is "
                           "missing");
  std::printf(
      "ring:        features 0x%x: NODROP %s (needed); setup flags "
      "0x%x: COOP_TASKRUN %s\n",
      f.feature_bits, YesNo(f.nodrop()), f.setup_flags,
      YesNo(f.coop_taskrun()));
  std::printf("opcodes:     READ %s (needed), ASYNC_CANCEL %s\n",
              YesNo(f.op_read), YesNo(f.op_async_cancel));
}

void PrintPath(const PathFacts& p) {
  const bool same = p.real_directory.empty() || p.real_directory == p.directory;
  std::printf("path:        %s%s%s%s\n", p.directory.c_str(), same ? "" : " (",
              same ? "" : p.real_directory.c_str(), same ? "" : ")");
  std::printf("fs type:     %s\n", p.fs_type.c_str());
  std::printf("dio align:   %s\n", p.dio_alignment.c_str());
  std::printf("RWF_NOWAIT:  buffered preadv2 %s; buffered pwritev2 %s\n",
              p.nowait_read.c_str(), p.nowait_write.c_str());
}

int Main(int argc, char** argv) {
  if (argc > 2 || (argc == 2 && (std::strcmp(argv[1], "-h") == 0 ||
                                 std::strcmp(argv[1], "--help") == 0))) {
    std::fprintf(stderr, "usage: uringfs-probe [PATH]  (default: .)\n");
    return 2;
  }
  const std::string path = argc == 2 ? argv[1] : ".";
  PathFacts facts;
  std::string error;
  if (!ProbePath(path, &facts, &error)) {
    std::fprintf(stderr, "uringfs-probe: %s\n", error.c_str());
    return 2;
  }
  const HostLimits host = ReadHostLimits();
  const uring::Features f =
      uring::ProbeFeatures(true, UringFsOptions().queue_depth, nullptr);
  PrintHost(host);
  PrintUring(f, host);
  PrintPath(facts);
  std::printf("verdict:     %s\n",
              f.usable() ? "uringfs reads through io_uring here"
                         : "io_uring is not usable here; uringfs reads with "
                           "pread instead");
  return f.usable() ? 0 : 1;
}

}  // namespace
}  // namespace probe
}  // namespace uringfs

int main(int argc, char** argv) { return uringfs::probe::Main(argc, argv); }
