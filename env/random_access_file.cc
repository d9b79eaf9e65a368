#include "env/random_access_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <utility>

#include "absl/container/inlined_vector.h"
#include "env/async_read_handle.h"
#include "env/io_error.h"
#include "env/io_guard.h"
#include "env/read_request.h"

namespace uringfs {

UringRandomAccessFile::UringRandomAccessFile(
    std::string path, std::shared_ptr<SharedFd> fd, uring::ReadTarget target,
    std::shared_ptr<uring::ReadEngine> engine,
    std::shared_ptr<RocksReadCounters> counters,
    std::shared_ptr<const FsTasks> tasks,
    std::shared_ptr<ReadAheadShared> read_ahead)
    : path_(std::move(path)),
      fd_(std::move(fd)),
      target_(target),
      engine_(std::move(engine)),
      counters_(std::move(counters)),
      tasks_(std::move(tasks)),
      read_ahead_(read_ahead == nullptr
                      ? nullptr
                      : std::make_unique<ReadAhead>(std::move(read_ahead))) {}

rocksdb::IOStatus UringRandomAccessFile::Read(
    uint64_t offset, size_t n, const rocksdb::IOOptions& /*options*/,
    rocksdb::Slice* result, char* scratch,
    rocksdb::IODebugContext* /*dbg*/) const {
  *result = rocksdb::Slice();
  return NoThrow("uringfs Read", [&] {
    rocksdb::IOStatus s = CheckReadRequest(target_, path_, offset, n, scratch);
    if (!s.ok()) return s;
    Bump(counters_->reads);
    uring::ReadOp op = MakeReadOp(offset, n, scratch);
    engine_->Read(target_, &op, 1);
    return FinishRead(op, path_, result);
  });
}

rocksdb::IOStatus UringRandomAccessFile::MultiRead(
    rocksdb::FSReadRequest* reqs, size_t num_reqs,
    const rocksdb::IOOptions& /*options*/, rocksdb::IODebugContext* /*dbg*/) {
  return NoThrow("uringfs MultiRead", [&] {
    Bump(counters_->multi_reads);
    Bump(counters_->multi_read_requests, num_reqs);
    absl::InlinedVector<uring::ReadOp, 32> ops(num_reqs);
    for (size_t i = 0; i < num_reqs; ++i) {
      rocksdb::FSReadRequest& r = reqs[i];
      r.result = rocksdb::Slice();
      r.status = CheckReadRequest(target_, path_, r.offset, r.len, r.scratch);
      ops[i] = MakeReadOp(r.offset, r.len, r.scratch);
      ops[i].finished |= !r.status.ok();  // Refused: never reaches the kernel.
    }
    const auto start = std::chrono::steady_clock::now();
    engine_->Read(target_, ops.data(), num_reqs);
    Bump(counters_->multi_read_nanos,
         std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now() - start)
             .count());
    for (size_t i = 0; i < num_reqs; ++i) {
      if (reqs[i].status.ok()) {
        reqs[i].status = FinishRead(ops[i], path_, &reqs[i].result);
      }
    }
    return rocksdb::IOStatus::OK();
  });
}

rocksdb::IOStatus UringRandomAccessFile::ReadAsync(
    rocksdb::FSReadRequest& req, const rocksdb::IOOptions& /*options*/,
    AsyncCallback cb, void* cb_arg, void** io_handle,
    rocksdb::IOHandleDeleter* del_fn, rocksdb::IODebugContext* /*dbg*/) {
  return NoThrow("uringfs ReadAsync", [&] {
    Bump(counters_->async_reads);
    const FsTask* task = tasks_->Current();
    if (task->is_shut_down()) {
      *io_handle = nullptr;
      return IOErrorFromErrno("ReadAsync (task shut down)", path_, ECANCELED);
    }
    AsyncReadStart start;
    start.req = &req;
    start.target = target_;
    start.fd = fd_;
    start.path = path_;
    start.engine = engine_;
    start.owner = task->id();
    start.cb = std::move(cb);
    start.cb_arg = cb_arg;
    if (read_ahead_ != nullptr) {
      return read_ahead_->ReadAsync(std::move(start), io_handle, del_fn);
    }
    return StartAsyncRead(std::move(start), io_handle, del_fn);
  });
}

rocksdb::IOStatus UringRandomAccessFile::Prefetch(
    uint64_t offset, size_t n, const rocksdb::IOOptions& /*options*/,
    rocksdb::IODebugContext* /*dbg*/) {
  // As RocksDB's POSIX file system: readahead(2) for buffered files, nothing
  // for direct I/O (the page cache is bypassed anyway).
  if (target_.direct) return rocksdb::IOStatus::OK();
  if (::readahead(target_.fd, static_cast<off64_t>(offset), n) != 0) {
    return IOErrorFromErrno("While prefetching offset " +
                                std::to_string(offset) + " len " +
                                std::to_string(n) + " of",
                            path_, errno);
  }
  return rocksdb::IOStatus::OK();
}

void UringRandomAccessFile::Hint(AccessPattern pattern) {
  if (target_.direct) return;
  int advice = POSIX_FADV_NORMAL;
  switch (pattern) {
    case kNormal:
      advice = POSIX_FADV_NORMAL;
      break;
    case kRandom:
      advice = POSIX_FADV_RANDOM;
      break;
    case kSequential:
      advice = POSIX_FADV_SEQUENTIAL;
      break;
    case kWillNeed:
      advice = POSIX_FADV_WILLNEED;
      break;
    case kWontNeed:
      advice = POSIX_FADV_DONTNEED;
      break;
  }
  ::posix_fadvise(target_.fd, 0, 0, advice);  // Advice only; errors ignored.
}

rocksdb::IOStatus UringRandomAccessFile::InvalidateCache(size_t offset,
                                                         size_t length) {
  return InvalidatePageCache(target_, path_, offset, length);
}

}  // namespace uringfs
