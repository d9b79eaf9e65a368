#include "env/io_error.h"

#include <cerrno>
#include <cstring>

namespace uringfs {

rocksdb::IOStatus IOErrorFromErrno(const std::string& context,
                                   const std::string& path, int err) {
  const std::string what = context + " " + path;
  const std::string why = std::strerror(err);
  switch (err) {
    case ENOSPC: {
      rocksdb::IOStatus s = rocksdb::IOStatus::NoSpace(what, why);
      s.SetRetryable(true);
      return s;
    }
    case ENOENT:
      return rocksdb::IOStatus::PathNotFound(what, why);
    case ECANCELED:
      return rocksdb::IOStatus::Aborted(what, "cancelled: " + why);
    case ETIMEDOUT:
      return rocksdb::IOStatus::TimedOut(what, why);
    default:
      return rocksdb::IOStatus::IOError(what, why);
  }
}

}  // namespace uringfs
