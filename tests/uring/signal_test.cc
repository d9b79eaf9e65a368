// Signals interrupt io_uring_enter waits with EINTR (io_uring_enter(2)). The
// read path must keep waiting, not fail or lose completions: reader threads
// are bombarded with a no-op signal handler installed without SA_RESTART.
// Installs a process-wide signal handler, hence a binary of its own.

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "env/uring/async_reader.h"
#include "env/uring/read_engine.h"
#include "env/uring/read_op.h"
#include "tests/testing/pattern_file.h"
#include "tests/uring/test_util.h"

namespace uringfs {
namespace uring {
namespace {

using ::uringfs::testing::Expected;
using ::uringfs::testing::WritePatternFile;

std::atomic<int> g_signals{0};
void OnSignal(int) { g_signals.fetch_add(1, std::memory_order_relaxed); }

class SignalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::IoUringAvailable()) {
      GTEST_SKIP() << "io_uring_queue_init fails here; io_uring path untested";
    }
    struct sigaction sa {};
    sa.sa_handler = OnSignal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // No SA_RESTART: interrupted waits return EINTR.
    ASSERT_EQ(::sigaction(SIGUSR1, &sa, &old_), 0);
    installed_ = true;
  }
  void TearDown() override {
    if (installed_) ::sigaction(SIGUSR1, &old_, nullptr);
  }

  // Sends SIGUSR1 to every thread of `targets` until `stop`.
  static void Bombard(const std::vector<pthread_t>& targets,
                      const std::atomic<bool>& stop) {
    while (!stop.load()) {
      for (pthread_t t : targets) ::pthread_kill(t, SIGUSR1);
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  }

  struct sigaction old_ {};
  bool installed_ = false;
};

TEST_F(SignalTest, BatchReadsOfSignalledThreadsStillMatchPread) {
  const uint64_t size = 1 << 20;
  const std::string path = WritePatternFile("signal", size);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  ReadTarget target;
  target.fd = fd;
  ReadEngine engine(true, /*ring_single_reads=*/true, 8, nullptr);
  ASSERT_TRUE(engine.features().usable());
  std::atomic<int> bad{0};
  std::atomic<int> started{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> readers;
  std::vector<pthread_t> ids(4);
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&, t] {
      ids[t] = ::pthread_self();
      started.fetch_add(1);
      std::mt19937 rng(static_cast<uint32_t>(t));
      for (int i = 0; i < 200; ++i) {
        const size_t n = 1 + rng() % 64;
        std::vector<std::string> bufs(n);
        std::vector<ReadOp> ops(n);
        for (size_t j = 0; j < n; ++j) {
          ops[j].offset = rng() % size;
          ops[j].len = 1 + rng() % 16384;
          bufs[j].assign(ops[j].len, '\0');
          ops[j].buf = &bufs[j][0];
        }
        engine.Read(target, ops.data(), n);
        for (const ReadOp& op : ops) {
          if (op.error != 0 || std::string(op.buf, op.done) !=
                                   Expected(size, op.offset, op.len)) {
            bad.fetch_add(1);
          }
        }
      }
    });
  }
  while (started.load() < 4) std::this_thread::yield();
  const int before = g_signals.load();
  std::thread signaller([&] { Bombard(ids, stop); });
  for (auto& r : readers) r.join();
  stop = true;
  signaller.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_GT(g_signals.load(), before) << "no signal was delivered";
  ::close(fd);
  ::unlink(path.c_str());
}

TEST_F(SignalTest, SignalledPollerKeepsWaitingForItsRead) {
  int err = 0;
  auto reader = AsyncReader::Create(8, true, nullptr, &err);
  ASSERT_NE(reader, nullptr) << std::strerror(err);
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  std::string buf(8, '\0');
  AsyncRead read;
  read.target.fd = p[0];
  read.op.len = 8;
  read.op.buf = &buf[0];
  reader->Submit(&read);
  std::vector<AsyncRead*> due;
  std::atomic<bool> polled{false};
  pthread_t poller_id{};
  std::atomic<bool> ready{false};
  std::thread poller([&] {
    poller_id = ::pthread_self();
    ready = true;
    AsyncRead* r = &read;
    reader->Poll(&r, 1, 1, &due);
    polled = true;
  });
  while (!ready.load()) std::this_thread::yield();
  const int before = g_signals.load();
  std::atomic<bool> stop{false};
  std::thread signaller([&] { Bombard({poller_id}, stop); });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(polled.load()) << "Poll returned before the data arrived";
  ASSERT_EQ(::write(p[1], "87654321", 8), 8);
  poller.join();
  stop = true;
  signaller.join();
  EXPECT_GT(g_signals.load(), before);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(read.op.error, 0) << std::strerror(read.op.error);
  EXPECT_EQ(buf, "87654321");
  ::close(p[0]);
  ::close(p[1]);
}

}  // namespace
}  // namespace uring
}  // namespace uringfs
