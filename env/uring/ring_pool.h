// -----------------------------------------------------------------------------
// env/uring/ring_pool.h
// -----------------------------------------------------------------------------
//
// `Ring` owns one io_uring instance. liburing rings are not safe for several
// submitters or several completers, while RocksDB calls
// `FSRandomAccessFile::Read` from many threads at once. `RingPool` resolves
// that by lending rings: a thread leases a ring for one whole operation
// (submit, reap, resubmit), returns it with nothing in flight, and the next
// operation of any thread may reuse it. So no ring is ever shared while in
// use, none is tied to a thread (nothing leaks when threads exit), and the
// number of rings is bounded by the peak number of concurrent readers.
// Every ring of a pool is closed when the pool is destroyed.
//
// Thread-safety: `RingPool` is safe for concurrent use. A `Ring` and a
// `Lease` belong to one thread at a time.

#ifndef URINGFS_ENV_URING_RING_POOL_H_
#define URINGFS_ENV_URING_RING_POOL_H_

#include <liburing.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace uringfs {
namespace uring {

class Ring final {
 public:
  // Ring::Create()
  //
  // Sets up a ring with `entries` submission entries and `flags`. Returns 0
  // and stores it in `*out`, or returns -errno.
  static int Create(unsigned entries, uint32_t flags,
                    std::unique_ptr<Ring>* out);

  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;
  // REQUIRES: no request in flight (the kernel could still write into the
  // buffers of one after the ring is gone).
  ~Ring();

  io_uring* get() { return &ring_; }
  unsigned depth() const { return depth_; }

 private:
  // Takes over `ring`, which has been set up.
  Ring(const io_uring& ring, unsigned depth) : ring_(ring), depth_(depth) {}
  io_uring ring_;
  const unsigned depth_;
};

class RingPool final {
 public:
  // Exclusive use of one ring; gives it back to the pool when destroyed.
  class Lease final {
   public:
    Lease() = default;
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&&) = delete;
    ~Lease();

    Ring* ring() const { return ring_.get(); }
    // Lease::Discard()
    //
    // Closes the ring instead of returning it; for a ring left with
    // submission entries that could not be submitted.
    void Discard() { ring_.reset(); }

   private:
    friend class RingPool;
    Lease(RingPool* pool, std::unique_ptr<Ring> ring)
        : pool_(pool), ring_(std::move(ring)) {}
    RingPool* pool_ = nullptr;
    std::unique_ptr<Ring> ring_;
  };

  // Rings get `entries` entries and `flags`. Idle rings beyond `max_idle` are
  // closed as they come back.
  RingPool(unsigned entries, uint32_t flags, size_t max_idle = 64);
  RingPool(const RingPool&) = delete;
  RingPool& operator=(const RingPool&) = delete;
  // REQUIRES: every lease has been destroyed.
  ~RingPool() = default;

  // RingPool::Acquire()
  //
  // An idle ring, or a new one. If a new ring cannot be set up (memlock, the
  // fd limit), returns an empty lease and stores the errno in `*err`.
  Lease Acquire(int* err) ABSL_LOCKS_EXCLUDED(mu_);

  // Rings set up so far (including closed ones).
  uint64_t created() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void Return(std::unique_ptr<Ring> ring) ABSL_LOCKS_EXCLUDED(mu_);

  const unsigned entries_;  // Immutable after construction.
  const uint32_t flags_;
  const size_t max_idle_;
  mutable absl::Mutex mu_;
  std::vector<std::unique_ptr<Ring>> idle_ ABSL_GUARDED_BY(mu_);
  uint64_t created_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace uring
}  // namespace uringfs

#endif  // URINGFS_ENV_URING_RING_POOL_H_
