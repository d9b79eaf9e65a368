// ReadAsync / FileSystem::Poll / AbortIO to RocksDB 7.8.3's contract, with
// io_uring on and forced off: the callback runs exactly once after an OK
// ReadAsync and never after a failed one, on the thread that calls Poll;
// Poll honours min_completions; an aborted handle never calls back; the
// handle deleter works after a callback and after an abort. Reads kept in
// flight through a FIFO show that AbortIO really stops the kernel from
// writing into the buffer.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

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

#include "env/rocksdb_api.h"
#include "env/uring_file_system.h"
#include "rocksdb/file_system.h"
#include "tests/read/fs_test_util.h"
#include "tests/testing/aligned_buffer.h"
#include "tests/testing/async_call.h"
#include "tests/testing/deadline.h"
#include "tests/testing/pattern_file.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "tests/uring/test_util.h"

namespace uringfs {
namespace {

using rocksdb::FSReadRequest;
using rocksdb::IOOptions;
using rocksdb::IOStatus;
using testing::AlignedBuffer;
using testing::AsyncCall;
using testing::Expected;
using testing::NewFs;
using testing::OpenRandom;
namespace ut = uring::testing;

class ReadAsyncTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    if (GetParam() && !ut::IoUringAvailable()) {
      GTEST_SKIP() << "io_uring_queue_init fails here; io_uring path untested";
    }
    path_ = testing::WritePatternFile("async", kSize);
    fs_ = NewFs(GetParam(), 16);
    file_ = OpenRandom(fs_.get(), path_);
    ASSERT_NE(file_, nullptr);
  }
  void TearDown() override {
    file_.reset();
    if (!path_.empty()) ::unlink(path_.c_str());
  }

  static constexpr uint64_t kSize = 100000;
  std::string path_;
  std::shared_ptr<UringFileSystem> fs_;
  std::unique_ptr<rocksdb::FSRandomAccessFile> file_;
};

TEST_P(ReadAsyncTest, CallbackRunsOnceAtPollOnThePollingThread) {
  std::vector<AsyncCall> calls(5);
  // Started on another thread; polled here.
  std::thread starter([&] {
    for (size_t i = 0; i < calls.size(); ++i) {
      EXPECT_OK(calls[i].Start(file_.get(), i * 9000 + 7, 5000));
    }
  });
  starter.join();
  std::vector<void*> handles;
  for (AsyncCall& c : calls) {
    ASSERT_NE(c.handle, nullptr);
    EXPECT_EQ(c.calls.load(), 0) << "callback ran before Poll";
    handles.push_back(c.handle);
  }
  ASSERT_OK(fs_->Poll(handles, handles.size()));
  for (AsyncCall& c : calls) {
    EXPECT_EQ(c.calls.load(), 1);
    EXPECT_EQ(c.thread, std::this_thread::get_id());
    EXPECT_OK(c.status);
    EXPECT_EQ(c.data, Expected(kSize, c.req.offset, c.req.len));
  }
  // Polling again never calls back twice.
  ASSERT_OK(fs_->Poll(handles, handles.size()));
  for (AsyncCall& c : calls) {
    EXPECT_EQ(c.calls.load(), 1);
    c.Release();  // Deleter after the callback.
  }
  EXPECT_EQ(fs_->GetStats().async_reads, calls.size());
}

TEST_P(ReadAsyncTest, WithoutIoUringTheCallbackStillWaitsForPoll) {
  AsyncCall c;
  ASSERT_OK(c.Start(file_.get(), 50, 100));
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(c.calls.load(), 0);
  std::vector<void*> handles = {c.handle};
  std::thread poller([&] { EXPECT_OK(fs_->Poll(handles, 1)); });
  const std::thread::id poller_id = poller.get_id();
  poller.join();
  EXPECT_EQ(c.calls.load(), 1);
  EXPECT_EQ(c.thread, poller_id);
  EXPECT_EQ(c.data, Expected(kSize, 50, 100));
  c.Release();
}

TEST_P(ReadAsyncTest, ReadAtEndOfFileCallsBackWithTheShortResult) {
  AsyncCall c, past;
  ASSERT_OK(c.Start(file_.get(), kSize - 10, 100));
  ASSERT_OK(past.Start(file_.get(), kSize + 10, 100));
  std::vector<void*> handles = {c.handle, past.handle};
  ASSERT_OK(fs_->Poll(handles, 2));
  EXPECT_EQ(c.data, Expected(kSize, kSize - 10, 100));
  EXPECT_EQ(c.data.size(), 10u);
  EXPECT_OK(past.status);
  EXPECT_TRUE(past.data.empty());
  c.Release();
  past.Release();
}

TEST_P(ReadAsyncTest, FailedReadAsyncNeverCallsBack) {
  const std::string why = testing::DirectIoUnsupported(path_);
  if (!why.empty()) GTEST_SKIP() << why;
  auto direct = OpenRandom(fs_.get(), path_, true);
  const size_t a = direct->GetRequiredBufferAlignment();
  AlignedBuffer buf(a, 4 * a);
  FSReadRequest req;
  req.offset = 1;  // Misaligned.
  req.len = a;
  req.scratch = buf.get();
  int calls = 0;
  void* handle = reinterpret_cast<void*>(0x1);
  rocksdb::IOHandleDeleter del;
  IOStatus s = direct->ReadAsync(
      req, IOOptions(), [&](const FSReadRequest&, void*) { ++calls; }, nullptr,
      &handle, &del, nullptr);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_EQ(handle, nullptr);
  std::vector<void*> handles;  // RocksDB would not poll a failed request.
  ASSERT_OK(fs_->Poll(handles, 0));
  EXPECT_EQ(calls, 0);
  // An aligned one on the same file works and calls back once.
  req.offset = a;
  s = direct->ReadAsync(
      req, IOOptions(), [&](const FSReadRequest&, void*) { ++calls; }, nullptr,
      &handle, &del, nullptr);
  ASSERT_OK(s);
  handles.push_back(handle);
  ASSERT_OK(fs_->Poll(handles, 1));
  EXPECT_EQ(calls, 1);
  del(handle);
}

TEST_P(ReadAsyncTest, AbortedHandlesNeverCallBackAndCanBeDeleted) {
  std::vector<AsyncCall> calls(4);
  std::vector<void*> handles;
  for (size_t i = 0; i < calls.size(); ++i) {
    ASSERT_OK(calls[i].Start(file_.get(), i * 1000, 3000));
    handles.push_back(calls[i].handle);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(5));  // Completed.
  ASSERT_OK(fs_->AbortIO(handles));
  ASSERT_OK(fs_->Poll(handles, handles.size()));
  for (AsyncCall& c : calls) {
    EXPECT_EQ(c.calls.load(), 0) << "aborted handle called back";
    c.Release();  // Deleter after AbortIO.
  }
}

TEST_P(ReadAsyncTest, DeletingAnUnpolledHandleNeverCallsBack) {
  AsyncCall c;
  ASSERT_OK(c.Start(file_.get(), 0, 1000));
  c.Release();
  EXPECT_EQ(c.calls.load(), 0);
}

TEST_P(ReadAsyncTest, ReadAsyncAfterPollOfOthersIsIndependent) {
  // Poll honours min_completions on completed reads: min 1 of 3 may report
  // any number >= 1, and a later Poll reports the rest exactly once.
  std::vector<AsyncCall> calls(3);
  std::vector<void*> handles;
  for (size_t i = 0; i < calls.size(); ++i) {
    ASSERT_OK(calls[i].Start(file_.get(), i * 20000, 20000));
    handles.push_back(calls[i].handle);
  }
  ASSERT_OK(fs_->Poll(handles, 1));
  int reported = 0;
  for (AsyncCall& c : calls) reported += c.calls.load();
  EXPECT_GE(reported, 1);
  ASSERT_OK(fs_->Poll(handles, 3));
  for (AsyncCall& c : calls) {
    EXPECT_EQ(c.calls.load(), 1);
    EXPECT_EQ(c.data, Expected(kSize, c.req.offset, c.req.len));
    c.Release();
  }
}

INSTANTIATE_TEST_SUITE_P(UringAndPread, ReadAsyncTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& i) {
                           return i.param ? "IoUring" : "Pread";
                         });

// ---------------------------------------------------------------------------
// Reads held in flight by a FIFO (io_uring only: without it the read would
// block inside ReadAsync).
// ---------------------------------------------------------------------------

class InFlightReadAsyncTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!ut::IoUringAvailable()) {
      GTEST_SKIP() << "io_uring_queue_init fails here; needs io_uring";
    }
    fifo_ = testing::TempPath("fifo");
    ASSERT_EQ(::mkfifo(fifo_.c_str(), 0600), 0) << std::strerror(errno);
    // Our own read-write end: the file system's O_RDONLY open then does not
    // block, and writes into it reach the file system's reads.
    writer_ = ::open(fifo_.c_str(), O_RDWR | O_CLOEXEC);
    ASSERT_GE(writer_, 0);
    fs_ = NewFs(true, 16);
    file_ = OpenRandom(fs_.get(), fifo_);
    ASSERT_NE(file_, nullptr);
    regular_ = testing::WritePatternFile("regular", 50000);
    regular_file_ = OpenRandom(fs_.get(), regular_);
  }
  void TearDown() override {
    file_.reset();
    regular_file_.reset();
    if (writer_ >= 0) ::close(writer_);
    if (!fifo_.empty()) ::unlink(fifo_.c_str());
    if (!regular_.empty()) ::unlink(regular_.c_str());
  }
  void Feed(const std::string& s) {
    ASSERT_EQ(::write(writer_, s.data(), s.size()),
              static_cast<ssize_t>(s.size()));
  }
  // Runs `fn`, failing the binary instead of hanging
  // (tests/testing/deadline.h).
  static void WithDeadline(const char* what, std::function<void()> fn) {
    uringfs::testing::WithDeadline(what, std::chrono::seconds(10),
                                   std::move(fn));
  }

  std::string fifo_, regular_;
  int writer_ = -1;
  std::shared_ptr<UringFileSystem> fs_;
  std::unique_ptr<rocksdb::FSRandomAccessFile> file_, regular_file_;
};

TEST_F(InFlightReadAsyncTest, AbortIOStopsTheKernelWritingIntoTheBuffer) {
  AsyncCall c;
  ASSERT_OK(c.Start(file_.get(), 0, 64));
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  std::vector<void*> handles = {c.handle};
  WithDeadline("AbortIO of an in-flight read",
               [&] { EXPECT_OK(fs_->AbortIO(handles)); });
  std::memset(c.scratch(), 0xab, c.req.len);
  Feed(std::string(64, 'q'));
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  EXPECT_EQ(c.ScratchBytes(), std::string(64, '\xab'))
      << "the kernel wrote into an aborted read's buffer";
  ASSERT_OK(fs_->Poll(handles, 1));
  EXPECT_EQ(c.calls.load(), 0);
  c.Release();
  EXPECT_GE(fs_->GetStats().async_cancels, 1u);
}

TEST_F(InFlightReadAsyncTest, DeleterOfAnInFlightHandleStopsTheKernel) {
  AsyncCall c;
  ASSERT_OK(c.Start(file_.get(), 0, 64));
  WithDeadline("deleter of an in-flight handle", [&] { c.Release(); });
  std::memset(c.scratch(), 0xab, c.req.len);
  Feed(std::string(64, 'q'));
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  EXPECT_EQ(c.ScratchBytes(), std::string(64, '\xab'));
  EXPECT_EQ(c.calls.load(), 0);
}

TEST_F(InFlightReadAsyncTest, PollHonoursMinCompletions) {
  AsyncCall fifo_read, file_read;
  ASSERT_OK(fifo_read.Start(file_.get(), 0, 16));
  ASSERT_OK(file_read.Start(regular_file_.get(), 100, 1000));
  std::vector<void*> handles = {fifo_read.handle, file_read.handle};
  WithDeadline("Poll(min 1)", [&] { EXPECT_OK(fs_->Poll(handles, 1)); });
  EXPECT_EQ(file_read.calls.load(), 1);
  EXPECT_EQ(file_read.data, Expected(50000, 100, 1000));
  EXPECT_EQ(fifo_read.calls.load(), 0);
  ASSERT_OK(fs_->Poll(handles, 0));
  EXPECT_EQ(fifo_read.calls.load(), 0);
  Feed("abcdefghijklmnop");
  WithDeadline("Poll(min 2)", [&] { EXPECT_OK(fs_->Poll(handles, 2)); });
  EXPECT_EQ(fifo_read.calls.load(), 1);
  EXPECT_EQ(fifo_read.data, "abcdefghijklmnop");
  EXPECT_EQ(file_read.calls.load(), 1);
  fifo_read.Release();
  file_read.Release();
}

TEST_F(InFlightReadAsyncTest, PollOnAnotherThreadRunsTheCallbackThere) {
  AsyncCall c;
  ASSERT_OK(c.Start(file_.get(), 0, 8));
  std::vector<void*> handles = {c.handle};
  std::thread::id poller_id;
  std::thread poller([&] {
    poller_id = std::this_thread::get_id();
    EXPECT_OK(fs_->Poll(handles, 1));
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(c.calls.load(), 0);
  Feed("12345678");
  poller.join();
  EXPECT_EQ(c.calls.load(), 1);
  EXPECT_EQ(c.thread, poller_id);
  EXPECT_EQ(c.data, "12345678");
  c.Release();
}

// ReadAsync on a thread that exits before the data arrives; Poll on
// another. The callback must still get the bytes.
// On a FIFO the kernel's cancellation (the starter exited) cannot be undone
// by re-reading with pread: the callback must still run exactly once, with
// the data or a clean error, and nothing may hang. Regular files get their
// data: see the cold-file test below.
TEST_F(InFlightReadAsyncTest, FifoReadAsyncFromAnExitedThreadCallsBackOnce) {
  AsyncCall c;
  std::thread starter([&] { EXPECT_OK(c.Start(file_.get(), 0, 8)); });
  starter.join();
  std::this_thread::sleep_for(std::chrono::milliseconds(10));
  Feed("ABCDEFGH");
  std::vector<void*> handles = {c.handle};
  WithDeadline("Poll after the starter exited",
               [&] { EXPECT_OK(fs_->Poll(handles, 1)); });
  EXPECT_EQ(c.calls.load(), 1);
  if (c.status.ok()) {
    EXPECT_EQ(c.data, "ABCDEFGH");
  } else {
    EXPECT_TRUE(c.status.IsIOError()) << c.status.ToString();
  }
  c.Release();
}

// The same with a regular file that is not in the page cache, as RocksDB's
// iterators read SST blocks with async_io: the data must arrive although
// the thread that called ReadAsync has exited.
TEST_F(InFlightReadAsyncTest,
       ColdFileReadAsyncFromAnExitedThreadStillDeliversData) {
  const uint64_t size = 8 << 20;
  const std::string path = testing::WritePatternFile("cold", size);
  ASSERT_FALSE(path.empty());
  {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::fdatasync(fd), 0);
    ASSERT_EQ(::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED), 0);
    ::close(fd);
  }
  auto cold = OpenRandom(fs_.get(), path);
  std::vector<AsyncCall> calls(4);
  std::thread starter([&] {
    for (size_t i = 0; i < calls.size(); ++i) {
      EXPECT_OK(calls[i].Start(cold.get(), i * (2 << 20) + 4096, 1 << 20));
    }
  });
  starter.join();
  std::vector<void*> handles;
  for (AsyncCall& c : calls) handles.push_back(c.handle);
  WithDeadline("Poll of cold reads after the starter exited",
               [&] { EXPECT_OK(fs_->Poll(handles, handles.size())); });
  for (AsyncCall& c : calls) {
    EXPECT_EQ(c.calls.load(), 1);
    EXPECT_OK(c.status);
    EXPECT_EQ(c.data, Expected(size, c.req.offset, c.req.len));
    c.Release();
  }
  cold.reset();
  ::unlink(path.c_str());
}

// RocksDB 8.4 and later use ReadAsync only if the file system says it
// supports it; uringfs does, with and without io_uring, whatever the POSIX
// file system underneath would answer.
TEST_P(ReadAsyncTest, FileSystemTellsRocksDbItSupportsAsyncReads) {
  if (!kRocksDbAsksSupportedOps) {
    GTEST_SKIP() << "RocksDB " << ROCKSDB_MAJOR << "." << ROCKSDB_MINOR
                 << " does not ask (FileSystem::SupportedOps came in 8.4)";
  }
  EXPECT_TRUE(AdvertisesAsyncReads(*fs_));
}

}  // namespace
}  // namespace uringfs
