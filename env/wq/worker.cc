// The worker side of `Queue`: the worker loop, chain execution, parking and
// idle exit, and BlockingScope. See worker.h for the Worker record.
#include "env/wq/worker.h"

#include <algorithm>
#include <cerrno>
#include <utility>

namespace uringfs {
namespace wq {
namespace {

thread_local internal::Worker* tls_worker = nullptr;
thread_local int tls_blocking_depth = 0;

}  // namespace

void Queue::WorkerMain(internal::Worker* w) {
  tls_worker = w;
  // No baseline (creds.h): each item switches from what this thread actually
  // runs as then, whatever it inherited at creation (a worker started from
  // inside a BlockingScope starts as the creating worker's item) or was
  // changed to by a process-wide set*id call. An idle worker keeps what its
  // last item ran as.
  CredsSwitcher creds(creds_ops_);
  for (;;) {
    WorkItem* item;
    {
      absl::MutexLock l(&mu_);
      item = NextItem(w);
    }
    while (item != nullptr) item = RunItem(w, item, &creds);
    if (!ParkOrExit(w)) return;  // `w` is gone.
  }
}

WorkItem* Queue::NextItem(internal::Worker* w) {
  if (w->chain == nullptr) {
    Acct& acct = acct_[Index(w->account)];
    w->chain = acct.list.TakeRunnable(&held_);
    if (w->chain == nullptr) return nullptr;
    if (w->chain->hashed_) {
      w->holds_bucket = true;
      w->bucket = w->chain->bucket_;
    }
  }
  WorkItem* item = w->chain;
  w->chain = item->next_;
  item->next_ = nullptr;
  w->current = item;
  // relaxed: cancellers read `started` only under mu_, which orders this store.
  w->started.store(false, std::memory_order_relaxed);
  // The exit flag is checked before every item, including a chain's rest.
  if (shutdown_ || item->task_->CancelsOnExit(item->unbound_)) {
    item->RequestCancel();
  }
  return item;
}

WorkItem* Queue::RunItem(internal::Worker* w, WorkItem* item,
                         CredsSwitcher* creds) {
  Hook(HookPoint::kItemTaken, item);
  int status = 0;
  if (!item->cancel_requested() && creds->Apply(item->creds_) != 0) {
    status = -EPERM;  // Never run under the wrong identity or privileges.
  }
  // relaxed: a statistic, counted before the work so it is seen with it.
  creds_switches_.fetch_add(creds->TakeNewSwitches(),
                            std::memory_order_relaxed);
  // seq_cst handshake (see Worker::started): after this store, a canceller
  // either sees `started` or we see its cancel flag below.
  w->started.store(true, std::memory_order_seq_cst);
  if (item->cancel_requested()) status = -ECANCELED;
  status = CallDoWork(item, status);
  {
    absl::MutexLock l(&mu_);
    w->current = nullptr;  // Before FreeWork: the item may be deleted there.
  }
  std::shared_ptr<internal::TaskState> task = std::move(item->task_);
  CredsRef item_creds = item->creds_;
  WorkItem* dependent = CallFreeWork(item, status);
  if (dependent != nullptr) AdoptDependent(task, item_creds, dependent);
  const bool exiting = task->exiting();
  task->DoneInflight();
  WorkItem* requeue;
  WorkItem* next;
  {
    absl::MutexLock l(&mu_);
    requeue = AfterItem(w, dependent, exiting);
    next = NextItem(w);
  }
  if (requeue != nullptr) Submit(requeue);
  return next;
}

WorkItem* Queue::AfterItem(internal::Worker* w, WorkItem* dependent,
                           bool exiting) {
  WorkItem* requeue = nullptr;
  if (dependent != nullptr) {
    const bool same_account =
        dependent->unbound_ == (w->account == Account::kUnbound);
    // Only an unhashed dependent with no chain left runs inline; anything else
    // goes through Submit (bucket order, exit check) and is never made current
    // here first.
    if (w->chain == nullptr && !dependent->hashed_ && same_account &&
        !exiting && !shutdown_ && !dependent->cancel_requested()) {
      dependent->next_ = nullptr;
      w->chain = dependent;
    } else {
      requeue = dependent;
    }
  }
  if (w->chain == nullptr && w->holds_bucket) {
    held_.erase(w->bucket);  // The run is over: its next run may start.
    w->holds_bucket = false;
  }
  return requeue;
}

bool Queue::ParkOrExit(internal::Worker* w) {
  bool idle_exit = false;
  {
    absl::MutexLock l(&mu_);
    Acct& acct = acct_[Index(w->account)];
    bool timed_out = false;
    for (;;) {
      if (shutdown_) break;
      if (acct.list.HasRunnable(held_)) return true;
      if (acct.nr_workers > acct.max_workers ||
          (timed_out && acct.nr_workers > 1)) {
        idle_exit = true;  // The last worker of an account stays.
        break;
      }
      acct.free.push_back(w);
      w->parked = true;
      --acct.nr_running;
      timed_out = w->cv.WaitWithDeadline(&mu_, absl::Now() + idle_timeout_);
      if (w->parked) {
        Unpark(w);  // Not activated: timeout, limit change or spurious.
      } else {
        timed_out = false;  // Activated.
      }
    }
    tls_worker = nullptr;
    Unregister(w);
  }
  if (idle_exit) Hook(HookPoint::kWorkerIdleExit, nullptr);
  return false;
}

void Queue::Unregister(internal::Worker* w) {
  Acct& acct = acct_[Index(w->account)];
  --acct.nr_workers;
  --acct.nr_running;
  exited_.push_back(w->id);  // Room reserved by ReserveWorker: no throw.
  workers_.erase(std::find_if(workers_.begin(), workers_.end(),
                              [w](const std::unique_ptr<internal::Worker>& p) {
                                return p.get() == w;
                              }));
}

void Queue::EnterBlocking(internal::Worker* w) {
  internal::Worker* spawn = nullptr;
  {
    absl::MutexLock l(&mu_);
    Acct& acct = acct_[Index(w->account)];
    w->blocked = true;
    --acct.nr_running;
    if (acct.nr_running == 0 && !w->create_requested && !shutdown_ &&
        acct.list.HasRunnable(held_)) {
      w->create_requested = true;
      if (!ActivateFree(acct)) {
        spawn = ReserveWorker(w->account);
        if (spawn != nullptr) ++blocking_spawns_;
      }
    }
  }
  if (spawn != nullptr) StartWorker(spawn);
}

void Queue::LeaveBlocking(internal::Worker* w) {
  absl::MutexLock l(&mu_);
  w->blocked = false;
  w->create_requested = false;
  ++acct_[Index(w->account)].nr_running;
}

BlockingScope::BlockingScope()
    : worker_(tls_worker != nullptr && tls_blocking_depth++ == 0 ? tls_worker
                                                                 : nullptr) {
  if (worker_ != nullptr) worker_->queue->EnterBlocking(worker_);
}

BlockingScope::~BlockingScope() {
  if (tls_worker != nullptr) --tls_blocking_depth;
  if (worker_ != nullptr) worker_->queue->LeaveBlocking(worker_);
}

}  // namespace wq
}  // namespace uringfs
