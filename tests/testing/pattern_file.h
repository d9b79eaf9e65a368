// -----------------------------------------------------------------------------
// tests/testing/pattern_file.h
// -----------------------------------------------------------------------------
//
// Files of a known byte pattern, for read tests: byte i of every pattern file
// is `PatternByte(i)`, a hash of its position, so a read of the wrong range or
// a shifted resubmission never compares equal.
//
//   const std::string path = WritePatternFile("data", 1 << 20);
//   ... read [off, off + n) through the file system under test ...
//   EXPECT_EQ(result.ToString(), Expected(1 << 20, off, n));
//
// Thread-safety: stateless (file names come from TempPath, which is safe for
// concurrent use).

#ifndef URINGFS_TESTS_TESTING_PATTERN_FILE_H_
#define URINGFS_TESTS_TESTING_PATTERN_FILE_H_

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <string>

#include "tests/testing/temp_dir.h"

namespace uringfs {
namespace testing {

// The byte at `offset` of every pattern file.
inline char PatternByte(uint64_t offset) {
  uint64_t x = offset * 0x9E3779B97F4A7C15ull;
  x ^= x >> 29;
  return static_cast<char>(x & 0xff);
}

// Bytes [offset, offset + n) of the pattern.
inline std::string Pattern(uint64_t offset, size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = PatternByte(offset + i);
  return s;
}

// What a plain pread loop returns for [offset, offset + n) of a pattern file
// of `size` bytes: the pattern, cut at end of file.
inline std::string Expected(uint64_t size, uint64_t offset, size_t n) {
  if (offset >= size) return std::string();
  const uint64_t avail = size - offset;
  return Pattern(offset, n < avail ? n : static_cast<size_t>(avail));
}

// Writes a pattern file of `size` bytes at `path` (replacing any file there),
// in blocks of 1 MiB; false if a call failed.
inline bool WritePatternFileAt(const std::string& path, uint64_t size) {
  const int fd =
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  constexpr uint64_t kBlock = 1 << 20;
  for (uint64_t off = 0; off < size;) {
    const std::string data =
        Pattern(off, static_cast<size_t>(std::min(kBlock, size - off)));
    const ssize_t w =
        ::pwrite(fd, data.data(), data.size(), static_cast<off_t>(off));
    if (w <= 0) {
      ::close(fd);
      return false;
    }
    off += static_cast<uint64_t>(w);
  }
  return ::close(fd) == 0;
}

// Writes a pattern file of `size` bytes at a fresh TempPath(`name`); returns
// its path ("" on failure).
inline std::string WritePatternFile(const std::string& name, uint64_t size) {
  const std::string path = TempPath(name);
  return WritePatternFileAt(path, size) ? path : std::string();
}

}  // namespace testing
}  // namespace uringfs

#endif  // URINGFS_TESTS_TESTING_PATTERN_FILE_H_
