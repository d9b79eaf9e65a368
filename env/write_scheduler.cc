#include "env/write_scheduler.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "env/io_error.h"
#include "env/process_queue.h"

namespace uringfs {
namespace {

// One queued piece of file work (see the contract of Enqueue).
class QueuedOp final : public wq::WorkItem {
 public:
  QueuedOp(WriteScheduler* scheduler, std::shared_ptr<OpenInode> inode,
           uint64_t bytes, std::function<void(int)> work,
           std::function<void()> done, WriteBudget* budget)
      : scheduler_(scheduler),
        inode_(std::move(inode)),
        bytes_(bytes),
        work_(std::move(work)),
        done_(std::move(done)),
        budget_(budget) {
    SetHashKey(inode_->key);
    // File I/O blocks: another file's work may get a worker of its own (up
    // to write_workers) instead of waiting behind this one.
    SetConcurrent();
  }

  void set_seq(uint64_t seq) { seq_ = seq; }

  void DoWork(int status) override {
    if (status != 0) {
      scheduler_->counters().cancelled.fetch_add(1, std::memory_order_relaxed);
    }
    if (work_) work_(status);
  }

  // The accounting always completes, whatever the callbacks do: a Drain or
  // Close must never wait for an item that is gone.
  wq::WorkItem* FreeWork(int status) override {
    if (status == wq::kStatusThrew && work_)
      CallQuietly([&] { work_(-ENOTRECOVERABLE); });
    if (bytes_ > 0) budget_->Release(&inode_->budget, bytes_);
    {
      absl::MutexLock l(&inode_->mu);
      inode_->pending.erase(seq_);  // Never throws.
    }
    // release: a drain that sees the count drop sees what the item did
    // (its sticky error included), on any CPU.
    inode_->queued.fetch_sub(1, std::memory_order_release);
    if (done_) CallQuietly(done_);
    delete this;
    return nullptr;
  }

 private:
  template <typename Fn>
  static void CallQuietly(const Fn& fn) {
    try {
      fn();
    } catch (...) {  // Callbacks must not throw; a worker must not die.
    }
  }

  WriteScheduler* const scheduler_;  // Outlives its task's items.
  const std::shared_ptr<OpenInode> inode_;
  uint64_t seq_ = 0;  // Set once, before the item is queued.
  const uint64_t bytes_;
  const std::function<void(int)> work_;
  const std::function<void()> done_;
  WriteBudget* const budget_;
};

bool KeyOf(const std::string& fname, wq::HashKey* key) {
  struct stat st;
  if (::stat(fname.c_str(), &st) != 0) return false;
  *key = wq::HashKey{static_cast<uint64_t>(st.st_dev),
                     static_cast<uint64_t>(st.st_ino)};
  return true;
}

}  // namespace

WriteScheduler::WriteScheduler(const UringFsOptions& options,
                               std::shared_ptr<FsTasks> tasks)
    : generation_(ForkGeneration()),
      budget_(std::make_shared<WriteBudget>(options.max_queued_bytes,
                                            options.max_queued_bytes_per_file)),
      tasks_(std::move(tasks)) {
  RaiseWorkerLimit(static_cast<int>(options.write_workers));
}

WriteScheduler::~WriteScheduler() {
  if (forked()) return;  // The items are the parent's (see forked()).
  // Queued items point at this object: none may be left behind.
  tasks_->Shutdown(ShutdownMode::kDrain);
}

rocksdb::IOStatus WriteScheduler::Attach(const std::string& fname,
                                         std::shared_ptr<OpenInode>* inode) {
  wq::HashKey key;
  if (!KeyOf(fname, &key)) {
    return IOErrorFromErrno("stat of a file opened for writing", fname, errno);
  }
  absl::MutexLock l(&mu_);
  std::weak_ptr<OpenInode>& slot = open_[key];
  *inode = slot.lock();
  if (*inode == nullptr) {
    *inode = std::make_shared<OpenInode>(key);
    slot = *inode;
  }
  if (open_.size() >= sweep_at_) {  // Forget closed inodes, amortised O(1).
    for (auto it = open_.begin(); it != open_.end();) {
      it = it->second.expired() ? open_.erase(it) : std::next(it);
    }
    sweep_at_ = std::max<size_t>(64, 2 * open_.size());
  }
  return rocksdb::IOStatus::OK();
}

std::shared_ptr<OpenInode> WriteScheduler::Find(const wq::HashKey& key) {
  absl::MutexLock l(&mu_);
  auto it = open_.find(key);
  return it == open_.end() ? nullptr : it->second.lock();
}

void WriteScheduler::Enqueue(const std::shared_ptr<OpenInode>& inode,
                             uint64_t bytes, std::function<void(int)> work,
                             std::function<void()> done) {
  // What can throw (allocation) comes before any accounting, and the
  // accounting is undone if it throws: a Drain or Close never waits for an
  // item that does not exist. Once the item is handed to the queue, the
  // queue completes it on every path.
  auto op = std::make_unique<QueuedOp>(this, inode, bytes, std::move(work),
                                       std::move(done), budget_.get());
  if (bytes > 0) budget_->Acquire(&inode->budget, bytes);
  {
    absl::MutexLock l(&inode->mu);
    try {
      inode->pending.insert(inode->next_seq);
    } catch (...) {
      if (bytes > 0) budget_->Release(&inode->budget, bytes);
      throw;
    }
    op->set_seq(inode->next_seq++);
  }
  inode->queued.fetch_add(1, std::memory_order_relaxed);
  tasks_->Current()->work().Enqueue(op.release());
}

void WriteScheduler::Drain(const std::shared_ptr<OpenInode>& inode) {
  // acquire: pairs with the release in FreeWork, so a zero seen here comes
  // with everything the completed items did (a failure they recorded).
  if (inode->queued.load(std::memory_order_acquire) == 0 || forked()) return;
  absl::MutexLock l(&inode->mu);
  if (inode->pending.empty()) return;
  counters_.drains.fetch_add(1, std::memory_order_relaxed);
  struct Mark {
    OpenInode* inode;
    uint64_t last;  // The newest item queued before this drain.
  } mark{inode.get(), inode->next_seq - 1};
  inode->mu.Await(absl::Condition(
      +[](Mark* m)
           ABSL_NO_THREAD_SAFETY_ANALYSIS {  // Called under m->inode->mu.
             return m->inode->pending.empty() ||
                    *m->inode->pending.begin() > m->last;
           },
      &mark));
}

void WriteScheduler::DrainByName(const std::string& fname) {
  if (forked()) return;
  wq::HashKey key;
  if (!KeyOf(fname, &key)) return;
  if (std::shared_ptr<OpenInode> inode = Find(key)) Drain(inode);
}

}  // namespace uringfs
