// `AsyncReader` when the kernel stops accepting `io_uring_enter` after the
// ring was set up — a seccomp or LSM rule applied later, a closed ring fd.
// The synchronous path falls back to pread then; the asynchronous one must
// too: no Poll, Abort, CancelOwned or destructor may wait for ever, every
// read still gets its bytes, and reads the kernel already had still complete
// into their buffers before anyone is told they are done.

#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "env/uring/async_reader.h"
#include "env/uring/fault_injector.h"
#include "env/uring/read_op.h"
#include "tests/testing/deadline.h"
#include "tests/testing/pattern_file.h"
#include "tests/uring/test_util.h"

namespace uringfs {
namespace uring {
namespace {

using State = AsyncRead::State;

// Lets the reader enter the kernel until `Break()`, then refuses with EPERM.
class BreakableEnter : public FaultInjector {
 public:
  int EnterErrno() override { return broken_.load() ? EPERM : 0; }
  void Break() { broken_.store(true); }

 private:
  std::atomic<bool> broken_{false};
};

struct Pipe {
  Pipe() { EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0); }
  ~Pipe() {
    ::close(fds[0]);
    ::close(fds[1]);
  }
  void Write(const std::string& s) const {
    EXPECT_EQ(::write(fds[1], s.data(), s.size()),
              static_cast<ssize_t>(s.size()));
  }
  int fds[2] = {-1, -1};
};

void Prepare(AsyncRead* read, int fd, char* buf, size_t len, uint64_t off) {
  read->target.fd = fd;
  read->op.offset = off;
  read->op.len = len;
  read->op.buf = buf;
}

void WithDeadline(const char* what, std::function<void()> fn) {
  ::uringfs::testing::WithDeadline(what, std::chrono::seconds(10),
                                   std::move(fn));
}

// The file every test reads: a known pattern.
class BrokenRingTest : public ::testing::Test {
 protected:
  static constexpr uint64_t kSize = 100000;

  void SetUp() override {
    if (!testing::IoUringAvailable()) {
      GTEST_SKIP() << "io_uring_queue_init fails here; AsyncReader untested";
    }
    path_ = ::uringfs::testing::WritePatternFile("broken_ring", kSize);
    ASSERT_FALSE(path_.empty());
    fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd_, 0);
  }
  void TearDown() override {
    if (fd_ >= 0) ::close(fd_);
    if (!path_.empty()) ::unlink(path_.c_str());
  }

  static std::shared_ptr<AsyncReader> Create(
      std::shared_ptr<FaultInjector> faults) {
    int err = 0;
    auto r =
        AsyncReader::Create(8, /*can_cancel=*/true, std::move(faults), &err);
    EXPECT_NE(r, nullptr) << std::strerror(err);
    return r;
  }

  // Reads 5000 bytes at 1234 through `reader`, polls for it, and checks it.
  void ExpectFileReadCompletes(AsyncReader* reader) {
    std::string buf(5000, '\0');
    AsyncRead read;
    Prepare(&read, fd_, &buf[0], buf.size(), 1234);
    std::vector<AsyncRead*> due;
    AsyncRead* r = &read;
    WithDeadline("Submit and Poll of a file read", [&] {
      reader->Submit(&read);
      reader->Poll(&r, 1, 1, &due);
    });
    ASSERT_EQ(due.size(), 1u);
    EXPECT_EQ(read.state, State::kReported);
    EXPECT_EQ(read.op.error, 0);
    EXPECT_EQ(buf.substr(0, read.op.done),
              ::uringfs::testing::Expected(kSize, 1234, buf.size()));
  }

  std::string path_;
  int fd_ = -1;
};

TEST_F(BrokenRingTest, ReadsFallBackToPreadOnceTheKernelRefusesToEnter) {
  auto faults = std::make_shared<BreakableEnter>();
  std::shared_ptr<AsyncReader> reader = Create(faults);
  ASSERT_NE(reader, nullptr);
  ExpectFileReadCompletes(reader.get());  // Through the ring.
  faults->Break();
  ExpectFileReadCompletes(reader.get());  // Refused: retracted, pread.
  ExpectFileReadCompletes(reader.get());  // Broken: pread from the start.
  EXPECT_GE(reader->sync_fallbacks(), 2u);
  WithDeadline("AsyncReader destructor", [&] { reader.reset(); });
}

TEST_F(BrokenRingTest, ReadTheKernelHasStillCompletesIntoItsBuffer) {
  auto faults = std::make_shared<BreakableEnter>();
  std::shared_ptr<AsyncReader> reader = Create(faults);
  ASSERT_NE(reader, nullptr);
  Pipe p;
  std::string buf(64, '\0');
  AsyncRead in_kernel;
  Prepare(&in_kernel, p.fds[0], &buf[0], buf.size(), 0);
  reader->Submit(&in_kernel);  // An empty pipe: stays in the kernel.
  faults->Break();
  ExpectFileReadCompletes(reader.get());
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    p.Write(std::string(64, 'p'));
  });
  std::vector<AsyncRead*> due;
  AsyncRead* r = &in_kernel;
  WithDeadline("Poll of a read in the kernel, ring broken",
               [&] { reader->Poll(&r, 1, 1, &due); });
  writer.join();
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(in_kernel.op.done, 64u);
  EXPECT_EQ(buf, std::string(64, 'p'));
  WithDeadline("AsyncReader destructor", [&] { reader.reset(); });
}

TEST_F(BrokenRingTest, AbortAndCancelReturnOnceTheKernelLetsGo) {
  auto faults = std::make_shared<BreakableEnter>();
  std::shared_ptr<AsyncReader> reader = Create(faults);
  ASSERT_NE(reader, nullptr);
  Pipe p;
  std::string buf(64, '\0');
  AsyncRead in_kernel;
  Prepare(&in_kernel, p.fds[0], &buf[0], buf.size(), 0);
  in_kernel.owner = 7;
  reader->Submit(&in_kernel);
  faults->Break();
  // No cancellation can reach the kernel now; the read ends when the pipe
  // has data, and Abort must wait for that (the buffer is the caller's).
  WithDeadline("CancelOwned, ring broken",
               [&] { EXPECT_EQ(reader->CancelOwned(7), 1u); });
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    p.Write(std::string(64, 'q'));
  });
  AsyncRead* r = &in_kernel;
  WithDeadline("Abort, ring broken", [&] { reader->Abort(&r, 1); });
  writer.join();
  EXPECT_FALSE(in_kernel.op.in_flight);
  EXPECT_TRUE(in_kernel.state == State::kAborted)
      << "state " << static_cast<int>(in_kernel.state);
  WithDeadline("AsyncReader destructor", [&] { reader.reset(); });
}

// Returns 0 or errno: from now on io_uring_enter fails with EPERM in this
// process (one thread; the filter looks at the syscall number only).
int DenyIoUringEnter() {
  struct sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_enter, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
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

// A real seccomp rule applied after the ring exists (seccomp cannot be
// undone: in a child process, which a hang turns into SIGALRM).
TEST_F(BrokenRingTest, SeccompDenyingEnterAfterSetupFallsBackToPread) {
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0) << std::strerror(errno);
  if (pid == 0) {
    ::alarm(20);  // A hang ends the child instead of the test run.
    std::shared_ptr<AsyncReader> reader = Create(nullptr);
    if (reader != nullptr) {
      ExpectFileReadCompletes(reader.get());
      const int err = DenyIoUringEnter();
      EXPECT_EQ(err, 0) << "seccomp: " << std::strerror(err);
      ExpectFileReadCompletes(reader.get());
      ExpectFileReadCompletes(reader.get());
      reader.reset();
    }
    std::fflush(nullptr);
    ::_exit(::testing::Test::HasFailure() ? 1 : 0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status))
      << "the child was killed by signal "
      << (WIFSIGNALED(status) ? WTERMSIG(status) : 0)
      << " (SIGALRM: it hung once io_uring_enter was denied)";
  EXPECT_EQ(WEXITSTATUS(status), 0) << "the child's checks failed (see above)";
}

}  // namespace
}  // namespace uring
}  // namespace uringfs
