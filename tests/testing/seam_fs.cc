#include "tests/testing/seam_fs.h"

#include <atomic>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace uringfs {
namespace testing {

rocksdb::IOStatus InjectedNoSpace() {
  rocksdb::IOStatus s =
      rocksdb::IOStatus::NoSpace("seam", "injected ENOSPC (No space left)");
  s.SetRetryable(true);  // As PosixFileSystem reports ENOSPC.
  return s;
}

rocksdb::IOStatus InjectedEio() {
  return rocksdb::IOStatus::IOError("seam",
                                    "injected EIO (Input/output error)");
}

namespace {

bool EndsWith(const std::string& s, const std::string& suffix) {
  return !suffix.empty() && s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

class Seam {
 public:
  struct Fault {
    std::string suffix;  // Empty: no fault for this op.
    int n = 0;
    rocksdb::IOStatus status;
  };

  void SetFault(SeamOp op, Fault f) {
    absl::MutexLock l(&mu_);
    faults_[static_cast<int>(op)] = std::move(f);
  }

  // The injected status for the `count`-th call of `op` on `fname`, or OK.
  rocksdb::IOStatus Check(SeamOp op, const std::string& fname, int count) {
    absl::MutexLock l(&mu_);
    const Fault& f = faults_[static_cast<int>(op)];
    if (!EndsWith(fname, f.suffix) || count != f.n)
      return rocksdb::IOStatus::OK();
    ++fired_;
    return f.status;
  }

  int fired() const {
    absl::MutexLock l(&mu_);
    return fired_;
  }

  void SetGate(std::string suffix) {
    absl::MutexLock l(&mu_);
    gate_suffix_ = std::move(suffix);
  }

  void SetDelay(std::string suffix, std::chrono::microseconds d) {
    absl::MutexLock l(&mu_);
    delay_suffix_ = std::move(suffix);
    delay_ = d;
  }

  // Called by every Append: the gate, then the delay.
  void BeforeAppend(const std::string& fname) {
    std::chrono::microseconds delay{0};
    {
      absl::MutexLock l(&mu_);
      if (EndsWith(fname, gate_suffix_)) {
        ++blocked_;
        auto open = [this, &fname]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return !EndsWith(fname, gate_suffix_);
        };
        mu_.Await(absl::Condition(&open));
        --blocked_;
      }
      if (EndsWith(fname, delay_suffix_)) delay = delay_;
    }
    if (delay.count() > 0) std::this_thread::sleep_for(delay);
  }

  int blocked() const {
    absl::MutexLock l(&mu_);
    return blocked_;
  }

  bool WaitForBlocked(int n, std::chrono::milliseconds timeout) const {
    absl::MutexLock l(&mu_);
    auto enough = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return blocked_ >= n;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&enough),
                                absl::FromChrono(timeout));
  }

 private:
  mutable absl::Mutex mu_;
  Fault faults_[kSeamOps] ABSL_GUARDED_BY(mu_);
  int fired_ ABSL_GUARDED_BY(mu_) = 0;
  std::string gate_suffix_ ABSL_GUARDED_BY(mu_);  // Empty: gate open.
  int blocked_ ABSL_GUARDED_BY(mu_) = 0;
  std::string delay_suffix_ ABSL_GUARDED_BY(mu_);
  std::chrono::microseconds delay_ ABSL_GUARDED_BY(mu_){0};
};

namespace {

class SeamWritableFile final : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  SeamWritableFile(std::string fname,
                   std::unique_ptr<rocksdb::FSWritableFile> target,
                   std::shared_ptr<Seam> seam)
      : rocksdb::FSWritableFileOwnerWrapper(std::move(target)),
        fname_(std::move(fname)),
        seam_(std::move(seam)) {}

  rocksdb::IOStatus Append(const rocksdb::Slice& data,
                           const rocksdb::IOOptions& options,
                           rocksdb::IODebugContext* dbg) override {
    seam_->BeforeAppend(fname_);
    rocksdb::IOStatus s = Injected(SeamOp::kAppend);
    return s.ok() ? target()->Append(data, options, dbg) : s;
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& data,
                           const rocksdb::IOOptions& options,
                           const rocksdb::DataVerificationInfo& info,
                           rocksdb::IODebugContext* dbg) override {
    seam_->BeforeAppend(fname_);
    rocksdb::IOStatus s = Injected(SeamOp::kAppend);
    return s.ok() ? target()->Append(data, options, info, dbg) : s;
  }
  rocksdb::IOStatus Sync(const rocksdb::IOOptions& options,
                         rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = Injected(SeamOp::kSync);
    return s.ok() ? target()->Sync(options, dbg) : s;
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = Injected(SeamOp::kFsync);
    return s.ok() ? target()->Fsync(options, dbg) : s;
  }
  rocksdb::IOStatus Close(const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* dbg) override {
    // A failed close still releases the descriptor (close(2) does), when the
    // wrapped handle is destroyed.
    rocksdb::IOStatus s = Injected(SeamOp::kClose);
    return s.ok() ? target()->Close(options, dbg) : s;
  }
  rocksdb::IOStatus Truncate(uint64_t size, const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = Injected(SeamOp::kTruncate);
    return s.ok() ? target()->Truncate(size, options, dbg) : s;
  }

 private:
  rocksdb::IOStatus Injected(SeamOp op) {
    const int count = ++calls_[static_cast<int>(op)];
    return seam_->Check(op, fname_, count);
  }

  const std::string fname_;
  const std::shared_ptr<Seam> seam_;
  // Sync may run concurrently with Append, hence atomics.
  std::atomic<int> calls_[kSeamOps] = {};
};

}  // namespace

SeamFileSystem::SeamFileSystem()
    : rocksdb::FileSystemWrapper(rocksdb::FileSystem::Default()),
      seam_(std::make_shared<Seam>()) {}

SeamFileSystem::~SeamFileSystem() = default;

void SeamFileSystem::FailNth(SeamOp op, const std::string& suffix, int n,
                             rocksdb::IOStatus status) {
  seam_->SetFault(op, Seam::Fault{suffix, n, std::move(status)});
}

int SeamFileSystem::fired() const { return seam_->fired(); }

void SeamFileSystem::CloseGate(const std::string& suffix) {
  seam_->SetGate(suffix);
}

void SeamFileSystem::OpenGate() { seam_->SetGate(""); }

int SeamFileSystem::blocked() const { return seam_->blocked(); }

bool SeamFileSystem::WaitForBlocked(int n,
                                    std::chrono::milliseconds timeout) const {
  return seam_->WaitForBlocked(n, timeout);
}

void SeamFileSystem::SetAppendDelay(const std::string& suffix,
                                    std::chrono::microseconds delay) {
  seam_->SetDelay(suffix, delay);
}

rocksdb::IOStatus SeamFileSystem::Wrap(
    const std::string& fname, rocksdb::IOStatus s,
    std::unique_ptr<rocksdb::FSWritableFile>* result) {
  if (s.ok()) {
    result->reset(new SeamWritableFile(fname, std::move(*result), seam_));
  }
  return s;
}

rocksdb::IOStatus SeamFileSystem::NewWritableFile(
    const std::string& fname, const rocksdb::FileOptions& options,
    std::unique_ptr<rocksdb::FSWritableFile>* result,
    rocksdb::IODebugContext* dbg) {
  return Wrap(fname, target()->NewWritableFile(fname, options, result, dbg),
              result);
}

rocksdb::IOStatus SeamFileSystem::ReopenWritableFile(
    const std::string& fname, const rocksdb::FileOptions& options,
    std::unique_ptr<rocksdb::FSWritableFile>* result,
    rocksdb::IODebugContext* dbg) {
  return Wrap(fname, target()->ReopenWritableFile(fname, options, result, dbg),
              result);
}

rocksdb::IOStatus SeamFileSystem::ReuseWritableFile(
    const std::string& fname, const std::string& old_fname,
    const rocksdb::FileOptions& options,
    std::unique_ptr<rocksdb::FSWritableFile>* result,
    rocksdb::IODebugContext* dbg) {
  return Wrap(
      fname,
      target()->ReuseWritableFile(fname, old_fname, options, result, dbg),
      result);
}

}  // namespace testing
}  // namespace uringfs
