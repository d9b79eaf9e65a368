#include "env/append_copies.h"

#include <utility>

namespace uringfs {

std::string AppendCopies::Copy(const rocksdb::Slice& data) {
  std::string buffer;
  {
    absl::MutexLock l(&mu_);
    // The smallest kept buffer that fits: large ones stay for large appends.
    size_t best = kept_.size();
    for (size_t i = 0; i < kept_.size(); ++i) {
      const size_t cap = kept_[i].capacity();
      if (cap >= data.size() &&
          (best == kept_.size() || cap < kept_[best].capacity())) {
        best = i;
      }
    }
    if (best != kept_.size()) {
      buffer = std::move(kept_[best]);
      kept_[best] = std::move(kept_.back());
      kept_.pop_back();
      kept_bytes_ -= buffer.capacity();
    }
  }
  buffer.assign(data.data(), data.size());
  return buffer;
}

void AppendCopies::Recycle(std::string buffer) noexcept {
  const size_t cap = buffer.capacity();
  absl::MutexLock l(&mu_);
  if (kept_bytes_ + cap > kKeptBytes) return;  // Freed on return.
  try {
    kept_.push_back(std::move(buffer));
  } catch (...) {
    return;  // Out of memory: not kept, freed on return.
  }
  kept_bytes_ += cap;
}

size_t AppendCopies::kept_bytes() const {
  absl::MutexLock l(&mu_);
  return kept_bytes_;
}

}  // namespace uringfs
