// -----------------------------------------------------------------------------
// env/io_guard.h
// -----------------------------------------------------------------------------
//
// `NoThrow` runs a file-system entry point and turns any C++ exception into
// an IOError: RocksDB's contract says exceptions must never propagate out of
// a FileSystem ("data loss, unreported corruption, deadlocks"). The only
// exceptions uringfs code can raise are allocation failures, but the guard
// keeps the promise whatever the cause.
//
// Thread-safety: stateless.

#ifndef URINGFS_ENV_IO_GUARD_H_
#define URINGFS_ENV_IO_GUARD_H_

#include <exception>
#include <new>

#include "rocksdb/io_status.h"

namespace uringfs {

template <typename F>
rocksdb::IOStatus NoThrow(const char* operation, F&& body) noexcept {
  try {
    return body();
  } catch (const std::exception& e) {
    return rocksdb::IOStatus::IOError(operation, e.what());
  } catch (...) {
    return rocksdb::IOStatus::IOError(operation, "unknown exception");
  }
}

}  // namespace uringfs

#endif  // URINGFS_ENV_IO_GUARD_H_
