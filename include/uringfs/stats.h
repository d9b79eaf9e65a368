// -----------------------------------------------------------------------------
// uringfs/stats.h
// -----------------------------------------------------------------------------
//
// `UringFsStats` is a snapshot of what a uringfs file system has done: whether
// it reads through io_uring (and why not, if it does not), counters of reads
// by kind and by path, and of writes (queued or direct, budget, errors).
// Counters are monotonic from the file system's creation; two snapshots may be
// subtracted.
//
// Thread-safety: `GetUringFsStats` is safe for concurrent use with any I/O;
// each counter is read atomically, the snapshot as a whole is not.

#ifndef URINGFS_STATS_H_
#define URINGFS_STATS_H_

#include <cstdint>
#include <string>

#include "rocksdb/file_system.h"
#include "rocksdb/status.h"

namespace uringfs {

struct UringFsStats {
  // One line: "io_uring: on (...)" or why reads use pread instead.
  std::string io_uring;
  bool io_uring_in_use = false;

  // RocksDB-level calls.
  uint64_t reads = 0;                // FSRandomAccessFile::Read
  uint64_t multi_reads = 0;          // FSRandomAccessFile::MultiRead
  uint64_t multi_read_requests = 0;  // Requests in those MultiReads.
  uint64_t multi_read_nanos = 0;     // Wall time spent inside MultiRead.
  uint64_t async_reads = 0;          // FSRandomAccessFile::ReadAsync

  // How reads were served (one "op" per request).
  uint64_t ops_uring = 0;             // Through io_uring.
  uint64_t ops_pread = 0;             // Through the pread fallback.
  uint64_t ops_cached = 0;            // Single buffered reads answered from
                                      // the page cache (RWF_NOWAIT) before
                                      // the ring; the rest went to the ring.
  uint64_t sqes_submitted = 0;        // Synchronous-read SQEs.
  uint64_t resubmitted = 0;           // Re-reads after short/EAGAIN/EINTR.
  uint64_t rings_created = 0;         // Rings set up for synchronous reads.
  uint64_t ring_setup_failures = 0;   // Ring setups that failed after probe.
  uint64_t rings_abandoned = 0;       // Rings given up on (fallback to pread).
  uint64_t rescued = 0;               // Reads the ring failed for reasons not
                                      // about the file (EAGAIN beyond the
                                      // retry bound, submitter exited),
                                      // finished with pread.
  uint64_t async_submitted = 0;       // Async reads handed to the kernel.
  uint64_t async_sync_fallbacks = 0;  // Async reads done at once with pread.
  uint64_t async_cancels = 0;         // Cancellations sent by AbortIO.
  // Reading ahead of asynchronous scans (`max_read_ahead_bytes`): reads
  // started ahead, taken over by a request, and dropped unused.
  uint64_t read_ahead_started = 0;
  uint64_t read_ahead_used = 0;
  uint64_t read_ahead_dropped = 0;

  // Writes. "Queued" appends were written behind by a worker (SST files by
  // default, see `write_behind`); "direct" ones by the calling thread.
  uint64_t appends_queued = 0;
  uint64_t appends_direct = 0;
  uint64_t bytes_queued = 0;
  uint64_t bytes_direct = 0;
  uint64_t budget_waits = 0;       // Appends that waited for budget.
  uint64_t queued_bytes = 0;       // Bytes queued right now.
  uint64_t peak_queued_bytes = 0;  // Most bytes ever queued at once.
  uint64_t max_queued_bytes = 0;   // The budgets in force (options).
  uint64_t max_queued_bytes_per_file = 0;
  uint64_t write_drains = 0;      // Barriers that waited for the queue.
  uint64_t write_errors = 0;      // Queued operations that failed.
  uint64_t writes_cancelled = 0;  // Queued operations cancelled.
  uint64_t write_workers = 0;     // Worker threads of the process pool.
  uint64_t creds_switches = 0;    // Process-wide credential switches.

  // Task cancellations (uringfs/task.h), by outcome, and the asynchronous
  // reads they (or a shutdown) asked the kernel to stop.
  uint64_t cancels_cancelled = 0;
  uint64_t cancels_running = 0;
  uint64_t cancels_not_found = 0;
  uint64_t async_reads_cancelled = 0;

  // Requests per MultiRead call: the queue depth uringfs could reach.
  double AverageRequestsPerMultiRead() const {
    return multi_reads == 0 ? 0.0
                            : static_cast<double>(multi_read_requests) /
                                  static_cast<double>(multi_reads);
  }

  // Requests per second while inside MultiRead: the device rate uringfs
  // achieved for the batches RocksDB gave it (RocksDB's own work between
  // batches excluded).
  double MultiReadRequestsPerSecond() const {
    return multi_read_nanos == 0
               ? 0.0
               : 1e9 * static_cast<double>(multi_read_requests) /
                     static_cast<double>(multi_read_nanos);
  }

  // Every field on one line, "key=value" separated by spaces.
  std::string ToString() const;
};

// GetUringFsStats()
//
// Fills `*stats` from `fs` and returns OK, or returns InvalidArgument if `fs`
// is not a uringfs file system. Sets nothing up: before the first file is
// opened, io_uring is "not probed yet" and options can still change.
rocksdb::Status GetUringFsStats(const rocksdb::FileSystem& fs,
                                UringFsStats* stats);

}  // namespace uringfs

#endif  // URINGFS_STATS_H_
