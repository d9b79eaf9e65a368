// -----------------------------------------------------------------------------
// env/rocks_read_counters.h
// -----------------------------------------------------------------------------
//
// `RocksReadCounters`: how often RocksDB called a uringfs file system's read
// entry points. Statistics only: relaxed, sharded counters (base/counter.h),
// independent of each other and of the data. Thread-safe.

#ifndef URINGFS_ENV_ROCKS_READ_COUNTERS_H_
#define URINGFS_ENV_ROCKS_READ_COUNTERS_H_

#include "base/counter.h"

namespace uringfs {

struct RocksReadCounters {
  ShardedCounter reads;
  ShardedCounter multi_reads;
  ShardedCounter multi_read_requests;
  ShardedCounter multi_read_nanos;  // Wall time inside MultiRead.
  ShardedCounter async_reads;
};

}  // namespace uringfs

#endif  // URINGFS_ENV_ROCKS_READ_COUNTERS_H_
