// -----------------------------------------------------------------------------
// tests/conformance_test.cc
// -----------------------------------------------------------------------------
//
// One suite, run against `rocksdb::FileSystem::Default()` and against uringfs
// (from the URI, with and without io_uring, and from the C++ API): uringfs
// must behave like the POSIX file system wherever RocksDB can tell.
//
// How the expectations are obtained:
//   * Contents are checked byte for byte against what the test wrote, and the
//     on-disk bytes are read back with plain std::ifstream, so a write path and
//     a read path that are wrong in the same way cannot hide each other.
//   * Error cases are differential: the test performs the same operation on
//     the same kind of path through `FileSystem::Default()` and requires the
//     file system under test to return the same status code and subcode. No
//     error code is hard-coded from a guess.
//   * Direct-I/O reads are only ever issued aligned: Debian's librocksdb has
//     assertions enabled and aborts on a misaligned direct read.

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "rocksdb/convenience.h"
#include "rocksdb/env.h"
#include "rocksdb/file_system.h"
#include "rocksdb/io_status.h"
#include "rocksdb/slice.h"
#include "rocksdb/status.h"
#include "tests/testing/aligned_buffer.h"
#include "tests/testing/disk_file.h"
#include "tests/testing/status_matchers.h"
#include "uringfs/options.h"
#include "uringfs/uringfs.h"

namespace uringfs {
namespace {

using rocksdb::FileAttributes;
using rocksdb::FileLock;
using rocksdb::FileOptions;
using rocksdb::FileSystem;
using rocksdb::FSDirectory;
using rocksdb::FSRandomAccessFile;
using rocksdb::FSRandomRWFile;
using rocksdb::FSReadRequest;
using rocksdb::FSSequentialFile;
using rocksdb::FSWritableFile;
using rocksdb::IOOptions;
using rocksdb::IOStatus;
using rocksdb::Slice;
using ::uringfs::testing::AlignedBuffer;
using ::uringfs::testing::ExistsOnDisk;
using ::uringfs::testing::ReadFileOnDisk;

// ---------------------------------------------------------------------------
// File systems under test.
// ---------------------------------------------------------------------------

// Options given to the C++ entry point: deliberately small, so that a
// MultiRead of a few hundred requests overflows the ring and a handful of
// concurrent writers share one worker.
UringFsOptions SmallApiOptions() {
  UringFsOptions o;
  o.queue_depth = 4;
  o.write_workers = 1;
  o.use_io_uring = true;
  return o;
}

rocksdb::Status MakeFileSystem(const std::string& which,
                               std::shared_ptr<FileSystem>* fs) {
  if (which == "Default") {
    *fs = FileSystem::Default();
    return rocksdb::Status::OK();
  }
  if (which == "Uringfs") {
    return FileSystem::CreateFromString(rocksdb::ConfigOptions(), "uringfs://",
                                        fs);
  }
  if (which == "UringfsNoIoUring") {
    return FileSystem::CreateFromString(rocksdb::ConfigOptions(),
                                        "uringfs://?use_io_uring=false", fs);
  }
  if (which == "UringfsFromApi") {
    return NewUringFileSystem(SmallApiOptions(), fs);
  }
  return rocksdb::Status::InvalidArgument("unknown file system", which);
}

// ---------------------------------------------------------------------------
// Helpers.
// ---------------------------------------------------------------------------

// `n` pseudo-random bytes covering all 256 values (including NUL).
std::string RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(rng() & 0xff);
  return s;
}

// Writes `data` without RocksDB.
void WriteRaw(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  out.close();
  ASSERT_TRUE(out.good()) << "cannot write " << path;
}

// A readable description of where two byte strings first differ.
::testing::AssertionResult SameBytes(const std::string& got,
                                     const std::string& want) {
  if (got == want) return ::testing::AssertionSuccess();
  size_t i = 0;
  while (i < got.size() && i < want.size() && got[i] == want[i]) ++i;
  return ::testing::AssertionFailure()
         << "contents differ: got " << got.size() << " bytes, want "
         << want.size() << " bytes, first difference at byte " << i;
}

::testing::AssertionResult SameBytes(const Slice& got,
                                     const std::string& want) {
  return SameBytes(got.ToString(), want);
}

// The file system under test answered like the default one: same code and
// same subcode (OK counts as a code).
::testing::AssertionResult SameOutcome(const IOStatus& got,
                                       const IOStatus& want) {
  if (got.code() == want.code() && got.subcode() == want.subcode()) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure()
         << "got \"" << got.ToString() << "\" (code "
         << static_cast<int>(got.code()) << ", subcode "
         << static_cast<int>(got.subcode())
         << ") but FileSystem::Default() answered \"" << want.ToString()
         << "\" (code " << static_cast<int>(want.code()) << ", subcode "
         << static_cast<int>(want.subcode()) << ")";
}

bool IsSomeNotFound(const IOStatus& s) {
  return s.IsNotFound() || s.IsPathNotFound();
}

std::string Sanitize(std::string s) {
  for (char& c : s) {
    if (!isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return s;
}

std::string TestRoot() {
  const char* env = getenv("TEST_TMPDIR");
  std::string root =
      env != nullptr && *env != '\0' ? env : ::testing::TempDir();
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  return root;
}

// ---------------------------------------------------------------------------
// Fixture.
// ---------------------------------------------------------------------------

class ConformanceTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    ASSERT_OK(MakeFileSystem(GetParam(), &fs_));
    ASSERT_NE(fs_, nullptr);
    ref_ = FileSystem::Default();
    ASSERT_NE(ref_, nullptr);

    static std::atomic<int> counter{0};
    const ::testing::TestInfo* info =
        ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = TestRoot() + "/conformance_" + Sanitize(info->name()) + "_" +
           std::to_string(getpid()) + "_" + std::to_string(counter++);
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    ASSERT_TRUE(std::filesystem::create_directories(dir_, ec))
        << dir_ << ": " << ec.message();
  }

  void TearDown() override {
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }

  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

  // Writes `data` through `fs` in appends of varying size, then closes.
  IOStatus WriteWith(FileSystem* fs, const std::string& path,
                     const std::string& data) {
    std::unique_ptr<FSWritableFile> file;
    IOStatus s = fs->NewWritableFile(path, fo_, &file, nullptr);
    if (!s.ok()) return s;
    std::mt19937 rng(static_cast<uint32_t>(data.size()));
    size_t pos = 0;
    while (pos < data.size() && s.ok()) {
      size_t n = std::min<size_t>(data.size() - pos, 1 + rng() % 9000);
      s = file->Append(Slice(data.data() + pos, n), io_, nullptr);
      pos += n;
    }
    if (s.ok()) s = file->Close(io_, nullptr);
    return s;
  }

  // Reads all of `path` through `fs_` with a sequential file.
  IOStatus ReadAllSequential(const std::string& path, std::string* out) {
    out->clear();
    std::unique_ptr<FSSequentialFile> file;
    IOStatus s = fs_->NewSequentialFile(path, fo_, &file, nullptr);
    if (!s.ok()) return s;
    std::string scratch(65536, '\0');
    for (;;) {
      Slice r;
      s = file->Read(scratch.size(), io_, &r, &scratch[0], nullptr);
      if (!s.ok()) return s;
      out->append(r.data(), r.size());
      if (r.size() < scratch.size()) return s;
    }
  }

  // Runs `op` on a path that does not exist through the default file system
  // and through the one under test, and requires the same not-found answer.
  void ExpectMissingPathLikeDefault(
      const std::function<IOStatus(FileSystem*, const std::string&)>& op) {
    for (const std::string& missing :
         {Path("no_such_file"), Path("no_such_dir/no_such_file")}) {
      SCOPED_TRACE(missing);
      IOStatus want = op(ref_.get(), missing);
      IOStatus got = op(fs_.get(), missing);
      EXPECT_TRUE(IsSomeNotFound(want))
          << "FileSystem::Default() answered " << want.ToString();
      EXPECT_TRUE(IsSomeNotFound(got)) << got.ToString();
      EXPECT_TRUE(SameOutcome(got, want));
      EXPECT_FALSE(ExistsOnDisk(missing))
          << "a failed call created " << missing;
    }
  }

  std::shared_ptr<FileSystem> fs_;   // under test
  std::shared_ptr<FileSystem> ref_;  // FileSystem::Default()
  std::string dir_;
  IOOptions io_;
  FileOptions fo_;
};

// ---------------------------------------------------------------------------
// Identity.
// ---------------------------------------------------------------------------

TEST_P(ConformanceTest, FileSystemUnderTestIsTheRequestedImplementation) {
  if (GetParam() == "Default") {
    EXPECT_EQ(fs_.get(), ref_.get());
    return;
  }
  EXPECT_NE(fs_.get(), ref_.get());
  EXPECT_STREQ(fs_->Name(), kClassId);
  const UringFsOptions* opts = fs_->GetOptions<UringFsOptions>();
  ASSERT_NE(opts, nullptr) << "no UringFsOptions registered";
  EXPECT_EQ(opts->use_io_uring, GetParam() != "UringfsNoIoUring");
  if (GetParam() == "UringfsFromApi") {
    EXPECT_EQ(opts->queue_depth, SmallApiOptions().queue_depth);
    EXPECT_EQ(opts->write_workers, SmallApiOptions().write_workers);
  }
}

// ---------------------------------------------------------------------------
// Sequential reads.
// ---------------------------------------------------------------------------

TEST_P(ConformanceTest,
       SequentialReadReturnsExactBytesAndShortResultOnlyAtEof) {
  const std::string data = RandomBytes(300 * 1024 + 17, 1);
  WriteRaw(Path("f"), data);
  std::unique_ptr<FSSequentialFile> file;
  ASSERT_OK(fs_->NewSequentialFile(Path("f"), fo_, &file, nullptr));
  ASSERT_NE(file, nullptr);

  std::mt19937 rng(2);
  std::string got;
  std::vector<char> scratch;
  for (;;) {
    size_t n = 1 + rng() % 20000;
    scratch.assign(n, '\x5a');
    Slice r;
    ASSERT_OK(file->Read(n, io_, &r, scratch.data(), nullptr));
    ASSERT_LE(r.size(), n);
    size_t pos = got.size();
    if (r.size() < n) {
      // Short only because the end of the file was reached.
      ASSERT_EQ(pos + r.size(), data.size()) << "short read before EOF";
    }
    ASSERT_TRUE(SameBytes(r, data.substr(pos, r.size()))) << "at " << pos;
    got.append(r.data(), r.size());
    if (r.size() < n) break;
  }
  EXPECT_TRUE(SameBytes(got, data));

  // At EOF: OK with nothing, repeatedly.
  for (int i = 0; i < 2; ++i) {
    char buf[64];
    Slice r("sentinel");
    EXPECT_OK(file->Read(sizeof buf, io_, &r, buf, nullptr));
    EXPECT_EQ(r.size(), 0u);
  }
}

TEST_P(ConformanceTest, SequentialReadOfExactFileLengthIsFullThenEmpty) {
  const std::string data = RandomBytes(8192, 3);
  WriteRaw(Path("f"), data);
  std::unique_ptr<FSSequentialFile> file;
  ASSERT_OK(fs_->NewSequentialFile(Path("f"), fo_, &file, nullptr));
  std::string scratch(data.size(), '\0');
  Slice r;
  ASSERT_OK(file->Read(data.size(), io_, &r, &scratch[0], nullptr));
  EXPECT_TRUE(SameBytes(r, data));
  Slice r2("sentinel");
  ASSERT_OK(file->Read(10, io_, &r2, &scratch[0], nullptr));
  EXPECT_EQ(r2.size(), 0u);
}

TEST_P(ConformanceTest, SequentialReadOfEmptyFileIsOkAndEmpty) {
  WriteRaw(Path("empty"), "");
  std::unique_ptr<FSSequentialFile> file;
  ASSERT_OK(fs_->NewSequentialFile(Path("empty"), fo_, &file, nullptr));
  char buf[16];
  Slice r("sentinel");
  ASSERT_OK(file->Read(sizeof buf, io_, &r, buf, nullptr));
  EXPECT_EQ(r.size(), 0u);
}

TEST_P(ConformanceTest, SkipAdvancesThePositionByExactlyN) {
  const std::string data = RandomBytes(100000, 4);
  WriteRaw(Path("f"), data);
  std::unique_ptr<FSSequentialFile> file;
  ASSERT_OK(fs_->NewSequentialFile(Path("f"), fo_, &file, nullptr));
  std::string scratch(4096, '\0');
  size_t pos = 0;
  std::mt19937 rng(5);
  while (pos + 5000 < data.size()) {
    size_t skip = rng() % 3000;
    ASSERT_OK(file->Skip(skip));
    pos += skip;
    size_t n = 1 + rng() % scratch.size();
    Slice r;
    ASSERT_OK(file->Read(n, io_, &r, &scratch[0], nullptr));
    ASSERT_TRUE(SameBytes(r, data.substr(pos, n))) << "after skip to " << pos;
    pos += n;
  }
}

TEST_P(ConformanceTest, SkipPastEofIsOkAndLaterReadsAreEmpty) {
  const std::string data = RandomBytes(5000, 6);
  WriteRaw(Path("f"), data);
  std::unique_ptr<FSSequentialFile> file;
  ASSERT_OK(fs_->NewSequentialFile(Path("f"), fo_, &file, nullptr));
  char buf[100];
  Slice r;
  ASSERT_OK(file->Read(100, io_, &r, buf, nullptr));
  ASSERT_TRUE(SameBytes(r, data.substr(0, 100)));
  EXPECT_OK(file->Skip(1u << 20));
  Slice r2("sentinel");
  EXPECT_OK(file->Read(sizeof buf, io_, &r2, buf, nullptr));
  EXPECT_EQ(r2.size(), 0u);
}

// ---------------------------------------------------------------------------
// Random-access reads.
// ---------------------------------------------------------------------------

TEST_P(ConformanceTest, RandomReadsAtRandomOffsetsMatchWrittenBytes) {
  const std::string data = RandomBytes(1024 * 1024 + 333, 7);
  ASSERT_OK(WriteWith(fs_.get(), Path("f"), data));
  ASSERT_TRUE(SameBytes(ReadFileOnDisk(Path("f")), data))
      << "written bytes on disk";

  std::unique_ptr<FSRandomAccessFile> file;
  ASSERT_OK(fs_->NewRandomAccessFile(Path("f"), fo_, &file, nullptr));
  ASSERT_NE(file, nullptr);
  const FSRandomAccessFile* cfile = file.get();  // Read() is const.

  constexpr size_t kGuard = 64;
  std::mt19937_64 rng(8);
  std::vector<char> buf;
  for (int i = 0; i < 400; ++i) {
    uint64_t offset = rng() % (data.size() + 100);
    size_t n = 1 + rng() % 70000;
    buf.assign(n + kGuard, '\x7e');
    Slice r;
    ASSERT_OK(cfile->Read(offset, n, io_, &r, buf.data(), nullptr))
        << "offset " << offset << " n " << n;
    std::string want =
        offset >= data.size() ? std::string() : data.substr(offset, n);
    ASSERT_TRUE(SameBytes(r, want)) << "offset " << offset << " n " << n;
    if (offset + n <= data.size()) {
      ASSERT_EQ(r.size(), n) << "short before EOF";
    }
    for (size_t g = 0; g < kGuard; ++g) {
      ASSERT_EQ(buf[n + g], '\x7e') << "Read wrote past scratch[n-1]";
    }
  }
}

TEST_P(ConformanceTest, ReadPastEndOfFileReturnsShortResult) {
  const std::string data = RandomBytes(10000, 9);
  WriteRaw(Path("f"), data);
  std::unique_ptr<FSRandomAccessFile> file;
  ASSERT_OK(fs_->NewRandomAccessFile(Path("f"), fo_, &file, nullptr));
  std::string scratch(4096, '\0');
  Slice r;
  ASSERT_OK(file->Read(data.size() - 100, 4096, io_, &r, &scratch[0], nullptr));
  EXPECT_TRUE(SameBytes(r, data.substr(data.size() - 100)));
}

TEST_P(ConformanceTest, ReadAtOrAfterEndOfFileReturnsOkAndEmpty) {
  const std::string data = RandomBytes(10000, 10);
  WriteRaw(Path("f"), data);
  std::unique_ptr<FSRandomAccessFile> file;
  ASSERT_OK(fs_->NewRandomAccessFile(Path("f"), fo_, &file, nullptr));
  std::string scratch(4096, '\0');
  for (uint64_t offset : {uint64_t{data.size()}, uint64_t{data.size() + 1},
                          uint64_t{data.size() + 12345}, uint64_t{1} << 40}) {
    Slice r("sentinel");
    EXPECT_OK(file->Read(offset, 4096, io_, &r, &scratch[0], nullptr))
        << "offset " << offset;
    EXPECT_EQ(r.size(), 0u) << "offset " << offset;
  }
}

TEST_P(ConformanceTest, MultiReadFillsEveryRequestWithItsOwnBytes) {
  const std::string data = RandomBytes(1024 * 1024 + 77, 11);
  WriteRaw(Path("f"), data);
  std::unique_ptr<FSRandomAccessFile> file;
  ASSERT_OK(fs_->NewRandomAccessFile(Path("f"), fo_, &file, nullptr));

  // Non-overlapping ranges: cut the file into pieces, keep most of them, one
  // piece that straddles EOF and several that start at or past EOF.
  std::mt19937_64 rng(12);
  struct Range {
    uint64_t offset;
    size_t len;
  };
  std::vector<Range> ranges;
  uint64_t pos = 0;
  while (pos < data.size() - 20000) {
    size_t len = 1 + rng() % 8000;
    if (rng() % 5 != 0) ranges.push_back({pos, len});
    pos += len + rng() % 50;
  }
  ranges.push_back({pos, static_cast<size_t>(data.size() - pos + 5000)});
  ranges.push_back({data.size(), 100});
  for (int i = 1; i <= 8; ++i) {
    ranges.push_back(
        {data.size() + 10000 * i + rng() % 1000, 1 + rng() % 4000});
  }
  std::shuffle(ranges.begin(), ranges.end(), rng);
  ASSERT_GT(ranges.size(), 200u);  // more than a ring's worth of requests

  std::vector<std::string> scratch(ranges.size());
  std::vector<FSReadRequest> reqs(ranges.size());
  for (size_t i = 0; i < ranges.size(); ++i) {
    scratch[i].assign(ranges[i].len, '\0');
    reqs[i].offset = ranges[i].offset;
    reqs[i].len = ranges[i].len;
    reqs[i].scratch = &scratch[i][0];
  }
  ASSERT_OK(file->MultiRead(reqs.data(), reqs.size(), io_, nullptr));
  for (size_t i = 0; i < reqs.size(); ++i) {
    const Range& rg = ranges[i];
    SCOPED_TRACE("request " + std::to_string(i) + " offset " +
                 std::to_string(rg.offset) + " len " + std::to_string(rg.len));
    EXPECT_EQ(reqs[i].offset, rg.offset);
    EXPECT_EQ(reqs[i].len, rg.len);
    EXPECT_OK(reqs[i].status);
    std::string want = rg.offset >= data.size()
                           ? std::string()
                           : data.substr(rg.offset, rg.len);
    EXPECT_TRUE(SameBytes(reqs[i].result, want));
  }
}

TEST_P(ConformanceTest, MultiReadWithOneRequestEqualsRead) {
  const std::string data = RandomBytes(50000, 13);
  WriteRaw(Path("f"), data);
  std::unique_ptr<FSRandomAccessFile> file;
  ASSERT_OK(fs_->NewRandomAccessFile(Path("f"), fo_, &file, nullptr));
  std::string scratch(30000, '\0');
  FSReadRequest req;
  req.offset = 12345;
  req.len = scratch.size();
  req.scratch = &scratch[0];
  ASSERT_OK(file->MultiRead(&req, 1, io_, nullptr));
  EXPECT_OK(req.status);
  EXPECT_TRUE(SameBytes(req.result, data.substr(12345, 30000)));
}

TEST_P(ConformanceTest, PrefetchAnswersLikeDefaultAndLeavesReadsCorrect) {
  const std::string data = RandomBytes(200000, 14);
  WriteRaw(Path("f"), data);
  std::unique_ptr<FSRandomAccessFile> ref_file, file;
  ASSERT_OK(ref_->NewRandomAccessFile(Path("f"), fo_, &ref_file, nullptr));
  ASSERT_OK(fs_->NewRandomAccessFile(Path("f"), fo_, &file, nullptr));
  IOStatus want = ref_file->Prefetch(4096, 65536, io_, nullptr);
  IOStatus got = file->Prefetch(4096, 65536, io_, nullptr);
  EXPECT_TRUE(SameOutcome(got, want));
  std::string scratch(65536, '\0');
  Slice r;
  ASSERT_OK(file->Read(4096, 65536, io_, &r, &scratch[0], nullptr));
  EXPECT_TRUE(SameBytes(r, data.substr(4096, 65536)));
}

TEST_P(ConformanceTest, ConcurrentReadsOfOneFileReturnCorrectBytes) {
  const std::string data = RandomBytes(512 * 1024 + 5, 15);
  WriteRaw(Path("f"), data);
  std::unique_ptr<FSRandomAccessFile> file;
  ASSERT_OK(fs_->NewRandomAccessFile(Path("f"), fo_, &file, nullptr));
  const FSRandomAccessFile* cfile = file.get();

  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(100 + t);
      std::string scratch;
      std::vector<std::string> mscratch(8);
      for (int i = 0; i < 150; ++i) {
        uint64_t offset = rng() % (data.size() + 1000);
        size_t n = 1 + rng() % 20000;
        std::string want =
            offset >= data.size() ? std::string() : data.substr(offset, n);
        if (i % 3 == 0) {
          std::vector<FSReadRequest> reqs(mscratch.size());
          for (size_t k = 0; k < reqs.size(); ++k) {
            mscratch[k].assign(1000, '\0');
            reqs[k].offset = (offset + k * 1000) % data.size() / 1000 * 1000;
            reqs[k].len = 1000;
            reqs[k].scratch = &mscratch[k][0];
          }
          // Non-overlapping: offsets are distinct multiples of 1000.
          std::sort(reqs.begin(), reqs.end(),
                    [](const FSReadRequest& a, const FSReadRequest& b) {
                      return a.offset < b.offset;
                    });
          bool distinct = true;
          for (size_t k = 1; k < reqs.size(); ++k) {
            distinct &= reqs[k].offset != reqs[k - 1].offset;
          }
          if (!distinct) continue;
          IOStatus s = file->MultiRead(reqs.data(), reqs.size(), io_, nullptr);
          for (size_t k = 0; k < reqs.size(); ++k) {
            std::string w = data.substr(reqs[k].offset, 1000);
            if (!s.ok() || !reqs[k].status.ok() ||
                reqs[k].result.ToString() != w) {
              ++failures;
            }
          }
        } else {
          scratch.assign(n, '\0');
          Slice r;
          IOStatus s = cfile->Read(offset, n, io_, &r, &scratch[0], nullptr);
          if (!s.ok() || r.ToString() != want) ++failures;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST_P(ConformanceTest, OpenFileStaysReadableAfterDeleteAndRename) {
  const std::string data = RandomBytes(40000, 16);
  WriteRaw(Path("a"), data);
  WriteRaw(Path("b"), data);
  std::unique_ptr<FSRandomAccessFile> ra;
  std::unique_ptr<FSSequentialFile> seq;
  ASSERT_OK(fs_->NewRandomAccessFile(Path("a"), fo_, &ra, nullptr));
  ASSERT_OK(fs_->NewSequentialFile(Path("b"), fo_, &seq, nullptr));
  ASSERT_OK(fs_->DeleteFile(Path("a"), io_, nullptr));
  ASSERT_OK(fs_->RenameFile(Path("b"), Path("c"), io_, nullptr));
  std::string scratch(data.size() + 10, '\0');
  Slice r;
  ASSERT_OK(ra->Read(0, scratch.size(), io_, &r, &scratch[0], nullptr));
  EXPECT_TRUE(SameBytes(r, data));
  ASSERT_OK(seq->Read(scratch.size(), io_, &r, &scratch[0], nullptr));
  EXPECT_TRUE(SameBytes(r, data));
}

// ---------------------------------------------------------------------------
// Writes.
// ---------------------------------------------------------------------------

TEST_P(ConformanceTest, ManySmallAppendsArePersistedInOrder) {
  const std::string data = RandomBytes(600 * 1024 + 3, 17);
  std::unique_ptr<FSWritableFile> file;
  ASSERT_OK(fs_->NewWritableFile(Path("f"), fo_, &file, nullptr));
  std::mt19937 rng(18);
  size_t pos = 0;
  int appends = 0;
  while (pos < data.size()) {
    size_t n = std::min<size_t>(data.size() - pos, 1 + rng() % 700);
    ASSERT_OK(file->Append(Slice(data.data() + pos, n), io_, nullptr));
    pos += n;
    if (++appends % 37 == 0) {
      ASSERT_OK(file->Flush(io_, nullptr));
    }
  }
  ASSERT_OK(file->Close(io_, nullptr));
  file.reset();
  EXPECT_TRUE(SameBytes(ReadFileOnDisk(Path("f")), data));
  std::string via_fs;
  ASSERT_OK(ReadAllSequential(Path("f"), &via_fs));
  EXPECT_TRUE(SameBytes(via_fs, data));
}

TEST_P(ConformanceTest, NewWritableFileReplacesExistingContents) {
  WriteRaw(Path("f"), RandomBytes(100000, 19));
  const std::string data = RandomBytes(1000, 20);
  ASSERT_OK(WriteWith(fs_.get(), Path("f"), data));
  EXPECT_TRUE(SameBytes(ReadFileOnDisk(Path("f")), data));
}

TEST_P(ConformanceTest, EmptyWritableFileExistsWithSizeZeroAfterClose) {
  std::unique_ptr<FSWritableFile> file;
  ASSERT_OK(fs_->NewWritableFile(Path("f"), fo_, &file, nullptr));
  EXPECT_EQ(file->GetFileSize(io_, nullptr), 0u);
  ASSERT_OK(file->Close(io_, nullptr));
  EXPECT_OK(fs_->FileExists(Path("f"), io_, nullptr));
  uint64_t size = 99;
  ASSERT_OK(fs_->GetFileSize(Path("f"), io_, &size, nullptr));
  EXPECT_EQ(size, 0u);
}

TEST_P(ConformanceTest, GetFileSizeOfOpenWritableFileIsLogicalSizeAfterFlush) {
  const std::string a = RandomBytes(12345, 21), b = RandomBytes(70001, 22);
  std::unique_ptr<FSWritableFile> file;
  ASSERT_OK(fs_->NewWritableFile(Path("f"), fo_, &file, nullptr));
  ASSERT_OK(file->Append(a, io_, nullptr));
  ASSERT_OK(file->Flush(io_, nullptr));
  EXPECT_EQ(file->GetFileSize(io_, nullptr), a.size());
  ASSERT_OK(file->Append(b, io_, nullptr));
  ASSERT_OK(file->Flush(io_, nullptr));
  EXPECT_EQ(file->GetFileSize(io_, nullptr), a.size() + b.size());
  ASSERT_OK(file->Close(io_, nullptr));
  file.reset();
  uint64_t size = 0;
  ASSERT_OK(fs_->GetFileSize(Path("f"), io_, &size, nullptr));
  EXPECT_EQ(size, a.size() + b.size());
  EXPECT_TRUE(SameBytes(ReadFileOnDisk(Path("f")), a + b));
}

TEST_P(ConformanceTest, FlushedDataIsVisibleToNewReadersWhileWriterIsOpen) {
  const std::string a = RandomBytes(30000, 23), b = RandomBytes(5000, 24);
  std::unique_ptr<FSWritableFile> file;
  ASSERT_OK(fs_->NewWritableFile(Path("f"), fo_, &file, nullptr));
  ASSERT_OK(file->Append(a, io_, nullptr));
  ASSERT_OK(file->Flush(io_, nullptr));

  uint64_t size = 0;
  ASSERT_OK(fs_->GetFileSize(Path("f"), io_, &size, nullptr));
  EXPECT_EQ(size, a.size());
  std::unique_ptr<FSRandomAccessFile> reader;
  ASSERT_OK(fs_->NewRandomAccessFile(Path("f"), fo_, &reader, nullptr));
  std::string scratch(a.size() + b.size() + 10, '\0');
  Slice r;
  ASSERT_OK(reader->Read(0, scratch.size(), io_, &r, &scratch[0], nullptr));
  EXPECT_TRUE(SameBytes(r, a));

  // A reader opened earlier sees what is appended and flushed later.
  ASSERT_OK(file->Append(b, io_, nullptr));
  ASSERT_OK(file->Flush(io_, nullptr));
  ASSERT_OK(reader->Read(0, scratch.size(), io_, &r, &scratch[0], nullptr));
  EXPECT_TRUE(SameBytes(r, a + b));
  ASSERT_OK(file->Close(io_, nullptr));
}

TEST_P(ConformanceTest, SyncFsyncAndCloseEachMakeAllPriorAppendsVisible) {
  // Small appends: an implementation that queues or buffers them must still
  // have written them when Sync, Fsync or Close returns.
  const std::string a = RandomBytes(100, 25), b = RandomBytes(3000, 26),
                    c = RandomBytes(3, 27);
  std::unique_ptr<FSWritableFile> file;
  ASSERT_OK(fs_->NewWritableFile(Path("f"), fo_, &file, nullptr));
  ASSERT_OK(file->Append(a, io_, nullptr));
  ASSERT_OK(file->Sync(io_, nullptr));
  EXPECT_TRUE(SameBytes(ReadFileOnDisk(Path("f")), a)) << "after Sync";
  ASSERT_OK(file->Append(b, io_, nullptr));
  ASSERT_OK(file->Fsync(io_, nullptr));
  EXPECT_TRUE(SameBytes(ReadFileOnDisk(Path("f")), a + b)) << "after Fsync";
  ASSERT_OK(file->Append(c, io_, nullptr));
  ASSERT_OK(file->Close(io_, nullptr));
  EXPECT_TRUE(SameBytes(ReadFileOnDisk(Path("f")), a + b + c)) << "after Close";
  file.reset();
  uint64_t size = 0;
  ASSERT_OK(fs_->GetFileSize(Path("f"), io_, &size, nullptr));
  EXPECT_EQ(size, a.size() + b.size() + c.size());
}

TEST_P(ConformanceTest, DestroyingAnUnclosedWritableFileKeepsAppendedData) {
  // RocksDB sometimes drops a writer without Close (e.g. on error paths); the
  // POSIX file closes itself in its destructor.
  const std::string data = RandomBytes(77777, 28);
  {
    std::unique_ptr<FSWritableFile> file;
    ASSERT_OK(fs_->NewWritableFile(Path("f"), fo_, &file, nullptr));
    ASSERT_OK(file->Append(data, io_, nullptr));
    ASSERT_OK(file->Flush(io_, nullptr));
  }
  EXPECT_TRUE(SameBytes(ReadFileOnDisk(Path("f")), data));
}

TEST_P(ConformanceTest, WritableFileTruncateShrinksTheFile) {
  const std::string data = RandomBytes(10000, 29);
  std::unique_ptr<FSWritableFile> file;
  ASSERT_OK(fs_->NewWritableFile(Path("f"), fo_, &file, nullptr));
  ASSERT_OK(file->Append(data, io_, nullptr));
  ASSERT_OK(file->Flush(io_, nullptr));
  ASSERT_OK(file->Truncate(4000, io_, nullptr));
  EXPECT_EQ(file->GetFileSize(io_, nullptr), 4000u);
  ASSERT_OK(file->Close(io_, nullptr));
  file.reset();
  EXPECT_TRUE(SameBytes(ReadFileOnDisk(Path("f")), data.substr(0, 4000)));
}

TEST_P(ConformanceTest, FileSystemTruncateAnswersLikeDefault) {
  const std::string data = RandomBytes(10000, 30);
  WriteRaw(Path("ref"), data);
  WriteRaw(Path("f"), data);
  IOStatus want = ref_->Truncate(Path("ref"), 2500, io_, nullptr);
  IOStatus got = fs_->Truncate(Path("f"), 2500, io_, nullptr);
  EXPECT_TRUE(got.ok() || got.IsNotSupported()) << got.ToString();
  EXPECT_TRUE(SameOutcome(got, want));
  // Whatever the answer, the file then looks like the default left it.
  EXPECT_TRUE(
      SameBytes(ReadFileOnDisk(Path("f")), ReadFileOnDisk(Path("ref"))));
  if (want.ok()) {
    EXPECT_TRUE(SameBytes(ReadFileOnDisk(Path("f")), data.substr(0, 2500)));
  }
}

TEST_P(ConformanceTest, ReopenWritableFileAppendsAfterExistingContent) {
  const std::string old_data = RandomBytes(12345, 31);
  const std::string more = RandomBytes(5555, 32);
  WriteRaw(Path("f"), old_data);
  std::unique_ptr<FSWritableFile> file;
  ASSERT_OK(fs_->ReopenWritableFile(Path("f"), fo_, &file, nullptr));
  ASSERT_NE(file, nullptr);
  ASSERT_OK(file->Append(more, io_, nullptr));
  ASSERT_OK(file->Flush(io_, nullptr));
  const uint64_t logical = file->GetFileSize(io_, nullptr);
  ASSERT_OK(file->Close(io_, nullptr));
  file.reset();
  EXPECT_TRUE(SameBytes(ReadFileOnDisk(Path("f")), old_data + more));

  // The writer's logical size after reopening is whatever POSIX reports.
  WriteRaw(Path("ref"), old_data);
  std::unique_ptr<FSWritableFile> ref_file;
  ASSERT_OK(ref_->ReopenWritableFile(Path("ref"), fo_, &ref_file, nullptr));
  ASSERT_OK(ref_file->Append(more, io_, nullptr));
  ASSERT_OK(ref_file->Flush(io_, nullptr));
  EXPECT_EQ(logical, ref_file->GetFileSize(io_, nullptr))
      << "GetFileSize() of a reopened writer differs from "
         "FileSystem::Default()";
  ASSERT_OK(ref_file->Close(io_, nullptr));
}

TEST_P(ConformanceTest, ReopenWritableFileCreatesAMissingFile) {
  std::unique_ptr<FSWritableFile> ref_file;
  IOStatus want =
      ref_->ReopenWritableFile(Path("ref"), fo_, &ref_file, nullptr);
  if (ref_file) {
    ASSERT_OK(ref_file->Close(io_, nullptr));
  }
  std::unique_ptr<FSWritableFile> file;
  IOStatus got = fs_->ReopenWritableFile(Path("f"), fo_, &file, nullptr);
  ASSERT_TRUE(SameOutcome(got, want));
  if (!want.ok()) return;
  const std::string data = RandomBytes(999, 33);
  ASSERT_OK(file->Append(data, io_, nullptr));
  ASSERT_OK(file->Close(io_, nullptr));
  EXPECT_TRUE(SameBytes(ReadFileOnDisk(Path("f")), data));
}

TEST_P(ConformanceTest, ReuseWritableFileRenamesAndOverwritesFromTheStart) {
  const std::string old_data = RandomBytes(20000, 34);
  const std::string fresh = RandomBytes(3000, 35);
  WriteRaw(Path("old.log"), old_data);
  std::unique_ptr<FSWritableFile> file;
  ASSERT_OK(fs_->ReuseWritableFile(Path("new.log"), Path("old.log"), fo_, &file,
                                   nullptr));
  ASSERT_NE(file, nullptr);
  EXPECT_TRUE(fs_->FileExists(Path("old.log"), io_, nullptr).IsNotFound());
  ASSERT_OK(file->Append(fresh, io_, nullptr));
  ASSERT_OK(file->Sync(io_, nullptr));
  EXPECT_EQ(file->GetFileSize(io_, nullptr), fresh.size());
  ASSERT_OK(file->Close(io_, nullptr));
  file.reset();
  EXPECT_FALSE(ExistsOnDisk(Path("old.log")));
  // POSIX reuse overwrites in place: the old tail stays behind the new data.
  EXPECT_TRUE(SameBytes(ReadFileOnDisk(Path("new.log")),
                        fresh + old_data.substr(fresh.size())));
}

TEST_P(ConformanceTest, ReuseWritableFileOfMissingFileAnswersLikeDefault) {
  std::unique_ptr<FSWritableFile> ref_file, file;
  IOStatus want = ref_->ReuseWritableFile(Path("ref_new"), Path("ref_old"), fo_,
                                          &ref_file, nullptr);
  IOStatus got =
      fs_->ReuseWritableFile(Path("new"), Path("old"), fo_, &file, nullptr);
  EXPECT_FALSE(got.ok()) << "reused a file that does not exist";
  EXPECT_EQ(file == nullptr, !got.ok());
  EXPECT_TRUE(SameOutcome(got, want));
  EXPECT_EQ(ExistsOnDisk(Path("new")), ExistsOnDisk(Path("ref_new")));
  if (ref_file) {
    EXPECT_OK(ref_file->Close(io_, nullptr));
  }
  if (file) {
    EXPECT_OK(file->Close(io_, nullptr));
  }
}

TEST_P(ConformanceTest, ConcurrentWritersToSeparateFilesKeepTheirOwnBytes) {
  constexpr int kFiles = 6;
  std::vector<std::string> data;
  for (int i = 0; i < kFiles; ++i)
    data.push_back(RandomBytes(200000 + i, 40 + i));
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kFiles; ++i) {
    threads.emplace_back([&, i] {
      std::unique_ptr<FSWritableFile> file;
      if (!fs_->NewWritableFile(Path("f" + std::to_string(i)), fo_, &file,
                                nullptr)
               .ok()) {
        ++failures;
        return;
      }
      std::mt19937 rng(i);
      size_t pos = 0;
      while (pos < data[i].size()) {
        size_t n = std::min<size_t>(data[i].size() - pos, 1 + rng() % 3000);
        if (!file->Append(Slice(data[i].data() + pos, n), io_, nullptr).ok()) {
          ++failures;
        }
        pos += n;
        if (rng() % 16 == 0 && !file->Flush(io_, nullptr).ok()) ++failures;
      }
      if (!file->Sync(io_, nullptr).ok()) ++failures;
      if (!file->Close(io_, nullptr).ok()) ++failures;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  for (int i = 0; i < kFiles; ++i) {
    EXPECT_TRUE(
        SameBytes(ReadFileOnDisk(Path("f" + std::to_string(i))), data[i]))
        << "file " << i;
  }
}

// ---------------------------------------------------------------------------
// Random read-write files.
// ---------------------------------------------------------------------------

TEST_P(ConformanceTest, RandomRWFileReadsBackItsOwnWritesAtAnyOffset) {
  std::string model = RandomBytes(20000, 50);
  WriteRaw(Path("f"), model);
  std::unique_ptr<FSRandomRWFile> file;
  ASSERT_OK(fs_->NewRandomRWFile(Path("f"), fo_, &file, nullptr));
  ASSERT_NE(file, nullptr);
  std::mt19937_64 rng(51);
  std::string scratch;
  for (int i = 0; i < 60; ++i) {
    uint64_t offset = rng() % (model.size() + 3000);  // may extend the file
    std::string chunk = RandomBytes(1 + rng() % 4000, 1000 + i);
    ASSERT_OK(file->Write(offset, chunk, io_, nullptr));
    if (offset > model.size()) model.resize(offset, '\0');  // a hole reads 0
    if (offset + chunk.size() > model.size()) {
      model.resize(offset + chunk.size());
    }
    model.replace(offset, chunk.size(), chunk);

    uint64_t roff = rng() % (model.size() + 100);
    size_t n = 1 + rng() % 8000;
    scratch.assign(n, '\0');
    Slice r;
    ASSERT_OK(file->Read(roff, n, io_, &r, &scratch[0], nullptr));
    std::string want = roff >= model.size() ? "" : model.substr(roff, n);
    ASSERT_TRUE(SameBytes(r, want))
        << "read " << roff << "+" << n << " after write " << i;
  }
  ASSERT_OK(file->Flush(io_, nullptr));
  ASSERT_OK(file->Sync(io_, nullptr));
  EXPECT_TRUE(SameBytes(ReadFileOnDisk(Path("f")), model)) << "after Sync";
  ASSERT_OK(file->Fsync(io_, nullptr));
  ASSERT_OK(file->Close(io_, nullptr));
  file.reset();
  EXPECT_TRUE(SameBytes(ReadFileOnDisk(Path("f")), model)) << "after Close";
}

TEST_P(ConformanceTest, RandomRWFileOfMissingFileAnswersLikeDefault) {
  std::unique_ptr<FSRandomRWFile> ref_file, file;
  IOStatus want = ref_->NewRandomRWFile(Path("ref"), fo_, &ref_file, nullptr);
  IOStatus got = fs_->NewRandomRWFile(Path("f"), fo_, &file, nullptr);
  EXPECT_EQ(file == nullptr, !got.ok());
  EXPECT_TRUE(SameOutcome(got, want));
  EXPECT_EQ(ExistsOnDisk(Path("f")), ExistsOnDisk(Path("ref")));
  if (ref_file) {
    EXPECT_OK(ref_file->Close(io_, nullptr));
  }
  if (file) {
    EXPECT_OK(file->Close(io_, nullptr));
  }
}

// ---------------------------------------------------------------------------
// Names: rename, link, delete, existence, metadata.
// ---------------------------------------------------------------------------

TEST_P(ConformanceTest, RenameFileMovesContentsToTheNewName) {
  const std::string data = RandomBytes(4321, 60);
  WriteRaw(Path("a"), data);
  ASSERT_OK(fs_->RenameFile(Path("a"), Path("b"), io_, nullptr));
  EXPECT_TRUE(fs_->FileExists(Path("a"), io_, nullptr).IsNotFound());
  EXPECT_OK(fs_->FileExists(Path("b"), io_, nullptr));
  EXPECT_TRUE(SameBytes(ReadFileOnDisk(Path("b")), data));
}

TEST_P(ConformanceTest, RenameFileReplacesAnExistingTarget) {
  const std::string data = RandomBytes(1234, 61);
  WriteRaw(Path("src"), data);
  WriteRaw(Path("dst"), RandomBytes(99999, 62));
  ASSERT_OK(fs_->RenameFile(Path("src"), Path("dst"), io_, nullptr));
  EXPECT_FALSE(ExistsOnDisk(Path("src")));
  EXPECT_TRUE(SameBytes(ReadFileOnDisk(Path("dst")), data));
  uint64_t size = 0;
  ASSERT_OK(fs_->GetFileSize(Path("dst"), io_, &size, nullptr));
  EXPECT_EQ(size, data.size());
}

TEST_P(ConformanceTest, LinkFileMakesASecondNameForTheSameFile) {
  const std::string data = RandomBytes(2222, 63);
  WriteRaw(Path("a"), data);
  IOStatus want_link =
      ref_->LinkFile(Path("a"), Path("ref_link"), io_, nullptr);
  IOStatus got_link = fs_->LinkFile(Path("a"), Path("b"), io_, nullptr);
  ASSERT_TRUE(SameOutcome(got_link, want_link));
  if (!want_link.ok())
    GTEST_SKIP() << "no hard links here: " << want_link.ToString();
  ASSERT_OK(ref_->DeleteFile(Path("ref_link"), io_, nullptr));

  EXPECT_TRUE(SameBytes(ReadFileOnDisk(Path("b")), data));
  uint64_t links = 0;
  ASSERT_OK(fs_->NumFileLinks(Path("a"), io_, &links, nullptr));
  EXPECT_EQ(links, 2u);
  bool same = false;
  ASSERT_OK(fs_->AreFilesSame(Path("a"), Path("b"), io_, &same, nullptr));
  EXPECT_TRUE(same);

  ASSERT_OK(fs_->DeleteFile(Path("a"), io_, nullptr));
  EXPECT_TRUE(SameBytes(ReadFileOnDisk(Path("b")), data));
  ASSERT_OK(fs_->NumFileLinks(Path("b"), io_, &links, nullptr));
  EXPECT_EQ(links, 1u);
}

TEST_P(ConformanceTest, LinkFileOntoAnExistingNameAnswersLikeDefault) {
  WriteRaw(Path("a"), "aaa");
  WriteRaw(Path("b"), "bbb");
  IOStatus want = ref_->LinkFile(Path("a"), Path("b"), io_, nullptr);
  WriteRaw(Path("b"), "bbb");  // in case the default replaced it
  IOStatus got = fs_->LinkFile(Path("a"), Path("b"), io_, nullptr);
  EXPECT_FALSE(got.ok()) << "link(2) never replaces an existing name";
  EXPECT_TRUE(SameOutcome(got, want));
  if (!want.ok()) {
    EXPECT_EQ(ReadFileOnDisk(Path("b")), "bbb");
  }
}

TEST_P(ConformanceTest, AreFilesSameIsFalseForDistinctFiles) {
  WriteRaw(Path("a"), "same bytes");
  WriteRaw(Path("b"), "same bytes");
  bool same = true;
  ASSERT_OK(fs_->AreFilesSame(Path("a"), Path("b"), io_, &same, nullptr));
  EXPECT_FALSE(same);
  same = false;
  ASSERT_OK(fs_->AreFilesSame(Path("a"), Path("a"), io_, &same, nullptr));
  EXPECT_TRUE(same);
}

TEST_P(ConformanceTest, NumFileLinksOfAFreshFileIsOne) {
  WriteRaw(Path("a"), "x");
  uint64_t links = 0;
  ASSERT_OK(fs_->NumFileLinks(Path("a"), io_, &links, nullptr));
  EXPECT_EQ(links, 1u);
}

TEST_P(ConformanceTest, DeleteFileRemovesTheName) {
  WriteRaw(Path("a"), "data");
  WriteRaw(Path("keep"), "data");
  ASSERT_OK(fs_->DeleteFile(Path("a"), io_, nullptr));
  EXPECT_FALSE(ExistsOnDisk(Path("a")));
  EXPECT_TRUE(fs_->FileExists(Path("a"), io_, nullptr).IsNotFound());
  std::vector<std::string> children;
  ASSERT_OK(fs_->GetChildren(dir_, io_, &children, nullptr));
  EXPECT_EQ(children, std::vector<std::string>{"keep"});
}

TEST_P(ConformanceTest, FileExistsIsOkForFilesAndDirectories) {
  WriteRaw(Path("a"), "");
  ASSERT_TRUE(std::filesystem::create_directory(Path("d")));
  EXPECT_OK(fs_->FileExists(Path("a"), io_, nullptr));
  EXPECT_OK(fs_->FileExists(Path("d"), io_, nullptr));
  EXPECT_OK(fs_->FileExists(dir_, io_, nullptr));
}

TEST_P(ConformanceTest, GetFileModificationTimeIsCurrentAndMatchesDefault) {
  const uint64_t before = static_cast<uint64_t>(time(nullptr));
  ASSERT_OK(WriteWith(fs_.get(), Path("a"), "hello"));
  const uint64_t after = static_cast<uint64_t>(time(nullptr));
  uint64_t got = 0, want = 0;
  ASSERT_OK(fs_->GetFileModificationTime(Path("a"), io_, &got, nullptr));
  ASSERT_OK(ref_->GetFileModificationTime(Path("a"), io_, &want, nullptr));
  EXPECT_EQ(got, want);
  EXPECT_GE(got + 1, before);
  EXPECT_LE(got, after + 1);

  // An older file reports its older time.
  WriteRaw(Path("old"), "x");
  struct timespec times[2] = {{1000000000, 0}, {1000000000, 0}};
  ASSERT_EQ(utimensat(AT_FDCWD, Path("old").c_str(), times, 0), 0);
  ASSERT_OK(fs_->GetFileModificationTime(Path("old"), io_, &got, nullptr));
  EXPECT_EQ(got, 1000000000u);
}

TEST_P(ConformanceTest, IsDirectoryDistinguishesDirectoriesFromFiles) {
  WriteRaw(Path("a"), "x");
  ASSERT_TRUE(std::filesystem::create_directory(Path("d")));
  bool is_dir = false;
  ASSERT_OK(fs_->IsDirectory(Path("d"), io_, &is_dir, nullptr));
  EXPECT_TRUE(is_dir);
  is_dir = true;
  ASSERT_OK(fs_->IsDirectory(Path("a"), io_, &is_dir, nullptr));
  EXPECT_FALSE(is_dir);
}

TEST_P(ConformanceTest, GetAbsolutePathMatchesDefault) {
  for (const std::string& p :
       {std::string("relative/name"), Path("x"), std::string("/")}) {
    std::string want, got;
    IOStatus ws = ref_->GetAbsolutePath(p, io_, &want, nullptr);
    IOStatus gs = fs_->GetAbsolutePath(p, io_, &got, nullptr);
    EXPECT_TRUE(SameOutcome(gs, ws)) << p;
    EXPECT_EQ(got, want) << p;
    ASSERT_OK(gs);
    ASSERT_FALSE(got.empty());
    EXPECT_EQ(got[0], '/') << got;
    if (p[0] == '/') {
      EXPECT_EQ(got, p);
    }
  }
}

// ---------------------------------------------------------------------------
// Directories.
// ---------------------------------------------------------------------------

TEST_P(ConformanceTest, CreateDirMakesADirectoryAndFailsIfItExists) {
  ASSERT_OK(fs_->CreateDir(Path("d"), io_, nullptr));
  EXPECT_TRUE(std::filesystem::is_directory(Path("d")));
  ASSERT_TRUE(std::filesystem::create_directory(Path("ref")));
  IOStatus want = ref_->CreateDir(Path("ref"), io_, nullptr);
  IOStatus got = fs_->CreateDir(Path("d"), io_, nullptr);
  EXPECT_FALSE(got.ok());
  EXPECT_TRUE(SameOutcome(got, want));
}

TEST_P(ConformanceTest, CreateDirInAMissingParentAnswersLikeDefault) {
  IOStatus want = ref_->CreateDir(Path("nope/ref"), io_, nullptr);
  IOStatus got = fs_->CreateDir(Path("nope/d"), io_, nullptr);
  EXPECT_FALSE(got.ok());
  EXPECT_TRUE(SameOutcome(got, want));
}

TEST_P(ConformanceTest, CreateDirIfMissingIsOkWhetherOrNotTheDirectoryExists) {
  ASSERT_OK(fs_->CreateDirIfMissing(Path("d"), io_, nullptr));
  EXPECT_TRUE(std::filesystem::is_directory(Path("d")));
  WriteRaw(Path("d/file"), "x");
  ASSERT_OK(fs_->CreateDirIfMissing(Path("d"), io_, nullptr));
  EXPECT_TRUE(ExistsOnDisk(Path("d/file")))
      << "existing directory was replaced";
}

TEST_P(ConformanceTest, CreateDirIfMissingOverAFileAnswersLikeDefault) {
  WriteRaw(Path("ref"), "x");
  WriteRaw(Path("f"), "x");
  IOStatus want = ref_->CreateDirIfMissing(Path("ref"), io_, nullptr);
  IOStatus got = fs_->CreateDirIfMissing(Path("f"), io_, nullptr);
  EXPECT_FALSE(got.ok()) << "a regular file is not a directory";
  EXPECT_TRUE(SameOutcome(got, want));
  EXPECT_EQ(ReadFileOnDisk(Path("f")), "x");
}

TEST_P(ConformanceTest, GetChildrenListsExactlyTheEntries) {
  std::vector<std::string> want = {"a", "b.sst", "LOCK", "sub", "zero"};
  WriteRaw(Path("a"), "1");
  WriteRaw(Path("b.sst"), "22");
  WriteRaw(Path("LOCK"), "");
  WriteRaw(Path("zero"), "");
  ASSERT_TRUE(std::filesystem::create_directory(Path("sub")));
  std::vector<std::string> got = {"stale entry"};
  ASSERT_OK(fs_->GetChildren(dir_, io_, &got, nullptr));
  std::sort(got.begin(), got.end());
  std::sort(want.begin(), want.end());
  EXPECT_EQ(got, want);

  std::vector<std::string> ref_got;
  ASSERT_OK(ref_->GetChildren(dir_, io_, &ref_got, nullptr));
  std::sort(ref_got.begin(), ref_got.end());
  EXPECT_EQ(got, ref_got);
}

TEST_P(ConformanceTest, GetChildrenOfAnEmptyDirectoryIsEmpty) {
  ASSERT_TRUE(std::filesystem::create_directory(Path("empty")));
  std::vector<std::string> got = {"stale entry"};
  ASSERT_OK(fs_->GetChildren(Path("empty"), io_, &got, nullptr));
  EXPECT_TRUE(got.empty()) << got.size() << " entries, first " << got[0];
}

TEST_P(ConformanceTest, GetChildrenFileAttributesReportsNamesAndSizes) {
  WriteRaw(Path("a"), RandomBytes(12345, 70));
  WriteRaw(Path("b"), "");
  WriteRaw(Path("c"), RandomBytes(1, 71));
  std::vector<FileAttributes> got;
  ASSERT_OK(fs_->GetChildrenFileAttributes(dir_, io_, &got, nullptr));
  std::sort(got.begin(), got.end(),
            [](const FileAttributes& x, const FileAttributes& y) {
              return x.name < y.name;
            });
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].name, "a");
  EXPECT_EQ(got[0].size_bytes, 12345u);
  EXPECT_EQ(got[1].name, "b");
  EXPECT_EQ(got[1].size_bytes, 0u);
  EXPECT_EQ(got[2].name, "c");
  EXPECT_EQ(got[2].size_bytes, 1u);
}

TEST_P(ConformanceTest, DeleteDirOfANonEmptyDirectoryFailsLikeDefault) {
  ASSERT_TRUE(std::filesystem::create_directory(Path("ref")));
  ASSERT_TRUE(std::filesystem::create_directory(Path("d")));
  WriteRaw(Path("ref/f"), "x");
  WriteRaw(Path("d/f"), "x");
  IOStatus want = ref_->DeleteDir(Path("ref"), io_, nullptr);
  IOStatus got = fs_->DeleteDir(Path("d"), io_, nullptr);
  EXPECT_FALSE(want.ok());
  EXPECT_FALSE(got.ok());
  EXPECT_TRUE(SameOutcome(got, want));
  EXPECT_EQ(ReadFileOnDisk(Path("d/f")), "x");
}

TEST_P(ConformanceTest, DeleteDirRemovesAnEmptyDirectory) {
  ASSERT_TRUE(std::filesystem::create_directory(Path("d")));
  ASSERT_OK(fs_->DeleteDir(Path("d"), io_, nullptr));
  EXPECT_FALSE(ExistsOnDisk(Path("d")));
  EXPECT_TRUE(fs_->FileExists(Path("d"), io_, nullptr).IsNotFound());
}

TEST_P(ConformanceTest, NewDirectoryCanBeFsyncedAndClosed) {
  ASSERT_OK(WriteWith(fs_.get(), Path("a"), "payload"));
  std::unique_ptr<FSDirectory> dir;
  ASSERT_OK(fs_->NewDirectory(dir_, io_, &dir, nullptr));
  ASSERT_NE(dir, nullptr);
  EXPECT_OK(dir->Fsync(io_, nullptr));
  EXPECT_OK(dir->FsyncWithDirOptions(io_, nullptr, rocksdb::DirFsyncOptions()));
  EXPECT_OK(dir->Close(io_, nullptr));
}

// ---------------------------------------------------------------------------
// Locks.
// ---------------------------------------------------------------------------

TEST_P(ConformanceTest, LockFileIsExclusiveUntilUnlocked) {
  FileLock* ref_lock = nullptr;
  FileLock* ref_second = nullptr;
  ASSERT_OK(ref_->LockFile(Path("REF_LOCK"), io_, &ref_lock, nullptr));
  IOStatus want_busy =
      ref_->LockFile(Path("REF_LOCK"), io_, &ref_second, nullptr);
  ASSERT_OK(ref_->UnlockFile(ref_lock, io_, nullptr));
  ASSERT_FALSE(want_busy.ok());

  FileLock* lock = nullptr;
  ASSERT_OK(fs_->LockFile(Path("LOCK"), io_, &lock, nullptr));
  ASSERT_NE(lock, nullptr);
  EXPECT_EQ(ExistsOnDisk(Path("LOCK")), ExistsOnDisk(Path("REF_LOCK")))
      << "LockFile created (or not) the lock file unlike the default";
  FileLock* second = nullptr;
  IOStatus busy = fs_->LockFile(Path("LOCK"), io_, &second, nullptr);
  EXPECT_FALSE(busy.ok());
  EXPECT_TRUE(SameOutcome(busy, want_busy));
  EXPECT_EQ(second, nullptr);
  if (busy.ok() && second != nullptr) fs_->UnlockFile(second, io_, nullptr);

  ASSERT_OK(fs_->UnlockFile(lock, io_, nullptr));
  FileLock* again = nullptr;
  ASSERT_OK(fs_->LockFile(Path("LOCK"), io_, &again, nullptr));
  ASSERT_OK(fs_->UnlockFile(again, io_, nullptr));
}

TEST_P(ConformanceTest, LockHeldThroughDefaultFileSystemAlsoBlocksThisOne) {
  // Two DBs in one process, one on each file system, must still exclude each
  // other.
  FileLock* ref_lock = nullptr;
  ASSERT_OK(ref_->LockFile(Path("LOCK"), io_, &ref_lock, nullptr));
  FileLock* lock = nullptr;
  IOStatus got = fs_->LockFile(Path("LOCK"), io_, &lock, nullptr);
  EXPECT_FALSE(got.ok()) << "lock acquired twice in one process";
  if (got.ok()) fs_->UnlockFile(lock, io_, nullptr);
  ASSERT_OK(ref_->UnlockFile(ref_lock, io_, nullptr));
}

TEST_P(ConformanceTest, LockFileInAMissingDirectoryAnswersLikeDefault) {
  FileLock* lock = nullptr;
  FileLock* ref_lock = nullptr;
  IOStatus want = ref_->LockFile(Path("nope/LOCK"), io_, &ref_lock, nullptr);
  IOStatus got = fs_->LockFile(Path("nope/LOCK"), io_, &lock, nullptr);
  EXPECT_FALSE(got.ok());
  EXPECT_TRUE(SameOutcome(got, want));
  if (ref_lock) ref_->UnlockFile(ref_lock, io_, nullptr);
  if (lock) fs_->UnlockFile(lock, io_, nullptr);
}

// ---------------------------------------------------------------------------
// Missing paths and other error parity.
// ---------------------------------------------------------------------------

TEST_P(ConformanceTest, NewSequentialFileOfMissingPathIsNotFound) {
  ExpectMissingPathLikeDefault([&](FileSystem* fs, const std::string& p) {
    std::unique_ptr<FSSequentialFile> f;
    IOStatus s = fs->NewSequentialFile(p, fo_, &f, nullptr);
    EXPECT_EQ(f, nullptr);
    return s;
  });
}

TEST_P(ConformanceTest, NewRandomAccessFileOfMissingPathIsNotFound) {
  ExpectMissingPathLikeDefault([&](FileSystem* fs, const std::string& p) {
    std::unique_ptr<FSRandomAccessFile> f;
    IOStatus s = fs->NewRandomAccessFile(p, fo_, &f, nullptr);
    EXPECT_EQ(f, nullptr);
    return s;
  });
}

TEST_P(ConformanceTest, GetFileSizeOfMissingPathIsNotFound) {
  ExpectMissingPathLikeDefault([&](FileSystem* fs, const std::string& p) {
    uint64_t size = 0;
    return fs->GetFileSize(p, io_, &size, nullptr);
  });
}

TEST_P(ConformanceTest, DeleteFileOfMissingPathIsNotFound) {
  ExpectMissingPathLikeDefault([&](FileSystem* fs, const std::string& p) {
    return fs->DeleteFile(p, io_, nullptr);
  });
}

TEST_P(ConformanceTest, RenameFileOfMissingSourceIsNotFound) {
  ExpectMissingPathLikeDefault([&](FileSystem* fs, const std::string& p) {
    return fs->RenameFile(p, Path("rename_target"), io_, nullptr);
  });
  EXPECT_FALSE(ExistsOnDisk(Path("rename_target")));
}

TEST_P(ConformanceTest, GetChildrenOfMissingDirectoryIsNotFound) {
  ExpectMissingPathLikeDefault([&](FileSystem* fs, const std::string& p) {
    std::vector<std::string> c;
    return fs->GetChildren(p, io_, &c, nullptr);
  });
  ExpectMissingPathLikeDefault([&](FileSystem* fs, const std::string& p) {
    std::vector<FileAttributes> c;
    return fs->GetChildrenFileAttributes(p, io_, &c, nullptr);
  });
}

TEST_P(ConformanceTest, FileExistsOfMissingPathIsNotFound) {
  ExpectMissingPathLikeDefault([&](FileSystem* fs, const std::string& p) {
    return fs->FileExists(p, io_, nullptr);
  });
  EXPECT_TRUE(fs_->FileExists(Path("no_such_file"), io_, nullptr).IsNotFound());
}

TEST_P(ConformanceTest, MetadataQueriesOfMissingPathAreNotFound) {
  ExpectMissingPathLikeDefault([&](FileSystem* fs, const std::string& p) {
    uint64_t t = 0;
    return fs->GetFileModificationTime(p, io_, &t, nullptr);
  });
  ExpectMissingPathLikeDefault([&](FileSystem* fs, const std::string& p) {
    uint64_t n = 0;
    return fs->NumFileLinks(p, io_, &n, nullptr);
  });
  ExpectMissingPathLikeDefault([&](FileSystem* fs, const std::string& p) {
    bool b = false;
    return fs->IsDirectory(p, io_, &b, nullptr);
  });
  ExpectMissingPathLikeDefault([&](FileSystem* fs, const std::string& p) {
    bool b = false;
    return fs->AreFilesSame(p, p, io_, &b, nullptr);
  });
  ExpectMissingPathLikeDefault([&](FileSystem* fs, const std::string& p) {
    std::unique_ptr<FSDirectory> d;
    return fs->NewDirectory(p, io_, &d, nullptr);
  });
  ExpectMissingPathLikeDefault([&](FileSystem* fs, const std::string& p) {
    return fs->DeleteDir(p, io_, nullptr);
  });
  ExpectMissingPathLikeDefault([&](FileSystem* fs, const std::string& p) {
    return fs->LinkFile(p, Path("link_target"), io_, nullptr);
  });
}

TEST_P(ConformanceTest, WritingIntoAMissingDirectoryAnswersLikeDefault) {
  ExpectMissingPathLikeDefault([&](FileSystem* fs, const std::string& p) {
    std::unique_ptr<FSWritableFile> f;
    IOStatus s = fs->NewWritableFile(p + "/child", fo_, &f, nullptr);
    if (f) f->Close(io_, nullptr);
    return s;
  });
}

TEST_P(ConformanceTest, PathsThroughARegularFileAnswerLikeDefault) {
  // ENOTDIR must not be turned into something else (or into NotFound).
  WriteRaw(Path("plain"), "x");
  const std::string p = Path("plain/child");
  struct Op {
    const char* name;
    std::function<IOStatus(FileSystem*)> run;
  };
  std::vector<Op> ops = {
      {"NewSequentialFile",
       [&](FileSystem* fs) {
         std::unique_ptr<FSSequentialFile> f;
         return fs->NewSequentialFile(p, fo_, &f, nullptr);
       }},
      {"NewRandomAccessFile",
       [&](FileSystem* fs) {
         std::unique_ptr<FSRandomAccessFile> f;
         return fs->NewRandomAccessFile(p, fo_, &f, nullptr);
       }},
      {"NewWritableFile",
       [&](FileSystem* fs) {
         std::unique_ptr<FSWritableFile> f;
         return fs->NewWritableFile(p, fo_, &f, nullptr);
       }},
      {"GetFileSize",
       [&](FileSystem* fs) {
         uint64_t n;
         return fs->GetFileSize(p, io_, &n, nullptr);
       }},
      {"FileExists",
       [&](FileSystem* fs) { return fs->FileExists(p, io_, nullptr); }},
      {"DeleteFile",
       [&](FileSystem* fs) { return fs->DeleteFile(p, io_, nullptr); }},
      {"CreateDir",
       [&](FileSystem* fs) { return fs->CreateDir(p, io_, nullptr); }},
      {"GetChildren",
       [&](FileSystem* fs) {
         std::vector<std::string> c;
         return fs->GetChildren(Path("plain"), io_, &c, nullptr);
       }},
  };
  for (const Op& op : ops) {
    IOStatus want = op.run(ref_.get());
    IOStatus got = op.run(fs_.get());
    EXPECT_FALSE(got.ok()) << op.name;
    EXPECT_TRUE(SameOutcome(got, want)) << op.name;
  }
}

// ---------------------------------------------------------------------------
// Direct I/O.
// ---------------------------------------------------------------------------

// Skips the test unless O_DIRECT works on `path` and the default file system
// opens it for direct reads.
#define SKIP_UNLESS_DIRECT_IO(path)                                           \
  do {                                                                        \
    int fd_ = ::open((path).c_str(), O_RDONLY | O_DIRECT);                    \
    if (fd_ < 0) {                                                            \
      GTEST_SKIP() << "O_DIRECT unsupported in " << dir_ << ": "              \
                   << strerror(errno);                                        \
    }                                                                         \
    ::close(fd_);                                                             \
    FileOptions dfo_;                                                         \
    dfo_.use_direct_reads = true;                                             \
    std::unique_ptr<FSRandomAccessFile> probe_;                               \
    IOStatus ps_ = ref_->NewRandomAccessFile((path), dfo_, &probe_, nullptr); \
    if (!ps_.ok()) {                                                          \
      GTEST_SKIP() << "FileSystem::Default() cannot open for direct reads: "  \
                   << ps_.ToString();                                         \
    }                                                                         \
  } while (0)

TEST_P(ConformanceTest, DirectRandomReadsAgreeWithDefaultAndReturnExactBytes) {
  const std::string data = RandomBytes(256 * 1024 + 777, 80);
  WriteRaw(Path("f"), data);
  SKIP_UNLESS_DIRECT_IO(Path("f"));

  FileOptions dfo;
  dfo.use_direct_reads = true;
  std::unique_ptr<FSRandomAccessFile> ref_file, file;
  ASSERT_OK(ref_->NewRandomAccessFile(Path("f"), dfo, &ref_file, nullptr));
  ASSERT_OK(fs_->NewRandomAccessFile(Path("f"), dfo, &file, nullptr));
  EXPECT_EQ(file->use_direct_io(), ref_file->use_direct_io());
  EXPECT_EQ(file->GetRequiredBufferAlignment(),
            ref_file->GetRequiredBufferAlignment());
  const size_t align = ref_file->GetRequiredBufferAlignment();
  ASSERT_GT(align, 0u);
  ASSERT_EQ(align & (align - 1), 0u) << "alignment not a power of two";
  // From here on only the file under test is read; use its own alignment
  // (equal to the default's unless the EXPECT above failed).
  const size_t a = std::max(align, file->GetRequiredBufferAlignment());

  std::mt19937_64 rng(81);
  const size_t blocks = (data.size() + a - 1) / a;
  for (int i = 0; i < 120; ++i) {
    uint64_t offset = (rng() % (blocks + 3)) * a;  // some at/after EOF
    size_t n = (1 + rng() % 32) * a;
    AlignedBuffer buf(a, n);
    ASSERT_NE(buf.get(), nullptr);
    Slice r;
    ASSERT_OK(file->Read(offset, n, io_, &r, buf.get(), nullptr))
        << "offset " << offset << " n " << n;
    std::string want = offset >= data.size() ? "" : data.substr(offset, n);
    ASSERT_TRUE(SameBytes(r, want)) << "offset " << offset << " n " << n;
  }
}

TEST_P(ConformanceTest, DirectMultiReadReturnsExactBytesPerRequest) {
  const std::string data = RandomBytes(512 * 1024 + 1000, 82);
  WriteRaw(Path("f"), data);
  SKIP_UNLESS_DIRECT_IO(Path("f"));

  FileOptions dfo;
  dfo.use_direct_reads = true;
  std::unique_ptr<FSRandomAccessFile> file;
  ASSERT_OK(fs_->NewRandomAccessFile(Path("f"), dfo, &file, nullptr));
  if (!file->use_direct_io()) GTEST_SKIP() << "file not opened for direct I/O";
  const size_t a = file->GetRequiredBufferAlignment();
  const uint64_t blocks = (data.size() + a - 1) / a;

  // Disjoint aligned ranges in shuffled order; the last ones straddle or pass
  // EOF.
  std::mt19937_64 rng(83);
  std::vector<std::pair<uint64_t, size_t>> ranges;
  uint64_t block = 0;
  while (block < blocks + 4) {
    uint64_t len_blocks = 1 + rng() % 6;
    if (rng() % 4 != 0) ranges.push_back({block * a, len_blocks * a});
    block += len_blocks + rng() % 2;
  }
  std::shuffle(ranges.begin(), ranges.end(), rng);
  std::vector<std::unique_ptr<AlignedBuffer>> bufs;
  std::vector<FSReadRequest> reqs(ranges.size());
  for (size_t i = 0; i < ranges.size(); ++i) {
    bufs.emplace_back(new AlignedBuffer(a, ranges[i].second));
    ASSERT_NE(bufs.back()->get(), nullptr);
    reqs[i].offset = ranges[i].first;
    reqs[i].len = ranges[i].second;
    reqs[i].scratch = bufs.back()->get();
  }
  ASSERT_OK(file->MultiRead(reqs.data(), reqs.size(), io_, nullptr));
  for (size_t i = 0; i < reqs.size(); ++i) {
    uint64_t off = ranges[i].first;
    SCOPED_TRACE("offset " + std::to_string(off));
    EXPECT_OK(reqs[i].status);
    std::string want =
        off >= data.size() ? "" : data.substr(off, ranges[i].second);
    EXPECT_TRUE(SameBytes(reqs[i].result, want));
  }
}

TEST_P(ConformanceTest, DirectSequentialPositionedReadsReturnExactBytes) {
  const std::string data = RandomBytes(128 * 1024 + 99, 84);
  WriteRaw(Path("f"), data);
  SKIP_UNLESS_DIRECT_IO(Path("f"));

  FileOptions dfo;
  dfo.use_direct_reads = true;
  std::unique_ptr<FSSequentialFile> ref_file, file;
  ASSERT_OK(ref_->NewSequentialFile(Path("f"), dfo, &ref_file, nullptr));
  ASSERT_OK(fs_->NewSequentialFile(Path("f"), dfo, &file, nullptr));
  ASSERT_EQ(file->use_direct_io(), ref_file->use_direct_io());
  EXPECT_EQ(file->GetRequiredBufferAlignment(),
            ref_file->GetRequiredBufferAlignment());
  if (!file->use_direct_io()) GTEST_SKIP() << "not opened for direct I/O";
  const size_t a = file->GetRequiredBufferAlignment();

  uint64_t offset = 0;
  std::mt19937 rng(85);
  std::string got;
  for (;;) {
    size_t n = (1 + rng() % 16) * a;
    AlignedBuffer buf(a, n);
    Slice r;
    ASSERT_OK(file->PositionedRead(offset, n, io_, &r, buf.get(), nullptr));
    ASSERT_TRUE(SameBytes(r, data.substr(offset, n))) << "offset " << offset;
    got.append(r.data(), r.size());
    if (r.size() < n) break;
    offset += n;
  }
  EXPECT_TRUE(SameBytes(got, data));
  // Aligned read wholly past EOF: OK and empty.
  AlignedBuffer buf(a, a);
  Slice r("sentinel");
  const uint64_t past = ((data.size() + a - 1) / a + 2) * a;
  ASSERT_OK(file->PositionedRead(past, a, io_, &r, buf.get(), nullptr));
  EXPECT_EQ(r.size(), 0u);
}

TEST_P(ConformanceTest, BufferedOpenReportsNoDirectIoLikeDefault) {
  WriteRaw(Path("f"), "x");
  std::unique_ptr<FSRandomAccessFile> ref_file, file;
  ASSERT_OK(ref_->NewRandomAccessFile(Path("f"), fo_, &ref_file, nullptr));
  ASSERT_OK(fs_->NewRandomAccessFile(Path("f"), fo_, &file, nullptr));
  EXPECT_EQ(file->use_direct_io(), ref_file->use_direct_io());
  EXPECT_FALSE(file->use_direct_io());
  EXPECT_EQ(file->GetRequiredBufferAlignment(),
            ref_file->GetRequiredBufferAlignment());
  std::unique_ptr<FSSequentialFile> ref_seq, seq;
  ASSERT_OK(ref_->NewSequentialFile(Path("f"), fo_, &ref_seq, nullptr));
  ASSERT_OK(fs_->NewSequentialFile(Path("f"), fo_, &seq, nullptr));
  EXPECT_EQ(seq->use_direct_io(), ref_seq->use_direct_io());
  std::unique_ptr<FSWritableFile> ref_w, w;
  ASSERT_OK(ref_->NewWritableFile(Path("rw"), fo_, &ref_w, nullptr));
  ASSERT_OK(fs_->NewWritableFile(Path("w"), fo_, &w, nullptr));
  EXPECT_EQ(w->use_direct_io(), ref_w->use_direct_io());
  EXPECT_OK(ref_w->Close(io_, nullptr));
  EXPECT_OK(w->Close(io_, nullptr));
}

INSTANTIATE_TEST_SUITE_P(AllFileSystems, ConformanceTest,
                         ::testing::Values("Default", "Uringfs",
                                           "UringfsNoIoUring",
                                           "UringfsFromApi"),
                         [](const ::testing::TestParamInfo<std::string>& p) {
                           return p.param;
                         });

// ---------------------------------------------------------------------------
// Entry points (not parameterised).
// ---------------------------------------------------------------------------

TEST(ConformanceEntryPointsTest, UriAndCppApiBothYieldUringfs) {
  std::shared_ptr<FileSystem> from_uri, from_api;
  ASSERT_OK(FileSystem::CreateFromString(
      rocksdb::ConfigOptions(), "uringfs://?use_io_uring=false", &from_uri));
  ASSERT_NE(from_uri, nullptr);
  EXPECT_STREQ(from_uri->Name(), kClassId);
  const UringFsOptions* uri_opts = from_uri->GetOptions<UringFsOptions>();
  ASSERT_NE(uri_opts, nullptr);
  EXPECT_FALSE(uri_opts->use_io_uring);

  UringFsOptions o;
  o.queue_depth = 7;
  ASSERT_OK(NewUringFileSystem(o, &from_api));
  ASSERT_NE(from_api, nullptr);
  EXPECT_STREQ(from_api->Name(), kClassId);
  const UringFsOptions* api_opts = from_api->GetOptions<UringFsOptions>();
  ASSERT_NE(api_opts, nullptr);
  EXPECT_EQ(api_opts->queue_depth, 7u);
  EXPECT_TRUE(api_opts->use_io_uring);
}

}  // namespace
}  // namespace uringfs
