// -----------------------------------------------------------------------------
// tests/testing/deadline.h
// -----------------------------------------------------------------------------
//
// Tests of blocking code must fail, not hang, when a call never returns: a
// hang would otherwise sit until Bazel's timeout and say nothing about which
// call it was. Both helpers run the call on a thread of their own and, past
// the deadline, print "HANG: <what>" and end the test process with status 3.
//
//   WithDeadline("Poll of the aborted read", 10s, [&] { fs->Poll(h, 1); });
//
//   Background b([&] { s = f->Sync(opts, nullptr); });  // starts now
//   EXPECT_FALSE(b.Finished(300ms));  // still blocked, as it must be
//   gate.Open();
//   EXPECT_TRUE(b.Finished(20s));     // and returns once unblocked
//
//   Deadline d("ShutdownUringFileSystem under load", 20s);  // a watchdog:
//   ...                             // the scope must be left within 20 s
//
//   EXPECT_TRUE(Eventually([&] { return stats().queued == 0; }));  // polls
//
// Thread-safety: use each object from the thread that created it.

#ifndef URINGFS_TESTS_TESTING_DEADLINE_H_
#define URINGFS_TESTS_TESTING_DEADLINE_H_

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <thread>
#include <utility>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace uringfs {
namespace testing {

// Runs `fn` on a thread of its own; `Finished(d)` waits up to `d` for it to
// return. The destructor waits up to `limit` (then reports a hang).
class Background {
 public:
  explicit Background(
      std::function<void()> fn,
      std::chrono::milliseconds limit = std::chrono::seconds(20),
      const char* what = "a background call")
      : limit_(limit), what_(what), thread_([this, fn = std::move(fn)] {
          fn();
          done_.Notify();
        }) {}

  ~Background() {
    if (!Finished(limit_)) {
      std::fprintf(stderr, "HANG: %s did not return within %lld ms\n", what_,
                   static_cast<long long>(limit_.count()));
      std::fflush(stderr);
      std::_Exit(3);
    }
    thread_.join();
  }

  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;

  bool Finished(std::chrono::milliseconds within) {
    return done_.WaitForNotificationWithTimeout(absl::FromChrono(within));
  }

 private:
  const std::chrono::milliseconds limit_;
  const char* const what_;
  absl::Notification done_;
  std::thread thread_;  // Last: starts once the members above exist.
};

// Polls `pred` every millisecond until it holds (true) or `limit` passes
// (false). For conditions with no event to wait on.
inline bool Eventually(
    const std::function<bool()>& pred,
    std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

// Runs `fn` and returns when it does; a hang after `limit` ends the process.
inline void WithDeadline(const char* what, std::chrono::milliseconds limit,
                         std::function<void()> fn) {
  Background call(std::move(fn), limit, what);
}

// A watchdog for a scope: unless destroyed within `limit`, it prints
// "DEADLINE EXCEEDED: <what>" and aborts the process.
class Deadline {
 public:
  Deadline(std::string what, std::chrono::milliseconds limit)
      : what_(std::move(what)), thread_([this, limit] {
          if (!left_.WaitForNotificationWithTimeout(absl::FromChrono(limit))) {
            std::fprintf(stderr, "DEADLINE EXCEEDED (%lld ms): %s\n",
                         static_cast<long long>(limit.count()), what_.c_str());
            std::fflush(stderr);
            std::abort();
          }
        }) {}

  ~Deadline() {
    left_.Notify();
    thread_.join();
  }

  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;

 private:
  const std::string what_;
  absl::Notification left_;
  std::thread thread_;  // Last: starts once the members above exist.
};

}  // namespace testing
}  // namespace uringfs

#endif  // URINGFS_TESTS_TESTING_DEADLINE_H_
