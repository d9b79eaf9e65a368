#include "env/async_read_handle.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <utility>

#include "env/io_guard.h"
#include "env/read_request.h"

namespace uringfs {
namespace {

using uring::AsyncRead;
using uring::ReadEngine;

// Reads up to this size go into a buffer of uringfs's own and are copied
// into RocksDB's at completion: aborting them (RocksDB aborts the prefetch of
// nearly every short scan) then costs nothing, instead of a wait for the
// device. Larger reads go straight into RocksDB's buffer.
constexpr size_t kOwnBufferMax = 64 * 1024;

struct FreeDeleter {
  void operator()(char* p) const { std::free(p); }
};

// The read itself is the base, so an engine's `AsyncRead*` leads back to it.
struct Handle : AsyncRead {
  rocksdb::FSReadRequest req;  // The caller's request, with results.
  AsyncCallback cb;
  void* cb_arg = nullptr;
  std::string path;
  std::shared_ptr<const SharedFd> fd;  // Keeps target.fd from being reused.
  std::shared_ptr<ReadEngine> engine;  // Runs the read; outlives it.
  std::unique_ptr<char, FreeDeleter> own_buffer;  // See kOwnBufferMax.
  std::shared_ptr<std::atomic<int64_t>> file_poll_wait_ns;  // AsyncReadStart's.
  // A read ahead (StartOwnRead) that a request claimed: the request's bytes
  // start `skip` bytes into `op`'s.
  bool claimed = false;
  size_t skip = 0;
  // Counts the own buffer of a read ahead while it exists.
  std::shared_ptr<std::atomic<int64_t>> charged;
  int64_t charge = 0;

  ~Handle() {
    if (charged != nullptr) {
      charged->fetch_sub(charge, std::memory_order_relaxed);
    }
  }
};

Handle* AsHandle(void* p) { return static_cast<Handle*>(p); }

void FreeHandle(AsyncRead* read) { delete static_cast<Handle*>(read); }

void DeleteHandle(void* p) {
  Handle* h = AsHandle(p);
  if (h == nullptr) return;
  // The handle must not keep the engine alive once the engine owns it.
  std::shared_ptr<ReadEngine> engine = std::move(h->engine);
  if (h->owns_buffer && engine->ReleaseAsync(h, FreeHandle)) return;
  AsyncRead* read = h;
  engine->AbortAsync(&read, 1);  // Waits if the kernel has the caller's buffer.
  delete h;
}

// Gives `h` a buffer of its own for `len` bytes, aligned for direct I/O;
// false if memory is short.
bool AllocateOwnBuffer(Handle* h, size_t len) {
  const size_t align = std::max<size_t>(
      h->target.direct ? h->target.alignment : 1, alignof(std::max_align_t));
  void* p = nullptr;
  if (::posix_memalign(&p, align, (len + align - 1) / align * align) != 0) {
    return false;
  }
  h->own_buffer.reset(static_cast<char*>(p));
  h->op.buf = h->own_buffer.get();
  h->owns_buffer = true;
  return true;
}

// Gives `h` a buffer of its own if the read is small enough; false (reading
// into the caller's buffer) if not or if memory is short.
bool UseOwnBuffer(Handle* h, size_t len) {
  if (len == 0 || len > kOwnBufferMax) return false;
  return AllocateOwnBuffer(h, len);
}

// Calls `fn(engine, reads, n)` for each run of `io_handles` that share an
// engine (one file system's handles share one: a single call).
template <typename Fn>
void ForEachEngine(const std::vector<void*>& io_handles, Fn fn) {
  std::vector<AsyncRead*> reads;
  reads.reserve(io_handles.size());
  ReadEngine* engine = nullptr;
  for (void* p : io_handles) {
    if (p == nullptr) continue;
    Handle* h = AsHandle(p);
    if (engine != nullptr && h->engine.get() != engine) {
      fn(engine, reads.data(), reads.size());
      reads.clear();
    }
    engine = h->engine.get();
    reads.push_back(h);
  }
  if (!reads.empty()) fn(engine, reads.data(), reads.size());
}

// The result of a claimed read ahead: the request's part of its bytes; if
// its task's shutdown cancelled it, the request's cancellation; if it failed
// anywhere else in its range, the request's own range read again.
rocksdb::IOStatus DeliverClaimed(Handle* h) {
  const uring::ReadOp& op = h->op;
  if (op.error != 0) {
    uring::ReadOp own = MakeReadOp(h->req.offset, h->req.len, h->req.scratch);
    if (op.error == ECANCELED) {
      own.error = ECANCELED;  // As the request's own read would have been.
    } else {
      uring::PreadToEnd(h->target, h->engine->faults(), &own);
    }
    return FinishRead(own, h->path, &h->req.result);
  }
  const size_t have =
      op.done > h->skip ? std::min(op.done - h->skip, h->req.len) : 0;
  std::memcpy(h->req.scratch, op.buf + h->skip, have);
  h->req.result = rocksdb::Slice(h->req.scratch, have);
  return rocksdb::IOStatus::OK();
}

// Moves the result of a reported read into the caller's request.
void Deliver(Handle* h) {
  h->req.status = NoThrow("uringfs Poll", [&] {
    if (h->claimed) return DeliverClaimed(h);
    rocksdb::IOStatus st = FinishRead(h->op, h->path, &h->req.result);
    if (st.ok() && h->owns_buffer) {  // Hand the bytes to the caller.
      std::memcpy(h->req.scratch, h->op.buf, h->op.done);
      h->req.result = rocksdb::Slice(h->req.scratch, h->op.done);
    }
    return st;
  });
}

}  // namespace

rocksdb::IOStatus StartAsyncRead(AsyncReadStart start, void** io_handle,
                                 rocksdb::IOHandleDeleter* del_fn) {
  *io_handle = nullptr;
  rocksdb::FSReadRequest& req = *start.req;
  rocksdb::IOStatus s = CheckReadRequest(start.target, start.path, req.offset,
                                         req.len, req.scratch);
  if (!s.ok()) return s;
  auto h = std::make_unique<Handle>();
  CopyReadRequest(req, &h->req);
  h->cb = std::move(start.cb);
  h->cb_arg = start.cb_arg;
  h->file_poll_wait_ns = std::move(start.file_poll_wait_ns);
  h->path = std::move(start.path);
  h->fd = std::move(start.fd);
  h->engine = std::move(start.engine);
  h->target = start.target;
  h->op = MakeReadOp(req.offset, req.len, req.scratch);
  h->owner = start.owner;
  if (h->engine->AsyncOnRing()) UseOwnBuffer(h.get(), req.len);
  h->engine->StartAsync(h.get());
  *io_handle = h.release();
  *del_fn = DeleteHandle;
  return rocksdb::IOStatus::OK();
}

void* StartOwnRead(const AsyncReadStart& start, uint64_t offset, size_t len,
                   std::shared_ptr<std::atomic<int64_t>> charged) {
  if (len == 0 || !start.engine->AsyncOnRing()) return nullptr;
  auto h = std::make_unique<Handle>();
  h->op = MakeReadOp(offset, len, nullptr);
  h->target = start.target;
  if (!AllocateOwnBuffer(h.get(), len)) return nullptr;
  if (!CheckReadRequest(h->target, start.path, offset, len, h->op.buf).ok()) {
    return nullptr;  // E.g. past the largest offset: nothing to read ahead.
  }
  h->path = start.path;
  h->fd = start.fd;
  h->engine = start.engine;
  h->owner = start.owner;
  h->charge = static_cast<int64_t>(len);
  h->charged = std::move(charged);
  h->charged->fetch_add(h->charge, std::memory_order_relaxed);
  // Never read on this thread: a read ahead the ring has no room for is
  // simply not made.
  if (!h->engine->StartAsyncIfRoom(h.get())) return nullptr;
  return h.release();
}

bool OwnReadCovers(const void* handle, uint64_t offset, size_t len,
                   uint64_t owner) {
  const Handle* h = static_cast<const Handle*>(handle);
  return h->owner == owner && offset >= h->op.offset &&
         offset - h->op.offset <= h->op.len &&
         len <= h->op.len - (offset - h->op.offset);
}

rocksdb::IOStatus ClaimOwnRead(void* handle, AsyncReadStart start,
                               void** io_handle,
                               rocksdb::IOHandleDeleter* del_fn) {
  *io_handle = nullptr;
  Handle* h = AsHandle(handle);
  rocksdb::FSReadRequest& req = *start.req;
  rocksdb::IOStatus s = CheckReadRequest(start.target, start.path, req.offset,
                                         req.len, req.scratch);
  if (!s.ok()) return s;
  CopyReadRequest(req, &h->req);
  h->cb = std::move(start.cb);
  h->cb_arg = start.cb_arg;
  h->file_poll_wait_ns = std::move(start.file_poll_wait_ns);
  h->skip = static_cast<size_t>(req.offset - h->op.offset);
  h->claimed = true;
  *io_handle = h;
  *del_fn = DeleteHandle;
  return rocksdb::IOStatus::OK();
}

void DiscardOwnRead(void* handle) { DeleteHandle(handle); }

rocksdb::IOStatus PollAsyncReads(std::vector<void*>& io_handles,
                                 size_t min_completions) {
  std::vector<AsyncRead*> due;
  const rocksdb::IOStatus s = NoThrow("uringfs Poll", [&] {
    size_t still_wanted = min_completions;
    ForEachEngine(
        io_handles, [&](ReadEngine* engine, AsyncRead* const* reads, size_t n) {
          const size_t finished =
              engine->PollAsync(reads, n, std::min(still_wanted, n), &due);
          still_wanted -= std::min(still_wanted, finished);
        });
    return rocksdb::IOStatus::OK();
  });
  // Callbacks last, on this thread, with no uringfs lock held.
  for (AsyncRead* read : due) {
    Handle* h = static_cast<Handle*>(read);
    if (h->file_poll_wait_ns != nullptr) {
      h->file_poll_wait_ns->store(h->poll_wait_ns, std::memory_order_relaxed);
    }
    Deliver(h);
    h->cb(h->req, h->cb_arg);
  }
  return s;
}

rocksdb::IOStatus AbortAsyncReads(std::vector<void*>& io_handles) {
  return NoThrow("uringfs AbortIO", [&] {
    ForEachEngine(io_handles, [](ReadEngine* engine, AsyncRead* const* reads,
                                 size_t n) { engine->AbortAsync(reads, n); });
    return rocksdb::IOStatus::OK();
  });
}

}  // namespace uringfs
