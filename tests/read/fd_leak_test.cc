// Threads come and go (RocksDB's thread pools, user threads); uringfs's rings
// must not leak with them: rings are pooled, not thread-local, and closed
// with the file system. Counts /proc/self/fd, which is process-global, hence
// a binary of its own.

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "env/uring_file_system.h"
#include "rocksdb/file_system.h"
#include "tests/read/fs_test_util.h"
#include "tests/testing/async_call.h"
#include "tests/testing/pattern_file.h"
#include "tests/testing/status_matchers.h"
#include "tests/uring/test_util.h"

namespace uringfs {
namespace {

using rocksdb::FSReadRequest;
using rocksdb::IOOptions;
using rocksdb::Slice;
namespace ut = uring::testing;

int OpenFdCount() {
  DIR* d = ::opendir("/proc/self/fd");
  if (d == nullptr) return -1;
  int n = 0;
  while (::readdir(d) != nullptr) ++n;
  ::closedir(d);
  return n;
}

// A few Reads, a MultiRead and a ReadAsync, all checked.
void ReadSome(rocksdb::FileSystem* fs, rocksdb::FSRandomAccessFile* file,
              uint64_t size, uint32_t seed) {
  std::mt19937 rng(seed);
  for (int i = 0; i < 3; ++i) {
    const uint64_t off = rng() % size;
    std::string scratch(4000, '\0');
    Slice result;
    ASSERT_OK(
        file->Read(off, 4000, IOOptions(), &result, &scratch[0], nullptr));
    ASSERT_EQ(result.ToString(), testing::Expected(size, off, 4000));
  }
  std::vector<uint64_t> offsets(8);
  for (uint64_t& o : offsets) o = rng() % size;
  testing::ExpectMultiReadMatchesPattern(file, size, offsets, 2000);
  FSReadRequest areq;
  std::string ascratch(1000, '\0');
  areq.offset = rng() % size;
  areq.len = 1000;
  areq.scratch = &ascratch[0];
  void* h = nullptr;
  rocksdb::IOHandleDeleter del;
  std::string got;
  ASSERT_OK(file->ReadAsync(
      areq, IOOptions(),
      [&](const FSReadRequest& r, void*) { got = r.result.ToString(); },
      nullptr, &h, &del, nullptr));
  std::vector<void*> handles = {h};
  ASSERT_OK(fs->Poll(handles, 1));
  del(h);
  ASSERT_EQ(got, testing::Expected(size, areq.offset, 1000));
}

class FdLeakTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!ut::IoUringAvailable()) {
      GTEST_SKIP() << "io_uring_queue_init fails here; no rings to leak";
    }
    path_ = testing::WritePatternFile("fdleak", kSize);
    ASSERT_FALSE(path_.empty());
  }
  void TearDown() override {
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  static constexpr uint64_t kSize = 1 << 20;
  std::string path_;
};

TEST_F(FdLeakTest, FiftyShortLivedThreadsLeaveNoFdBehind) {
  const int before = OpenFdCount();
  ASSERT_GT(before, 0);
  uint64_t rings = 0;
  {
    auto fs = testing::NewFs(true, 32);
    auto file = testing::OpenRandom(fs.get(), path_);
    ASSERT_NE(file, nullptr);
    // One thread at a time: a single pooled ring serves them all.
    for (int t = 0; t < 25; ++t) {
      std::thread th([&, t] {
        ReadSome(fs.get(), file.get(), kSize, static_cast<uint32_t>(t));
      });
      th.join();
    }
    EXPECT_EQ(fs->GetStats().rings_created, 1u)
        << "rings are not reused across threads";
    // Five at a time: at most five rings.
    for (int wave = 0; wave < 5; ++wave) {
      std::vector<std::thread> threads;
      for (int t = 0; t < 5; ++t) {
        threads.emplace_back([&, wave, t] {
          ReadSome(fs.get(), file.get(), kSize,
                   static_cast<uint32_t>(100 + wave * 5 + t));
        });
      }
      for (auto& th : threads) th.join();
    }
    const UringFsStats st = fs->GetStats();
    rings = st.rings_created;
    EXPECT_LE(rings, 6u) << st.ToString();
    EXPECT_GT(st.ops_uring, 0u);
    // While the file system lives, its rings stay bounded by the peak.
    EXPECT_LE(OpenFdCount(), before + 1 + static_cast<int>(rings) + 1);
  }
  EXPECT_EQ(OpenFdCount(), before)
      << "fds left after destroying the file system (" << rings
      << " rings created)";
}

TEST_F(FdLeakTest, CreatingAndDestroyingFileSystemsLeavesNoFdBehind) {
  const int before = OpenFdCount();
  for (int i = 0; i < 30; ++i) {
    auto fs = testing::NewFs(true, 8);
    auto file = testing::OpenRandom(fs.get(), path_);
    ASSERT_NE(file, nullptr);
    std::thread th([&] {
      ReadSome(fs.get(), file.get(), kSize, static_cast<uint32_t>(i));
    });
    ReadSome(fs.get(), file.get(), kSize, static_cast<uint32_t>(i + 1000));
    th.join();
    ASSERT_FALSE(::testing::Test::HasFatalFailure());
  }
  EXPECT_EQ(OpenFdCount(), before);
}

// A stats snapshot must not set anything up: no ring (an fd and locked
// memory) for a file system that never reads asynchronously.
TEST_F(FdLeakTest, GetStatsSetsUpNoRing) {
  auto fs = testing::NewFs(true, 8);
  auto file = testing::OpenRandom(fs.get(), path_);  // Engine exists now.
  std::string scratch(100, '\0');
  Slice result;
  ASSERT_OK(file->Read(0, 100, IOOptions(), &result, &scratch[0], nullptr));
  const int before = OpenFdCount();
  const UringFsStats st = fs->GetStats();
  EXPECT_TRUE(st.io_uring_in_use);
  EXPECT_EQ(OpenFdCount(), before)
      << "GetStats() opened a file descriptor (an io_uring ring?)";
}

// Ring setup can fail after a successful probe (fd limit, memlock): reads
// must fall back to pread, counted as ring setup failures. RLIMIT_NOFILE is
// lowered so that no new descriptor can be created, then restored.
// Lowers the soft RLIMIT_NOFILE to the lowest free descriptor, so that no
// new descriptor can be opened: `*old` receives the limits to restore,
// `*limited` whether an open(2) now fails.
void ExhaustDescriptors(rlimit* old, bool* limited) {
  const int lowest_free = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(lowest_free, 0);
  ::close(lowest_free);
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, old), 0);
  rlimit low = *old;
  low.rlim_cur = static_cast<rlim_t>(lowest_free);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
  const int probe = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  *limited = probe < 0;
  if (probe >= 0) ::close(probe);
}

TEST_F(FdLeakTest, RingSetupFailingAfterTheProbeFallsBackToPread) {
  auto fs = testing::NewFs(true, 8);
  auto file = testing::OpenRandom(fs.get(), path_);  // Probe done, ring closed.
  ASSERT_NE(file, nullptr);
  // Descriptor 0 must survive failed ring setups (liburing closes ring_fd
  // when a ring that was never set up is torn down: it would be 0).
  const int zero_flags = ::fcntl(0, F_GETFD);
  // No GetStats() here: it would set up the async reader's ring.
  rlimit old{};
  bool limited = false;
  ASSERT_NO_FATAL_FAILURE(ExhaustDescriptors(&old, &limited));

  // A batch: batches always go through a ring (no page-cache shortcut).
  std::vector<FSReadRequest> reqs(2);
  std::vector<std::string> bufs(2, std::string(5000, '\0'));
  for (size_t i = 0; i < 2; ++i) {
    reqs[i].offset = 1000 + i * 9000;
    reqs[i].len = 5000;
    reqs[i].scratch = &bufs[i][0];
  }
  rocksdb::IOStatus s = file->MultiRead(reqs.data(), 2, IOOptions(), nullptr);
  testing::AsyncCall async;
  rocksdb::IOStatus as = async.Start(file.get(), 777, 700);
  std::vector<void*> handles = {async.handle};
  rocksdb::IOStatus ps =
      async.handle != nullptr ? fs->Poll(handles, 1) : rocksdb::IOStatus::OK();
  EXPECT_EQ(::fcntl(0, F_GETFD), zero_flags)
      << "a failed ring setup closed descriptor 0";
  const UringFsStats st = fs->GetStats();
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &old), 0);  // Restore before asserting.
  async.Release();

  ASSERT_TRUE(limited) << "could not exhaust the descriptor limit";
  EXPECT_TRUE(st.io_uring_in_use);
  ASSERT_OK(s);
  for (const FSReadRequest& r : reqs) {
    ASSERT_OK(r.status);
    EXPECT_EQ(r.result.ToString(), testing::Expected(kSize, r.offset, r.len));
  }
  ASSERT_OK(as);
  ASSERT_OK(ps);
  EXPECT_EQ(async.data, testing::Expected(kSize, 777, 700));
  EXPECT_GE(st.ring_setup_failures, 1u) << st.ToString();
  EXPECT_GE(st.ops_pread, 1u) << st.ToString();
}

}  // namespace
}  // namespace uringfs
