// StatsLogger over a recording logger: periodic `uringfs stats:` lines while
// the log is open, one final line at close, nothing written to the wrapped
// log after it is closed, no thread with period 0, and nothing written (and
// nothing waited for) in a child of fork().

#include "env/stats_logger.h"

#include <atomic>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "absl/synchronization/mutex.h"
#include "tests/stats/stats_threads.h"
#include "tests/testing/child_process.h"
#include "tests/testing/deadline.h"

namespace uringfs {
namespace {

using std::chrono::milliseconds;
using testing::Eventually;
using testing::StatsThreads;

// Keeps every line; a line written after Close() is counted as an error.
class RecordingLogger final : public rocksdb::Logger {
 public:
  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override {
    char buf[512];
    std::vsnprintf(buf, sizeof(buf), format, ap);
    absl::MutexLock l(&mu_);
    if (closed_) ++after_close_;
    lines_.push_back(buf);
  }

  int StatsLines() const {
    absl::MutexLock l(&mu_);
    int n = 0;
    for (const std::string& line : lines_) {
      n += line.rfind("uringfs stats: ", 0) == 0 ? 1 : 0;
    }
    return n;
  }

  int after_close() const {
    absl::MutexLock l(&mu_);
    return after_close_;
  }

 protected:
  rocksdb::Status CloseImpl() override {
    absl::MutexLock l(&mu_);
    closed_ = true;
    return rocksdb::Status::OK();
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<std::string> lines_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  int after_close_ ABSL_GUARDED_BY(mu_) = 0;
};

std::unique_ptr<StatsLogger> Wrap(const std::shared_ptr<RecordingLogger>& log,
                                  uint32_t period_sec) {
  return std::make_unique<StatsLogger>(
      log, [] { return std::string("reads=1"); }, period_sec);
}

TEST(StatsLoggerTest, PeriodOfOneSecondWritesTwoLinesWithinThreeSeconds) {
  auto log = std::make_shared<RecordingLogger>();
  auto stats = Wrap(log, 1);
  EXPECT_TRUE(
      Eventually([&] { return log->StatsLines() >= 2; }, milliseconds(3000)));
  EXPECT_TRUE(stats->Close().ok());
}

TEST(StatsLoggerTest, PeriodZeroWritesOnlyAtCloseAndStartsNoThread) {
  const int threads_before = StatsThreads();
  auto log = std::make_shared<RecordingLogger>();
  auto stats = Wrap(log, 0);
  EXPECT_EQ(StatsThreads(), threads_before);
  std::this_thread::sleep_for(milliseconds(1200));
  EXPECT_EQ(log->StatsLines(), 0);
  EXPECT_TRUE(stats->Close().ok());
  EXPECT_EQ(log->StatsLines(), 1);
  stats.reset();
  EXPECT_EQ(log->StatsLines(), 1);  // Once, not again when destroyed.
}

TEST(StatsLoggerTest, NothingIsWrittenToTheLogAfterItIsClosed) {
  auto log = std::make_shared<RecordingLogger>();
  auto stats = Wrap(log, 1);
  ASSERT_TRUE(
      Eventually([&] { return log->StatsLines() >= 1; }, milliseconds(3000)));
  EXPECT_TRUE(stats->Close().ok());
  const int at_close = log->StatsLines();
  std::this_thread::sleep_for(milliseconds(1500));
  EXPECT_EQ(log->StatsLines(), at_close);
  EXPECT_EQ(log->after_close(), 0);
}

TEST(StatsLoggerTest, CloseStopsTheThreadPromptlyWhateverThePeriod) {
  const int threads_before = StatsThreads();
  auto log = std::make_shared<RecordingLogger>();
  auto stats = Wrap(log, 600);
  EXPECT_EQ(StatsThreads(), threads_before + 1);
  testing::Background close([&] { EXPECT_TRUE(stats->Close().ok()); });
  EXPECT_TRUE(close.Finished(milliseconds(1000)));
  EXPECT_EQ(StatsThreads(), threads_before);
  EXPECT_EQ(log->StatsLines(), 1);
}

TEST(StatsLoggerTest, DestroyingAnUnclosedLoggerStopsAndDumpsOnce) {
  auto log = std::make_shared<RecordingLogger>();
  auto stats = Wrap(log, 600);
  testing::Background destroy([&] { stats.reset(); });
  EXPECT_TRUE(destroy.Finished(milliseconds(1000)));
  EXPECT_EQ(log->StatsLines(), 1);
}

TEST(StatsLoggerTest, ChildOfForkWritesNoCountersAndDoesNotWait) {
  auto log = std::make_shared<RecordingLogger>();
  auto stats = Wrap(log, 1);
  testing::ExpectChildPasses(
      [&] {
        const int before = log->StatsLines();
        EXPECT_TRUE(stats->Close().ok());
        stats.reset();
        EXPECT_EQ(log->StatsLines(), before);
      },
      /*alarm_seconds=*/5);
  EXPECT_TRUE(stats->Close().ok());  // The parent's logger is unaffected.
  EXPECT_GE(log->StatsLines(), 1);
}

}  // namespace
}  // namespace uringfs
