// -----------------------------------------------------------------------------
// tests/task/task_test_fixture.h
// -----------------------------------------------------------------------------
//
// The fixture of the task tests: a real UringFileSystem over the gate of
// tests/testing/seam_fs.h (`gate()`), which holds the base file system's
// appends so that written-behind work is reliably queued or running when a
// task is cancelled or shut down; file openers and task makers that fail the
// test on error; chunks of known text (`AppendChunks`, `ChunksText`); and the
// assertions `IsCancelled(status)` (Aborted, message says "cancelled") and
// `EXPECT_OUTCOME(expected, task->Cancel())` (names the outcomes).
//
// TearDown opens the gate and destroys the file system under a Deadline, so a
// test that leaves work queued ends instead of hanging.
//
// Thread-safety: the fixture's members are used from the test's thread; the
// file system and tasks it makes follow include/uringfs/task.h.

#ifndef URINGFS_TESTS_TASK_TASK_TEST_FIXTURE_H_
#define URINGFS_TESTS_TASK_TASK_TEST_FIXTURE_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "env/uring_file_system.h"
#include "rocksdb/file_system.h"
#include "tests/testing/deadline.h"
#include "tests/testing/seam_fs.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/write_behind_options.h"
#include "uringfs/options.h"
#include "uringfs/stats.h"
#include "uringfs/task.h"

namespace uringfs {
namespace testing {

// `n` letters, a different run for every `i`.
inline std::string Chunk(int i, size_t n) {
  std::string s(n, '\0');
  uint32_t x = 0x9e3779b9u * static_cast<uint32_t>(i + 1);
  for (char& c : s) {
    x = x * 1664525u + 1013904223u;
    c = static_cast<char>('A' + (x >> 24) % 26);
  }
  return s;
}

inline bool SaysCancelled(const rocksdb::IOStatus& s) {
  return s.ToString().find("cancelled") != std::string::npos;
}

// An Aborted status whose message says cancelled.
inline ::testing::AssertionResult IsCancelled(const rocksdb::IOStatus& s) {
  if (s.IsAborted() && SaysCancelled(s)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "expected Aborted \"cancelled\", got " << s.ToString();
}

inline const char* OutcomeName(CancelOutcome o) {
  switch (o) {
    case CancelOutcome::kCancelled:
      return "kCancelled";
    case CancelOutcome::kRunning:
      return "kRunning";
    case CancelOutcome::kNotFound:
      return "kNotFound";
  }
  return "?";
}

#define EXPECT_OUTCOME(expected, expr)                                  \
  do {                                                                  \
    const ::uringfs::CancelOutcome _o = (expr);                         \
    EXPECT_EQ(_o, expected)                                             \
        << #expr << " returned " << ::uringfs::testing::OutcomeName(_o) \
        << ", expected " << ::uringfs::testing::OutcomeName(expected);  \
  } while (0)

// The size of every chunk AppendChunks writes.
inline constexpr size_t kChunk = 64 << 10;

class TaskApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = FreshDir("task_api");
    base_ = std::make_shared<SeamFileSystem>();
    fs_ = std::make_shared<UringFileSystem>(testing::WriteBehindOptions(),
                                            base_);
  }
  void TearDown() override {
    base_->OpenGate();
    {
      Deadline d("TearDown: destroying the file system",
                 std::chrono::seconds(20));
      fs_.reset();
    }
    RemoveTree(dir_);
  }

  std::string Path(const std::string& name) const { return dir_ + "/" + name; }
  // The gate of the seam under uringfs: appends to matching names wait.
  SeamFileSystem& gate() { return *base_; }

  std::unique_ptr<rocksdb::FSWritableFile> Create(const std::string& name) {
    std::unique_ptr<rocksdb::FSWritableFile> f;
    rocksdb::IOStatus s =
        fs_->NewWritableFile(Path(name), rocksdb::FileOptions(), &f, nullptr);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return f;
  }
  std::unique_ptr<rocksdb::FSWritableFile> Reopen(const std::string& name) {
    std::unique_ptr<rocksdb::FSWritableFile> f;
    rocksdb::IOStatus s = fs_->ReopenWritableFile(
        Path(name), rocksdb::FileOptions(), &f, nullptr);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return f;
  }
  std::shared_ptr<IoTask> NewTask() {
    std::shared_ptr<IoTask> t;
    rocksdb::Status s = NewIoTask(*fs_, &t);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return t;
  }
  UringFsStats Stats() const {
    UringFsStats st;
    EXPECT_OK(GetUringFsStats(*fs_, &st));
    return st;
  }
  // Appends chunks [first, first + n) of size kChunk.
  static void AppendChunks(rocksdb::FSWritableFile* f, int first, int n) {
    for (int i = first; i < first + n; ++i) {
      ASSERT_OK(f->Append(Chunk(i, kChunk), rocksdb::IOOptions(), nullptr));
    }
  }
  static std::string ChunksText(int first, int n) {
    std::string s;
    for (int i = first; i < first + n; ++i) s += Chunk(i, kChunk);
    return s;
  }

  std::string dir_;
  std::shared_ptr<SeamFileSystem> base_;
  std::shared_ptr<UringFileSystem> fs_;
};

}  // namespace testing
}  // namespace uringfs

#endif  // URINGFS_TESTS_TASK_TASK_TEST_FIXTURE_H_
