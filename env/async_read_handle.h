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

#include <atomic>
#include <cstddef>
#include <cstdint>
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
  // May be null. The Poll that reports the read stores in it how long it
  // waited for the device (0 if the read had completed before): how far the
  // device is behind the caller. read_ahead.h decides by it.
  std::shared_ptr<std::atomic<int64_t>> file_poll_wait_ns;
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

// Reads ahead of the caller (env/read_ahead.h): a read into a buffer of
// uringfs's own that no request has asked for yet, which a later request
// lying inside its range can take over.
//
// StartOwnRead() starts reading `len` bytes at `offset` of `start`'s file
// (`start.req`, `cb` and `cb_arg` are ignored) on the async ring and returns
// its handle, or null when there is no async ring, the ring has no room
// (it is never read synchronously) or there is no memory. While
// unclaimed, the handle is the read-ahead's: it either claims it or discards
// it. `*charged` grows by the buffer's size until the buffer is freed.
void* StartOwnRead(const AsyncReadStart& start, uint64_t offset, size_t len,
                   std::shared_ptr<std::atomic<int64_t>> charged);

// OwnReadCovers() is true if the own read `handle` covers [offset,
// offset + len) and belongs to task `owner`.
bool OwnReadCovers(const void* handle, uint64_t offset, size_t len,
                   uint64_t owner);

// ClaimOwnRead() hands the own read `handle`, which covers `start.req`, to
// that request: from then on it is the request's handle, exactly as if
// `StartAsyncRead` had returned it (the same callback, Poll, AbortIO and
// deleter promises). The bytes are copied into the request's buffer when it
// is reported; if the read failed, the request's own range is read again
// with pread then, so it fails only for its own bytes (a read its task's
// shutdown cancelled reports ECANCELED, as the request's own would).
// Returns the request check's error (see `CheckReadRequest`) and claims
// nothing if the request is refused.
rocksdb::IOStatus ClaimOwnRead(void* handle, AsyncReadStart start,
                               void** io_handle,
                               rocksdb::IOHandleDeleter* del_fn);

// DiscardOwnRead() drops an unclaimed own read without waiting for the
// device (the kernel's completion frees it).
void DiscardOwnRead(void* handle);

}  // namespace uringfs

#endif  // URINGFS_ENV_ASYNC_READ_HANDLE_H_
