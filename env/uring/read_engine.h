// -----------------------------------------------------------------------------
// env/uring/read_engine.h
// -----------------------------------------------------------------------------
//
// `ReadEngine` is the read path of one uringfs file system, below the RocksDB
// types: it probes io_uring once, owns the ring pool for synchronous reads
// and the async reader, and sends every read either through io_uring or, when
// io_uring is unusable (turned off, setup refused, ring setup failing later,
// a ring giving up), through `pread` — with the same result semantics either
// way (`read_op.h`). It counts what it does for the file system's stats.
//
// A single synchronous read is read with one `pread` unless the engine was
// made with `ring_single_reads`: its caller waits for it either way, and a
// ring round trip only adds CPU. With `ring_single_reads`, a single buffered
// read first tries `preadv2(RWF_NOWAIT)`, which returns the data only if it
// is in the page cache and never blocks; whatever is not cached then goes
// through io_uring (direct I/O skips the try: it would always refuse).
// Batches always go through the ring in one submission.
//
// Asynchronous reads (`StartAsync`, `PollAsync`, `AbortAsync`, `ReleaseAsync`,
// `CancelAsync`) run on the async reader's ring when there is one, and
// otherwise are read with pread at once and reported at the next poll; the
// engine owns both ways, so an `AsyncRead` follows the state machine of
// async_reader.h either way.
//
// In a child of fork(), an engine made before it reads with pread only and
// never enters its rings (they are the parent's); asynchronous reads the
// parent started finish there with ECHILD, untouched.
//
// Thread-safety: safe for concurrent use.

#ifndef URINGFS_ENV_URING_READ_ENGINE_H_
#define URINGFS_ENV_URING_READ_ENGINE_H_

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "base/counter.h"
#include "base/fork_generation.h"
#include "env/uring/async_reader.h"
#include "env/uring/fault_injector.h"
#include "env/uring/features.h"
#include "env/uring/read_op.h"
#include "env/uring/ring_pool.h"

namespace uringfs {
namespace uring {

// Statistics only: every counter is independent of every other and of the
// data it counts, so relaxed increments and loads are enough.
struct ReadCounters {
  ShardedCounter ops_uring;                  // Ops read through io_uring.
  ShardedCounter ops_pread;                  // Ops read by the pread fallback.
  ShardedCounter ops_cached;                 // Ops served by RWF_NOWAIT.
  ShardedCounter submitted;                  // SQEs of synchronous reads.
  std::atomic<uint64_t> resubmitted{0};      // Re-reads: short, EAGAIN, EINTR.
  std::atomic<uint64_t> ring_failures{0};    // Rings that could not be set up.
  std::atomic<uint64_t> rings_abandoned{0};  // Rings given up on or lost.
  std::atomic<uint64_t> rescued{0};          // Ops the ring failed, pread read.
};

class ReadEngine final {
 public:
  // `faults` may be null; it is shared with every ring user.
  ReadEngine(bool use_io_uring, bool ring_single_reads, unsigned queue_depth,
             std::shared_ptr<FaultInjector> faults);
  ReadEngine(const ReadEngine&) = delete;
  ReadEngine& operator=(const ReadEngine&) = delete;
  // In a child of fork(), leaves the async reader alone (it would wait for
  // reads the parent has in the kernel).
  ~ReadEngine();

  const Features& features() const { return features_; }
  FaultInjector* faults() const { return faults_.get(); }
  const ReadCounters& counters() const { return counters_; }
  uint64_t rings_created() const { return pool_.created(); }

  // ReadEngine::Read()
  //
  // Reads every unfinished op of `ops[0, n)` from `target`: all in flight at
  // once through one leased ring, or one after another with pread (always
  // when `n` is 1, unless the engine rings single reads). On
  // return every op is finished (complete, short at EOF, or `error`).
  void Read(const ReadTarget& target, ReadOp* ops, size_t n);

  // ReadEngine::AsyncOnRing()
  //
  // True if asynchronous reads go through the async reader's ring (set up on
  // first use); false when io_uring is unusable or the ring cannot be set up,
  // and `StartAsync` reads synchronously.
  bool AsyncOnRing() ABSL_LOCKS_EXCLUDED(mu_) { return Reader() != nullptr; }

  // ReadEngine::StartAsync()
  //
  // Starts `read`, whose `target`, `op`, `owner` and `owns_buffer` are set:
  // on the async ring (kInFlight), or synchronously with pread (kCompleted).
  // Either way `PollAsync` reports it exactly once unless it is aborted.
  // `read` must stay alive until it is final (see async_reader.h) or
  // released.
  void StartAsync(AsyncRead* read) ABSL_LOCKS_EXCLUDED(mu_);

  // ReadEngine::StartAsyncIfRoom()
  //
  // `StartAsync` for a read nobody waits for yet (a read ahead), only on the
  // async ring: false, with `read` untouched, when there is no ring or the
  // ring has no room (AsyncReader::SubmitIfRoom).
  bool StartAsyncIfRoom(AsyncRead* read) ABSL_LOCKS_EXCLUDED(mu_);

  // ReadEngine::PollAsync()
  //
  // `AsyncReader::Poll` over reads started by `StartAsync`, whichever way
  // they run: waits until `min_done` of `reads[0, n)` are finished, moves
  // the completed ones to kReported and appends them to `*due`. Returns how
  // many are finished.
  size_t PollAsync(AsyncRead* const* reads, size_t n, size_t min_done,
                   std::vector<AsyncRead*>* due) ABSL_LOCKS_EXCLUDED(mu_);

  // ReadEngine::AbortAsync()
  //
  // `AsyncReader::Abort` over reads started by `StartAsync`: none of them is
  // reported afterwards, and the kernel owns no caller buffer of theirs.
  void AbortAsync(AsyncRead* const* reads, size_t n) ABSL_LOCKS_EXCLUDED(mu_);

  // ReadEngine::ReleaseAsync()
  //
  // `AsyncReader::Release`: true if the engine took `read` and calls
  // `free_fn(read)` once the kernel is done with it; false (nothing taken)
  // when the caller may free it now (after `AbortAsync`).
  bool ReleaseAsync(AsyncRead* read, void (*free_fn)(AsyncRead*))
      ABSL_LOCKS_EXCLUDED(mu_);

  // ReadEngine::CancelAsync()
  //
  // Asks the kernel to cancel the in-flight asynchronous reads of task
  // `owner` (see `AsyncReader::CancelOwned`); returns how many. Sets nothing
  // up.
  size_t CancelAsync(uint64_t owner) ABSL_LOCKS_EXCLUDED(mu_);

  // The async reader if it was set up already, else null; sets up nothing.
  std::shared_ptr<AsyncReader> existing_async_reader() const
      ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // The async reader, set up on first use; null when io_uring is unusable
  // or its ring cannot be set up (tried again a second later: a failure may
  // be passing, e.g. memlock). Lock-free once set up.
  AsyncReader* Reader() ABSL_LOCKS_EXCLUDED(mu_);
  AsyncReader* SetUpReader() ABSL_LOCKS_EXCLUDED(mu_);

  void PreadAll(const ReadTarget& target, ReadOp* ops, size_t n);
  // Tries to finish `op` from the page cache without blocking. True if `op`
  // is finished. REQUIRES: `target.nowait_ok` is not null.
  bool TryCached(const ReadTarget& target, ReadOp* op);

  // True in a child of fork(): the rings are shared with the parent, and
  // their locks may be held by threads that do not exist here.
  bool forked() const { return ForkedSince(generation_); }

  const uint64_t generation_;                    // ForkGeneration() at birth.
  const std::shared_ptr<FaultInjector> faults_;  // Immutable; thread-safe.
  const unsigned queue_depth_;
  const Features features_;  // Immutable.
  const bool use_ring_;      // features_.usable().
  const bool ring_single_reads_;
  RingPool pool_;            // Thread-safe.
  ReadCounters counters_;    // Thread-safe.
  // Cleared for good when the system refuses preadv2's RWF_NOWAIT itself
  // (ENOSYS, EPERM); a file system that refuses it clears the file's own
  // flag (ReadTarget::nowait_ok). Relaxed: a stale `true` only costs one
  // more refused attempt.
  std::atomic<bool> nowait_reads_{true};
  mutable absl::Mutex mu_;
  // No new try to set up the async reader before this time.
  std::chrono::steady_clock::time_point async_retry_at_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<AsyncReader> async_ ABSL_GUARDED_BY(mu_);  // Set once.
  // `async_.get()` once set (never reset: the engine owns the reader for
  // its whole life). release/acquire: a reader seen here is fully built.
  std::atomic<AsyncReader*> async_raw_{nullptr};
};

}  // namespace uring
}  // namespace uringfs

#endif  // URINGFS_ENV_URING_READ_ENGINE_H_
