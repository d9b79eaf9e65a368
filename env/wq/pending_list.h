// -----------------------------------------------------------------------------
// pending_list.h
// -----------------------------------------------------------------------------
//
// `internal::PendingList` is one account's list of queued work: an intrusive
// singly-linked FIFO that keeps all queued items of one bucket contiguous,
// with a per-bucket tail index (the kernel's `hash_tail[]`, over exact keys).
//
// Contract
//
// * Thread-compatible: the owner (`Queue`) guards every call with its mutex.
// * Every insert writes the item's link (no reliance on an earlier reset).
// * `TakeRunnable()` returns either one unhashed item or the whole queued run
//   of a bucket that is not in `held`, cut out of the list with the tail's link
//   cleared, and adds that bucket to `held`. Runs of held buckets are skipped
//   in one step, so a blocked run never hides work queued behind it.
// * Items of a bucket queued while that bucket is held start a new run at the
//   list tail and so run after the held one: per-bucket FIFO is preserved.
// * `RemoveIf()` repairs the bucket tail index when it removes a run's tail,
//   and hands what it removes over in an `ItemChain`: it never allocates, so
//   cancelling and shutting down cannot fail for want of memory.
#ifndef URINGFS_ENV_WQ_PENDING_LIST_H_
#define URINGFS_ENV_WQ_PENDING_LIST_H_

#include <cstddef>
#include <unordered_map>
#include <unordered_set>

#include "env/wq/work_item.h"

namespace uringfs {
namespace wq {
namespace internal {

using BucketSet = std::unordered_set<HashKey, HashKeyHasher>;

// Items taken off a list or chain, linked through their own link (so
// collecting them never allocates), in the order appended.
class ItemChain final {
 public:
  ItemChain() = default;
  ItemChain(const ItemChain&) = delete;
  ItemChain& operator=(const ItemChain&) = delete;

  void Append(WorkItem* item);
  // The first item, unlinked; nullptr when empty.
  WorkItem* PopFront();
  bool empty() const { return head_ == nullptr; }

 private:
  WorkItem* head_ = nullptr;
  WorkItem* tail_ = nullptr;
};

class PendingList final {
 public:
  PendingList() = default;
  PendingList(const PendingList&) = delete;
  PendingList& operator=(const PendingList&) = delete;

  // Records `bucket` on a hashed item (ignored otherwise) and appends it, or
  // links it right after its bucket's queued run.
  // All or nothing: if it throws (out of memory), the list is unchanged.
  void Push(WorkItem* item, const HashKey& bucket);

  // See the contract. Returns nullptr when everything queued is held.
  WorkItem* TakeRunnable(BucketSet* held);

  // True if `TakeRunnable()` would return something.
  bool HasRunnable(const BucketSet& held) const;

  // Removes the first match (or all matches), appending them to `out` in list
  // order. Returns how many were removed. Never allocates.
  size_t RemoveIf(const MatchFn& match, bool all, ItemChain* out);

  // The same for a private chain (a worker's taken-but-not-started items).
  static size_t RemoveIfFromChain(WorkItem** head, const MatchFn& match,
                                  bool all, ItemChain* out);

  // The item after `item` in a chain returned by TakeRunnable().
  static WorkItem* ChainNext(const WorkItem* item) { return item->next_; }

  bool empty() const { return head_ == nullptr; }
  size_t size() const { return size_; }

  // Walks the list: no cycle, count matches, `tail->next == nullptr`, every
  // bucket forms one run whose last item is its tail index. For tests.
  bool CheckIntegrity() const;

 private:
  WorkItem* head_ = nullptr;
  WorkItem* tail_ = nullptr;
  size_t size_ = 0;
  std::unordered_map<HashKey, WorkItem*, HashKeyHasher> hash_tail_;
};

}  // namespace internal
}  // namespace wq
}  // namespace uringfs

#endif  // URINGFS_ENV_WQ_PENDING_LIST_H_
