// Test helpers for the io_uring read path (no RocksDB types): temporary files
// with known contents, fault injectors for the seam, and an io_uring
// availability check. testonly.
#ifndef URINGFS_TESTS_URING_TEST_UTIL_H_
#define URINGFS_TESTS_URING_TEST_UTIL_H_

#include <fcntl.h>
#include <liburing.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "env/uring/fault_injector.h"

#include <gtest/gtest.h>

namespace uringfs {
namespace uring {
namespace testing {

// The byte at `offset` of every test file: position-dependent, so a read of
// the wrong range or a shifted resubmission never compares equal.
inline char PatternByte(uint64_t offset) {
  uint64_t x = offset * 0x9E3779B97F4A7C15ull;
  x ^= x >> 29;
  return static_cast<char>(x & 0xff);
}

inline std::string Pattern(uint64_t offset, size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = PatternByte(offset + i);
  return s;
}

// What a plain pread loop returns for [offset, offset + n) of `size` bytes.
inline std::string Expected(uint64_t size, uint64_t offset, size_t n) {
  if (offset >= size) return std::string();
  const uint64_t avail = size - offset;
  return Pattern(offset, n < avail ? n : static_cast<size_t>(avail));
}

// A unique path under the test's temporary directory.
inline std::string TempPath(const std::string& name) {
  static std::atomic<int> seq{0};
  const char* dir = std::getenv("TEST_TMPDIR");
  std::string d = dir != nullptr ? dir : "/tmp";
  return d + "/uring_" + std::to_string(::getpid()) + "_" +
         std::to_string(seq.fetch_add(1)) + "_" + name;
}

// Writes a pattern file of `size` bytes; returns its path ("" on failure).
inline std::string WritePatternFile(const std::string& name, uint64_t size) {
  const std::string path = TempPath(name);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                        0644);
  if (fd < 0) return "";
  const std::string data = Pattern(0, static_cast<size_t>(size));
  size_t off = 0;
  while (off < data.size()) {
    const ssize_t w = ::write(fd, data.data() + off, data.size() - off);
    if (w <= 0) {
      ::close(fd);
      return "";
    }
    off += static_cast<size_t>(w);
  }
  ::close(fd);
  return path;
}

// Whether this process may set up an io_uring ring at all.
inline bool IoUringAvailable() {
  io_uring ring;
  if (::io_uring_queue_init(4, &ring, 0) != 0) return false;
  ::io_uring_queue_exit(&ring);
  return true;
}

// Counts every result the seam sees; changes nothing.
class CountingFaults : public FaultInjector {
 public:
  void OnResult(uint64_t, size_t, int64_t*) override { calls_.fetch_add(1); }
  int calls() const { return calls_.load(); }

 private:
  std::atomic<int> calls_{0};
};

// Makes every positive result shorter: halved (keeping at least `unit`
// bytes and a multiple of `unit`, for direct I/O), or `unit` bytes when
// `one_unit` is set. Counts the results it shortened.
class ShortResults : public FaultInjector {
 public:
  explicit ShortResults(bool one_unit, int64_t unit = 1)
      : one_unit_(one_unit), unit_(unit) {}
  void OnResult(uint64_t, size_t, int64_t* res) override {
    if (*res <= unit_) return;
    int64_t shorter = one_unit_ ? unit_ : (*res / 2) / unit_ * unit_;
    if (shorter < unit_) shorter = unit_;
    if (shorter < *res) {
      *res = shorter;
      shortened_.fetch_add(1);
    }
  }
  int shortened() const { return shortened_.load(); }

 private:
  const bool one_unit_;
  const int64_t unit_;
  std::atomic<int> shortened_{0};
};

// Replaces the first `k` results of reads of each range start (offset) with
// `-err` (EAGAIN or EINTR): "fails the first k attempts".
class FailFirstAttempts : public FaultInjector {
 public:
  FailFirstAttempts(int err, int k) : err_(err), k_(k) {}
  void OnResult(uint64_t offset, size_t, int64_t* res) override {
    std::lock_guard<std::mutex> l(mu_);
    int& n = attempts_[offset];
    if (n < k_) {
      ++n;
      *res = -err_;
      injected_.fetch_add(1);
    }
  }
  int injected() const { return injected_.load(); }

 private:
  const int err_;
  const int k_;
  std::mutex mu_;
  std::map<uint64_t, int> attempts_;
  std::atomic<int> injected_{0};
};

// Fails every read whose range starts at `offset` with -EIO.
class FailAtOffset : public FaultInjector {
 public:
  explicit FailAtOffset(uint64_t offset, int err = EIO)
      : offset_(offset), err_(err) {}
  void OnResult(uint64_t offset, size_t, int64_t* res) override {
    if (offset == offset_) {
      *res = -err_;
      injected_.fetch_add(1);
    }
  }
  int injected() const { return injected_.load(); }

 private:
  const uint64_t offset_;
  const int err_;
  std::atomic<int> injected_{0};
};

// Makes ring setup fail with `err`.
class SetupFails : public CountingFaults {
 public:
  explicit SetupFails(int err) : err_(err) {}
  int SetupErrno() override { return err_; }

 private:
  const int err_;
};

// Test names for suites parameterised over ring-setup errnos.
inline std::string SetupErrnoName(const ::testing::TestParamInfo<int>& info) {
  switch (info.param) {
    case EPERM: return "EPERM";
    case ENOSYS: return "ENOSYS";
    case ENOMEM: return "ENOMEM";
    case EINVAL: return "EINVAL";
    default: return "errno" + std::to_string(info.param);
  }
}

}  // namespace testing
}  // namespace uring
}  // namespace uringfs

#endif  // URINGFS_TESTS_URING_TEST_UTIL_H_
