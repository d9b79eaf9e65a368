// -----------------------------------------------------------------------------
// env/append_copies.h
// -----------------------------------------------------------------------------
//
// `AppendCopies` holds the copies the write-behind files of one file system
// make of their appends (RocksDB reuses its buffer as soon as `Append`
// returns) and recycles them.
// A fresh copy of every append costs more than the copying: glibc serves
// blocks of RocksDB's usual append sizes (64 KiB to 1 MiB) with new pages,
// so each byte written behind also cost a page fault, and the worker that
// freed the block returned its pages to the kernel. The files reuse the
// copies the workers gave back, so after the first few appends they copy
// into memory that is already mapped.
//
// Contract
//
// * `Copy(data)` returns a buffer holding exactly `data`: a returned buffer
//   at least as large when one is kept, else a new one. May throw
//   std::bad_alloc (nothing is kept then).
// * `Recycle(buffer)` takes a buffer back once its write is done. It keeps
//   at most `kKeptBytes` of capacity and frees the rest, so an idle file
//   system holds at most that much beyond what it has queued.
// * Thread-safe: appending threads copy, workers recycle.

#ifndef URINGFS_ENV_APPEND_COPIES_H_
#define URINGFS_ENV_APPEND_COPIES_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "rocksdb/slice.h"

namespace uringfs {

class AppendCopies final {
 public:
  // The most capacity kept for reuse: a few of RocksDB's largest usual
  // appends (`writable_file_max_buffer_size`, 1 MiB by default) for each of
  // a few files written at once (flushes and compactions).
  static constexpr size_t kKeptBytes = size_t{8} << 20;

  std::string Copy(const rocksdb::Slice& data) ABSL_LOCKS_EXCLUDED(mu_);
  void Recycle(std::string buffer) noexcept ABSL_LOCKS_EXCLUDED(mu_);

  // Capacity kept for reuse now (for tests).
  size_t kept_bytes() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  mutable absl::Mutex mu_;
  std::vector<std::string> kept_ ABSL_GUARDED_BY(mu_);
  size_t kept_bytes_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace uringfs

#endif  // URINGFS_ENV_APPEND_COPIES_H_
