// The fallback forced by a real seccomp filter: a child process installs a
// hand-written BPF filter that answers io_uring_setup with EPERM (what
// Docker >= 25's default profile does), then creates a uringfs file system
// with default options. It must report io_uring unavailable with EPERM and
// still read correctly. Process-global (seccomp cannot be undone), hence a
// child process and a binary of its own.

#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "env/uring_file_system.h"
#include "rocksdb/file_system.h"
#include "tests/read/fs_test_util.h"
#include "tests/testing/child_process.h"
#include "tests/testing/pattern_file.h"
#include "tests/testing/seccomp.h"
#include "tests/testing/status_matchers.h"
#include "tests/uring/test_util.h"
#include "uringfs/uringfs.h"

namespace uringfs {
namespace {

using rocksdb::FSReadRequest;
using rocksdb::IOOptions;
using rocksdb::Slice;
namespace ut = uring::testing;

// The child's checks; gtest failures are recorded in the child and turned
// into its exit status.
void ChildChecks(const std::string& path, uint64_t size) {
  const int err = testing::DenySyscall(__NR_io_uring_setup, EPERM);
  ASSERT_EQ(err, 0) << "seccomp: " << std::strerror(err);
  io_uring ring;
  ASSERT_EQ(::io_uring_queue_init(4, &ring, 0), -EPERM)
      << "the filter does not deny io_uring_setup";

  std::shared_ptr<rocksdb::FileSystem> fs;
  ASSERT_OK(NewUringFileSystem(UringFsOptions(), &fs));  // Default options.
  auto file = testing::OpenRandom(fs.get(), path);
  ASSERT_NE(file, nullptr);
  for (uint64_t off : {uint64_t{0}, uint64_t{4095}, size - 10, size + 5}) {
    std::string scratch(20000, '\0');
    Slice result;
    ASSERT_OK(file->Read(off, scratch.size(), IOOptions(), &result, &scratch[0],
                         nullptr));
    ASSERT_EQ(result.ToString(), testing::Expected(size, off, scratch.size()));
  }
  std::vector<uint64_t> offsets(50);
  for (size_t i = 0; i < offsets.size(); ++i) offsets[i] = i * 1700;
  testing::ExpectMultiReadMatchesPattern(file.get(), size, offsets, 3000);
  UringFsStats st;
  ASSERT_OK(GetUringFsStats(*fs, &st));
  EXPECT_FALSE(st.io_uring_in_use) << st.ToString();
  EXPECT_NE(st.io_uring.find(std::strerror(EPERM)), std::string::npos)
      << st.io_uring;
  EXPECT_NE(st.io_uring.find("errno 1"), std::string::npos) << st.io_uring;
  EXPECT_GE(st.ops_pread, 54u) << st.ToString();
  EXPECT_EQ(st.ops_uring, 0u) << st.ToString();
}

TEST(SeccompFallbackTest, IoUringDeniedBySeccompFallsBackToPreadWithEperm) {
  const uint64_t size = 100000;
  const std::string path = testing::WritePatternFile("seccomp", size);
  ASSERT_FALSE(path.empty());
  testing::ExpectChildPasses([&] { ChildChecks(path, size); });
  ::unlink(path.c_str());
}

}  // namespace
}  // namespace uringfs
