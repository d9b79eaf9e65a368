// The async reader's ring is set up on first use. A failure to set it up may
// pass (memlock, a moment without memory): it is tried again a second later,
// not given up for the file system's whole life; meanwhile async reads are
// done synchronously.

#include <atomic>
#include <cerrno>
#include <chrono>
#include <memory>
#include <thread>

#include <gtest/gtest.h>

#include "env/uring/fault_injector.h"
#include "env/uring/read_engine.h"
#include "tests/uring/test_util.h"

namespace uringfs {
namespace uring {
namespace {

// Lets the probe's ring setup through, refuses the next one, then allows.
class SecondSetupFails : public FaultInjector {
 public:
  int SetupErrno() override { return calls.fetch_add(1) == 1 ? EAGAIN : 0; }
  std::atomic<int> calls{0};
};

TEST(AsyncSetupRetryTest, FailedAsyncRingSetupIsTriedAgainLater) {
  if (!testing::IoUringAvailable()) GTEST_SKIP() << "no io_uring here";
  auto faults = std::make_shared<SecondSetupFails>();
  ReadEngine engine(true, /*ring_single_reads=*/true, 8, faults);
  ASSERT_TRUE(engine.features().usable()) << engine.features().Describe();
  EXPECT_FALSE(engine.AsyncOnRing());  // The refused setup.
  EXPECT_FALSE(engine.AsyncOnRing());  // Not tried again at once.
  EXPECT_EQ(faults->calls.load(), 2);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  EXPECT_TRUE(engine.AsyncOnRing());
  EXPECT_EQ(faults->calls.load(), 3);
  EXPECT_EQ(engine.counters().ring_failures.load(), 1u);
}

}  // namespace
}  // namespace uring
}  // namespace uringfs
