// uringfs's RocksDB read classes (Read, MultiRead, sequential Read and
// PositionedRead, ReadAsync) against plain pread, with io_uring on and forced
// off, under every fault the seam can inject; EOF at every alignment, direct
// I/O checks, batch sizes, stats and concurrent readers.

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "env/uring/read_op.h"
#include "env/uring_file_system.h"
#include "rocksdb/convenience.h"
#include "rocksdb/file_system.h"
#include "tests/read/fs_test_util.h"
#include "tests/testing/aligned_buffer.h"
#include "tests/testing/async_call.h"
#include "tests/testing/pattern_file.h"
#include "tests/testing/status_matchers.h"
#include "tests/uring/test_util.h"

namespace uringfs {
namespace {

using rocksdb::FSReadRequest;
using rocksdb::IOOptions;
using rocksdb::IOStatus;
using rocksdb::Slice;
using testing::AlignedBuffer;
using testing::AsyncCall;
using testing::Expected;
using testing::NewFs;
using testing::OpenRandom;
using testing::OpenSequential;
using uring::FaultInjector;
using uring::kMaxRetries;
namespace ut = uring::testing;

// Param: use_io_uring.
class ReadPathTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    if (GetParam() && !ut::IoUringAvailable()) {
      GTEST_SKIP() << "io_uring_queue_init fails here; io_uring path untested";
    }
  }
  void TearDown() override {
    for (const std::string& p : paths_) ::unlink(p.c_str());
  }

  std::string File(uint64_t size) {
    std::string p = testing::WritePatternFile("raf", size);
    EXPECT_FALSE(p.empty());
    paths_.push_back(p);
    return p;
  }

  std::shared_ptr<UringFileSystem> Fs(
      std::shared_ptr<FaultInjector> faults = nullptr, unsigned depth = 128) {
    auto fs = NewFs(GetParam(), depth, std::move(faults));
    // io_uring is probed when the first file is opened.
    std::unique_ptr<rocksdb::FSRandomAccessFile> probe;
    EXPECT_TRUE(fs->NewRandomAccessFile(File(1), rocksdb::FileOptions(), &probe,
                                        nullptr)
                    .ok());
    EXPECT_EQ(fs->GetStats().io_uring_in_use, GetParam())
        << fs->GetStats().io_uring;
    return fs;
  }

  std::vector<std::string> paths_;
};

// Reads `path` (of `size` bytes) every way uringfs offers and compares with
// pread: Read of random ranges, one MultiRead, sequential Read to the end,
// PositionedRead, ReadAsync + Poll.
void ReadAllWaysAndCompare(rocksdb::FileSystem* fs, const std::string& path,
                           uint64_t size) {
  std::mt19937 rng(static_cast<uint32_t>(size));
  auto file = OpenRandom(fs, path);
  ASSERT_NE(file, nullptr);
  // Read.
  for (int i = 0; i < 20; ++i) {
    const uint64_t off = rng() % (size + 100);
    const size_t n = 1 + rng() % 10000;
    std::string scratch(n, '\0');
    Slice result;
    ASSERT_OK(file->Read(off, n, IOOptions(), &result, &scratch[0], nullptr));
    ASSERT_EQ(result.ToString(), Expected(size, off, n))
        << "Read offset " << off << " n " << n;
  }
  // MultiRead.
  std::vector<FSReadRequest> reqs(24);
  std::vector<std::string> bufs(reqs.size());
  for (size_t i = 0; i < reqs.size(); ++i) {
    reqs[i].offset = i * (size / reqs.size() + 1);
    reqs[i].len = 1 + rng() % 6000;
    bufs[i].assign(reqs[i].len, '\0');
    reqs[i].scratch = &bufs[i][0];
    reqs[i].status = IOStatus::Corruption("not set by MultiRead");
  }
  ASSERT_OK(file->MultiRead(reqs.data(), reqs.size(), IOOptions(), nullptr));
  for (const FSReadRequest& r : reqs) {
    ASSERT_OK(r.status);
    ASSERT_EQ(r.result.ToString(), Expected(size, r.offset, r.len))
        << "MultiRead offset " << r.offset << " len " << r.len;
  }
  // Sequential Read to the end, then PositionedRead.
  auto seq = OpenSequential(fs, path);
  ASSERT_NE(seq, nullptr);
  std::string all;
  for (;;) {
    const size_t n = 1 + rng() % 7000;
    std::string scratch(n, '\0');
    Slice result;
    ASSERT_OK(seq->Read(n, IOOptions(), &result, &scratch[0], nullptr));
    if (result.empty()) break;
    ASSERT_LE(result.size(), n);
    all.append(result.data(), result.size());
  }
  ASSERT_EQ(all, Expected(size, 0, static_cast<size_t>(size) + 1));
  {
    std::string scratch(5000, '\0');
    Slice result;
    ASSERT_OK(seq->PositionedRead(size / 3, 5000, IOOptions(), &result,
                                  &scratch[0], nullptr));
    ASSERT_EQ(result.ToString(), Expected(size, size / 3, 5000));
  }
  // ReadAsync + Poll.
  std::vector<FSReadRequest> areqs(6);
  std::vector<std::string> abufs(areqs.size(), std::string(4000, '\0'));
  std::vector<void*> handles;
  std::vector<rocksdb::IOHandleDeleter> deleters(areqs.size());
  std::vector<std::string> got(areqs.size());
  std::vector<int> calls(areqs.size(), 0);
  for (size_t i = 0; i < areqs.size(); ++i) {
    areqs[i].offset = i * size / areqs.size();
    areqs[i].len = 4000;
    areqs[i].scratch = &abufs[i][0];
    void* h = nullptr;
    ASSERT_OK(file->ReadAsync(
        areqs[i], IOOptions(),
        [&got, &calls, i](const FSReadRequest& r, void*) {
          ++calls[i];
          got[i] = r.status.ok() ? r.result.ToString() : "error";
        },
        nullptr, &h, &deleters[i], nullptr));
    ASSERT_NE(h, nullptr);
    handles.push_back(h);
  }
  ASSERT_OK(fs->Poll(handles, handles.size()));
  for (size_t i = 0; i < areqs.size(); ++i) {
    EXPECT_EQ(calls[i], 1);
    EXPECT_EQ(got[i], Expected(size, areqs[i].offset, 4000))
        << "ReadAsync " << i;
    deleters[i](handles[i]);
  }
}

TEST_P(ReadPathTest, EveryReadMatchesPreadWithoutFaults) {
  const uint64_t size = 100000;
  auto fs = Fs();
  ReadAllWaysAndCompare(fs.get(), File(size), size);
  const UringFsStats st = fs->GetStats();
  if (GetParam()) {
    EXPECT_GT(st.ops_uring, 0u);
    EXPECT_GT(st.async_submitted, 0u);
  } else {
    EXPECT_EQ(st.ops_uring, 0u);
    EXPECT_GT(st.ops_pread, 0u);
  }
}

// By default a single synchronous read is one pread, as in RocksDB's POSIX
// file system; a batch of two or more goes through the ring.
TEST_P(ReadPathTest, ByDefaultSingleReadsArePreadAndBatchesUseTheRing) {
  const uint64_t size = 100000;
  UringFsOptions o;
  o.use_io_uring = GetParam();
  ASSERT_FALSE(o.ring_single_reads);
  auto fs = std::make_shared<UringFileSystem>(o, rocksdb::FileSystem::Default(),
                                              nullptr);
  auto file = OpenRandom(fs.get(), File(size));
  ASSERT_NE(file, nullptr);
  std::string scratch(5000, '\0');
  Slice got;
  ASSERT_OK(file->Read(1234, 4000, IOOptions(), &got, &scratch[0], nullptr));
  EXPECT_EQ(got.ToString(), Expected(size, 1234, 4000));
  UringFsStats st = fs->GetStats();
  EXPECT_EQ(st.ops_pread, 1u) << st.ToString();
  EXPECT_EQ(st.ops_uring, 0u) << st.ToString();
  EXPECT_EQ(st.ops_cached, 0u) << st.ToString();

  std::vector<std::string> bufs(3, std::string(4000, '\0'));
  std::vector<FSReadRequest> reqs(3);
  for (size_t i = 0; i < reqs.size(); ++i) {
    reqs[i].offset = 20000 * i + 7;
    reqs[i].len = 4000;
    reqs[i].scratch = &bufs[i][0];
  }
  ASSERT_OK(file->MultiRead(reqs.data(), reqs.size(), IOOptions(), nullptr));
  for (const FSReadRequest& r : reqs) {
    ASSERT_OK(r.status);
    EXPECT_EQ(r.result.ToString(), Expected(size, r.offset, 4000));
  }
  st = fs->GetStats();
  EXPECT_EQ(st.ops_uring, GetParam() ? 3u : 0u) << st.ToString();
  EXPECT_EQ(st.ops_pread, GetParam() ? 1u : 4u) << st.ToString();
}

TEST_P(ReadPathTest, HalvedResultsAreReadAgainForTheRemainder) {
  const uint64_t size = 100000;
  auto faults = std::make_shared<ut::ShortResults>(false);
  auto fs = Fs(faults, 8);
  ReadAllWaysAndCompare(fs.get(), File(size), size);
  EXPECT_GT(faults->shortened(), 0);
}

TEST_P(ReadPathTest, OneByteResultsAreReadAgainForTheRemainder) {
  const uint64_t size = 20000;
  auto faults = std::make_shared<ut::ShortResults>(true);
  auto fs = Fs(faults, 8);
  ReadAllWaysAndCompare(fs.get(), File(size), size);
  EXPECT_GT(faults->shortened(), 0);
  if (GetParam()) {
    EXPECT_GT(fs->GetStats().resubmitted, 0u);
  }
}

TEST_P(ReadPathTest, EagainAndEintrUpToTheBoundAreRetried) {
  const uint64_t size = 60000;
  const std::string path = File(size);
  for (int err : {EAGAIN, EINTR}) {
    for (int k : {1, kMaxRetries / 2, kMaxRetries}) {
      SCOPED_TRACE(std::string(std::strerror(err)) + " x" + std::to_string(k));
      auto faults = std::make_shared<ut::FailFirstAttempts>(err, k);
      auto fs = Fs(faults, 8);
      ReadAllWaysAndCompare(fs.get(), path, size);
      EXPECT_GT(faults->injected(), 0);
    }
  }
}

// Beyond the bound of the ring and then of the pread rescue (io_uring path),
// or of pread alone (fallback path), every API reports the errno.
TEST_P(ReadPathTest, EagainAndEintrBeyondTheBoundFailEveryApiWithTheErrno) {
  const uint64_t size = 60000;
  const std::string path = File(size);
  for (int err : {EAGAIN, EINTR}) {
    SCOPED_TRACE(std::strerror(err));
    const std::string text = std::strerror(err);
    auto fs =
        Fs(std::make_shared<ut::FailFirstAttempts>(err, 2 * (kMaxRetries + 1)));
    auto file = OpenRandom(fs.get(), path);
    std::string scratch(1000, '\0');
    Slice result;
    IOStatus s =
        file->Read(100, 1000, IOOptions(), &result, &scratch[0], nullptr);
    EXPECT_TRUE(s.IsIOError()) << s.ToString();
    EXPECT_NE(s.ToString().find(text), std::string::npos) << s.ToString();
    EXPECT_TRUE(result.empty());

    std::vector<FSReadRequest> reqs(3);
    std::vector<std::string> bufs(3, std::string(1000, '\0'));
    for (size_t i = 0; i < 3; ++i) {
      reqs[i].offset = 5000 + i * 5000;
      reqs[i].len = 1000;
      reqs[i].scratch = &bufs[i][0];
    }
    ASSERT_OK(file->MultiRead(reqs.data(), 3, IOOptions(), nullptr));
    for (const FSReadRequest& r : reqs) {
      EXPECT_TRUE(r.status.IsIOError()) << r.status.ToString();
      EXPECT_NE(r.status.ToString().find(text), std::string::npos);
    }

    auto seq = OpenSequential(fs.get(), path);
    s = seq->Read(1000, IOOptions(), &result, &scratch[0], nullptr);
    EXPECT_TRUE(s.IsIOError()) << s.ToString();
    s = seq->PositionedRead(30000, 1000, IOOptions(), &result, &scratch[0],
                            nullptr);
    EXPECT_TRUE(s.IsIOError()) << s.ToString();

    FSReadRequest areq;
    areq.offset = 40000;
    areq.len = 1000;
    areq.scratch = &scratch[0];
    void* h = nullptr;
    rocksdb::IOHandleDeleter del;
    IOStatus cb_status;
    int calls = 0;
    ASSERT_OK(file->ReadAsync(
        areq, IOOptions(),
        [&](const FSReadRequest& r, void*) {
          ++calls;
          cb_status = r.status;
        },
        nullptr, &h, &del, nullptr));
    std::vector<void*> handles = {h};
    ASSERT_OK(fs->Poll(handles, 1));
    EXPECT_EQ(calls, 1);
    EXPECT_TRUE(cb_status.IsIOError()) << cb_status.ToString();
    EXPECT_NE(cb_status.ToString().find(text), std::string::npos);
    del(h);
  }
}

// EIO injected at offset 32768: only what reads that offset fails.
TEST_P(ReadPathTest, EioFailsOnlyTheMultiReadRequestReadingThatOffset) {
  const uint64_t size = 100000;
  const std::string path = File(size);
  auto faults = std::make_shared<ut::FailAtOffset>(32768);
  auto fs = Fs(faults, 4);
  auto file = OpenRandom(fs.get(), path);
  std::vector<FSReadRequest> reqs(20);
  std::vector<std::string> bufs(reqs.size(), std::string(4096, '\0'));
  for (size_t i = 0; i < reqs.size(); ++i) {
    reqs[i].offset = i * 4096;
    reqs[i].len = 4096;
    reqs[i].scratch = &bufs[i][0];
  }
  ASSERT_OK(file->MultiRead(reqs.data(), reqs.size(), IOOptions(), nullptr));
  for (const FSReadRequest& r : reqs) {
    if (r.offset == 32768) {
      EXPECT_TRUE(r.status.IsIOError()) << r.status.ToString();
      EXPECT_NE(r.status.ToString().find(std::strerror(EIO)), std::string::npos)
          << r.status.ToString();
      EXPECT_TRUE(r.result.empty());
    } else {
      EXPECT_OK(r.status);
      EXPECT_EQ(r.result.ToString(), Expected(size, r.offset, 4096));
    }
  }
}

TEST_P(ReadPathTest, EioFailsReadAndSequentialReadsOfThatOffsetOnly) {
  const uint64_t size = 100000;
  const std::string path = File(size);
  auto faults = std::make_shared<ut::FailAtOffset>(32768);
  auto fs = Fs(faults, 4);
  auto file = OpenRandom(fs.get(), path);
  std::string scratch(4096, '\0');
  Slice result;
  EXPECT_TRUE(
      file->Read(32768, 4096, IOOptions(), &result, &scratch[0], nullptr)
          .IsIOError());
  EXPECT_OK(
      file->Read(32769, 4096, IOOptions(), &result, &scratch[0], nullptr));
  auto seq = OpenSequential(fs.get(), path);
  EXPECT_TRUE(seq->PositionedRead(32768, 100, IOOptions(), &result, &scratch[0],
                                  nullptr)
                  .IsIOError());
  ASSERT_OK(seq->Skip(32768));
  EXPECT_TRUE(
      seq->Read(100, IOOptions(), &result, &scratch[0], nullptr).IsIOError());
}

// The failing handle's callback gets the error, the other one its bytes.
TEST_P(ReadPathTest, EioFailsOnlyTheReadAsyncReadingThatOffset) {
  const uint64_t size = 100000;
  const std::string path = File(size);
  auto faults = std::make_shared<ut::FailAtOffset>(32768);
  auto fs = Fs(faults, 4);
  auto file = OpenRandom(fs.get(), path);
  std::vector<AsyncCall> calls(2);
  for (size_t i = 0; i < 2; ++i) {
    ASSERT_OK(calls[i].Start(file.get(), i == 0 ? 32768 : 65536, 4096));
  }
  std::vector<void*> handles = {calls[0].handle, calls[1].handle};
  ASSERT_OK(fs->Poll(handles, 2));
  EXPECT_TRUE(calls[0].status.IsIOError()) << calls[0].status.ToString();
  EXPECT_OK(calls[1].status);
  EXPECT_EQ(calls[1].data, Expected(size, 65536, 4096));
  for (AsyncCall& c : calls) c.Release();
}

TEST_P(ReadPathTest, BufferedReadsAtAfterAndAcrossEndOfFile) {
  for (uint64_t size : {0, 1, 511, 512, 513, 4095, 4096, 4097, 8191, 8192, 8193,
                        65535, 65536, 65537}) {
    SCOPED_TRACE("size " + std::to_string(size));
    auto fs = Fs();
    const std::string path = File(size);
    auto file = OpenRandom(fs.get(), path);
    struct R {
      uint64_t off;
      size_t n;
    };
    const std::vector<R> ranges = {{0, static_cast<size_t>(size) + 1},
                                   {size, 1},
                                   {size, 8192},
                                   {size + 1, 10},
                                   {size + 4096, 4096},
                                   {size > 0 ? size - 1 : 0, 2},
                                   {size > 100 ? size - 100 : 0, 4096},
                                   {0, static_cast<size_t>(size)}};
    std::vector<FSReadRequest> reqs(ranges.size());
    std::vector<std::string> bufs(ranges.size());
    for (size_t i = 0; i < ranges.size(); ++i) {
      std::string scratch(ranges[i].n + 1, '\xee');
      Slice result;
      ASSERT_OK(file->Read(ranges[i].off, ranges[i].n, IOOptions(), &result,
                           &scratch[0], nullptr));
      ASSERT_EQ(result.ToString(), Expected(size, ranges[i].off, ranges[i].n))
          << "Read at " << ranges[i].off << " n " << ranges[i].n;
      bufs[i].assign(ranges[i].n + 1, '\xee');
      reqs[i].offset = ranges[i].off;
      reqs[i].len = ranges[i].n;
      reqs[i].scratch = &bufs[i][0];
    }
    ASSERT_OK(file->MultiRead(reqs.data(), reqs.size(), IOOptions(), nullptr));
    for (const FSReadRequest& r : reqs) {
      ASSERT_OK(r.status);
      ASSERT_EQ(r.result.ToString(), Expected(size, r.offset, r.len));
    }
  }
}

TEST_P(ReadPathTest, DirectReadsOfUnalignedFileSizesEndExactlyAtEof) {
  const std::string probe = File(4096);
  const std::string why = testing::DirectIoUnsupported(probe);
  if (!why.empty()) GTEST_SKIP() << why;
  for (uint64_t size :
       {0, 1, 511, 512, 513, 4095, 4096, 4097, 8191, 8193, 12289, 65537}) {
    SCOPED_TRACE("size " + std::to_string(size));
    auto faults = std::make_shared<ut::CountingFaults>();
    auto fs = Fs(faults);
    const std::string path = File(size);
    auto file = OpenRandom(fs.get(), path, /*direct=*/true);
    ASSERT_NE(file, nullptr);
    ASSERT_TRUE(file->use_direct_io());
    const size_t a = file->GetRequiredBufferAlignment();
    ASSERT_GE(a, 512u);
    ASSERT_EQ(a & (a - 1), 0u) << "alignment not a power of two: " << a;
    const uint64_t rounded = (size + a - 1) / a * a;
    std::vector<FSReadRequest> reqs;
    std::vector<std::unique_ptr<AlignedBuffer>> bufs;
    for (uint64_t off = 0; off <= rounded + a; off += a) {
      for (size_t n : {a, 2 * a, static_cast<size_t>(rounded) + 2 * a}) {
        auto buf = std::make_unique<AlignedBuffer>(a, n);
        Slice result;
        ASSERT_OK(
            file->Read(off, n, IOOptions(), &result, buf->get(), nullptr));
        ASSERT_EQ(result.ToString(), Expected(size, off, n))
            << "direct Read at " << off << " n " << n;
        bufs.push_back(std::make_unique<AlignedBuffer>(a, n));
        FSReadRequest& r = reqs.emplace_back();
        r.offset = off;
        r.len = n;
        r.scratch = bufs.back()->get();
      }
    }
    ASSERT_OK(file->MultiRead(reqs.data(), reqs.size(), IOOptions(), nullptr));
    for (const FSReadRequest& r : reqs) {
      ASSERT_OK(r.status);
      ASSERT_EQ(r.result.ToString(), Expected(size, r.offset, r.len))
          << "direct MultiRead at " << r.offset << " n " << r.len;
    }
    auto seq = OpenSequential(fs.get(), path, /*direct=*/true);
    ASSERT_TRUE(seq->use_direct_io());
    AlignedBuffer sbuf(a, rounded + a);
    for (uint64_t off = 0; off <= rounded; off += a) {
      Slice result;
      ASSERT_OK(seq->PositionedRead(off, rounded + a, IOOptions(), &result,
                                    sbuf.get(), nullptr));
      ASSERT_EQ(result.ToString(), Expected(size, off, rounded + a))
          << "direct PositionedRead at " << off;
    }
    EXPECT_GT(faults->calls(), 0);
  }
}

TEST_P(ReadPathTest, DirectReadsWithAlignedShortResultsStillReadEverything) {
  const std::string probe = File(4096);
  const std::string why = testing::DirectIoUnsupported(probe);
  if (!why.empty()) GTEST_SKIP() << why;
  const uint64_t size = 70000;
  const std::string path = File(size);
  size_t a = 0;
  {
    auto fs0 = Fs();
    a = OpenRandom(fs0.get(), path, true)->GetRequiredBufferAlignment();
  }
  for (bool one : {false, true}) {
    auto faults =
        std::make_shared<ut::ShortResults>(one, static_cast<int64_t>(a));
    auto fs = Fs(faults, 8);
    auto file = OpenRandom(fs.get(), path, true);
    AlignedBuffer buf(a, 16 * a);
    for (uint64_t off = 0; off < size + a; off += 5 * a) {
      Slice result;
      ASSERT_OK(
          file->Read(off, 16 * a, IOOptions(), &result, buf.get(), nullptr));
      ASSERT_EQ(result.ToString(), Expected(size, off, 16 * a))
          << "offset " << off;
    }
    EXPECT_GT(faults->shortened(), 0);
  }
}

// A misaligned direct read, and the word its refusal must mention.
struct MisalignedRead {
  uint64_t off;
  size_t n;
  char* scratch;
  const char* mentions;
};

FSReadRequest Request(uint64_t offset, size_t len, char* scratch) {
  FSReadRequest r;
  r.offset = offset;
  r.len = len;
  r.scratch = scratch;
  return r;
}

// Read and PositionedRead of `c` are refused: InvalidArgument naming what is
// misaligned, nothing read.
void ExpectRefused(rocksdb::FSRandomAccessFile* file,
                   rocksdb::FSSequentialFile* seq, const MisalignedRead& c) {
  Slice result("junk");
  IOStatus s = file->Read(c.off, c.n, IOOptions(), &result, c.scratch, nullptr);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.ToString().find(c.mentions), std::string::npos) << s.ToString();
  EXPECT_NE(s.ToString().find("alignment"), std::string::npos) << s.ToString();
  EXPECT_TRUE(result.empty());
  s = seq->PositionedRead(c.off, c.n, IOOptions(), &result, c.scratch, nullptr);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.ToString().find(c.mentions), std::string::npos) << s.ToString();
}

TEST_P(ReadPathTest, MisalignedDirectRequestsAreRefusedBeforeTheKernel) {
  const std::string probe = File(4096);
  const std::string why = testing::DirectIoUnsupported(probe);
  if (!why.empty()) GTEST_SKIP() << why;
  const std::string path = File(64 * 1024);
  auto faults = std::make_shared<ut::CountingFaults>();
  auto fs = Fs(faults);
  auto file = OpenRandom(fs.get(), path, true);
  auto seq = OpenSequential(fs.get(), path, true);
  const size_t a = file->GetRequiredBufferAlignment();
  AlignedBuffer buf(a, 8 * a);
  const std::vector<MisalignedRead> cases = {
      {1, a, buf.get(), "offset"},     {a / 2, a, buf.get(), "offset"},
      {0, a + 1, buf.get(), "length"}, {0, a - 1, buf.get(), "length"},
      {0, a, buf.get() + 1, "buffer"}, {a, 2 * a, buf.get() + a / 2, "buffer"},
  };
  const UringFsStats before = fs->GetStats();
  std::vector<FSReadRequest> reqs;
  for (const MisalignedRead& c : cases) {
    SCOPED_TRACE(std::string(c.mentions) + " off " + std::to_string(c.off) +
                 " n " + std::to_string(c.n));
    ExpectRefused(file.get(), seq.get(), c);
    reqs.push_back(Request(c.off, c.n, c.scratch));
  }
  // One aligned request in the middle of the batch is served.
  AlignedBuffer good(a, a);
  reqs.insert(reqs.begin() + 3, Request(a, a, good.get()));
  ASSERT_OK(file->MultiRead(reqs.data(), reqs.size(), IOOptions(), nullptr));
  const int calls_for_good = faults->calls();
  EXPECT_EQ(calls_for_good, 1) << "only the aligned request may be read";
  for (size_t i = 0; i < reqs.size(); ++i) {
    if (i == 3) {
      EXPECT_OK(reqs[i].status);
      EXPECT_EQ(reqs[i].result.ToString(), Expected(64 * 1024, a, a));
    } else {
      EXPECT_TRUE(reqs[i].status.IsInvalidArgument())
          << i << ": " << reqs[i].status.ToString();
      EXPECT_TRUE(reqs[i].result.empty());
    }
  }
  // Sequential Read is not for direct I/O.
  Slice result;
  EXPECT_TRUE(seq->Read(a, IOOptions(), &result, buf.get(), nullptr)
                  .IsInvalidArgument());
  EXPECT_EQ(faults->calls(), calls_for_good)
      << "a refused read reached the kernel";
  const UringFsStats after = fs->GetStats();
  EXPECT_EQ(after.sqes_submitted - before.sqes_submitted, GetParam() ? 1u : 0u);
}

TEST_P(ReadPathTest, OversizedRequestsAreInvalidArgument) {
  const std::string path = File(4096);
  auto faults = std::make_shared<ut::CountingFaults>();
  auto fs = Fs(faults);
  auto file = OpenRandom(fs.get(), path);
  auto seq = OpenSequential(fs.get(), path);
  char scratch[16];
  struct Case {
    uint64_t off;
    size_t n;
  };
  const std::vector<Case> cases = {
      {0, (size_t{1} << 62) + 1},           {0, SIZE_MAX},
      {uint64_t{INT64_MAX} - 5, 10},        {UINT64_MAX - 5, 10},
      {uint64_t{1} << 62, size_t{1} << 62},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE("off " + std::to_string(c.off) + " n " + std::to_string(c.n));
    Slice result;
    IOStatus s = file->Read(c.off, c.n, IOOptions(), &result, scratch, nullptr);
    EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
    s = seq->PositionedRead(c.off, c.n, IOOptions(), &result, scratch, nullptr);
    EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
    FSReadRequest r;
    r.offset = c.off;
    r.len = c.n;
    r.scratch = scratch;
    ASSERT_OK(file->MultiRead(&r, 1, IOOptions(), nullptr));
    EXPECT_TRUE(r.status.IsInvalidArgument()) << r.status.ToString();
    void* h = reinterpret_cast<void*>(1);
    rocksdb::IOHandleDeleter del;
    bool called = false;
    r.status = IOStatus::OK();
    s = file->ReadAsync(
        r, IOOptions(), [&](const FSReadRequest&, void*) { called = true; },
        nullptr, &h, &del, nullptr);
    EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
    EXPECT_EQ(h, nullptr);
    EXPECT_FALSE(called);
  }
  EXPECT_EQ(faults->calls(), 0);
}

// Stats count only what was read: a request refused before the kernel, or
// of zero bytes, is no "op" of either path.
TEST_P(ReadPathTest, RefusedAndEmptyRequestsAreNotCountedAsServedOps) {
  const std::string path = File(4096);
  auto fs = Fs();
  auto file = OpenRandom(fs.get(), path);
  char scratch[16];
  const UringFsStats before = fs->GetStats();
  std::vector<FSReadRequest> reqs(4);
  for (FSReadRequest& r : reqs) {
    r.offset = UINT64_MAX - 5;  // Refused: past the largest offset.
    r.len = 10;
    r.scratch = scratch;
  }
  ASSERT_OK(file->MultiRead(reqs.data(), reqs.size(), IOOptions(), nullptr));
  Slice result;
  ASSERT_OK(file->Read(0, 0, IOOptions(), &result, scratch, nullptr));
  const UringFsStats after = fs->GetStats();
  EXPECT_EQ(after.ops_uring, before.ops_uring);
  EXPECT_EQ(after.ops_pread, before.ops_pread);
  EXPECT_EQ(after.rings_created, before.rings_created)
      << "a ring was set up for a batch with nothing to read";
}

TEST_P(ReadPathTest, MultiReadBatchesOfEverySizeSetEveryRequest) {
  const uint64_t size = 2 << 20;
  const std::string path = File(size);
  for (unsigned depth : {4u, 8u, 128u}) {
    auto fs = Fs(nullptr, depth);
    auto file = OpenRandom(fs.get(), path);
    std::mt19937 rng(depth);
    uint64_t requests = 0;
    uint64_t calls = 0;
    for (size_t n : {1, 2, 31, 32, 33, 127, 128, 129, 1000}) {
      SCOPED_TRACE("depth " + std::to_string(depth) + " batch " +
                   std::to_string(n));
      std::vector<FSReadRequest> reqs(n);
      std::vector<std::string> bufs(n);
      for (size_t i = 0; i < n; ++i) {
        reqs[i].offset = rng() % (size + 20000);
        reqs[i].len = rng() % 8000;  // Zero-length requests included.
        bufs[i].assign(reqs[i].len + 1, '\0');
        reqs[i].scratch = &bufs[i][0];
        reqs[i].status = IOStatus::Corruption("not set");
        reqs[i].result = Slice("stale");
      }
      ASSERT_OK(file->MultiRead(reqs.data(), n, IOOptions(), nullptr));
      for (size_t i = 0; i < n; ++i) {
        ASSERT_OK(reqs[i].status) << i;
        ASSERT_EQ(reqs[i].result.ToString(),
                  Expected(size, reqs[i].offset, reqs[i].len))
            << "request " << i << " offset " << reqs[i].offset << " len "
            << reqs[i].len;
      }
      requests += n;
      ++calls;
    }
    const UringFsStats st = fs->GetStats();
    EXPECT_EQ(st.multi_reads, calls);
    EXPECT_EQ(st.multi_read_requests, requests);
    EXPECT_DOUBLE_EQ(
        st.AverageRequestsPerMultiRead(),
        static_cast<double>(requests) / static_cast<double>(calls));
    if (GetParam()) {
      EXPECT_GT(st.ops_uring, 0u) << st.ToString();
      EXPECT_EQ(st.ops_pread, 0u) << st.ToString();
      EXPECT_GT(st.sqes_submitted, 0u);
    } else {
      EXPECT_EQ(st.ops_uring, 0u) << st.ToString();
      EXPECT_GT(st.ops_pread, 0u) << st.ToString();
    }
  }
}

TEST_P(ReadPathTest, EightThreadsReadingOneFileGetTheirOwnBytes) {
  const uint64_t size = 1 << 20;
  const std::string path = File(size);
  auto fs = Fs(nullptr, 16);
  auto file = OpenRandom(fs.get(), path);
  std::vector<std::thread> threads;
  std::atomic<int> bad{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(static_cast<uint32_t>(t));
      for (int i = 0; i < 100; ++i) {
        if (i % 2 == 0) {
          const uint64_t off = rng() % (size + 1000);
          const size_t n = 1 + rng() % 20000;
          std::string scratch(n, '\0');
          Slice result;
          IOStatus s =
              file->Read(off, n, IOOptions(), &result, &scratch[0], nullptr);
          if (!s.ok() || result.ToString() != Expected(size, off, n)) ++bad;
        } else {
          const size_t n = 1 + rng() % 40;
          std::vector<FSReadRequest> reqs(n);
          std::vector<std::string> bufs(n);
          for (size_t j = 0; j < n; ++j) {
            reqs[j].offset = rng() % (size + 1000);
            reqs[j].len = 1 + rng() % 5000;
            bufs[j].assign(reqs[j].len, '\0');
            reqs[j].scratch = &bufs[j][0];
          }
          if (!file->MultiRead(reqs.data(), n, IOOptions(), nullptr).ok()) {
            ++bad;
            continue;
          }
          for (const FSReadRequest& r : reqs) {
            if (!r.status.ok() ||
                r.result.ToString() != Expected(size, r.offset, r.len)) {
              ++bad;
            }
          }
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(bad.load(), 0);
  if (GetParam()) {
    EXPECT_LE(fs->GetStats().rings_created, 8u);
  }
}

INSTANTIATE_TEST_SUITE_P(UringAndPread, ReadPathTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& i) {
                           return i.param ? "IoUring" : "Pread";
                         });

// ---------------------------------------------------------------------------
// Fallback forced by each setup errno, seen through the file system.
// ---------------------------------------------------------------------------

class SetupErrnoFallbackTest : public ::testing::TestWithParam<int> {};

TEST_P(SetupErrnoFallbackTest, StatsNameTheErrnoAndReadsUsePread) {
  const int err = GetParam();
  const uint64_t size = 30000;
  const std::string path = testing::WritePatternFile("fallback", size);
  auto faults = std::make_shared<ut::SetupFails>(err);
  auto fs = NewFs(true, 32, faults);
  ReadAllWaysAndCompare(fs.get(), path, size);
  const UringFsStats st = fs->GetStats();
  EXPECT_FALSE(st.io_uring_in_use);
  EXPECT_NE(st.io_uring.find(std::strerror(err)), std::string::npos)
      << st.io_uring;
  EXPECT_GT(st.ops_pread, 0u);
  EXPECT_EQ(st.ops_uring, 0u);
  EXPECT_EQ(st.rings_created, 0u);
  EXPECT_EQ(st.async_submitted, 0u);
  ::unlink(path.c_str());
}

INSTANTIATE_TEST_SUITE_P(EachErrno, SetupErrnoFallbackTest,
                         ::testing::Values(EPERM, ENOSYS, ENOMEM, EINVAL),
                         ut::SetupErrnoName);

// Reading the stats is no use of the file system: it must not build the
// read engine (which freezes the options) nor set up any ring.
TEST(StatsTest, GetStatsBeforeAnyFileKeepsOptionsChangeable) {
  auto fs = NewFs(true, 16);
  const UringFsStats st = fs->GetStats();
  EXPECT_EQ(st.reads, 0u);
  rocksdb::ConfigOptions cfg;
  EXPECT_OK(fs->ConfigureFromString(cfg, "queue_depth=64"));
  EXPECT_EQ(fs->options().queue_depth, 64u);
}

}  // namespace
}  // namespace uringfs
