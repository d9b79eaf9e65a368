// -----------------------------------------------------------------------------
// env/rocksdb_api.h
// -----------------------------------------------------------------------------
//
// The one place that knows how RocksDB's `FileSystem` API differs between the
// releases uringfs supports (Debian 12's 7.8.3 and current 11.x). Everything
// else in uringfs is written against the names below and compiles unchanged
// against either release.
//
// The differences are found from RocksDB's own declarations where possible
// (the callback type is read off `FSRandomAccessFile::ReadAsync`), and from
// `rocksdb/version.h` only where a declaration cannot tell (a virtual method
// that older releases do not have). No other file tests RocksDB's version.

#ifndef URINGFS_ENV_ROCKSDB_API_H_
#define URINGFS_ENV_ROCKSDB_API_H_

#include "rocksdb/file_system.h"
#include "rocksdb/version.h"

namespace uringfs {
namespace rocksdb_api {

// The type of a method's third parameter (ReadAsync's callback).
template <typename Method>
struct ThirdParameter;
template <typename C, typename R, typename A, typename B, typename Cb,
          typename... Rest>
struct ThirdParameter<R (C::*)(A, B, Cb, Rest...)> {
  using type = Cb;
};

}  // namespace rocksdb_api

// The callback `FSRandomAccessFile::ReadAsync` takes:
//   7.8.3:  std::function<void(const FSReadRequest&, void*)>
//   9.0 on: std::function<void(FSReadRequest&, void*)>
using AsyncCallback = typename rocksdb_api::ThirdParameter<
    decltype(&rocksdb::FSRandomAccessFile::ReadAsync)>::type;

// CopyReadRequest()
//
// Copies the fields of a read request that uringfs reads and fills (offset,
// len, scratch, result, status). From 8.5 on a request also carries
// `fs_scratch`, a move-only buffer owned by RocksDB, so a request can no
// longer be copied whole; uringfs never hands out buffers of its own through
// it (it does not report `FSSupportedOps::kFSBuffer`).
inline void CopyReadRequest(const rocksdb::FSReadRequest& from,
                            rocksdb::FSReadRequest* to) {
  to->offset = from.offset;
  to->len = from.len;
  to->scratch = from.scratch;
  to->result = from.result;
  to->status = from.status;
}

// FileSystemBase
//
// What UringFileSystem derives from: RocksDB's FileSystemWrapper, plus the
// answers a newer RocksDB asks of a file system directly.
//
// From 8.4 on RocksDB asks `FileSystem::SupportedOps` before it uses
// `ReadAsync` (and, later, `Prefetch`); a wrapper would forward the question
// to the POSIX file system underneath, which says yes only when its own
// io_uring works. uringfs serves both itself (asynchronous reads complete
// with `pread` where io_uring is unavailable), so it answers with RocksDB's
// default set: every optional operation except handing out its own buffers
// (`kFSBuffer`) and `kVerifyAndReconstructRead`.
#if ROCKSDB_MAJOR > 8 || (ROCKSDB_MAJOR == 8 && ROCKSDB_MINOR >= 4)
#define URINGFS_ROCKSDB_ASKS_SUPPORTED_OPS 1
#else
#define URINGFS_ROCKSDB_ASKS_SUPPORTED_OPS 0
#endif

class FileSystemBase : public rocksdb::FileSystemWrapper {
 public:
  using rocksdb::FileSystemWrapper::FileSystemWrapper;

#if URINGFS_ROCKSDB_ASKS_SUPPORTED_OPS
  void SupportedOps(int64_t& supported_ops) override {
    rocksdb::FileSystem::SupportedOps(supported_ops);
  }
#endif
};

// Whether this RocksDB asks `FileSystem::SupportedOps` before asynchronous
// reads, and if so whether `fs` says yes (tests).
inline constexpr bool kRocksDbAsksSupportedOps =
    URINGFS_ROCKSDB_ASKS_SUPPORTED_OPS;
inline bool AdvertisesAsyncReads(rocksdb::FileSystem& fs) {
#if URINGFS_ROCKSDB_ASKS_SUPPORTED_OPS
  int64_t ops = 0;
  fs.SupportedOps(ops);
  return (ops & (int64_t{1} << rocksdb::FSSupportedOps::kAsyncIO)) != 0;
#else
  (void)fs;
  return true;
#endif
}

// The RocksDB release uringfs was compiled against, as "major.minor.patch".
inline constexpr int kRocksDbMajor = ROCKSDB_MAJOR;
inline constexpr int kRocksDbMinor = ROCKSDB_MINOR;
inline constexpr int kRocksDbPatch = ROCKSDB_PATCH;

}  // namespace uringfs

#endif  // URINGFS_ENV_ROCKSDB_API_H_
