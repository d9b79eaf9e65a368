// -----------------------------------------------------------------------------
// tests/testing/seccomp.h
// -----------------------------------------------------------------------------
//
// `DenySyscall(nr, err)` installs a seccomp filter on the calling thread
// (and the threads it creates later) that makes system call `nr` fail with
// `err`, as container runtimes and sandboxes do with io_uring. It cannot be
// undone: use it in a child process (child_process.h). The filter looks at
// the system call number only (the process runs one ABI).
//
// Thread-safety: affects the calling thread only.

#ifndef URINGFS_TESTS_TESTING_SECCOMP_H_
#define URINGFS_TESTS_TESTING_SECCOMP_H_

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace uringfs {
namespace testing {

// Returns 0 or the errno of the failed installation.
inline int DenySyscall(long nr, int err) {
  struct sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, static_cast<unsigned>(nr), 0, 1),
      BPF_STMT(
          BPF_RET | BPF_K,
          SECCOMP_RET_ERRNO | (static_cast<unsigned>(err) & SECCOMP_RET_DATA)),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {
      static_cast<unsigned short>(sizeof(filter) / sizeof(filter[0])), filter};
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return errno;
  if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
    return errno;
  }
  return 0;
}

}  // namespace testing
}  // namespace uringfs

#endif  // URINGFS_TESTS_TESTING_SECCOMP_H_
