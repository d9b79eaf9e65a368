// Shutting uringfs down under real RocksDB databases:
//
//   * ShutdownUnderLoadTest: two databases on two uringfs instances, each with
//     a writer (64 KiB write buffers: SST flushes all the time) and a reader
//     (Get + an async_io iterator scan). The first file system is shut down
//     (kDrain, then in another test kCancel) while both run. The second keeps
//     writing, and afterwards every key it acknowledged reads back correctly,
//     through uringfs and through the stock file system. The first database
//     reopens with the stock FileSystem::Default() and holds every key it
//     acknowledged (kDrain), or every key acknowledged before the shutdown
//     started (kCancel); neither may hang or crash.
//   * OpenLoadShutdownCycles: open FS + DB, a short load,
//   ShutdownUringFileSystem
//     with I/O in flight (alternating modes, a slowed device under uringfs so
//     that SST writes are queued), close, delete; each cycle under a deadline.
//   * ExitWithFullQueues: a child process queues many MiB of SST appends over
//     a slow device and calls exit(0) without closing anything; it must exit 0
//     in time (once with the file system leaked, once with it in a static
//     whose destructor drains at exit: then every byte is on disk).
//
// This binary has its own main(): the exit test re-executes it as the child
// (environment URINGFS_TASK_EXIT_CHILD), so that the child starts with a fresh
// process-wide worker pool instead of a fork()ed copy of this one.

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "env/uring_file_system.h"
#include "rocksdb/cache.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "rocksdb/file_system.h"
#include "rocksdb/options.h"
#include "rocksdb/table.h"
#include "tests/testing/deadline.h"
#include "tests/testing/open_db.h"
#include "tests/testing/seam_fs.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/write_behind_options.h"
#include "uringfs/options.h"
#include "uringfs/stats.h"
#include "uringfs/task.h"
#include "uringfs/uringfs.h"

extern char** environ;

namespace uringfs {
namespace {

using rocksdb::FileOptions;
using rocksdb::FSWritableFile;
using rocksdb::IODebugContext;
using rocksdb::IOOptions;
using rocksdb::IOStatus;
using rocksdb::Slice;
using std::chrono::milliseconds;
using std::chrono::seconds;

using testing::Deadline;
using testing::SeamFileSystem;

// ---------------------------------------------------------------------------
// Helpers.
// ---------------------------------------------------------------------------

using testing::FreshDir;
using testing::RemoveTree;

// FileSystem::Default() whose appends to files ending in ".sst" sleep
// `delay_us` first (a slow device), so that uringfs's written-behind SST
// appends pile up in its queue.
std::shared_ptr<SeamFileSystem> SlowSstDevice(int64_t delay_us) {
  auto seam = std::make_shared<SeamFileSystem>();
  seam->SetAppendDelay(".sst", std::chrono::microseconds(delay_us));
  return seam;
}

std::string Key(uint64_t i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "key%010llu",
                static_cast<unsigned long long>(i));
  return buf;
}

// Deterministic per key; long enough that 64 KiB memtables fill quickly.
std::string Value(uint64_t i) {
  std::string v(120 + (i * 13) % 160, '\0');
  uint32_t x = static_cast<uint32_t>(i) * 2654435761u + 17u;
  for (char& c : v) {
    x = x * 1103515245u + 12345u;
    c = static_cast<char>('a' + (x >> 16) % 26);
  }
  return v;
}

rocksdb::Options DbOptions(rocksdb::Env* env) {
  rocksdb::Options o;
  o.env = env;
  o.create_if_missing = true;
  o.write_buffer_size = 64 << 10;  // SST flushes all the time.
  o.max_write_buffer_number = 4;
  o.target_file_size_base = 256 << 10;
  o.max_bytes_for_level_base = 1 << 20;
  o.level0_file_num_compaction_trigger = 4;
  o.max_background_jobs = 2;
  o.compression = rocksdb::kNoCompression;
  o.writable_file_max_buffer_size = 16 << 10;  // Several appends per SST.
  rocksdb::BlockBasedTableOptions t;
  t.block_cache = rocksdb::NewLRUCache(128 << 10);  // Reads reach the FS.
  t.block_size = 4096;
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  return o;
}

std::shared_ptr<rocksdb::FileSystem> NewUring(
    std::shared_ptr<rocksdb::FileSystem> base = nullptr) {
  if (base == nullptr) {
    std::shared_ptr<rocksdb::FileSystem> fs;
    rocksdb::Status s = NewUringFileSystem(testing::WriteBehindOptions(), &fs);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return fs;
  }
  return std::make_shared<UringFileSystem>(testing::WriteBehindOptions(), std::move(base));
}

// A database on a file system, with a writer and a reader thread.
class LoadedDb {
 public:
  LoadedDb(std::string dir, std::shared_ptr<rocksdb::FileSystem> fs)
      : dir_(std::move(dir)),
        fs_(std::move(fs)),
        env_(rocksdb::NewCompositeEnv(fs_)) {}
  ~LoadedDb() {
    Stop();
    Close();
  }

  rocksdb::Status Open() {
    rocksdb::DB* db = nullptr;
    rocksdb::Status s =
        uringfs::testing::OpenDb(DbOptions(env_.get()), dir_, &db);
    db_.reset(db);
    return s;
  }

  // `scan_every`: one async_io iterator scan every that many Gets.
  void Start(int scan_every = 16) {
    writer_ = std::thread([this] { WriterMain(); });
    reader_ = std::thread([this, scan_every] { ReaderMain(scan_every); });
  }
  void Stop() {
    stop_.store(true);
    if (writer_.joinable()) writer_.join();
    if (reader_.joinable()) reader_.join();
  }
  rocksdb::Status Close() {
    if (db_ == nullptr) return rocksdb::Status::OK();
    rocksdb::Status s = db_->Close();
    db_.reset();
    return s;
  }

  // From now on, errors other than wrong data are expected (the file system
  // is about to be shut down) and not reported.
  void Tolerate() { strict_.store(false); }

  uint64_t acked() const { return acked_.load(std::memory_order_acquire); }
  uint64_t gets() const { return gets_.load(); }
  uint64_t scans() const { return scans_.load(); }
  bool writer_failed() const { return writer_failed_.load(); }
  std::string writer_error() const {
    absl::MutexLock l(&mu_);
    return writer_error_;
  }
  std::vector<std::string> problems() const {
    absl::MutexLock l(&mu_);
    return problems_;
  }
  rocksdb::DB* db() const { return db_.get(); }
  rocksdb::FileSystem* fs() const { return fs_.get(); }
  const std::string& dir() const { return dir_; }

 private:
  void Problem(const std::string& p) {
    absl::MutexLock l(&mu_);
    if (problems_.size() < 20) problems_.push_back(p);
  }

  void WriterMain() {
    rocksdb::WriteOptions w;
    for (uint64_t i = acked(); !stop_.load(); ++i) {
      rocksdb::Status s = db_->Put(w, Key(i), Value(i));
      if (!s.ok()) {
        absl::MutexLock l(&mu_);
        writer_error_ = s.ToString();
        writer_failed_.store(true);
        return;
      }
      acked_.store(i + 1, std::memory_order_release);
    }
  }

  void ReaderMain(int scan_every) {
    std::mt19937_64 rng(std::hash<std::string>()(dir_));
    std::string v;
    for (uint64_t n = 0; !stop_.load(); ++n) {
      const uint64_t acked_now = acked();
      if (acked_now == 0) {
        std::this_thread::yield();
        continue;
      }
      const uint64_t k = rng() % acked_now;
      rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), Key(k), &v);
      gets_.fetch_add(1);
      if (s.ok()) {
        if (v != Value(k)) Problem("Get " + Key(k) + ": wrong value");
      } else if (strict_.load()) {  // Read now: Tolerate() precedes shutdown.
        Problem("Get " + Key(k) + ": " + s.ToString());
      }
      if (n % scan_every == 0) Scan(rng() % acked_now);
    }
  }

  // An async_io iterator over up to 300 keys from `from`: keys in order,
  // every value right, no gap among acknowledged keys.
  void Scan(uint64_t from) {
    rocksdb::ReadOptions ro;
    ro.async_io = true;
    ro.readahead_size = 64 << 10;
    const uint64_t acked_then = acked();
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro));
    uint64_t expect = from;
    int n = 0;
    for (it->Seek(Key(from)); it->Valid() && n < 300; it->Next(), ++n) {
      const std::string key = it->key().ToString();
      if (expect < acked_then && key != Key(expect)) {
        Problem("scan from " + Key(from) + ": expected " + Key(expect) +
                ", got " + key);
        return;
      }
      if (it->value() != Slice(Value(expect))) {
        Problem("scan: wrong value for " + key);
        return;
      }
      ++expect;
    }
    scans_.fetch_add(1);
    if (!it->status().ok() && strict_.load()) {
      Problem("scan from " + Key(from) + ": " + it->status().ToString());
    } else if (it->status().ok() && n < 300 && expect < acked_then) {
      Problem("scan from " + Key(from) + " ended at " + Key(expect) +
              " before the acknowledged " + Key(acked_then));
    }
  }

  const std::string dir_;
  const std::shared_ptr<rocksdb::FileSystem> fs_;
  const std::unique_ptr<rocksdb::Env> env_;
  std::unique_ptr<rocksdb::DB> db_;
  std::thread writer_, reader_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> strict_{true};
  // release/acquire: a reader that sees acked_ = n sees Put(n - 1) done.
  std::atomic<uint64_t> acked_{0};
  std::atomic<uint64_t> gets_{0};
  std::atomic<uint64_t> scans_{0};
  std::atomic<bool> writer_failed_{false};
  mutable absl::Mutex mu_;
  std::string writer_error_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> problems_ ABSL_GUARDED_BY(mu_);
};

// Every key below `n` is in the database at `dir`, opened with `env`, with
// its value; also checked by one async_io scan.
void ExpectKeys(const std::string& dir, rocksdb::Env* env, uint64_t n,
                const char* what) {
  SCOPED_TRACE(what);
  rocksdb::DB* raw = nullptr;
  rocksdb::Options o = DbOptions(env);
  o.create_if_missing = false;
  ASSERT_OK(uringfs::testing::OpenDb(o, dir, &raw));
  std::unique_ptr<rocksdb::DB> db(raw);
  std::string v;
  uint64_t missing = 0, wrong = 0;
  for (uint64_t i = 0; i < n; ++i) {
    rocksdb::Status s = db->Get(rocksdb::ReadOptions(), Key(i), &v);
    if (!s.ok()) {
      if (missing++ < 5) ADD_FAILURE() << Key(i) << ": " << s.ToString();
    } else if (v != Value(i)) {
      if (wrong++ < 5) ADD_FAILURE() << Key(i) << ": wrong value";
    }
  }
  EXPECT_EQ(missing, 0u) << "of " << n << " acknowledged keys";
  EXPECT_EQ(wrong, 0u);
  rocksdb::ReadOptions ro;
  ro.async_io = true;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro));
  uint64_t i = 0;
  for (it->SeekToFirst(); it->Valid() && i < n; it->Next(), ++i) {
    if (it->key() != Slice(Key(i)) || it->value() != Slice(Value(i))) {
      ADD_FAILURE() << "scan: at " << Key(i) << " found "
                    << it->key().ToString();
      break;
    }
  }
  EXPECT_OK(it->status());
  EXPECT_EQ(i, n) << "the scan saw fewer keys than were acknowledged";
  it.reset();
  EXPECT_OK(db->Close());
}

void ExpectNoProblems(const LoadedDb& db, const char* which) {
  for (const std::string& p : db.problems()) {
    ADD_FAILURE() << which << ": " << p;
  }
}

// ---------------------------------------------------------------------------
// Two databases; one file system shut down under load.
// ---------------------------------------------------------------------------

// Every key below `n` reads back from the open `db` with its value.
void ExpectKeysInOpenDb(rocksdb::DB* db, uint64_t n) {
  std::string v;
  for (uint64_t i = 0; i < n; ++i) {
    rocksdb::Status s = db->Get(rocksdb::ReadOptions(), Key(i), &v);
    ASSERT_OK(s) << Key(i);
    ASSERT_EQ(v, Value(i)) << Key(i);
  }
}

// Prints how many of the keys [acked_before, acked) of the database in `dir`
// (acknowledged after a kCancel shutdown started) survived.
void ReportSurvivorsAfterCancel(const std::string& dir, uint64_t acked_before,
                                uint64_t acked) {
  rocksdb::DB* raw = nullptr;
  rocksdb::Options o = DbOptions(rocksdb::Env::Default());
  if (uringfs::testing::OpenDb(o, dir, &raw).ok()) {
    std::unique_ptr<rocksdb::DB> db(raw);
    uint64_t later = 0;
    std::string v;
    for (uint64_t i = acked_before; i < acked; ++i) {
      if (db->Get(rocksdb::ReadOptions(), Key(i), &v).ok()) ++later;
    }
    std::printf(
        "kCancel: %llu of %llu keys acknowledged after the shutdown "
        "started survived\n",
        static_cast<unsigned long long>(later),
        static_cast<unsigned long long>(acked - acked_before));
    db->Close().PermitUncheckedError();
  }
}

// Prints what a run of ShutdownUnderLoadTest did.
void PrintRun(ShutdownMode mode, uint64_t a_acked_before, const LoadedDb& a,
              const UringFsStats& stats_a, const LoadedDb& b) {
  std::printf(
      "mode=%s A: %llu acked before the shutdown, %llu in all (%s); "
      "queued at shutdown %llu bytes, %llu appends queued so far. "
      "B: %llu acked, %llu gets, %llu scans\n",
      mode == ShutdownMode::kDrain ? "drain" : "cancel",
      static_cast<unsigned long long>(a_acked_before),
      static_cast<unsigned long long>(a.acked()), a.writer_error().c_str(),
      static_cast<unsigned long long>(stats_a.queued_bytes),
      static_cast<unsigned long long>(stats_a.appends_queued),
      static_cast<unsigned long long>(b.acked()),
      static_cast<unsigned long long>(b.gets()),
      static_cast<unsigned long long>(b.scans()));
}

class ShutdownUnderLoadTest : public ::testing::TestWithParam<ShutdownMode> {
 protected:
  void SetUp() override {
    dir_a_ = FreshDir("shutdown_a");
    dir_b_ = FreshDir("shutdown_b");
  }
  void TearDown() override {
    RemoveTree(dir_a_);
    RemoveTree(dir_b_);
  }

  // Every key database B (in dir_b_, on `fs_b`) acknowledged reads back
  // while it is open, then, closed, reopened through uringfs and through the
  // stock file system.
  void ExpectBKeptEveryKey(LoadedDb* b,
                           const std::shared_ptr<rocksdb::FileSystem>& fs_b) {
    const uint64_t b_acked = b->acked();
    {
      SCOPED_TRACE("B through uringfs, still open");
      ASSERT_NO_FATAL_FAILURE(ExpectKeysInOpenDb(b->db(), b_acked));
    }
    ASSERT_OK(b->Close());
    {
      std::unique_ptr<rocksdb::Env> env_b = rocksdb::NewCompositeEnv(fs_b);
      ExpectKeys(dir_b_, env_b.get(), b_acked, "B reopened through uringfs");
    }
    ExpectKeys(dir_b_, rocksdb::Env::Default(), b_acked,
               "B reopened with the stock file system");
  }

  std::string dir_a_, dir_b_;
};

TEST_P(ShutdownUnderLoadTest, OtherDatabaseKeepsRunningAndBothKeepTheirData) {
  const ShutdownMode mode = GetParam();
  Deadline deadline("ShutdownUnderLoad", seconds(80));
  // A: over a slowed device (SST appends queue up); B: plain uringfs.
  auto slow = SlowSstDevice(300);
  std::shared_ptr<rocksdb::FileSystem> fs_a = NewUring(slow);
  std::shared_ptr<rocksdb::FileSystem> fs_b = NewUring();
  ASSERT_NE(fs_b, nullptr);
  auto a = std::make_unique<LoadedDb>(dir_a_, fs_a);
  auto b = std::make_unique<LoadedDb>(dir_b_, fs_b);
  ASSERT_OK(a->Open());
  ASSERT_OK(b->Open());
  a->Start();
  b->Start();
  std::this_thread::sleep_for(milliseconds(1500));

  // A flush on its way while the file system goes.
  rocksdb::FlushOptions no_wait;
  no_wait.wait = false;
  a->db()->Flush(no_wait).PermitUncheckedError();  // May be stalled: fine.
  UringFsStats sa;
  ASSERT_OK(GetUringFsStats(*fs_a, &sa));
  const uint64_t a_acked_before = a->acked();
  const uint64_t b_acked_at_shutdown = b->acked();
  a->Tolerate();
  {
    Deadline d("ShutdownUringFileSystem under load", seconds(20));
    ASSERT_OK(ShutdownUringFileSystem(*fs_a, mode));
  }
  // B keeps going; A's writes stop.
  std::this_thread::sleep_for(milliseconds(1000));
  EXPECT_TRUE(
      testing::Eventually([&] { return a->writer_failed(); }, seconds(10)))
      << "A's writer still writes after its file system was shut down";
  EXPECT_FALSE(b->writer_failed()) << b->writer_error();
  EXPECT_GT(b->acked(), b_acked_at_shutdown)
      << "B stopped writing when A's file system was shut down";
  {
    Deadline d("stopping the loads", seconds(20));
    a->Stop();
    b->Stop();
  }
  ExpectNoProblems(*a, "A (wrong data)");
  ExpectNoProblems(*b, "B");
  PrintRun(mode, a_acked_before, *a, sa, *b);
  EXPECT_GT(sa.appends_queued, 0u) << "no SST was written behind before the "
                                      "shutdown: the test proves nothing";

  // B: every acknowledged key, through uringfs, then through the stock FS.
  ASSERT_NO_FATAL_FAILURE(ExpectBKeptEveryKey(b.get(), fs_b));

  // A: closes without hanging, then the stock file system finds its keys.
  const uint64_t a_acked = a->acked();
  {
    Deadline d("closing A after its shutdown", seconds(20));
    a->Close().PermitUncheckedError();
  }
  a.reset();
  ExpectKeys(dir_a_, rocksdb::Env::Default(),
             mode == ShutdownMode::kDrain ? a_acked : a_acked_before,
             "A reopened with the stock file system");
  if (mode == ShutdownMode::kCancel && a_acked > a_acked_before) {
    // Not required by the contract; reported for information.
    ReportSurvivorsAfterCancel(dir_a_, a_acked_before, a_acked);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Modes, ShutdownUnderLoadTest,
    ::testing::Values(ShutdownMode::kDrain, ShutdownMode::kCancel),
    [](const ::testing::TestParamInfo<ShutdownMode>& i) -> std::string {
      return i.param == ShutdownMode::kDrain ? "Drain" : "Cancel";
    });

// ---------------------------------------------------------------------------
// Cycles.
// ---------------------------------------------------------------------------

// The issue asks for 200 cycles, and 200 is what runs (URINGFS_TASK_CYCLES
// overrides, e.g. for a longer soak). A cycle costs ~50 ms of CPU, but when
// the shutdown fails a flush RocksDB's flush thread sleeps 1 s before it lets
// Close() finish (DBImpl::BackgroundCallFlush, "in case this is an
// environmental problem"), which about half of the cycles hit: one after the
// other, 200 cycles took ~170 s on this 2-core machine. The sleeps are idle
// time, so the cycles run in kLanes independent lanes (each its own file
// system and database, so shutdowns also happen while other databases run),
// with as many flush and compaction threads in the default Env's shared pools
// (otherwise the one flush thread serialises the sleeps again).
int CycleCount() {
  if (const char* e = std::getenv("URINGFS_TASK_CYCLES")) {
    return std::max(1, std::atoi(e));
  }
  return 200;
}
constexpr int kLanes = 8;

struct CycleTotals {
  std::atomic<uint64_t> acked{0}, queued{0}, with_queue{0}, done{0};
};

void RunCycle(const std::string& root, int c, std::mt19937* rng,
              CycleTotals* totals) {
  SCOPED_TRACE("cycle " + std::to_string(c));
  const ShutdownMode mode =
      c % 2 == 0 ? ShutdownMode::kDrain : ShutdownMode::kCancel;
  Deadline deadline("cycle " + std::to_string(c), seconds(10));
  const std::string dir = root + "/db" + std::to_string(c);
  auto slow = SlowSstDevice(500);
  std::shared_ptr<rocksdb::FileSystem> fs = NewUring(slow);
  auto db = std::make_unique<LoadedDb>(dir, fs);
  ASSERT_OK(db->Open());
  db->Start(/*scan_every=*/4);
  std::this_thread::sleep_for(milliseconds(15 + (*rng)() % 20));
  rocksdb::FlushOptions no_wait;  // An SST being written at the shutdown.
  no_wait.wait = false;
  db->db()->Flush(no_wait).PermitUncheckedError();  // May be stalled.
  std::this_thread::sleep_for(milliseconds((*rng)() % 3));
  UringFsStats st;
  ASSERT_OK(GetUringFsStats(*fs, &st));
  totals->queued += st.appends_queued;
  if (st.queued_bytes > 0) ++totals->with_queue;
  const uint64_t acked_before = db->acked();
  db->Tolerate();
  ASSERT_OK(ShutdownUringFileSystem(*fs, mode));
  db->Stop();
  ExpectNoProblems(*db, "wrong data");
  db->Close().PermitUncheckedError();
  db.reset();
  totals->acked += acked_before;
  if (c % 10 == 9) {
    ExpectKeys(dir, rocksdb::Env::Default(), acked_before,
               "reopened with the stock file system after the shutdown");
  }
  fs.reset();
  rocksdb::Options o;
  o.env = rocksdb::Env::Default();
  rocksdb::DestroyDB(dir, o).PermitUncheckedError();
  RemoveTree(dir);
  ++totals->done;
}

TEST(ShutdownCycleTest, OpenLoadShutdownWithIoInFlightCycles) {
  const int cycles = CycleCount();
  const std::string root = FreshDir("cycles");
  const auto start = std::chrono::steady_clock::now();
  CycleTotals totals;
  rocksdb::Env::Default()->SetBackgroundThreads(kLanes + 1,
                                                rocksdb::Env::Priority::HIGH);
  rocksdb::Env::Default()->SetBackgroundThreads(kLanes + 1,
                                                rocksdb::Env::Priority::LOW);
  std::vector<std::thread> lanes;
  for (int lane = 0; lane < kLanes; ++lane) {
    lanes.emplace_back([&, lane] {
      std::mt19937 rng(42 + lane);
      for (int c = lane; c < cycles; c += kLanes) {
        RunCycle(root, c, &rng, &totals);
        if (::testing::Test::HasFailure()) break;
      }
    });
  }
  for (std::thread& t : lanes) t.join();
  RemoveTree(root);
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  std::printf(
      "%llu of %d cycles in %.1f s (%d lanes): %llu keys acked before "
      "shutdowns, %llu SST appends queued, %llu cycles had bytes "
      "queued at shutdown\n",
      static_cast<unsigned long long>(totals.done.load()), cycles, secs, kLanes,
      static_cast<unsigned long long>(totals.acked.load()),
      static_cast<unsigned long long>(totals.queued.load()),
      static_cast<unsigned long long>(totals.with_queue.load()));
  EXPECT_EQ(totals.done.load(), static_cast<uint64_t>(cycles));
  EXPECT_GT(totals.queued.load(), 0u)
      << "no SST appends were ever written behind";
  EXPECT_GT(totals.with_queue.load(), 0u)
      << "no shutdown ever found written-behind bytes queued: no I/O was in "
         "flight";
}

// ---------------------------------------------------------------------------
// Process exit with full queues.
// ---------------------------------------------------------------------------

constexpr int kExitFiles = 4;
constexpr int kExitAppends = 24;          // Per file.
constexpr size_t kExitChunk = 256 << 10;  // 4 x 24 x 256 KiB = 24 MiB.
constexpr int64_t kExitDelayUs = 20000;   // Per append: ~2 s of queued work.

int ExitChildMain(const std::string& dir, const std::string& mode) {
  static std::shared_ptr<rocksdb::FileSystem> static_fs;
  auto slow = SlowSstDevice(kExitDelayUs);
  std::shared_ptr<rocksdb::FileSystem> fs = NewUring(slow);
  if (mode == "static") {
    static_fs = fs;  // Its destructor runs at exit(): drains.
  } else {
    new std::shared_ptr<rocksdb::FileSystem>(fs);  // Leaked on purpose.
  }
  std::vector<FSWritableFile*> files;  // Never closed, never deleted.
  const std::string chunk(kExitChunk, 'x');
  for (int f = 0; f < kExitFiles; ++f) {
    std::unique_ptr<FSWritableFile> w;
    IOStatus s = fs->NewWritableFile(dir + "/" + std::to_string(f) + ".sst",
                                     FileOptions(), &w, nullptr);
    if (!s.ok()) {
      std::fprintf(stderr, "child: open: %s\n", s.ToString().c_str());
      return 2;
    }
    files.push_back(w.release());
  }
  for (int i = 0; i < kExitAppends; ++i) {
    for (FSWritableFile* w : files) {
      IOStatus s = w->Append(chunk, IOOptions(), nullptr);
      if (!s.ok()) {
        std::fprintf(stderr, "child: append: %s\n", s.ToString().c_str());
        return 2;
      }
    }
  }
  UringFsStats st;
  GetUringFsStats(*fs, &st).PermitUncheckedError();
  {
    std::ofstream out(dir + "/queued");
    out << st.queued_bytes << "\n";
  }
  std::fprintf(stderr, "child (%s): exit(0) with %llu bytes queued\n",
               mode.c_str(), static_cast<unsigned long long>(st.queued_bytes));
  fs.reset();
  slow.reset();
  std::exit(0);
}

class ExitWithFullQueuesTest : public ::testing::TestWithParam<const char*> {};

// The environment of the exit test's child: this process's, with the child's
// directory and mode, and leak detection off (the child leaks its file
// system and files on purpose, exiting without closing anything: under ASan,
// LeakSanitizer must not turn that into a non-zero exit status).
std::vector<std::string> ExitChildEnvironment(const std::string& dir,
                                              const std::string& mode) {
  std::vector<std::string> env = {"URINGFS_TASK_EXIT_CHILD=" + dir,
                                  "URINGFS_TASK_EXIT_MODE=" + mode};
  std::string asan = "ASAN_OPTIONS=detect_leaks=0";
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::strncmp(*e, "ASAN_OPTIONS=", 13) == 0) {
      asan = std::string(*e) + ":detect_leaks=0";
    } else if (std::strncmp(*e, "URINGFS_TASK_EXIT_", 18) != 0) {
      env.push_back(*e);
    }
  }
  env.push_back(asan);
  return env;
}

// Waits for the child `pid` until `deadline`: true with its `*status` if it
// exited by then; else kills it (SIGKILL), reaps it and returns false.
bool WaitOrKill(pid_t pid, std::chrono::steady_clock::time_point deadline,
                int* status) {
  while (std::chrono::steady_clock::now() < deadline) {
    if (::waitpid(pid, status, WNOHANG) == pid) return true;
    std::this_thread::sleep_for(milliseconds(10));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, status, 0);
  return false;
}

TEST_P(ExitWithFullQueuesTest, ChildExitsZeroInTime) {
  const std::string mode = GetParam();
  const std::string dir = FreshDir(std::string("exit_") + mode);
  // Everything the child needs, prepared before fork().
  std::vector<std::string> env_strings = ExitChildEnvironment(dir, mode);
  std::vector<char*> envp;
  for (std::string& s : env_strings) envp.push_back(&s[0]);
  envp.push_back(nullptr);
  char exe[4096];
  const ssize_t n = ::readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  ASSERT_GT(n, 0) << std::strerror(errno);
  exe[n] = '\0';
  char* argv[] = {exe, nullptr};

  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0) << std::strerror(errno);
  if (pid == 0) {
    ::execve(exe, argv, envp.data());
    ::_exit(127);
  }
  int status = 0;
  const bool exited = WaitOrKill(pid, start + seconds(20), &status);
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  ASSERT_TRUE(exited) << "the child (" << mode
                      << ") did not exit within 20 s after exit(0)";
  ASSERT_TRUE(WIFEXITED(status))
      << "the child was killed by signal "
      << (WIFSIGNALED(status) ? WTERMSIG(status) : -1);
  EXPECT_EQ(WEXITSTATUS(status), 0);
  std::ifstream in(dir + "/queued");
  uint64_t queued = 0;
  in >> queued;
  EXPECT_GT(queued, uint64_t{1} << 20)
      << "the child exited without a full queue: the test proves nothing";
  std::printf("%s: the child exited after %.2f s with %llu bytes queued\n",
              mode.c_str(), secs, static_cast<unsigned long long>(queued));
  if (mode == std::string("static")) {
    // The file system's destructor ran at exit and drained every write.
    for (int f = 0; f < kExitFiles; ++f) {
      struct stat st;
      ASSERT_EQ(::stat((dir + "/" + std::to_string(f) + ".sst").c_str(), &st),
                0);
      EXPECT_EQ(static_cast<uint64_t>(st.st_size), kExitAppends * kExitChunk)
          << f << ".sst";
    }
  }
  RemoveTree(dir);
}

INSTANTIATE_TEST_SUITE_P(Modes, ExitWithFullQueuesTest,
                         ::testing::Values("leaked", "static"));

}  // namespace
}  // namespace uringfs

// Under ASan: Debian's RocksDB 7.8.3 allocates a ReadAsyncInfo in
// RandomAccessFileReader::ReadAsync and frees it only in the read's callback,
// so every ReadAsync that a shut-down file system refuses (and every aborted
// one) leaks it inside librocksdb, whatever the file system. Not uringfs's
// leak; suppressed by name so that any other leak still fails the run.
extern "C" const char* __lsan_default_suppressions() {
  return "leak:rocksdb::RandomAccessFileReader::ReadAsync\n";
}

int main(int argc, char** argv) {
  if (const char* dir = std::getenv("URINGFS_TASK_EXIT_CHILD")) {
    const char* mode = std::getenv("URINGFS_TASK_EXIT_MODE");
    return uringfs::ExitChildMain(dir, mode != nullptr ? mode : "leaked");
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
