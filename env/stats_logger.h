// -----------------------------------------------------------------------------
// env/stats_logger.h
// -----------------------------------------------------------------------------
//
// `StatsLogger` wraps the info log that RocksDB opens through a uringfs file
// system. It forwards everything, and appends a line with the file system's
// counters (`uringfs stats: ` and `UringFsStats::ToString()`):
//
//   * every `period_sec` seconds while the log is open (the file system's
//     `stats_dump_period_sec`), from a thread of its own (env/
//     periodic_thread.h); with 0 there is no such thread;
//   * once more when the log is closed (DB close) or destroyed, whichever
//     comes first.
//
// So a `db_bench` or production run leaves its uringfs statistics — average
// requests per MultiRead, fallbacks — in the database's LOG, also while it
// runs. The counters are those of the whole file system since its creation,
// not of this database alone.
//
// Lifetime: the periodic thread writes only between construction and the
// first of `Close()` and the destructor, which stop it (waiting at most for
// a line being written) before the final line and before the wrapped log is
// closed: nothing is written to a closed log. The thread holds no reference
// to this logger, so it never keeps the logger (or the process) alive.
//
// fork(): in a child, a logger created before the fork writes no counters
// (they are the parent's, and collecting them takes locks that a parent
// thread may have held when the process forked); it only forwards.
//
// Thread-safety: as the wrapped logger; the final dump happens once.

#ifndef URINGFS_ENV_STATS_LOGGER_H_
#define URINGFS_ENV_STATS_LOGGER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "env/periodic_thread.h"
#include "rocksdb/env.h"

namespace uringfs {

class StatsLogger final : public rocksdb::LoggerWrapper {
 public:
  // `stats` returns the counters' text; it must stay callable for the
  // logger's whole life (capture shared state by value) and is called from
  // the periodic thread too. `period_sec` 0: at close only.
  StatsLogger(std::shared_ptr<rocksdb::Logger> target,
              std::function<std::string()> stats, uint32_t period_sec);
  StatsLogger(const StatsLogger&) = delete;
  StatsLogger& operator=(const StatsLogger&) = delete;
  ~StatsLogger() override;

  rocksdb::Status Close() override;

 private:
  // Writes one `uringfs stats:` line and flushes it to the file.
  void Dump();
  // Stops the periodic dumps, then dumps once for all.
  void DumpOnce();

  const uint64_t generation_;  // ForkGeneration() at construction.
  const std::shared_ptr<rocksdb::Logger> target_;
  const std::function<std::string()> stats_;
  // Set by the first of Close() and the destructor. Acquire/release so the
  // dump is written exactly once even if they race.
  std::atomic<bool> dumped_{false};
  // Null when `period_sec` is 0. Last: it calls Dump(), which uses the
  // members above.
  std::unique_ptr<PeriodicThread> periodic_;
};

}  // namespace uringfs

#endif  // URINGFS_ENV_STATS_LOGGER_H_
