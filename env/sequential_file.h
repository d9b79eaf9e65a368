// -----------------------------------------------------------------------------
// env/sequential_file.h
// -----------------------------------------------------------------------------
//
// `UringSequentialFile` is uringfs's `FSSequentialFile` (WAL and MANIFEST
// replay, ingestion, backups): `Read` reads at the file's position and
// advances it, `PositionedRead` (direct I/O) reads at an aligned offset; both
// go through the file system's `uring::ReadEngine` with the same checks and
// result rules as random reads (short only at end of file).
//
// Thread-safety: thread-compatible: RocksDB uses a sequential file from one
// thread at a time ("REQUIRES: External synchronization").

#ifndef URINGFS_ENV_SEQUENTIAL_FILE_H_
#define URINGFS_ENV_SEQUENTIAL_FILE_H_

#include <cstdint>
#include <memory>
#include <string>

#include "env/open_for_read.h"
#include "env/uring/read_engine.h"
#include "env/uring/read_op.h"
#include "rocksdb/file_system.h"

namespace uringfs {

class UringSequentialFile final : public rocksdb::FSSequentialFile {
 public:
  // `fd` owns `target.fd`.
  UringSequentialFile(std::string path, std::shared_ptr<SharedFd> fd,
                      uring::ReadTarget target,
                      std::shared_ptr<uring::ReadEngine> engine);
  UringSequentialFile(const UringSequentialFile&) = delete;
  UringSequentialFile& operator=(const UringSequentialFile&) = delete;
  ~UringSequentialFile() override = default;

  // REQUIRES: not opened for direct I/O (RocksDB uses PositionedRead then).
  rocksdb::IOStatus Read(size_t n, const rocksdb::IOOptions& options,
                         rocksdb::Slice* result, char* scratch,
                         rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus Skip(uint64_t n) override;
  rocksdb::IOStatus PositionedRead(uint64_t offset, size_t n,
                                   const rocksdb::IOOptions& options,
                                   rocksdb::Slice* result, char* scratch,
                                   rocksdb::IODebugContext* dbg) override;
  bool use_direct_io() const override { return target_.direct; }
  size_t GetRequiredBufferAlignment() const override {
    return target_.alignment;
  }
  rocksdb::IOStatus InvalidateCache(size_t offset, size_t length) override;

 private:
  rocksdb::IOStatus ReadAt(uint64_t offset, size_t n, rocksdb::Slice* result,
                           char* scratch);

  const std::string path_;
  const std::shared_ptr<SharedFd> fd_;  // Owns target_.fd.
  const uring::ReadTarget target_;
  const std::shared_ptr<uring::ReadEngine> engine_;
  uint64_t position_ = 0;  // Next byte `Read` returns.
};

}  // namespace uringfs

#endif  // URINGFS_ENV_SEQUENTIAL_FILE_H_
