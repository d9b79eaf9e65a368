// Asynchronous reads of include/uringfs/task.h's tasks, through a real
// UringFileSystem (the fixture of task_test_fixture.h):
//
//   * ReadAsync is refused (no callback) once the task is shut down, and
//     after ShutdownUringFileSystem; synchronous reads are not affected.
//   * Reads in flight (held by a FIFO, or direct reads of a large file) when
//     their task is shut down or cancelled complete at the next Poll with
//     data or Aborted "cancelled", never hang; another task's reads stay.
//   * AbortIO / Poll / Cancel racing completions from several threads: every
//     callback exactly once, or never for an aborted handle.
// Anything that could hang runs under a Deadline that aborts the binary with
// a message instead.

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "env/uring_file_system.h"
#include "rocksdb/file_system.h"
#include "tests/task/task_test_fixture.h"
#include "tests/testing/async_call.h"
#include "tests/testing/deadline.h"
#include "tests/testing/pattern_file.h"
#include "tests/testing/status_matchers.h"
#include "uringfs/options.h"
#include "uringfs/stats.h"
#include "uringfs/task.h"

namespace uringfs {
namespace {

using rocksdb::FileOptions;
using rocksdb::IOOptions;
using rocksdb::IOStatus;
using rocksdb::Slice;
using std::chrono::milliseconds;

using testing::AsyncCall;
using testing::Deadline;
using testing::IsCancelled;
using testing::Pattern;
using testing::TaskApiTest;
using testing::WritePatternFileAt;

class AsyncTaskTest : public TaskApiTest {
 protected:
  void SetUp() override {
    TaskApiTest::SetUp();
    path_ = Path("pattern");
    ASSERT_TRUE(WritePatternFileAt(path_, kSize));
    file_ = OpenRandom(path_, false);
    ASSERT_NE(file_, nullptr);
    io_uring_ = Stats().io_uring_in_use;
  }
  void TearDown() override {
    file_.reset();
    TaskApiTest::TearDown();
  }
  std::unique_ptr<rocksdb::FSRandomAccessFile> OpenRandom(
      const std::string& path, bool direct) {
    FileOptions fo;
    fo.use_direct_reads = direct;
    std::unique_ptr<rocksdb::FSRandomAccessFile> f;
    IOStatus s = fs_->NewRandomAccessFile(path, fo, &f, nullptr);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return f;
  }

  static constexpr uint64_t kSize = 1 << 20;
  std::string path_;
  std::unique_ptr<rocksdb::FSRandomAccessFile> file_;
  bool io_uring_ = false;
};

TEST_F(AsyncTaskTest, ReadAsyncAfterTheTaskIsShutDownFailsToStart) {
  Deadline deadline("ReadAsyncAfterShutdown", std::chrono::seconds(30));
  std::shared_ptr<IoTask> task = NewTask();
  task->Shutdown(ShutdownMode::kDrain);
  {
    IoTaskScope scope(task);
    AsyncCall c;
    IOStatus s = c.Start(file_.get(), 4096, 1000);
    EXPECT_TRUE(IsCancelled(s));
    EXPECT_EQ(c.handle, nullptr);
    std::vector<void*> none;
    EXPECT_OK(fs_->Poll(none, 0));
    EXPECT_EQ(c.calls.load(), 0);
    // Synchronous reads run on the caller: not affected.
    std::string scratch(1000, '\0');
    Slice result;
    ASSERT_OK(
        file_->Read(4096, 1000, IOOptions(), &result, &scratch[0], nullptr));
    EXPECT_EQ(result.ToString(), Pattern(4096, 1000));
  }
  // Outside the scope the default task (still open) reads.
  {
    AsyncCall c;
    ASSERT_OK(c.Start(file_.get(), 8192, 500));
    std::vector<void*> h = {c.handle};
    ASSERT_OK(fs_->Poll(h, 1));
    EXPECT_EQ(c.calls.load(), 1);
    EXPECT_OK(c.status);
    EXPECT_EQ(c.data, Pattern(8192, 500));
  }
  // After ShutdownUringFileSystem, a file opened before refuses ReadAsync
  // from anywhere, and still reads synchronously.
  ASSERT_OK(ShutdownUringFileSystem(*fs_, ShutdownMode::kDrain));
  {
    AsyncCall c;
    EXPECT_TRUE(IsCancelled(c.Start(file_.get(), 0, 100)));
    EXPECT_EQ(c.handle, nullptr);
    EXPECT_EQ(c.calls.load(), 0);
    std::string scratch(100, '\0');
    Slice result;
    ASSERT_OK(file_->Read(0, 100, IOOptions(), &result, &scratch[0], nullptr));
    EXPECT_EQ(result.ToString(), Pattern(0, 100));
  }
}

// Reads held in flight by a FIFO (no data until we write some): a shutdown
// of their task cancels them; they complete at the next Poll with Aborted
// "cancelled". Another task's read on the same FIFO stays and gets data.
class FifoTaskTest : public AsyncTaskTest {
 protected:
  void SetUp() override {
    AsyncTaskTest::SetUp();
    if (HasFatalFailure()) return;
    if (!io_uring_) {
      GTEST_SKIP() << "io_uring is not in use here (" << Stats().io_uring
                   << "); without it ReadAsync on a FIFO would block inside "
                      "ReadAsync, nothing can be kept in flight";
    }
    fifo_ = Path("fifo");
    ASSERT_EQ(::mkfifo(fifo_.c_str(), 0600), 0) << std::strerror(errno);
    writer_ = ::open(fifo_.c_str(), O_RDWR | O_CLOEXEC);  // Never blocks.
    ASSERT_GE(writer_, 0);
    fifo_file_ = OpenRandom(fifo_, false);
    ASSERT_NE(fifo_file_, nullptr);
  }
  void TearDown() override {
    fifo_file_.reset();
    if (writer_ >= 0) ::close(writer_);
    AsyncTaskTest::TearDown();
  }
  void Feed(const std::string& s) {
    ASSERT_EQ(::write(writer_, s.data(), s.size()),
              static_cast<ssize_t>(s.size()));
  }

  std::string fifo_;
  int writer_ = -1;
  std::unique_ptr<rocksdb::FSRandomAccessFile> fifo_file_;
};

TEST_F(FifoTaskTest, InFlightReadsOfAShutDownTaskCompleteAtPollAsCancelled) {
  Deadline deadline("InFlightReadsOfAShutDownTask", std::chrono::seconds(30));
  std::shared_ptr<IoTask> t = NewTask();
  std::shared_ptr<IoTask> u = NewTask();
  constexpr int kReads = 4;
  std::vector<std::unique_ptr<AsyncCall>> mine;
  {
    IoTaskScope scope(t);
    for (int i = 0; i < kReads; ++i) {
      mine.push_back(std::make_unique<AsyncCall>());
      ASSERT_OK(mine.back()->Start(fifo_file_.get(), 0, 64));
    }
  }
  AsyncCall theirs;
  {
    IoTaskScope scope(u);
    ASSERT_OK(theirs.Start(fifo_file_.get(), 0, 64));
  }
  std::this_thread::sleep_for(milliseconds(5));
  const UringFsStats before = Stats();
  t->Shutdown(ShutdownMode::kDrain);
  const UringFsStats after = Stats();
  EXPECT_EQ(after.async_reads_cancelled - before.async_reads_cancelled,
            static_cast<uint64_t>(kReads));

  std::vector<void*> handles;
  for (auto& c : mine) handles.push_back(c->handle);
  ASSERT_OK(fs_->Poll(handles, handles.size()));
  for (auto& c : mine) {
    EXPECT_EQ(c->calls.load(), 1);
    EXPECT_TRUE(IsCancelled(c->status));
  }
  ASSERT_OK(fs_->Poll(handles, handles.size()));  // Never twice.
  for (auto& c : mine) EXPECT_EQ(c->calls.load(), 1);

  // U's read was not cancelled: it gets the data.
  EXPECT_EQ(theirs.calls.load(), 0);
  Feed(std::string(64, 'q'));
  std::vector<void*> h = {theirs.handle};
  ASSERT_OK(fs_->Poll(h, 1));
  EXPECT_EQ(theirs.calls.load(), 1);
  EXPECT_OK(theirs.status);
  EXPECT_EQ(theirs.data, std::string(64, 'q'));
  EXPECT_FALSE(u->is_shut_down());
}

// Cancel() covers asynchronous reads in the kernel too (task.h: "kCancelled:
// Queued work (or reads in the kernel) was cancelled"); the task stays open.
TEST_F(FifoTaskTest, CancelOfATaskWithReadsInTheKernelIsCancelled) {
  Deadline deadline("CancelOfReads", std::chrono::seconds(30));
  std::shared_ptr<IoTask> t = NewTask();
  IoTaskScope scope(t);
  AsyncCall c;
  ASSERT_OK(c.Start(fifo_file_.get(), 0, 32));
  std::this_thread::sleep_for(milliseconds(5));
  const UringFsStats before = Stats();
  EXPECT_OUTCOME(CancelOutcome::kCancelled, t->Cancel());
  const UringFsStats after = Stats();
  EXPECT_EQ(after.async_reads_cancelled - before.async_reads_cancelled, 1u);
  std::vector<void*> h = {c.handle};
  ASSERT_OK(fs_->Poll(h, 1));
  EXPECT_EQ(c.calls.load(), 1);
  EXPECT_TRUE(IsCancelled(c.status));
  // Still open: a new read of the task starts and completes.
  EXPECT_FALSE(t->is_shut_down());
  AsyncCall d;
  ASSERT_OK(d.Start(fifo_file_.get(), 0, 16));
  Feed(std::string(16, 'z'));
  std::vector<void*> hd = {d.handle};
  ASSERT_OK(fs_->Poll(hd, 1));
  EXPECT_EQ(d.calls.load(), 1);
  EXPECT_OK(d.status);
  EXPECT_EQ(d.data, std::string(16, 'z'));
}

// Direct reads of a large file keep the device busy; a shutdown right after
// starting them leaves some in flight. Every callback runs exactly once at
// the next Poll, with the right data or with Aborted — never a hang.
TEST_F(AsyncTaskTest, DirectReadsInFlightAtShutdownCompleteWithDataOrAborted) {
  const std::string big = Path("big");
  constexpr uint64_t kBig = 32 << 20;
  ASSERT_TRUE(WritePatternFileAt(big, kBig));
  const int probe = ::open(big.c_str(), O_RDONLY | O_DIRECT | O_CLOEXEC);
  if (probe < 0) {
    GTEST_SKIP() << "O_DIRECT open of " << big
                 << " failed: " << std::strerror(errno);
  }
  ::close(probe);
  std::unique_ptr<rocksdb::FSRandomAccessFile> f = OpenRandom(big, true);
  ASSERT_NE(f, nullptr);
  Deadline deadline("DirectReadsInFlightAtShutdown", std::chrono::seconds(60));
  constexpr size_t kLen = 256 << 10;
  constexpr int kReads = 48;
  int with_data = 0, aborted = 0;
  for (int round = 0; round < 6; ++round) {
    std::shared_ptr<IoTask> t = NewTask();
    std::vector<std::unique_ptr<AsyncCall>> calls;
    {
      IoTaskScope scope(t);
      for (int i = 0; i < kReads; ++i) {
        calls.push_back(std::make_unique<AsyncCall>());
        const uint64_t off =
            (static_cast<uint64_t>((i * 37 + round * 11) % (kBig / kLen))) *
            kLen;
        ASSERT_OK(calls.back()->Start(f.get(), off, kLen));
      }
    }
    t->Shutdown(round % 2 == 0 ? ShutdownMode::kDrain : ShutdownMode::kCancel);
    std::vector<void*> handles;
    for (auto& c : calls) handles.push_back(c->handle);
    ASSERT_OK(fs_->Poll(handles, handles.size()));
    for (auto& c : calls) {
      ASSERT_EQ(c->calls.load(), 1);
      if (c->status.ok()) {
        ++with_data;
        EXPECT_EQ(c->data.size(), kLen);
        EXPECT_TRUE(c->data == Pattern(c->req.offset, kLen))
            << "wrong data at " << c->req.offset;
      } else {
        ++aborted;
        EXPECT_TRUE(IsCancelled(c->status));
      }
    }
  }
  std::printf(
      "direct reads at shutdown: %d with data, %d aborted (io_uring %s)\n",
      with_data, aborted, io_uring_ ? "on" : "off");
  if (!io_uring_) {
    EXPECT_EQ(aborted, 0) << "nothing is in flight without io_uring";
  }
}

// What the racing threads saw, over all their reads.
struct RaceTally {
  std::atomic<int> delivered{0};  // Callbacks run (data or cancelled).
  std::atomic<int> never{0};      // Aborted before a callback ran.
  std::atomic<int> cancelled{0};  // Callbacks that said Aborted "cancelled".
};

// Starts 1 to 6 reads of a pattern file of `size` bytes at random places:
// 64 KiB aligned ones through `direct`, small ones through `buffered`.
void StartRandomReads(std::mt19937& rng, rocksdb::FSRandomAccessFile* direct,
                      rocksdb::FSRandomAccessFile* buffered, uint64_t size,
                      std::vector<std::unique_ptr<AsyncCall>>* calls) {
  const int n = 1 + static_cast<int>(rng() % 6);
  for (int i = 0; i < n; ++i) {
    calls->push_back(std::make_unique<AsyncCall>());
    const bool use_direct = (rng() % 2) == 0;
    const size_t len = use_direct ? (64 << 10) : 1000 + rng() % 9000;
    const uint64_t off =
        use_direct ? (rng() % (size / len)) * len : rng() % (size - len);
    ASSERT_OK(calls->back()->Start(use_direct ? direct : buffered, off, len));
  }
}

// Ends the reads of `handles` in one of four ways chosen by `rng`; `*aborted`
// says which handles were aborted.
void AbortOrPoll(std::mt19937& rng, rocksdb::FileSystem* fs,
                 std::vector<void*>* handles, std::vector<bool>* aborted) {
  std::vector<void*>& all = *handles;  // AbortIO and Poll take a non-const &.
  const size_t n = all.size();
  aborted->assign(n, false);
  switch (rng() % 4) {
    case 0:  // Abort at once.
      ASSERT_OK(fs->AbortIO(all));
      aborted->assign(n, true);
      break;
    case 1:  // Reap what is done, abort the rest.
      ASSERT_OK(fs->Poll(all, 0));
      ASSERT_OK(fs->AbortIO(all));
      aborted->assign(n, true);
      break;
    case 2: {  // Abort the first half, wait for the rest.
      std::vector<void*> first(all.begin(), all.begin() + n / 2);
      std::vector<void*> rest(all.begin() + n / 2, all.end());
      ASSERT_OK(fs->AbortIO(first));
      for (size_t i = 0; i < n / 2; ++i) (*aborted)[i] = true;
      ASSERT_OK(fs->Poll(rest, rest.size()));
      break;
    }
    default:  // Wait for all, then abort (a no-op for reported ones).
      ASSERT_OK(fs->Poll(all, all.size()));
      ASSERT_OK(fs->AbortIO(all));
      break;
  }
}

// Every callback ran at most once, exactly once unless aborted, with the
// pattern's bytes or Aborted "cancelled"; counted in `tally`.
void CheckCallbacks(const std::vector<std::unique_ptr<AsyncCall>>& calls,
                    const std::vector<bool>& aborted, RaceTally* tally) {
  for (size_t i = 0; i < calls.size(); ++i) {
    AsyncCall& c = *calls[i];
    const int k = c.calls.load();
    ASSERT_LE(k, 1) << "callback ran twice";
    if (!aborted[i]) {
      ASSERT_EQ(k, 1) << "polled read never called back";
    }
    if (k == 0) {
      ++tally->never;
      continue;
    }
    ++tally->delivered;
    if (c.status.ok()) {
      ASSERT_EQ(c.data.size(), c.req.len);
      ASSERT_TRUE(c.data == Pattern(c.req.offset, c.req.len))
          << "wrong data at " << c.req.offset;
    } else {
      ASSERT_TRUE(IsCancelled(c.status));
      ++tally->cancelled;
    }
  }
}

// Several threads, each with its own task, start reads and immediately abort,
// poll, or poll some and abort the rest, while another thread keeps
// cancelling their tasks. Every callback runs exactly once, or never for a
// handle aborted before it was reported; data is right when the status is.
TEST_F(AsyncTaskTest, AbortIORacingCompletionsAndCancelsFromSeveralThreads) {
  const std::string big = Path("big");
  constexpr uint64_t kBig = 8 << 20;
  ASSERT_TRUE(WritePatternFileAt(big, kBig));
  const int probe = ::open(big.c_str(), O_RDONLY | O_DIRECT | O_CLOEXEC);
  const bool direct = probe >= 0;
  if (probe >= 0) ::close(probe);
  std::unique_ptr<rocksdb::FSRandomAccessFile> fd =
      OpenRandom(big, direct);  // Direct when possible: slower, in flight.
  std::unique_ptr<rocksdb::FSRandomAccessFile> fb = OpenRandom(big, false);
  ASSERT_NE(fd, nullptr);
  ASSERT_NE(fb, nullptr);
  Deadline deadline("AbortIORacingCompletions", std::chrono::seconds(60));

  constexpr int kThreads = 4;
  constexpr int kIterations = 150;
  std::vector<std::shared_ptr<IoTask>> tasks;
  for (int i = 0; i < kThreads; ++i) tasks.push_back(NewTask());
  std::atomic<bool> stop{false};
  RaceTally tally;
  std::thread canceller([&] {
    std::mt19937 rng(7);
    while (!stop.load()) {
      tasks[rng() % kThreads]->Cancel();
      std::this_thread::sleep_for(std::chrono::microseconds(300));
    }
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      IoTaskScope scope(tasks[t]);
      std::mt19937 rng(1000 + t);
      for (int it = 0; it < kIterations; ++it) {
        std::vector<std::unique_ptr<AsyncCall>> calls;
        ASSERT_NO_FATAL_FAILURE(
            StartRandomReads(rng, fd.get(), fb.get(), kBig, &calls));
        std::vector<void*> all;
        for (auto& c : calls) all.push_back(c->handle);
        std::vector<bool> aborted;
        ASSERT_NO_FATAL_FAILURE(AbortOrPoll(rng, fs_.get(), &all, &aborted));
        ASSERT_NO_FATAL_FAILURE(CheckCallbacks(calls, aborted, &tally));
        // A later Poll never calls an aborted or reported handle back.
        ASSERT_OK(fs_->Poll(all, 0));
        for (auto& c : calls) ASSERT_LE(c->calls.load(), 1);
      }
    });
  }
  for (std::thread& th : threads) th.join();
  stop = true;
  canceller.join();
  std::printf(
      "racing reads: %d delivered (%d cancelled), %d aborted unseen; "
      "direct=%d io_uring=%d\n",
      tally.delivered.load(), tally.cancelled.load(), tally.never.load(),
      direct ? 1 : 0, io_uring_ ? 1 : 0);
  EXPECT_GT(tally.delivered.load(), 0);
}

}  // namespace
}  // namespace uringfs
