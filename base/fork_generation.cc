#include "base/fork_generation.h"

#include <pthread.h>

#include <atomic>

namespace uringfs {
namespace internal {

std::atomic<uint64_t> child_generation{0};

}  // namespace internal
namespace {

void OnForkChild() {
  internal::child_generation.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

uint64_t ForkGeneration() {
  static const bool registered = [] {
    return ::pthread_atfork(nullptr, nullptr, OnForkChild) == 0;
  }();
  (void)registered;  // Without the handler (ENOMEM), nothing is detected.
  return internal::child_generation.load(std::memory_order_relaxed);
}

}  // namespace uringfs
