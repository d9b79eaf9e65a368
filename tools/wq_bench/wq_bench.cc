// wq_bench: micro-benchmarks for the io-wq worker queue (//env/wq).
//
//   1. Enqueue-to-start latency with an idle (parked) worker: median, p99.
//   2. Items per second for unhashed no-op work (4 bound workers).
//   3. Items per second for hashed work where each item blocks ~100 us inside
//      a BlockingScope (like a write waiting on the device), over 1, 2, 8 and
//      64 keys, 4 bound workers.
//
// Usage: wq_bench [latency_iters] [unhashed_items] [hashed_items]
// Prints one line per measurement; see docs/benchmarks-wq.md.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "env/wq/queue.h"

namespace uringfs {
namespace wq {
namespace {

using Clock = std::chrono::steady_clock;

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             Clock::now().time_since_epoch())
      .count();
}

class BenchItem final : public WorkItem {
 public:
  void DoWork(int status) override {
    // relaxed/release: the submitter spins on `done` (acquire) and then
    // reads `started_ns`.
    started_ns.store(NowNs(), std::memory_order_relaxed);
    if (status == 0 && block_us > 0) {
      BlockingScope scope;
      absl::SleepFor(absl::Microseconds(block_us));
    }
  }
  WorkItem* FreeWork(int /*status*/) override {
    done->fetch_add(1, std::memory_order_release);
    return nullptr;
  }
  std::atomic<int64_t> started_ns{0};
  std::atomic<int>* done = nullptr;
  int block_us = 0;
};

void WaitDone(const std::atomic<int>& done, int n) {
  while (done.load(std::memory_order_acquire) < n) std::this_thread::yield();
}

void Latency(int iters) {
  QueueOptions o;
  o.max_bound_workers = 4;
  Queue queue(std::move(o));
  auto task = queue.NewTask();
  std::atomic<int> done{0};
  std::vector<int64_t> samples;
  samples.reserve(iters);
  BenchItem item;
  item.done = &done;
  for (int i = 0; i < iters + 100; ++i) {
    // Let the worker park: it must be idle when the item arrives (the very
    // first enqueue creates it).
    while (i > 0 && queue.GetStats().bound.idle == 0) {
      std::this_thread::yield();
    }
    absl::SleepFor(absl::Microseconds(50));
    const int64_t t0 = NowNs();
    task->Enqueue(&item);
    WaitDone(done, i + 1);
    if (i >= 100) {  // The first 100 are warm-up.
      samples.push_back(item.started_ns.load(std::memory_order_relaxed) - t0);
    }
  }
  std::sort(samples.begin(), samples.end());
  const auto pct = [&samples](double p) {
    return static_cast<double>(samples[static_cast<size_t>(
               p * static_cast<double>(samples.size() - 1))]) /
           1000.0;
  };
  std::printf(
      "latency_idle_worker iters=%d median_us=%.1f p90_us=%.1f "
      "p99_us=%.1f\n",
      iters, pct(0.5), pct(0.9), pct(0.99));
}

// Enqueues `n` items from one thread and returns items per second from the
// first enqueue to the last FreeWork.
double Throughput(int n, int keys, int block_us) {
  QueueOptions o;
  o.max_bound_workers = 4;
  Queue queue(std::move(o));
  auto task = queue.NewTask();
  std::atomic<int> done{0};
  std::vector<std::unique_ptr<BenchItem>> items;
  for (int i = 0; i < n; ++i) {
    items.push_back(std::make_unique<BenchItem>());
    items.back()->done = &done;
    items.back()->block_us = block_us;
    if (keys > 0) {
      items.back()->SetHashKey(HashKey{1, static_cast<uint64_t>(i % keys)});
    }
  }
  const int64_t t0 = NowNs();
  for (auto& item : items) task->Enqueue(item.get());
  WaitDone(done, n);
  const double secs = static_cast<double>(NowNs() - t0) / 1e9;
  return n / secs;
}

int Main(int argc, char** argv) {
  const int latency_iters = argc > 1 ? std::atoi(argv[1]) : 5000;
  const int unhashed_items = argc > 2 ? std::atoi(argv[2]) : 200000;
  const int hashed_items = argc > 3 ? std::atoi(argv[3]) : 4000;
  std::printf("wq_bench cpus=%u workers=4\n",
              std::thread::hardware_concurrency());
  Latency(latency_iters);
  std::printf("unhashed_noop items=%d items_per_s=%.0f\n", unhashed_items,
              Throughput(unhashed_items, 0, 0));
  double one_key = 0;
  for (int keys : {1, 2, 8, 64}) {
    const double rate = Throughput(hashed_items, keys, 100);
    if (keys == 1) one_key = rate;
    std::printf(
        "hashed_block100us keys=%d items=%d items_per_s=%.0f "
        "speedup_vs_1key=%.2f\n",
        keys, hashed_items, rate, rate / one_key);
  }
  return 0;
}

}  // namespace
}  // namespace wq
}  // namespace uringfs

int main(int argc, char** argv) { return uringfs::wq::Main(argc, argv); }
