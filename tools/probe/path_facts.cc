#include "tools/probe/path_facts.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "base/dio_alignment.h"
#include "env/uring/nowait.h"
#include "tools/probe/errno_name.h"
#include "tools/probe/fs_type.h"

namespace uringfs {
namespace probe {
namespace {

constexpr size_t kBlock = 4096;

// One RWF_NOWAIT call's answer, in words.
std::string NowaitText(ssize_t result, int err) {
  switch (uring::ClassifyNowait(result, err)) {
    case uring::NowaitAnswer::kWouldBlock:
      return "yes (EAGAIN: it would have blocked this time)";
    case uring::NowaitAnswer::kFileRefuses:
    case uring::NowaitAnswer::kSystemRefuses:
      return "no (" + ErrnoName(err) + ")";
    case uring::NowaitAnswer::kDone:
      break;
  }
  return result >= 0 ? "yes" : "unknown (failed: " + ErrnoName(err) + ")";
}

std::string DioText(int fd) {
  const DioAlignment a = QueryDioAlignment(fd);
  if (!a.reported) return "not reported";
  return "memory " + std::to_string(a.memory) + ", offset " +
         std::to_string(a.offset) + " (STATX_DIOALIGN)";
}

// Tries RWF_NOWAIT reads and writes on `fd`, an empty file of its own.
void ProbeNowait(int fd, PathFacts* facts) {
  std::vector<char> block(kBlock, 'u');
  if (::pwrite(fd, block.data(), kBlock, 0) != static_cast<ssize_t>(kBlock)) {
    facts->nowait_read = facts->nowait_write =
        "unknown (write failed: " + ErrnoName(errno) + ")";
    return;
  }
  iovec iov{block.data(), kBlock};
  ssize_t r = ::preadv2(fd, &iov, 1, 0, RWF_NOWAIT);  // Cached: just written.
  facts->nowait_read = NowaitText(r, r < 0 ? errno : 0);
  r = ::pwritev2(fd, &iov, 1, static_cast<off_t>(kBlock), RWF_NOWAIT);
  facts->nowait_write = NowaitText(r, r < 0 ? errno : 0);
}

}  // namespace

bool ProbePath(const std::string& path, PathFacts* facts, std::string* error) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    *error = path + ": " + ::strerror(errno);
    return false;
  }
  facts->directory = path;
  if (!S_ISDIR(st.st_mode)) {
    const size_t slash = path.rfind('/');
    facts->directory = slash == std::string::npos ? "."
                       : slash == 0               ? "/"
                                                  : path.substr(0, slash);
  }
  if (char* real = ::realpath(facts->directory.c_str(), nullptr)) {
    facts->real_directory = real;
    ::free(real);
  }
  facts->fs_type = FsTypeOf(facts->directory);
  std::string name = facts->directory + "/.uringfs-probe-XXXXXX";
  const int fd = ::mkostemp(&name[0], O_CLOEXEC);
  if (fd < 0) {
    facts->dio_alignment = facts->nowait_read = facts->nowait_write =
        "unknown (cannot create a file in " + facts->directory + ": " +
        ErrnoName(errno) + ")";
    return true;
  }
  ::unlink(name.c_str());
  facts->dio_alignment = DioText(fd);
  ProbeNowait(fd, facts);
  ::close(fd);
  return true;
}

}  // namespace probe
}  // namespace uringfs
