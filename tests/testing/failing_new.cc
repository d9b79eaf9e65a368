#include "tests/testing/failing_new.h"

#include <cstdlib>
#include <new>

namespace {

// -1: allocations succeed; N >= 0: the N-th next allocation of this thread
// throws; below -1: it did.
thread_local long fail_countdown = -1;

}  // namespace

void* operator new(std::size_t n) {
  if (fail_countdown >= 0 && fail_countdown-- == 0) {
    fail_countdown = -2;
    throw std::bad_alloc();
  }
  void* p = std::malloc(n == 0 ? 1 : n);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace uringfs {
namespace testing {

void ArmAllocationFailure(long n) { fail_countdown = n; }

bool DisarmAllocationFailure() {
  const bool fired = fail_countdown == -2;
  fail_countdown = -1;
  return fired;
}

}  // namespace testing
}  // namespace uringfs
