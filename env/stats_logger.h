// -----------------------------------------------------------------------------
// env/stats_logger.h
// -----------------------------------------------------------------------------
//
// `StatsLogger` wraps the info log that RocksDB opens through a uringfs file
// system. It forwards everything, and when the log is closed (DB close) or
// destroyed it appends one line with the file system's counters
// (`UringFsStats::ToString()`), so a `db_bench` or production run leaves its
// uringfs statistics — average requests per MultiRead, fallbacks — in the
// database's LOG. The counters are those of the whole file system since its
// creation, not of this database alone.
//
// Thread-safety: as the wrapped logger; the final dump happens once.

#ifndef URINGFS_ENV_STATS_LOGGER_H_
#define URINGFS_ENV_STATS_LOGGER_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "rocksdb/env.h"

namespace uringfs {

class StatsLogger final : public rocksdb::LoggerWrapper {
 public:
  // `stats` returns the line to append; it must stay callable for the
  // logger's whole life (capture shared state by value).
  StatsLogger(std::shared_ptr<rocksdb::Logger> target,
              std::function<std::string()> stats);
  StatsLogger(const StatsLogger&) = delete;
  StatsLogger& operator=(const StatsLogger&) = delete;
  ~StatsLogger() override;

  rocksdb::Status Close() override;

 private:
  void DumpOnce();

  const std::shared_ptr<rocksdb::Logger> target_;
  const std::function<std::string()> stats_;
  // Set by the first of Close() and the destructor. Acquire/release so the
  // dump is written exactly once even if they race.
  std::atomic<bool> dumped_{false};
};

}  // namespace uringfs

#endif  // URINGFS_ENV_STATS_LOGGER_H_
