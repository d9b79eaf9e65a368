// -----------------------------------------------------------------------------
// env/uring/read_op.h
// -----------------------------------------------------------------------------
//
// `ReadOp` is one positional read in progress, and `ApplyResult` is the one
// place that decides what a read result means, for both the io_uring path and
// the `pread` fallback:
//
//   result == requested       progress; done when the whole length is read
//   0 < result < requested    short read: progress, read the rest again
//   result == 0               end of file: done, short
//   O_DIRECT and progress not a multiple of the alignment
//                             end of file inside a block: done, short
//   -EAGAIN, -EINTR           retry the same range, at most kMaxRetries times
//   any other negative        failed with that errno
//
// Requests longer than kMaxChunk are issued in chunks (Linux moves at most
// 0x7ffff000 bytes per read call, and an SQE length is 32 bits).
//
// Thread-safety: a `ReadOp` is owned by one thread at a time.

#ifndef URINGFS_ENV_URING_READ_OP_H_
#define URINGFS_ENV_URING_READ_OP_H_

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>

#include "env/uring/fault_injector.h"

namespace uringfs {
namespace uring {

// Where reads go: an open file descriptor and how it was opened.
struct ReadTarget {
  int fd = -1;
  bool direct = false;   // Opened with O_DIRECT.
  size_t alignment = 1;  // Direct-I/O alignment; 1 for buffered files.
  // Whether `preadv2(RWF_NOWAIT)` may be tried on this file (ReadEngine);
  // cleared for the file alone when its file system refuses it. Null: never
  // tried. Owned by whoever owns `fd`, and outlives every read of it.
  // Relaxed: a stale `true` only costs one more refused attempt.
  std::atomic<bool>* nowait_ok = nullptr;
};

struct ReadOp {
  // Inputs.
  uint64_t offset = 0;
  size_t len = 0;
  char* buf = nullptr;
  // Progress and outputs.
  size_t done = 0;         // Bytes read into buf[0, done).
  int error = 0;           // Positive errno when the read failed.
  bool finished = false;   // No more reading to do (complete, EOF or error).
  int retries = 0;         // EAGAIN/EINTR retries of the current range.
  bool in_flight = false;  // Owned by the kernel right now (io_uring path).

  // The part still to read, capped at kMaxChunk.
  uint64_t next_offset() const { return offset + done; }
  inline size_t next_len() const;
};

constexpr size_t kMaxChunk = size_t{1} << 30;  // 1 GiB per read call.
constexpr int kMaxRetries = 8;                 // EAGAIN/EINTR per range.

size_t ReadOp::next_len() const {
  const size_t left = len - done;
  return left < kMaxChunk ? left : kMaxChunk;
}

// ApplyResult()
//
// Folds the result `res` (bytes or -errno) of reading `op.next_len()` bytes at
// `op.next_offset()` into `op`, as described above. Returns true when `op`
// needs another read. `faults` may be null.
inline bool ApplyResult(const ReadTarget& target, int64_t res,
                        FaultInjector* faults, ReadOp* op);

// PreadToEnd()
//
// Finishes `op` with plain `pread` calls (the fallback path). On return
// `op->finished` is true.
void PreadToEnd(const ReadTarget& target, FaultInjector* faults, ReadOp* op);

// NeedsRescue()
//
// True for an op the ring finished with an error that says nothing about
// the file (see RescueWithPread).
inline bool NeedsRescue(const ReadOp& op) {
  const int e = op.error;
  return op.finished &&
         (e == EAGAIN || e == EINTR || e == ECANCELED || e == EFAULT);
}

// RescueWithPread()
//
// For the io_uring paths: an op the ring finished with an error that says
// nothing about the file — EAGAIN or EINTR beyond the retry bound, ECANCELED
// or EFAULT because the thread that submitted it has exited (the kernel ties
// a request to its submitter) — is read again with `PreadToEnd`, which gives
// the definitive answer. Returns true if it did so.
bool RescueWithPread(const ReadTarget& target, FaultInjector* faults,
                     ReadOp* op);

// Implementation details: every read ends in ApplyResult, and nearly every
// result is the whole remaining range, so that case is inline and the rest
// is a call.
namespace internal {
bool ApplyOtherResult(const ReadTarget& target, int64_t res,
                      FaultInjector* faults, ReadOp* op);
}  // namespace internal

bool ApplyResult(const ReadTarget& target, int64_t res, FaultInjector* faults,
                 ReadOp* op) {
  const size_t want = op->next_len();
  if (faults == nullptr && res > 0 && static_cast<uint64_t>(res) == want &&
      op->done + want == op->len) {
    op->done = op->len;
    op->retries = 0;
    op->finished = true;
    return false;
  }
  return internal::ApplyOtherResult(target, res, faults, op);
}

}  // namespace uring
}  // namespace uringfs

#endif  // URINGFS_ENV_URING_READ_OP_H_
