#include "env/uring/read_engine.h"

#include <sys/uio.h>

#include <cerrno>
#include <utility>

#include "env/uring/batch_reader.h"
#include "env/uring/nowait.h"

namespace uringfs {
namespace uring {

ReadEngine::ReadEngine(bool use_io_uring, bool ring_single_reads,
                       unsigned queue_depth,
                       std::shared_ptr<FaultInjector> faults)
    : generation_(ForkGeneration()),
      faults_(std::move(faults)),
      queue_depth_(queue_depth),
      features_(ProbeFeatures(use_io_uring, queue_depth, faults_.get())),
      use_ring_(features_.usable()),
      ring_single_reads_(ring_single_reads),
      pool_(queue_depth, features_.setup_flags) {}

ReadEngine::~ReadEngine() {
  if (!forked()) return;
  absl::MutexLock l(&mu_);
  // Leaked on purpose: its destructor waits for the parent's reads.
  new std::shared_ptr<AsyncReader>(std::move(async_));
}

void ReadEngine::PreadAll(const ReadTarget& target, ReadOp* ops, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (ops[i].finished) continue;
    PreadToEnd(target, faults_.get(), &ops[i]);
    counters_.ops_pread.Add(1);
  }
}

bool ReadEngine::TryCached(const ReadTarget& target, ReadOp* op) {
  iovec iov{op->buf + op->done, op->next_len()};
  const int forced = faults_ != nullptr ? faults_->NowaitErrno(target.fd) : 0;
  const ssize_t r =
      forced != 0
          ? (errno = forced, -1)
          : ::preadv2(target.fd, &iov, 1, static_cast<off_t>(op->next_offset()),
                      RWF_NOWAIT);
  const int err = r < 0 ? errno : 0;
  switch (ClassifyNowait(r, err)) {
    case NowaitAnswer::kWouldBlock:
      return false;  // Not (all) cached: use the ring.
    case NowaitAnswer::kFileRefuses:
      // Stop trying for this file only.
      target.nowait_ok->store(false, std::memory_order_relaxed);
      return false;
    case NowaitAnswer::kSystemRefuses:
      // The same for every file.
      nowait_reads_.store(false, std::memory_order_relaxed);
      return false;
    case NowaitAnswer::kDone:
      break;
  }
  counters_.ops_cached.Add(1);
  return !ApplyResult(target, r < 0 ? -err : r, faults_.get(), op);
}

namespace {

size_t CountFinished(const ReadOp* ops, size_t n) {
  size_t finished = 0;
  for (size_t i = 0; i < n; ++i) finished += ops[i].finished ? 1 : 0;
  return finished;
}

}  // namespace

void ReadEngine::Read(const ReadTarget& target, ReadOp* ops, size_t n) {
  if (n == 1 && !ring_single_reads_) return PreadAll(target, ops, 1);
  const size_t finished_before = CountFinished(ops, n);
  if (finished_before == n) return;  // Nothing for the kernel to do.
  if (!use_ring_ || forked()) return PreadAll(target, ops, n);
  if (n == 1 && target.nowait_ok != nullptr &&
      target.nowait_ok->load(std::memory_order_relaxed) &&
      nowait_reads_.load(std::memory_order_relaxed) &&
      TryCached(target, &ops[0])) {
    return;
  }
  int err = 0;
  RingPool::Lease lease = pool_.Acquire(&err);
  if (lease.ring() == nullptr) {  // E.g. memlock exhausted by many threads.
    counters_.ring_failures.fetch_add(1, std::memory_order_relaxed);
    return PreadAll(target, ops, n);
  }
  const BatchOutcome outcome =
      ReadBatch(lease.ring(), target, ops, n, faults_.get());
  counters_.submitted.Add(outcome.submitted);
  counters_.resubmitted.fetch_add(outcome.resubmitted,
                                  std::memory_order_relaxed);
  counters_.rescued.fetch_add(outcome.rescued, std::memory_order_relaxed);
  counters_.ops_uring.Add(CountFinished(ops, n) - finished_before);
  switch (outcome.ring) {
    case BatchOutcome::Ring::kOk:
      break;
    case BatchOutcome::Ring::kGaveUp:
      counters_.rings_abandoned.fetch_add(1, std::memory_order_relaxed);
      lease.Discard();  // May hold entries that were never submitted.
      PreadAll(target, ops, n);
      break;
  }
}

std::shared_ptr<AsyncReader> ReadEngine::existing_async_reader() const {
  absl::MutexLock l(&mu_);
  return async_;
}

AsyncReader* ReadEngine::Reader() {
  if (forked()) return nullptr;  // Reads synchronously.
  AsyncReader* reader = async_raw_.load(std::memory_order_acquire);
  if (reader != nullptr || !use_ring_) return reader;
  return SetUpReader();
}

AsyncReader* ReadEngine::SetUpReader() {
  absl::MutexLock l(&mu_);
  if (async_ != nullptr) return async_.get();
  const auto now = std::chrono::steady_clock::now();
  if (now < async_retry_at_) return nullptr;
  int err = 0;
  async_ = AsyncReader::Create(queue_depth_, features_.op_async_cancel, faults_,
                               &err);
  if (async_ == nullptr) {
    counters_.ring_failures.fetch_add(1, std::memory_order_relaxed);
    async_retry_at_ = now + std::chrono::seconds(1);
    return nullptr;
  }
  async_raw_.store(async_.get(), std::memory_order_release);
  return async_.get();
}

void ReadEngine::StartAsync(AsyncRead* read) {
  if (AsyncReader* reader = Reader()) {
    read->synchronous = false;
    return reader->Submit(read);
  }
  read->synchronous = true;
  Read(read->target, &read->op, 1);
  read->state = AsyncRead::State::kCompleted;
}

bool ReadEngine::StartAsyncIfRoom(AsyncRead* read) {
  AsyncReader* reader = Reader();
  if (reader == nullptr) return false;
  read->synchronous = false;
  return reader->SubmitIfRoom(read);
}

namespace {

bool AllOnRing(AsyncRead* const* reads, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (reads[i]->synchronous) return false;
  }
  return true;
}

// The synchronous reads of `reads` (done at start): reports the completed
// ones into `*due`, counts every one as finished, and collects the others
// into `*on_ring`.
size_t SplitSynchronous(AsyncRead* const* reads, size_t n,
                        std::vector<AsyncRead*>* due,
                        std::vector<AsyncRead*>* on_ring) {
  size_t finished = 0;
  for (size_t i = 0; i < n; ++i) {
    AsyncRead* read = reads[i];
    if (!read->synchronous) {
      on_ring->push_back(read);
      continue;
    }
    ++finished;  // Done at start: reported, aborted or due now.
    if (read->state != AsyncRead::State::kCompleted) continue;
    read->state = AsyncRead::State::kReported;
    due->push_back(read);
  }
  return finished;
}

}  // namespace

namespace {

// In a child of fork(): a read the parent put on its ring will never
// complete here; it is finished with ECHILD without touching the ring.
void FinishParentsRead(AsyncRead* read) {
  if (read->synchronous) return;
  read->synchronous = true;
  if (read->state == AsyncRead::State::kCompleted ||
      read->state == AsyncRead::State::kReported ||
      read->state == AsyncRead::State::kAborted) {
    return;
  }
  read->op.error = ECHILD;
  read->op.finished = true;
  read->state = AsyncRead::State::kCompleted;
}

}  // namespace

size_t ReadEngine::PollAsync(AsyncRead* const* reads, size_t n, size_t min_done,
                             std::vector<AsyncRead*>* due) {
  if (forked()) {
    for (size_t i = 0; i < n; ++i) FinishParentsRead(reads[i]);
  }
  AsyncReader* reader = async_raw_.load(std::memory_order_acquire);
  if (reader != nullptr && AllOnRing(reads, n)) {
    return reader->Poll(reads, n, min_done, due);
  }
  due->reserve(due->size() + n);
  std::vector<AsyncRead*> on_ring;
  const size_t finished = SplitSynchronous(reads, n, due, &on_ring);
  if (on_ring.empty()) return finished;  // No ring read, so no reader.
  const size_t still_wanted = min_done > finished ? min_done - finished : 0;
  return finished +
         reader->Poll(on_ring.data(), on_ring.size(), still_wanted, due);
}

void ReadEngine::AbortAsync(AsyncRead* const* reads, size_t n) {
  if (forked()) {
    for (size_t i = 0; i < n; ++i) FinishParentsRead(reads[i]);
  }
  AsyncReader* reader = async_raw_.load(std::memory_order_acquire);
  if (reader != nullptr && AllOnRing(reads, n)) return reader->Abort(reads, n);
  std::vector<AsyncRead*> on_ring;
  for (size_t i = 0; i < n; ++i) {
    AsyncRead* read = reads[i];
    if (!read->synchronous) {
      on_ring.push_back(read);
    } else if (read->state == AsyncRead::State::kCompleted) {
      read->state = AsyncRead::State::kAborted;  // Never reported.
    }
  }
  if (!on_ring.empty()) reader->Abort(on_ring.data(), on_ring.size());
}

bool ReadEngine::ReleaseAsync(AsyncRead* read, void (*free_fn)(AsyncRead*)) {
  if (read->synchronous || forked()) return false;
  return async_raw_.load(std::memory_order_acquire)->Release(read, free_fn);
}

size_t ReadEngine::CancelAsync(uint64_t owner) {
  if (forked()) return 0;
  AsyncReader* reader = async_raw_.load(std::memory_order_acquire);
  return reader == nullptr ? 0 : reader->CancelOwned(owner);
}

}  // namespace uring
}  // namespace uringfs
