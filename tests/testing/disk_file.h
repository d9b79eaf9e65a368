// -----------------------------------------------------------------------------
// tests/testing/disk_file.h
// -----------------------------------------------------------------------------
//
// What is on disk, seen without RocksDB or uringfs: a file's bytes (pread on
// a descriptor of its own) and its size (stat). Tests compare these with what
// they wrote through the file system under test.
//
//   EXPECT_EQ(ReadFileOnDisk(dir + "/000001.sst"), expected_bytes);
//
// Thread-safety: stateless.

#ifndef URINGFS_TESTS_TESTING_DISK_FILE_H_
#define URINGFS_TESTS_TESTING_DISK_FILE_H_

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

#include <gtest/gtest.h>

namespace uringfs {
namespace testing {

// The whole file at `path`; on an error the test fails and what was read so
// far is returned.
inline std::string ReadFileOnDisk(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    ADD_FAILURE() << "open " << path << ": " << std::strerror(errno);
    return "";
  }
  std::string out;
  char buf[1 << 16];
  for (;;) {
    const ssize_t n =
        ::pread(fd, buf, sizeof(buf), static_cast<off_t>(out.size()));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ADD_FAILURE() << "pread " << path << ": " << std::strerror(errno);
    }
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

// Whether anything exists at `path`.
inline bool ExistsOnDisk(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

// The size of the file at `path`; if it cannot be stat'ed the test fails and
// 0 is returned.
inline uint64_t SizeOnDisk(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    ADD_FAILURE() << "stat " << path << ": " << std::strerror(errno);
    return 0;
  }
  return static_cast<uint64_t>(st.st_size);
}

}  // namespace testing
}  // namespace uringfs

#endif  // URINGFS_TESTS_TESTING_DISK_FILE_H_
