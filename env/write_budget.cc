#include "env/write_budget.h"

#include <algorithm>

namespace uringfs {

WriteBudget::WriteBudget(uint64_t max_total_bytes, uint64_t max_file_bytes)
    : max_total_(max_total_bytes), max_file_(max_file_bytes) {}

bool WriteBudget::Fits(const FileBudget* file, uint64_t bytes) const {
  const uint64_t in_file = file->queued_bytes.load(std::memory_order_relaxed);
  const bool file_ok = in_file == 0 || in_file + bytes <= max_file_;
  const bool total_ok = total_ == 0 || total_ + bytes <= max_total_;
  return file_ok && total_ok;
}

void WriteBudget::Acquire(FileBudget* file, uint64_t bytes) {
  absl::MutexLock l(&mu_);
  if (!Fits(file, bytes)) {
    ++waits_;
    struct Args {
      const WriteBudget* self;
      const FileBudget* file;
      uint64_t bytes;
    } args{this, file, bytes};
    mu_.Await(absl::Condition(
        +[](Args* a) ABSL_NO_THREAD_SAFETY_ANALYSIS {
          return a->self->Fits(a->file, a->bytes);  // Called under mu_.
        },
        &args));
  }
  total_ += bytes;
  peak_ = std::max(peak_, total_);
  file->queued_bytes.fetch_add(bytes, std::memory_order_relaxed);
}

void WriteBudget::Release(FileBudget* file, uint64_t bytes) {
  absl::MutexLock l(&mu_);
  total_ -= bytes;
  file->queued_bytes.fetch_sub(bytes, std::memory_order_relaxed);
}

uint64_t WriteBudget::queued_bytes() const {
  absl::MutexLock l(&mu_);
  return total_;
}

uint64_t WriteBudget::peak_queued_bytes() const {
  absl::MutexLock l(&mu_);
  return peak_;
}

uint64_t WriteBudget::waits() const {
  absl::MutexLock l(&mu_);
  return waits_;
}

}  // namespace uringfs
