// Opening a file for writing truncates it; appends another handle of the same
// inode had written behind must land before that, exactly as they would have
// without write-behind (where they were in the kernel before `Append`
// returned). Otherwise they would land in the new, truncated file.

#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "rocksdb/file_system.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/write_behind_options.h"
#include "uringfs/options.h"
#include "uringfs/uringfs.h"

namespace uringfs {
namespace {

std::string Contents(const std::string& fname) {
  std::ifstream in(fname, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(TruncatingOpenTest, QueuedAppendsOfAnotherHandleLandBeforeTheTruncation) {
  const std::string dir = testing::FreshDir("truncating_open");
  const std::string fname = dir + "/000042.sst";  // Written behind.
  std::shared_ptr<rocksdb::FileSystem> fs;
  ASSERT_TRUE(NewUringFileSystem(testing::WriteBehindOptions(), &fs).ok());
  std::unique_ptr<rocksdb::FSWritableFile> a, b;
  ASSERT_TRUE(
      fs->NewWritableFile(fname, rocksdb::FileOptions(), &a, nullptr).ok());
  const std::string chunk(1 << 20, 'a');
  for (int i = 0; i < 64; ++i) {  // 64 MiB queued: still being written.
    ASSERT_TRUE(a->Append(chunk, rocksdb::IOOptions(), nullptr).ok());
  }
  ASSERT_TRUE(
      fs->NewWritableFile(fname, rocksdb::FileOptions(), &b, nullptr).ok());
  ASSERT_TRUE(b->Append("new", rocksdb::IOOptions(), nullptr).ok());
  ASSERT_TRUE(b->Sync(rocksdb::IOOptions(), nullptr).ok());
  // Whatever `a` still had queued would land now.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(Contents(fname), "new");
  ASSERT_TRUE(b->Close(rocksdb::IOOptions(), nullptr).ok());
  a.reset();  // Closes; its own size bookkeeping is stale by design.
  testing::RemoveTree(dir);
}

}  // namespace
}  // namespace uringfs
