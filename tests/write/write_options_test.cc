// -----------------------------------------------------------------------------
// tests/write/write_options_test.cc
// -----------------------------------------------------------------------------
//
// The write path of uringfs (env/writable_file.h) through `UringFileSystem`
// over the seam (the fixture of write_test_fixture.h): its options.
// write_behind chooses which files are written behind (none, sst); bad
// write_behind values and out-of-range budgets are InvalidArgument naming the
// option.

#include <chrono>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "env/uring_file_system.h"
#include "rocksdb/convenience.h"
#include "rocksdb/file_system.h"
#include "rocksdb/io_status.h"
#include "tests/testing/disk_file.h"
#include "tests/testing/status_matchers.h"
#include "tests/write/write_test_fixture.h"
#include "uringfs/options.h"
#include "uringfs/stats.h"

namespace uringfs {
namespace {

using rocksdb::FileOptions;
using rocksdb::FileSystem;
using rocksdb::FSWritableFile;
using rocksdb::IOOptions;
using testing::ReadFileOnDisk;
using testing::StatsOf;
using testing::WriteTest;
using namespace std::chrono_literals;

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
  ASSERT_OK(
      fs->NewWritableFile(Path("000110.sst"), FileOptions(), &f, nullptr));
  for (int i = 0; i < 3; ++i) ASSERT_OK(f->Append("abc", IOOptions(), nullptr));
  ASSERT_OK(f->Flush(IOOptions(), nullptr));
  EXPECT_EQ(ReadFileOnDisk(Path("000110.sst")), "abcabcabc");
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
  // Sizes take RocksDB's suffixes, strictly, and the same bounds.
  ExpectRejectedNaming("uringfs://?max_queued_bytes=63k", "max_queued_bytes");
  ExpectRejectedNaming("uringfs://?max_queued_bytes=64kb", "max_queued_bytes");
  ExpectRejectedNaming("uringfs://?max_queued_bytes_per_file=3K",
                       "max_queued_bytes_per_file");
  // The bounds themselves are accepted, in RocksDB's size spelling too.
  std::shared_ptr<FileSystem> fs =
      FromUri("uringfs://?max_queued_bytes=64k&max_queued_bytes_per_file=4K");
  ASSERT_NE(fs, nullptr);
  std::unique_ptr<FSWritableFile> f;
  ASSERT_OK(
      fs->NewWritableFile(Path("000120.sst"), FileOptions(), &f, nullptr));
  ASSERT_OK(f->Close(IOOptions(), nullptr));
  const UringFsStats st = StatsOf(*fs);
  EXPECT_EQ(st.max_queued_bytes, 65536u);
  EXPECT_EQ(st.max_queued_bytes_per_file, 4096u);
}

}  // namespace
}  // namespace uringfs
