// What RocksDB trusts after `Flush()` survives the death of the process, for
// every kind of file it writes that way — by default. RocksDB's stacked
// BlobDB (utilities/blob_db, files under `blob_dir/`) appends each value to
// an open `.blob` file, calls `Flush()`, and then logs the value's index in
// the WAL: after a `kill -9` the WAL may point into the blob file, so what
// `Flush()` acknowledged must be in the kernel. uringfs cannot tell that blob
// file from one written by the integrated BlobDB (which syncs before it
// trusts), so by default it writes every `.blob` file through, like the WAL.
//
// Each case runs in a child process that uses uringfs and leaves with
// `_exit` right after `Flush()` — no destructor, no drain, as a crash would
// — and the parent reads the file with plain system calls. The parent never
// uses uringfs itself, so every child starts without worker threads.

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cstdint>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "rocksdb/convenience.h"
#include "rocksdb/file_system.h"
#include "tests/testing/temp_dir.h"
#include "uringfs/options.h"
#include "uringfs/uringfs.h"

namespace uringfs {
namespace {

constexpr size_t kRecord = 64 * 1024;  // One blob record: header+key+value.
constexpr size_t kRecords = 64;        // 4 MiB, then a last record of 4 MiB.
constexpr size_t kTotal = 2 * kRecord * kRecords;

char PatternByte(size_t i) { return static_cast<char>('a' + (i * 7) % 26); }

// Child: appends kRecords records and one large one to `fname` through a
// uringfs file system made from `uri`, flushing after each as stacked BlobDB
// does, then dies at once.
// Exit status 0 if every call returned OK and a new read handle saw every
// byte, 1 if a call failed, 2 if the read came back short or different.
[[noreturn]] void AppendFlushAndDie(const std::string& uri,
                                    const std::string& fname) {
  std::shared_ptr<rocksdb::FileSystem> fs;
  if (!rocksdb::FileSystem::CreateFromString(rocksdb::ConfigOptions(), uri, &fs)
           .ok()) {
    ::_exit(1);
  }
  std::unique_ptr<rocksdb::FSWritableFile> f;
  if (!fs->NewWritableFile(fname, rocksdb::FileOptions(), &f, nullptr).ok()) {
    ::_exit(1);
  }
  std::string data(kTotal, '\0');  // Ready before the first call.
  for (size_t i = 0; i < data.size(); ++i) data[i] = PatternByte(i);
  for (size_t r = 0; r <= kRecords; ++r) {
    const size_t len = r < kRecords ? kRecord : kTotal - r * kRecord;
    const rocksdb::Slice record(data.data() + r * kRecord, len);
    if (!f->Append(record, rocksdb::IOOptions(), nullptr).ok() ||
        !f->Flush(rocksdb::IOOptions(), nullptr).ok()) {
      ::_exit(1);
    }
  }
  // A reader opened now (a Get right after the Put) sees every byte.
  std::unique_ptr<rocksdb::FSRandomAccessFile> r;
  std::string back(kTotal, '\0');
  rocksdb::Slice got;
  if (!fs->NewRandomAccessFile(fname, rocksdb::FileOptions(), &r, nullptr)
           .ok() ||
      !r->Read(0, kTotal, rocksdb::IOOptions(), &got, &back[0], nullptr).ok() ||
      got != rocksdb::Slice(data)) {
    ::_exit(2);
  }
  ::_exit(0);  // No Close, no destructors: as if killed.
}

// Runs AppendFlushAndDie in a child; returns the child's exit status.
int InChild(const std::string& uri, const std::string& fname) {
  const pid_t pid = ::fork();
  if (pid == 0) AppendFlushAndDie(uri, fname);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// How many leading bytes of `fname` are the pattern, and its size.
void ReadBack(const std::string& fname, size_t* good, size_t* size) {
  *good = *size = 0;
  const int fd = ::open(fname.c_str(), O_RDONLY);
  ASSERT_GE(fd, 0) << fname;
  std::string buf(kRecord, '\0');
  bool intact = true;
  for (;;) {
    const ssize_t n = ::read(fd, &buf[0], buf.size());
    ASSERT_GE(n, 0);
    if (n == 0) break;
    for (ssize_t i = 0; i < n; ++i, ++*size) {
      intact = intact && buf[static_cast<size_t>(i)] == PatternByte(*size);
      if (intact) ++*good;
    }
  }
  ::close(fd);
}

class FlushDurabilityTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    dir_ = testing::FreshDir("flush_durability");
    ASSERT_EQ(::mkdir((dir_ + "/blob_dir").c_str(), 0755), 0);
  }
  void TearDown() override { testing::RemoveTree(dir_); }

  std::string dir_;
};

TEST_P(FlushDurabilityTest, FlushedAppendsSurviveProcessDeathByDefault) {
  const std::string fname = dir_ + "/" + GetParam();
  ASSERT_EQ(InChild("uringfs://", fname), 0);
  size_t good = 0, size = 0;
  ReadBack(fname, &good, &size);
  EXPECT_EQ(size, kTotal) << GetParam();
  EXPECT_EQ(good, kTotal) << GetParam();
}

// Every file RocksDB trusts after Flush: WAL, MANIFEST, OPTIONS, temporary
// files, and blob files of both BlobDBs (stacked: under blob_dir/).
INSTANTIATE_TEST_SUITE_P(
    FileKinds, FlushDurabilityTest,
    ::testing::Values("blob_dir/000001.blob", "000002.blob", "000003.log",
                      "MANIFEST-000004", "OPTIONS-000005", "000006.dbtmp"),
    [](const ::testing::TestParamInfo<const char*>& param) {
      std::string name;
      for (const char* c = param.param; *c != '\0'; ++c) {
        name += std::isalnum(static_cast<unsigned char>(*c)) ? *c : '_';
      }
      return name;
    });

TEST(FlushDurabilityDefaultsTest, BlobFilesAreNotWrittenBehindByDefault) {
  EXPECT_EQ(UringFsOptions().write_behind, "none");
}

}  // namespace
}  // namespace uringfs
