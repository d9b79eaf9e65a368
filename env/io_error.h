// -----------------------------------------------------------------------------
// env/io_error.h
// -----------------------------------------------------------------------------
//
// The one place in uringfs that turns an errno into a `rocksdb::IOStatus`.
// Kernel-facing code (env/uring, env/wq) keeps the liburing convention: a
// negative errno in an `int`, never the global `errno`. RocksDB-facing code
// calls `IOErrorFromErrno` with a positive errno, an operation and a path.
//
// Mapping (RocksDB's error handler depends on it; see docs/design.md,
// "Errors and exceptions"):
//   ENOSPC         -> NoSpace, retryable (RocksDB recovers via SstFileManager)
//   ENOENT         -> PathNotFound (IsNotFound() is true)
//   ECANCELED      -> Aborted ("cancelled")
//   ETIMEDOUT      -> TimedOut
//   anything else  -> IOError, not retryable (EIO is a persistent failure)
// Every message names the operation, the path and strerror; never empty.
//
// Thread-safety: pure functions, safe for concurrent use.

#ifndef URINGFS_ENV_IO_ERROR_H_
#define URINGFS_ENV_IO_ERROR_H_

#include <string>

#include "rocksdb/io_status.h"

namespace uringfs {

// IOErrorFromErrno()
//
// `err` is a positive errno; `context` names the operation ("pread offset 4096
// len 512"), `path` the file. REQUIRES: err > 0.
rocksdb::IOStatus IOErrorFromErrno(const std::string& context,
                                   const std::string& path, int err);

}  // namespace uringfs

#endif  // URINGFS_ENV_IO_ERROR_H_
