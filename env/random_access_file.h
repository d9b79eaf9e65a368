// -----------------------------------------------------------------------------
// env/random_access_file.h
// -----------------------------------------------------------------------------
//
// `UringRandomAccessFile` is uringfs's `FSRandomAccessFile`: `Read` and
// `MultiRead` go through the file system's `uring::ReadEngine` (io_uring, or
// the pread fallback), with every request of a `MultiRead` in flight at
// once; `ReadAsync` goes through its async reader (see async_read_handle.h).
// Requests are checked first (`CheckReadRequest`): misaligned direct I/O and
// oversized requests get InvalidArgument and never reach the kernel.
//
// Thread-safety: safe for concurrent use, as RocksDB requires of
// `NewRandomAccessFile` results (`Read` and `MultiRead` are called from many
// threads at once). The object owns its file descriptor.

#ifndef URINGFS_ENV_RANDOM_ACCESS_FILE_H_
#define URINGFS_ENV_RANDOM_ACCESS_FILE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "env/fs_tasks.h"
#include "env/open_for_read.h"
#include "env/read_ahead.h"
#include "env/rocks_read_counters.h"
#include "env/rocksdb_api.h"
#include "env/uring/read_engine.h"
#include "env/uring/read_op.h"
#include "rocksdb/file_system.h"

namespace uringfs {

class UringRandomAccessFile final : public rocksdb::FSRandomAccessFile {
 public:
  // `fd` owns `target.fd` (and is shared with in-flight async reads).
  // `engine` and `counters` are shared with the file system and may outlive
  // it.
  UringRandomAccessFile(std::string path, std::shared_ptr<SharedFd> fd,
                        uring::ReadTarget target,
                        std::shared_ptr<uring::ReadEngine> engine,
                        std::shared_ptr<RocksReadCounters> counters,
                        std::shared_ptr<const FsTasks> tasks,
                        std::shared_ptr<ReadAheadShared> read_ahead = nullptr);
  UringRandomAccessFile(const UringRandomAccessFile&) = delete;
  UringRandomAccessFile& operator=(const UringRandomAccessFile&) = delete;
  ~UringRandomAccessFile() override = default;

  rocksdb::IOStatus Read(uint64_t offset, size_t n,
                         const rocksdb::IOOptions& options,
                         rocksdb::Slice* result, char* scratch,
                         rocksdb::IODebugContext* dbg) const override;
  rocksdb::IOStatus MultiRead(rocksdb::FSReadRequest* reqs, size_t num_reqs,
                              const rocksdb::IOOptions& options,
                              rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReadAsync(rocksdb::FSReadRequest& req,
                              const rocksdb::IOOptions& options,
                              AsyncCallback cb, void* cb_arg, void** io_handle,
                              rocksdb::IOHandleDeleter* del_fn,
                              rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus Prefetch(uint64_t offset, size_t n,
                             const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override;
  void Hint(AccessPattern pattern) override;
  bool use_direct_io() const override { return target_.direct; }
  size_t GetRequiredBufferAlignment() const override {
    return target_.alignment;
  }
  rocksdb::IOStatus InvalidateCache(size_t offset, size_t length) override;

 private:
  const std::string path_;
  const std::shared_ptr<SharedFd> fd_;               // Owns target_.fd.
  const uring::ReadTarget target_;                   // Immutable.
  const std::shared_ptr<uring::ReadEngine> engine_;  // Thread-safe.
  const std::shared_ptr<RocksReadCounters> counters_;
  const std::shared_ptr<const FsTasks> tasks_;  // Whose async reads.
  // Reads ahead of ReadAsync streams; null for buffered files or when off.
  const std::unique_ptr<ReadAhead> read_ahead_;
};

}  // namespace uringfs

#endif  // URINGFS_ENV_RANDOM_ACCESS_FILE_H_
