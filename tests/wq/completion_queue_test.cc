// Tests for CompletionQueue: invariant 28 (FIFO completions) of
// docs/design.md, appendix A.
#include "env/wq/completion_queue.h"

#include <memory>
#include <utility>

#include "env/wq/queue.h"
#include "env/wq/task.h"

#include <atomic>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/wq/test_util.h"

namespace uringfs {
namespace wq {
namespace {

using testing::Log;

class LoggedCompletion final : public Completion {
 public:
  LoggedCompletion() = default;
  LoggedCompletion(int id, Log* log) : id_(id), log_(log) {}
  void Set(int id, Log* log) {
    id_ = id;
    log_ = log;
  }
  void Complete() override {
    log_->Append(id_);
    if (repost_into != nullptr) {
      CompletionQueue* q = repost_into;
      repost_into = nullptr;  // Once.
      q->Post(this);
    }
  }
  CompletionQueue* repost_into = nullptr;

 private:
  int id_ = 0;
  Log* log_ = nullptr;
};

TEST(CompletionQueueTest, CompletionsAreDeliveredInPostingOrder) {
  Log log;
  std::vector<LoggedCompletion> cs(50);
  CompletionQueue q;
  for (int i = 0; i < 50; ++i) {
    cs[i].Set(i, &log);
    EXPECT_EQ(q.Post(&cs[i]), i == 0);  // Only the first post sets the bit.
  }
  EXPECT_TRUE(q.pending());
  EXPECT_EQ(q.Drain(), 50u);
  EXPECT_FALSE(q.pending());
  std::vector<int> want(50);
  for (int i = 0; i < 50; ++i) want[i] = i;
  EXPECT_EQ(log.ids(), want);
}

TEST(CompletionQueueTest, RepostingADrainedNodeWorks) {
  Log log;
  CompletionQueue q;
  LoggedCompletion a(1, &log), b(2, &log);
  q.Post(&a);
  q.Post(&b);
  a.repost_into = &q;  // `a` posts itself again while the drain runs.
  EXPECT_EQ(q.Drain(), 3u);
  EXPECT_EQ(log.ids(), (std::vector<int>{1, 2, 1}));
  EXPECT_TRUE(q.Post(&b));  // Bit was cleared: the next post sets it again.
  EXPECT_EQ(q.Drain(), 1u);
}

// Items posted while a drain runs are delivered by that drain or set the
// pending bit again; none is lost at the edge.
TEST(CompletionQueueTest, NothingIsLostWhenPostsRaceTheDrainEdge) {
  constexpr int kN = 20000;
  Log log;
  std::vector<LoggedCompletion> cs(kN);
  CompletionQueue q;
  std::atomic<int> bit_sets{0};
  std::thread poster([&] {
    for (int i = 0; i < kN; ++i) {
      cs[i].Set(i, &log);
      // relaxed: a statistic only.
      if (q.Post(&cs[i])) bit_sets.fetch_add(1, std::memory_order_relaxed);
    }
  });
  size_t delivered = 0;
  while (delivered < kN) {
    // Only drain when the bit says so: a lost edge would hang here.
    ASSERT_TRUE(q.WaitPending(testing::kWait)) << "lost completion";
    delivered += q.Drain();
  }
  poster.join();
  EXPECT_EQ(delivered, static_cast<size_t>(kN));
  EXPECT_FALSE(q.pending());
  std::vector<int> ids = log.ids();
  ASSERT_EQ(ids.size(), static_cast<size_t>(kN));
  for (int i = 0; i < kN; ++i) ASSERT_EQ(ids[i], i);
  EXPECT_GE(bit_sets.load(), 1);
}

TEST(CompletionQueueTest, PostAfterCloseRunsOnThePostingThread) {
  Log log;
  CompletionQueue q;
  LoggedCompletion a(1, &log), b(2, &log);
  q.Post(&a);
  q.Close();  // Runs what is left.
  EXPECT_EQ(log.ids(), (std::vector<int>{1}));
  EXPECT_FALSE(q.Post(&b));  // Fallback: run inline.
  EXPECT_EQ(log.ids(), (std::vector<int>{1, 2}));
}

// A work item that reports its completion to some task's completion queue.
class PostingItem final : public WorkItem {
 public:
  PostingItem(std::shared_ptr<CompletionQueue> target, Completion* completion)
      : target_(std::move(target)), completion_(completion) {}
  void DoWork(int /*status*/) override {}
  WorkItem* FreeWork(int /*status*/) override {
    free_calls.fetch_add(1, std::memory_order_relaxed);
    target_->Post(completion_);
    freed.Add();
    return nullptr;
  }
  std::atomic<int> free_calls{0};  // relaxed: read after `freed`.
  testing::Counter freed;

 private:
  const std::shared_ptr<CompletionQueue> target_;
  Completion* const completion_;
};

TEST(CompletionQueueTest, PostingAfterOwnerIsGoneUsesFallbackAndFreesOnce) {
  Log log;
  LoggedCompletion c(1, &log);
  Queue queue;
  auto owner = queue.NewTask();
  std::shared_ptr<CompletionQueue> owner_completions = owner->completions();
  owner.reset();  // The owner is gone; its queue is closed.
  PostingItem item(owner_completions, &c);
  auto other = queue.NewTask();
  other->Enqueue(&item);
  ASSERT_TRUE(item.freed.WaitAtLeast(1));
  EXPECT_EQ(log.ids(), (std::vector<int>{1}));  // Ran inline, on the worker.
  EXPECT_EQ(item.free_calls.load(), 1);
  EXPECT_FALSE(owner_completions->pending());
}

TEST(CompletionQueueTest, WorkerCompletionsReachTheTaskInFifoOrder) {
  constexpr int kN = 100;
  Log log;
  std::vector<LoggedCompletion> cs(kN);
  std::vector<std::unique_ptr<PostingItem>> items;
  Queue queue;
  auto task = queue.NewTask();
  for (int i = 0; i < kN; ++i) {
    cs[i].Set(i, &log);
    items.push_back(std::make_unique<PostingItem>(task->completions(), &cs[i]));
    items.back()->SetHashKey(HashKey{1, 1});  // One file: completes in order.
    task->Enqueue(items.back().get());
  }
  size_t delivered = 0;
  while (delivered < kN) {
    ASSERT_TRUE(task->completions()->WaitPending(testing::kWait));
    delivered += task->completions()->Drain();
  }
  std::vector<int> ids = log.ids();
  ASSERT_EQ(ids.size(), static_cast<size_t>(kN));
  for (int i = 0; i < kN; ++i) EXPECT_EQ(ids[i], i);
  for (auto& item : items) ASSERT_TRUE(item->freed.WaitAtLeast(1));
}

}  // namespace
}  // namespace wq
}  // namespace uringfs
