// -----------------------------------------------------------------------------
// tests/write/write_budget_test.cc
// -----------------------------------------------------------------------------
//
// The write path of uringfs (env/writable_file.h) through `UringFileSystem`
// over the seam (the fixture of write_test_fixture.h): backpressure. An Append
// beyond the file's budget of queued bytes waits until queued bytes are
// written; one larger than the budget is admitted when nothing is queued; the
// total budget is shared by all files; a slow device keeps the queue within
// the budget.

#include <chrono>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "env/uring_file_system.h"
#include "rocksdb/file_system.h"
#include "rocksdb/io_status.h"
#include "tests/testing/deadline.h"
#include "tests/testing/disk_file.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/write_behind_options.h"
#include "tests/write/write_test_fixture.h"
#include "uringfs/options.h"
#include "uringfs/stats.h"

namespace uringfs {
namespace {

using rocksdb::FSWritableFile;
using rocksdb::IOOptions;
using testing::Background;
using testing::Concat;
using testing::kMustReturn;
using testing::kStillBlocked;
using testing::RandomBytes;
using testing::ReadFileOnDisk;
using testing::StatsOf;
using testing::WriteTest;
using namespace std::chrono_literals;

// ---------------------------------------------------------------------------
// Backpressure: the write budget.
// ---------------------------------------------------------------------------

constexpr uint64_t kBudget = 65536;

TEST_F(WriteTest, AppendBeyondTheFileBudgetWaitsUntilQueuedBytesAreWritten) {
  UringFsOptions o = testing::WriteBehindOptions();
  o.max_queued_bytes_per_file = kBudget;
  Reset(o);
  std::unique_ptr<FSWritableFile> f = Open("000060.sst");
  ASSERT_NE(f, nullptr);
  seam_->CloseGate(".sst");
  const std::vector<std::string> parts = Parts(2, kBudget / 2, kBudget / 2);
  AppendAll(f.get(), parts);  // Exactly the budget: admitted.
  ASSERT_TRUE(seam_->WaitForBlocked(1, kMustReturn));
  EXPECT_EQ(StatsOf(*fs_).budget_waits, 0u);
  const std::string extra = RandomBytes(rng_, 16 << 10);
  {
    Background b([&] { EXPECT_OK(f->Append(extra, IOOptions(), nullptr)); });
    EXPECT_FALSE(b.Finished(kStillBlocked))
        << "an append beyond the per-file budget was admitted";
    EXPECT_EQ(StatsOf(*fs_).budget_waits, 1u);
    EXPECT_EQ(StatsOf(*fs_).queued_bytes, kBudget);
    seam_->OpenGate();
    EXPECT_TRUE(b.Finished(kMustReturn));
  }
  ASSERT_OK(f->Close(IOOptions(), nullptr));
  const UringFsStats st = StatsOf(*fs_);
  EXPECT_LE(st.peak_queued_bytes, kBudget);
  EXPECT_EQ(st.queued_bytes, 0u);
  EXPECT_EQ(st.max_queued_bytes_per_file, kBudget);
  EXPECT_TRUE(ReadFileOnDisk(Path("000060.sst")) == Concat(parts, 2) + extra);
}

TEST_F(WriteTest,
       AppendLargerThanTheBudgetIsAdmittedWhenTheFileHasNothingQueued) {
  UringFsOptions o = testing::WriteBehindOptions();
  o.max_queued_bytes_per_file = kBudget;
  Reset(o);
  std::unique_ptr<FSWritableFile> f = Open("000061.sst");
  ASSERT_NE(f, nullptr);
  seam_->CloseGate(".sst");
  const std::string big = RandomBytes(rng_, kBudget + 40000);
  {
    Background b([&] { EXPECT_OK(f->Append(big, IOOptions(), nullptr)); });
    EXPECT_TRUE(b.Finished(kMustReturn))
        << "an oversized append waited although nothing was queued";
  }
  ASSERT_TRUE(seam_->WaitForBlocked(1, kMustReturn));
  EXPECT_EQ(StatsOf(*fs_).budget_waits, 0u);
  // With it queued, the next append of the file has to wait.
  {
    Background b([&] { EXPECT_OK(f->Append("x", IOOptions(), nullptr)); });
    EXPECT_FALSE(b.Finished(kStillBlocked));
    EXPECT_EQ(StatsOf(*fs_).budget_waits, 1u);
    seam_->OpenGate();
    EXPECT_TRUE(b.Finished(kMustReturn));
  }
  ASSERT_OK(f->Close(IOOptions(), nullptr));
  EXPECT_TRUE(ReadFileOnDisk(Path("000061.sst")) == big + "x");
}

TEST_F(WriteTest, TotalBudgetIsSharedByAllFiles) {
  UringFsOptions o = testing::WriteBehindOptions();
  o.max_queued_bytes = kBudget;
  Reset(o);
  constexpr int kFiles = 5;
  std::vector<std::unique_ptr<FSWritableFile>> files;
  for (int i = 0; i < kFiles; ++i) {
    files.push_back(Open("00007" + std::to_string(i) + ".sst"));
    ASSERT_NE(files.back(), nullptr);
  }
  seam_->CloseGate(".sst");
  std::vector<std::string> data = Parts(kFiles, kBudget / 4, kBudget / 4);
  for (int i = 0; i < kFiles - 1; ++i) {  // 4 x 16 KiB: the whole budget.
    ASSERT_OK(files[i]->Append(data[i], IOOptions(), nullptr));
  }
  EXPECT_EQ(StatsOf(*fs_).budget_waits, 0u);
  {
    Background b([&] {
      EXPECT_OK(
          files[kFiles - 1]->Append(data[kFiles - 1], IOOptions(), nullptr));
    });
    EXPECT_FALSE(b.Finished(kStillBlocked))
        << "an append to a fifth file went beyond the total budget";
    EXPECT_EQ(StatsOf(*fs_).budget_waits, 1u);
    seam_->OpenGate();
    EXPECT_TRUE(b.Finished(kMustReturn));
  }
  for (int i = 0; i < kFiles; ++i) {
    ASSERT_OK(files[i]->Close(IOOptions(), nullptr));
    EXPECT_TRUE(ReadFileOnDisk(Path("00007" + std::to_string(i) + ".sst")) ==
                data[i]);
  }
  EXPECT_LE(StatsOf(*fs_).peak_queued_bytes, kBudget);
}

TEST_F(WriteTest, SlowDeviceKeepsQueuedBytesWithinTheBudget) {
  UringFsOptions o = testing::WriteBehindOptions();
  o.max_queued_bytes = kBudget;
  o.max_queued_bytes_per_file = kBudget;
  Reset(o);
  seam_->SetAppendDelay(".sst", 1ms);
  std::unique_ptr<FSWritableFile> a = Open("000080.sst");
  std::unique_ptr<FSWritableFile> b = Open("000081.sst");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  std::string want_a, want_b;
  std::uniform_int_distribution<size_t> size(1, 16 << 10);
  for (int i = 0; i < 200; ++i) {
    const std::string data = RandomBytes(rng_, size(rng_));
    ASSERT_OK((i % 2 == 0 ? a : b)->Append(data, IOOptions(), nullptr));
    (i % 2 == 0 ? want_a : want_b) += data;
    ASSERT_LE(StatsOf(*fs_).queued_bytes, kBudget);
  }
  ASSERT_OK(a->Close(IOOptions(), nullptr));
  ASSERT_OK(b->Close(IOOptions(), nullptr));
  const UringFsStats st = StatsOf(*fs_);
  EXPECT_LE(st.peak_queued_bytes, kBudget);
  EXPECT_GT(st.budget_waits, 0u) << "the slow device never applied pressure";
  EXPECT_TRUE(ReadFileOnDisk(Path("000080.sst")) == want_a);
  EXPECT_TRUE(ReadFileOnDisk(Path("000081.sst")) == want_b);
}

}  // namespace
}  // namespace uringfs
