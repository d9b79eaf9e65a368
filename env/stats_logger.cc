#include "env/stats_logger.h"

#include <cstdarg>
#include <utility>

#include "base/fork_generation.h"

namespace uringfs {
namespace {

void WriteStatsLine(rocksdb::Logger* logger, const char* format, ...) {
  va_list ap;
  va_start(ap, format);
  logger->Logv(format, ap);  // Level-less: always written.
  va_end(ap);
}

}  // namespace

StatsLogger::StatsLogger(std::shared_ptr<rocksdb::Logger> target,
                         std::function<std::string()> stats,
                         uint32_t period_sec)
    : rocksdb::LoggerWrapper(target.get()),
      generation_(ForkGeneration()),
      target_(std::move(target)),
      stats_(std::move(stats)) {
  if (period_sec > 0) {
    periodic_ = std::make_unique<PeriodicThread>(
        absl::Seconds(period_sec), [this] { Dump(); }, "uringfs-stats");
  }
}

StatsLogger::~StatsLogger() { DumpOnce(); }

rocksdb::Status StatsLogger::Close() {
  DumpOnce();
  return rocksdb::LoggerWrapper::Close();
}

void StatsLogger::Dump() {
  try {
    WriteStatsLine(target_.get(), "uringfs stats: %s", stats_().c_str());
    target_->Flush();
  } catch (...) {
    // Statistics are best effort; never let them disturb the database.
  }
}

void StatsLogger::DumpOnce() {
  if (periodic_ != nullptr) periodic_->Stop();
  if (ForkedSince(generation_)) return;  // The parent's counters.
  if (dumped_.exchange(true, std::memory_order_acq_rel)) return;
  Dump();
}

}  // namespace uringfs
