// `AsyncReader` when the kernel stops accepting `io_uring_enter` after the
// ring was set up — a seccomp or LSM rule applied later, a closed ring fd.
// The synchronous path falls back to pread then; the asynchronous one must
// too: no Poll, Abort, CancelOwned or destructor may wait for ever, every
// read still gets its bytes, and reads the kernel already had still complete
// into their buffers before anyone is told they are done.

#include <fcntl.h>
#include <sys/syscall.h>
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
#include "tests/testing/child_process.h"
#include "tests/testing/deadline.h"
#include "tests/testing/pattern_file.h"
#include "tests/testing/seccomp.h"
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

// A read ahead (SubmitIfRoom) goes to the ring while it works; the one whose
// submission the kernel refuses is finished with pread like any retracted
// read; after that no read ahead is started at all, and its read is left
// untouched.
TEST_F(BrokenRingTest, ReadAheadStopsStartingOnceTheRingIsBroken) {
  auto faults = std::make_shared<BreakableEnter>();
  std::shared_ptr<AsyncReader> reader = Create(faults);
  ASSERT_NE(reader, nullptr);
  auto submit_and_poll = [&](bool* started, std::string* buf) {
    AsyncRead read;
    Prepare(&read, fd_, &(*buf)[0], buf->size(), 4321);
    std::vector<AsyncRead*> due;
    AsyncRead* r = &read;
    WithDeadline("SubmitIfRoom and Poll", [&] {
      *started = reader->SubmitIfRoom(&read);
      if (*started) reader->Poll(&r, 1, 1, &due);
    });
    if (!*started) {
      EXPECT_EQ(read.op.done, 0u);
      EXPECT_FALSE(read.op.in_flight);
      EXPECT_FALSE(read.live);
      return;
    }
    ASSERT_EQ(due.size(), 1u);
    EXPECT_EQ(read.op.error, 0);
    EXPECT_EQ(buf->substr(0, read.op.done),
              ::uringfs::testing::Expected(kSize, 4321, buf->size()));
  };
  bool started = false;
  std::string buf(3000, '\0');
  submit_and_poll(&started, &buf);
  EXPECT_TRUE(started) << "a working ring with room starts the read ahead";
  const uint64_t fallbacks = reader->sync_fallbacks();
  faults->Break();
  buf.assign(buf.size(), '\0');  // The pread must fill it anew.
  submit_and_poll(&started, &buf);
  EXPECT_TRUE(started) << "the submission the kernel refused";
  EXPECT_EQ(reader->sync_fallbacks(), fallbacks + 1);
  std::string untouched(3000, 'u');
  submit_and_poll(&started, &untouched);
  EXPECT_FALSE(started) << "a broken ring starts no read ahead";
  EXPECT_EQ(untouched, std::string(3000, 'u'));
  EXPECT_EQ(reader->sync_fallbacks(), fallbacks + 1);
  WithDeadline("AsyncReader destructor", [&] { reader.reset(); });
}

TEST_F(BrokenRingTest, ReadTheKernelHasStillCompletesIntoItsBuffer) {
  auto faults = std::make_shared<BreakableEnter>();
  std::shared_ptr<AsyncReader> reader = Create(faults);
  ASSERT_NE(reader, nullptr);
  testing::Pipe p;
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
  testing::Pipe p;
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

// A real seccomp rule applied after the ring exists (seccomp cannot be
// undone: in a child process, which a hang turns into SIGALRM).
TEST_F(BrokenRingTest, SeccompDenyingEnterAfterSetupFallsBackToPread) {
  ::uringfs::testing::ExpectChildPasses([&] {
    std::shared_ptr<AsyncReader> reader = Create(nullptr);
    ASSERT_NE(reader, nullptr);
    ExpectFileReadCompletes(reader.get());
    const int err = ::uringfs::testing::DenySyscall(__NR_io_uring_enter, EPERM);
    ASSERT_EQ(err, 0) << "seccomp: " << std::strerror(err);
    ExpectFileReadCompletes(reader.get());
    ExpectFileReadCompletes(reader.get());
    reader.reset();
  });
}

}  // namespace
}  // namespace uring
}  // namespace uringfs
