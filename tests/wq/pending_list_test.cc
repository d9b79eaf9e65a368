// Tests for internal::PendingList, the per-account pending list with bucket
// runs. Invariants (docs/design.md, appendix A) covered here: 6, 7, and the
// list half of 2 and 4 (the queue half is in queue_test.cc).
#include "env/wq/pending_list.h"

#include <vector>

#include "gtest/gtest.h"
#include "tests/wq/test_util.h"

namespace uringfs {
namespace wq {
namespace internal {
namespace {

using testing::Key;
using testing::TestItem;

std::vector<int> Ids(const WorkItem* chain) {
  std::vector<int> ids;
  for (; chain != nullptr; chain = PendingList::ChainNext(chain)) {
    ids.push_back(static_cast<const TestItem*>(chain)->id());
  }
  return ids;
}

// Empties `chain`, returning the ids in chain order.
std::vector<int> Drain(ItemChain* chain) {
  std::vector<int> ids;
  while (WorkItem* item = chain->PopFront()) {
    ids.push_back(static_cast<const TestItem*>(item)->id());
  }
  return ids;
}

TestItem* Hashed(TestItem* item, uint64_t key) {
  item->SetHashKey(Key(key));
  return item;
}

void Push(PendingList* list, TestItem* item) {
  list->Push(item, item->hash_key());
}

bool MatchId(const WorkItem& w, int id) {
  return static_cast<const TestItem&>(w).id() == id;
}

TEST(PendingListTest, SameKeyItemsAreKeptContiguous) {
  TestItem a1(1), b(2), a2(3), c1(4), a3(5);
  PendingList list;
  Push(&list, Hashed(&a1, 1));
  Push(&list, &b);
  Push(&list, Hashed(&a2, 1));
  Push(&list, Hashed(&c1, 2));
  Push(&list, Hashed(&a3, 1));
  ASSERT_TRUE(list.CheckIntegrity());
  BucketSet held;
  EXPECT_EQ(Ids(list.TakeRunnable(&held)), (std::vector<int>{1, 3, 5}));
  EXPECT_EQ(Ids(list.TakeRunnable(&held)), (std::vector<int>{2}));
  EXPECT_EQ(Ids(list.TakeRunnable(&held)), (std::vector<int>{4}));
  EXPECT_TRUE(list.empty());
  EXPECT_EQ(held.size(), 2u);
}

// Invariant 4 (list half): a held run is skipped in one step.
TEST(PendingListTest, HeldRunIsSkippedAndWorkBehindItIsTaken) {
  TestItem a1(1), a2(2), b(3), c(4);
  PendingList list;
  Push(&list, Hashed(&a1, 1));
  Push(&list, Hashed(&a2, 1));
  Push(&list, &b);
  Push(&list, Hashed(&c, 2));
  BucketSet held = {Key(1)};
  EXPECT_TRUE(list.HasRunnable(held));
  EXPECT_EQ(Ids(list.TakeRunnable(&held)), (std::vector<int>{3}));
  EXPECT_EQ(Ids(list.TakeRunnable(&held)), (std::vector<int>{4}));
  EXPECT_FALSE(list.HasRunnable(held));
  EXPECT_EQ(list.TakeRunnable(&held), nullptr);
  held.erase(Key(1));
  EXPECT_EQ(Ids(list.TakeRunnable(&held)), (std::vector<int>{1, 2}));
  EXPECT_TRUE(list.CheckIntegrity());
}

// Invariant 2 (list half): items queued while their bucket's run executes form
// a new run behind it.
TEST(PendingListTest, ItemsQueuedWhileBucketHeldFormANewRun) {
  TestItem a1(1), a2(2), a3(3), b(4), a4(5);
  PendingList list;
  Push(&list, Hashed(&a1, 1));
  Push(&list, Hashed(&a2, 1));
  BucketSet held;
  EXPECT_EQ(Ids(list.TakeRunnable(&held)), (std::vector<int>{1, 2}));
  Push(&list, Hashed(&a3, 1));
  Push(&list, &b);
  Push(&list, Hashed(&a4, 1));
  ASSERT_TRUE(list.CheckIntegrity());
  EXPECT_EQ(Ids(list.TakeRunnable(&held)), (std::vector<int>{4}));
  EXPECT_EQ(list.TakeRunnable(&held), nullptr);
  held.erase(Key(1));
  EXPECT_EQ(Ids(list.TakeRunnable(&held)), (std::vector<int>{3, 5}));
}

// Invariant 6: cancelling the tail, the middle and the head of a run repairs
// the tail index; new same-bucket items still attach to the run.
TEST(PendingListTest, RemovingTailMiddleAndHeadRepairsBucketTail) {
  TestItem a1(1), a2(2), a3(3), a4(4), b(5), a5(6), a6(7);
  PendingList list;
  for (TestItem* a : {&a1, &a2, &a3, &a4}) Push(&list, Hashed(a, 1));
  Push(&list, &b);
  ItemChain out;
  ASSERT_EQ(list.RemoveIf([](const WorkItem& w) { return MatchId(w, 4); },
                          false, &out),
            1u);  // Tail.
  ASSERT_TRUE(list.CheckIntegrity());
  Push(&list, Hashed(&a5, 1));  // Must attach after a3, before b.
  ASSERT_TRUE(list.CheckIntegrity());
  ASSERT_EQ(list.RemoveIf([](const WorkItem& w) { return MatchId(w, 2); },
                          false, &out),
            1u);  // Middle.
  ASSERT_EQ(list.RemoveIf([](const WorkItem& w) { return MatchId(w, 1); },
                          false, &out),
            1u);  // Head.
  ASSERT_TRUE(list.CheckIntegrity());
  Push(&list, Hashed(&a6, 1));
  ASSERT_TRUE(list.CheckIntegrity());
  EXPECT_EQ(list.size(), 4u);
  BucketSet held;
  EXPECT_EQ(Ids(list.TakeRunnable(&held)), (std::vector<int>{3, 6, 7}));
  EXPECT_EQ(Ids(list.TakeRunnable(&held)), (std::vector<int>{5}));
  // Removing a whole run leaves no stale tail behind.
  TestItem c1(8), c2(9), c3(10);
  Push(&list, Hashed(&c1, 2));
  Push(&list, Hashed(&c2, 2));
  ASSERT_EQ(
      list.RemoveIf([](const WorkItem& w) { return w.hashed(); }, true, &out),
      2u);
  Push(&list, Hashed(&c3, 2));
  EXPECT_TRUE(list.CheckIntegrity());
  EXPECT_EQ(list.size(), 1u);
  EXPECT_EQ(Drain(&out), (std::vector<int>{4, 2, 1, 8, 9}));
}

// Invariant 7: a re-inserted item's stale link is overwritten.
TEST(PendingListTest, ReinsertAtTailOverwritesStaleLink) {
  TestItem a(1), b(2), a2(3);
  PendingList list;
  Push(&list, Hashed(&a, 1));
  Push(&list, &b);
  Push(&list, Hashed(&a2, 1));  // Lands mid-list, right after a.
  BucketSet held;
  WorkItem* run = list.TakeRunnable(&held);
  EXPECT_EQ(Ids(run), (std::vector<int>{1, 3}));  // a still links to a2.
  EXPECT_EQ(Ids(list.TakeRunnable(&held)), (std::vector<int>{2}));
  held.clear();
  ASSERT_TRUE(list.empty());
  Push(&list, &a);  // Tail insert with a stale next pointer.
  EXPECT_TRUE(list.CheckIntegrity());
  EXPECT_EQ(list.size(), 1u);
  Push(&list, &b);
  Push(&list, &a2);
  EXPECT_TRUE(list.CheckIntegrity());
  EXPECT_EQ(Ids(list.TakeRunnable(&held)), (std::vector<int>{1, 3}));
  EXPECT_EQ(Ids(list.TakeRunnable(&held)), (std::vector<int>{2}));
}

TEST(PendingListTest, RemoveIfAllTakesEveryMatchInOrder) {
  TestItem items[6] = {TestItem(0), TestItem(1), TestItem(2),
                       TestItem(3), TestItem(4), TestItem(5)};
  PendingList list;
  for (TestItem& t : items) {
    if (t.id() % 2 == 0) t.SetHashKey(Key(t.id() % 4));
    Push(&list, &t);
  }
  ItemChain out;
  EXPECT_EQ(
      list.RemoveIf([](const WorkItem& w) { return !w.hashed(); }, true, &out),
      3u);
  EXPECT_EQ(Drain(&out), (std::vector<int>{1, 3, 5}));
  EXPECT_TRUE(out.empty());
  EXPECT_TRUE(list.CheckIntegrity());
  EXPECT_EQ(list.size(), 3u);
}

}  // namespace
}  // namespace internal
}  // namespace wq
}  // namespace uringfs
