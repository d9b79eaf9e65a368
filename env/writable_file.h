// -----------------------------------------------------------------------------
// env/writable_file.h
// -----------------------------------------------------------------------------
//
// `UringWritableFile` is uringfs's `FSWritableFile`: it wraps the base file
// system's handle and orders every operation on it through the file system's
// `WriteScheduler`, by file identity. Two policies (docs/design.md, "File
// classes and what each promises"):
//
//   * Write-behind (SST files by default, blob files too when `write_behind`
//     names them; never with direct I/O):
//     `Append` copies the data, queues the write and returns; `Flush` returns
//     at once; `RangeSync`, `Allocate` and preallocation are queued behind
//     the writes; `Sync`, `Fsync`, `Truncate`, `InvalidateCache` and `Close`
//     wait for every write queued before them, then run on the caller.
//     `GetFileSize` is the logical size, queued bytes included.
//   * Write-through (every other file): each call runs on the calling thread,
//     after whatever another handle of the same inode still has queued, so
//     when `Flush` returns the data is in the kernel and a process crash
//     loses none of it.
//
// Errors are sticky: the first failure of any operation (queued or not) is
// returned by the next call and by every later barrier; after it, queued
// writes of the file are skipped (RocksDB never writes a failed file again).
// Work cancelled by a shutdown fails the file with Aborted ("cancelled").
// Preconditions are checked before the base sees them: with direct I/O a
// misaligned buffer, size or offset is InvalidArgument.
//
// Thread-safety: like any FSWritableFile, one thread at a time, except that
// `Sync`/`Fsync` may run concurrently with `Append`/`Flush` when the base
// allows it (`IsSyncThreadSafe`); such a Sync covers everything appended
// before it started. The destructor closes the file if needed and waits for
// its queued work.

#ifndef URINGFS_ENV_WRITABLE_FILE_H_
#define URINGFS_ENV_WRITABLE_FILE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "env/write_scheduler.h"
#include "rocksdb/file_system.h"

namespace uringfs {

// The failure state and in-flight count shared by a handle and its queued
// work. Defined in writable_file.cc.
class WriteState;

class UringWritableFile final : public rocksdb::FSWritableFile {
 public:
  // `base` is the base file system's open handle for `fname`; `inode` and
  // `scheduler` come from the file system. REQUIRES: none is null.
  UringWritableFile(std::string fname,
                    std::unique_ptr<rocksdb::FSWritableFile> base,
                    std::shared_ptr<OpenInode> inode,
                    std::shared_ptr<WriteScheduler> scheduler,
                    bool write_behind, const rocksdb::FileOptions& options);
  ~UringWritableFile() override;

  // True when appends to this file are written behind the caller.
  bool write_behind() const { return write_behind_; }

  using rocksdb::FSWritableFile::Append;
  rocksdb::IOStatus Append(const rocksdb::Slice& data,
                           const rocksdb::IOOptions& options,
                           rocksdb::IODebugContext* dbg) override;
  using rocksdb::FSWritableFile::PositionedAppend;
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data,
                                     uint64_t offset,
                                     const rocksdb::IOOptions& options,
                                     rocksdb::IODebugContext* dbg) override;
  // With checksum hand-off (`checksum_handoff_file_types`) RocksDB passes
  // the data's checksum along. RocksDB's own default refuses such a direct
  // write (NotSupported); the contract lets a file system that cannot
  // verify the checksum ignore it, so this writes as the overload above.
  rocksdb::IOStatus PositionedAppend(
      const rocksdb::Slice& data, uint64_t offset,
      const rocksdb::IOOptions& options,
      const rocksdb::DataVerificationInfo& verification_info,
      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus Truncate(uint64_t size, const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus Close(const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus Flush(const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus Sync(const rocksdb::IOOptions& options,
                         rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus RangeSync(uint64_t offset, uint64_t nbytes,
                              const rocksdb::IOOptions& options,
                              rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus Allocate(uint64_t offset, uint64_t len,
                             const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus InvalidateCache(size_t offset, size_t length) override;
  void PrepareWrite(size_t offset, size_t len,
                    const rocksdb::IOOptions& options,
                    rocksdb::IODebugContext* dbg) override;
  void SetPreallocationBlockSize(size_t size) override;
  void GetPreallocationStatus(size_t* block_size,
                              size_t* last_allocated_block) override;
  uint64_t GetFileSize(const rocksdb::IOOptions& options,
                       rocksdb::IODebugContext* dbg) override;
  bool IsSyncThreadSafe() const override;
  bool use_direct_io() const override;
  size_t GetRequiredBufferAlignment() const override;
  void SetWriteLifeTimeHint(rocksdb::Env::WriteLifeTimeHint hint) override;
  size_t GetUniqueId(char* id, size_t max_size) const override;

 private:
  // Queues `op` behind the inode's work (write-behind files); `bytes` of
  // budget are held until it ran. Never waits, except for budget. Never
  // throws: if `op` cannot be queued (out of memory), the file fails with a
  // sticky error, which is returned.
  // True in a child of fork() for a file opened before it: every call is
  // refused (ForkedError) without touching the parent's queued work.
  bool Forked() const { return scheduler_->forked(); }
  rocksdb::IOStatus ForkedError(const char* what) const;

  rocksdb::IOStatus Queue(const char* what, uint64_t bytes,
                          std::function<rocksdb::IOStatus()> op);
  // Runs `op` on this thread after the inode's queued work; `quiesce` also
  // waits until none of this handle's work is still running.
  template <typename Op>
  rocksdb::IOStatus RunAfterQueued(const char* what, bool quiesce, Op&& op);
  // Queue() for write-behind files, RunAfterQueued() for the others.
  rocksdb::IOStatus Ordered(const char* what,
                            std::function<rocksdb::IOStatus()> op);
  // Whether the calling thread's task is shut down. While no task of the
  // file system ever was, one load of a flag this handle points to (every
  // append asks; the scheduler's own answer takes three dependent loads).
  bool TaskShutDown() const {
    return task_home_.SomeTaskRefuses() && scheduler_->CurrentTaskShutDown();
  }
  // Fails the file: its task is shut down and `what` was not done.
  rocksdb::IOStatus RefuseShutDown(const char* what);
  rocksdb::IOStatus CheckDirectIo(const rocksdb::Slice& data,
                                  uint64_t offset) const;
  // Sync or Fsync (`full`), see the header comment.
  rocksdb::IOStatus SyncData(bool full, const rocksdb::IOOptions& options);

  const std::string fname_;
  std::unique_ptr<rocksdb::FSWritableFile> base_;  // Leaked only after fork().
  const std::shared_ptr<OpenInode> inode_;
  const std::shared_ptr<WriteScheduler> scheduler_;
  const std::shared_ptr<WriteState> state_;
  const TaskHome& task_home_;  // Of scheduler_'s tasks; lives as long as it.
  const bool direct_;  // The base's use_direct_io(), which never changes.
  const bool write_behind_;
  // Logical size (write-behind); atomic because GetFileSize may be asked
  // from a thread other than the appender.
  std::atomic<uint64_t> size_;
  size_t prepared_blocks_ = 0;  // Preallocation blocks requested so far.
  bool closed_ = false;
};

}  // namespace uringfs

#endif  // URINGFS_ENV_WRITABLE_FILE_H_
