// `AsyncReader` with reads truly in flight: reads of an empty pipe stay in
// the kernel until the test writes, so Abort, Poll and their races can be
// driven deterministically. The property that matters most: once Abort
// returns, the kernel never writes into the aborted read's buffer (RocksDB
// frees it right after AbortIO).

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "env/uring/async_reader.h"
#include "env/uring/features.h"
#include "env/uring/read_op.h"
#include "tests/testing/deadline.h"
#include "tests/testing/pattern_file.h"
#include "tests/uring/test_util.h"

namespace uringfs {
namespace uring {
namespace {

using ::uringfs::testing::Expected;
using ::uringfs::testing::Pattern;
using ::uringfs::testing::WritePatternFile;
using State = AsyncRead::State;

constexpr char kPoison = '\xab';

// A hang fails the binary with a message (tests/testing/deadline.h).
void WithDeadline(const char* what, int seconds, std::function<void()> fn) {
  ::uringfs::testing::WithDeadline(what, std::chrono::seconds(seconds),
                                   std::move(fn));
}

using testing::Pipe;

void Prepare(AsyncRead* read, int fd, char* buf, size_t len, uint64_t off) {
  read->target.fd = fd;
  read->op.offset = off;
  read->op.len = len;
  read->op.buf = buf;
}

bool AllPoisoned(const std::string& b) {
  for (char c : b) {
    if (c != kPoison) return false;
  }
  return true;
}

class AsyncReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::IoUringAvailable()) {
      GTEST_SKIP() << "io_uring_queue_init fails here; AsyncReader untested";
    }
    const Features f = ProbeFeatures(true, 8, nullptr);
    if (!f.op_async_cancel) {
      GTEST_SKIP() << "IORING_OP_ASYNC_CANCEL unsupported: " << f.Describe();
    }
    reader_ = Create(16, nullptr);
    ASSERT_NE(reader_, nullptr);
  }

  static std::shared_ptr<AsyncReader> Create(
      unsigned entries, std::shared_ptr<FaultInjector> faults) {
    int err = 0;
    auto r = AsyncReader::Create(entries, /*can_cancel=*/true,
                                 std::move(faults), &err);
    EXPECT_NE(r, nullptr) << std::strerror(err);
    return r;
  }

  std::shared_ptr<AsyncReader> reader_;
};

TEST_F(AsyncReaderTest, AbortedInFlightReadIsNeverWrittenAfterAbortReturns) {
  Pipe p;
  std::string buf(64, '\0');
  AsyncRead read;
  Prepare(&read, p.fds[0], &buf[0], buf.size(), 0);
  reader_->Submit(&read);
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  AsyncRead* r = &read;
  WithDeadline("Abort of an in-flight pipe read", 10,
               [&] { reader_->Abort(&r, 1); });
  EXPECT_EQ(read.state, State::kAborted);
  EXPECT_FALSE(read.op.in_flight);
  std::memset(&buf[0], kPoison, buf.size());
  p.Write(std::string(64, 'x'));
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  EXPECT_TRUE(AllPoisoned(buf)) << "the kernel wrote after Abort returned";
  EXPECT_GE(reader_->cancels_sent(), 1u);
  // Aborted reads are never reported.
  std::vector<AsyncRead*> due;
  reader_->Poll(&r, 1, 1, &due);
  EXPECT_TRUE(due.empty());
  EXPECT_EQ(read.state, State::kAborted);
}

TEST_F(AsyncReaderTest, SeveralInFlightReadsAbortedAtOnce) {
  constexpr int kReads = 6;
  std::vector<std::unique_ptr<Pipe>> pipes;
  std::vector<std::string> bufs(kReads, std::string(128, '\0'));
  std::vector<AsyncRead> reads(kReads);
  std::vector<AsyncRead*> ptrs;
  for (int i = 0; i < kReads; ++i) {
    pipes.push_back(std::make_unique<Pipe>());
    Prepare(&reads[i], pipes[i]->fds[0], &bufs[i][0], 128, 0);
    reader_->Submit(&reads[i]);
    ptrs.push_back(&reads[i]);
  }
  WithDeadline("Abort of several in-flight reads", 10,
               [&] { reader_->Abort(ptrs.data(), ptrs.size()); });
  for (int i = 0; i < kReads; ++i) {
    EXPECT_EQ(reads[i].state, State::kAborted) << i;
    std::memset(&bufs[i][0], kPoison, bufs[i].size());
    pipes[i]->Write(std::string(128, 'y'));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  for (int i = 0; i < kReads; ++i) {
    EXPECT_TRUE(AllPoisoned(bufs[i])) << "read " << i << " written after abort";
  }
}

TEST_F(AsyncReaderTest, AbortRacingWithCompletionReportsOrAbortsExactlyOnce) {
  constexpr int kRounds = 150;
  std::vector<std::string> bufs(kRounds, std::string(32, '\0'));
  std::vector<AsyncRead> reads(kRounds);
  int reported = 0;
  int aborted = 0;
  for (int i = 0; i < kRounds; ++i) {
    Pipe p;
    Prepare(&reads[i], p.fds[0], &bufs[i][0], 32, 0);
    reader_->Submit(&reads[i]);
    AsyncRead* r = &reads[i];
    std::vector<AsyncRead*> due;
    WithDeadline("Abort racing with completion and Poll", 10, [&] {
      std::thread writer([&] {
        if (i % 2 == 1)
          std::this_thread::sleep_for(std::chrono::microseconds(50));
        p.Write(std::string(32, 'z'));
      });
      std::thread poller([&] { reader_->Poll(&r, 1, 1, &due); });
      if (i % 3 == 0) std::this_thread::yield();
      reader_->Abort(&r, 1);
      writer.join();
      poller.join();
    });
    const bool was_reported = due.size() == 1 && due[0] == r;
    ASSERT_LE(due.size(), 1u);
    if (was_reported) {
      ++reported;
      EXPECT_EQ(reads[i].state, State::kReported);
      EXPECT_EQ(bufs[i], std::string(32, 'z'));
    } else {
      ++aborted;
      EXPECT_EQ(reads[i].state, State::kAborted) << "round " << i;
      std::memset(&bufs[i][0], kPoison, 32);
    }
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  for (int i = 0; i < kRounds; ++i) {
    if (reads[i].state == State::kAborted) {
      EXPECT_TRUE(AllPoisoned(bufs[i])) << "round " << i;
    }
  }
  EXPECT_EQ(reported + aborted, kRounds);
  std::printf("race outcomes: %d reported, %d aborted\n", reported, aborted);
}

TEST_F(AsyncReaderTest, PollHonoursMinDoneAndReportsEachReadOnce) {
  const std::string path = WritePatternFile("async", 10000);
  ASSERT_FALSE(path.empty());
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  Pipe p;
  std::string fbuf(3000, '\0'), pbuf(16, '\0');
  AsyncRead file_read, pipe_read;
  Prepare(&file_read, fd, &fbuf[0], fbuf.size(), 1234);
  Prepare(&pipe_read, p.fds[0], &pbuf[0], pbuf.size(), 0);
  reader_->Submit(&pipe_read);
  reader_->Submit(&file_read);
  AsyncRead* both[] = {&pipe_read, &file_read};

  std::vector<AsyncRead*> due;
  WithDeadline("Poll(min_done=1)", 10,
               [&] { reader_->Poll(both, 2, 1, &due); });
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0], &file_read);
  EXPECT_EQ(fbuf, Pattern(1234, 3000));
  EXPECT_EQ(pipe_read.state, State::kInFlight);

  due.clear();
  reader_->Poll(both, 2, 0, &due);  // Nothing new, nothing to wait for.
  EXPECT_TRUE(due.empty());
  reader_->Poll(both, 2, 1, &due);  // Already satisfied by the reported read.
  EXPECT_TRUE(due.empty());

  p.Write("0123456789abcdef");
  WithDeadline("Poll(min_done=2)", 10,
               [&] { reader_->Poll(both, 2, 2, &due); });
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0], &pipe_read);
  EXPECT_EQ(pbuf, "0123456789abcdef");
  EXPECT_EQ(pipe_read.op.done, 16u);
  ::close(fd);
  ::unlink(path.c_str());
}

TEST_F(AsyncReaderTest, PollRecordsHowLongItWaitedForTheDevice) {
  // Data already there: the read completes at once, and Poll waits for
  // nothing.
  Pipe ready;
  ready.Write("ready");
  std::string rbuf(5, '\0');
  AsyncRead done_read;
  Prepare(&done_read, ready.fds[0], &rbuf[0], rbuf.size(), 0);
  done_read.poll_wait_ns = -1;
  reader_->Submit(&done_read);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  AsyncRead* r = &done_read;
  std::vector<AsyncRead*> due;
  WithDeadline("Poll of a completed read", 10,
               [&] { reader_->Poll(&r, 1, 1, &due); });
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(rbuf, "ready");
  EXPECT_EQ(done_read.poll_wait_ns, 0);

  // The "device" answers 50 ms after the Poll began: Poll says it waited.
  Pipe slow;
  std::string sbuf(4, '\0');
  AsyncRead slow_read;
  Prepare(&slow_read, slow.fds[0], &sbuf[0], sbuf.size(), 0);
  reader_->Submit(&slow_read);
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    slow.Write("late");
  });
  r = &slow_read;
  due.clear();
  WithDeadline("Poll of a read in flight", 10,
               [&] { reader_->Poll(&r, 1, 1, &due); });
  writer.join();
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(sbuf, "late");
  EXPECT_GE(slow_read.poll_wait_ns, 40 * 1000 * 1000);
}

TEST_F(AsyncReaderTest, ShortAndRetriedResultsStillReadEveryByte) {
  const uint64_t size = 50000;
  const std::string path = WritePatternFile("async_faults", size);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  std::vector<std::shared_ptr<FaultInjector>> injectors = {
      std::make_shared<testing::ShortResults>(false),
      std::make_shared<testing::ShortResults>(true),
      std::make_shared<testing::FailFirstAttempts>(EAGAIN, kMaxRetries),
      std::make_shared<testing::FailFirstAttempts>(EINTR, kMaxRetries)};
  int which = 0;
  for (auto& faults : injectors) {
    SCOPED_TRACE("injector " + std::to_string(which++));
    auto reader = Create(4, faults);
    ASSERT_NE(reader, nullptr);
    constexpr int kReads = 10;
    std::vector<std::string> bufs(kReads, std::string(3000, '\0'));
    std::vector<AsyncRead> reads(kReads);
    std::vector<AsyncRead*> ptrs;
    for (int i = 0; i < kReads; ++i) {
      Prepare(&reads[i], fd, &bufs[i][0], 3000, 48000 - i * 4000);
      reader->Submit(&reads[i]);
      ptrs.push_back(&reads[i]);
    }
    std::vector<AsyncRead*> due;
    WithDeadline("Poll of faulty reads", 20,
                 [&] { reader->Poll(ptrs.data(), kReads, kReads, &due); });
    EXPECT_EQ(due.size(), static_cast<size_t>(kReads));
    for (int i = 0; i < kReads; ++i) {
      EXPECT_EQ(reads[i].op.error, 0);
      EXPECT_EQ(std::string(reads[i].op.buf, reads[i].op.done),
                Expected(size, reads[i].op.offset, 3000));
    }
  }
  ::close(fd);
  ::unlink(path.c_str());
}

// Beyond the ring's retry bound pread rescues the read; beyond pread's own
// bound too, the read completes with the errno.
TEST_F(AsyncReaderTest, RetriesAboveTheBoundAreRescuedByPreadThenFail) {
  const std::string path = WritePatternFile("async_eagain", 8192);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  std::string expected(100, '\0');
  ASSERT_EQ(::pread(fd, &expected[0], 100, 0), 100);
  for (int k : {kMaxRetries + 1, 2 * (kMaxRetries + 1)}) {
    SCOPED_TRACE("k=" + std::to_string(k));
    auto reader =
        Create(4, std::make_shared<testing::FailFirstAttempts>(EAGAIN, k));
    std::string buf(100, '\0');
    AsyncRead read;
    Prepare(&read, fd, &buf[0], 100, 0);
    reader->Submit(&read);
    AsyncRead* r = &read;
    std::vector<AsyncRead*> due;
    WithDeadline("Poll", 10, [&] { reader->Poll(&r, 1, 1, &due); });
    ASSERT_EQ(due.size(), 1u);
    if (k == kMaxRetries + 1) {
      EXPECT_EQ(read.op.error, 0);
      EXPECT_EQ(buf, expected);
      EXPECT_EQ(reader->rescued(), 1u);
    } else {
      EXPECT_EQ(read.op.error, EAGAIN);
    }
  }
  ::close(fd);
  ::unlink(path.c_str());
}

TEST_F(AsyncReaderTest, AbortOfACompletedButUnreportedReadDropsIt) {
  const std::string path = WritePatternFile("async_done", 4096);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  std::string buf(100, '\0');
  AsyncRead read;
  Prepare(&read, fd, &buf[0], 100, 0);
  reader_->Submit(&read);
  std::this_thread::sleep_for(std::chrono::milliseconds(10));
  AsyncRead* r = &read;
  reader_->Abort(&r, 1);
  EXPECT_EQ(read.state, State::kAborted);
  std::vector<AsyncRead*> due;
  reader_->Poll(&r, 1, 1, &due);
  EXPECT_TRUE(due.empty());
  ::close(fd);
  ::unlink(path.c_str());
}

// Many threads submitting and polling at once share one ring: one reaper
// at a time, the others sleeping; no completion may be lost or misrouted.
TEST_F(AsyncReaderTest, EightThreadsSubmittingAndPollingConcurrently) {
  const uint64_t size = 1 << 20;
  const std::string path = WritePatternFile("async_mt", size);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  auto reader = Create(8, std::make_shared<testing::ShortResults>(false));
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      uint32_t x = static_cast<uint32_t>(t) * 7919u + 1;
      for (int i = 0; i < 60; ++i) {
        constexpr int kReads = 3;
        std::vector<std::string> bufs(kReads);
        std::vector<AsyncRead> reads(kReads);
        std::vector<AsyncRead*> ptrs;
        for (int j = 0; j < kReads; ++j) {
          x = x * 1103515245u + 12345u;
          const uint64_t off = x % size;
          const size_t len = 1 + (x >> 8) % 20000;
          bufs[j].assign(len, '\0');
          Prepare(&reads[j], fd, &bufs[j][0], len, off);
          reader->Submit(&reads[j]);
          ptrs.push_back(&reads[j]);
        }
        std::vector<AsyncRead*> due;
        reader->Poll(ptrs.data(), kReads, kReads, &due);
        if (due.size() != kReads) ++bad;
        for (const AsyncRead& r : reads) {
          if (r.op.error != 0 || std::string(r.op.buf, r.op.done) !=
                                     Expected(size, r.op.offset, r.op.len)) {
            ++bad;
          }
        }
      }
    });
  }
  WithDeadline("eight threads submitting and polling", 30, [&] {
    for (auto& th : threads) th.join();
  });
  EXPECT_EQ(bad.load(), 0);
  ::close(fd);
  ::unlink(path.c_str());
}

// RocksDB may call ReadAsync on one thread and Poll on another, and the
// first may be gone by then (a short-lived user thread, a resized pool).
// The kernel cancels or fails requests whose submitting task has exited
// unless the reader re-issues them; the read must still deliver its bytes.
// The kernel cancels a request when the thread that submitted it exits. A
// regular file is then read again with pread (see read_async_test.cc, cold
// file); a pipe cannot be re-read, so here the read must simply complete,
// once, with a clean error instead of hanging or vanishing.
TEST_F(AsyncReaderTest,
       PipeReadOfAnExitedSubmitterCompletesOnceWithoutHanging) {
  Pipe p;
  std::string buf(16, '\0');
  AsyncRead read;
  Prepare(&read, p.fds[0], &buf[0], buf.size(), 0);
  std::thread submitter([&] { reader_->Submit(&read); });
  submitter.join();  // The submitting task exits with the read in flight.
  std::this_thread::sleep_for(std::chrono::milliseconds(10));
  p.Write("0123456789abcdef");
  AsyncRead* r = &read;
  std::vector<AsyncRead*> due;
  WithDeadline("Poll after the submitter exited", 10,
               [&] { reader_->Poll(&r, 1, 1, &due); });
  ASSERT_EQ(due.size(), 1u);
  if (read.op.error == 0) {
    EXPECT_EQ(std::string(read.op.buf, read.op.done), "0123456789abcdef");
  } else {
    EXPECT_EQ(read.op.error, ESPIPE) << std::strerror(read.op.error);
  }
  due.clear();
  reader_->Poll(&r, 1, 1, &due);
  EXPECT_TRUE(due.empty()) << "reported twice";
}

TEST_F(AsyncReaderTest,
       ShortReadReapedByAnotherThreadIsContinuedByItsRequester) {
  Pipe mine, theirs;
  std::string buf(16, '\0'), other(4, '\0');
  AsyncRead read, their_read;
  Prepare(&read, mine.fds[0], &buf[0], buf.size(), 0);
  Prepare(&their_read, theirs.fds[0], &other[0], other.size(), 0);
  reader_->Submit(&read);  // This thread asks for `read`.
  std::thread reaper([&] {
    reader_->Submit(&their_read);
    AsyncRead* r = &their_read;
    std::vector<AsyncRead*> due;
    reader_->Poll(&r, 1, 1, &due);  // Reaps `read`'s short completion too.
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  mine.Write("01234567");  // Half of it: a short result for the reaper.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  theirs.Write("wxyz");
  WithDeadline("the other thread's Poll", 10, [&] { reaper.join(); });
  mine.Write("89abcdef");
  AsyncRead* r = &read;
  std::vector<AsyncRead*> due;
  int poller = 0;
  WithDeadline("Poll by the requester", 10, [&] {
    poller = static_cast<int>(::syscall(SYS_gettid));
    reader_->Poll(&r, 1, 1, &due);
  });
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(read.op.error, 0);
  EXPECT_EQ(std::string(read.op.buf, read.op.done), "0123456789abcdef");
  // The second half was read with the polling thread's identity, not with
  // the identity of the thread that happened to reap the first half.
  EXPECT_EQ(read.submitter, poller);
}

TEST_F(AsyncReaderTest, CancelOwnedStopsOnlyThatOwnersReads) {
  Pipe a, b;
  std::string buf_a(8, kPoison), buf_b(8, kPoison);
  AsyncRead read_a, read_b;
  Prepare(&read_a, a.fds[0], &buf_a[0], buf_a.size(), 0);
  Prepare(&read_b, b.fds[0], &buf_b[0], buf_b.size(), 0);
  read_a.owner = 7;
  read_b.owner = 8;
  reader_->Submit(&read_a);
  reader_->Submit(&read_b);
  EXPECT_EQ(reader_->CancelOwned(7), 1u);
  EXPECT_EQ(reader_->CancelOwned(7), 0u) << "asked twice";
  AsyncRead* ra = &read_a;
  std::vector<AsyncRead*> due;
  WithDeadline("Poll of the cancelled read", 10,
               [&] { reader_->Poll(&ra, 1, 1, &due); });
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(read_a.op.error, ECANCELED);
  b.Write("abcdefgh");
  AsyncRead* rb = &read_b;
  due.clear();
  WithDeadline("Poll of the other owner's read", 10,
               [&] { reader_->Poll(&rb, 1, 1, &due); });
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(read_b.op.error, 0);
  EXPECT_EQ(buf_b, "abcdefgh");
  a.Write("late");  // Nothing may read it into the cancelled buffer now.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_TRUE(AllPoisoned(buf_a)) << buf_a;
}

// A read into a buffer of the reader's own (owns_buffer) is aborted without
// waiting for the kernel, even where nothing can cancel it; once released,
// the reader frees it when its completion arrives.
std::atomic<int> g_freed{0};
void CountFree(AsyncRead* read) {
  delete[] read->op.buf;
  delete read;
  ++g_freed;
}

// A reader that cannot cancel (nothing stops a read in the kernel).
std::shared_ptr<AsyncReader> UncancellableReader() {
  int err = 0;
  auto reader = AsyncReader::Create(8, /*can_cancel=*/false, nullptr, &err);
  EXPECT_NE(reader, nullptr) << std::strerror(err);
  return reader;
}

// A 16-byte own-buffer read of `p`, on the heap as a released read must be.
AsyncRead* NewOwnBufferRead(const Pipe& p) {
  auto* read = new AsyncRead;
  Prepare(read, p.fds[0], new char[16], 16, 0);
  read->owns_buffer = true;
  return read;
}

TEST_F(AsyncReaderTest, OwnBufferReadIsAbortedWithoutWaitingAndFreedWhenDone) {
  auto reader = UncancellableReader();
  ASSERT_NE(reader, nullptr);
  Pipe p;
  AsyncRead* read = NewOwnBufferRead(p);
  reader->Submit(read);
  g_freed = 0;
  WithDeadline("Abort of an uncancellable own-buffer read", 5, [&] {
    AsyncRead* r = read;
    reader->Abort(&r, 1);  // Must not wait for the pipe.
  });
  EXPECT_TRUE(reader->Release(read, CountFree));
  EXPECT_EQ(g_freed.load(), 0) << "freed while the kernel has its buffer";
  p.Write("0123456789abcdef");
  // Any later round of the reader reaps the completion and frees it.
  AsyncRead other;
  std::string buf(4, '\0');
  Pipe q;
  Prepare(&other, q.fds[0], &buf[0], buf.size(), 0);
  reader->Submit(&other);
  q.Write("wxyz");
  AsyncRead* o = &other;
  std::vector<AsyncRead*> due;
  WithDeadline("Poll after the release", 5,
               [&] { reader->Poll(&o, 1, 1, &due); });
  reader->Poll(&o, 1, 1, &due);  // The next round frees what the last reaped.
  EXPECT_EQ(g_freed.load(), 1);
}

TEST_F(AsyncReaderTest, ReaderDestructorWaitsForReleasedReadsStillInTheKernel) {
  auto reader = UncancellableReader();
  ASSERT_NE(reader, nullptr);
  Pipe p;
  AsyncRead* read = NewOwnBufferRead(p);
  reader->Submit(read);
  g_freed = 0;
  ASSERT_TRUE(reader->Release(read, CountFree));
  std::thread feeder([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    p.Write("0123456789abcdef");
  });
  WithDeadline("AsyncReader destructor", 5, [&] { reader.reset(); });
  feeder.join();
  EXPECT_EQ(g_freed.load(), 1);
}

TEST_F(AsyncReaderTest, ReleaseOfAReadNotInTheKernelTakesNothing) {
  AsyncRead read;
  std::string buf(8, '\0');
  Pipe p;
  Prepare(&read, p.fds[0], &buf[0], buf.size(), 0);
  read.owns_buffer = true;
  reader_->Submit(&read);
  p.Write("abcdefgh");
  AsyncRead* r = &read;
  std::vector<AsyncRead*> due;
  WithDeadline("Poll", 5, [&] { reader_->Poll(&r, 1, 1, &due); });
  EXPECT_FALSE(reader_->Release(&read, CountFree));  // Done: caller frees.
}

TEST_F(AsyncReaderTest, AbandonedReadsAreReapedByLaterSubmissions) {
  int err = 0;
  auto reader = AsyncReader::Create(2, /*can_cancel=*/false, nullptr, &err);
  ASSERT_NE(reader, nullptr) << std::strerror(err);
  Pipe a, b, c;
  g_freed = 0;
  for (Pipe* p : {&a, &b}) {  // Fill the ring with abandoned reads.
    AsyncRead* read = NewOwnBufferRead(*p);
    reader->Submit(read);
    reader->Abort(&read, 1);
    ASSERT_TRUE(reader->Release(read, CountFree));
  }
  a.Write("0123456789abcdef");
  b.Write("0123456789abcdef");
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  // Nobody polls: the next submissions must reap the two completions and
  // find room in the ring, not fall back to pread for ever.
  c.Write("wxyz");
  AsyncRead next;
  std::string buf(4, '\0');
  Prepare(&next, c.fds[0], &buf[0], buf.size(), 0);
  reader->Submit(&next);
  EXPECT_EQ(reader->sync_fallbacks(), 0u);
  AsyncRead* n = &next;
  std::vector<AsyncRead*> due;
  WithDeadline("Poll", 5, [&] { reader->Poll(&n, 1, 1, &due); });
  EXPECT_EQ(buf, "wxyz");
  EXPECT_EQ(g_freed.load(), 2) << "released reads were never freed";
}

}  // namespace
}  // namespace uring
}  // namespace uringfs
