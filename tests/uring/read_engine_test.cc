// The io_uring read path below RocksDB: `ApplyResult`, `ReadEngine::Read`
// (io_uring batches and the pread fallback) under every fault the seam can
// inject, EOF at every alignment, batches larger than the ring, concurrent
// readers, and the fallback forced by each setup errno. Results are compared
// byte-for-byte with what a plain pread returns.

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "env/uring/features.h"
#include "env/uring/read_engine.h"
#include "env/uring/read_op.h"
#include "tests/testing/pattern_file.h"
#include "tests/uring/test_util.h"

namespace uringfs {
namespace uring {
namespace {

using testing::CountingFaults;
using testing::FailAtOffset;
using testing::FailFirstAttempts;
using testing::SetupFails;
using testing::ShortResults;
using ::uringfs::testing::Expected;
using ::uringfs::testing::WritePatternFile;

// ---------------------------------------------------------------------------
// ApplyResult: the one place that interprets a result.
// ---------------------------------------------------------------------------

ReadOp Op(uint64_t offset, size_t len, char* buf) {
  ReadOp op;
  op.offset = offset;
  op.len = len;
  op.buf = buf;
  return op;
}

TEST(ApplyResultTest, ShortResultAsksForTheRemainder) {
  char buf[100];
  ReadOp op = Op(10, 100, buf);
  EXPECT_TRUE(ApplyResult(ReadTarget{}, 40, nullptr, &op));
  EXPECT_EQ(op.done, 40u);
  EXPECT_EQ(op.next_offset(), 50u);
  EXPECT_EQ(op.next_len(), 60u);
  EXPECT_FALSE(op.finished);
  EXPECT_FALSE(ApplyResult(ReadTarget{}, 60, nullptr, &op));
  EXPECT_TRUE(op.finished);
  EXPECT_EQ(op.error, 0);
  EXPECT_EQ(op.done, 100u);
}

TEST(ApplyResultTest, ZeroIsEndOfFile) {
  char buf[100];
  ReadOp op = Op(0, 100, buf);
  EXPECT_TRUE(ApplyResult(ReadTarget{}, 30, nullptr, &op));
  EXPECT_FALSE(ApplyResult(ReadTarget{}, 0, nullptr, &op));
  EXPECT_TRUE(op.finished);
  EXPECT_EQ(op.done, 30u);
  EXPECT_EQ(op.error, 0);
}

TEST(ApplyResultTest, EagainAndEintrAreRetriedAtMostMaxRetriesTimes) {
  for (int err : {EAGAIN, EINTR}) {
    char buf[8];
    ReadOp op = Op(0, 8, buf);
    for (int i = 0; i < kMaxRetries; ++i) {
      ASSERT_TRUE(ApplyResult(ReadTarget{}, -err, nullptr, &op)) << i;
    }
    EXPECT_FALSE(ApplyResult(ReadTarget{}, -err, nullptr, &op));
    EXPECT_TRUE(op.finished);
    EXPECT_EQ(op.error, err);
  }
}

TEST(ApplyResultTest, ProgressResetsTheRetryBudget) {
  char buf[8];
  ReadOp op = Op(0, 8, buf);
  for (int i = 0; i < kMaxRetries; ++i) {
    ASSERT_TRUE(ApplyResult(ReadTarget{}, -EAGAIN, nullptr, &op));
  }
  ASSERT_TRUE(ApplyResult(ReadTarget{}, 4, nullptr, &op));
  for (int i = 0; i < kMaxRetries; ++i) {
    ASSERT_TRUE(ApplyResult(ReadTarget{}, -EINTR, nullptr, &op)) << i;
  }
  EXPECT_FALSE(ApplyResult(ReadTarget{}, 4, nullptr, &op));
  EXPECT_EQ(op.error, 0);
  EXPECT_EQ(op.done, 8u);
}

TEST(ApplyResultTest, OtherErrorsFinishTheOpWithThatErrno) {
  char buf[8];
  ReadOp op = Op(0, 8, buf);
  EXPECT_FALSE(ApplyResult(ReadTarget{}, -EIO, nullptr, &op));
  EXPECT_TRUE(op.finished);
  EXPECT_EQ(op.error, EIO);
}

TEST(ApplyResultTest, ResultLongerThanAskedIsAnError) {
  char buf[8];
  ReadOp op = Op(0, 8, buf);
  EXPECT_FALSE(ApplyResult(ReadTarget{}, 9, nullptr, &op));
  EXPECT_NE(op.error, 0);
}

TEST(ApplyResultTest, DirectResultNotAMultipleOfTheAlignmentIsEndOfFile) {
  ReadTarget direct;
  direct.direct = true;
  direct.alignment = 512;
  char buf[4096];
  ReadOp op = Op(0, 4096, buf);
  EXPECT_TRUE(ApplyResult(direct, 1024, nullptr, &op));  // Aligned: more.
  EXPECT_FALSE(ApplyResult(direct, 700, nullptr, &op));  // EOF in a block.
  EXPECT_TRUE(op.finished);
  EXPECT_EQ(op.done, 1724u);
  EXPECT_EQ(op.error, 0);
}

TEST(ApplyResultTest, LongRequestsAreIssuedInChunksOfAtMostOneGiB) {
  ReadOp op = Op(0, 3 * kMaxChunk + 5, nullptr);
  EXPECT_EQ(op.next_len(), kMaxChunk);
  EXPECT_TRUE(
      ApplyResult(ReadTarget{}, static_cast<int64_t>(kMaxChunk), nullptr, &op));
  EXPECT_EQ(op.next_offset(), kMaxChunk);
  EXPECT_TRUE(
      ApplyResult(ReadTarget{}, static_cast<int64_t>(kMaxChunk), nullptr, &op));
  EXPECT_TRUE(
      ApplyResult(ReadTarget{}, static_cast<int64_t>(kMaxChunk), nullptr, &op));
  EXPECT_EQ(op.next_len(), 5u);
  EXPECT_FALSE(ApplyResult(ReadTarget{}, 5, nullptr, &op));
  EXPECT_EQ(op.done, op.len);
}

TEST(ApplyResultTest, TheSeamSeesAndRewritesEveryResult) {
  FailAtOffset faults(100);
  char buf[8];
  ReadOp op = Op(100, 8, buf);
  EXPECT_FALSE(ApplyResult(ReadTarget{}, 8, &faults, &op));
  EXPECT_EQ(op.error, EIO);
  EXPECT_EQ(faults.injected(), 1);
}

// ---------------------------------------------------------------------------
// ReadEngine::Read, over io_uring (param true) and the pread fallback (false).
// ---------------------------------------------------------------------------

class FileFixture {
 protected:
  void OpenFile(uint64_t size) {
    size_ = size;
    path_ = WritePatternFile("engine", size);
    ASSERT_FALSE(path_.empty());
    fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd_, 0);
    target_.fd = fd_;
  }
  void CloseFile() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    if (!path_.empty()) ::unlink(path_.c_str());
  }

  uint64_t size_ = 0;
  std::string path_;
  int fd_ = -1;
  ReadTarget target_;
};

class ReadEngineTest : public ::testing::TestWithParam<bool>,
                       protected FileFixture {
 protected:
  void SetUp() override {
    if (GetParam() && !testing::IoUringAvailable()) {
      GTEST_SKIP() << "io_uring_queue_init fails here; io_uring path untested";
    }
  }
  void TearDown() override { CloseFile(); }

  std::unique_ptr<ReadEngine> MakeEngine(std::shared_ptr<FaultInjector> f,
                                         unsigned depth = 128) {
    auto e = std::make_unique<ReadEngine>(GetParam(), /*ring_single_reads=*/true,
                                          depth, std::move(f));
    EXPECT_EQ(e->features().usable(), GetParam()) << e->features().Describe();
    return e;
  }

  // Reads `n` random requests (some past EOF) in one batch and checks each.
  void ReadRandomBatchAndCompare(ReadEngine* engine, size_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::vector<std::string> bufs(n);
    std::vector<ReadOp> ops(n);
    for (size_t i = 0; i < n; ++i) {
      const uint64_t off = rng() % (size_ + 2000);
      const size_t len = 1 + rng() % 9000;
      bufs[i].assign(len, '\xcd');
      ops[i] = Op(off, len, &bufs[i][0]);
    }
    engine->Read(target_, ops.data(), n);
    for (size_t i = 0; i < n; ++i) {
      ASSERT_TRUE(ops[i].finished) << i;
      ASSERT_EQ(ops[i].error, 0) << i;
      const std::string want = Expected(size_, ops[i].offset, ops[i].len);
      ASSERT_EQ(std::string(ops[i].buf, ops[i].done), want)
          << "request " << i << " offset " << ops[i].offset << " len "
          << ops[i].len;
    }
  }

  // Every op finished, error-free and equal to pread, for one `faults`.
  void ExpectCorrectUnder(std::shared_ptr<FaultInjector> faults) {
    auto engine = MakeEngine(std::move(faults), 8);
    ReadRandomBatchAndCompare(engine.get(), 1, 1);
    ReadRandomBatchAndCompare(engine.get(), 40, 2);
  }
};

TEST_P(ReadEngineTest, HalvedResultsAreResubmittedForTheRemainder) {
  OpenFile(200000);
  auto faults = std::make_shared<ShortResults>(false);
  ExpectCorrectUnder(faults);
  EXPECT_GT(faults->shortened(), 0);
}

TEST_P(ReadEngineTest, OneByteResultsAreResubmittedForTheRemainder) {
  OpenFile(30000);
  auto faults = std::make_shared<ShortResults>(true);
  auto engine = MakeEngine(faults, 4);
  ReadRandomBatchAndCompare(engine.get(), 5, 3);
  EXPECT_GT(faults->shortened(), 0);
  if (GetParam()) {
    EXPECT_GT(engine->counters().resubmitted.load(), 0u);
    EXPECT_EQ(engine->counters().ops_pread.Sum(), 0u);
  }
}

TEST_P(ReadEngineTest, EagainAndEintrBelowTheBoundAreRetried) {
  OpenFile(50000);
  for (int err : {EAGAIN, EINTR}) {
    for (int k : {1, kMaxRetries}) {
      SCOPED_TRACE(std::string(std::strerror(err)) + " x" + std::to_string(k));
      auto faults = std::make_shared<FailFirstAttempts>(err, k);
      ExpectCorrectUnder(faults);
      EXPECT_GT(faults->injected(), 0);
    }
  }
}

// One attempt beyond the bound: the ring gives up on the op and pread
// rescues it (io_uring path); the fallback path has only its own bound.
// Beyond both bounds every op fails with the errno.
TEST_P(ReadEngineTest, EagainAndEintrAboveTheBoundAreRescuedByPreadThenFail) {
  OpenFile(50000);
  for (int err : {EAGAIN, EINTR}) {
    for (int k : {kMaxRetries + 1, 2 * (kMaxRetries + 1)}) {
      SCOPED_TRACE(std::string(std::strerror(err)) + " k=" + std::to_string(k));
      auto faults = std::make_shared<FailFirstAttempts>(err, k);
      auto engine = MakeEngine(faults, 8);
      std::vector<std::string> bufs(10, std::string(1000, '\0'));
      std::vector<ReadOp> ops;
      for (size_t i = 0; i < bufs.size(); ++i) {
        ops.push_back(Op(i * 3000, 1000, &bufs[i][0]));
      }
      engine->Read(target_, ops.data(), ops.size());
      const bool rescued = GetParam() && k == kMaxRetries + 1;
      for (const ReadOp& op : ops) {
        EXPECT_TRUE(op.finished);
        EXPECT_EQ(op.error, rescued ? 0 : err) << "offset " << op.offset;
        if (rescued) {
          EXPECT_EQ(op.done, op.len);
          EXPECT_EQ(engine->counters().rescued.load(), ops.size());
        }
      }
    }
  }
}

TEST_P(ReadEngineTest, EioFailsOnlyTheRequestAtThatOffset) {
  OpenFile(100000);
  auto faults = std::make_shared<FailAtOffset>(40960);
  auto engine = MakeEngine(faults, 4);
  std::vector<std::string> bufs(20, std::string(4096, '\0'));
  std::vector<ReadOp> ops;
  for (size_t i = 0; i < bufs.size(); ++i) {
    ops.push_back(Op(i * 4096, 4096, &bufs[i][0]));
  }
  engine->Read(target_, ops.data(), ops.size());
  for (size_t i = 0; i < ops.size(); ++i) {
    ASSERT_TRUE(ops[i].finished);
    if (ops[i].offset == 40960) {
      EXPECT_EQ(ops[i].error, EIO);
    } else {
      EXPECT_EQ(ops[i].error, 0) << i;
      EXPECT_EQ(std::string(ops[i].buf, ops[i].done),
                Expected(size_, ops[i].offset, 4096));
    }
  }
  EXPECT_EQ(faults->injected(), 1);
}

TEST_P(ReadEngineTest, ReadsAtAfterAndAcrossEndOfFileAtEveryAlignment) {
  for (uint64_t size :
       {0, 1, 511, 512, 513, 4095, 4096, 4097, 8191, 8192, 8193, 65537}) {
    SCOPED_TRACE("size " + std::to_string(size));
    OpenFile(size);
    auto engine = MakeEngine(nullptr);
    std::vector<std::pair<uint64_t, size_t>> ranges = {
        {0, static_cast<size_t>(size) + 4096},
        {size, 1},
        {size, 4096},
        {size + 100, 10},
        {size > 0 ? size - 1 : 0, 10},
        {size / 2, static_cast<size_t>(size)},
        {0, static_cast<size_t>(size)}};
    std::vector<std::string> bufs;
    std::vector<ReadOp> ops;
    for (const auto& r : ranges) bufs.emplace_back(r.second + 1, '\xee');
    for (size_t i = 0; i < ranges.size(); ++i) {
      ops.push_back(Op(ranges[i].first, ranges[i].second, &bufs[i][0]));
      ops.back().finished = ranges[i].second == 0;
    }
    engine->Read(target_, ops.data(), ops.size());
    for (const ReadOp& op : ops) {
      ASSERT_EQ(op.error, 0);
      ASSERT_EQ(std::string(op.buf, op.done),
                Expected(size_, op.offset, op.len))
          << "offset " << op.offset << " len " << op.len;
      ASSERT_EQ(op.buf[op.done], '\xee') << "wrote past the result";
    }
    CloseFile();
  }
}

TEST_P(ReadEngineTest, BatchesOfEverySizeWithSmallAndDefaultQueueDepth) {
  OpenFile(1 << 20);
  for (unsigned depth : {1u, 4u, 8u, 128u}) {
    auto engine = MakeEngine(nullptr, depth);
    uint32_t seed = depth;
    for (size_t n : {1, 2, 31, 32, 33, 127, 128, 129, 1000}) {
      SCOPED_TRACE("depth " + std::to_string(depth) + " batch " +
                   std::to_string(n));
      ReadRandomBatchAndCompare(engine.get(), n, ++seed);
    }
    const ReadCounters& c = engine->counters();
    if (GetParam()) {
      EXPECT_GT(c.ops_uring.Sum(), 0u);
      EXPECT_EQ(c.ops_pread.Sum(), 0u);
    } else {
      EXPECT_EQ(c.ops_uring.Sum(), 0u);
      EXPECT_GT(c.ops_pread.Sum(), 0u);
    }
  }
}

TEST_P(ReadEngineTest, ConcurrentReadersOfOneFileAllGetTheirBytes) {
  OpenFile(1 << 20);
  auto engine = MakeEngine(nullptr, 16);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([this, &engine, t] {
      for (int i = 0; i < 30; ++i) {
        ReadRandomBatchAndCompare(engine.get(), 1 + (i * 7 + t) % 40,
                                  static_cast<uint32_t>(t * 1000 + i));
        if (::testing::Test::HasFatalFailure()) return;
      }
    });
  }
  for (auto& th : threads) th.join();
  if (GetParam()) {
    // Pooled rings: never more than one per concurrent reader.
    EXPECT_LE(engine->rings_created(), 8u);
  }
}

// A single buffered read first asks the page cache (RWF_NOWAIT); a read
// only partly cached must get the rest from the file, not stop short.
TEST_P(ReadEngineTest, SingleReadPartlyInThePageCacheReturnsEveryByte) {
  const uint64_t size = 1 << 20;
  OpenFile(size);
  ASSERT_EQ(::fdatasync(fd_), 0);
  ASSERT_EQ(::posix_fadvise(fd_, 0, 0, POSIX_FADV_RANDOM), 0);
  auto engine = MakeEngine(nullptr);
  for (uint64_t start : {uint64_t{0}, uint64_t{300000}, size - 70000}) {
    ASSERT_EQ(::posix_fadvise(fd_, 0, 0, POSIX_FADV_DONTNEED), 0);
    std::string warm(8192, '\0');
    ASSERT_EQ(::pread(fd_, &warm[0], warm.size(), static_cast<off_t>(start)),
              8192);  // Caches the first pages of the range only.
    std::string buf(200000, '\0');
    ReadOp op = Op(start, buf.size(), &buf[0]);
    engine->Read(target_, &op, 1);
    ASSERT_EQ(op.error, 0) << std::strerror(op.error);
    ASSERT_EQ(std::string(op.buf, op.done), Expected(size, start, buf.size()))
        << "start " << start << " got " << op.done << " bytes";
  }
}

INSTANTIATE_TEST_SUITE_P(UringAndPread, ReadEngineTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& i) {
                           return i.param ? "IoUring" : "Pread";
                         });

// ---------------------------------------------------------------------------
// Fallback forced by each setup errno.
// ---------------------------------------------------------------------------

class FallbackTest : public ::testing::TestWithParam<int>,
                     protected FileFixture {
 protected:
  void TearDown() override { CloseFile(); }
};

TEST_P(FallbackTest, SetupErrnoMeansPreadWithTheReasonDescribed) {
  const int err = GetParam();
  OpenFile(20000);
  auto faults = std::make_shared<SetupFails>(err);
  ReadEngine engine(true, /*ring_single_reads=*/true, 32, faults);
  EXPECT_FALSE(engine.features().usable());
  EXPECT_EQ(engine.features().setup_errno, err);
  const std::string d = engine.features().Describe();
  EXPECT_NE(d.find(std::strerror(err)), std::string::npos) << d;
  EXPECT_FALSE(engine.AsyncOnRing());
  std::vector<std::string> bufs(3, std::string(9000, '\0'));
  std::vector<ReadOp> ops;
  for (size_t i = 0; i < 3; ++i) ops.push_back(Op(i * 7000, 9000, &bufs[i][0]));
  engine.Read(target_, ops.data(), ops.size());
  for (const ReadOp& op : ops) {
    EXPECT_EQ(op.error, 0);
    EXPECT_EQ(std::string(op.buf, op.done), Expected(size_, op.offset, op.len));
  }
  EXPECT_EQ(engine.counters().ops_pread.Sum(), 3u);
  EXPECT_EQ(engine.counters().ops_uring.Sum(), 0u);
  EXPECT_EQ(engine.rings_created(), 0u);
  EXPECT_GE(faults->calls(), 3);  // The read reaching EOF takes two.
}

INSTANTIATE_TEST_SUITE_P(EachErrno, FallbackTest,
                         ::testing::Values(EPERM, ENOSYS, ENOMEM, EINVAL),
                         testing::SetupErrnoName);

TEST(FeaturesTest, TurnedOffProbesNothingAndSaysSo) {
  CountingFaults faults;
  const Features f = ProbeFeatures(false, 8, &faults);
  EXPECT_FALSE(f.usable());
  EXPECT_FALSE(f.requested);
  EXPECT_NE(f.Describe().find("use_io_uring=false"), std::string::npos);
}

TEST(FeaturesTest, ProbeFindsReadAndNodropWhenIoUringWorks) {
  if (!testing::IoUringAvailable()) GTEST_SKIP() << "io_uring unavailable";
  const Features f = ProbeFeatures(true, 8, nullptr);
  EXPECT_TRUE(f.usable()) << f.Describe();
  EXPECT_TRUE(f.op_read);
  EXPECT_NE(f.Describe().find("io_uring: on"), std::string::npos);
}

}  // namespace
}  // namespace uring
}  // namespace uringfs
