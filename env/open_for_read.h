// -----------------------------------------------------------------------------
// env/open_for_read.h
// -----------------------------------------------------------------------------
//
// Opens a file for uringfs's readers and finds its direct-I/O alignment.
// The alignment is what the kernel says for this very file (statx
// STATX_DIOALIGN, Linux 6.1+: the larger of the offset and memory
// alignments), so `GetRequiredBufferAlignment()` tells RocksDB the truth;
// where the kernel does not say, and for buffered files, 4096 (RocksDB's page
// size, a multiple of every sector size), as RocksDB's POSIX file system.
//
// Thread-safety: pure functions, safe for concurrent use.

#ifndef URINGFS_ENV_OPEN_FOR_READ_H_
#define URINGFS_ENV_OPEN_FOR_READ_H_

#include <string>

#include "env/uring/read_op.h"
#include "rocksdb/io_status.h"

namespace uringfs {

// OpenForRead()
//
// Opens `path` read-only (O_CLOEXEC, plus O_DIRECT when `direct`). On success
// fills `*target` (the caller owns `target->fd` and must close it) and
// returns OK; otherwise returns the error (`PathNotFound` for a missing
// path) with `what` ("random read", "sequential read") in the message.
rocksdb::IOStatus OpenForRead(const std::string& path, bool direct,
                              const char* what, uring::ReadTarget* target);

// DirectIoAlignment()
//
// The direct-I/O alignment of the open file `fd`, as described above.
size_t DirectIoAlignment(int fd);

}  // namespace uringfs

#endif  // URINGFS_ENV_OPEN_FOR_READ_H_
