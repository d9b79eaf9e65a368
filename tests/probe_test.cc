// tools/uringfs-probe's program, run as a user would: on a temporary
// directory it prints every line (kernel, limits, io_uring, ring, opcodes,
// path, file system type, direct-I/O alignment, RWF_NOWAIT, verdict) and
// exits 0 exactly when it says io_uring is usable; under a seccomp filter
// that refuses io_uring_setup it says why and exits 1.

#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/testing/seccomp.h"
#include "tests/testing/temp_dir.h"

namespace uringfs {
namespace {

struct ProbeRun {
  int status = -1;  // Exit status, or -1 if it did not exit normally.
  std::string out;  // Standard output and standard error.
};

std::string ProbeBinary() {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  return std::string(srcdir != nullptr ? srcdir : "..") + "/" +
         (workspace != nullptr ? workspace : "uringfs") +
         "/tools/uringfs_probe";
}

// Runs the probe with `args`; with `deny_setup_errno` non-zero, under a
// seccomp filter that fails io_uring_setup with it.
ProbeRun RunProbe(const std::vector<std::string>& args,
                  int deny_setup_errno = 0) {
  int pipefd[2];
  ProbeRun run;
  if (::pipe(pipefd) != 0) return run;
  const std::string binary = ProbeBinary();
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(pipefd[1], 1);
    ::dup2(pipefd[1], 2);
    ::close(pipefd[0]);
    if (deny_setup_errno != 0 &&
        testing::DenySyscall(SYS_io_uring_setup, deny_setup_errno) != 0) {
      ::_exit(99);
    }
    std::vector<char*> argv = {const_cast<char*>(binary.c_str())};
    for (const std::string& a : args)
      argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(binary.c_str(), argv.data());
    ::_exit(98);
  }
  ::close(pipefd[1]);
  char buf[4096];
  ssize_t n;
  while ((n = ::read(pipefd[0], buf, sizeof(buf))) > 0 ||
         (n < 0 && errno == EINTR)) {
    if (n > 0) run.out.append(buf, static_cast<size_t>(n));
  }
  ::close(pipefd[0]);
  int status = 0;
  if (::waitpid(pid, &status, 0) == pid && WIFEXITED(status)) {
    run.status = WEXITSTATUS(status);
  }
  return run;
}

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(ProbeTest, PrintsEveryLineForATempDirAndExitsByTheVerdict) {
  const std::string dir = testing::FreshDir("probe");
  const ProbeRun run = RunProbe({dir});
  for (const char* line :
       {"uringfs-probe ", "\nkernel:", "\nlimits:", "kernel.io_uring_disabled",
        "seccomp ", "memlock ", "\nio_uring:", "\npath:", "\nfs type:",
        "\ndio align:", "\nRWF_NOWAIT:", "buffered preadv2 ",
        "buffered pwritev2 ", "\nverdict:"}) {
    EXPECT_TRUE(Has(run.out, line)) << "no '" << line << "' in:\n" << run.out;
  }
  EXPECT_TRUE(Has(run.out, "path:        " + dir + "\n")) << run.out;
  const bool usable = Has(run.out, "io_uring:    usable");
  EXPECT_EQ(run.status, usable ? 0 : 1) << run.out;
  if (usable) {
    EXPECT_TRUE(Has(run.out, "\nring:")) << run.out;
    EXPECT_TRUE(Has(run.out, "\nopcodes:     READ ")) << run.out;
  }
  testing::RemoveTree(dir);
}

TEST(ProbeTest, IoUringSetupRefusedBySeccompIsExplainedWithExitStatus1) {
  const std::string dir = testing::FreshDir("probe");
  const ProbeRun run = RunProbe({dir}, EPERM);
  if (run.status == 99) {
    GTEST_SKIP() << "cannot install a seccomp filter here";
  }
  EXPECT_EQ(run.status, 1) << run.out;
  EXPECT_TRUE(Has(run.out, "io_uring:    NOT usable")) << run.out;
  EXPECT_TRUE(Has(run.out, "EPERM")) << run.out;
  EXPECT_TRUE(Has(run.out, "seccomp 2 (filter)")) << run.out;
  EXPECT_TRUE(Has(run.out, "likely cause: a seccomp filter")) << run.out;
  EXPECT_TRUE(Has(run.out, "\nfs type:")) << run.out;  // Still reported.
  testing::RemoveTree(dir);
}

TEST(ProbeTest, MissingPathIsAUsageErrorWithExitStatus2) {
  const ProbeRun run = RunProbe({"/nonexistent/uringfs-probe-test"});
  EXPECT_EQ(run.status, 2) << run.out;
  EXPECT_TRUE(Has(run.out, "No such file or directory")) << run.out;
}

}  // namespace
}  // namespace uringfs
