// -----------------------------------------------------------------------------
// env/read_ahead.h
// -----------------------------------------------------------------------------
//
// `ReadAhead` deepens RocksDB's asynchronous prefetching of a direct-I/O
// file. RocksDB's prefetch buffer keeps one `ReadAsync` in flight while it
// consumes the previous one, so a scan waits for one device read at a time;
// devices deliver far more with two or more in flight. When a file's
// `ReadAsync` requests follow one another (each starts where the previous
// one ended), `ReadAhead` starts reading the range the next request will
// most likely ask for, into a buffer of uringfs's own: the next request that
// lies inside it takes that read over (its bytes are copied into the
// request's buffer when it is reported), and a new read ahead starts after
// it. A request that does not fit drops the read ahead and is read as usual.
//
// A read ahead starts only after two sequential requests of 64 KiB or more
// (RocksDB's readahead starts at 8 KiB and doubles, so short scans never get
// that far and never leave read-ahead bytes unused), and only while the
// device is behind the scan: the file's last `Poll` waited 100 µs or more
// for its read. On a device that keeps up, a read ahead's costs (a copy of
// its bytes, and a read nobody uses at the end of each scan) would exceed
// what it saves; while the device lags, the scan waits less. A read ahead
// is as long as the request that started it (at most 4 MiB): by the time a
// stream qualifies, RocksDB's readahead has usually reached its limit, and
// a request that doubled once more simply reads as usual and starts the
// next read ahead at its own length. At most one read ahead per file; all of a
// file system's read-ahead buffers together stay under `max_bytes` (none
// starts while they would not). Page-cache (buffered) files have the
// kernel's own readahead and never use this. A read ahead belongs to the
// task of the request that started it, and only that task's requests take
// it over. A read ahead the async ring has no room for is not made: it is
// never read with pread on the caller's thread, which would make the scan
// wait for bytes it may not need.
//
// Promises kept: every request gets its own bytes or its own error (a read
// ahead that failed anywhere makes the request read its own range again);
// a dropped read ahead never waits for the device (its buffer is uringfs's);
// RocksDB's buffers are only ever written by the copy at report time.
//
// Thread-safety: safe for concurrent use; RocksDB's iterators on different
// threads may share one file (their streams then rarely look sequential and
// simply read as usual).

#ifndef URINGFS_ENV_READ_AHEAD_H_
#define URINGFS_ENV_READ_AHEAD_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "base/counter.h"
#include "env/async_read_handle.h"
#include "rocksdb/file_system.h"

namespace uringfs {

// Statistics of a file system's read-ahead (relaxed counters).
struct ReadAheadCounters {
  std::atomic<uint64_t> started{0};  // Reads ahead started.
  std::atomic<uint64_t> used{0};     // Taken over by a request.
  std::atomic<uint64_t> dropped{0};  // Dropped unused.
};

// What the file system's read-aheads share.
struct ReadAheadShared {
  // The most bytes the buffers of all read-aheads hold together; set before
  // the first file opens.
  std::atomic<int64_t> max_bytes{0};
  std::atomic<int64_t> bytes{0};  // Now (shared with the handles).
  ReadAheadCounters counters;
};

class ReadAhead final {
 public:
  // `shared` must not be null.
  explicit ReadAhead(std::shared_ptr<ReadAheadShared> shared);
  ReadAhead(const ReadAhead&) = delete;
  ReadAhead& operator=(const ReadAhead&) = delete;
  // Drops the read ahead, if any (without waiting for the device).
  ~ReadAhead();

  // ReadAhead::ReadAsync()
  //
  // `StartAsyncRead(start, ...)`, with the same results and promises, served
  // by the file's read ahead when it covers the request; then reads ahead of
  // the request if the file's requests are sequential.
  rocksdb::IOStatus ReadAsync(AsyncReadStart start, void** io_handle,
                              rocksdb::IOHandleDeleter* del_fn)
      ABSL_LOCKS_EXCLUDED(mu_);

  // The length to read ahead after a request of `len` bytes.
  static size_t NextLength(size_t len);

 private:
  // Starts a read ahead of [offset, offset + len) and keeps it unless the
  // file's stream moved on meanwhile.
  void StartAhead(const AsyncReadStart& like, uint64_t offset, size_t len)
      ABSL_LOCKS_EXCLUDED(mu_);

  const std::shared_ptr<ReadAheadShared> shared_;
  // How long the last Poll of one of the file's requests waited for the
  // device (async_read_handle.h); shared with the handles.
  const std::shared_ptr<std::atomic<int64_t>> poll_wait_ns_;
  absl::Mutex mu_;
  void* ahead_ ABSL_GUARDED_BY(mu_) = nullptr;  // An own read, unclaimed.
  uint64_t next_ ABSL_GUARDED_BY(mu_) = UINT64_MAX;  // Last request's end.
  size_t last_len_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace uringfs

#endif  // URINGFS_ENV_READ_AHEAD_H_
