// -----------------------------------------------------------------------------
// env/read_request.h
// -----------------------------------------------------------------------------
//
// What every uringfs read checks before anything reaches the kernel, and how
// a finished `uring::ReadOp` becomes RocksDB's `Slice` + `IOStatus`. Shared by
// the random-access and sequential files, so `Read`, `MultiRead`,
// `ReadAsync` and `PositionedRead` refuse the same bad input with the same
// words. (Debian's librocksdb has assertions enabled: a misaligned direct
// read passed to the default file system aborts the process. uringfs answers
// InvalidArgument instead.)
//
// Thread-safety: pure functions, safe for concurrent use.

#ifndef URINGFS_ENV_READ_REQUEST_H_
#define URINGFS_ENV_READ_REQUEST_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "env/uring/read_op.h"
#include "rocksdb/io_status.h"
#include "rocksdb/slice.h"

namespace uringfs {

// CheckReadRequest()
//
// OK, or InvalidArgument naming `path`, offset and length when: the length is
// larger than uringfs accepts (> 2^62 bytes) or offset + length overflows a
// file offset; `scratch` is null for a non-empty read; or, for direct I/O,
// offset, length or the buffer address is not a multiple of
// `target.alignment`.
inline rocksdb::IOStatus CheckReadRequest(const uring::ReadTarget& target,
                                          const std::string& path,
                                          uint64_t offset, size_t n,
                                          const char* scratch);

// FinishRead()
//
// Sets `*result` to the bytes `op` read and returns OK, or returns the I/O
// error it failed with (via `IOErrorFromErrno`) and sets an empty result.
inline rocksdb::IOStatus FinishRead(const uring::ReadOp& op,
                                    const std::string& path,
                                    rocksdb::Slice* result);

// MakeReadOp()
//
// A fresh op reading `n` bytes at `offset` into `scratch`.
inline uring::ReadOp MakeReadOp(uint64_t offset, size_t n, char* scratch);

// Implementation details: the checks and conversions are on every read, so
// the common case is inline and only the error paths are calls.
namespace internal {

constexpr uint64_t kMaxReadRequest = uint64_t{1} << 62;
constexpr uint64_t kMaxFileOffset = uint64_t{INT64_MAX};  // off_t is signed.

// The InvalidArgument for a request `CheckReadRequest` refuses.
rocksdb::IOStatus RefuseReadRequest(const uring::ReadTarget& target,
                                    const std::string& path, uint64_t offset,
                                    size_t n, const char* scratch);
// The IOError of a failed op.
rocksdb::IOStatus ReadError(const uring::ReadOp& op, const std::string& path);

}  // namespace internal

rocksdb::IOStatus CheckReadRequest(const uring::ReadTarget& target,
                                   const std::string& path, uint64_t offset,
                                   size_t n, const char* scratch) {
  const uint64_t a = target.direct ? target.alignment : 1;
  const bool fine = n <= internal::kMaxReadRequest &&
                    offset <= internal::kMaxFileOffset &&
                    n <= internal::kMaxFileOffset - offset &&
                    (scratch != nullptr || n == 0) &&
                    (a == 1 || (offset % a == 0 && n % a == 0 &&
                                reinterpret_cast<uintptr_t>(scratch) % a == 0));
  if (fine) return rocksdb::IOStatus::OK();
  return internal::RefuseReadRequest(target, path, offset, n, scratch);
}

rocksdb::IOStatus FinishRead(const uring::ReadOp& op, const std::string& path,
                             rocksdb::Slice* result) {
  if (op.error != 0) {
    *result = rocksdb::Slice(op.buf, 0);
    return internal::ReadError(op, path);
  }
  *result = rocksdb::Slice(op.buf, op.done);
  return rocksdb::IOStatus::OK();
}

uring::ReadOp MakeReadOp(uint64_t offset, size_t n, char* scratch) {
  uring::ReadOp op;
  op.offset = offset;
  op.len = n;
  op.buf = scratch;
  op.finished = n == 0;
  return op;
}

}  // namespace uringfs

#endif  // URINGFS_ENV_READ_REQUEST_H_
