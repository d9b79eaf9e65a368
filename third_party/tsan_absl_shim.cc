// ThreadSanitizer shim for Debian's prebuilt abseil (tests only).
//
// Debian's libabsl_synchronization is not built with -fsanitize=thread, so its
// Mutex, CondVar and Notification publish no happens-before edges to TSAN and
// every access guarded by an absl::Mutex is reported as a race. Under TSAN
// this file interposes the out-of-line entry points our code and tests call:
// each forwards to the real function (dlsym RTLD_NEXT) and adds
// __tsan_acquire/__tsan_release on the mutex (or notification) address. Test
// binaries link it statically (alwayslink) so that the executable's
// definitions win symbol resolution. Outside TSAN builds it is empty.
//
// The symbol names are those of libabsl 20220623 as packaged by Debian
// (inline namespace `debian3`). If that changes, dlsym returns nullptr and the
// shim reports it once on stderr (test-only code) and calls abort.
#if defined(__SANITIZE_THREAD__)
#define URINGFS_TSAN_SHIM 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define URINGFS_TSAN_SHIM 1
#endif
#endif

#ifdef URINGFS_TSAN_SHIM

#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"

extern "C" void __tsan_acquire(void* addr);
extern "C" void __tsan_release(void* addr);

namespace {

void* Real(const char* name) {
  void* fn = ::dlsym(RTLD_NEXT, name);
  if (fn == nullptr) {
    std::fprintf(stderr, "tsan_absl_shim: %s not found\n", name);
    std::abort();
  }
  return fn;
}

template <typename Fn>
Fn RealFn(const char* name) {
  return reinterpret_cast<Fn>(Real(name));
}

// A condition is evaluated with the lock held but inside the library, by the
// waiter or by an unlocking thread: bracket every evaluation.
struct GuardedCondition {
  const absl::Condition* cond;
  void* mu;
};

bool EvalAfterAcquire(GuardedCondition* g) {
  __tsan_acquire(g->mu);
  const bool r = g->cond->Eval();
  __tsan_release(g->mu);  // The lock may be dropped internally right after.
  return r;
}

}  // namespace

namespace absl {
ABSL_NAMESPACE_BEGIN

void Mutex::Lock() {
  static auto real = RealFn<void (*)(Mutex*)>("_ZN4absl7debian35Mutex4LockEv");
  real(this);
  __tsan_acquire(this);
}

void Mutex::Unlock() {
  static auto real =
      RealFn<void (*)(Mutex*)>("_ZN4absl7debian35Mutex6UnlockEv");
  __tsan_release(this);
  real(this);
}

void Mutex::Await(const Condition& cond) {
  static auto real = RealFn<void (*)(Mutex*, const Condition&)>(
      "_ZN4absl7debian35Mutex5AwaitERKNS0_9ConditionE");
  GuardedCondition g{&cond, this};
  const Condition wrapped(&EvalAfterAcquire, &g);  // Written before release.
  __tsan_release(this);
  real(this, wrapped);
  __tsan_acquire(this);
}

bool Mutex::AwaitWithTimeout(const Condition& cond, absl::Duration timeout) {
  static auto real = RealFn<bool (*)(Mutex*, const Condition&, Duration)>(
      "_ZN4absl7debian35Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_"
      "8DurationE");
  GuardedCondition g{&cond, this};
  const Condition wrapped(&EvalAfterAcquire, &g);  // Written before release.
  __tsan_release(this);
  const bool r = real(this, wrapped, timeout);
  __tsan_acquire(this);
  return r;
}

bool CondVar::WaitWithDeadline(Mutex* mu, absl::Time deadline) {
  static auto real = RealFn<bool (*)(CondVar*, Mutex*, Time)>(
      "_ZN4absl7debian37CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE");
  __tsan_release(mu);
  const bool r = real(this, mu, deadline);
  __tsan_acquire(mu);
  return r;
}

void CondVar::Wait(Mutex* mu) {
  static auto real = RealFn<void (*)(CondVar*, Mutex*)>(
      "_ZN4absl7debian37CondVar4WaitEPNS0_5MutexE");
  __tsan_release(mu);
  real(this, mu);
  __tsan_acquire(mu);
}

void Notification::Notify() {
  static auto real = RealFn<void (*)(Notification*)>(
      "_ZN4absl7debian312Notification6NotifyEv");
  __tsan_release(this);
  real(this);
}

bool Notification::WaitForNotificationWithTimeout(
    absl::Duration timeout) const {
  static auto real = RealFn<bool (*)(const Notification*, Duration)>(
      "_ZNK4absl7debian312Notification30WaitForNotificationWithTimeoutENS0_"
      "8DurationE");
  const bool r = real(this, timeout);
  __tsan_acquire(const_cast<Notification*>(this));
  return r;
}

void Notification::WaitForNotification() const {
  static auto real = RealFn<void (*)(const Notification*)>(
      "_ZNK4absl7debian312Notification19WaitForNotificationEv");
  real(this);
  __tsan_acquire(const_cast<Notification*>(this));
}

ABSL_NAMESPACE_END
}  // namespace absl

#endif  // URINGFS_TSAN_SHIM
