#include "env/wq/queue.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <thread>
#include <utility>

#include "env/wq/worker.h"

namespace uringfs {
namespace wq {
namespace {

// Owner tokens: unique for the life of the process, never reused.
// relaxed: only uniqueness matters; no memory is published through it.
std::atomic<uint64_t> next_owner{1};

int DefaultBoundLimit() {
  const unsigned cpus = std::thread::hardware_concurrency();
  return static_cast<int>(4 * (cpus == 0 ? 1 : cpus));
}

size_t IndexOf(const WorkItem& item) {
  return Index(item.unbound() ? Account::kUnbound : Account::kBound);
}

}  // namespace

Queue::Queue(QueueOptions options)
    : idle_timeout_(options.idle_timeout),
      thread_factory_(options.thread_factory != nullptr
                          ? options.thread_factory
                          : ThreadFactory::Default()),
      creds_ops_(options.creds_ops != nullptr ? options.creds_ops
                                              : CredsOps::Default()),
      bucket_fn_(std::move(options.bucket_fn)),
      hook_(std::move(options.hook)) {
  absl::MutexLock l(&mu_);
  acct_[Index(Account::kBound)].max_workers =
      std::max(1, options.max_bound_workers > 0 ? options.max_bound_workers
                                                : DefaultBoundLimit());
  acct_[Index(Account::kUnbound)].max_workers =
      std::max(1, options.max_unbound_workers);
}

Queue::~Queue() { Shutdown(); }

std::unique_ptr<Task> Queue::NewTask() {
  return std::unique_ptr<Task>(
      new Task(this, next_owner.fetch_add(1, std::memory_order_relaxed)));
}

void Queue::Enqueue(const std::shared_ptr<internal::TaskState>& task,
                    WorkItem* item) {
  item->task_ = task;
  item->owner_ = task->owner();
  task->AddInflight();
  int rc = 0;
  try {
    if (item->creds_ == nullptr) {
      rc = CaptureCurrentCreds(creds_ops_, &item->creds_);
    }
  } catch (...) {
    rc = -ENOMEM;
  }
  if (rc != 0) {
    // Unknown identity: never run it.
    CompleteInline(item, rc == -ENOMEM ? -ENOMEM : -EPERM);
    return;
  }
  Submit(item);
}

void Queue::AdoptDependent(const std::shared_ptr<internal::TaskState>& task,
                           const CredsRef& creds, WorkItem* dependent) {
  dependent->task_ = task;
  dependent->owner_ = task->owner();
  if (dependent->creds_ == nullptr) dependent->creds_ = creds;
  task->AddInflight();
}

void Queue::Submit(WorkItem* item) {
  if (item->hashed_ && item->unbound_) {
    CompleteInline(item, -EINVAL);  // Hashed work must be bound.
    return;
  }
  const HashKey bucket = bucket_fn_ ? bucket_fn_(item->key_) : item->key_;
  internal::Worker* spawn = nullptr;
  int status = -ECANCELED;
  {
    absl::MutexLock l(&mu_);
    // Checked under mu_: Task::Shutdown sets the flag under mu_ too, so either
    // this item is queued before its cancel scan or it sees the flag here.
    if (!shutdown_ && !item->task_->exiting() && !item->cancel_requested()) {
      Acct& acct = acct_[IndexOf(*item)];
      try {
        acct.list.Push(item, bucket);
      } catch (...) {
        status = -ENOMEM;  // Not queued (Push is all or nothing).
      }
      if (status != -ENOMEM) {
        const bool concurrent = item->concurrent_;
        const Account account =
            item->unbound_ ? Account::kUnbound : Account::kBound;
        item = nullptr;
        if (!ActivateFree(acct) && (concurrent || acct.nr_running == 0)) {
          spawn = ReserveWorkerNoThrow(account);
        }
      }
    }
  }
  if (item != nullptr) CompleteInline(item, status);
  if (spawn != nullptr) StartWorker(spawn);
}

void Queue::BeginTaskExit(internal::TaskState* task, ShutdownMode mode) {
  absl::MutexLock l(&mu_);
  task->SetExit(mode);
}

int Queue::CallDoWork(WorkItem* item, int status) {
  try {
    item->DoWork(status);
    return status;
  } catch (...) {
    return kStatusThrew;
  }
}

WorkItem* Queue::CallFreeWork(WorkItem* item, int status) {
  try {
    return item->FreeWork(status);
  } catch (...) {
    return nullptr;
  }
}

void Queue::CompleteInline(WorkItem* item, int status) {
  while (item != nullptr) {
    if (status == -ECANCELED) item->RequestCancel();
    std::shared_ptr<internal::TaskState> task = std::move(item->task_);
    CredsRef creds = item->creds_;
    const int final_status = CallDoWork(item, status);
    WorkItem* dependent = CallFreeWork(item, final_status);
    if (dependent != nullptr) AdoptDependent(task, creds, dependent);
    if (task != nullptr) task->DoneInflight();
    item = dependent;
    status = -ECANCELED;  // Dependents of a failed item are cancelled.
  }
}

void Queue::CancelInline(internal::ItemChain* chain) {
  while (WorkItem* item = chain->PopFront()) CompleteInline(item, -ECANCELED);
}

size_t Queue::CollectCancels(const MatchFn& match, bool all,
                             internal::ItemChain* out, bool* running) {
  size_t found = 0;
  // 1. Queued work, both accounts.
  for (Acct& acct : acct_) {
    found += acct.list.RemoveIf(match, all, out);
    if (found > 0 && !all) return found;
  }
  // 2. Taken but not started: the workers' private chains.
  for (auto& w : workers_) {
    found +=
        internal::PendingList::RemoveIfFromChain(&w->chain, match, all, out);
    if (found > 0 && !all) return found;
  }
  // 3. Current items: flag them. An item whose DoWork has not started will see
  //    the flag before DoWork (handshake on `started`), so it counts as
  //    cancelled rather than running.
  for (auto& w : workers_) {
    if (w->current == nullptr || !match(*w->current)) continue;
    w->current->RequestCancel();
    if (w->started.load(std::memory_order_seq_cst)) {
      *running = true;
    }
    ++found;
    if (!all) return found;
  }
  return found;
}

CancelResult Queue::Cancel(const MatchFn& match, bool all) {
  internal::ItemChain cancelled;
  bool running = false;
  size_t found;
  {
    absl::MutexLock l(&mu_);
    found = CollectCancels(match, all, &cancelled, &running);
  }
  CancelInline(&cancelled);
  if (running) return CancelResult::kRunning;
  return found > 0 ? CancelResult::kCancelled : CancelResult::kNotFound;
}

bool Queue::ActivateFree(Acct& acct) {
  if (acct.free.empty()) return false;
  internal::Worker* w = acct.free.back();
  Unpark(w);
  w->cv.Signal();
  return true;
}

void Queue::Unpark(internal::Worker* w) {
  Acct& acct = acct_[Index(w->account)];
  acct.free.erase(std::find(acct.free.begin(), acct.free.end(), w));
  w->parked = false;
  ++acct.nr_running;
}

internal::Worker* Queue::ReserveWorkerNoThrow(Account account) {
  try {
    return ReserveWorker(account);
  } catch (...) {
    // No memory for a worker: a running or later worker, or the next
    // enqueue, takes the queued work.
    return nullptr;
  }
}

internal::Worker* Queue::ReserveWorker(Account account) {
  Acct& acct = acct_[Index(account)];
  if (shutdown_ || acct.nr_workers >= acct.max_workers) return nullptr;
  // Everything that allocates comes first: a failure leaves no count that
  // nobody would ever take back (Shutdown waits for spawning_ to reach 0).
  const uint64_t id = next_worker_id_;
  auto worker = std::make_unique<internal::Worker>(this, id, account);
  if (workers_.size() == workers_.capacity()) {
    workers_.reserve(std::max<size_t>(8, 2 * workers_.capacity()));
  }
  // Every exited worker's id waits in exited_ until joined, and each has a
  // slot in threads_: with this room, Unregister never allocates.
  if (exited_.capacity() < threads_.size() + 1) {
    exited_.reserve(2 * (threads_.size() + 1));
  }
  threads_.emplace(id, std::thread());  // The last step that may throw.
  workers_.push_back(std::move(worker));  // Has room: no throw.
  ++next_worker_id_;
  // Counted as running *before* the thread exists, so a racing enqueue does
  // not start a second, probably useless, worker.
  ++acct.nr_workers;
  ++acct.nr_running;
  ++spawning_;
  return workers_.back().get();
}

int Queue::StartThreadRetrying(internal::Worker* w, std::thread* thread) {
  // A thread that cannot be created for lack of resources (EAGAIN: the
  // thread or memory limit, for a moment) is tried again a few times, as
  // the kernel's io-wq does, before the queue gives the worker up.
  int rc = 0;
  for (int attempt = 0; attempt <= kSpawnRetries; ++attempt) {
    if (attempt > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10 << attempt));
    }
    try {
      rc = thread_factory_->Start([this, w] { WorkerMain(w); }, thread);
    } catch (...) {
      rc = -EAGAIN;  // std::function or thread state could not be allocated.
    }
    if (rc != -EAGAIN && rc != -ENOMEM) break;
  }
  return rc;
}

void Queue::StartWorker(internal::Worker* w) {
  // `w` may exit and be freed as soon as its thread runs: copy what we need.
  const uint64_t id = w->id;
  const Account account = w->account;
  std::thread thread;
  const int rc = StartThreadRetrying(w, &thread);
  internal::ItemChain stranded;
  std::vector<std::thread> reaped;
  {
    absl::MutexLock l(&mu_);
    --spawning_;
    if (rc == 0) {
      ++threads_started_;
      threads_.find(id)->second = std::move(thread);  // Reserved: no alloc.
    } else {
      threads_.erase(id);
      ++spawn_failures_;
      Acct& acct = acct_[Index(account)];
      --acct.nr_workers;
      --acct.nr_running;
      workers_.erase(
          std::find_if(workers_.begin(), workers_.end(),
                       [id](const std::unique_ptr<internal::Worker>& p) {
                         return p->id == id;
                       }));
      if (acct.nr_workers == 0) {
        // Nobody would ever run this account's queued work.
        acct.list.RemoveIf([](const WorkItem&) { return true; }, true,
                           &stranded);
      }
    }
    ReapLocked(&reaped);
  }
  CancelInline(&stranded);
  for (std::thread& t : reaped) t.join();
}

void Queue::ReapLocked(std::vector<std::thread>* out) {
  // Room for every exited handle first, so the moves below never allocate;
  // without memory for it, nothing is reaped now and a later call does it.
  if (out->capacity() < exited_.size()) {
    try {
      out->reserve(exited_.size());
    } catch (...) {
      return;
    }
  }
  for (size_t i = 0; i < exited_.size();) {
    auto it = threads_.find(exited_[i]);
    if (it == threads_.end() || !it->second.joinable()) {  // Not stored yet.
      ++i;
      continue;
    }
    out->push_back(std::move(it->second));
    threads_.erase(it);
    exited_[i] = exited_.back();
    exited_.pop_back();
  }
}

bool Queue::AllWorkersGone() const {
  return workers_.empty() && spawning_ == 0;
}

void Queue::SetMaxWorkers(Account account, int max) {
  absl::MutexLock l(&mu_);
  Acct& acct = acct_[Index(account)];
  acct.max_workers = std::max(1, max);
  // Wake parked workers so that any above the new limit can exit.
  for (internal::Worker* w : acct.free) w->cv.Signal();
}

QueueStats Queue::GetStats() const {
  absl::MutexLock l(&mu_);
  QueueStats s;
  AccountStats* out[2] = {&s.bound, &s.unbound};
  for (size_t i = 0; i < 2; ++i) {
    out[i]->max_workers = acct_[i].max_workers;
    out[i]->workers = acct_[i].nr_workers;
    out[i]->running = acct_[i].nr_running;
    out[i]->idle = static_cast<int>(acct_[i].free.size());
    out[i]->pending = acct_[i].list.size();
  }
  s.threads_started = threads_started_;
  s.spawn_failures = spawn_failures_;
  s.blocking_spawns = blocking_spawns_;
  s.creds_switches = creds_switches_.load(std::memory_order_relaxed);
  s.held_buckets = held_.size();
  s.live_threads = threads_.size();
  return s;
}

void Queue::Shutdown() {
  // Allocates nothing (the cancelled items are chained through their own
  // links, the thread handles change hands with a swap): it cannot throw.
  internal::ItemChain cancelled;
  {
    absl::MutexLock l(&mu_);
    shutdown_ = true;
    bool running = false;
    CollectCancels([](const WorkItem&) { return true; }, true, &cancelled,
                   &running);
    for (auto& w : workers_) {
      if (w->parked) Unpark(w.get());
      w->cv.Signal();
    }
  }
  CancelInline(&cancelled);
  decltype(threads_) threads;
  {
    absl::MutexLock l(&mu_);
    mu_.Await(absl::Condition(this, &Queue::AllWorkersGone));
    threads.swap(threads_);
    exited_.clear();
  }
  for (auto& entry : threads) {
    if (entry.second.joinable()) entry.second.join();
  }
}

}  // namespace wq
}  // namespace uringfs
