#include "env/uring/batch_reader.h"

#include <liburing.h>
#include <sched.h>

#include <cerrno>

#include "absl/container/inlined_vector.h"
#include "env/uring/backoff.h"

namespace uringfs {
namespace uring {
namespace {

constexpr int kMaxSubmitStalls = 64;  // EAGAIN/EBUSY with nothing in flight.

class Batch {
 public:
  Batch(Ring* ring, const ReadTarget& target, ReadOp* ops, size_t n,
        FaultInjector* faults)
      : ring_(ring), target_(target), ops_(ops), n_(n), faults_(faults) {}

  BatchOutcome Run() {
    // The only allocation, before anything is in flight: each op is pending
    // at most once at a time, and Fill() drops what it consumed.
    pending_.reserve(n_);
    for (size_t i = 0; i < n_; ++i) {
      if (!ops_[i].finished) pending_.push_back(static_cast<uint32_t>(i));
    }
    while (outcome_.ring == BatchOutcome::Ring::kOk &&
           (!pending_.empty() || in_kernel_ > 0 || Unsubmitted() > 0)) {
      Fill();
      if (Submit()) Reap();
    }
    return outcome_;
  }

 private:
  unsigned Unsubmitted() { return ::io_uring_sq_ready(ring_->get()); }

  // Phase 1: one SQE per pending op while the ring has room.
  void Fill() {
    size_t used = 0;
    while (used < pending_.size() &&
           in_kernel_ + Unsubmitted() < ring_->depth()) {
      io_uring_sqe* sqe = ::io_uring_get_sqe(ring_->get());
      if (sqe == nullptr) break;
      ReadOp& op = ops_[pending_[used]];
      ::io_uring_prep_read(sqe, target_.fd, op.buf + op.done,
                           static_cast<unsigned>(op.next_len()),
                           op.next_offset());
      ::io_uring_sqe_set_data64(sqe, pending_[used]);
      op.in_flight = true;
      ++used;
    }
    pending_.erase(pending_.begin(), pending_.begin() + used);
  }

  // Phase 2: submit what is prepared and wait, in the same system call, until
  // everything in flight has completed: one kernel entry per round instead of
  // one per completion. (Short reads are rare; they wait for their round.)
  // Returns true if completions may be ready.
  bool Submit() {
    const unsigned before = Unsubmitted();
    const int ret = before > 0 ? ::io_uring_submit_and_wait(ring_->get(),
                                                            before + in_kernel_)
                               : WaitOne();
    const unsigned accepted = before - Unsubmitted();
    in_kernel_ += accepted;
    outcome_.submitted += accepted;
    if (ret >= 0 || ret == -EINTR) {
      stalls_ = 0;
      return true;
    }
    return OnRingError(-ret);
  }

  // EAGAIN/EBUSY mean the kernel ran out of something completions give back.
  // With requests in flight we never leave: wait for them (backing off if the
  // wait itself keeps failing). With none in flight, yield a bounded number
  // of times, then give up on the ring (the caller finishes with pread).
  bool OnRingError(int err) {
    if (in_kernel_ > 0) {
      if (err != EAGAIN && err != EBUSY) BackOff(&wait_failures_);
      return WaitOne() >= 0;
    }
    if ((err == EAGAIN || err == EBUSY) && ++stalls_ <= kMaxSubmitStalls) {
      ::sched_yield();
      return false;
    }
    outcome_.ring = BatchOutcome::Ring::kGaveUp;
    return false;
  }

  int WaitOne() {
    io_uring_cqe* cqe = nullptr;
    return ::io_uring_wait_cqe(ring_->get(), &cqe);
  }

  // Phase 3: fold every available completion into its op. Never allocates.
  void Reap() {
    unsigned head;
    unsigned seen = 0;
    io_uring_cqe* cqe;
    io_uring_for_each_cqe(ring_->get(), head, cqe) {
      ++seen;
      const uint64_t index = ::io_uring_cqe_get_data64(cqe);
      if (index >= n_ || !ops_[index].in_flight) continue;  // Not ours.
      ReadOp& op = ops_[index];
      op.in_flight = false;
      --in_kernel_;
      if (ApplyResult(target_, cqe->res, faults_, &op)) {
        pending_.push_back(static_cast<uint32_t>(index));
        ++outcome_.resubmitted;
      } else if (RescueWithPread(target_, faults_, &op)) {
        ++outcome_.rescued;
      }
    }
    ::io_uring_cq_advance(ring_->get(), seen);
    if (seen > 0) wait_failures_ = 0;
  }

  Ring* const ring_;
  const ReadTarget& target_;
  ReadOp* const ops_;
  const size_t n_;
  FaultInjector* const faults_;
  absl::InlinedVector<uint32_t, 64> pending_;  // Ops to (re)submit.
  unsigned in_kernel_ = 0;                     // Submitted, not yet reaped.
  int stalls_ = 0;
  int wait_failures_ = 0;
  BatchOutcome outcome_;
};

}  // namespace

BatchOutcome ReadBatch(Ring* ring, const ReadTarget& target, ReadOp* ops,
                       size_t n, FaultInjector* faults) {
  return Batch(ring, target, ops, n, faults).Run();
}

}  // namespace uring
}  // namespace uringfs
