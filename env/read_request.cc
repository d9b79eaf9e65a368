#include "env/read_request.h"

#include <cstdint>

#include "env/io_error.h"

namespace uringfs {
namespace internal {
namespace {

std::string Describe(const std::string& path, uint64_t offset, size_t n) {
  return "read of " + std::to_string(n) + " bytes at offset " +
         std::to_string(offset) + " in " + path;
}

}  // namespace

rocksdb::IOStatus RefuseReadRequest(const uring::ReadTarget& target,
                                    const std::string& path, uint64_t offset,
                                    size_t n, const char* scratch) {
  const char* problem = "is refused";
  if (n > kMaxReadRequest) {
    problem = "is larger than uringfs accepts (2^62 bytes)";
  } else if (offset > kMaxFileOffset || n > kMaxFileOffset - offset) {
    problem = "goes past the largest file offset";
  } else if (scratch == nullptr && n > 0) {
    problem = "has no buffer";
  } else if (target.direct) {
    const size_t a = target.alignment;
    if (offset % a != 0) {
      problem =
          "has an offset that is not a multiple of the direct-I/O "
          "alignment";
    } else if (n % a != 0) {
      problem =
          "has a length that is not a multiple of the direct-I/O "
          "alignment";
    } else if (reinterpret_cast<uintptr_t>(scratch) % a != 0) {
      problem =
          "has a buffer address that is not a multiple of the "
          "direct-I/O alignment";
    }
  }
  std::string msg = "uringfs: " + Describe(path, offset, n) + " " + problem;
  if (target.direct) msg += " (" + std::to_string(target.alignment) + ")";
  return rocksdb::IOStatus::InvalidArgument(msg);
}

rocksdb::IOStatus ReadError(const uring::ReadOp& op, const std::string& path) {
  return IOErrorFromErrno("while reading " + std::to_string(op.len) +
                              " bytes at offset " + std::to_string(op.offset) +
                              " of",
                          path, op.error);
}

}  // namespace internal
}  // namespace uringfs
