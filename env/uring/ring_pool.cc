#include "env/uring/ring_pool.h"

#include <cstring>
#include <utility>

namespace uringfs {
namespace uring {

int Ring::Create(unsigned entries, uint32_t flags, std::unique_ptr<Ring>* out) {
  // Set up into a local first: the destructor must only ever see a ring that
  // was set up (liburing's queue_exit closes ring_fd, which is 0 otherwise).
  io_uring ring;
  io_uring_params params;
  std::memset(&ring, 0, sizeof(ring));
  std::memset(&params, 0, sizeof(params));
  params.flags = flags;
  const int ret = ::io_uring_queue_init_params(entries, &ring, &params);
  if (ret < 0) return ret;
  out->reset(new Ring(ring, params.sq_entries));
  return 0;
}

Ring::~Ring() { ::io_uring_queue_exit(&ring_); }

RingPool::Lease::Lease(Lease&& other) noexcept
    : pool_(other.pool_), ring_(std::move(other.ring_)) {
  other.pool_ = nullptr;
}

RingPool::Lease::~Lease() {
  if (pool_ != nullptr && ring_ != nullptr) pool_->Return(std::move(ring_));
}

RingPool::RingPool(unsigned entries, uint32_t flags, size_t max_idle)
    : entries_(entries), flags_(flags), max_idle_(max_idle) {
  absl::MutexLock l(&mu_);
  idle_.reserve(max_idle_);  // Return() runs in destructors: never allocate.
}

RingPool::Lease RingPool::Acquire(int* err) {
  {
    absl::MutexLock l(&mu_);
    if (!idle_.empty()) {
      std::unique_ptr<Ring> ring = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(ring));
    }
  }
  std::unique_ptr<Ring> ring;
  const int ret = Ring::Create(entries_, flags_, &ring);
  if (ret < 0) {
    *err = -ret;
    return Lease();
  }
  absl::MutexLock l(&mu_);
  ++created_;
  return Lease(this, std::move(ring));
}

uint64_t RingPool::created() const {
  absl::MutexLock l(&mu_);
  return created_;
}

void RingPool::Return(std::unique_ptr<Ring> ring) {
  absl::MutexLock l(&mu_);
  if (idle_.size() < max_idle_) idle_.push_back(std::move(ring));
  // Otherwise `ring` is closed here, outside the caller's way.
}

}  // namespace uring
}  // namespace uringfs
