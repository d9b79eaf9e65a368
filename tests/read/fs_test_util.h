// -----------------------------------------------------------------------------
// tests/read/fs_test_util.h
// -----------------------------------------------------------------------------
//
// Helpers for tests of uringfs's RocksDB-facing read classes: a file system
// with a chosen io_uring setting, queue depth and fault seam (NewFs); file
// openers that fail the test on error; a MultiRead checked against a pattern
// file (tests/testing/pattern_file.h); a direct-I/O probe.
//
// Thread-safety: stateless; what they return follows the FileSystem rules.
#ifndef URINGFS_TESTS_READ_FS_TEST_UTIL_H_
#define URINGFS_TESTS_READ_FS_TEST_UTIL_H_

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "env/uring/fault_injector.h"
#include "env/uring_file_system.h"
#include "rocksdb/file_system.h"
#include "tests/testing/pattern_file.h"
#include "tests/testing/status_matchers.h"
#include "uringfs/options.h"
#include "uringfs/stats.h"

namespace uringfs {
namespace testing {

// Single reads go through the ring too (`ring_single_reads`), so that the
// fault-injection tests reach the ring's handling of every result; the
// default pread path is the same as `use_io_uring=false`'s.
inline std::shared_ptr<UringFileSystem> NewFs(
    bool use_io_uring, unsigned queue_depth = 128,
    std::shared_ptr<uring::FaultInjector> faults = nullptr) {
  UringFsOptions o;
  o.use_io_uring = use_io_uring;
  o.ring_single_reads = true;
  o.queue_depth = queue_depth;
  return std::make_shared<UringFileSystem>(o, rocksdb::FileSystem::Default(),
                                           std::move(faults));
}

inline std::unique_ptr<rocksdb::FSRandomAccessFile> OpenRandom(
    rocksdb::FileSystem* fs, const std::string& path, bool direct = false) {
  rocksdb::FileOptions fo;
  fo.use_direct_reads = direct;
  std::unique_ptr<rocksdb::FSRandomAccessFile> f;
  rocksdb::IOStatus s = fs->NewRandomAccessFile(path, fo, &f, nullptr);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return f;
}

inline std::unique_ptr<rocksdb::FSSequentialFile> OpenSequential(
    rocksdb::FileSystem* fs, const std::string& path, bool direct = false) {
  rocksdb::FileOptions fo;
  fo.use_direct_reads = direct;
  std::unique_ptr<rocksdb::FSSequentialFile> f;
  rocksdb::IOStatus s = fs->NewSequentialFile(path, fo, &f, nullptr);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return f;
}

// MultiReads `len` bytes at each of `offsets` from `file` (a pattern file of
// `size` bytes, see WritePatternFile) and checks every request's status and
// bytes against the pattern.
inline void ExpectMultiReadMatchesPattern(rocksdb::FSRandomAccessFile* file,
                                          uint64_t size,
                                          const std::vector<uint64_t>& offsets,
                                          size_t len) {
  std::vector<rocksdb::FSReadRequest> reqs(offsets.size());
  std::vector<std::string> bufs(offsets.size(), std::string(len, '\0'));
  for (size_t i = 0; i < reqs.size(); ++i) {
    reqs[i].offset = offsets[i];
    reqs[i].len = len;
    reqs[i].scratch = &bufs[i][0];
  }
  ASSERT_OK(
      file->MultiRead(reqs.data(), reqs.size(), rocksdb::IOOptions(), nullptr));
  for (const rocksdb::FSReadRequest& r : reqs) {
    ASSERT_OK(r.status);
    ASSERT_EQ(r.result.ToString(), Expected(size, r.offset, r.len));
  }
}

// Empty if `path` can be opened with O_DIRECT, else why not.
inline std::string DirectIoUnsupported(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECT | O_CLOEXEC);
  if (fd < 0) {
    return std::string("O_DIRECT open of a file in the test tmp dir failed: ") +
           std::strerror(errno);
  }
  ::close(fd);
  return "";
}

}  // namespace testing
}  // namespace uringfs

#endif  // URINGFS_TESTS_READ_FS_TEST_UTIL_H_
