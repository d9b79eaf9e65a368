// -----------------------------------------------------------------------------
// tests/write/write_test_fixture.h
// -----------------------------------------------------------------------------
//
// The fixture of the write-path tests: `WriteTest` puts a fresh
// `UringFileSystem` over a fresh `SeamFileSystem` (tests/testing/seam_fs.h) in
// a fresh directory, so that the device below uringfs can fail, stall (the
// gate) or crawl on request, and the counters of `GetUringFsStats` start at
// zero. How the write tests obtain their expectations:
//
//   * Contents are read back with plain open(2) + pread(2) on a separate
//     descriptor (tests/testing/disk_file.h), never through uringfs, and
//     compared byte for byte with what the test appended.
//   * "Has not returned" is observed from another thread for kStillBlocked
//     while the gate holds the writes; "returns" is awaited for kMustReturn,
//     after which the test process exits with a message instead of hanging
//     (tests/testing/deadline.h).
//
// TearDown opens the gate, so no worker stays parked in the seam.
//
// Thread-safety: the fixture is used from the test's thread; the file system
// it makes follows the FileSystem rules.

#ifndef URINGFS_TESTS_WRITE_WRITE_TEST_FIXTURE_H_
#define URINGFS_TESTS_WRITE_WRITE_TEST_FIXTURE_H_

#include <chrono>
#include <cstddef>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "env/uring_file_system.h"
#include "rocksdb/file_system.h"
#include "rocksdb/io_status.h"
#include "tests/testing/seam_fs.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/write_behind_options.h"
#include "uringfs/options.h"
#include "uringfs/stats.h"

namespace uringfs {
namespace testing {

// How long a call that must not return is watched.
inline constexpr std::chrono::milliseconds kStillBlocked{300};
// How long a call that must return may take before the test gives up.
inline constexpr std::chrono::seconds kMustReturn{20};

// `n` bytes drawn from `rng` (all 256 values).
inline std::string RandomBytes(std::mt19937_64& rng, size_t n) {
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

// The counters of `fs` (a uringfs file system).
inline UringFsStats StatsOf(const rocksdb::FileSystem& fs) {
  UringFsStats s;
  EXPECT_OK(GetUringFsStats(fs, &s));
  return s;
}

// The first `n` of `parts`, concatenated.
inline std::string Concat(const std::vector<std::string>& parts, size_t n) {
  std::string s;
  for (size_t i = 0; i < n && i < parts.size(); ++i) s += parts[i];
  return s;
}

class WriteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = FreshDir("uringfs_write");
    seam_ = std::make_shared<SeamFileSystem>();
    Reset(testing::WriteBehindOptions());
  }

  void TearDown() override {
    seam_->OpenGate();  // Never leave a worker parked at the gate.
    RemoveTree(dir_);
  }

  // Replaces the file system under test with one using `o` (same seam).
  void Reset(const UringFsOptions& o) {
    ASSERT_OK(ValidateUringFsOptions(o));
    fs_ = std::make_shared<UringFileSystem>(o, seam_);
  }

  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

  std::unique_ptr<rocksdb::FSWritableFile> Open(const std::string& name) {
    std::unique_ptr<rocksdb::FSWritableFile> f;
    rocksdb::IOStatus s =
        fs_->NewWritableFile(Path(name), rocksdb::FileOptions(), &f, nullptr);
    EXPECT_OK(s) << name;
    return f;
  }

  std::unique_ptr<rocksdb::FSWritableFile> Reopen(const std::string& name) {
    std::unique_ptr<rocksdb::FSWritableFile> f;
    rocksdb::IOStatus s = fs_->ReopenWritableFile(
        Path(name), rocksdb::FileOptions(), &f, nullptr);
    EXPECT_OK(s) << name;
    return f;
  }

  // Appends `parts` to `f`, expecting OK.
  static void AppendAll(rocksdb::FSWritableFile* f,
                        const std::vector<std::string>& parts) {
    for (const std::string& p : parts) {
      ASSERT_OK(f->Append(p, rocksdb::IOOptions(), nullptr));
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

}  // namespace testing
}  // namespace uringfs

#endif  // URINGFS_TESTS_WRITE_WRITE_TEST_FIXTURE_H_
