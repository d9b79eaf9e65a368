// -----------------------------------------------------------------------------
// tests/write/writable_file_test.cc
// -----------------------------------------------------------------------------
//
// The write path of uringfs (env/writable_file.h) through `UringFileSystem`,
// with `SeamFileSystem` (tests/write/seam_fs.h) underneath so that the device
// below uringfs can fail, stall (the gate) or crawl on request.
//
// How the expectations are obtained:
//   * Contents are read back with plain open(2) + pread(2) on a separate
//     descriptor, never through uringfs, and compared byte for byte with what
//     the test appended.
//   * "Has not returned" is observed from another thread with a deadline
//     while the gate holds the writes; "returns" is awaited with a generous
//     deadline, after which the test process exits with a message instead of
//     hanging (see `Background`).
//   * Counters come from `GetUringFsStats` of a file system created for the
//     test, so they start at zero.

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "env/uring_file_system.h"
#include "rocksdb/convenience.h"
#include "rocksdb/file_system.h"
#include "rocksdb/io_status.h"
#include "rocksdb/slice.h"
#include "tests/deadline.h"
#include "tests/status_matchers.h"
#include "tests/temp_dir.h"
#include "tests/write/seam_fs.h"
#include "uringfs/options.h"
#include "uringfs/stats.h"
#include "uringfs/task.h"

namespace uringfs {
namespace {

using rocksdb::FileOptions;
using rocksdb::FileSystem;
using rocksdb::FSWritableFile;
using rocksdb::IOOptions;
using rocksdb::IOStatus;
using rocksdb::Slice;
using testing::InjectedEio;
using testing::InjectedNoSpace;
using testing::SeamFileSystem;
using testing::SeamOp;
using ::uringfs::IoTask;
using namespace std::chrono_literals;

// How long a call that must not return is watched.
constexpr auto kStillBlocked = 300ms;
// How long a call that must return may take before the test gives up.
constexpr auto kMustReturn = 20s;

// ---------------------------------------------------------------------------
// Helpers.
// ---------------------------------------------------------------------------

// Runs `fn` on its own thread; see tests/deadline.h.
using testing::Background;

// The whole file at `path`, read with pread on a descriptor of its own.
std::string ReadFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    ADD_FAILURE() << "open " << path << ": " << std::strerror(errno);
    return "";
  }
  std::string out;
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = ::pread(fd, buf, sizeof(buf), static_cast<off_t>(out.size()));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) ADD_FAILURE() << "pread " << path << ": " << std::strerror(errno);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

uint64_t SizeOnDisk(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    ADD_FAILURE() << "stat " << path << ": " << std::strerror(errno);
    return 0;
  }
  return static_cast<uint64_t>(st.st_size);
}

std::string RandomBytes(std::mt19937_64& rng, size_t n) {
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

UringFsStats StatsOf(const FileSystem& fs) {
  UringFsStats s;
  EXPECT_OK(GetUringFsStats(fs, &s));
  return s;
}

// What the test expects of a status carrying the injected error: NoSpace for
// ENOSPC; a plain, non-retryable IOError for EIO.
::testing::AssertionResult IsInjected(const IOStatus& s, bool eio) {
  if (eio) {
    if (s.IsIOError() && s.subcode() == rocksdb::Status::kNone &&
        !s.GetRetryable() &&
        s.ToString().find("injected EIO") != std::string::npos) {
      return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure()
           << "expected the injected non-retryable EIO IOError, got "
           << s.ToString() << " (retryable=" << s.GetRetryable() << ")";
  }
  // Retryable, as the base (like PosixFileSystem) said: uringfs keeps the
  // attributes of the status it was given.
  if (s.IsNoSpace() && s.GetRetryable() &&
      s.ToString().find("injected ENOSPC") != std::string::npos) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure()
         << "expected the injected, retryable NoSpace, got " << s.ToString()
         << " (retryable=" << s.GetRetryable() << ")";
}

// Every later call on `f` returns the injected error, Close included (twice).
void ExpectStaysFailed(FSWritableFile* f, bool eio) {
  const IOOptions io;
  EXPECT_TRUE(IsInjected(f->Append("after the failure", io, nullptr), eio))
      << "Append";
  EXPECT_TRUE(IsInjected(f->Flush(io, nullptr), eio)) << "Flush";
  EXPECT_TRUE(IsInjected(f->Sync(io, nullptr), eio)) << "Sync";
  EXPECT_TRUE(IsInjected(f->Fsync(io, nullptr), eio)) << "Fsync";
  EXPECT_TRUE(IsInjected(f->Close(io, nullptr), eio)) << "Close";
  EXPECT_TRUE(IsInjected(f->Close(io, nullptr), eio)) << "second Close";
  EXPECT_TRUE(IsInjected(f->Append("after close", io, nullptr), eio))
      << "Append after Close";
}

std::string Concat(const std::vector<std::string>& parts, size_t n) {
  std::string s;
  for (size_t i = 0; i < n && i < parts.size(); ++i) s += parts[i];
  return s;
}

// ---------------------------------------------------------------------------
// Fixture: uringfs over a fresh seam, in a fresh directory.
// ---------------------------------------------------------------------------

class WriteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::FreshDir("uringfs_write");
    seam_ = std::make_shared<SeamFileSystem>();
    Reset(UringFsOptions());
  }

  void TearDown() override {
    seam_->OpenGate();  // Never leave a worker parked at the gate.
    testing::RemoveTree(dir_);
  }

  // Replaces the file system under test with one using `o` (same seam).
  void Reset(const UringFsOptions& o) {
    ASSERT_OK(ValidateUringFsOptions(o));
    fs_ = std::make_shared<UringFileSystem>(o, seam_);
  }

  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

  std::unique_ptr<FSWritableFile> Open(const std::string& name) {
    std::unique_ptr<FSWritableFile> f;
    IOStatus s = fs_->NewWritableFile(Path(name), FileOptions(), &f, nullptr);
    EXPECT_OK(s) << name;
    return f;
  }

  std::unique_ptr<FSWritableFile> Reopen(const std::string& name) {
    std::unique_ptr<FSWritableFile> f;
    IOStatus s =
        fs_->ReopenWritableFile(Path(name), FileOptions(), &f, nullptr);
    EXPECT_OK(s) << name;
    return f;
  }

  // Appends `parts` to `f`, expecting OK.
  static void AppendAll(FSWritableFile* f,
                        const std::vector<std::string>& parts) {
    for (const std::string& p : parts) {
      ASSERT_OK(f->Append(p, IOOptions(), nullptr));
    }
  }

  std::vector<std::string> Parts(size_t count, size_t min_size,
                                 size_t max_size) {
    std::uniform_int_distribution<size_t> size(min_size, max_size);
    std::vector<std::string> parts;
    for (size_t i = 0; i < count; ++i) {
      parts.push_back(RandomBytes(rng_, size(rng_)));
    }
    return parts;
  }

  std::string dir_;
  std::shared_ptr<SeamFileSystem> seam_;
  std::shared_ptr<UringFileSystem> fs_;
  std::mt19937_64 rng_{20240611};
};

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
  EXPECT_EQ(ReadFile(Path("000021.log")), "new data");
}

TEST_F(WriteTest, RandomRWWriteIsOrderedAfterQueuedAppendsOfTheInode) {
  std::unique_ptr<FSWritableFile> f = Open("000022.sst");
  ASSERT_NE(f, nullptr);
  seam_->CloseGate(".sst");
  AppendAll(f.get(), {std::string(8, 'a')});
  ASSERT_TRUE(seam_->WaitForBlocked(1, kMustReturn));
  std::unique_ptr<rocksdb::FSRandomRWFile> rw;
  ASSERT_OK(fs_->NewRandomRWFile(Path("000022.sst"), FileOptions(), &rw,
                                 nullptr));
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
  EXPECT_EQ(ReadFile(Path("000022.sst")), "aaXYaaaa");
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
      const std::string got = ReadFile(Path(name));
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
  EXPECT_TRUE(ReadFile(Path("000010.sst")) == Concat(parts, parts.size()))
      << "Sync returned before every queued append was written";
  AppendAll(f.get(), {"tail"});
  ASSERT_OK(f->Fsync(IOOptions(), nullptr));
  EXPECT_TRUE(ReadFile(Path("000010.sst")) ==
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
  EXPECT_TRUE(ReadFile(Path("000011.sst")) == Concat(parts, parts.size()));
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
  EXPECT_TRUE(ReadFile(Path("000012.sst")) == Concat(parts, 3).substr(0, cut));
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
  const std::string got = ReadFile(Path("000013.sst"));
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
  EXPECT_EQ(ReadFile(Path("000014.sst")), "queued first;written second");
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
    EXPECT_TRUE(ReadFile(Path(name)) == Concat(parts, i + 1))
        << name << ": flushed bytes not in the kernel after append " << i;
  }
  const UringFsStats st = StatsOf(*fs_);
  EXPECT_EQ(st.appends_direct, parts.size());
  EXPECT_EQ(st.appends_queued, 1u);
  EXPECT_EQ(seam_->blocked(), 1) << "the SST write should still be stalled";
  ASSERT_OK(f->Close(IOOptions(), nullptr));
  seam_->OpenGate();
  ASSERT_OK(sst->Close(IOOptions(), nullptr));
  EXPECT_EQ(ReadFile(Path("000020.sst")), "stalled");
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
  EXPECT_EQ(ReadFile(Path("000030.sst")), "behind");
  ASSERT_OK(f->Close(IOOptions(), nullptr));
}

// ---------------------------------------------------------------------------
// Sticky errors.
// ---------------------------------------------------------------------------

// Which call is expected to report a failure of queued work first.
enum class Surface { kAppend, kFlush, kSync, kClose };

struct QueuedFailureCase {
  bool eio;
  Surface surface;
};

std::string CaseName(const ::testing::TestParamInfo<QueuedFailureCase>& p) {
  static const char* const kSurface[] = {"Append", "Flush", "Sync", "Close"};
  return std::string(p.param.eio ? "Eio" : "NoSpace") + "SurfacesOn" +
         kSurface[static_cast<int>(p.param.surface)];
}

class QueuedAppendFailureTest
    : public WriteTest,
      public ::testing::WithParamInterface<QueuedFailureCase> {};

TEST_P(QueuedAppendFailureTest, SurfacesOnTheNextCallStaysAndStopsLaterWrites) {
  const bool eio = GetParam().eio;
  seam_->FailNth(SeamOp::kAppend, ".sst", 3,
                 eio ? InjectedEio() : InjectedNoSpace());
  std::unique_ptr<FSWritableFile> f = Open("000040.sst");
  ASSERT_NE(f, nullptr);
  const std::vector<std::string> parts = Parts(5, 100, 5000);
  // All five are queued before the device sees any; the 3rd then fails on a
  // worker, after the calls that queued it returned OK.
  seam_->CloseGate(".sst");
  AppendAll(f.get(), parts);
  seam_->OpenGate();
  IOStatus first;
  {
    Background b([&] {
      const auto deadline = std::chrono::steady_clock::now() + 10s;
      switch (GetParam().surface) {
        case Surface::kAppend:
        case Surface::kFlush:
          // The failure is asynchronous: poll until the call reports it.
          do {
            first = GetParam().surface == Surface::kAppend
                        ? f->Append("more", IOOptions(), nullptr)
                        : f->Flush(IOOptions(), nullptr);
            if (first.ok()) std::this_thread::sleep_for(1ms);
          } while (first.ok() && std::chrono::steady_clock::now() < deadline);
          break;
        case Surface::kSync:
          first = f->Sync(IOOptions(), nullptr);
          break;
        case Surface::kClose:
          first = f->Close(IOOptions(), nullptr);
          break;
      }
    });
    ASSERT_TRUE(b.Finished(kMustReturn));
  }
  EXPECT_TRUE(IsInjected(first, eio));
  EXPECT_EQ(seam_->fired(), 1);
  ExpectStaysFailed(f.get(), eio);
  EXPECT_TRUE(ReadFile(Path("000040.sst")) == Concat(parts, 2))
      << "data queued after the failed append was written (size "
      << SizeOnDisk(Path("000040.sst")) << ", expected "
      << Concat(parts, 2).size() << ")";
  EXPECT_EQ(StatsOf(*fs_).write_errors, 1u);
}

INSTANTIATE_TEST_SUITE_P(
    WriteBehind, QueuedAppendFailureTest,
    ::testing::Values(QueuedFailureCase{false, Surface::kAppend},
                      QueuedFailureCase{false, Surface::kFlush},
                      QueuedFailureCase{false, Surface::kSync},
                      QueuedFailureCase{false, Surface::kClose},
                      QueuedFailureCase{true, Surface::kAppend},
                      QueuedFailureCase{true, Surface::kFlush},
                      QueuedFailureCase{true, Surface::kSync},
                      QueuedFailureCase{true, Surface::kClose}),
    CaseName);

struct CallerFailureCase {
  bool eio;
  SeamOp op;           // kAppend (write-through only), kSync, kFsync, kClose.
  const char* name;    // File name: decides the policy.
};

std::string CallerCaseName(
    const ::testing::TestParamInfo<CallerFailureCase>& p) {
  static const char* const kOp[] = {"Append", "Sync", "Fsync", "Close",
                                    "Truncate"};
  std::string file = p.param.name;
  file = file.substr(file.find('.') + 1);
  return std::string(p.param.eio ? "Eio" : "NoSpace") + "On" +
         kOp[static_cast<int>(p.param.op)] + "Of_" + file;
}

class CallerFailureTest
    : public WriteTest,
      public ::testing::WithParamInterface<CallerFailureCase> {};

// Failures of operations that run on the caller (every operation of a
// write-through file; Sync/Fsync/Close of a write-behind one) are returned by
// that call itself and stay.
TEST_P(CallerFailureTest, IsReturnedByTheCallAndStays) {
  const CallerFailureCase c = GetParam();
  const std::string suffix = std::string(c.name).substr(
      std::string(c.name).find('.'));
  seam_->FailNth(c.op, suffix, c.op == SeamOp::kAppend ? 3 : 1,
                 c.eio ? InjectedEio() : InjectedNoSpace());
  std::unique_ptr<FSWritableFile> f = Open(c.name);
  ASSERT_NE(f, nullptr);
  const std::vector<std::string> parts = Parts(4, 100, 5000);
  IOStatus first;
  size_t written = 0;  // Parts expected on disk.
  {
    Background b([&] {
      for (size_t i = 0; i < parts.size() && first.ok(); ++i) {
        first = f->Append(parts[i], IOOptions(), nullptr);
        if (first.ok()) first = f->Flush(IOOptions(), nullptr);
        if (first.ok()) written = i + 1;
      }
      if (!first.ok()) return;
      switch (c.op) {
        case SeamOp::kSync:
          first = f->Sync(IOOptions(), nullptr);
          break;
        case SeamOp::kFsync:
          first = f->Fsync(IOOptions(), nullptr);
          break;
        case SeamOp::kClose:
          first = f->Close(IOOptions(), nullptr);
          break;
        default:
          break;
      }
    });
    ASSERT_TRUE(b.Finished(kMustReturn));
  }
  EXPECT_TRUE(IsInjected(first, c.eio));
  EXPECT_EQ(seam_->fired(), 1);
  EXPECT_EQ(written, c.op == SeamOp::kAppend ? 2u : parts.size());
  ExpectStaysFailed(f.get(), c.eio);
  EXPECT_TRUE(ReadFile(Path(c.name)) == Concat(parts, written))
      << "data given after the failure was written";
}

INSTANTIATE_TEST_SUITE_P(
    Caller, CallerFailureTest,
    ::testing::Values(
        CallerFailureCase{false, SeamOp::kAppend, "000050.log"},
        CallerFailureCase{true, SeamOp::kAppend, "000050.log"},
        CallerFailureCase{false, SeamOp::kSync, "000050.log"},
        CallerFailureCase{true, SeamOp::kSync, "000050.log"},
        CallerFailureCase{true, SeamOp::kClose, "000050.log"},
        CallerFailureCase{false, SeamOp::kSync, "000050.sst"},
        CallerFailureCase{true, SeamOp::kSync, "000050.sst"},
        CallerFailureCase{false, SeamOp::kFsync, "000050.sst"},
        CallerFailureCase{true, SeamOp::kFsync, "000050.sst"},
        CallerFailureCase{false, SeamOp::kClose, "000050.sst"},
        CallerFailureCase{true, SeamOp::kClose, "000050.sst"}),
    CallerCaseName);

TEST_F(WriteTest, TruncateFailureOfAWriteBehindFileStays) {
  seam_->FailNth(SeamOp::kTruncate, ".sst", 1, InjectedEio());
  std::unique_ptr<FSWritableFile> f = Open("000055.sst");
  ASSERT_NE(f, nullptr);
  AppendAll(f.get(), {"0123456789"});
  EXPECT_TRUE(IsInjected(f->Truncate(4, IOOptions(), nullptr), true));
  ExpectStaysFailed(f.get(), true);
  EXPECT_EQ(ReadFile(Path("000055.sst")), "0123456789");
}

TEST_F(WriteTest, AFailedFileDoesNotFailOtherFiles) {
  seam_->FailNth(SeamOp::kAppend, "bad.sst", 1, InjectedEio());
  std::unique_ptr<FSWritableFile> bad = Open("000056bad.sst");
  std::unique_ptr<FSWritableFile> good = Open("000056good.sst");
  ASSERT_NE(bad, nullptr);
  ASSERT_NE(good, nullptr);
  bad->Append("lost", IOOptions(), nullptr).PermitUncheckedError();
  ASSERT_OK(good->Append("kept", IOOptions(), nullptr));
  EXPECT_TRUE(IsInjected(bad->Sync(IOOptions(), nullptr), true));
  ASSERT_OK(good->Sync(IOOptions(), nullptr));
  ASSERT_OK(good->Close(IOOptions(), nullptr));
  EXPECT_TRUE(IsInjected(bad->Close(IOOptions(), nullptr), true));
  EXPECT_EQ(ReadFile(Path("000056good.sst")), "kept");
  EXPECT_EQ(ReadFile(Path("000056bad.sst")), "");
}

TEST_F(WriteTest, DestroyingAHandleWithoutCloseWritesItsQueuedData) {
  seam_->SetAppendDelay(".sst", 2ms);
  std::unique_ptr<FSWritableFile> f = Open("000057.sst");
  ASSERT_NE(f, nullptr);
  const std::vector<std::string> parts = Parts(10, 1, 64 << 10);
  AppendAll(f.get(), parts);
  {
    Background b([&] { f.reset(); });
    EXPECT_TRUE(b.Finished(kMustReturn));
  }
  EXPECT_TRUE(ReadFile(Path("000057.sst")) == Concat(parts, parts.size()));
}

// Sync may run concurrently with Append (IsSyncThreadSafe); such a Sync
// covers everything appended before it started.
TEST_F(WriteTest, ConcurrentSyncCoversEverythingAppendedBeforeItStarted) {
  UringFsOptions o;
  o.max_queued_bytes_per_file = 256 << 10;  // Bounds how long a Sync drains.
  Reset(o);
  seam_->SetAppendDelay(".sst", 100us);
  for (const char* name : {"000058.sst", "000058.log"}) {
    SCOPED_TRACE(name);
    std::unique_ptr<FSWritableFile> f = Open(name);
    ASSERT_NE(f, nullptr);
    ASSERT_TRUE(f->IsSyncThreadSafe());
    std::atomic<uint64_t> appended{0};
    std::atomic<bool> stop{false};
    std::thread appender([&] {
      std::mt19937_64 rng(7);
      std::uniform_int_distribution<size_t> size(1, 16 << 10);
      while (!stop) {
        const std::string data = RandomBytes(rng, size(rng));
        EXPECT_OK(f->Append(data, IOOptions(), nullptr));
        EXPECT_OK(f->Flush(IOOptions(), nullptr));
        appended += data.size();
      }
    });
    for (int i = 0; i < 20; ++i) {
      const uint64_t before = appended.load();
      ASSERT_OK(f->Sync(IOOptions(), nullptr));
      ASSERT_GE(SizeOnDisk(Path(name)), before)
          << "Sync returned before bytes appended earlier were written";
      std::this_thread::sleep_for(1ms);
    }
    stop = true;
    appender.join();
    ASSERT_OK(f->Close(IOOptions(), nullptr));
    EXPECT_EQ(SizeOnDisk(Path(name)), appended.load());
  }
}

// ---------------------------------------------------------------------------
// Backpressure: the write budget.
// ---------------------------------------------------------------------------

constexpr uint64_t kBudget = 65536;

TEST_F(WriteTest, AppendBeyondTheFileBudgetWaitsUntilQueuedBytesAreWritten) {
  UringFsOptions o;
  o.max_queued_bytes_per_file = kBudget;
  Reset(o);
  std::unique_ptr<FSWritableFile> f = Open("000060.sst");
  ASSERT_NE(f, nullptr);
  seam_->CloseGate(".sst");
  const std::vector<std::string> parts = Parts(2, kBudget / 2, kBudget / 2);
  AppendAll(f.get(), parts);  // Exactly the budget: admitted.
  ASSERT_TRUE(seam_->WaitForBlocked(1, kMustReturn));
  EXPECT_EQ(StatsOf(*fs_).budget_waits, 0u);
  const std::string extra = RandomBytes(rng_, 16 << 10);
  {
    Background b([&] { EXPECT_OK(f->Append(extra, IOOptions(), nullptr)); });
    EXPECT_FALSE(b.Finished(kStillBlocked))
        << "an append beyond the per-file budget was admitted";
    EXPECT_EQ(StatsOf(*fs_).budget_waits, 1u);
    EXPECT_EQ(StatsOf(*fs_).queued_bytes, kBudget);
    seam_->OpenGate();
    EXPECT_TRUE(b.Finished(kMustReturn));
  }
  ASSERT_OK(f->Close(IOOptions(), nullptr));
  const UringFsStats st = StatsOf(*fs_);
  EXPECT_LE(st.peak_queued_bytes, kBudget);
  EXPECT_EQ(st.queued_bytes, 0u);
  EXPECT_EQ(st.max_queued_bytes_per_file, kBudget);
  EXPECT_TRUE(ReadFile(Path("000060.sst")) == Concat(parts, 2) + extra);
}

TEST_F(WriteTest, AppendLargerThanTheBudgetIsAdmittedWhenTheFileHasNothingQueued) {
  UringFsOptions o;
  o.max_queued_bytes_per_file = kBudget;
  Reset(o);
  std::unique_ptr<FSWritableFile> f = Open("000061.sst");
  ASSERT_NE(f, nullptr);
  seam_->CloseGate(".sst");
  const std::string big = RandomBytes(rng_, kBudget + 40000);
  {
    Background b([&] { EXPECT_OK(f->Append(big, IOOptions(), nullptr)); });
    EXPECT_TRUE(b.Finished(kMustReturn))
        << "an oversized append waited although nothing was queued";
  }
  ASSERT_TRUE(seam_->WaitForBlocked(1, kMustReturn));
  EXPECT_EQ(StatsOf(*fs_).budget_waits, 0u);
  // With it queued, the next append of the file has to wait.
  {
    Background b([&] { EXPECT_OK(f->Append("x", IOOptions(), nullptr)); });
    EXPECT_FALSE(b.Finished(kStillBlocked));
    EXPECT_EQ(StatsOf(*fs_).budget_waits, 1u);
    seam_->OpenGate();
    EXPECT_TRUE(b.Finished(kMustReturn));
  }
  ASSERT_OK(f->Close(IOOptions(), nullptr));
  EXPECT_TRUE(ReadFile(Path("000061.sst")) == big + "x");
}

TEST_F(WriteTest, TotalBudgetIsSharedByAllFiles) {
  UringFsOptions o;
  o.max_queued_bytes = kBudget;
  Reset(o);
  constexpr int kFiles = 5;
  std::vector<std::unique_ptr<FSWritableFile>> files;
  for (int i = 0; i < kFiles; ++i) {
    files.push_back(Open("00007" + std::to_string(i) + ".sst"));
    ASSERT_NE(files.back(), nullptr);
  }
  seam_->CloseGate(".sst");
  std::vector<std::string> data = Parts(kFiles, kBudget / 4, kBudget / 4);
  for (int i = 0; i < kFiles - 1; ++i) {  // 4 x 16 KiB: the whole budget.
    ASSERT_OK(files[i]->Append(data[i], IOOptions(), nullptr));
  }
  EXPECT_EQ(StatsOf(*fs_).budget_waits, 0u);
  {
    Background b([&] {
      EXPECT_OK(files[kFiles - 1]->Append(data[kFiles - 1], IOOptions(),
                                          nullptr));
    });
    EXPECT_FALSE(b.Finished(kStillBlocked))
        << "an append to a fifth file went beyond the total budget";
    EXPECT_EQ(StatsOf(*fs_).budget_waits, 1u);
    seam_->OpenGate();
    EXPECT_TRUE(b.Finished(kMustReturn));
  }
  for (int i = 0; i < kFiles; ++i) {
    ASSERT_OK(files[i]->Close(IOOptions(), nullptr));
    EXPECT_TRUE(ReadFile(Path("00007" + std::to_string(i) + ".sst")) ==
                data[i]);
  }
  EXPECT_LE(StatsOf(*fs_).peak_queued_bytes, kBudget);
}

TEST_F(WriteTest, SlowDeviceKeepsQueuedBytesWithinTheBudget) {
  UringFsOptions o;
  o.max_queued_bytes = kBudget;
  o.max_queued_bytes_per_file = kBudget;
  Reset(o);
  seam_->SetAppendDelay(".sst", 1ms);
  std::unique_ptr<FSWritableFile> a = Open("000080.sst");
  std::unique_ptr<FSWritableFile> b = Open("000081.sst");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  std::string want_a, want_b;
  std::uniform_int_distribution<size_t> size(1, 16 << 10);
  for (int i = 0; i < 200; ++i) {
    const std::string data = RandomBytes(rng_, size(rng_));
    ASSERT_OK((i % 2 == 0 ? a : b)->Append(data, IOOptions(), nullptr));
    (i % 2 == 0 ? want_a : want_b) += data;
    ASSERT_LE(StatsOf(*fs_).queued_bytes, kBudget);
  }
  ASSERT_OK(a->Close(IOOptions(), nullptr));
  ASSERT_OK(b->Close(IOOptions(), nullptr));
  const UringFsStats st = StatsOf(*fs_);
  EXPECT_LE(st.peak_queued_bytes, kBudget);
  EXPECT_GT(st.budget_waits, 0u) << "the slow device never applied pressure";
  EXPECT_TRUE(ReadFile(Path("000080.sst")) == want_a);
  EXPECT_TRUE(ReadFile(Path("000081.sst")) == want_b);
}

// ---------------------------------------------------------------------------
// Direct I/O.
// ---------------------------------------------------------------------------

class DirectWriteTest : public WriteTest {
 protected:
  // Opens `name` with O_DIRECT, or skips the test with the reason.
  std::unique_ptr<FSWritableFile> OpenDirect(const std::string& name) {
    FileOptions fo;
    fo.use_direct_writes = true;
    std::unique_ptr<FSWritableFile> f;
    IOStatus s = fs_->NewWritableFile(Path(name), fo, &f, nullptr);
    if (!s.ok()) {
      skip_reason_ = "O_DIRECT open refused under " + dir_ + ": " + s.ToString();
      return nullptr;
    }
    if (!f->use_direct_io()) {
      skip_reason_ = "the base file system did not open " + name + " for direct I/O";
      return nullptr;
    }
    return f;
  }

  // An aligned buffer of `n` bytes of pattern data.
  std::shared_ptr<char> AlignedBuffer(size_t align, size_t n) {
    void* p = nullptr;
    EXPECT_EQ(::posix_memalign(&p, std::max<size_t>(align, 4096), n + 4096), 0);
    char* c = static_cast<char*>(p);
    for (size_t i = 0; i < n + 4096; ++i) c[i] = static_cast<char>('a' + i % 23);
    return std::shared_ptr<char>(c, [](char* q) { ::free(q); });
  }

  std::string skip_reason_;
};

TEST_F(DirectWriteTest, RefusesMisalignedBufferSizeAndOffsetBeforeWriting) {
  std::unique_ptr<FSWritableFile> f = OpenDirect("000090.sst");
  if (f == nullptr) GTEST_SKIP() << skip_reason_;
  const size_t align = f->GetRequiredBufferAlignment();
  ASSERT_GT(align, 1u);
  std::shared_ptr<char> buf = AlignedBuffer(align, 4 * align);
  struct Bad {
    const char* what;
    Slice data;
    uint64_t offset;
    bool positioned;
  } const cases[] = {
      {"misaligned buffer", Slice(buf.get() + 1, align), 0, true},
      {"misaligned size", Slice(buf.get(), align + 1), 0, true},
      {"misaligned offset", Slice(buf.get(), align), 1, true},
      {"misaligned buffer (Append)", Slice(buf.get() + 1, align), 0, false},
      {"misaligned size (Append)", Slice(buf.get(), align - 1), 0, false},
  };
  for (const Bad& c : cases) {
    IOStatus s = c.positioned
                     ? f->PositionedAppend(c.data, c.offset, IOOptions(), nullptr)
                     : f->Append(c.data, IOOptions(), nullptr);
    EXPECT_TRUE(s.IsInvalidArgument()) << c.what << ": " << s.ToString();
    EXPECT_NE(s.ToString().find("align"), std::string::npos) << s.ToString();
    EXPECT_NE(s.ToString().find(std::to_string(align)), std::string::npos)
        << c.what << ": the message should name the alignment: "
        << s.ToString();
  }
  EXPECT_EQ(SizeOnDisk(Path("000090.sst")), 0u) << "a refused write reached the file";
  EXPECT_EQ(StatsOf(*fs_).appends_queued, 0u);
  f->Close(IOOptions(), nullptr).PermitUncheckedError();
}

TEST_F(DirectWriteTest, AcceptsAlignedPositionedAppends) {
  std::unique_ptr<FSWritableFile> f = OpenDirect("000091.sst");
  if (f == nullptr) GTEST_SKIP() << skip_reason_;
  const size_t align = f->GetRequiredBufferAlignment();
  std::shared_ptr<char> buf = AlignedBuffer(align, 4 * align);
  ASSERT_OK(f->PositionedAppend(Slice(buf.get(), 2 * align), 0, IOOptions(),
                                nullptr));
  ASSERT_OK(f->PositionedAppend(Slice(buf.get() + 2 * align, 2 * align),
                                2 * align, IOOptions(), nullptr));
  EXPECT_EQ(f->GetFileSize(IOOptions(), nullptr), 4 * align);
  ASSERT_OK(f->Close(IOOptions(), nullptr));
  EXPECT_TRUE(ReadFile(Path("000091.sst")) == std::string(buf.get(), 4 * align));
  const UringFsStats st = StatsOf(*fs_);
  EXPECT_EQ(st.appends_queued, 0u) << "direct I/O is never written behind";
  EXPECT_EQ(st.appends_direct, 2u);
}

// ---------------------------------------------------------------------------
// Shutdown.
// ---------------------------------------------------------------------------

TEST_F(WriteTest, DestroyingTheFileSystemDrainsQueuedWrites) {
  std::unique_ptr<FSWritableFile> f = Open("000100.sst");
  ASSERT_NE(f, nullptr);
  seam_->CloseGate(".sst");
  const std::vector<std::string> parts = Parts(6, 1000, 20000);
  AppendAll(f.get(), parts);
  ASSERT_TRUE(seam_->WaitForBlocked(1, kMustReturn));
  std::atomic<bool> opened{false};
  std::thread opener([&] {
    std::this_thread::sleep_for(kStillBlocked);
    opened = true;
    seam_->OpenGate();
  });
  {
    Background b([&] { fs_.reset(); });
    EXPECT_TRUE(b.Finished(kMustReturn));
  }
  opener.join();
  EXPECT_TRUE(opened) << "the file system was destroyed before its queued "
                         "writes could be written";
  EXPECT_TRUE(ReadFile(Path("000100.sst")) == Concat(parts, parts.size()))
      << "queued writes were lost when the file system was destroyed";
  EXPECT_OK(f->Close(IOOptions(), nullptr));
}

TEST_F(WriteTest, AppendAfterTheFileSystemIsGoneFailsAsCancelled) {
  std::unique_ptr<FSWritableFile> f = Open("000101.sst");
  ASSERT_NE(f, nullptr);
  ASSERT_OK(f->Append("before", IOOptions(), nullptr));
  {
    Background b([&] { fs_.reset(); });
    EXPECT_TRUE(b.Finished(kMustReturn));
  }
  // The file outlives its file system: its queued work can only be cancelled.
  IOStatus s;
  {
    Background b([&] {
      f->Append("after", IOOptions(), nullptr).PermitUncheckedError();
      s = f->Sync(IOOptions(), nullptr);
    });
    EXPECT_TRUE(b.Finished(kMustReturn));
  }
  EXPECT_TRUE(s.IsAborted()) << s.ToString();
  EXPECT_NE(s.ToString().find("cancel"), std::string::npos) << s.ToString();
  EXPECT_TRUE(f->Close(IOOptions(), nullptr).IsAborted());
  EXPECT_EQ(ReadFile(Path("000101.sst")), "before");
}

// A thread whose current task (uringfs/task.h) is shut down may still call
// barriers on a file whose writes were queued under another, live task (the
// file system's default task here). Such a barrier may fail, or wait; it must
// not report the queued write as done while the device still holds it.
class ShutDownTaskBarrierTest : public WriteTest {
 protected:
  // Queues one append of `name` under the default task, held at the gate,
  // and returns a task that is already shut down.
  std::shared_ptr<IoTask> QueueHeldAppendAndShutDownTask(
      FSWritableFile* f, const std::string& data) {
    seam_->CloseGate(".sst");
    EXPECT_OK(f->Append(data, IOOptions(), nullptr));
    EXPECT_TRUE(seam_->WaitForBlocked(1, kMustReturn));
    std::shared_ptr<IoTask> task;
    EXPECT_OK(NewIoTask(*fs_, &task));
    if (task != nullptr) task->Shutdown(ShutdownMode::kDrain);
    return task;
  }
};

TEST_F(ShutDownTaskBarrierTest, SyncNeverReturnsOkWhileTheQueuedAppendIsHeld) {
  std::unique_ptr<FSWritableFile> f = Open("000130.sst");
  ASSERT_NE(f, nullptr);
  std::shared_ptr<IoTask> task = QueueHeldAppendAndShutDownTask(f.get(), "held");
  ASSERT_NE(task, nullptr);
  std::atomic<bool> gate_opened{false};
  bool returned_while_held = false;
  uint64_t on_disk = 0;
  IOStatus s;
  {
    Background b([&] {
      IoTaskScope scope(task);
      s = f->Sync(IOOptions(), nullptr);
      returned_while_held = !gate_opened;
      on_disk = SizeOnDisk(Path("000130.sst"));
    });
    b.Finished(kStillBlocked);
    gate_opened = true;
    seam_->OpenGate();
  }
  if (returned_while_held) {
    EXPECT_FALSE(s.ok())
        << "Sync returned OK while the append it covers was still held at the "
           "gate (file on disk then: "
        << on_disk << " bytes of 4)";
  }
  f->Close(IOOptions(), nullptr).PermitUncheckedError();
}

TEST_F(ShutDownTaskBarrierTest,
       GetFileSizeByNameNeverReturnsAShortSizeWhileTheQueuedAppendIsHeld) {
  std::unique_ptr<FSWritableFile> f = Open("000131.sst");
  ASSERT_NE(f, nullptr);
  std::shared_ptr<IoTask> task = QueueHeldAppendAndShutDownTask(f.get(), "held");
  ASSERT_NE(task, nullptr);
  IOStatus s;
  uint64_t size = 0;
  {
    Background b([&] {
      IoTaskScope scope(task);
      s = fs_->GetFileSize(Path("000131.sst"), IOOptions(), &size, nullptr);
    });
    b.Finished(kStillBlocked);
    seam_->OpenGate();
  }
  if (s.ok()) {
    EXPECT_EQ(size, 4u) << "GetFileSize by name did not wait for the queued "
                           "append (its drain marker went to the shut-down "
                           "task and was cancelled at once)";
  }
  ASSERT_OK(f->Close(IOOptions(), nullptr));
}

// ---------------------------------------------------------------------------
// Options.
// ---------------------------------------------------------------------------

std::shared_ptr<FileSystem> FromUri(const std::string& uri) {
  std::shared_ptr<FileSystem> fs;
  rocksdb::Status s =
      FileSystem::CreateFromString(rocksdb::ConfigOptions(), uri, &fs);
  EXPECT_OK(s) << uri;
  return s.ok() ? fs : nullptr;
}

TEST_F(WriteTest, WriteBehindNoneMakesSstAppendsDirect) {
  std::shared_ptr<FileSystem> fs = FromUri("uringfs://?write_behind=none");
  ASSERT_NE(fs, nullptr);
  std::unique_ptr<FSWritableFile> f;
  ASSERT_OK(fs->NewWritableFile(Path("000110.sst"), FileOptions(), &f, nullptr));
  for (int i = 0; i < 3; ++i) ASSERT_OK(f->Append("abc", IOOptions(), nullptr));
  ASSERT_OK(f->Flush(IOOptions(), nullptr));
  EXPECT_EQ(ReadFile(Path("000110.sst")), "abcabcabc");
  ASSERT_OK(f->Close(IOOptions(), nullptr));
  const UringFsStats st = StatsOf(*fs);
  EXPECT_EQ(st.appends_queued, 0u);
  EXPECT_EQ(st.appends_direct, 3u);
}

TEST_F(WriteTest, WriteBehindSstLeavesBlobFilesWriteThrough) {
  std::shared_ptr<FileSystem> fs = FromUri("uringfs://?write_behind=sst");
  ASSERT_NE(fs, nullptr);
  for (const char* name : {"000111.sst", "000112.blob", "000113.ldb"}) {
    std::unique_ptr<FSWritableFile> f;
    ASSERT_OK(fs->NewWritableFile(Path(name), FileOptions(), &f, nullptr));
    ASSERT_OK(f->Append("x", IOOptions(), nullptr));
    ASSERT_OK(f->Close(IOOptions(), nullptr));
  }
  const UringFsStats st = StatsOf(*fs);
  EXPECT_EQ(st.appends_queued, 2u);  // .sst and .ldb
  EXPECT_EQ(st.appends_direct, 1u);  // .blob
}

void ExpectRejectedNaming(const std::string& uri, const std::string& key) {
  std::shared_ptr<FileSystem> fs;
  rocksdb::Status s =
      FileSystem::CreateFromString(rocksdb::ConfigOptions(), uri, &fs);
  EXPECT_TRUE(s.IsInvalidArgument()) << uri << " -> " << s.ToString();
  EXPECT_NE(s.ToString().find(key), std::string::npos)
      << uri << ": the error should name " << key << ": " << s.ToString();
}

TEST_F(WriteTest, BadWriteBehindValuesAreInvalidArgumentNamingTheOption) {
  for (const char* bad : {"sst,sst", "wal", "", "none,sst", "sst,none", "SST",
                          "sst,", ",blob", "blob,blob"}) {
    ExpectRejectedNaming(std::string("uringfs://?write_behind=") + bad,
                         "write_behind");
  }
}

TEST_F(WriteTest, OutOfRangeBudgetsAreInvalidArgumentNamingTheOption) {
  ExpectRejectedNaming("uringfs://?max_queued_bytes=65535", "max_queued_bytes");
  ExpectRejectedNaming("uringfs://?max_queued_bytes=0", "max_queued_bytes");
  ExpectRejectedNaming("uringfs://?max_queued_bytes=68719476737",
                       "max_queued_bytes");
  ExpectRejectedNaming("uringfs://?max_queued_bytes_per_file=4095",
                       "max_queued_bytes_per_file");
  ExpectRejectedNaming("uringfs://?max_queued_bytes_per_file=68719476737",
                       "max_queued_bytes_per_file");
  ExpectRejectedNaming("uringfs://?max_queued_bytes=64k", "max_queued_bytes");
  // The bounds themselves are accepted.
  std::shared_ptr<FileSystem> fs = FromUri(
      "uringfs://?max_queued_bytes=65536&max_queued_bytes_per_file=4096");
  ASSERT_NE(fs, nullptr);
  std::unique_ptr<FSWritableFile> f;
  ASSERT_OK(fs->NewWritableFile(Path("000120.sst"), FileOptions(), &f, nullptr));
  ASSERT_OK(f->Close(IOOptions(), nullptr));
  const UringFsStats st = StatsOf(*fs);
  EXPECT_EQ(st.max_queued_bytes, 65536u);
  EXPECT_EQ(st.max_queued_bytes_per_file, 4096u);
}

}  // namespace
}  // namespace uringfs
