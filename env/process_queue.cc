#include "env/process_queue.h"

#include <atomic>

#include "base/fork_generation.h"

namespace uringfs {
namespace {

// Lock-free on purpose: after fork() a lock held by a parent thread would
// stay held in the child for ever.
struct Current {
  std::atomic<wq::Queue*> queue{nullptr};
  std::atomic<uint64_t> generation{0};  // Of `queue`.
  std::atomic<int> limit{1};            // Largest write_workers so far.
};

Current& State() {
  static Current* const state = new Current();  // Never destroyed.
  return *state;
}

wq::Queue* NewQueue() {
  wq::QueueOptions o;
  o.max_bound_workers = State().limit.load(std::memory_order_relaxed);
  return new wq::Queue(o);
}

}  // namespace

wq::Queue& ProcessQueue() {
  Current& st = State();
  const uint64_t generation = ForkGeneration();
  // acquire: pairs with the release below, so the queue is fully built.
  wq::Queue* queue = st.queue.load(std::memory_order_acquire);
  if (queue != nullptr &&
      st.generation.load(std::memory_order_relaxed) == generation) {
    return *queue;
  }
  // First use, or the first use in a child of fork(): the parent's queue
  // has workers that do not exist here; it is left alone (leaked), and the
  // child gets a queue of its own.
  wq::Queue* fresh = NewQueue();
  if (queue != nullptr &&
      st.generation.load(std::memory_order_relaxed) != generation) {
    st.queue.store(nullptr, std::memory_order_relaxed);
    queue = nullptr;
  }
  if (st.queue.compare_exchange_strong(queue, fresh,
                                       std::memory_order_acq_rel)) {
    st.generation.store(generation, std::memory_order_relaxed);
    return *fresh;
  }
  delete fresh;  // Another thread installed one first; `queue` is it.
  return *queue;
}

void RaiseWorkerLimit(int workers) {
  Current& st = State();
  int limit = st.limit.load(std::memory_order_relaxed);
  while (workers > limit && !st.limit.compare_exchange_weak(
                                limit, workers, std::memory_order_relaxed)) {
  }
  if (workers > limit) {
    ProcessQueue().SetMaxWorkers(wq::Account::kBound, workers);
  }
}

}  // namespace uringfs
