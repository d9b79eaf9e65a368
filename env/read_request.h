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
rocksdb::IOStatus CheckReadRequest(const uring::ReadTarget& target,
                                   const std::string& path, uint64_t offset,
                                   size_t n, const char* scratch);

// FinishRead()
//
// Sets `*result` to the bytes `op` read and returns OK, or returns the I/O
// error it failed with (via `IOErrorFromErrno`) and sets an empty result.
rocksdb::IOStatus FinishRead(const uring::ReadOp& op, const std::string& path,
                             rocksdb::Slice* result);

// MakeReadOp()
//
// A fresh op reading `n` bytes at `offset` into `scratch`.
uring::ReadOp MakeReadOp(uint64_t offset, size_t n, char* scratch);

}  // namespace uringfs

#endif  // URINGFS_ENV_READ_REQUEST_H_
