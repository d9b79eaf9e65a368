#include "env/uring/read_op.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace uringfs {
namespace uring {

namespace internal {

bool ApplyOtherResult(const ReadTarget& target, int64_t res,
                      FaultInjector* faults, ReadOp* op) {
  if (faults != nullptr)
    faults->OnResult(op->next_offset(), op->next_len(), &res);
  if (res == -EAGAIN || res == -EINTR) {
    if (++op->retries <= kMaxRetries) return true;
    op->error = static_cast<int>(-res);
  } else if (res < 0) {
    op->error = static_cast<int>(-res);
  } else if (static_cast<uint64_t>(res) > op->next_len()) {
    op->error = EIO;  // More than asked: never trust such a result.
  } else if (res > 0) {
    op->done += static_cast<size_t>(res);
    op->retries = 0;
    const bool misaligned = target.direct && op->done % target.alignment != 0;
    if (op->done < op->len && !misaligned) return true;
  }  // res == 0: end of file.
  op->finished = true;
  return false;
}

}  // namespace internal

void PreadToEnd(const ReadTarget& target, FaultInjector* faults, ReadOp* op) {
  op->retries = 0;
  bool again = !op->finished;
  while (again) {
    const ssize_t n = ::pread(target.fd, op->buf + op->done, op->next_len(),
                              static_cast<off_t>(op->next_offset()));
    if (n < 0 && errno == EINTR) continue;  // A signal, as POSIX readers do.
    again = ApplyResult(target, n < 0 ? -errno : n, faults, op);
  }
}

bool RescueWithPread(const ReadTarget& target, FaultInjector* faults,
                     ReadOp* op) {
  if (!NeedsRescue(*op)) return false;
  op->error = 0;
  op->finished = false;
  PreadToEnd(target, faults, op);
  return true;
}

}  // namespace uring
}  // namespace uringfs
