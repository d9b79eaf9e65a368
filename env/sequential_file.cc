#include "env/sequential_file.h"

#include <utility>

#include "env/io_guard.h"
#include "env/open_for_read.h"
#include "env/read_request.h"

namespace uringfs {

UringSequentialFile::UringSequentialFile(
    std::string path, std::shared_ptr<SharedFd> fd, uring::ReadTarget target,
    std::shared_ptr<uring::ReadEngine> engine)
    : path_(std::move(path)),
      fd_(std::move(fd)),
      target_(target),
      engine_(std::move(engine)) {}

rocksdb::IOStatus UringSequentialFile::ReadAt(uint64_t offset, size_t n,
                                              rocksdb::Slice* result,
                                              char* scratch) {
  *result = rocksdb::Slice();
  return NoThrow("uringfs sequential read", [&] {
    rocksdb::IOStatus s = CheckReadRequest(target_, path_, offset, n, scratch);
    if (!s.ok()) return s;
    uring::ReadOp op = MakeReadOp(offset, n, scratch);
    engine_->Read(target_, &op, 1);
    return FinishRead(op, path_, result);
  });
}

rocksdb::IOStatus UringSequentialFile::Read(size_t n, const rocksdb::IOOptions&,
                                            rocksdb::Slice* result,
                                            char* scratch,
                                            rocksdb::IODebugContext*) {
  if (target_.direct) {
    *result = rocksdb::Slice();
    return rocksdb::IOStatus::InvalidArgument(
        "uringfs: Read on direct-I/O sequential file " + path_ +
        "; RocksDB uses PositionedRead for direct I/O");
  }
  rocksdb::IOStatus s = ReadAt(position_, n, result, scratch);
  if (s.ok()) position_ += result->size();
  return s;
}

rocksdb::IOStatus UringSequentialFile::Skip(uint64_t n) {
  // Like lseek(SEEK_CUR): past the end is allowed; later reads return empty.
  position_ += n;
  return rocksdb::IOStatus::OK();
}

rocksdb::IOStatus UringSequentialFile::PositionedRead(
    uint64_t offset, size_t n, const rocksdb::IOOptions&,
    rocksdb::Slice* result, char* scratch, rocksdb::IODebugContext*) {
  return ReadAt(offset, n, result, scratch);
}

rocksdb::IOStatus UringSequentialFile::InvalidateCache(size_t offset,
                                                       size_t length) {
  return InvalidatePageCache(target_, path_, offset, length);
}

}  // namespace uringfs
