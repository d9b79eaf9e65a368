#include "env/read_request.h"

#include <cstdint>

#include "env/io_error.h"

namespace uringfs {
namespace {

constexpr uint64_t kMaxRequest = uint64_t{1} << 62;
constexpr uint64_t kMaxFileOffset = uint64_t{INT64_MAX};  // off_t is signed.

std::string Describe(const std::string& path, uint64_t offset, size_t n) {
  return "read of " + std::to_string(n) + " bytes at offset " +
         std::to_string(offset) + " in " + path;
}

}  // namespace

rocksdb::IOStatus CheckReadRequest(const uring::ReadTarget& target,
                                   const std::string& path, uint64_t offset,
                                   size_t n, const char* scratch) {
  const char* problem = nullptr;
  if (n > kMaxRequest) {
    problem = "is larger than uringfs accepts (2^62 bytes)";
  } else if (offset > kMaxFileOffset || n > kMaxFileOffset - offset) {
    problem = "goes past the largest file offset";
  } else if (scratch == nullptr && n > 0) {
    problem = "has no buffer";
  } else if (target.direct) {
    const size_t a = target.alignment;
    if (offset % a != 0) {
      problem = "has an offset that is not a multiple of the direct-I/O "
                "alignment";
    } else if (n % a != 0) {
      problem = "has a length that is not a multiple of the direct-I/O "
                "alignment";
    } else if (reinterpret_cast<uintptr_t>(scratch) % a != 0) {
      problem = "has a buffer address that is not a multiple of the "
                "direct-I/O alignment";
    }
  }
  if (problem == nullptr) return rocksdb::IOStatus::OK();
  std::string msg = "uringfs: " + Describe(path, offset, n) + " " + problem;
  if (target.direct) msg += " (" + std::to_string(target.alignment) + ")";
  return rocksdb::IOStatus::InvalidArgument(msg);
}

rocksdb::IOStatus FinishRead(const uring::ReadOp& op, const std::string& path,
                             rocksdb::Slice* result) {
  if (op.error != 0) {
    *result = rocksdb::Slice(op.buf, 0);
    return IOErrorFromErrno("while reading " + std::to_string(op.len) +
                                " bytes at offset " +
                                std::to_string(op.offset) + " of",
                            path, op.error);
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
