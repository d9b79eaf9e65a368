#include "env/open_for_read.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "base/dio_alignment.h"
#include "env/io_error.h"

namespace uringfs {

SharedFd::~SharedFd() {
  // A close error on a read-only descriptor loses nothing; nothing to report.
  ::close(fd_);
}

size_t DirectIoAlignment(int fd) {
  constexpr size_t kDefault = 4096;
  const DioAlignment a = QueryDioAlignment(fd);
  if (!a.reported) return kDefault;
  return std::max<size_t>(a.offset, a.memory);
}

rocksdb::IOStatus InvalidatePageCache(const uring::ReadTarget& target,
                                      const std::string& path, size_t offset,
                                      size_t length) {
  if (target.direct) return rocksdb::IOStatus::OK();
  const int err =
      ::posix_fadvise(target.fd, static_cast<off_t>(offset),
                      static_cast<off_t>(length), POSIX_FADV_DONTNEED);
  if (err == 0) return rocksdb::IOStatus::OK();
  return IOErrorFromErrno("While fadvise NotNeeded offset " +
                              std::to_string(offset) + " len " +
                              std::to_string(length) + " of",
                          path, err);
}

rocksdb::IOStatus OpenForRead(const std::string& path, bool direct,
                              const char* what, uring::ReadTarget* target,
                              std::shared_ptr<SharedFd>* owner) {
  const int flags = O_RDONLY | O_CLOEXEC | (direct ? O_DIRECT : 0);
  int fd;
  do {
    fd = ::open(path.c_str(), flags);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    return IOErrorFromErrno(std::string("While open a file for ") + what, path,
                            errno);
  }
  try {
    *owner = std::make_shared<SharedFd>(fd);
  } catch (...) {
    ::close(fd);  // Nobody owns it yet.
    throw;
  }
  target->fd = fd;
  target->direct = direct;
  target->nowait_ok = direct ? nullptr : (*owner)->nowait_ok();
  // Buffered files report RocksDB's page size, as its POSIX file system does.
  target->alignment = direct ? DirectIoAlignment(fd) : 4096;
  return rocksdb::IOStatus::OK();
}

}  // namespace uringfs
