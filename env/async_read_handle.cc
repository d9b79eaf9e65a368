#include "env/async_read_handle.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <utility>

#include "env/io_guard.h"
#include "env/read_request.h"

namespace uringfs {
namespace {

using uring::AsyncRead;
using uring::AsyncReader;

// Reads up to this size go into a buffer of uringfs's own and are copied
// into RocksDB's at completion: aborting them (RocksDB aborts the prefetch of
// nearly every short scan) then costs nothing, instead of a wait for the
// device. Larger reads go straight into RocksDB's buffer.
constexpr size_t kOwnBufferMax = 64 * 1024;

struct FreeDeleter {
  void operator()(char* p) const { std::free(p); }
};

// The read itself is the base, so a reader's `AsyncRead*` leads back to it.
struct Handle : AsyncRead {
  rocksdb::FSReadRequest req;           // The caller's request, with results.
  AsyncCallback cb;
  void* cb_arg = nullptr;
  std::string path;
  std::shared_ptr<const SharedFd> fd;   // Keeps target.fd from being reused.
  std::shared_ptr<AsyncReader> reader;  // Null: done synchronously.
  std::unique_ptr<char, FreeDeleter> own_buffer;  // See kOwnBufferMax.
};

Handle* AsHandle(void* p) { return static_cast<Handle*>(p); }

void FreeHandle(AsyncRead* read) { delete static_cast<Handle*>(read); }

void DeleteHandle(void* p) {
  Handle* h = AsHandle(p);
  if (h == nullptr) return;
  // The handle must not keep the reader alive once the reader owns it.
  std::shared_ptr<AsyncReader> reader = std::move(h->reader);
  AsyncRead* read = h;
  if (reader != nullptr) {
    if (h->owns_buffer && reader->Release(read, FreeHandle)) return;
    reader->Abort(&read, 1);  // Waits if the kernel has the caller's buffer.
  }
  delete h;
}

// Gives `h` a buffer of its own for `len` bytes, aligned for direct I/O, if
// the read is small enough; false (reading into the caller's buffer) if not
// or if memory is short.
bool UseOwnBuffer(Handle* h, size_t len) {
  if (len == 0 || len > kOwnBufferMax) return false;
  const size_t align = std::max<size_t>(h->target.direct ? h->target.alignment
                                                         : 1,
                                        alignof(std::max_align_t));
  void* p = nullptr;
  if (::posix_memalign(&p, align, (len + align - 1) / align * align) != 0) {
    return false;
  }
  h->own_buffer.reset(static_cast<char*>(p));
  h->op.buf = h->own_buffer.get();
  h->owns_buffer = true;
  return true;
}

// Handles grouped by the reader that runs them (null: synchronous ones).
std::map<AsyncReader*, std::vector<AsyncRead*>> ByReader(
    const std::vector<void*>& io_handles) {
  std::map<AsyncReader*, std::vector<AsyncRead*>> groups;
  for (void* p : io_handles) {
    if (p != nullptr) groups[AsHandle(p)->reader.get()].push_back(AsHandle(p));
  }
  return groups;
}

}  // namespace

rocksdb::IOStatus StartAsyncRead(rocksdb::FSReadRequest& req,
                                 const uring::ReadTarget& target,
                                 std::shared_ptr<const SharedFd> fd,
                                 const std::string& path,
                                 uring::ReadEngine* engine, uint64_t owner,
                                 AsyncCallback cb,
                                 void* cb_arg, void** io_handle,
                                 rocksdb::IOHandleDeleter* del_fn) {
  *io_handle = nullptr;
  rocksdb::IOStatus s =
      CheckReadRequest(target, path, req.offset, req.len, req.scratch);
  if (!s.ok()) return s;
  auto h = std::make_unique<Handle>();
  h->req = req;
  h->cb = std::move(cb);
  h->cb_arg = cb_arg;
  h->path = path;
  h->fd = std::move(fd);
  h->target = target;
  h->op = MakeReadOp(req.offset, req.len, req.scratch);
  h->owner = owner;
  h->reader = engine->async_reader();
  if (h->reader != nullptr) {
    UseOwnBuffer(h.get(), req.len);
    h->reader->Submit(h.get());
  } else {
    engine->Read(target, &h->op, 1);
    h->state = AsyncRead::State::kCompleted;
  }
  *io_handle = h.release();
  *del_fn = DeleteHandle;
  return rocksdb::IOStatus::OK();
}

rocksdb::IOStatus PollAsyncReads(std::vector<void*>& io_handles,
                                 size_t min_completions) {
  std::vector<AsyncRead*> due;
  const rocksdb::IOStatus s = NoThrow("uringfs Poll", [&] {
    size_t still_wanted = min_completions;
    // Groups in map order: the synchronous ones (null reader) first.
    for (auto& [reader, reads] : ByReader(io_handles)) {
      size_t finished = 0;
      if (reader != nullptr) {
        finished = reader->Poll(reads.data(), reads.size(),
                                std::min(still_wanted, reads.size()), &due);
      } else {
        due.reserve(due.size() + reads.size());
        for (AsyncRead* read : reads) {
          ++finished;  // Done at start; reported, aborted or due now.
          if (read->state != AsyncRead::State::kCompleted) continue;
          read->state = AsyncRead::State::kReported;
          due.push_back(read);
        }
      }
      still_wanted -= std::min(still_wanted, finished);
    }
    return rocksdb::IOStatus::OK();
  });
  // Callbacks last, on this thread, with no uringfs lock held.
  for (AsyncRead* read : due) {
    Handle* h = static_cast<Handle*>(read);
    h->req.status = NoThrow("uringfs Poll", [&] {
      rocksdb::IOStatus st = FinishRead(h->op, h->path, &h->req.result);
      if (st.ok() && h->owns_buffer) {  // Hand the bytes to the caller.
        std::memcpy(h->req.scratch, h->op.buf, h->op.done);
        h->req.result = rocksdb::Slice(h->req.scratch, h->op.done);
      }
      return st;
    });
    h->cb(h->req, h->cb_arg);
  }
  return s;
}

rocksdb::IOStatus AbortAsyncReads(std::vector<void*>& io_handles) {
  return NoThrow("uringfs AbortIO", [&] {
    for (auto& [reader, reads] : ByReader(io_handles)) {
      if (reader != nullptr) {
        reader->Abort(reads.data(), reads.size());
        continue;
      }
      for (AsyncRead* read : reads) {
        if (read->state == AsyncRead::State::kCompleted) {
          read->state = AsyncRead::State::kAborted;
        }
      }
    }
    return rocksdb::IOStatus::OK();
  });
}

}  // namespace uringfs
