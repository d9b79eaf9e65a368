// Reading ahead of asynchronous scans of direct-I/O files
// (`max_read_ahead_bytes`): a scan whose ReadAsync requests follow one
// another, on a device that is behind the scan, is served from uringfs's
// read ahead, and every request still gets exactly its own bytes: at the end
// of the file, when a request does not fit the read ahead, and when the read
// ahead failed (a cancelled read ahead cancels the request that took it
// over). A device that keeps up, random requests, short scans, buffered
// files, a budget smaller than a request and `max_read_ahead_bytes=0` start
// none; a file closed with a read ahead pending, and an aborted claimed
// read, never hang. The device's speed is the test's: `Device` tells each
// Poll how long it waited.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "env/uring/fault_injector.h"
#include "env/uring_file_system.h"
#include "rocksdb/file_system.h"
#include "tests/read/fs_test_util.h"
#include "tests/testing/async_call.h"
#include "tests/testing/deadline.h"
#include "tests/testing/pattern_file.h"
#include "tests/testing/status_matchers.h"
#include "tests/uring/test_util.h"
#include "uringfs/options.h"

namespace uringfs {
namespace {

using testing::AsyncCall;
using testing::Expected;
using testing::OpenRandom;

constexpr size_t kKiB = 1024;
// Not a multiple of the block size: the last requests end short.
constexpr uint64_t kSize = 4 * 1024 * kKiB + 5000;

// A device as slow or as fast as the test says: every Poll waited 1 ms for
// it (behind the scan), or not at all (keeping up).
class Device : public uring::FaultInjector {
 public:
  explicit Device(bool behind = true) : behind_(behind) {}
  void set_behind(bool behind) { behind_.store(behind); }
  int64_t PollWaitNanos(int64_t /*waited*/) override {
    return behind_.load() ? 1000 * 1000 : 0;
  }

 private:
  std::atomic<bool> behind_;
};

std::shared_ptr<UringFileSystem> NewFsWithReadAhead(
    uint64_t bytes,
    std::shared_ptr<uring::FaultInjector> faults = std::make_shared<Device>(),
    uint32_t queue_depth = UringFsOptions().queue_depth) {
  UringFsOptions o;
  o.max_read_ahead_bytes = bytes;
  o.queue_depth = queue_depth;
  return std::make_shared<UringFileSystem>(o, rocksdb::FileSystem::Default(),
                                           std::move(faults));
}

// A device behind the scan that fails every read of exactly `len` bytes at
// `offset` with `err`.
class FailRange : public Device {
 public:
  FailRange(uint64_t offset, size_t len, int err = EIO)
      : offset_(offset), len_(len), err_(err) {}
  void OnResult(uint64_t offset, size_t requested, int64_t* res) override {
    if (offset == offset_ && requested == len_) *res = -err_;
  }

 private:
  const uint64_t offset_;
  const size_t len_;
  const int err_;
};

class ReadAheadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!uring::testing::IoUringAvailable()) {
      GTEST_SKIP() << "io_uring_queue_init fails here; reading ahead needs it";
    }
    path_ = testing::WritePatternFile("ahead", kSize);
    const std::string why = testing::DirectIoUnsupported(path_);
    if (!why.empty()) GTEST_SKIP() << why;
  }
  void TearDown() override {
    if (!path_.empty()) ::unlink(path_.c_str());
  }

  // Reads the requests (offset, length) in order the way RocksDB 7.8's
  // prefetch buffer does (each one polled before the next one starts, which
  // is then read while the caller consumes the polled one), checking every
  // result against the pattern.
  void Scan(rocksdb::FileSystem* fs, rocksdb::FSRandomAccessFile* file,
            const std::vector<std::pair<uint64_t, size_t>>& requests) {
    for (const auto& r : requests) {
      AsyncCall c;
      ASSERT_OK(c.Start(file, r.first, r.second));
      Finish(fs, &c);
    }
  }
  static void Finish(rocksdb::FileSystem* fs, AsyncCall* c) {
    std::vector<void*> handles = {c->handle};
    ASSERT_OK(fs->Poll(handles, 1));
    ASSERT_EQ(c->calls.load(), 1);
    EXPECT_OK(c->status);
    EXPECT_EQ(c->data, Expected(kSize, c->req.offset, c->req.len))
        << "request at " << c->req.offset << ", " << c->req.len << " bytes";
    c->Release();
  }
  // `n` requests of `len` bytes, each starting where the previous ended.
  static std::vector<std::pair<uint64_t, size_t>> Sequential(uint64_t from,
                                                             size_t len,
                                                             size_t n) {
    std::vector<std::pair<uint64_t, size_t>> r;
    for (size_t i = 0; i < n; ++i) r.emplace_back(from + i * len, len);
    return r;
  }

  // A file system reading ahead (with `faults`: by default a device behind
  // the scan), a direct file of it, and two sequential 128 KiB requests
  // read, so that a read ahead of [256 KiB, 384 KiB) is pending.
  struct Primed {
    std::shared_ptr<UringFileSystem> fs;
    std::unique_ptr<rocksdb::FSRandomAccessFile> file;
  };
  Primed PrimeReadAhead(std::shared_ptr<uring::FaultInjector> faults =
                            std::make_shared<Device>()) {
    Primed p;
    p.fs = NewFsWithReadAhead(64 << 20, std::move(faults));
    p.file = OpenRandom(p.fs.get(), path_, true);
    if (p.file != nullptr) {
      Scan(p.fs.get(), p.file.get(), Sequential(0, 128 * kKiB, 2));
    }
    return p;
  }

  // Reads [offset, offset + len) of `p`'s file, which takes over the pending
  // read ahead, and expects it to fail with an error naming the file.
  void ExpectClaimFails(const Primed& p, uint64_t offset, size_t len) {
    AsyncCall c;
    ASSERT_OK(c.Start(p.file.get(), offset, len));
    std::vector<void*> handles = {c.handle};
    ASSERT_OK(p.fs->Poll(handles, 1));
    EXPECT_EQ(p.fs->GetStats().read_ahead_used, 1u);
    EXPECT_FALSE(c.status.ok());
    EXPECT_NE(c.status.ToString().find(path_), std::string::npos)
        << c.status.ToString();
    EXPECT_TRUE(c.data.empty());
  }

  std::string path_;
};

TEST_F(ReadAheadTest, SequentialScanIsServedFromTheReadAhead) {
  auto fs = NewFsWithReadAhead(64 << 20);
  auto file = OpenRandom(fs.get(), path_, /*direct=*/true);
  ASSERT_NE(file, nullptr);
  Scan(fs.get(), file.get(), Sequential(0, 128 * kKiB, 16));
  const UringFsStats s = fs->GetStats();
  // The second request qualifies the stream; from the third on, each request
  // takes over the read ahead the one before started.
  EXPECT_EQ(s.read_ahead_used, 14u);
  EXPECT_EQ(s.read_ahead_started, 15u);
  file.reset();  // Drops the last one.
  EXPECT_EQ(fs->GetStats().read_ahead_dropped, 1u);
}

TEST_F(ReadAheadTest, RequestInsideTheReadAheadGetsItsOwnPart) {
  Primed p = PrimeReadAhead();
  ASSERT_NE(p.file, nullptr);
  // The read ahead covers [256 KiB, 384 KiB); the request is its middle.
  Scan(p.fs.get(), p.file.get(), {{300 * kKiB, 64 * kKiB}});
  EXPECT_EQ(p.fs->GetStats().read_ahead_used, 1u);
}

TEST_F(ReadAheadTest, RocksDbsDoublingReadaheadIsFollowed) {
  auto fs = NewFsWithReadAhead(64 << 20);
  auto file = OpenRandom(fs.get(), path_, true);
  ASSERT_NE(file, nullptr);
  // 8, 16, 32, 64, 128, 128, ... KiB, as RocksDB's prefetch buffer asks.
  std::vector<std::pair<uint64_t, size_t>> r;
  uint64_t at = 40 * kKiB;
  for (size_t len : {8, 16, 32, 64, 128, 128, 128, 128}) {
    r.emplace_back(at, len * kKiB);
    at += len * kKiB;
  }
  Scan(fs.get(), file.get(), r);
  const UringFsStats s = fs->GetStats();
  // The first 128 KiB request follows one of 64 KiB: it starts the first
  // read ahead, and each later request takes one over and starts the next.
  EXPECT_EQ(s.read_ahead_started, 4u);
  EXPECT_EQ(s.read_ahead_used, 3u);
  EXPECT_EQ(s.read_ahead_dropped, 0u);
}

TEST_F(ReadAheadTest, ScanToTheEndOfTheFileEndsShort) {
  auto fs = NewFsWithReadAhead(64 << 20);
  auto file = OpenRandom(fs.get(), path_, true);
  ASSERT_NE(file, nullptr);
  // The last requests reach past the end: the read ahead that covers them
  // ends short, and each request gets just the bytes the file has.
  Scan(fs.get(), file.get(), Sequential(kSize / 4096 * 4096 - 512 * kKiB,
                                        128 * kKiB, 8));
  EXPECT_GE(fs->GetStats().read_ahead_used, 3u);
}

TEST_F(ReadAheadTest, RequestLargerThanTheReadAheadReadsItsOwnRange) {
  auto fs = NewFsWithReadAhead(64 << 20);
  auto file = OpenRandom(fs.get(), path_, true);
  ASSERT_NE(file, nullptr);
  auto r = Sequential(0, 64 * kKiB, 3);
  r.emplace_back(192 * kKiB, 512 * kKiB);  // Past what was read ahead.
  r.emplace_back(704 * kKiB, 64 * kKiB);
  Scan(fs.get(), file.get(), r);
  // The 512 KiB request drops the 64 KiB read ahead and starts one of its
  // own length, which the last request lies inside.
  const UringFsStats s = fs->GetStats();
  EXPECT_EQ(s.read_ahead_used, 2u);
  EXPECT_EQ(s.read_ahead_dropped, 1u);
}

TEST_F(ReadAheadTest, FailedReadAheadMakesTheRequestReadItsOwnRange) {
  // The read ahead of [256 KiB, 384 KiB) fails; a request inside it reads
  // its own range again and gets its bytes, while a request whose own
  // range fails gets the error.
  Primed p =
      PrimeReadAhead(std::make_shared<FailRange>(256 * kKiB, 128 * kKiB));
  ASSERT_NE(p.file, nullptr);
  Scan(p.fs.get(), p.file.get(), {{256 * kKiB, 64 * kKiB}});
  EXPECT_EQ(p.fs->GetStats().read_ahead_used, 1u);

  Primed failing =
      PrimeReadAhead(std::make_shared<FailRange>(256 * kKiB, 128 * kKiB));
  ASSERT_NE(failing.file, nullptr);
  ExpectClaimFails(failing, 256 * kKiB, 128 * kKiB);
}

TEST_F(ReadAheadTest, CancelledReadAheadCancelsTheRequestThatTookItOver) {
  // A read ahead cancelled (as a task's shutdown cancels its reads) is not
  // read again for the request: the request reports the cancellation.
  Primed p = PrimeReadAhead(
      std::make_shared<FailRange>(256 * kKiB, 128 * kKiB, ECANCELED));
  ASSERT_NE(p.file, nullptr);
  ExpectClaimFails(p, 256 * kKiB, 64 * kKiB);
}

TEST_F(ReadAheadTest, RandomRequestsAndShortScansStartNone) {
  auto fs = NewFsWithReadAhead(64 << 20);
  auto file = OpenRandom(fs.get(), path_, true);
  ASSERT_NE(file, nullptr);
  Scan(fs.get(), file.get(),
       {{0, 128 * kKiB}, {1024 * kKiB, 128 * kKiB}, {512 * kKiB, 128 * kKiB},
        {2048 * kKiB, 128 * kKiB}});
  // A short scan: RocksDB's readahead doubling from 8 KiB up to 32 KiB.
  Scan(fs.get(), file.get(), {{0, 8 * kKiB}, {8 * kKiB, 16 * kKiB},
                              {24 * kKiB, 32 * kKiB}});
  EXPECT_EQ(fs->GetStats().read_ahead_started, 0u);
}

TEST_F(ReadAheadTest, BudgetSmallerThanARequestStartsNone) {
  auto fs = NewFsWithReadAhead(64 * kKiB);
  auto file = OpenRandom(fs.get(), path_, true);
  ASSERT_NE(file, nullptr);
  Scan(fs.get(), file.get(), Sequential(0, 128 * kKiB, 6));
  EXPECT_EQ(fs->GetStats().read_ahead_started, 0u);
}

TEST_F(ReadAheadTest, OnByDefaultOffAtZeroAndNeverForBufferedFiles) {
  auto on = NewFsWithReadAhead(UringFsOptions().max_read_ahead_bytes);
  auto direct = OpenRandom(on.get(), path_, true);
  ASSERT_NE(direct, nullptr);
  Scan(on.get(), direct.get(), Sequential(0, 128 * kKiB, 6));
  EXPECT_EQ(on->GetStats().read_ahead_started, 5u);

  auto off = NewFsWithReadAhead(0);
  auto off_direct = OpenRandom(off.get(), path_, true);
  ASSERT_NE(off_direct, nullptr);
  Scan(off.get(), off_direct.get(), Sequential(0, 128 * kKiB, 6));
  EXPECT_EQ(off->GetStats().read_ahead_started, 0u);

  auto buffered = OpenRandom(on.get(), path_, false);
  ASSERT_NE(buffered, nullptr);
  Scan(on.get(), buffered.get(), Sequential(0, 128 * kKiB, 6));
  EXPECT_EQ(on->GetStats().read_ahead_started, 5u);  // None more.
}

TEST_F(ReadAheadTest, ReadsAheadOnlyWhileTheDeviceIsBehind) {
  auto device = std::make_shared<Device>(/*behind=*/false);
  auto fs = NewFsWithReadAhead(64 << 20, device);
  auto file = OpenRandom(fs.get(), path_, true);
  ASSERT_NE(file, nullptr);
  // A device that keeps up: a sequential scan starts none.
  Scan(fs.get(), file.get(), Sequential(0, 128 * kKiB, 4));
  EXPECT_EQ(fs->GetStats().read_ahead_started, 0u);

  // The device falls behind: the Poll of the first request sees it, and
  // from the second request on each one starts a read ahead.
  device->set_behind(true);
  Scan(fs.get(), file.get(), Sequential(512 * kKiB, 128 * kKiB, 4));
  UringFsStats s = fs->GetStats();
  EXPECT_EQ(s.read_ahead_started, 3u);
  EXPECT_EQ(s.read_ahead_used, 2u);

  // It catches up. The first request still goes by the last Poll, which
  // waited: it takes the pending read ahead over and starts one more. Its
  // own Poll waits for nothing, so the second request takes that one over
  // and starts none, and neither does the third.
  device->set_behind(false);
  Scan(fs.get(), file.get(), Sequential(1024 * kKiB, 128 * kKiB, 3));
  s = fs->GetStats();
  EXPECT_EQ(s.read_ahead_started, 4u);
  EXPECT_EQ(s.read_ahead_used, 4u);
  EXPECT_EQ(s.read_ahead_dropped, 0u);
}

TEST_F(ReadAheadTest, ReadAheadTheRingHasNoRoomForIsNotMadeNorReadInline) {
  // A one-entry async ring, held by a read of an empty FIFO: the scan's own
  // requests are read at once with pread (as any async read without room),
  // but no read ahead is made, and none is read on the scanning thread.
  const std::string fifo = path_ + ".fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const int writer = ::open(fifo.c_str(), O_RDWR | O_CLOEXEC);  // No block.
  ASSERT_GE(writer, 0);
  auto fs = NewFsWithReadAhead(64 << 20, std::make_shared<Device>(), 1);
  auto pipe_file = OpenRandom(fs.get(), fifo, /*direct=*/false);
  auto file = OpenRandom(fs.get(), path_, /*direct=*/true);
  ASSERT_NE(pipe_file, nullptr);
  ASSERT_NE(file, nullptr);
  AsyncCall waiting;
  ASSERT_OK(waiting.Start(pipe_file.get(), 0, 8));
  Scan(fs.get(), file.get(), Sequential(0, 128 * kKiB, 6));
  const UringFsStats s = fs->GetStats();
  EXPECT_EQ(s.read_ahead_started, 0u);
  EXPECT_EQ(s.async_sync_fallbacks, 6u);  // The requests; no read ahead.
  ASSERT_EQ(::write(writer, "12345678", 8), 8);
  std::vector<void*> handles = {waiting.handle};
  ASSERT_OK(fs->Poll(handles, 1));
  EXPECT_EQ(waiting.data, "12345678");
  waiting.Release();
  ::close(writer);
  ::unlink(fifo.c_str());
}

TEST_F(ReadAheadTest, AbortedClaimedReadAndClosingWithAReadAheadNeverHang) {
  Primed p = PrimeReadAhead();
  ASSERT_NE(p.file, nullptr);
  std::shared_ptr<UringFileSystem> fs = p.fs;
  std::unique_ptr<rocksdb::FSRandomAccessFile> file = std::move(p.file);
  testing::WithDeadline("abort and close", std::chrono::seconds(10), [&] {
    AsyncCall claimed;
    ASSERT_OK(claimed.Start(file.get(), 256 * kKiB, 128 * kKiB));
    std::vector<void*> handles = {claimed.handle};
    ASSERT_OK(fs->AbortIO(handles));
    claimed.Release();
    EXPECT_EQ(claimed.calls.load(), 0);
    file.reset();  // With the read ahead the claimed read started pending.
  });
  const UringFsStats s = fs->GetStats();
  EXPECT_EQ(s.read_ahead_used, 1u);
  EXPECT_EQ(s.read_ahead_dropped, 1u);
}

}  // namespace
}  // namespace uringfs
