// -----------------------------------------------------------------------------
// tests/testing/failing_new.h
// -----------------------------------------------------------------------------
//
// Out of memory on demand. Linking this library replaces the global
// `operator new` of the test binary: once armed with `n`, the n-th next
// allocation of the arming thread (0: the very next one) throws
// std::bad_alloc; every other allocation, and every other thread's, goes to
// malloc as usual.
//
//   ArmAllocationFailure(2);
//   Call();                                   // Its third allocation fails.
//   const bool fired = DisarmAllocationFailure();
//
// Not for sanitizer builds: ASan and TSan replace operator new themselves.

#ifndef URINGFS_TESTS_TESTING_FAILING_NEW_H_
#define URINGFS_TESTS_TESTING_FAILING_NEW_H_

namespace uringfs {
namespace testing {

// Makes the `n`-th next allocation of this thread throw (n >= 0).
void ArmAllocationFailure(long n);

// Disarms; true if the armed allocation happened (and threw).
bool DisarmAllocationFailure();

}  // namespace testing
}  // namespace uringfs

#endif  // URINGFS_TESTS_TESTING_FAILING_NEW_H_
