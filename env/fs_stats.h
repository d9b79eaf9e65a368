// -----------------------------------------------------------------------------
// env/fs_stats.h
// -----------------------------------------------------------------------------
//
// Collects a uringfs file system's counters into the public `UringFsStats`
// (uringfs/stats.h, which also formats them): the RocksDB-level read calls,
// the read engine's work, the write scheduler's, the tasks' cancellations
// and the process queue's workers. Reading counters sets nothing up.
//
// Thread-safety: safe for concurrent use; every counter is read with relaxed
// order (statistics only), so the snapshot is not atomic as a whole.

#ifndef URINGFS_ENV_FS_STATS_H_
#define URINGFS_ENV_FS_STATS_H_

#include <cstdint>

#include "env/fs_tasks.h"
#include "env/rocks_read_counters.h"
#include "env/read_ahead.h"
#include "env/uring/read_engine.h"
#include "env/write_scheduler.h"
#include "uringfs/stats.h"

namespace uringfs {

// The parts of a file system whose counters are collected; any pointer may
// be null (that part is not set up yet, e.g. no file opened or written).
struct StatsSources {
  const RocksReadCounters* rocks = nullptr;
  const uring::ReadEngine* engine = nullptr;
  const WriteScheduler* writes = nullptr;
  const FsTasks* tasks = nullptr;
  const ReadAheadShared* read_ahead = nullptr;
};

// CollectStats()
//
// A snapshot of the counters of `from`.
UringFsStats CollectStats(const StatsSources& from);

}  // namespace uringfs

#endif  // URINGFS_ENV_FS_STATS_H_
