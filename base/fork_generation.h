// -----------------------------------------------------------------------------
// base/fork_generation.h
// -----------------------------------------------------------------------------
//
// How many times this process is a child of `fork()` (since uringfs first
// looked). A uringfs object notes the generation it was built in; if it
// changes, the object belongs to the parent: its worker threads do not exist
// in the child, its io_uring rings are shared with the parent, and its locks
// may have been held by threads that are gone. Such an object must not wait
// for its workers or enter its rings; it refuses, or reads with plain
// system calls, instead.
//
// Thread-safety: safe for concurrent use. The counter changes only in a
// `pthread_atfork` child handler, when the child has a single thread.

#ifndef URINGFS_BASE_FORK_GENERATION_H_
#define URINGFS_BASE_FORK_GENERATION_H_

#include <atomic>
#include <cstdint>

namespace uringfs {
namespace internal {
// The generation counter; changed only by the fork handler. Read it through
// ForkedSince.
extern std::atomic<uint64_t> child_generation;
}  // namespace internal

// ForkGeneration()
//
// The current generation; the first call registers the fork handler.
uint64_t ForkGeneration();

// ForkedSince()
//
// True if this process forked (is a child) since generation `g`, which an
// earlier ForkGeneration() returned (that call registered the handler).
// Relaxed: the counter changes only in a child that has one thread, before
// anything else of the child runs.
inline bool ForkedSince(uint64_t g) {
  return internal::child_generation.load(std::memory_order_relaxed) != g;
}

}  // namespace uringfs

#endif  // URINGFS_BASE_FORK_GENERATION_H_
