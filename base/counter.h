// -----------------------------------------------------------------------------
// base/counter.h
// -----------------------------------------------------------------------------
//
// Statistics counters: monotonic values that nothing else depends on, so
// relaxed order is enough for both the bump and the read. A plain
// `std::atomic<uint64_t>` serves counters bumped now and then; a counter
// bumped on every read from many threads is a `ShardedCounter`, whose bumps
// do not contend for one cache line.
//
// Thread-safety: everything here is safe for concurrent use.

#ifndef URINGFS_BASE_COUNTER_H_
#define URINGFS_BASE_COUNTER_H_

#include <sched.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace uringfs {

inline void Bump(std::atomic<uint64_t>& counter, uint64_t n = 1) {
  counter.fetch_add(n, std::memory_order_relaxed);
}

inline uint64_t Get(const std::atomic<uint64_t>& counter) {
  return counter.load(std::memory_order_relaxed);
}

// A counter split into cache-line-sized cells; a bump goes to the cell of
// the CPU it runs on, a read sums them. The CPU number comes from
// sched_getcpu(), which glibc answers from the rseq area without a system
// call or a thread-local lookup (a shared library's thread-locals cost a
// __tls_get_addr call each); a thread that moves between CPUs meanwhile only
// bumps another cell, still atomically.
class ShardedCounter {
 public:
  void Add(uint64_t n = 1) {
    cells_[ThreadCell()].value.fetch_add(n, std::memory_order_relaxed);
  }
  uint64_t Sum() const {
    uint64_t total = 0;
    for (const Cell& c : cells_) {
      total += c.value.load(std::memory_order_relaxed);
    }
    return total;
  }

 private:
  static constexpr size_t kCells = 16;
  struct alignas(64) Cell {
    std::atomic<uint64_t> value{0};
  };
  static size_t ThreadCell() {
    const int cpu = ::sched_getcpu();
    return cpu < 0 ? 0 : static_cast<size_t>(cpu) % kCells;
  }
  Cell cells_[kCells];
};

inline void Bump(ShardedCounter& counter, uint64_t n = 1) { counter.Add(n); }
inline uint64_t Get(const ShardedCounter& counter) { return counter.Sum(); }

}  // namespace uringfs

#endif  // URINGFS_BASE_COUNTER_H_
