// stats_dump_period_sec with a real database: the `uringfs stats:` line
// reaches the database's LOG every period while it is open, only at close
// with 0, and closing the database stops the dumps at once.

#include <chrono>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "rocksdb/convenience.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "rocksdb/file_system.h"
#include "rocksdb/options.h"
#include "tests/stats/stats_threads.h"
#include "tests/testing/deadline.h"
#include "tests/testing/open_db.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace uringfs {
namespace {

using std::chrono::milliseconds;
using testing::Eventually;
using testing::StatsThreads;

class StatsDumpDbTest : public ::testing::Test {
 protected:
  void TearDown() override {
    db_.reset();
    if (!dir_.empty()) testing::RemoveTree(dir_);
  }

  void Open(const std::string& uri) {
    ASSERT_OK(rocksdb::FileSystem::CreateFromString(rocksdb::ConfigOptions(),
                                                    uri, &fs_));
    env_ = rocksdb::NewCompositeEnv(fs_);
    dir_ = testing::FreshDir("stats_dump");
    rocksdb::Options o;
    o.env = env_.get();
    o.create_if_missing = true;
    o.stats_dump_period_sec = 0;  // Only uringfs's lines in the LOG.
    rocksdb::DB* db = nullptr;
    ASSERT_OK(uringfs::testing::OpenDb(o, dir_ + "/db", &db));
    db_.reset(db);
    ASSERT_OK(db_->Put(rocksdb::WriteOptions(), "k", "v"));
  }

  // Closes the database; returns how long Close() took.
  milliseconds Close() {
    const auto start = std::chrono::steady_clock::now();
    EXPECT_OK(db_->Close());
    db_.reset();
    return std::chrono::duration_cast<milliseconds>(
        std::chrono::steady_clock::now() - start);
  }

  int StatsLinesInLog() const {
    std::ifstream log(dir_ + "/db/LOG");
    std::string line;
    int n = 0;
    while (std::getline(log, line)) {
      n += line.find(" uringfs stats: ") != std::string::npos ? 1 : 0;
    }
    return n;
  }

  std::shared_ptr<rocksdb::FileSystem> fs_;
  std::unique_ptr<rocksdb::Env> env_;
  std::string dir_;
  std::unique_ptr<rocksdb::DB> db_;
};

TEST_F(StatsDumpDbTest, PeriodOfOneSecondDumpsTwiceWithinThreeSeconds) {
  Open("uringfs://?stats_dump_period_sec=1");
  EXPECT_TRUE(
      Eventually([&] { return StatsLinesInLog() >= 2; }, milliseconds(3000)))
      << StatsLinesInLog() << " uringfs stats lines in the LOG";
  const int open_lines = StatsLinesInLog();
  Close();
  EXPECT_GE(StatsLinesInLog(), open_lines + 1);  // And the one at close.
}

TEST_F(StatsDumpDbTest, PeriodZeroDumpsOnlyAtCloseAndStartsNoThread) {
  const int threads_before = StatsThreads();
  Open("uringfs://?stats_dump_period_sec=0");
  EXPECT_EQ(StatsThreads(), threads_before);
  std::this_thread::sleep_for(milliseconds(1500));
  EXPECT_EQ(StatsLinesInLog(), 0);
  Close();
  EXPECT_EQ(StatsLinesInLog(), 1);
}

TEST_F(StatsDumpDbTest, ClosingTheDbStopsTheDumpsPromptly) {
  const int threads_before = StatsThreads();
  Open("uringfs://");  // The default period: 600 s.
  EXPECT_EQ(StatsThreads(), threads_before + 1);
  EXPECT_LT(Close().count(), 2000);
  EXPECT_EQ(StatsThreads(), threads_before);
  EXPECT_EQ(StatsLinesInLog(), 1);
}

TEST_F(StatsDumpDbTest, NothingIsDumpedAfterTheDbClosed) {
  Open("uringfs://?stats_dump_period_sec=1");
  ASSERT_TRUE(
      Eventually([&] { return StatsLinesInLog() >= 1; }, milliseconds(3000)));
  EXPECT_LT(Close().count(), 2000);
  const int at_close = StatsLinesInLog();
  std::this_thread::sleep_for(milliseconds(1500));
  EXPECT_EQ(StatsLinesInLog(), at_close);
}

}  // namespace
}  // namespace uringfs
