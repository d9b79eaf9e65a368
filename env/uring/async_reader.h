// -----------------------------------------------------------------------------
// env/uring/async_reader.h
// -----------------------------------------------------------------------------
//
// `AsyncReader` runs reads that complete later (RocksDB's `ReadAsync`,
// `Poll`, `AbortIO`) on one ring of its own, never on the rings of
// synchronous reads: a ring shared by both would mix their completions, and a
// synchronous batch would reap (and lose) an asynchronous read's completion
// (docs/design.md, "ReadAsync, Poll and AbortIO").
//
// An `AsyncRead` moves through these states:
//
//   kInFlight --completion--> kCompleted --Poll--> kReported
//       |                         |
//       +--Abort--> kAborting --completion--> kAborted
//       |                         +--Abort (not yet reported)--> kAborted
//       +--Abort, owns_buffer--> kAbandoned --completion--> kAborted
//                                (freed then if released)
//
// Short reads and EAGAIN/EINTR are re-submitted inside kInFlight, so a read
// is kCompleted only when it is finished (full, EOF or error). A read the
// kernel cancels because its submitting thread exited is finished with pread
// (`RescueWithPread`), so the caller still gets its bytes. kAborted is
// final: the read will never be reported, and the kernel no longer owns its
// buffer. A read that cannot be submitted (ring full, submission refused) is
// done at once with `pread` and starts life kCompleted, so `Submit` always
// succeeds and every read is reported exactly once unless aborted. If the
// kernel refuses `io_uring_enter` for good (a seccomp or LSM rule added after
// the ring was set up, a closed ring fd), the reader stops entering the
// kernel: reads it never took are finished with pread, reads it has are
// reaped from the ring as they complete, and later reads use pread, so no
// Poll, Abort or destructor waits for ever.
//
// Identity: a read is submitted by the thread that asked for it. A completion
// reaped by another thread that needs more reading (a short read, a retry, a
// rescue) is not continued there; the read waits, deferred, until a thread
// that polls or aborts it continues it with its own identity.
//
// Rings allow one submitter and one completer at a time: submissions happen
// under `mu_`; one thread at a time is the reaper, which waits in the kernel
// without holding `mu_` and then processes completions under it. Other
// waiting threads sleep on a condition variable until the reaper's round is
// done. The ring is created without COOP_TASKRUN, because a completion may
// be waited for by a thread other than its submitter.
//
// Lifetime: an `AsyncRead` may be destroyed only in a final state or
// kCompleted/kReported (use `Abort` first otherwise), or handed to the reader
// with `Release`. A read whose buffer is uringfs's own (`owns_buffer`) is
// aborted without waiting: it becomes kAbandoned, and once released the
// reader frees it when its completion arrives, or in its destructor, which
// waits for every read still in the kernel.
//
// Thread-safety: `AsyncReader` is safe for concurrent use.

#ifndef URINGFS_ENV_URING_ASYNC_READER_H_
#define URINGFS_ENV_URING_ASYNC_READER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "env/uring/fault_injector.h"
#include "env/uring/read_op.h"
#include "env/uring/ring_pool.h"

namespace uringfs {
namespace uring {

class AsyncReader;

struct AsyncRead {
  // kAbandoned: aborted, but the kernel still owns the read's buffer, which
  // belongs to uringfs (`owns_buffer`); the caller's memory is not involved.
  enum class State {
    kInFlight,
    kCompleted,
    kReported,
    kAborting,
    kAborted,
    kAbandoned
  };

  ReadTarget target;
  ReadOp op;
  uint64_t owner = 0;  // The task it belongs to (CancelOwned); immutable.
  // `op.buf` is uringfs's own memory, not the caller's: Abort need not wait
  // for the kernel to let go of it (see Release). Immutable.
  bool owns_buffer = false;
  // Read with pread when it started (no async ring): kCompleted from the
  // start, never in the kernel. Set by ReadEngine::StartAsync; immutable.
  bool synchronous = false;
  // Guarded by the owning AsyncReader's mutex once submitted.
  State state = State::kInFlight;
  bool cancel_requested = false;  // By CancelOwned: finish as ECANCELED.
  // The thread whose identity the kernel sees for this read: every further
  // submission or pread of it happens on that thread or on one that polls or
  // aborts it (the requester), never on a thread reaping for another.
  int submitter = 0;
  bool deferred = false;           // Needs more reading, waits for a requester.
  // Set by Poll: how long the poller waited for the device, if the read was
  // still in the kernel once the completions that were ready had been
  // reaped (0 if it was not).
  int64_t poll_wait_ns = 0;
  AsyncRead* prev_live = nullptr;  // The reader's list of reads in the
  AsyncRead* next_live = nullptr;  // kernel (intrusive: no allocation).
  bool live = false;
  // Set by Release: the reader frees the read once the kernel is done.
  void (*release_fn)(AsyncRead*) = nullptr;
};

class AsyncReader final {
 public:
  // AsyncReader::Create()
  //
  // Sets up a ring of `entries` entries. Returns null and stores the errno
  // in `*err` if it cannot. `faults` may be null.
  static std::shared_ptr<AsyncReader> Create(
      unsigned entries, bool can_cancel, std::shared_ptr<FaultInjector> faults,
      int* err);

  AsyncReader(const AsyncReader&) = delete;
  AsyncReader& operator=(const AsyncReader&) = delete;
  // Waits for the reads still in the kernel and frees the released ones.
  ~AsyncReader();

  // AsyncReader::Submit()
  //
  // Starts `read` (state kInFlight), or completes it at once with pread when
  // the ring has no room. `read` must stay alive until it is final.
  void Submit(AsyncRead* read) ABSL_LOCKS_EXCLUDED(mu_);

  // AsyncReader::SubmitIfRoom()
  //
  // `Submit` for a read nobody waits for yet (a read ahead): false, with
  // `read` untouched and never read, when the ring has no room (or is
  // broken), instead of reading it with pread on the caller's thread. The
  // one exception: when the kernel refuses this very submission for good
  // (the ring breaks on it), the read is finished with pread here like any
  // retracted read, and true is returned; every later call returns false.
  bool SubmitIfRoom(AsyncRead* read) ABSL_LOCKS_EXCLUDED(mu_);

  // AsyncReader::Poll()
  //
  // Waits until at least `min_done` of `reads` are kCompleted, kReported or
  // kAborted (fewer if `reads` has fewer), then moves every kCompleted one
  // to kReported and appends it to `*due`: the caller runs their callbacks,
  // on its own thread, without any lock held. Returns how many of `reads`
  // were finished (in any of those three states). Sets each read's
  // `poll_wait_ns`.
  size_t Poll(AsyncRead* const* reads, size_t n, size_t min_done,
              std::vector<AsyncRead*>* due) ABSL_LOCKS_EXCLUDED(mu_);

  // AsyncReader::Abort()
  //
  // Makes every read of `reads` that is not yet reported kAborted: cancels
  // the ones in the kernel and waits until the kernel has let go of their
  // buffers — except reads into uringfs's own buffer (owns_buffer), which
  // become kAbandoned at once (see Release). Reported reads are left alone.
  void Abort(AsyncRead* const* reads, size_t n) ABSL_LOCKS_EXCLUDED(mu_);

  // AsyncReader::Release()
  //
  // Hands `read` to the reader if the kernel may still write into its own
  // buffer (an owns_buffer read, abandoned or still in flight, which is
  // aborted first): the reader calls `free_fn(read)` once the kernel is done
  // with it. Returns false, taking nothing, when the read is not in the
  // kernel; the caller frees it then (after `Abort` if it was in flight).
  bool Release(AsyncRead* read, void (*free_fn)(AsyncRead*))
      ABSL_LOCKS_EXCLUDED(mu_);

  // AsyncReader::CancelOwned()
  //
  // Asks the kernel to cancel every read of `owner` (every read if 0) that
  // is in flight, without waiting. Such a read still completes and is
  // reported once (by Poll) — with its data if it finished first, otherwise
  // failed with ECANCELED — unless it is aborted. Returns how many reads were
  // asked to stop.
  size_t CancelOwned(uint64_t owner) ABSL_LOCKS_EXCLUDED(mu_);

  // Reads handed to the kernel, completed at submission with pread, and
  // cancellations sent. Monotonic.
  uint64_t submitted() const ABSL_LOCKS_EXCLUDED(mu_);
  uint64_t sync_fallbacks() const ABSL_LOCKS_EXCLUDED(mu_);
  uint64_t cancels_sent() const ABSL_LOCKS_EXCLUDED(mu_);
  // Reads finished by pread after the ring failed them (RescueWithPread).
  uint64_t rescued() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  AsyncReader(std::unique_ptr<Ring> ring, bool can_cancel,
              std::shared_ptr<FaultInjector> faults);

  // Prepares and submits a read of what `read` still needs. False if the
  // ring has no room.
  bool SubmitLocked(AsyncRead* read) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Processes every available completion.
  void ReapLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnCompletion(AsyncRead* read, int res)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Takes `read` out of the kernel's count; if it was aborted, finishes it
  // (kAborted, freed later if released) and returns true.
  bool LeaveKernelLocked(AsyncRead* read) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A read that needs more reading: continued on this thread if it is the
  // requester's, else deferred; finished as cancelled if asked to stop.
  void ContinueOrDefer(AsyncRead* read) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A read whose entry the kernel never consumed (the ring broke): it was
  // never in the kernel; it is finished like any other, with pread.
  void Retract(AsyncRead* read) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Submits the queued entries; a refusal for good breaks the ring.
  void SubmitPendingLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The kernel refuses io_uring_enter for good: from now on nothing is
  // submitted (reads are done with pread) and nobody waits in the kernel
  // (completions of the reads it has are reaped from the ring as they
  // arrive). Retracts the entries it never consumed.
  void BreakLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // io_uring_submit / io_uring_wait_cqe through the fault seam: the result
  // (count, or -errno).
  int Enter() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int WaitForCompletion();
  // Marks an in-flight owns_buffer read kAbandoned; true if a cancel was
  // queued (the caller submits).
  bool AbandonLocked(AsyncRead* read) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Processes the completions already there, unless a reaper is waiting.
  void ReapReadyLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Continues a read that needs more reading on this (requester) thread.
  void Continue(AsyncRead* read) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Finishes `read` as kCompleted; with ECANCELED when `cancelled`.
  void Finish(AsyncRead* read, bool cancelled)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Frees the reads released and done since the last call; call without
  // the lock (freeing may release the last reference to other objects).
  void FreeReleased() ABSL_LOCKS_EXCLUDED(mu_);
  void Link(AsyncRead* read) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Unlink(AsyncRead* read) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Queues an IORING_OP_ASYNC_CANCEL for `read`; false if there is none.
  bool PrepCancel(AsyncRead* read) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Reaps until `done(reads, n)` holds, as reaper or as a sleeper.
  template <typename Pred>
  void WaitUntil(Pred done) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Submit (`only_if_room` false) or SubmitIfRoom; true if started.
  bool Start(AsyncRead* read, bool only_if_room) ABSL_LOCKS_EXCLUDED(mu_);
  // The ring can take one more read now.
  bool HasRoomLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::unique_ptr<Ring> ring_;  // SQ under mu_; CQ by the reaper.
  const bool can_cancel_;             // IORING_OP_ASYNC_CANCEL exists.
  const std::shared_ptr<FaultInjector> faults_;  // May be null.
  mutable absl::Mutex mu_;
  absl::CondVar reaped_;  // Signalled after each reaper round.
  bool reaping_ ABSL_GUARDED_BY(mu_) = false;
  unsigned in_kernel_ ABSL_GUARDED_BY(mu_) = 0;  // Reads, not cancels.
  // Reads in the kernel or deferred (not final yet).
  AsyncRead* live_ ABSL_GUARDED_BY(mu_) = nullptr;
  // Released reads the kernel is done with, to free without the lock;
  // linked through `next_live` (they are no longer live).
  AsyncRead* released_done_ ABSL_GUARDED_BY(mu_) = nullptr;
  // The kernel refused io_uring_enter for good (BreakLocked).
  bool broken_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t submitted_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t sync_fallbacks_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t cancels_sent_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t rescued_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace uring
}  // namespace uringfs

#endif  // URINGFS_ENV_URING_ASYNC_READER_H_
