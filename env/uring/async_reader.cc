#include "env/uring/async_reader.h"

#include <liburing.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <utility>

#include "env/uring/backoff.h"

namespace uringfs {
namespace uring {
namespace {

int64_t MonotonicNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int CurrentTid() {
  thread_local const int tid = static_cast<int>(::syscall(SYS_gettid));
  return tid;
}

// An io_uring_enter result that will not get better by trying again (a
// seccomp or LSM rule added after the ring was set up, a closed ring fd).
bool IsFatalEnterError(int ret) {
  return ret < 0 && ret != -EAGAIN && ret != -EBUSY && ret != -EINTR &&
         ret != -ETIME;
}

}  // namespace

std::shared_ptr<AsyncReader> AsyncReader::Create(
    unsigned entries, bool can_cancel, std::shared_ptr<FaultInjector> faults,
    int* err) {
  const int forced = faults != nullptr ? faults->SetupErrno() : 0;
  if (forced != 0) {
    *err = forced;
    return nullptr;
  }
  std::unique_ptr<Ring> ring;
  const int ret = Ring::Create(entries, /*flags=*/0, &ring);
  if (ret < 0) {
    *err = -ret;
    return nullptr;
  }
  return std::shared_ptr<AsyncReader>(
      new AsyncReader(std::move(ring), can_cancel, std::move(faults)));
}

AsyncReader::AsyncReader(std::unique_ptr<Ring> ring, bool can_cancel,
                         std::shared_ptr<FaultInjector> faults)
    : ring_(std::move(ring)),
      can_cancel_(can_cancel),
      faults_(std::move(faults)) {}

AsyncReader::~AsyncReader() {
  {
    absl::MutexLock l(&mu_);
    WaitUntil(
        [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return in_kernel_ == 0; });
  }
  FreeReleased();
}

void AsyncReader::FreeReleased() {
  AsyncRead* done;
  {
    absl::MutexLock l(&mu_);
    done = released_done_;
    released_done_ = nullptr;
  }
  while (done != nullptr) {
    AsyncRead* next = done->next_live;  // Read before freeing.
    done->release_fn(done);
    done = next;
  }
}

bool AsyncReader::AbandonLocked(AsyncRead* read) {
  read->state = AsyncRead::State::kAbandoned;
  // A read already asked to stop by CancelOwned needs no second cancel.
  return !read->cancel_requested && PrepCancel(read);
}

void AsyncReader::ReapReadyLocked() {
  if (!reaping_) ReapLocked();  // The reaper, if any, owns the CQ meanwhile.
}

bool AsyncReader::Release(AsyncRead* read, void (*free_fn)(AsyncRead*)) {
  using State = AsyncRead::State;
  absl::MutexLock l(&mu_);
  if (!read->owns_buffer) return false;
  if (read->state == State::kInFlight && !read->deferred &&
      AbandonLocked(read)) {
    SubmitPendingLocked();
  }
  if (read->state != State::kAbandoned) return false;
  read->release_fn = free_fn;
  return true;
}

void AsyncReader::Submit(AsyncRead* read) { Start(read, false); }

bool AsyncReader::SubmitIfRoom(AsyncRead* read) { return Start(read, true); }

bool AsyncReader::Start(AsyncRead* read, bool only_if_room) {
  FreeReleased();  // Of earlier rounds: keeps their number bounded.
  {
    absl::MutexLock l(&mu_);
    // Completions nobody waits for (abandoned reads) must not keep the
    // ring full: take whatever is ready before looking for room.
    ReapReadyLocked();
    if (only_if_room && !HasRoomLocked()) return false;
    read->state = AsyncRead::State::kInFlight;
    read->submitter = CurrentTid();
    if (SubmitLocked(read)) {
      ++submitted_;
      return true;
    }
    ++sync_fallbacks_;
  }
  // Not shared with anyone yet: read it here, then publish the result.
  PreadToEnd(read->target, faults_.get(), &read->op);
  absl::MutexLock l(&mu_);
  read->state = AsyncRead::State::kCompleted;
  return true;
}

bool AsyncReader::HasRoomLocked() {
  return !broken_ && in_kernel_ < ring_->depth() &&
         ::io_uring_sq_space_left(ring_->get()) > 0;
}

bool AsyncReader::SubmitLocked(AsyncRead* read) {
  if (!HasRoomLocked()) return false;
  io_uring_sqe* sqe = ::io_uring_get_sqe(ring_->get());
  if (sqe == nullptr) return false;
  ReadOp& op = read->op;
  ::io_uring_prep_read(sqe, read->target.fd, op.buf + op.done,
                       static_cast<unsigned>(op.next_len()), op.next_offset());
  ::io_uring_sqe_set_data(sqe, read);
  op.in_flight = true;
  ++in_kernel_;
  Link(read);
  // A refused submission (EAGAIN/EBUSY) leaves the entry queued; WaitUntil
  // submits leftovers before anyone waits for completions. A kernel that
  // refuses for good breaks the ring: the read is retracted and finished
  // with pread (Retract), so it is no longer in flight here.
  SubmitPendingLocked();
  return read->op.in_flight;
}

void AsyncReader::Link(AsyncRead* read) {
  if (read->live) return;
  read->live = true;
  read->prev_live = nullptr;
  read->next_live = live_;
  if (live_ != nullptr) live_->prev_live = read;
  live_ = read;
}

void AsyncReader::Unlink(AsyncRead* read) {
  if (!read->live) return;
  read->live = false;
  if (read->prev_live != nullptr) {
    read->prev_live->next_live = read->next_live;
  } else {
    live_ = read->next_live;
  }
  if (read->next_live != nullptr) read->next_live->prev_live = read->prev_live;
  read->prev_live = read->next_live = nullptr;
}

bool AsyncReader::PrepCancel(AsyncRead* read) {
  io_uring_sqe* sqe =
      can_cancel_ && !broken_ ? ::io_uring_get_sqe(ring_->get()) : nullptr;
  if (sqe == nullptr) return false;  // Then the completion is waited for.
  ::io_uring_prep_cancel(sqe, read, 0);
  ::io_uring_sqe_set_data(sqe, nullptr);
  ++cancels_sent_;
  return true;
}

void AsyncReader::Finish(AsyncRead* read, bool cancelled) {
  if (cancelled) {
    read->op.error = ECANCELED;
    read->op.finished = true;
  }
  read->deferred = false;
  Unlink(read);
  read->state = AsyncRead::State::kCompleted;
}

bool AsyncReader::LeaveKernelLocked(AsyncRead* read) {
  read->op.in_flight = false;
  --in_kernel_;
  if (read->state != AsyncRead::State::kAborting &&
      read->state != AsyncRead::State::kAbandoned) {
    return false;
  }
  Unlink(read);
  if (read->state == AsyncRead::State::kAbandoned &&
      read->release_fn != nullptr) {
    // Freed once the lock is let go. Intrusive (the live links are free
    // now): no allocation between reaping a completion and advancing.
    read->next_live = released_done_;
    released_done_ = read;
  }
  read->state = AsyncRead::State::kAborted;  // The buffer is free again.
  return true;
}

void AsyncReader::ContinueOrDefer(AsyncRead* read) {
  if (read->cancel_requested) return Finish(read, true);
  if (CurrentTid() != read->submitter) {
    read->deferred = true;  // A requester continues it (Poll, Abort).
    return;
  }
  Continue(read);
}

void AsyncReader::OnCompletion(AsyncRead* read, int res) {
  if (LeaveKernelLocked(read)) return;
  if (read->cancel_requested && res == -ECANCELED) return Finish(read, true);
  const bool more = ApplyResult(read->target, res, faults_.get(), &read->op);
  if (!more && !NeedsRescue(read->op)) return Finish(read, false);
  ContinueOrDefer(read);
}

void AsyncReader::Retract(AsyncRead* read) {
  if (LeaveKernelLocked(read)) return;
  ContinueOrDefer(read);  // The ring is broken: Continue reads with pread.
}

int AsyncReader::Enter() {
  const int forced = faults_ != nullptr ? faults_->EnterErrno() : 0;
  return forced != 0 ? -forced : ::io_uring_submit(ring_->get());
}

void AsyncReader::SubmitPendingLocked() {
  if (broken_ || ::io_uring_sq_ready(ring_->get()) == 0) return;
  const int ret = Enter();
  // EAGAIN/EBUSY (no memory for requests, or completions to reap first)
  // and EINTR leave the entries queued for the next try.
  if (IsFatalEnterError(ret)) BreakLocked();
}

void AsyncReader::BreakLocked() {
  broken_ = true;
  // The entries the kernel has not consumed will never be: this reader
  // enters the kernel no more. Their reads are not in the kernel.
  io_uring_sq* sq = &ring_->get()->sq;
  const unsigned mask = *sq->kring_mask;
  for (unsigned i = io_uring_smp_load_acquire(sq->khead); i != sq->sqe_tail;
       ++i) {
    auto* read = reinterpret_cast<AsyncRead*>(  // io_uring_sqe_set_data's.
        static_cast<uintptr_t>(sq->sqes[i & mask].user_data));
    if (read != nullptr) Retract(read);  // Null: a cancellation.
  }
}

void AsyncReader::Continue(AsyncRead* read) {
  read->deferred = false;
  read->submitter = CurrentTid();
  if (!read->op.finished) {
    if (SubmitLocked(read)) return;
    PreadToEnd(read->target, faults_.get(), &read->op);  // No room.
  } else if (RescueWithPread(read->target, faults_.get(), &read->op)) {
    ++rescued_;
  }
  Finish(read, false);
}

size_t AsyncReader::CancelOwned(uint64_t owner) {
  absl::MutexLock l(&mu_);
  size_t asked = 0;
  bool sent = false;
  for (AsyncRead* read = live_; read != nullptr;) {
    AsyncRead* next = read->next_live;  // Finish() unlinks `read`.
    if (read->state == AsyncRead::State::kInFlight && !read->cancel_requested &&
        (owner == 0 || read->owner == owner)) {
      read->cancel_requested = true;
      ++asked;
      if (read->deferred) {
        Finish(read, true);  // Not in the kernel: done now.
      } else {
        sent = PrepCancel(read) || sent;
      }
    }
    read = next;
  }
  if (sent) SubmitPendingLocked();
  return asked;
}

void AsyncReader::ReapLocked() {
  unsigned head;
  unsigned seen = 0;
  io_uring_cqe* cqe;
  io_uring_for_each_cqe(ring_->get(), head, cqe) {
    ++seen;
    // Cancellation requests carry no read (user data 0).
    if (auto* read = static_cast<AsyncRead*>(::io_uring_cqe_get_data(cqe))) {
      OnCompletion(read, cqe->res);
    }
  }
  ::io_uring_cq_advance(ring_->get(), seen);
}

int AsyncReader::WaitForCompletion() {
  const int forced = faults_ != nullptr ? faults_->EnterErrno() : 0;
  if (forced != 0) return -forced;
  io_uring_cqe* cqe = nullptr;
  int ret;
  do {
    ret = ::io_uring_wait_cqe(ring_->get(), &cqe);
  } while (ret == -EINTR);
  return ret;
}

template <typename Pred>
void AsyncReader::WaitUntil(Pred done) {
  int failures = 0;
  while (!done()) {
    if (reaping_) {  // Another thread waits in the kernel; let it reap.
      reaped_.Wait(&mu_);
      continue;
    }
    SubmitPendingLocked();
    ReapLocked();
    if (done()) break;
    if (broken_ || ::io_uring_sq_ready(ring_->get()) > 0) {
      // Broken: the kernel refuses io_uring_enter, but it still posts the
      // completions of the reads it has into the shared ring: look again
      // shortly. Entries left: the kernel refused them (EAGAIN: out of
      // memory for requests); a wait in the kernel would not submit them
      // and might never end. Either way, let go of the lock meanwhile.
      mu_.Unlock();
      BackOff(&failures);
      mu_.Lock();
      continue;
    }
    // Become the reaper: wait in the kernel without the lock, so that other
    // threads can submit meanwhile; only the reaper consumes completions.
    reaping_ = true;
    mu_.Unlock();
    const int ret = WaitForCompletion();
    if (ret < 0 && ret != -EAGAIN && ret != -EBUSY && ret != -ETIME) {
      BackOff(&failures);  // Persistent trouble: don't spin.
    }
    mu_.Lock();
    if (IsFatalEnterError(ret)) BreakLocked();
    ReapLocked();
    reaping_ = false;
    reaped_.SignalAll();
  }
}

size_t AsyncReader::Poll(AsyncRead* const* reads, size_t n, size_t min_done,
                         std::vector<AsyncRead*>* due) {
  using State = AsyncRead::State;
  const size_t want = min_done < n ? min_done : n;
  due->reserve(due->size() + n);  // No allocation once states change.
  FreeReleased();  // Of earlier rounds: keeps their number bounded.
  absl::MutexLock l(&mu_);
  ReapReadyLocked();  // What the device finished already is no wait.
  bool any_in_flight = false;
  for (size_t i = 0; i < n; ++i) {
    any_in_flight = any_in_flight || reads[i]->state == State::kInFlight;
  }
  const int64_t wait_start = any_in_flight ? MonotonicNanos() : 0;
  size_t finished = 0;
  WaitUntil([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    finished = 0;
    for (size_t i = 0; i < n; ++i) {
      if (reads[i]->deferred) Continue(reads[i]);  // This thread asks for it.
      const State s = reads[i]->state;
      if (s == State::kCompleted || s == State::kReported ||
          s == State::kAborted || s == State::kAbandoned) {
        ++finished;
      }
    }
    return finished >= want;
  });
  const int64_t waited = any_in_flight ? MonotonicNanos() - wait_start : 0;
  for (size_t i = 0; i < n; ++i) {
    if (reads[i]->state == State::kCompleted) {
      reads[i]->state = State::kReported;
      reads[i]->poll_wait_ns =
          faults_ != nullptr ? faults_->PollWaitNanos(waited) : waited;
      due->push_back(reads[i]);
    }
  }
  return finished;
}

void AsyncReader::Abort(AsyncRead* const* reads, size_t n) {
  using State = AsyncRead::State;
  FreeReleased();  // Of earlier rounds: keeps their number bounded.
  absl::MutexLock l(&mu_);
  bool cancels = false;
  for (size_t i = 0; i < n; ++i) {
    AsyncRead* read = reads[i];
    if (read->state == State::kCompleted) {
      read->state = State::kAborted;  // Done, but never reported.
    } else if (read->deferred) {
      read->deferred = false;  // Not in the kernel: nothing to wait for.
      Unlink(read);
      read->state = State::kAborted;
    } else if (read->state == State::kInFlight && read->owns_buffer) {
      cancels = AbandonLocked(read) || cancels;  // Our buffer: no wait.
    } else if (read->state == State::kInFlight) {
      read->state = State::kAborting;
      // A read already asked to stop by CancelOwned needs no second cancel.
      if (!read->cancel_requested) cancels = PrepCancel(read) || cancels;
    }
  }
  if (cancels) SubmitPendingLocked();
  ReapReadyLocked();  // WaitUntil may have nothing to wait for.
  WaitUntil([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    for (size_t i = 0; i < n; ++i) {
      if (reads[i]->state == State::kAborting) return false;
    }
    return true;
  });
}

uint64_t AsyncReader::submitted() const {
  absl::MutexLock l(&mu_);
  return submitted_;
}

uint64_t AsyncReader::sync_fallbacks() const {
  absl::MutexLock l(&mu_);
  return sync_fallbacks_;
}

uint64_t AsyncReader::rescued() const {
  absl::MutexLock l(&mu_);
  return rescued_;
}

uint64_t AsyncReader::cancels_sent() const {
  absl::MutexLock l(&mu_);
  return cancels_sent_;
}

}  // namespace uring
}  // namespace uringfs
