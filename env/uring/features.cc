#include "env/uring/features.h"

#include <liburing.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace uringfs {
namespace uring {
namespace {

// Tries the preferred setup flags first, then none. Returns 0 or -errno.
int SetupRing(unsigned entries, io_uring* ring, io_uring_params* params) {
  // COOP_TASKRUN (5.19) skips an interrupt per completion; the rings that use
  // it are only ever waited on by the thread that submitted to them.
  std::memset(params, 0, sizeof(*params));
  params->flags = IORING_SETUP_COOP_TASKRUN;
  int ret = ::io_uring_queue_init_params(entries, ring, params);
  if (ret == -EINVAL) {
    std::memset(params, 0, sizeof(*params));
    ret = ::io_uring_queue_init_params(entries, ring, params);
  }
  return ret;
}

}  // namespace

bool Features::usable() const {
  return requested && setup_errno == 0 && op_read && nodrop();
}

bool Features::nodrop() const {
  return (feature_bits & IORING_FEAT_NODROP) != 0;
}

bool Features::coop_taskrun() const {
  return (setup_flags & IORING_SETUP_COOP_TASKRUN) != 0;
}

std::string Features::Describe() const {
  char buf[200];
  if (usable()) {
    std::snprintf(buf, sizeof(buf),
                  "io_uring: on (features 0x%x, setup flags 0x%x, cancel %s)",
                  feature_bits, setup_flags, op_async_cancel ? "yes" : "no");
  } else if (!requested) {
    std::snprintf(buf, sizeof(buf),
                  "io_uring: off (use_io_uring=false), reads use pread");
  } else if (setup_errno != 0) {
    std::snprintf(buf, sizeof(buf),
                  "io_uring: unavailable, reads use pread (ring setup failed: "
                  "%s, errno %d)",
                  std::strerror(setup_errno), setup_errno);
  } else {
    std::snprintf(buf, sizeof(buf),
                  "io_uring: unusable, reads use pread (features 0x%x, "
                  "IORING_OP_READ %s)",
                  feature_bits, op_read ? "yes" : "no");
  }
  return buf;
}

Features ProbeFeatures(bool use_io_uring, unsigned entries,
                       FaultInjector* faults) {
  Features f;
  f.requested = use_io_uring;
  if (!use_io_uring) return f;
  f.setup_errno = faults != nullptr ? faults->SetupErrno() : 0;
  if (f.setup_errno != 0) return f;

  io_uring ring;
  io_uring_params params;
  const int ret = SetupRing(entries, &ring, &params);
  if (ret < 0) {
    f.setup_errno = -ret;
    return f;
  }
  f.setup_flags = params.flags;
  f.feature_bits = params.features;
  if (io_uring_probe* probe = ::io_uring_get_probe_ring(&ring)) {
    f.op_read = ::io_uring_opcode_supported(probe, IORING_OP_READ) != 0;
    f.op_async_cancel =
        ::io_uring_opcode_supported(probe, IORING_OP_ASYNC_CANCEL) != 0;
    ::io_uring_free_probe(probe);
  }
  ::io_uring_queue_exit(&ring);
  return f;
}

}  // namespace uring
}  // namespace uringfs
