#include "env/wq/pending_list.h"

namespace uringfs {
namespace wq {
namespace internal {

void ItemChain::Append(WorkItem* item) {
  item->next_ = nullptr;
  (tail_ != nullptr ? tail_->next_ : head_) = item;
  tail_ = item;
}

WorkItem* ItemChain::PopFront() {
  WorkItem* item = head_;
  if (item == nullptr) return nullptr;
  head_ = item->next_;
  if (head_ == nullptr) tail_ = nullptr;
  item->next_ = nullptr;
  return item;
}

void PendingList::Push(WorkItem* item, const HashKey& bucket) {
  if (item->hashed_) {
    item->bucket_ = bucket;
    auto it = hash_tail_.find(item->bucket_);
    if (it != hash_tail_.end()) {
      WorkItem* run_tail = it->second;
      item->next_ = run_tail->next_;
      run_tail->next_ = item;
      if (tail_ == run_tail) tail_ = item;
      it->second = item;
      ++size_;
      return;
    }
    // The only allocation: first, so a failure leaves the list unchanged.
    hash_tail_.emplace(item->bucket_, item);
  }
  ++size_;
  item->next_ = nullptr;
  if (tail_ != nullptr) {
    tail_->next_ = item;
  } else {
    head_ = item;
  }
  tail_ = item;
}

WorkItem* PendingList::TakeRunnable(BucketSet* held) {
  WorkItem* prev = nullptr;
  WorkItem* node = head_;
  while (node != nullptr) {
    WorkItem* last = node;  // Last item of the run starting at `node`.
    if (node->hashed_) last = hash_tail_.at(node->bucket_);
    if (!node->hashed_ || held->insert(node->bucket_).second) {
      (prev != nullptr ? prev->next_ : head_) = last->next_;
      if (tail_ == last) tail_ = prev;
      last->next_ = nullptr;
      if (node->hashed_) hash_tail_.erase(node->bucket_);
      for (WorkItem* w = node; w != nullptr; w = w->next_) --size_;
      return node;
    }
    prev = last;
    node = last->next_;
  }
  return nullptr;
}

bool PendingList::HasRunnable(const BucketSet& held) const {
  for (WorkItem* node = head_; node != nullptr;) {
    if (!node->hashed_ || held.count(node->bucket_) == 0) return true;
    node = hash_tail_.at(node->bucket_)->next_;
  }
  return false;
}

size_t PendingList::RemoveIf(const MatchFn& match, bool all,
                             ItemChain* out) {
  size_t removed = 0;
  WorkItem* prev = nullptr;
  WorkItem* node = head_;
  while (node != nullptr) {
    WorkItem* const next = node->next_;
    if (!match(*node)) {
      prev = node;
      node = next;
      continue;
    }
    if (node->hashed_) {
      auto it = hash_tail_.find(node->bucket_);
      if (it != hash_tail_.end() && it->second == node) {
        // The run's new tail is the previous item if it belongs to the run.
        if (prev != nullptr && prev->hashed_ &&
            prev->bucket_ == node->bucket_) {
          it->second = prev;
        } else {
          hash_tail_.erase(it);
        }
      }
    }
    (prev != nullptr ? prev->next_ : head_) = next;
    if (tail_ == node) tail_ = prev;
    --size_;
    out->Append(node);
    ++removed;
    if (!all) break;
    node = next;
  }
  return removed;
}

size_t PendingList::RemoveIfFromChain(WorkItem** head, const MatchFn& match,
                                      bool all, ItemChain* out) {
  size_t removed = 0;
  WorkItem** link = head;
  while (*link != nullptr) {
    WorkItem* node = *link;
    if (!match(*node)) {
      link = &node->next_;
      continue;
    }
    *link = node->next_;
    out->Append(node);
    ++removed;
    if (!all) break;
  }
  return removed;
}

bool PendingList::CheckIntegrity() const {
  size_t count = 0;
  const WorkItem* prev = nullptr;
  std::unordered_set<HashKey, HashKeyHasher> seen;
  for (const WorkItem* node = head_; node != nullptr; node = node->next_) {
    if (++count > size_) return false;  // Cycle or wrong count.
    const bool same_run = prev != nullptr && prev->hashed_ && node->hashed_ &&
                          prev->bucket_ == node->bucket_;
    if (prev != nullptr && prev->hashed_ && !same_run &&
        hash_tail_.at(prev->bucket_) != prev) {
      return false;  // A run ended before its indexed tail.
    }
    if (node->hashed_ && !same_run) {
      if (hash_tail_.count(node->bucket_) == 0) return false;
      if (!seen.insert(node->bucket_).second) return false;  // Split run.
    }
    prev = node;
  }
  if (prev != nullptr && prev->hashed_ &&
      hash_tail_.at(prev->bucket_) != prev) {
    return false;
  }
  if (count != size_ || prev != tail_) return false;
  if (tail_ != nullptr && tail_->next_ != nullptr) return false;
  return seen.size() == hash_tail_.size();
}

}  // namespace internal
}  // namespace wq
}  // namespace uringfs
