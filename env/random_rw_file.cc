#include "env/random_rw_file.h"

#include <utility>

#include "env/io_guard.h"

namespace uringfs {

UringRandomRWFile::UringRandomRWFile(
    std::unique_ptr<rocksdb::FSRandomRWFile> base,
    std::shared_ptr<OpenInode> inode, std::shared_ptr<WriteScheduler> scheduler)
    : base_(std::move(base)),
      inode_(std::move(inode)),
      scheduler_(std::move(scheduler)) {}

rocksdb::IOStatus UringRandomRWFile::Write(uint64_t offset,
                                           const rocksdb::Slice& data,
                                           const rocksdb::IOOptions& options,
                                           rocksdb::IODebugContext* dbg) {
  AfterQueued();
  return NoThrow("random-rw write",
                 [&] { return base_->Write(offset, data, options, dbg); });
}

rocksdb::IOStatus UringRandomRWFile::Read(uint64_t offset, size_t n,
                                          const rocksdb::IOOptions& options,
                                          rocksdb::Slice* result, char* scratch,
                                          rocksdb::IODebugContext* dbg) const {
  AfterQueued();
  return NoThrow("random-rw read", [&] {
    return base_->Read(offset, n, options, result, scratch, dbg);
  });
}

rocksdb::IOStatus UringRandomRWFile::Flush(const rocksdb::IOOptions& options,
                                           rocksdb::IODebugContext* dbg) {
  AfterQueued();
  return NoThrow("random-rw flush", [&] { return base_->Flush(options, dbg); });
}

rocksdb::IOStatus UringRandomRWFile::Sync(const rocksdb::IOOptions& options,
                                          rocksdb::IODebugContext* dbg) {
  AfterQueued();
  return NoThrow("random-rw sync", [&] { return base_->Sync(options, dbg); });
}

rocksdb::IOStatus UringRandomRWFile::Fsync(const rocksdb::IOOptions& options,
                                           rocksdb::IODebugContext* dbg) {
  AfterQueued();
  return NoThrow("random-rw fsync", [&] { return base_->Fsync(options, dbg); });
}

rocksdb::IOStatus UringRandomRWFile::Close(const rocksdb::IOOptions& options,
                                           rocksdb::IODebugContext* dbg) {
  AfterQueued();
  return NoThrow("random-rw close", [&] { return base_->Close(options, dbg); });
}

}  // namespace uringfs
