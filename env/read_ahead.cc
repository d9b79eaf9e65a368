#include "env/read_ahead.h"

#include <utility>

namespace uringfs {
namespace {

// No single read ahead is longer (RocksDB's own readahead stops at 256 KiB
// unless configured otherwise).
constexpr size_t kMaxAheadLength = size_t{4} << 20;

// A read ahead starts only after two sequential requests of at least this
// length. RocksDB's readahead starts at 8 KiB and doubles, so a stream
// reaches it with its fourth and fifth requests: short scans, which would
// leave a read ahead unused, never start one.
constexpr size_t kMinTriggerLength = size_t{64} << 10;

// A read ahead starts only while the file's last Poll waited at least this
// long for the device: a read ahead costs a copy of its bytes and, at the
// end of a scan, a read nobody uses, which a device that keeps up (a
// 128 KiB read in about 0.1 ms) never pays back.
constexpr int64_t kBehindNanos = 100 * 1000;

}  // namespace

ReadAhead::ReadAhead(std::shared_ptr<ReadAheadShared> shared)
    : shared_(std::move(shared)),
      poll_wait_ns_(std::make_shared<std::atomic<int64_t>>(0)) {}

ReadAhead::~ReadAhead() {
  absl::MutexLock l(&mu_);
  if (ahead_ == nullptr) return;
  DiscardOwnRead(ahead_);
  Bump(shared_->counters.dropped);
}

size_t ReadAhead::NextLength(size_t len) {
  return len < kMaxAheadLength ? len : kMaxAheadLength;
}

rocksdb::IOStatus ReadAhead::ReadAsync(AsyncReadStart start, void** io_handle,
                                       rocksdb::IOHandleDeleter* del_fn) {
  const uint64_t offset = start.req->offset;
  const size_t len = start.req->len;
  start.file_poll_wait_ns = poll_wait_ns_;
  // The file's last Poll (of a read of its own or of a read ahead it took
  // over) waited for the device long enough for reading ahead to pay.
  const bool behind =
      poll_wait_ns_->load(std::memory_order_relaxed) >= kBehindNanos;
  void* ahead = nullptr;
  bool sequential = false;
  {
    absl::MutexLock l(&mu_);
    ahead = std::exchange(ahead_, nullptr);
    sequential = behind && offset == next_ && len >= kMinTriggerLength &&
                 last_len_ >= kMinTriggerLength;
    next_ = offset + len;
    last_len_ = len;
  }
  // What the next read ahead needs of `start`, which is about to be moved.
  AsyncReadStart like;
  if (sequential) {
    like.target = start.target;
    like.fd = start.fd;
    like.path = start.path;
    like.engine = start.engine;
    like.owner = start.owner;
  }
  rocksdb::IOStatus s;
  if (ahead != nullptr && OwnReadCovers(ahead, offset, len, start.owner)) {
    s = ClaimOwnRead(ahead, std::move(start), io_handle, del_fn);
    if (s.ok()) {
      Bump(shared_->counters.used);
    } else {
      DiscardOwnRead(ahead);
      Bump(shared_->counters.dropped);
    }
  } else {
    if (ahead != nullptr) {
      DiscardOwnRead(ahead);
      Bump(shared_->counters.dropped);
    }
    s = StartAsyncRead(std::move(start), io_handle, del_fn);
  }
  if (s.ok() && sequential) {
    StartAhead(like, offset + len, NextLength(len));
  }
  return s;
}

void ReadAhead::StartAhead(const AsyncReadStart& like, uint64_t offset,
                           size_t len) {
  const int64_t want = static_cast<int64_t>(len);
  if (shared_->bytes.load(std::memory_order_relaxed) + want >
      shared_->max_bytes.load(std::memory_order_relaxed)) {
    return;  // Over the file system's read-ahead memory: read as usual.
  }
  void* ahead = StartOwnRead(
      like, offset, len,
      std::shared_ptr<std::atomic<int64_t>>(shared_, &shared_->bytes));
  if (ahead == nullptr) return;
  Bump(shared_->counters.started);
  {
    absl::MutexLock l(&mu_);
    if (ahead_ == nullptr && next_ == offset) {
      ahead_ = ahead;
      return;
    }
  }
  DiscardOwnRead(ahead);  // Another request moved the stream meanwhile.
  Bump(shared_->counters.dropped);
}

}  // namespace uringfs
