#include "env/writable_file.h"

#include <cerrno>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "base/counter.h"
#include "env/io_error.h"
#include "env/io_guard.h"

namespace uringfs {

class WriteState final {
 public:
  explicit WriteState(std::string fname) : fname_(std::move(fname)) {}

  const std::string& fname() const { return fname_; }

  // The first failure, or OK. Lock-free while there is none.
  rocksdb::IOStatus error() const ABSL_LOCKS_EXCLUDED(mu_) {
    if (!failed()) return rocksdb::IOStatus::OK();
    absl::MutexLock l(&mu_);
    return error_;
  }
  bool failed() const {
    // acquire: pairs with the release in Fail(), so error_ is complete.
    return failed_.load(std::memory_order_acquire);
  }

  // Records `s` unless an earlier failure is recorded already.
  void Fail(const rocksdb::IOStatus& s) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock l(&mu_);
    if (!error_.ok()) return;
    error_ = s;
    failed_.store(true, std::memory_order_release);
  }

  void AddInflight() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock l(&mu_);
    ++inflight_;
  }
  void DoneInflight() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock l(&mu_);
    --inflight_;
  }
  // Waits until no queued work of the handle is left.
  void WaitIdle() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock l(&mu_);
    mu_.Await(absl::Condition(
        +[](int64_t* n) { return *n == 0; }, &inflight_));
  }

 private:
  const std::string fname_;  // For messages.
  mutable absl::Mutex mu_;
  std::atomic<bool> failed_{false};
  rocksdb::IOStatus error_ ABSL_GUARDED_BY(mu_);
  int64_t inflight_ ABSL_GUARDED_BY(mu_) = 0;
};

UringWritableFile::UringWritableFile(
    std::string fname, std::unique_ptr<rocksdb::FSWritableFile> base,
    std::shared_ptr<OpenInode> inode, std::shared_ptr<WriteScheduler> scheduler,
    bool write_behind, const rocksdb::FileOptions& options)
    : rocksdb::FSWritableFile(options),
      fname_(std::move(fname)),
      base_(std::move(base)),
      inode_(std::move(inode)),
      scheduler_(std::move(scheduler)),
      state_(std::make_shared<WriteState>(fname_)),
      task_home_(scheduler_->tasks()->home()),
      direct_(base_->use_direct_io()),
      write_behind_(write_behind && !direct_),
      size_(base_->GetFileSize(rocksdb::IOOptions(), nullptr)) {}

UringWritableFile::~UringWritableFile() {
  // In a child of fork() the queued work is the parent's; nothing of it may
  // be waited for (its workers do not exist here), and the base handle is
  // not closed either: its Close may truncate the file to what this copy
  // knows, under the parent's later writes. Left alone for good.
  if (Forked()) {
    (void)base_.release();
    return;
  }
  if (!closed_) Close(rocksdb::IOOptions(), nullptr).PermitUncheckedError();
  state_->WaitIdle();  // Nothing may touch base_ after this.
}

rocksdb::IOStatus UringWritableFile::Queue(
    const char* what, uint64_t bytes, std::function<rocksdb::IOStatus()> op) {
  std::shared_ptr<WriteState> state = state_;
  WriteScheduler* scheduler = scheduler_.get();
  state->AddInflight();
  try {
    scheduler_->Enqueue(
        inode_, bytes,
        [state, scheduler, what, op = std::move(op)](int status) {
          if (status != 0) {
            state->Fail(
                IOErrorFromErrno(std::string("queued ") + what + " (not done)",
                                 state->fname(), -status));
            return;
          }
          if (state->failed()) return;  // Never write past a failure.
          rocksdb::IOStatus s = NoThrow(what, op);
          if (!s.ok()) {
            Bump(scheduler->counters().write_errors);
            state->Fail(s);
          }
        },
        [state] { state->DoneInflight(); });
  } catch (...) {
    state->DoneInflight();  // Nothing was queued (see Enqueue).
    state->Fail(rocksdb::IOStatus::IOError(
        std::string("uringfs: queued ") + what + " (out of memory)", fname_));
  }
  return state->error();
}

template <typename Op>
rocksdb::IOStatus UringWritableFile::RunAfterQueued(const char* what,
                                                    bool quiesce, Op&& op) {
  scheduler_->Drain(inode_);
  if (quiesce) state_->WaitIdle();
  rocksdb::IOStatus e = state_->error();
  if (!e.ok()) return e;
  rocksdb::IOStatus s = NoThrow(what, std::forward<Op>(op));
  if (!s.ok()) state_->Fail(s);
  return s;
}

rocksdb::IOStatus UringWritableFile::Ordered(
    const char* what, std::function<rocksdb::IOStatus()> op) {
  if (!write_behind_) return RunAfterQueued(what, false, op);
  return Queue(what, 0, std::move(op));
}

rocksdb::IOStatus UringWritableFile::CheckDirectIo(const rocksdb::Slice& data,
                                                   uint64_t offset) const {
  if (!direct_) return rocksdb::IOStatus::OK();
  const size_t align = base_->GetRequiredBufferAlignment();
  const auto address = reinterpret_cast<uintptr_t>(data.data());
  if (align == 0 || ((data.size() % align) == 0 && (address % align) == 0 &&
                     (offset % align) == 0)) {
    return rocksdb::IOStatus::OK();
  }
  return rocksdb::IOStatus::InvalidArgument(
      "uringfs: direct-I/O write to " + fname_ + " is not aligned to " +
      std::to_string(align) + " bytes (buffer " + std::to_string(address) +
      ", size " + std::to_string(data.size()) + ", offset " +
      std::to_string(offset) + ")");
}

rocksdb::IOStatus UringWritableFile::ForkedError(const char* what) const {
  return rocksdb::IOStatus::IOError(
      std::string("uringfs: ") + what +
          " of a file opened before fork(), in "
          "the child process (open it again through a file system created in "
          "the child)",
      fname_);
}

rocksdb::IOStatus UringWritableFile::RefuseShutDown(const char* what) {
  state_->Fail(IOErrorFromErrno(std::string(what) + " (task shut down)", fname_,
                                ECANCELED));
  return state_->error();
}

rocksdb::IOStatus UringWritableFile::Append(const rocksdb::Slice& data,
                                            const rocksdb::IOOptions& options,
                                            rocksdb::IODebugContext* dbg) {
  if (Forked()) return ForkedError("append");
  rocksdb::IOStatus e = state_->error();
  if (!e.ok()) return e;
  if (closed_) {
    return rocksdb::IOStatus::IOError("uringfs: append to closed file", fname_);
  }
  if (!write_behind_) {
    if (direct_) {
      rocksdb::IOStatus s = CheckDirectIo(data, 0);
      if (!s.ok()) return s;
    }
    if (TaskShutDown()) return RefuseShutDown("append");
    Bump(scheduler_->counters().appends_direct);
    Bump(scheduler_->counters().bytes_direct, data.size());
    return RunAfterQueued("append", false,
                          [&] { return base_->Append(data, options, dbg); });
  }
  if (TaskShutDown()) return RefuseShutDown("append");
  Bump(scheduler_->counters().appends_queued);
  Bump(scheduler_->counters().bytes_queued, data.size());
  rocksdb::FSWritableFile* base = base_.get();
  const std::shared_ptr<AppendCopies>& copies = scheduler_->copies();
  rocksdb::IOStatus s = NoThrow("uringfs append", [&] {
    return Queue("append", data.size(),
                 [base, copies, copy = copies->Copy(data),
                  options]() mutable {
                   rocksdb::IOStatus written =
                       base->Append(copy, options, nullptr);
                   copies->Recycle(std::move(copy));
                   return written;
                 });
  });
  if (!s.ok()) {
    state_->Fail(s);  // The copy could not be made: the append is lost.
    return state_->error();
  }
  size_.fetch_add(data.size(), std::memory_order_relaxed);
  return s;
}

rocksdb::IOStatus UringWritableFile::PositionedAppend(
    const rocksdb::Slice& data, uint64_t offset,
    const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) {
  if (Forked()) return ForkedError("positioned append");
  rocksdb::IOStatus s = CheckDirectIo(data, offset);
  if (!s.ok()) return s;
  if (TaskShutDown()) {
    return RefuseShutDown("positioned append");
  }
  Bump(scheduler_->counters().appends_direct);
  Bump(scheduler_->counters().bytes_direct, data.size());
  s = RunAfterQueued("positioned append", true, [&] {
    return base_->PositionedAppend(data, offset, options, dbg);
  });
  size_.store(base_->GetFileSize(options, dbg), std::memory_order_relaxed);
  return s;
}

rocksdb::IOStatus UringWritableFile::PositionedAppend(
    const rocksdb::Slice& data, uint64_t offset,
    const rocksdb::IOOptions& options,
    const rocksdb::DataVerificationInfo& /*verification_info*/,
    rocksdb::IODebugContext* dbg) {
  return PositionedAppend(data, offset, options, dbg);
}

rocksdb::IOStatus UringWritableFile::Truncate(uint64_t size,
                                              const rocksdb::IOOptions& options,
                                              rocksdb::IODebugContext* dbg) {
  if (Forked()) return ForkedError("truncate");
  rocksdb::IOStatus s = RunAfterQueued(
      "truncate", true, [&] { return base_->Truncate(size, options, dbg); });
  if (s.ok()) size_.store(size, std::memory_order_relaxed);
  return s;
}

rocksdb::IOStatus UringWritableFile::Close(const rocksdb::IOOptions& options,
                                           rocksdb::IODebugContext* dbg) {
  if (Forked()) return ForkedError("close");
  if (closed_) return state_->error();
  scheduler_->Drain(inode_);
  state_->WaitIdle();
  closed_ = true;
  // Close even after a failure, so the descriptor is released; the first
  // failure is what the caller hears.
  rocksdb::IOStatus s =
      NoThrow("close", [&] { return base_->Close(options, dbg); });
  rocksdb::IOStatus e = state_->error();
  if (!e.ok()) return e;
  if (!s.ok()) state_->Fail(s);
  return s;
}

rocksdb::IOStatus UringWritableFile::Flush(const rocksdb::IOOptions& options,
                                           rocksdb::IODebugContext* dbg) {
  if (Forked()) return ForkedError("flush");
  if (write_behind_) return state_->error();
  return RunAfterQueued("flush", false,
                        [&] { return base_->Flush(options, dbg); });
}

rocksdb::IOStatus UringWritableFile::SyncData(
    bool full, const rocksdb::IOOptions& options) {
  if (Forked()) return ForkedError("sync");
  return RunAfterQueued(full ? "fsync" : "sync", false, [&] {
    rocksdb::IOStatus s = base_->Flush(options, nullptr);
    if (!s.ok()) return s;
    return full ? base_->Fsync(options, nullptr)
                : base_->Sync(options, nullptr);
  });
}

rocksdb::IOStatus UringWritableFile::Sync(const rocksdb::IOOptions& options,
                                          rocksdb::IODebugContext* /*dbg*/) {
  return SyncData(false, options);
}

rocksdb::IOStatus UringWritableFile::Fsync(const rocksdb::IOOptions& options,
                                           rocksdb::IODebugContext* /*dbg*/) {
  return SyncData(true, options);
}

rocksdb::IOStatus UringWritableFile::RangeSync(
    uint64_t offset, uint64_t nbytes, const rocksdb::IOOptions& options,
    rocksdb::IODebugContext* /*dbg*/) {
  if (Forked()) return ForkedError("range sync");
  rocksdb::FSWritableFile* base = base_.get();
  return Ordered("range sync", [base, offset, nbytes, options] {
    return base->RangeSync(offset, nbytes, options, nullptr);
  });
}

rocksdb::IOStatus UringWritableFile::Allocate(
    uint64_t offset, uint64_t len, const rocksdb::IOOptions& options,
    rocksdb::IODebugContext* /*dbg*/) {
  if (Forked()) return ForkedError("allocate");
  rocksdb::FSWritableFile* base = base_.get();
  return Ordered("allocate", [base, offset, len, options] {
    return base->Allocate(offset, len, options, nullptr);
  });
}

rocksdb::IOStatus UringWritableFile::InvalidateCache(size_t offset,
                                                     size_t length) {
  if (Forked()) return ForkedError("invalidate cache");
  return RunAfterQueued("invalidate cache", true,
                        [&] { return base_->InvalidateCache(offset, length); });
}

// Mirrors FSWritableFile's default, but lets the base do the preallocating
// (so its Close trims what was not used) and only when a new block is needed.
void UringWritableFile::PrepareWrite(size_t offset, size_t len,
                                     const rocksdb::IOOptions& options,
                                     rocksdb::IODebugContext* /*dbg*/) {
  if (Forked()) return;
  const size_t block = preallocation_block_size();
  if (block == 0) return;
  const size_t blocks = (offset + len + block - 1) / block;
  if (blocks <= prepared_blocks_) return;
  prepared_blocks_ = blocks;
  rocksdb::FSWritableFile* base = base_.get();
  Ordered("preallocate", [base, offset, len, options] {
    base->PrepareWrite(offset, len, options, nullptr);
    return rocksdb::IOStatus::OK();
  }).PermitUncheckedError();  // A failure is sticky; the next call says it.
}

void UringWritableFile::SetPreallocationBlockSize(size_t size) {
  rocksdb::FSWritableFile::SetPreallocationBlockSize(size);
  rocksdb::FSWritableFile* base = base_.get();
  Ordered("set preallocation block size", [base, size] {
    base->SetPreallocationBlockSize(size);
    return rocksdb::IOStatus::OK();
  }).PermitUncheckedError();
}

void UringWritableFile::GetPreallocationStatus(size_t* block_size,
                                               size_t* last_allocated_block) {
  *block_size = preallocation_block_size();
  *last_allocated_block = prepared_blocks_;
}

uint64_t UringWritableFile::GetFileSize(const rocksdb::IOOptions& options,
                                        rocksdb::IODebugContext* dbg) {
  if (write_behind_) return size_.load(std::memory_order_relaxed);
  return base_->GetFileSize(options, dbg);
}

bool UringWritableFile::IsSyncThreadSafe() const {
  return base_->IsSyncThreadSafe();
}

bool UringWritableFile::use_direct_io() const { return direct_; }

size_t UringWritableFile::GetRequiredBufferAlignment() const {
  return base_->GetRequiredBufferAlignment();
}

void UringWritableFile::SetWriteLifeTimeHint(
    rocksdb::Env::WriteLifeTimeHint hint) {
  rocksdb::FSWritableFile::SetWriteLifeTimeHint(hint);
  base_->SetWriteLifeTimeHint(hint);
}

size_t UringWritableFile::GetUniqueId(char* id, size_t max_size) const {
  return base_->GetUniqueId(id, max_size);
}

}  // namespace uringfs
