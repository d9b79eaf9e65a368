// -----------------------------------------------------------------------------
// env/uring/batch_reader.h
// -----------------------------------------------------------------------------
//
// `ReadBatch` reads a batch of `ReadOp`s through one leased ring with every
// request in flight at once, up to the ring's depth (larger batches flow
// through as completions free room). It runs in named phases — fill (prepare
// SQEs), submit (one io_uring_enter that also waits), reap (fold each CQE in
// with `ApplyResult`, queueing short reads and EAGAIN/EINTR for another
// round) — until every op is finished.
//
// Guarantee: when `ReadBatch` returns, the kernel owns no request of the
// batch, so the callers' buffers are theirs again. If the ring keeps failing
// while requests are in flight, it waits (backing off) rather than return.
// It never allocates while requests are in flight, so it cannot throw then.
//
// Thread-safety: the ring must be leased by the calling thread.

#ifndef URINGFS_ENV_URING_BATCH_READER_H_
#define URINGFS_ENV_URING_BATCH_READER_H_

#include <cstddef>
#include <cstdint>

#include "env/uring/fault_injector.h"
#include "env/uring/read_op.h"
#include "env/uring/ring_pool.h"

namespace uringfs {
namespace uring {

struct BatchOutcome {
  enum class Ring {
    kOk,      // Every op finished through the ring; reuse it.
    kGaveUp,  // Submission kept failing with nothing in flight. Ops that
              // are not finished must be completed by `PreadToEnd`; the
              // ring may hold unsubmitted entries: discard it.
  };
  Ring ring = Ring::kOk;
  uint64_t submitted = 0;    // SQEs handed to the kernel.
  uint64_t resubmitted = 0;  // Of those, re-reads after short or EAGAIN.
  uint64_t rescued = 0;      // Ops finished by pread (RescueWithPread).
};

// ReadBatch()
//
// Reads `ops[0, n)` (unfinished ones) from `target` through `ring`.
// `faults` may be null.
BatchOutcome ReadBatch(Ring* ring, const ReadTarget& target, ReadOp* ops,
                       size_t n, FaultInjector* faults);

}  // namespace uring
}  // namespace uringfs

#endif  // URINGFS_ENV_URING_BATCH_READER_H_
