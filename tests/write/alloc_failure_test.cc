// Out of memory at any point of a write: every allocation the submitting
// thread makes inside one `Append` is failed in turn (failing_new.h).
// Whatever fails, no exception reaches RocksDB, `Close` returns (nothing
// waits for work that was never queued), and an append that was lost is
// never reported as written: either the data is in the file, or `Append`,
// `Sync` or `Close` said it is not.

#include <sys/stat.h>

#include <chrono>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "rocksdb/file_system.h"
#include "tests/testing/deadline.h"
#include "tests/testing/failing_new.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/write_behind_options.h"
#include "uringfs/options.h"
#include "uringfs/uringfs.h"

namespace uringfs {
namespace {

constexpr size_t kFirst = 1024;
constexpr size_t kSecond = 4096;

struct Outcome {
  bool fired = false;  // The armed allocation happened (and failed).
  bool append_ok = false;
  bool close_ok = false;
  bool threw = false;
  off_t size = -1;
};

// Appends kFirst bytes, then kSecond bytes with the `n`-th allocation of the
// second Append failing, then syncs and closes.
Outcome AppendWithFailureAt(rocksdb::FileSystem* fs, const std::string& fname,
                            long n) {
  Outcome out;
  std::unique_ptr<rocksdb::FSWritableFile> f;
  EXPECT_TRUE(
      fs->NewWritableFile(fname, rocksdb::FileOptions(), &f, nullptr).ok());
  if (f == nullptr) return out;
  const std::string first(kFirst, 'a'), second(kSecond, 'b');
  EXPECT_TRUE(f->Append(first, rocksdb::IOOptions(), nullptr).ok());
  try {
    testing::ArmAllocationFailure(n);
    out.append_ok = f->Append(second, rocksdb::IOOptions(), nullptr).ok();
    out.fired = testing::DisarmAllocationFailure();
  } catch (...) {
    out.fired = testing::DisarmAllocationFailure();
    out.threw = true;
  }
  testing::WithDeadline(
      "Sync and Close after an allocation failure", std::chrono::seconds(10),
      [&] {
        const bool sync_ok = f->Sync(rocksdb::IOOptions(), nullptr).ok();
        out.close_ok = f->Close(rocksdb::IOOptions(), nullptr).ok() && sync_ok;
      });
  struct stat st;
  if (::stat(fname.c_str(), &st) == 0) out.size = st.st_size;
  return out;
}

// Fails the 0th, 1st, ... allocation of the second Append until Append no
// longer reaches it; returns how many allocations Append makes and how many
// of the failures it reported.
void FailEachAllocation(const char* suffix, long* allocations, int* reported) {
  const std::string dir = testing::FreshDir("alloc_failure");
  std::shared_ptr<rocksdb::FileSystem> fs;
  ASSERT_TRUE(NewUringFileSystem(testing::WriteBehindOptions(), &fs).ok());
  *reported = 0;
  for (*allocations = 0; *allocations < 200; ++*allocations) {
    const long n = *allocations;
    const std::string fname = dir + "/" + std::to_string(n) + suffix;
    const Outcome o = AppendWithFailureAt(fs.get(), fname, n);
    ASSERT_FALSE(o.threw) << "an exception left Append (allocation " << n
                          << ")";
    if (!o.append_ok) ++*reported;
    if (o.append_ok && o.close_ok) {
      EXPECT_EQ(o.size, static_cast<off_t>(kFirst + kSecond))
          << "allocation " << n
          << " failed, yet Append, Sync and Close said OK";
    }
    if (!o.fired) break;  // Append makes fewer than n + 1 allocations.
  }
  testing::RemoveTree(dir);
}

TEST(AllocFailureTest, QueuedAppendReportsEveryFailedAllocationAndNeverHangs) {
  long allocations = 0;
  int reported = 0;
  FailEachAllocation(".sst", &allocations, &reported);
  EXPECT_GT(allocations, 0) << "a queued append allocates (its copy, its item)";
  EXPECT_LT(allocations, 200);
  EXPECT_GT(reported, 0);
}

TEST(AllocFailureTest, WriteThroughAppendDoesNotAllocate) {
  long allocations = -1;
  int reported = 0;
  FailEachAllocation(".log", &allocations, &reported);
  EXPECT_EQ(allocations, 0);
  EXPECT_EQ(reported, 0);
}

}  // namespace
}  // namespace uringfs
