// -----------------------------------------------------------------------------
// env/random_rw_file.h
// -----------------------------------------------------------------------------
//
// `UringRandomRWFile` wraps the base file system's `FSRandomRWFile` (RocksDB
// uses it to patch files in place, e.g. an ingested SST's global sequence
// number). Every call runs on the calling thread after the work other
// handles still have queued for the same inode, so in-place writes are
// ordered with the write-behind queue; nothing is queued itself.
//
// Thread-safety: as the base's (RocksDB uses one thread at a time).

#ifndef URINGFS_ENV_RANDOM_RW_FILE_H_
#define URINGFS_ENV_RANDOM_RW_FILE_H_

#include <memory>

#include "env/write_scheduler.h"
#include "rocksdb/file_system.h"

namespace uringfs {

class UringRandomRWFile final : public rocksdb::FSRandomRWFile {
 public:
  // REQUIRES: no argument is null.
  UringRandomRWFile(std::unique_ptr<rocksdb::FSRandomRWFile> base,
                    std::shared_ptr<OpenInode> inode,
                    std::shared_ptr<WriteScheduler> scheduler);

  bool use_direct_io() const override { return base_->use_direct_io(); }
  size_t GetRequiredBufferAlignment() const override {
    return base_->GetRequiredBufferAlignment();
  }
  rocksdb::IOStatus Write(uint64_t offset, const rocksdb::Slice& data,
                          const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus Read(uint64_t offset, size_t n,
                         const rocksdb::IOOptions& options,
                         rocksdb::Slice* result, char* scratch,
                         rocksdb::IODebugContext* dbg) const override;
  rocksdb::IOStatus Flush(const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus Sync(const rocksdb::IOOptions& options,
                         rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus Close(const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* dbg) override;

 private:
  void AfterQueued() const { scheduler_->Drain(inode_); }

  const std::unique_ptr<rocksdb::FSRandomRWFile> base_;
  const std::shared_ptr<OpenInode> inode_;
  const std::shared_ptr<WriteScheduler> scheduler_;
};

}  // namespace uringfs

#endif  // URINGFS_ENV_RANDOM_RW_FILE_H_
