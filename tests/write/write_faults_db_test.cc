// -----------------------------------------------------------------------------
// tests/write/write_faults_db_test.cc
// -----------------------------------------------------------------------------
//
// A real RocksDB database over uringfs over `SeamFileSystem`: ENOSPC or EIO
// injected into a table file's Append / Sync / Close during a flush, or into
// a WAL append, while the test keeps writing with the WAL on. Expected:
//
//   * the database stops accepting writes: a Put returns non-OK, and RocksDB
//     reports a background error carrying the injected status;
//   * no call hangs (every DB call runs under a deadline) and nothing
//     crashes;
//   * after closing it, the database opened with the STOCK file system
//     (`FileSystem::Default()`, no uringfs, no seam) holds every key whose
//     Put returned OK, with its value.

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "env/uring_file_system.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "rocksdb/file_system.h"
#include "rocksdb/listener.h"
#include "rocksdb/options.h"
#include "tests/testing/deadline.h"
#include "tests/testing/open_db.h"
#include "tests/testing/seam_fs.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/write_behind_options.h"
#include "uringfs/options.h"
#include "uringfs/stats.h"

namespace uringfs {
namespace {

using testing::InjectedEio;
using testing::InjectedNoSpace;
using testing::SeamFileSystem;
using testing::SeamOp;
using namespace std::chrono_literals;

constexpr auto kDeadline = 20s;

// A hang fails the test binary with a message (tests/testing/deadline.h).
void WithDeadline(const char* what, std::function<void()> fn) {
  testing::WithDeadline(what, kDeadline, std::move(fn));
}

std::string Key(int i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "key%08d", i);
  return buf;
}

std::string Value(int i) {
  std::string v(1000, '\0');
  uint32_t x = static_cast<uint32_t>(i) * 2654435761u + 17;
  for (char& c : v) {
    x = x * 1103515245u + 12345u;
    c = static_cast<char>('a' + (x >> 16) % 26);
  }
  return v;
}

// Remembers the background errors RocksDB reports.
class BackgroundErrors : public rocksdb::EventListener {
 public:
  const char* Name() const override { return "BackgroundErrors"; }
  void OnBackgroundError(rocksdb::BackgroundErrorReason /*reason*/,
                         rocksdb::Status* error) override {
    absl::MutexLock l(&mu_);
    errors_.push_back(*error);
  }
  std::vector<rocksdb::Status> errors() const {
    absl::MutexLock l(&mu_);
    return errors_;
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<rocksdb::Status> errors_ ABSL_GUARDED_BY(mu_);
};

bool IsInjected(const rocksdb::Status& s, bool eio) {
  if (s.ToString().find(eio ? "injected EIO" : "injected ENOSPC") ==
      std::string::npos) {
    return false;
  }
  return eio ? s.IsIOError() && !s.IsNoSpace() : s.IsNoSpace();
}

class WriteFaultsDbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* env = std::getenv("TEST_TMPDIR");
    const std::string root = env != nullptr && *env != '\0' ? env : "/var/tmp";
    const ::testing::TestInfo* info =
        ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name =
        std::string(info->test_suite_name()) + "." + info->name();
    for (char& c : name) {
      if (c == '/') c = '_';
    }
    dir_ =
        root + "/uringfs_dbfaults_" + std::to_string(::getpid()) + "_" + name;
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    seam_ = std::make_shared<SeamFileSystem>();
    listener_ = std::make_shared<BackgroundErrors>();
  }

  void TearDown() override {
    if (db_ != nullptr) CloseDb();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // Opens the database through uringfs over the seam. A small memtable makes
  // flushes (table files) frequent; a small writer buffer gives each table
  // file several Appends.
  void OpenDb(size_t write_buffer_size) {
    fs_ = std::make_shared<UringFileSystem>(testing::WriteBehindOptions(), seam_);
    env_ = rocksdb::NewCompositeEnv(fs_);
    rocksdb::Options o;
    o.create_if_missing = true;
    o.env = env_.get();
    o.write_buffer_size = write_buffer_size;
    o.writable_file_max_buffer_size = 16 << 10;
    o.listeners.push_back(listener_);
    rocksdb::DB* db = nullptr;
    rocksdb::Status s;
    WithDeadline("DB::Open",
                 [&] { s = uringfs::testing::OpenDb(o, dir_, &db); });
    ASSERT_OK(s);
    db_.reset(db);
  }

  void CloseDb() {
    WithDeadline("DB close", [&] {
      db_->Close().PermitUncheckedError();  // May report the failure again.
      db_.reset();
    });
    env_.reset();
    WithDeadline("file system destruction", [&] { fs_.reset(); });
  }

  // Puts keys next_key_, next_key_+1, ... until a Put fails, then `after`
  // more (the application keeps writing). Records every acknowledged key.
  // Returns the first failure (OK if none within `max_keys`).
  rocksdb::Status PutUntilFailure(int max_keys, int after) {
    rocksdb::Status first;
    int remaining_after = after;
    for (int n = 0; n < max_keys && remaining_after > 0; ++n) {
      const int i = next_key_++;
      const int fired_before = seam_->fired();
      rocksdb::Status s;
      WithDeadline("Put", [&] {
        s = db_->Put(rocksdb::WriteOptions(), Key(i), Value(i));
      });
      if (s.ok()) {
        acked_.push_back(i);
      } else if (first.ok()) {
        first = s;
        first_failed_key_ = i;
        fired_at_failure_ = fired_before;
      }
      if (!first.ok()) {
        --remaining_after;
        std::this_thread::sleep_for(1ms);
      }
    }
    return first;
  }

  // Opens the database with the stock file system and checks every
  // acknowledged key.
  void ExpectEveryAcknowledgedKeyWithStockFileSystem() {
    rocksdb::Options o;
    o.env = rocksdb::Env::Default();
    rocksdb::DB* raw = nullptr;
    rocksdb::Status s;
    WithDeadline("stock DB::Open",
                 [&] { s = uringfs::testing::OpenDb(o, dir_, &raw); });
    ASSERT_OK(s);
    std::unique_ptr<rocksdb::DB> db(raw);
    int missing = 0;
    for (int i : acked_) {
      std::string v;
      rocksdb::Status g = db->Get(rocksdb::ReadOptions(), Key(i), &v);
      if (!g.ok() || v != Value(i)) {
        if (++missing <= 5) {
          ADD_FAILURE() << "acknowledged " << Key(i)
                        << " lost: " << g.ToString()
                        << (g.ok() ? " (wrong value)" : "");
        }
      }
    }
    EXPECT_EQ(missing, 0) << "of " << acked_.size() << " acknowledged keys";
    EXPECT_OK(db->Close());
  }

  void ExpectBackgroundErrorIsInjected(bool eio) {
    bool seen = false;
    for (const rocksdb::Status& e : listener_->errors()) {
      seen = seen || IsInjected(e, eio);
    }
    EXPECT_TRUE(seen) << "no background error carried the injected "
                      << (eio ? "EIO" : "ENOSPC") << " ("
                      << listener_->errors().size() << " reported"
                      << (listener_->errors().empty()
                              ? ""
                              : ", first: " + listener_->errors()[0].ToString())
                      << ")";
  }

  std::string dir_;
  std::shared_ptr<SeamFileSystem> seam_;
  std::shared_ptr<BackgroundErrors> listener_;
  std::shared_ptr<rocksdb::FileSystem> fs_;
  std::unique_ptr<rocksdb::Env> env_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<int> acked_;
  int next_key_ = 0;
  int first_failed_key_ = -1;
  int fired_at_failure_ = -1;
};

// ---------------------------------------------------------------------------
// Table-file faults during flush.
// ---------------------------------------------------------------------------

struct SstFault {
  SeamOp op;
  int n;
  bool eio;
};

std::string SstFaultName(const ::testing::TestParamInfo<SstFault>& p) {
  static const char* const kOp[] = {"Append", "Sync", "Fsync", "Close",
                                    "Truncate"};
  return std::string(p.param.eio ? "Eio" : "NoSpace") + "OnSst" +
         kOp[static_cast<int>(p.param.op)] + std::to_string(p.param.n);
}

class SstFaultTest : public WriteFaultsDbTest,
                     public ::testing::WithParamInterface<SstFault> {};

TEST_P(SstFaultTest, StopsWritesAndLosesNoAcknowledgedKey) {
  const SstFault f = GetParam();
  // Every table file fails at its n-th call, so retried flushes fail too.
  seam_->FailNth(f.op, ".sst", f.n, f.eio ? InjectedEio() : InjectedNoSpace());
  ASSERT_NO_FATAL_FAILURE(OpenDb(64 << 10));
  const rocksdb::Status first = PutUntilFailure(20000, 50);
  EXPECT_FALSE(first.ok())
      << "the database kept accepting writes after its flushes failed ("
      << acked_.size() << " Puts acknowledged, " << seam_->fired()
      << " injected failures)";
  EXPECT_GE(seam_->fired(), 1);
  EXPECT_GT(acked_.size(), 0u);
  ExpectBackgroundErrorIsInjected(f.eio);
  UringFsStats st;
  ASSERT_OK(GetUringFsStats(*fs_, &st));
  EXPECT_GT(st.appends_queued, 0u) << "table files were not written behind";
  if (f.op == SeamOp::kAppend) {
    EXPECT_GE(st.write_errors, 1u);
  }
  CloseDb();
  ExpectEveryAcknowledgedKeyWithStockFileSystem();
}

INSTANTIATE_TEST_SUITE_P(Flush, SstFaultTest,
                         ::testing::Values(SstFault{SeamOp::kAppend, 3, false},
                                           SstFault{SeamOp::kAppend, 3, true},
                                           SstFault{SeamOp::kSync, 1, false},
                                           SstFault{SeamOp::kSync, 1, true},
                                           SstFault{SeamOp::kClose, 1, false},
                                           SstFault{SeamOp::kClose, 1, true}),
                         SstFaultName);

// ---------------------------------------------------------------------------
// WAL faults.
// ---------------------------------------------------------------------------

class WalFaultTest : public WriteFaultsDbTest,
                     public ::testing::WithParamInterface<bool> {};

TEST_P(WalFaultTest, ThePutThatHitItFailsAndNoAcknowledgedKeyIsLost) {
  const bool eio = GetParam();
  seam_->FailNth(SeamOp::kAppend, ".log", 40,
                 eio ? InjectedEio() : InjectedNoSpace());
  // A large memtable: no flush, one WAL file.
  ASSERT_NO_FATAL_FAILURE(OpenDb(64 << 20));
  const rocksdb::Status first = PutUntilFailure(1000, 20);
  ASSERT_FALSE(first.ok()) << "no Put failed although the WAL append did";
  EXPECT_EQ(seam_->fired(), 1);
  EXPECT_EQ(fired_at_failure_, 0)
      << "a Put returned OK although its WAL append failed";
  EXPECT_TRUE(IsInjected(first, eio)) << first.ToString();
  EXPECT_GT(acked_.size(), 0u);
  CloseDb();
  ExpectEveryAcknowledgedKeyWithStockFileSystem();
}

INSTANTIATE_TEST_SUITE_P(Wal, WalFaultTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& p) {
                           return std::string(p.param ? "Eio" : "NoSpace");
                         });

}  // namespace
}  // namespace uringfs
