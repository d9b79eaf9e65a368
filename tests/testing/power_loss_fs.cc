#include "tests/testing/power_loss_fs.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

namespace uringfs {
namespace testing {

namespace {

using Shared = PowerLossFs::Shared;
using FileState = PowerLossFs::FileState;

rocksdb::IOStatus PowerLost(const std::string& what) {
  return rocksdb::IOStatus::IOError("power lost", what);
}

// Runs `op` (a mutation of the base) unless the power is off; PowerOff()
// waits for it.
template <typename Op>
rocksdb::IOStatus Gated(Shared& shared, const std::string& what, Op op) {
  absl::ReaderMutexLock l(&shared.gate);
  if (shared.off) return PowerLost(what);
  return op();
}

class PowerLossWritableFile final : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  PowerLossWritableFile(std::string fname,
                        std::unique_ptr<rocksdb::FSWritableFile> base,
                        std::shared_ptr<Shared> shared,
                        std::shared_ptr<FileState> state)
      : rocksdb::FSWritableFileOwnerWrapper(std::move(base)),
        fname_(std::move(fname)),
        shared_(std::move(shared)),
        state_(std::move(state)) {
    absl::MutexLock l(&shared_->mu);
    ++state_->open_handles;
  }

  ~PowerLossWritableFile() override {
    if (!closed_) Close(rocksdb::IOOptions(), nullptr).PermitUncheckedError();
  }

  rocksdb::IOStatus Append(const rocksdb::Slice& data,
                           const rocksdb::IOOptions& options,
                           rocksdb::IODebugContext* dbg) override {
    return Gated(*shared_, fname_, [&] {
      rocksdb::IOStatus s = target()->Append(data, options, dbg);
      if (s.ok()) Grow(data.size());
      return s;
    });
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& data,
                           const rocksdb::IOOptions& options,
                           const rocksdb::DataVerificationInfo& info,
                           rocksdb::IODebugContext* dbg) override {
    return Gated(*shared_, fname_, [&] {
      rocksdb::IOStatus s = target()->Append(data, options, info, dbg);
      if (s.ok()) Grow(data.size());
      return s;
    });
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data,
                                     uint64_t offset,
                                     const rocksdb::IOOptions& options,
                                     rocksdb::IODebugContext* dbg) override {
    return Gated(*shared_, fname_, [&] {
      rocksdb::IOStatus s =
          target()->PositionedAppend(data, offset, options, dbg);
      if (s.ok()) GrowTo(offset + data.size());
      return s;
    });
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data,
                                     uint64_t offset,
                                     const rocksdb::IOOptions& options,
                                     const rocksdb::DataVerificationInfo& info,
                                     rocksdb::IODebugContext* dbg) override {
    return Gated(*shared_, fname_, [&] {
      rocksdb::IOStatus s =
          target()->PositionedAppend(data, offset, options, info, dbg);
      if (s.ok()) GrowTo(offset + data.size());
      return s;
    });
  }
  rocksdb::IOStatus Truncate(uint64_t size, const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override {
    return Gated(*shared_, fname_, [&] {
      rocksdb::IOStatus s = target()->Truncate(size, options, dbg);
      if (s.ok()) {
        absl::MutexLock l(&shared_->mu);
        state_->size = size;
        state_->synced_size = std::min(state_->synced_size, size);
      }
      return s;
    });
  }
  // Releases the descriptor even after the power is gone; see the header.
  rocksdb::IOStatus Close(const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* dbg) override {
    if (closed_) return rocksdb::IOStatus::OK();
    closed_ = true;
    bool off;
    rocksdb::IOStatus s;
    {
      absl::ReaderMutexLock l(&shared_->gate);
      off = shared_->off;
      s = target()->Close(options, dbg);
    }
    {
      absl::MutexLock l(&shared_->mu);
      --state_->open_handles;
    }
    return off ? PowerLost(fname_) : s;
  }
  rocksdb::IOStatus Flush(const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* dbg) override {
    return Gated(*shared_, fname_,
                 [&] { return target()->Flush(options, dbg); });
  }
  rocksdb::IOStatus Sync(const rocksdb::IOOptions& options,
                         rocksdb::IODebugContext* dbg) override {
    return SyncWith([&] { return target()->Sync(options, dbg); });
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* dbg) override {
    return SyncWith([&] { return target()->Fsync(options, dbg); });
  }
  rocksdb::IOStatus RangeSync(uint64_t offset, uint64_t nbytes,
                              const rocksdb::IOOptions& options,
                              rocksdb::IODebugContext* dbg) override {
    return Gated(*shared_, fname_, [&] {
      return target()->RangeSync(offset, nbytes, options, dbg);
    });
  }
  rocksdb::IOStatus Allocate(uint64_t offset, uint64_t len,
                             const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override {
    return Gated(*shared_, fname_,
                 [&] { return target()->Allocate(offset, len, options, dbg); });
  }
  void PrepareWrite(size_t offset, size_t len,
                    const rocksdb::IOOptions& options,
                    rocksdb::IODebugContext* dbg) override {
    Gated(*shared_, fname_, [&] {
      target()->PrepareWrite(offset, len, options, dbg);
      return rocksdb::IOStatus::OK();
    }).PermitUncheckedError();
  }

 private:
  void Grow(uint64_t n) {
    absl::MutexLock l(&shared_->mu);
    state_->size += n;
  }
  void GrowTo(uint64_t end) {
    absl::MutexLock l(&shared_->mu);
    state_->size = std::max(state_->size, end);
  }
  // Only bytes the base had before the sync started are known durable:
  // appends racing with it (IsSyncThreadSafe) may or may not be covered.
  template <typename Op>
  rocksdb::IOStatus SyncWith(Op op) {
    return Gated(*shared_, fname_, [&] {
      uint64_t before;
      {
        absl::MutexLock l(&shared_->mu);
        before = state_->size;
      }
      rocksdb::IOStatus s = op();
      if (s.ok()) {
        absl::MutexLock l(&shared_->mu);
        state_->synced_size =
            std::min(std::max(state_->synced_size, before), state_->size);
        state_->durable = true;
      }
      return s;
    });
  }

  const std::string fname_;
  const std::shared_ptr<Shared> shared_;
  const std::shared_ptr<FileState> state_;
  bool closed_ = false;
};

}  // namespace

std::string PowerLossReport::ToString() const {
  return std::to_string(files_tracked) + " files tracked, " +
         std::to_string(files_deleted) + " never synced (deleted), " +
         std::to_string(files_truncated) + " truncated by " +
         std::to_string(bytes_dropped) + " bytes";
}

PowerLossFs::PowerLossFs(std::shared_ptr<rocksdb::FileSystem> base)
    : rocksdb::FileSystemWrapper(base), shared_(std::make_shared<Shared>()) {}

void PowerLossFs::PowerOff() {
  absl::MutexLock l(&shared_->gate);
  shared_->off = true;
}

bool PowerLossFs::powered_off() const {
  absl::ReaderMutexLock l(&shared_->gate);
  return shared_->off;
}

uint64_t PowerLossFs::SyncedSize(const std::string& fname) const {
  absl::MutexLock l(&shared_->mu);
  auto it = shared_->files.find(fname);
  return it == shared_->files.end() ? 0 : it->second->synced_size;
}

rocksdb::IOStatus PowerLossFs::DropUnsyncedData(PowerLossReport* report) {
  if (!powered_off()) {
    return rocksdb::IOStatus::InvalidArgument(
        "DropUnsyncedData: call PowerOff() first");
  }
  PowerLossReport r;
  absl::MutexLock l(&shared_->mu);
  for (const auto& [name, st] : shared_->files) {
    if (st->open_handles > 0) {
      return rocksdb::IOStatus::InvalidArgument(
          "DropUnsyncedData: still open (destroy the database first)", name);
    }
  }
  const rocksdb::IOOptions io;
  for (const auto& [name, st] : shared_->files) {
    ++r.files_tracked;
    if (!st->durable) {
      rocksdb::IOStatus s = target()->DeleteFile(name, io, nullptr);
      if (!s.ok() && !s.IsNotFound() && !s.IsPathNotFound()) return s;
      ++r.files_deleted;
      continue;
    }
    uint64_t actual = 0;
    rocksdb::IOStatus s = target()->GetFileSize(name, io, &actual, nullptr);
    if (!s.ok()) return s;
    if (actual > st->synced_size) {
      // RocksDB 7.8.3's POSIX file system has no Truncate by name; the base
      // is a local file system, so truncate(2) does it.
      if (::truncate(name.c_str(), static_cast<off_t>(st->synced_size)) != 0) {
        return rocksdb::IOStatus::IOError(
            std::string("truncate: ") + std::strerror(errno), name);
      }
      ++r.files_truncated;
      r.bytes_dropped += actual - st->synced_size;
    }
  }
  shared_->files.clear();
  if (report != nullptr) *report = r;
  return rocksdb::IOStatus::OK();
}

rocksdb::IOStatus PowerLossFs::NewWritableFile(
    const std::string& fname, const rocksdb::FileOptions& file_opts,
    std::unique_ptr<rocksdb::FSWritableFile>* result,
    rocksdb::IODebugContext* dbg) {
  return Gated(*shared_, fname, [&] {
    rocksdb::IOStatus s =
        target()->NewWritableFile(fname, file_opts, result, dbg);
    if (!s.ok()) return s;
    auto state = std::make_shared<FileState>();  // Created (or emptied) now.
    {
      absl::MutexLock l(&shared_->mu);
      shared_->files[fname] = state;
    }
    result->reset(
        new PowerLossWritableFile(fname, std::move(*result), shared_, state));
    return s;
  });
}

rocksdb::IOStatus PowerLossFs::ReopenWritableFile(
    const std::string& fname, const rocksdb::FileOptions& file_opts,
    std::unique_ptr<rocksdb::FSWritableFile>* result,
    rocksdb::IODebugContext* dbg) {
  return Gated(*shared_, fname, [&] {
    const bool existed =
        target()->FileExists(fname, rocksdb::IOOptions(), dbg).ok();
    rocksdb::IOStatus s =
        target()->ReopenWritableFile(fname, file_opts, result, dbg);
    if (!s.ok()) return s;
    std::shared_ptr<FileState> state;
    {
      absl::MutexLock l(&shared_->mu);
      auto it = shared_->files.find(fname);
      if (it != shared_->files.end()) {
        state = it->second;
      } else {
        state = std::make_shared<FileState>();
        if (existed) {  // Untracked: all of it was on disk before.
          state->size = (*result)->GetFileSize(rocksdb::IOOptions(), dbg);
          state->synced_size = state->size;
          state->durable = true;
        }
        shared_->files[fname] = state;
      }
    }
    result->reset(
        new PowerLossWritableFile(fname, std::move(*result), shared_, state));
    return s;
  });
}

rocksdb::IOStatus PowerLossFs::ReuseWritableFile(
    const std::string& fname, const std::string& old_fname,
    const rocksdb::FileOptions& file_opts,
    std::unique_ptr<rocksdb::FSWritableFile>* result,
    rocksdb::IODebugContext* dbg) {
  return Gated(*shared_, fname, [&] {
    rocksdb::IOStatus s =
        target()->ReuseWritableFile(fname, old_fname, file_opts, result, dbg);
    if (!s.ok()) return s;
    // Renamed, then rewritten from offset 0: the old name's durability
    // carries over, its old bytes count as lost (stricter than reality).
    auto state = std::make_shared<FileState>();
    {
      absl::MutexLock l(&shared_->mu);
      auto it = shared_->files.find(old_fname);
      state->durable = it == shared_->files.end() || it->second->durable;
      if (it != shared_->files.end()) shared_->files.erase(it);
      shared_->files[fname] = state;
    }
    result->reset(
        new PowerLossWritableFile(fname, std::move(*result), shared_, state));
    return s;
  });
}

rocksdb::IOStatus PowerLossFs::NewRandomRWFile(
    const std::string& fname, const rocksdb::FileOptions& file_opts,
    std::unique_ptr<rocksdb::FSRandomRWFile>* result,
    rocksdb::IODebugContext* dbg) {
  return Gated(*shared_, fname, [&] {
    return target()->NewRandomRWFile(fname, file_opts, result, dbg);
  });
}

rocksdb::IOStatus PowerLossFs::NewDirectory(
    const std::string& name, const rocksdb::IOOptions& io_opts,
    std::unique_ptr<rocksdb::FSDirectory>* result,
    rocksdb::IODebugContext* dbg) {
  return Gated(*shared_, name, [&] {
    return target()->NewDirectory(name, io_opts, result, dbg);
  });
}

rocksdb::IOStatus PowerLossFs::DeleteFile(const std::string& fname,
                                          const rocksdb::IOOptions& options,
                                          rocksdb::IODebugContext* dbg) {
  return Gated(*shared_, fname, [&] {
    rocksdb::IOStatus s = target()->DeleteFile(fname, options, dbg);
    if (s.ok()) {
      absl::MutexLock l(&shared_->mu);
      shared_->files.erase(fname);
    }
    return s;
  });
}

rocksdb::IOStatus PowerLossFs::Truncate(const std::string& fname, size_t size,
                                        const rocksdb::IOOptions& options,
                                        rocksdb::IODebugContext* dbg) {
  return Gated(*shared_, fname, [&] {
    rocksdb::IOStatus s = target()->Truncate(fname, size, options, dbg);
    if (s.ok()) {
      absl::MutexLock l(&shared_->mu);
      auto it = shared_->files.find(fname);
      if (it != shared_->files.end()) {
        it->second->size = size;
        it->second->synced_size =
            std::min<uint64_t>(it->second->synced_size, size);
      }
    }
    return s;
  });
}

rocksdb::IOStatus PowerLossFs::CreateDir(const std::string& dirname,
                                         const rocksdb::IOOptions& options,
                                         rocksdb::IODebugContext* dbg) {
  return Gated(*shared_, dirname,
               [&] { return target()->CreateDir(dirname, options, dbg); });
}

rocksdb::IOStatus PowerLossFs::CreateDirIfMissing(
    const std::string& dirname, const rocksdb::IOOptions& options,
    rocksdb::IODebugContext* dbg) {
  return Gated(*shared_, dirname, [&] {
    return target()->CreateDirIfMissing(dirname, options, dbg);
  });
}

rocksdb::IOStatus PowerLossFs::DeleteDir(const std::string& dirname,
                                         const rocksdb::IOOptions& options,
                                         rocksdb::IODebugContext* dbg) {
  return Gated(*shared_, dirname,
               [&] { return target()->DeleteDir(dirname, options, dbg); });
}

rocksdb::IOStatus PowerLossFs::RenameFile(const std::string& src,
                                          const std::string& dst,
                                          const rocksdb::IOOptions& options,
                                          rocksdb::IODebugContext* dbg) {
  return Gated(*shared_, src, [&] {
    rocksdb::IOStatus s = target()->RenameFile(src, dst, options, dbg);
    if (s.ok()) {
      absl::MutexLock l(&shared_->mu);
      auto it = shared_->files.find(src);
      if (it != shared_->files.end()) {
        shared_->files[dst] = it->second;
        shared_->files.erase(src);
      } else {
        shared_->files.erase(dst);  // Now an untracked file's bytes.
      }
    }
    return s;
  });
}

rocksdb::IOStatus PowerLossFs::LinkFile(const std::string& src,
                                        const std::string& dst,
                                        const rocksdb::IOOptions& options,
                                        rocksdb::IODebugContext* dbg) {
  return Gated(*shared_, src, [&] {
    rocksdb::IOStatus s = target()->LinkFile(src, dst, options, dbg);
    if (s.ok()) {
      absl::MutexLock l(&shared_->mu);
      auto it = shared_->files.find(src);
      if (it != shared_->files.end()) {
        shared_->files[dst] = it->second;  // One inode, one state.
      } else {
        shared_->files.erase(dst);
      }
    }
    return s;
  });
}

}  // namespace testing
}  // namespace uringfs
