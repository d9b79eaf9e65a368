// -----------------------------------------------------------------------------
// env/async_read_handle.h
// -----------------------------------------------------------------------------
//
// RocksDB's asynchronous reads on top of `uring::AsyncReader`, to RocksDB
// 7.8.3's contract (file_system.h, ReadAsync / Poll / AbortIO):
//
//   * `StartAsyncRead` returns OK and a handle, or an error and no handle;
//     the callback runs exactly once for a handle that was returned, unless
//     the handle is aborted, and never for a failed start.
//   * Callbacks run in `PollAsyncReads`, on the thread that calls
//     `FileSystem::Poll` (RocksDB's prefetch buffer updates its state without
//     locks), never on a uringfs thread; no uringfs lock is held meanwhile.
//   * `AbortAsyncReads` and the handle deleter return only when the kernel
//     can no longer write into the request's buffer (RocksDB frees it right
//     after). Reads of up to 64 KiB go into a buffer of uringfs's own, copied
//     at completion, so aborting them returns at once; larger reads are
//     cancelled and waited for.
//   * Without io_uring the engine reads synchronously inside
//     `StartAsyncRead`, and the callback still runs at the next `Poll`.
//
// Thread-safety: the functions are safe for concurrent use; one handle is
// used by one thread at a time, as RocksDB does.

#ifndef URINGFS_ENV_ASYNC_READ_HANDLE_H_
#define URINGFS_ENV_ASYNC_READ_HANDLE_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "env/open_for_read.h"
#include "env/rocksdb_api.h"
#include "env/uring/read_engine.h"
#include "env/uring/read_op.h"
#include "rocksdb/file_system.h"

namespace uringfs {

// What one `ReadAsync` call asks for.
struct AsyncReadStart {
  // The caller's request; `scratch` must stay valid until the callback ran
  // or the handle was aborted or deleted.
  rocksdb::FSReadRequest* req = nullptr;
  uring::ReadTarget target;
  // Owns `target.fd`; the handle keeps it open until it is deleted.
  std::shared_ptr<const SharedFd> fd;
  std::string path;                           // For error messages.
  std::shared_ptr<uring::ReadEngine> engine;  // Runs the read.
  uint64_t owner = 0;  // The task the read belongs to (CancelAsync).
  AsyncCallback cb;
  void* cb_arg = nullptr;
};

// StartAsyncRead()
//
// Checks the request (see `CheckReadRequest`), starts reading it and stores
// the handle and its deleter. The handle is a pure adapter: the engine runs
// the read (uring::ReadEngine::StartAsync).
rocksdb::IOStatus StartAsyncRead(AsyncReadStart start, void** io_handle,
                                 rocksdb::IOHandleDeleter* del_fn);

// PollAsyncReads()
//
// Waits until at least `min_completions` of `io_handles` have completed
// (all of them if there are fewer), then runs the callback of every
// completed one not reported before.
rocksdb::IOStatus PollAsyncReads(std::vector<void*>& io_handles,
                                 size_t min_completions);

// AbortAsyncReads()
//
// Aborts every handle whose callback has not run: it will never run, and the
// kernel no longer owns the buffer when this returns.
rocksdb::IOStatus AbortAsyncReads(std::vector<void*>& io_handles);

}  // namespace uringfs

#endif  // URINGFS_ENV_ASYNC_READ_HANDLE_H_
