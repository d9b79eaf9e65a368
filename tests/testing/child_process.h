// -----------------------------------------------------------------------------
// tests/testing/child_process.h
// -----------------------------------------------------------------------------
//
// Tests of process-global state (seccomp filters, fork(), credentials) run
// their checks in a child process: `ExpectChildPasses(checks)` forks, runs
// `checks` in the child under an alarm (a hang ends the child with SIGALRM
// instead of the test run), turns the child's gtest failures into its exit
// status, and expects status 0 in the parent. The child's failures are
// printed by the child itself.
//
// Thread-safety: call from the test's thread; fork() copies only it.

#ifndef URINGFS_TESTS_TESTING_CHILD_PROCESS_H_
#define URINGFS_TESTS_TESTING_CHILD_PROCESS_H_

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>

#include <gtest/gtest.h>

namespace uringfs {
namespace testing {

inline void ExpectChildPasses(const std::function<void()>& checks,
                              unsigned alarm_seconds = 30) {
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0) << std::strerror(errno);
  if (pid == 0) {
    ::alarm(alarm_seconds);
    checks();
    std::fflush(nullptr);
    ::_exit(::testing::Test::HasFailure() ? 1 : 0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status))
      << "the child was killed by signal "
      << (WIFSIGNALED(status) ? WTERMSIG(status) : 0)
      << (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM
              ? " (SIGALRM: it hung)"
              : "");
  EXPECT_EQ(WEXITSTATUS(status), 0) << "the child's checks failed (see above)";
}

}  // namespace testing
}  // namespace uringfs

#endif  // URINGFS_TESTS_TESTING_CHILD_PROCESS_H_
