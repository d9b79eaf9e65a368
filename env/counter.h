// -----------------------------------------------------------------------------
// env/counter.h
// -----------------------------------------------------------------------------
//
// Statistics counters: monotonic `std::atomic<uint64_t>` values that nothing
// else depends on, so relaxed order is enough for both the bump and the read.
//
// Thread-safety: both functions are safe for concurrent use.

#ifndef URINGFS_ENV_COUNTER_H_
#define URINGFS_ENV_COUNTER_H_

#include <atomic>
#include <cstdint>

namespace uringfs {

inline void Bump(std::atomic<uint64_t>& counter, uint64_t n = 1) {
  counter.fetch_add(n, std::memory_order_relaxed);
}

inline uint64_t Get(const std::atomic<uint64_t>& counter) {
  return counter.load(std::memory_order_relaxed);
}

}  // namespace uringfs

#endif  // URINGFS_ENV_COUNTER_H_
