// Power loss under uringfs: a RocksDB database runs on uringfs built over the
// PowerLossFs seam (tests/crash/power_loss_fs.h), writes keys 0, 1, 2, ... in
// order, and then the power goes. After the disk is cut back to what was
// synced, the database reopened through the stock file system must hold
// exactly a prefix 0..k of the keys, with no hole, and k must reach the last
// write RocksDB promised was durable.
//
// How the power loss is simulated, and why it is sound:
//   1. Writing stops (this thread is the only writer) and PowerOff() is
//      called with the database still open, background flushes and
//      compactions possibly in flight and SST appends possibly still queued
//      in uringfs's write-behind queue. PowerOff() waits for mutations
//      already inside the real file system, then refuses every later one
//      before it reaches the disk.
//   2. The DB object is deleted without Close(), as a dying process would
//      leave it. Its shutdown (and uringfs draining its queue) can only fail
//      against the seam now; nothing it does reaches the disk.
//   3. Only when every handle is closed does DropUnsyncedData() cut each
//      file back to its last synced size and delete never-synced files
//      (cutting earlier could race with a descriptor's close-time
//      ftruncate or with a write already past the seam).
//   4. The database is opened fresh, through FileSystem::Default(), and
//      read back.
// Several rounds run on the same database: each opens it through a new
// uringfs over a new seam (files from earlier rounds count as "existed
// before" and are kept), continues after the recovered prefix and loses
// power again, sometimes right after starting a flush that is not waited for.

#include <cinttypes>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>

#include "env/uring_file_system.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "rocksdb/file_system.h"
#include "rocksdb/options.h"
#include "tests/testing/open_db.h"
#include "tests/testing/power_loss_fs.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/write_behind_options.h"
#include "uringfs/options.h"

namespace uringfs {
namespace {

using testing::PowerLossFs;
using testing::PowerLossReport;

std::string Key(uint64_t i) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "k%010" PRIu64, i);
  return buf;
}

// 100..1123 bytes determined by i.
std::string Value(uint64_t i) {
  uint64_t x = i * 0x9e3779b97f4a7c15ull + 1;
  std::string v = "v" + std::to_string(i) + ":";
  const size_t len = 100 + (x >> 7) % 1024;
  while (v.size() < len) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    v.push_back(static_cast<char>('a' + x % 26));
  }
  return v;
}

rocksdb::Options MakeOptions(rocksdb::Env* env) {
  rocksdb::Options o;
  o.env = env;
  o.create_if_missing = true;
  o.write_buffer_size = 64 << 10;  // A flush every ~100 keys.
  o.max_write_buffer_number = 4;
  o.target_file_size_base = 64 << 10;
  o.max_bytes_for_level_base = 256 << 10;
  o.level0_file_num_compaction_trigger = 2;
  o.max_background_jobs = 2;
  o.compression = rocksdb::kNoCompression;
  return o;
}

enum class Durability {
  kSyncEveryWrite,  // WriteOptions.sync = true.
  kSyncPoints,      // sync = false, SyncWAL()/FlushWAL(true) now and then.
};

class PowerLossTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "power_loss_" + std::to_string(::getpid()) +
           "_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    rocksdb::Options o;
    rocksdb::DestroyDB(dir_, o).PermitUncheckedError();
  }
  void TearDown() override {
    rocksdb::Options o;
    EXPECT_OK(rocksdb::DestroyDB(dir_, o));
  }

  // Opens the database through the stock file system (recovery runs), and
  // checks it holds exactly keys 0..k-1 with their values; returns k.
  uint64_t RecoveredPrefix() {
    rocksdb::DB* raw = nullptr;
    rocksdb::Status s = uringfs::testing::OpenDb(
        MakeOptions(rocksdb::Env::Default()), dir_, &raw);
    EXPECT_OK(s);
    if (!s.ok()) return 0;
    std::unique_ptr<rocksdb::DB> db(raw);
    std::unique_ptr<rocksdb::Iterator> it(
        db->NewIterator(rocksdb::ReadOptions()));
    uint64_t k = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next(), ++k) {
      if (it->key().ToString() != Key(k)) {
        ADD_FAILURE() << "HOLE: expected key " << Key(k) << " next, found "
                      << it->key().ToString();
        return k;
      }
      if (it->value().ToString() != Value(k)) {
        ADD_FAILURE() << "WRONG value for " << Key(k);
        return k;
      }
    }
    EXPECT_OK(it->status());
    it.reset();
    EXPECT_OK(db->Close());
    return k;
  }

  // One round: writes keys first..first+n-1 through uringfs over a fresh
  // seam, loses power, and returns the recovered prefix length through
  // `*recovered`; `*durable` receives the number of keys RocksDB promised
  // durable (everything before it must survive).
  void Round(Durability mode, uint64_t first, uint64_t n, bool flush_at_end,
             uint64_t* durable, uint64_t* recovered) {
    auto seam = std::make_shared<PowerLossFs>();
    auto fs = std::make_shared<UringFileSystem>(testing::WriteBehindOptions(), seam);
    std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(fs);
    rocksdb::DB* raw = nullptr;
    ASSERT_OK(uringfs::testing::OpenDb(MakeOptions(env.get()), dir_, &raw));
    std::unique_ptr<rocksdb::DB> db(raw);

    rocksdb::WriteOptions w;
    w.sync = mode == Durability::kSyncEveryWrite;
    *durable = first;  // The recovered prefix of the last round.
    for (uint64_t i = first; i < first + n; ++i) {
      ASSERT_OK(db->Put(w, Key(i), Value(i)));
      if (w.sync) *durable = i + 1;
      if (mode == Durability::kSyncPoints && (i - first) % 97 == 96) {
        // Alternate the two calls that promise the WAL is on disk.
        if ((i / 97) % 2 == 0) {
          ASSERT_OK(db->SyncWAL());
        } else {
          ASSERT_OK(db->FlushWAL(/*sync=*/true));
        }
        *durable = i + 1;
      }
    }
    if (flush_at_end) {
      rocksdb::FlushOptions f;
      f.wait = false;  // Power goes while the flush runs.
      ASSERT_OK(db->Flush(f));
    }
    const UringFsStats stats = fs->GetStats();
    EXPECT_GT(stats.appends_queued, 0u) << "no SST was written behind";

    seam->PowerOff();
    db.reset();  // No Close(): the process dies with the machine.
    PowerLossReport report;
    ASSERT_OK(seam->DropUnsyncedData(&report));
    env.reset();
    fs.reset();
    std::printf("  keys %" PRIu64 "..%" PRIu64 " written, %" PRIu64
                " durable; power loss: %s\n",
                first, first + n - 1, *durable, report.ToString().c_str());
    *recovered = RecoveredPrefix();
    std::printf("  recovered %" PRIu64 " keys (a prefix)\n", *recovered);
  }

  void Run(Durability mode) {
    const uint64_t sizes[] = {1500, 2300, 700, 3100, 1200};
    uint64_t next = 0;
    int round = 0;
    for (uint64_t n : sizes) {
      SCOPED_TRACE("round " + std::to_string(round));
      uint64_t durable = 0, recovered = 0;
      ASSERT_NO_FATAL_FAILURE(
          Round(mode, next, n, round % 2 == 1, &durable, &recovered));
      ASSERT_FALSE(HasFailure());
      EXPECT_GE(recovered, durable) << "keys promised durable were lost";
      EXPECT_LE(recovered, next + n) << "keys never written appeared";
      next = recovered;
      ++round;
    }
  }

  std::string dir_;
};

TEST_F(PowerLossTest, SyncedWritesSurviveAsAPrefix) {
  Run(Durability::kSyncEveryWrite);
}

TEST_F(PowerLossTest, WalSyncPointsSurviveAsAPrefix) {
  Run(Durability::kSyncPoints);
}

// The control: without any sync the seam really loses the writes, so the
// tests above would see a file system that does not sync what it promised.
TEST_F(PowerLossTest, ControlUnsyncedWritesAreLost) {
  auto seam = std::make_shared<PowerLossFs>();
  std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(seam);
  rocksdb::DB* raw = nullptr;
  rocksdb::Options o = MakeOptions(env.get());
  o.write_buffer_size = 4 << 20;  // No flush.
  ASSERT_OK(uringfs::testing::OpenDb(o, dir_, &raw));
  std::unique_ptr<rocksdb::DB> db(raw);
  for (uint64_t i = 0; i < 500; ++i) {
    ASSERT_OK(db->Put(rocksdb::WriteOptions(), Key(i), Value(i)));
  }
  seam->PowerOff();
  db.reset();
  PowerLossReport report;
  ASSERT_OK(seam->DropUnsyncedData(&report));
  env.reset();
  EXPECT_GT(report.files_deleted + report.files_truncated, 0u);
  EXPECT_LT(RecoveredPrefix(), 500u);
}

// The seam itself.
class PowerLossFsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "power_loss_fs_" + std::to_string(::getpid());
    ASSERT_OK(base_->CreateDirIfMissing(dir_, io_, nullptr));
  }
  void TearDown() override {
    std::vector<std::string> children;
    if (base_->GetChildren(dir_, io_, &children, nullptr).ok()) {
      for (const auto& c : children) {
        base_->DeleteFile(dir_ + "/" + c, io_, nullptr).PermitUncheckedError();
      }
    }
    base_->DeleteDir(dir_, io_, nullptr).PermitUncheckedError();
  }
  uint64_t SizeOf(const std::string& name) {
    uint64_t size = 0;
    EXPECT_OK(base_->GetFileSize(dir_ + "/" + name, io_, &size, nullptr));
    return size;
  }
  bool Exists(const std::string& name) {
    return base_->FileExists(dir_ + "/" + name, io_, nullptr).ok();
  }
  std::unique_ptr<rocksdb::FSWritableFile> Create(PowerLossFs& fs,
                                                  const std::string& name) {
    std::unique_ptr<rocksdb::FSWritableFile> f;
    EXPECT_OK(fs.NewWritableFile(dir_ + "/" + name, rocksdb::FileOptions(), &f,
                                 nullptr));
    return f;
  }

  const std::shared_ptr<rocksdb::FileSystem> base_ =
      rocksdb::FileSystem::Default();
  const rocksdb::IOOptions io_;
  std::string dir_;
};

TEST_F(PowerLossFsTest, KeepsExactlyWhatWasSynced) {
  PowerLossFs fs;
  // Pre-existing, untouched: kept.
  std::unique_ptr<rocksdb::FSWritableFile> pre;
  ASSERT_OK(base_->NewWritableFile(dir_ + "/old", rocksdb::FileOptions(), &pre,
                                   nullptr));
  ASSERT_OK(pre->Append("old data", io_, nullptr));
  ASSERT_OK(pre->Close(io_, nullptr));

  auto a = Create(fs, "a");
  ASSERT_OK(a->Append("hello", io_, nullptr));
  ASSERT_OK(a->Sync(io_, nullptr));
  ASSERT_OK(a->Append(" world", io_, nullptr));
  ASSERT_OK(a->Flush(io_, nullptr));
  ASSERT_OK(a->RangeSync(0, 11, io_, nullptr));  // Not a durability point.
  ASSERT_OK(a->Close(io_, nullptr));
  EXPECT_EQ(fs.SyncedSize(dir_ + "/a"), 5u);

  auto b = Create(fs, "b");  // Never synced.
  ASSERT_OK(b->Append("gone", io_, nullptr));
  ASSERT_OK(b->Close(io_, nullptr));

  auto t = Create(fs, "c.tmp");  // Synced, then renamed: survives as "c".
  ASSERT_OK(t->Append("current", io_, nullptr));
  ASSERT_OK(t->Fsync(io_, nullptr));
  ASSERT_OK(t->Close(io_, nullptr));
  ASSERT_OK(fs.RenameFile(dir_ + "/c.tmp", dir_ + "/c", io_, nullptr));

  auto open = Create(fs, "open");
  ASSERT_OK(open->Append("x", io_, nullptr));

  EXPECT_FALSE(fs.DropUnsyncedData().ok()) << "before PowerOff";
  fs.PowerOff();
  EXPECT_TRUE(open->Append("y", io_, nullptr).IsIOError());
  EXPECT_TRUE(open->Sync(io_, nullptr).IsIOError());
  std::unique_ptr<rocksdb::FSWritableFile> late;
  EXPECT_TRUE(
      fs.NewWritableFile(dir_ + "/late", rocksdb::FileOptions(), &late, nullptr)
          .IsIOError());
  EXPECT_TRUE(fs.DeleteFile(dir_ + "/a", io_, nullptr).IsIOError());
  EXPECT_FALSE(fs.DropUnsyncedData().ok()) << "a handle is still open";
  open.reset();

  PowerLossReport report;
  ASSERT_OK(fs.DropUnsyncedData(&report));
  EXPECT_EQ(SizeOf("a"), 5u);
  EXPECT_FALSE(Exists("b"));
  EXPECT_FALSE(Exists("open"));
  EXPECT_FALSE(Exists("late"));
  EXPECT_FALSE(Exists("c.tmp"));
  EXPECT_EQ(SizeOf("c"), 7u);
  EXPECT_EQ(SizeOf("old"), 8u);
  EXPECT_EQ(report.files_truncated, 1u);
  EXPECT_EQ(report.bytes_dropped, 6u);
  EXPECT_EQ(report.files_deleted, 2u);  // b, open.
}

}  // namespace
}  // namespace uringfs
