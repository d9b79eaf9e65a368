// -----------------------------------------------------------------------------
// tests/write/write_order_test.cc
// -----------------------------------------------------------------------------
//
// The write path of uringfs (env/writable_file.h) through `UringFileSystem`
// over the seam (the fixture of write_test_fixture.h): ordering. One inode's
// work runs in submit order, whatever handle or call submitted it; Sync,
// Close, Truncate, Reuse, GetFileSize and random-access writes wait for the
// queued appends before them; what Flush acknowledged for a write-through file
// is in the kernel; a written-behind Append returns while its write is held.

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "env/uring_file_system.h"
#include "rocksdb/file_system.h"
#include "rocksdb/io_status.h"
#include "tests/testing/deadline.h"
#include "tests/testing/disk_file.h"
#include "tests/testing/status_matchers.h"
#include "tests/write/write_test_fixture.h"
#include "uringfs/options.h"
#include "uringfs/stats.h"

namespace uringfs {
namespace {

using rocksdb::FileOptions;
using rocksdb::FSWritableFile;
using rocksdb::IOOptions;
using rocksdb::IOStatus;
using testing::Background;
using testing::Concat;
using testing::kMustReturn;
using testing::kStillBlocked;
using testing::RandomBytes;
using testing::ReadFileOnDisk;
using testing::SizeOnDisk;
using testing::StatsOf;
using testing::WriteTest;
using namespace std::chrono_literals;

// ---------------------------------------------------------------------------
// Ordering.
// ---------------------------------------------------------------------------

TEST_F(WriteTest, ReuseWritableFileWaitsForTheOldFilesQueuedWrites) {
  std::unique_ptr<FSWritableFile> old_file = Open("000020.sst");
  ASSERT_NE(old_file, nullptr);
  seam_->CloseGate(".sst");
  AppendAll(old_file.get(), {"old data"});
  ASSERT_TRUE(seam_->WaitForBlocked(1, kMustReturn));
  std::unique_ptr<FSWritableFile> reused;
  IOStatus s;
  {
    Background b([&] {
      s = fs_->ReuseWritableFile(Path("000021.log"), Path("000020.sst"),
                                 FileOptions(), &reused, nullptr);
    });
    EXPECT_FALSE(b.Finished(kStillBlocked))
        << "the file was reused while its queued write was pending";
    seam_->OpenGate();
    EXPECT_TRUE(b.Finished(kMustReturn));
  }
  ASSERT_OK(s);
  ASSERT_NE(reused, nullptr);
  ASSERT_OK(reused->Append("new", IOOptions(), nullptr));
  ASSERT_OK(reused->Close(IOOptions(), nullptr));
  ASSERT_OK(old_file->Close(IOOptions(), nullptr));
  // A reused file is overwritten from the start, not truncated (as RocksDB's
  // recycled WALs are): the old bytes were written first, then "new" over
  // them. The other order would leave "old data".
  EXPECT_EQ(ReadFileOnDisk(Path("000021.log")), "new data");
}

TEST_F(WriteTest, RandomRWWriteIsOrderedAfterQueuedAppendsOfTheInode) {
  std::unique_ptr<FSWritableFile> f = Open("000022.sst");
  ASSERT_NE(f, nullptr);
  seam_->CloseGate(".sst");
  AppendAll(f.get(), {std::string(8, 'a')});
  ASSERT_TRUE(seam_->WaitForBlocked(1, kMustReturn));
  std::unique_ptr<rocksdb::FSRandomRWFile> rw;
  ASSERT_OK(
      fs_->NewRandomRWFile(Path("000022.sst"), FileOptions(), &rw, nullptr));
  IOStatus s;
  {
    Background b([&] { s = rw->Write(2, "XY", IOOptions(), nullptr); });
    EXPECT_FALSE(b.Finished(kStillBlocked))
        << "the in-place write overtook the queued append";
    seam_->OpenGate();
    EXPECT_TRUE(b.Finished(kMustReturn));
  }
  ASSERT_OK(s);
  ASSERT_OK(rw->Close(IOOptions(), nullptr));
  ASSERT_OK(f->Close(IOOptions(), nullptr));
  EXPECT_EQ(ReadFileOnDisk(Path("000022.sst")), "aaXYaaaa");
}

TEST_F(WriteTest, PreallocatedSpaceOfAWriteBehindFileIsTrimmedAtClose) {
  std::unique_ptr<FSWritableFile> f = Open("000023.sst");
  ASSERT_NE(f, nullptr);
  f->SetPreallocationBlockSize(4 << 20);
  const std::string data(100000, 'p');
  f->PrepareWrite(0, data.size(), IOOptions(), nullptr);
  ASSERT_OK(f->Append(data, IOOptions(), nullptr));
  size_t block = 0, last = 0;
  f->GetPreallocationStatus(&block, &last);
  EXPECT_EQ(block, size_t{4} << 20);
  EXPECT_EQ(last, 1u);
  ASSERT_OK(f->Sync(IOOptions(), nullptr));
  struct stat st;
  ASSERT_EQ(::stat(Path("000023.sst").c_str(), &st), 0);
  const bool preallocated = st.st_blocks * 512 >= (4 << 20);
  ASSERT_OK(f->Close(IOOptions(), nullptr));
  ASSERT_EQ(::stat(Path("000023.sst").c_str(), &st), 0);
  EXPECT_EQ(static_cast<uint64_t>(st.st_size), data.size());
  if (!preallocated) {
    GTEST_SKIP() << "this file system did not preallocate (no fallocate)";
  }
  EXPECT_LT(st.st_blocks * 512, 1 << 20)
      << "the preallocated tail was not released at Close";
}

TEST_F(WriteTest, ConcurrentSmallAppendsToManyFilesReadBackByteForByte) {
  constexpr int kThreads = 4;
  constexpr int kFilesPerThread = 4;  // Two .sst (behind), two .log (through).
  constexpr int kAppendsPerThread = 96;
  std::vector<std::string> names;
  std::vector<std::string> expected(kThreads * kFilesPerThread);
  std::atomic<uint64_t> sst_appends{0}, log_appends{0};
  {
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        std::mt19937_64 rng(static_cast<uint64_t>(t) * 7919 + 1);
        std::vector<std::unique_ptr<FSWritableFile>> files;
        for (int i = 0; i < kFilesPerThread; ++i) {
          const std::string name = "t" + std::to_string(t) + "_" +
                                   std::to_string(i) +
                                   (i % 2 == 0 ? ".sst" : ".log");
          files.push_back(Open(name));
          if (files.back() == nullptr) return;
        }
        std::uniform_int_distribution<size_t> size(1, 64 << 10);
        std::uniform_int_distribution<int> pick(0, kFilesPerThread - 1);
        for (int a = 0; a < kAppendsPerThread; ++a) {
          const int i = pick(rng);
          const std::string data = RandomBytes(rng, size(rng));
          EXPECT_OK(files[i]->Append(data, IOOptions(), nullptr));
          if (i % 2 == 1) {
            EXPECT_OK(files[i]->Flush(IOOptions(), nullptr));
          }
          expected[t * kFilesPerThread + i] += data;
          (i % 2 == 0 ? sst_appends : log_appends)++;
        }
        for (int i = 0; i < kFilesPerThread; ++i) {
          EXPECT_EQ(files[i]->GetFileSize(IOOptions(), nullptr),
                    expected[t * kFilesPerThread + i].size());
          EXPECT_OK(files[i]->Close(IOOptions(), nullptr));
        }
      });
    }
    for (std::thread& th : threads) th.join();
  }
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kFilesPerThread; ++i) {
      const std::string name = "t" + std::to_string(t) + "_" +
                               std::to_string(i) +
                               (i % 2 == 0 ? ".sst" : ".log");
      const std::string got = ReadFileOnDisk(Path(name));
      const std::string& want = expected[t * kFilesPerThread + i];
      ASSERT_EQ(got.size(), want.size()) << name;
      EXPECT_TRUE(got == want) << name << ": contents differ";
    }
  }
  const UringFsStats st = StatsOf(*fs_);
  EXPECT_EQ(st.appends_queued, sst_appends.load());
  EXPECT_EQ(st.appends_direct, log_appends.load());
  EXPECT_EQ(st.write_errors, 0u);
}

TEST_F(WriteTest, SyncRightAfterQueuedAppendsCoversThem) {
  seam_->SetAppendDelay(".sst", 2ms);
  std::unique_ptr<FSWritableFile> f = Open("000010.sst");
  ASSERT_NE(f, nullptr);
  const std::vector<std::string> parts = Parts(20, 1, 64 << 10);
  AppendAll(f.get(), parts);
  ASSERT_OK(f->Sync(IOOptions(), nullptr));
  EXPECT_TRUE(ReadFileOnDisk(Path("000010.sst")) == Concat(parts, parts.size()))
      << "Sync returned before every queued append was written";
  AppendAll(f.get(), {"tail"});
  ASSERT_OK(f->Fsync(IOOptions(), nullptr));
  EXPECT_TRUE(ReadFileOnDisk(Path("000010.sst")) ==
              Concat(parts, parts.size()) + "tail");
  ASSERT_OK(f->Close(IOOptions(), nullptr));
}

TEST_F(WriteTest, CloseRightAfterQueuedAppendsWritesThemAll) {
  seam_->SetAppendDelay(".sst", 2ms);
  std::unique_ptr<FSWritableFile> f = Open("000011.sst");
  ASSERT_NE(f, nullptr);
  const std::vector<std::string> parts = Parts(20, 1, 64 << 10);
  AppendAll(f.get(), parts);
  ASSERT_OK(f->Close(IOOptions(), nullptr));
  EXPECT_TRUE(ReadFileOnDisk(Path("000011.sst")) ==
              Concat(parts, parts.size()));
  uint64_t size = 0;
  ASSERT_OK(fs_->GetFileSize(Path("000011.sst"), IOOptions(), &size, nullptr));
  EXPECT_EQ(size, Concat(parts, parts.size()).size());
}

TEST_F(WriteTest, TruncateWaitsForQueuedAppendsThenCuts) {
  std::unique_ptr<FSWritableFile> f = Open("000012.sst");
  ASSERT_NE(f, nullptr);
  seam_->CloseGate(".sst");
  const std::vector<std::string> parts = Parts(3, 10000, 20000);
  AppendAll(f.get(), parts);
  ASSERT_TRUE(seam_->WaitForBlocked(1, kMustReturn));
  const uint64_t cut = parts[0].size() + parts[1].size() / 2;
  IOStatus truncated;
  {
    Background b([&] { truncated = f->Truncate(cut, IOOptions(), nullptr); });
    EXPECT_FALSE(b.Finished(kStillBlocked))
        << "Truncate ran before the queued appends were written";
    seam_->OpenGate();
    EXPECT_TRUE(b.Finished(kMustReturn));
  }
  ASSERT_OK(truncated);
  EXPECT_EQ(f->GetFileSize(IOOptions(), nullptr), cut);
  ASSERT_OK(f->Close(IOOptions(), nullptr));
  EXPECT_TRUE(ReadFileOnDisk(Path("000012.sst")) ==
              Concat(parts, 3).substr(0, cut));
}

TEST_F(WriteTest, TwoHandlesToOneInodeKeepSubmitOrder) {
  {
    std::unique_ptr<FSWritableFile> create = Open("000013.sst");
    ASSERT_NE(create, nullptr);
    ASSERT_OK(create->Close(IOOptions(), nullptr));
  }
  // Reopened handles append (O_APPEND), so the file shows execution order.
  std::unique_ptr<FSWritableFile> a = Reopen("000013.sst");
  std::unique_ptr<FSWritableFile> b = Reopen("000013.sst");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  seam_->SetAppendDelay(".sst", 300us);
  std::string expected;
  std::uniform_int_distribution<size_t> size(1, 8 << 10);
  for (int i = 0; i < 60; ++i) {
    const std::string data = RandomBytes(rng_, size(rng_));
    ASSERT_OK((i % 3 == 0 ? b : a)->Append(data, IOOptions(), nullptr));
    expected += data;
  }
  ASSERT_OK(a->Close(IOOptions(), nullptr));
  ASSERT_OK(b->Close(IOOptions(), nullptr));
  const std::string got = ReadFileOnDisk(Path("000013.sst"));
  ASSERT_EQ(got.size(), expected.size());
  EXPECT_TRUE(got == expected) << "appends of two handles were reordered";
}

TEST_F(WriteTest,
       WriteThroughHandleWaitsForQueuedWritesOfAnotherHandleOfTheSameInode) {
  {
    std::unique_ptr<FSWritableFile> create = Open("000014.sst");
    ASSERT_NE(create, nullptr);
    ASSERT_OK(create->Close(IOOptions(), nullptr));
  }
  // One inode under two names: .sst (write-behind) and .log (write-through).
  ASSERT_EQ(::link(Path("000014.sst").c_str(), Path("000014.log").c_str()), 0)
      << std::strerror(errno);
  std::unique_ptr<FSWritableFile> behind = Reopen("000014.sst");
  std::unique_ptr<FSWritableFile> through = Reopen("000014.log");
  ASSERT_NE(behind, nullptr);
  ASSERT_NE(through, nullptr);
  seam_->CloseGate(".sst");
  ASSERT_OK(behind->Append("queued first;", IOOptions(), nullptr));
  ASSERT_TRUE(seam_->WaitForBlocked(1, kMustReturn));
  {
    Background b([&] {
      EXPECT_OK(through->Append("written second", IOOptions(), nullptr));
      EXPECT_OK(through->Flush(IOOptions(), nullptr));
    });
    EXPECT_FALSE(b.Finished(kStillBlocked))
        << "a write-through append overtook a queued write of the same inode";
    seam_->OpenGate();
    EXPECT_TRUE(b.Finished(kMustReturn));
  }
  ASSERT_OK(behind->Close(IOOptions(), nullptr));
  ASSERT_OK(through->Close(IOOptions(), nullptr));
  EXPECT_EQ(ReadFileOnDisk(Path("000014.sst")), "queued first;written second");
}

TEST_F(WriteTest, HandleGetFileSizeCountsQueuedBytes) {
  std::unique_ptr<FSWritableFile> f = Open("000015.sst");
  ASSERT_NE(f, nullptr);
  seam_->CloseGate(".sst");
  const std::vector<std::string> parts = Parts(3, 1000, 5000);
  AppendAll(f.get(), parts);
  ASSERT_TRUE(seam_->WaitForBlocked(1, kMustReturn));
  EXPECT_EQ(SizeOnDisk(Path("000015.sst")), 0u) << "the gate did not hold";
  EXPECT_EQ(f->GetFileSize(IOOptions(), nullptr), Concat(parts, 3).size());
  seam_->OpenGate();
  ASSERT_OK(f->Close(IOOptions(), nullptr));
  EXPECT_EQ(SizeOnDisk(Path("000015.sst")), Concat(parts, 3).size());
}

TEST_F(WriteTest, FileSystemGetFileSizeByNameWaitsForQueuedWrites) {
  std::unique_ptr<FSWritableFile> f = Open("000016.sst");
  ASSERT_NE(f, nullptr);
  seam_->CloseGate(".sst");
  const std::vector<std::string> parts = Parts(4, 1000, 30000);
  AppendAll(f.get(), parts);
  ASSERT_TRUE(seam_->WaitForBlocked(1, kMustReturn));
  uint64_t size = 0;
  IOStatus s;
  {
    Background b([&] {
      s = fs_->GetFileSize(Path("000016.sst"), IOOptions(), &size, nullptr);
    });
    EXPECT_FALSE(b.Finished(kStillBlocked))
        << "GetFileSize by name returned while writes were queued";
    seam_->OpenGate();
    EXPECT_TRUE(b.Finished(kMustReturn));
  }
  ASSERT_OK(s);
  EXPECT_EQ(size, Concat(parts, 4).size());
  ASSERT_OK(f->Close(IOOptions(), nullptr));
}

// ---------------------------------------------------------------------------
// The write-through promise: what Flush acknowledged is in the kernel.
// ---------------------------------------------------------------------------

class WriteThroughTest : public WriteTest,
                         public ::testing::WithParamInterface<const char*> {};

TEST_P(WriteThroughTest, FlushedBytesAreInTheKernelWhileSstWritesAreStalled) {
  // An SST of another file holds a worker at the gate.
  std::unique_ptr<FSWritableFile> sst = Open("000020.sst");
  ASSERT_NE(sst, nullptr);
  seam_->CloseGate(".sst");
  ASSERT_OK(sst->Append("stalled", IOOptions(), nullptr));
  ASSERT_TRUE(seam_->WaitForBlocked(1, kMustReturn));

  const std::string name = GetParam();
  std::unique_ptr<FSWritableFile> f = Open(name);
  ASSERT_NE(f, nullptr);
  const std::vector<std::string> parts = Parts(5, 1, 64 << 10);
  for (size_t i = 0; i < parts.size(); ++i) {
    ASSERT_OK(f->Append(parts[i], IOOptions(), nullptr));
    ASSERT_OK(f->Flush(IOOptions(), nullptr));
    // What a process crash (kill -9) would leave: the kernel's view.
    EXPECT_TRUE(ReadFileOnDisk(Path(name)) == Concat(parts, i + 1))
        << name << ": flushed bytes not in the kernel after append " << i;
  }
  const UringFsStats st = StatsOf(*fs_);
  EXPECT_EQ(st.appends_direct, parts.size());
  EXPECT_EQ(st.appends_queued, 1u);
  EXPECT_EQ(seam_->blocked(), 1) << "the SST write should still be stalled";
  ASSERT_OK(f->Close(IOOptions(), nullptr));
  seam_->OpenGate();
  ASSERT_OK(sst->Close(IOOptions(), nullptr));
  EXPECT_EQ(ReadFileOnDisk(Path("000020.sst")), "stalled");
}

INSTANTIATE_TEST_SUITE_P(NonTableFiles, WriteThroughTest,
                         ::testing::Values("000007.log", "MANIFEST-000001",
                                           "CURRENT", "OPTIONS-000005",
                                           "000009.dbtmp", "notes.txt",
                                           "no_extension"),
                         [](const ::testing::TestParamInfo<const char*>& p) {
                           std::string n = p.param;
                           for (char& c : n) {
                             if (!std::isalnum(static_cast<unsigned char>(c)))
                               c = '_';
                           }
                           return n;
                         });

// ---------------------------------------------------------------------------
// Write-behind.
// ---------------------------------------------------------------------------

TEST_F(WriteTest, WriteBehindAppendReturnsWhileTheWriteIsHeldAndSyncWaits) {
  std::unique_ptr<FSWritableFile> f = Open("000030.sst");
  ASSERT_NE(f, nullptr);
  seam_->CloseGate(".sst");
  {
    Background b([&] { EXPECT_OK(f->Append("behind", IOOptions(), nullptr)); });
    EXPECT_TRUE(b.Finished(kMustReturn))
        << "Append of a write-behind file waited for the device";
  }
  ASSERT_TRUE(seam_->WaitForBlocked(1, kMustReturn))
      << "the append never reached the device";
  EXPECT_EQ(SizeOnDisk(Path("000030.sst")), 0u);
  EXPECT_EQ(StatsOf(*fs_).appends_queued, 1u);
  EXPECT_EQ(StatsOf(*fs_).appends_direct, 0u);
  {
    Background b([&] { EXPECT_OK(f->Flush(IOOptions(), nullptr)); });
    EXPECT_TRUE(b.Finished(kMustReturn)) << "Flush waited for the device";
  }
  EXPECT_EQ(seam_->blocked(), 1);
  {
    Background b([&] { EXPECT_OK(f->Sync(IOOptions(), nullptr)); });
    EXPECT_FALSE(b.Finished(kStillBlocked))
        << "Sync returned before the queued write was written";
    seam_->OpenGate();
    EXPECT_TRUE(b.Finished(kMustReturn));
  }
  EXPECT_EQ(ReadFileOnDisk(Path("000030.sst")), "behind");
  ASSERT_OK(f->Close(IOOptions(), nullptr));
}

}  // namespace
}  // namespace uringfs
