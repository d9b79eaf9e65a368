// -----------------------------------------------------------------------------
// env/write_budget.h
// -----------------------------------------------------------------------------
//
// `WriteBudget` bounds the bytes a file system holds queued for write-behind:
// a total over all its files and a limit per file. `Acquire` waits
// (backpressure) until the bytes fit; the worker that wrote them calls
// `Release`. Memory therefore stays bounded however fast RocksDB appends and
// however slow the device is.
//
// Contract
//
// * `Acquire(file, n)` returns once `n` more bytes fit both budgets. Bytes
//   that fit nowhere (an append larger than a budget) are admitted when the
//   file, or the whole file system, has nothing queued; so a single append is
//   never refused and never waits forever while writes are being completed.
// * Every `Acquire(file, n)` must be paired with one `Release(file, n)`.
// * Counters: current and peak queued bytes, and how many Acquires waited.
// * Thread-safe.

#ifndef URINGFS_ENV_WRITE_BUDGET_H_
#define URINGFS_ENV_WRITE_BUDGET_H_

#include <atomic>
#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace uringfs {

// The per-file part of the budget: one per open inode. Its bytes are changed
// only by `WriteBudget` under its lock.
struct FileBudget {
  // relaxed loads are fine for statistics; writes happen under the
  // budget's lock, which orders them for `Acquire`'s condition.
  std::atomic<uint64_t> queued_bytes{0};
};

class WriteBudget final {
 public:
  // REQUIRES: both limits > 0.
  WriteBudget(uint64_t max_total_bytes, uint64_t max_file_bytes);

  WriteBudget(const WriteBudget&) = delete;
  WriteBudget& operator=(const WriteBudget&) = delete;

  // WriteBudget::Acquire()
  //
  // Waits until `bytes` more fit (see the contract), then counts them.
  void Acquire(FileBudget* file, uint64_t bytes) ABSL_LOCKS_EXCLUDED(mu_);

  // WriteBudget::Release()
  //
  // Returns `bytes` taken by an earlier `Acquire(file, bytes)`.
  void Release(FileBudget* file, uint64_t bytes) ABSL_LOCKS_EXCLUDED(mu_);

  uint64_t max_total_bytes() const { return max_total_; }
  uint64_t max_file_bytes() const { return max_file_; }
  uint64_t queued_bytes() const ABSL_LOCKS_EXCLUDED(mu_);
  uint64_t peak_queued_bytes() const ABSL_LOCKS_EXCLUDED(mu_);
  uint64_t waits() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  bool Fits(const FileBudget* file, uint64_t bytes) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const uint64_t max_total_;
  const uint64_t max_file_;
  mutable absl::Mutex mu_;
  uint64_t total_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t peak_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t waits_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace uringfs

#endif  // URINGFS_ENV_WRITE_BUDGET_H_
