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

#include <atomic>
#include <memory>
#include <string>

#include "env/uring/read_op.h"
#include "rocksdb/io_status.h"

namespace uringfs {

// An open file descriptor that is closed when its last owner lets go. A file
// shares it with its in-flight asynchronous reads, so that the number is not
// reused for another file while the kernel may still read through it (a
// short async read is resubmitted with the same descriptor).
class SharedFd final {
 public:
  explicit SharedFd(int fd) : fd_(fd) {}
  SharedFd(const SharedFd&) = delete;
  SharedFd& operator=(const SharedFd&) = delete;
  ~SharedFd();
  int get() const { return fd_; }
  // The file's "RWF_NOWAIT works" flag (uring::ReadTarget::nowait_ok).
  std::atomic<bool>* nowait_ok() { return &nowait_ok_; }

 private:
  const int fd_;
  std::atomic<bool> nowait_ok_{true};
};

// OpenForRead()
//
// Opens `path` read-only (O_CLOEXEC, plus O_DIRECT when `direct`). On success
// fills `*target` and `*fd`, which owns `target->fd` from the start, and
// returns OK; otherwise returns the error (`PathNotFound` for a missing
// path) with `what` ("random read", "sequential read") in the message.
rocksdb::IOStatus OpenForRead(const std::string& path, bool direct,
                              const char* what, uring::ReadTarget* target,
                              std::shared_ptr<SharedFd>* fd);

// InvalidatePageCache()
//
// Drops `length` bytes at `offset` of `target` from the page cache
// (POSIX_FADV_DONTNEED), as RocksDB's POSIX files do; a no-op for direct I/O.
rocksdb::IOStatus InvalidatePageCache(const uring::ReadTarget& target,
                                      const std::string& path, size_t offset,
                                      size_t length);

// DirectIoAlignment()
//
// The direct-I/O alignment of the open file `fd`, as described above.
size_t DirectIoAlignment(int fd);

}  // namespace uringfs

#endif  // URINGFS_ENV_OPEN_FOR_READ_H_
