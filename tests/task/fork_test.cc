// fork() while uringfs is busy: the child inherits the parent's file system
// object, its writable files with queued work, and its read handles — but
// not its worker threads, and its io_uring rings are shared with the parent.
// In the child, nothing may hang: the parent's file system refuses to open
// files, its writable files refuse to write, its read handles still read
// (with pread), and a file system created in the child works normally. The
// parent is not affected.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "rocksdb/file_system.h"
#include "tests/testing/child_process.h"
#include "tests/testing/pattern_file.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/write_behind_options.h"
#include "uringfs/options.h"
#include "uringfs/uringfs.h"

namespace uringfs {
namespace {

using rocksdb::FileOptions;
using rocksdb::IOOptions;

constexpr size_t kChunk = 1 << 20;
constexpr int kChunks = 8;
constexpr uint64_t kReadSize = 100000;

off_t SizeOf(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? st.st_size : -1;
}

void ExpectForkRefusal(const rocksdb::IOStatus& s) {
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.ToString().find("fork"), std::string::npos) << s.ToString();
}

// The child's checks; failures are recorded and turned into its exit code.
void ChildChecks(std::shared_ptr<rocksdb::FileSystem> parents_fs,
                 std::unique_ptr<rocksdb::FSWritableFile> parents_file,
                 std::unique_ptr<rocksdb::FSRandomAccessFile> parents_reader,
                 const std::string& dir) {
  std::unique_ptr<rocksdb::FSWritableFile> f;
  ExpectForkRefusal(parents_fs->NewWritableFile(dir + "/child.sst",
                                                FileOptions(), &f, nullptr));
  ExpectForkRefusal(parents_file->Append("x", IOOptions(), nullptr));
  ExpectForkRefusal(parents_file->Sync(IOOptions(), nullptr));
  ExpectForkRefusal(parents_file->Close(IOOptions(), nullptr));
  parents_file.reset();

  std::string scratch(5000, '\0');
  rocksdb::Slice got;
  EXPECT_TRUE(
      parents_reader
          ->Read(4321, scratch.size(), IOOptions(), &got, &scratch[0], nullptr)
          .ok());
  EXPECT_EQ(got.ToString(), testing::Expected(kReadSize, 4321, scratch.size()));
  parents_reader.reset();

  std::shared_ptr<rocksdb::FileSystem> own;
  ASSERT_TRUE(NewUringFileSystem(testing::WriteBehindOptions(), &own).ok());
  ASSERT_TRUE(
      own->NewWritableFile(dir + "/own.sst", FileOptions(), &f, nullptr).ok());
  const std::string chunk(kChunk, 'c');
  EXPECT_TRUE(f->Append(chunk, IOOptions(), nullptr).ok());
  EXPECT_TRUE(f->Sync(IOOptions(), nullptr).ok());
  EXPECT_TRUE(f->Close(IOOptions(), nullptr).ok());
  EXPECT_EQ(SizeOf(dir + "/own.sst"), static_cast<off_t>(kChunk));
  parents_fs.reset();  // The last reference here: its destructor must not wait.
}

TEST(ForkTest, ChildNeverHangsOnTheParentsFileSystemAndCanMakeItsOwn) {
  const std::string dir = testing::FreshDir("fork");
  const std::string read_path = dir + "/read.dat";
  ASSERT_TRUE(testing::WritePatternFileAt(read_path, kReadSize));
  std::shared_ptr<rocksdb::FileSystem> fs;
  ASSERT_TRUE(NewUringFileSystem(testing::WriteBehindOptions(), &fs).ok());
  std::unique_ptr<rocksdb::FSRandomAccessFile> reader;
  ASSERT_TRUE(
      fs->NewRandomAccessFile(read_path, FileOptions(), &reader, nullptr).ok());
  std::unique_ptr<rocksdb::FSWritableFile> file;
  ASSERT_TRUE(
      fs->NewWritableFile(dir + "/busy.sst", FileOptions(), &file, nullptr)
          .ok());
  const std::string chunk(kChunk, 'p');
  for (int i = 0; i < kChunks; ++i) {  // Queued: workers are busy.
    ASSERT_TRUE(file->Append(chunk, IOOptions(), nullptr).ok());
  }
  testing::ExpectChildPasses([&] {
    ChildChecks(std::move(fs), std::move(file), std::move(reader), dir);
  });
  // The parent goes on as if nothing happened.
  EXPECT_TRUE(file->Sync(IOOptions(), nullptr).ok());
  EXPECT_TRUE(file->Close(IOOptions(), nullptr).ok());
  EXPECT_EQ(SizeOf(dir + "/busy.sst"), static_cast<off_t>(kChunk * kChunks));
  testing::RemoveTree(dir);
}

}  // namespace
}  // namespace uringfs
