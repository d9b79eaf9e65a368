// -----------------------------------------------------------------------------
// tests/uring/test_util.h
// -----------------------------------------------------------------------------
//
// Test helpers for the io_uring read path (no RocksDB types): fault injectors
// for the env/uring/fault_injector.h seam, an io_uring availability check and
// test names for suites parameterised over ring-setup errnos. Files with known
// contents are tests/testing/pattern_file.h.
//
// Thread-safety: the injectors are called concurrently by the engine (atomic
// counters, a mutex where there is a map); the functions are stateless.
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

// Whether this process may set up an io_uring ring at all.
inline bool IoUringAvailable() {
  io_uring ring;
  if (::io_uring_queue_init(4, &ring, 0) != 0) return false;
  ::io_uring_queue_exit(&ring);
  return true;
}

// A pipe: a read of its empty read end stays in the kernel until the test
// writes, which makes reads "in flight" deterministic.
struct Pipe {
  Pipe() { EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0); }
  ~Pipe() {
    if (fds[0] >= 0) ::close(fds[0]);
    if (fds[1] >= 0) ::close(fds[1]);
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  void Write(const std::string& s) const {
    EXPECT_EQ(::write(fds[1], s.data(), s.size()),
              static_cast<ssize_t>(s.size()));
  }
  int fds[2] = {-1, -1};
};

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
    case EPERM:
      return "EPERM";
    case ENOSYS:
      return "ENOSYS";
    case ENOMEM:
      return "ENOMEM";
    case EINVAL:
      return "EINVAL";
    default:
      return "errno" + std::to_string(info.param);
  }
}

}  // namespace testing
}  // namespace uring
}  // namespace uringfs

#endif  // URINGFS_TESTS_URING_TEST_UTIL_H_
