#include "env/uring_file_system.h"

#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <functional>
#include <unordered_set>
#include <utility>

#include "base/fork_generation.h"
#include "env/async_read_handle.h"
#include "env/file_class.h"
#include "env/fs_stats.h"
#include "env/io_error.h"
#include "env/io_guard.h"
#include "env/open_for_read.h"
#include "env/option_table.h"
#include "env/process_queue.h"
#include "env/random_access_file.h"
#include "env/random_rw_file.h"
#include "env/sequential_file.h"
#include "env/stats_logger.h"
#include "env/writable_file.h"
#include "rocksdb/env.h"
#include "uringfs/version.h"

namespace uringfs {
namespace {

// A new logger does not know the DB's log level yet (RocksDB sets it right
// after creating it) and may drop INFO lines; the level-less Logv writes.
void LogUnconditionally(rocksdb::Logger* logger, const char* format, ...) {
  va_list ap;
  va_start(ap, format);
  logger->Logv(format, ap);
  va_end(ap);
}

}  // namespace

UringFileSystem::UringFileSystem(const UringFsOptions& options,
                                 std::shared_ptr<rocksdb::FileSystem> base,
                                 std::shared_ptr<uring::FaultInjector> faults)
    : FileSystemBase(std::move(base)),
      options_(options),
      generation_(ForkGeneration()),
      faults_(std::move(faults)),
      counters_(std::make_shared<RocksReadCounters>()),
      read_ahead_(std::make_shared<ReadAheadShared>()) {
  RegisterOptions(&options_, &internal::RocksDbTypeInfo());
}

UringFileSystem::~UringFileSystem() {
  // In a child of fork() the tasks' work is the parent's: nothing to wait
  // for here, and nothing that may be waited for.
  if (ForkedSince(generation_)) return;
  std::shared_ptr<FsTasks> t;
  {
    absl::MutexLock l(&mu_);
    t = tasks_;
  }
  if (t != nullptr) t->Shutdown(ShutdownMode::kDrain);
}

void UringFileSystem::StartLocked() const {
  if (engine_ != nullptr) return;
  engine_ = std::make_shared<uring::ReadEngine>(
      options_.use_io_uring, options_.ring_single_reads, options_.queue_depth,
      faults_);
  tasks_ = std::make_shared<FsTasks>(&ProcessQueue(), engine_);
  read_ahead_->max_bytes.store(
      static_cast<int64_t>(options_.max_read_ahead_bytes),
      std::memory_order_relaxed);
  // Validated when the options were set.
  internal::ParseFileClasses(options_.write_behind, &write_behind_bits_)
      .PermitUncheckedError();
}

std::shared_ptr<uring::ReadEngine> UringFileSystem::engine() const {
  absl::MutexLock l(&mu_);
  StartLocked();
  return engine_;
}

std::shared_ptr<FsTasks> UringFileSystem::tasks() const {
  absl::MutexLock l(&mu_);
  StartLocked();
  return tasks_;
}

std::shared_ptr<WriteScheduler> UringFileSystem::writes(
    uint32_t* behind_bits) const {
  absl::MutexLock l(&mu_);
  StartLocked();
  if (writes_ == nullptr) {
    writes_ = std::make_shared<WriteScheduler>(options_, tasks_);
  }
  if (behind_bits != nullptr) *behind_bits = write_behind_bits_;
  return writes_;
}

rocksdb::Status UringFileSystem::ConfigureOptions(
    const rocksdb::ConfigOptions& config_options,
    const std::unordered_map<std::string, std::string>& opts_map,
    std::unordered_map<std::string, std::string>* unused) {
  if (opts_map.count("target") != 0) {
    // uringfs reads and writes files itself (io_uring, its worker queue);
    // a stacked target file system would see some calls and not others.
    return rocksdb::Status::InvalidArgument(
        "uringfs: option 'target' is not supported: uringfs does its own "
        "file I/O and can only run over the default POSIX file system");
  }
  if (!config_options.ignore_unknown_options && unused == nullptr) {
    std::unordered_set<std::string> known;
    rocksdb::Status s = GetOptionNames(config_options, &known);
    if (!s.ok()) return s;
    for (const auto& [key, value] : opts_map) {
      if (known.count(key) == 0) return internal::UnknownOptionError(key);
    }
  }
  {
    absl::MutexLock l(&mu_);
    if (engine_ != nullptr && !opts_map.empty()) {
      return rocksdb::Status::InvalidArgument(
          "uringfs: options can only change before the file system opens its "
          "first file");
    }
  }
  // Not under `mu_`: RocksDB's configuration may call back into this object.
  return rocksdb::FileSystemWrapper::ConfigureOptions(config_options, opts_map,
                                                      unused);
}

rocksdb::IOStatus UringFileSystem::CheckOpen(const std::string& fname) const {
  if (ForkedSince(generation_)) {
    return rocksdb::IOStatus::IOError(
        "uringfs: this file system was created before fork(); create a new "
        "one in the child process to open",
        fname);
  }
  if (!tasks()->shut_down()) return rocksdb::IOStatus::OK();
  return IOErrorFromErrno("open (uringfs file system shut down)", fname,
                          ECANCELED);
}

rocksdb::IOStatus UringFileSystem::NewRandomAccessFile(
    const std::string& fname, const rocksdb::FileOptions& file_opts,
    std::unique_ptr<rocksdb::FSRandomAccessFile>* result,
    rocksdb::IODebugContext* dbg) {
  result->reset();
  rocksdb::IOStatus open = CheckOpen(fname);
  if (!open.ok()) return open;
  if (file_opts.use_mmap_reads && !file_opts.use_direct_reads) {
    return target()->NewRandomAccessFile(fname, file_opts, result, dbg);
  }
  return NoThrow("uringfs NewRandomAccessFile", [&] {
    std::shared_ptr<uring::ReadEngine> e = engine();
    uring::ReadTarget t;
    std::shared_ptr<SharedFd> fd;
    rocksdb::IOStatus s =
        OpenForRead(fname, file_opts.use_direct_reads, "random read", &t, &fd);
    if (s.ok()) {
      // Read ahead of asynchronous scans of direct-I/O files only: the
      // kernel reads ahead of buffered ones.
      std::shared_ptr<ReadAheadShared> ahead;
      if (t.direct && options_.max_read_ahead_bytes > 0) ahead = read_ahead_;
      result->reset(new UringRandomAccessFile(fname, fd, t, e, counters_,
                                              tasks(), std::move(ahead)));
    }
    return s;
  });
}

rocksdb::IOStatus UringFileSystem::NewSequentialFile(
    const std::string& fname, const rocksdb::FileOptions& file_opts,
    std::unique_ptr<rocksdb::FSSequentialFile>* result,
    rocksdb::IODebugContext* /*dbg*/) {
  result->reset();
  rocksdb::IOStatus open = CheckOpen(fname);
  if (!open.ok()) return open;
  return NoThrow("uringfs NewSequentialFile", [&] {
    std::shared_ptr<uring::ReadEngine> e = engine();
    uring::ReadTarget t;
    std::shared_ptr<SharedFd> fd;
    rocksdb::IOStatus s = OpenForRead(fname, file_opts.use_direct_reads,
                                      "sequential read", &t, &fd);
    if (s.ok()) result->reset(new UringSequentialFile(fname, fd, t, e));
    return s;
  });
}

rocksdb::IOStatus UringFileSystem::OpenWritable(
    const std::string& fname, const rocksdb::FileOptions& file_opts,
    std::unique_ptr<rocksdb::FSWritableFile>* result,
    const std::function<rocksdb::IOStatus()>& open_base) {
  result->reset();
  rocksdb::IOStatus s = CheckOpen(fname);
  if (s.ok()) s = open_base();
  if (!s.ok()) return s;
  return NoThrow("uringfs writable file", [&] {
    uint32_t behind_bits = 0;
    std::shared_ptr<WriteScheduler> w = writes(&behind_bits);
    std::shared_ptr<OpenInode> inode;
    rocksdb::IOStatus a = w->Attach(fname, &inode);
    if (!a.ok()) {
      result->reset();
      return a;
    }
    const bool behind = (FileClassOf(fname) & behind_bits) != 0;
    result->reset(new UringWritableFile(fname, std::move(*result), inode, w,
                                        behind, file_opts));
    return rocksdb::IOStatus::OK();
  });
}

rocksdb::IOStatus UringFileSystem::NewWritableFile(
    const std::string& fname, const rocksdb::FileOptions& file_opts,
    std::unique_ptr<rocksdb::FSWritableFile>* result,
    rocksdb::IODebugContext* dbg) {
  return OpenWritable(fname, file_opts, result, [&] {
    // It truncates: another handle's queued writes to the inode land first,
    // as they would have without write-behind.
    writes()->DrainByName(fname);
    return target()->NewWritableFile(fname, file_opts, result, dbg);
  });
}

rocksdb::IOStatus UringFileSystem::ReopenWritableFile(
    const std::string& fname, const rocksdb::FileOptions& file_opts,
    std::unique_ptr<rocksdb::FSWritableFile>* result,
    rocksdb::IODebugContext* dbg) {
  return OpenWritable(fname, file_opts, result, [&] {
    return target()->ReopenWritableFile(fname, file_opts, result, dbg);
  });
}

rocksdb::IOStatus UringFileSystem::ReuseWritableFile(
    const std::string& fname, const std::string& old_fname,
    const rocksdb::FileOptions& file_opts,
    std::unique_ptr<rocksdb::FSWritableFile>* result,
    rocksdb::IODebugContext* dbg) {
  return OpenWritable(fname, file_opts, result, [&] {
    writes()->DrainByName(old_fname);  // Its queued writes land first.
    return target()->ReuseWritableFile(fname, old_fname, file_opts, result,
                                       dbg);
  });
}

rocksdb::IOStatus UringFileSystem::NewRandomRWFile(
    const std::string& fname, const rocksdb::FileOptions& file_opts,
    std::unique_ptr<rocksdb::FSRandomRWFile>* result,
    rocksdb::IODebugContext* dbg) {
  rocksdb::IOStatus s = CheckOpen(fname);
  if (!s.ok()) return s;
  s = target()->NewRandomRWFile(fname, file_opts, result, dbg);
  if (!s.ok()) return s;
  return NoThrow("uringfs NewRandomRWFile", [&] {
    std::shared_ptr<WriteScheduler> w = writes();
    std::shared_ptr<OpenInode> inode;
    rocksdb::IOStatus a = w->Attach(fname, &inode);
    if (!a.ok()) {
      result->reset();
      return a;
    }
    result->reset(new UringRandomRWFile(std::move(*result), inode, w));
    return rocksdb::IOStatus::OK();
  });
}

rocksdb::IOStatus UringFileSystem::GetFileSize(
    const std::string& fname, const rocksdb::IOOptions& options,
    uint64_t* file_size, rocksdb::IODebugContext* dbg) {
  rocksdb::IOStatus s = NoThrow("uringfs GetFileSize", [&] {
    if (!ForkedSince(generation_)) writes()->DrainByName(fname);
    return rocksdb::IOStatus::OK();
  });
  if (!s.ok()) return s;
  return target()->GetFileSize(fname, options, file_size, dbg);
}

rocksdb::IOStatus UringFileSystem::Poll(std::vector<void*>& io_handles,
                                        size_t min_completions) {
  return PollAsyncReads(io_handles, min_completions);
}

rocksdb::IOStatus UringFileSystem::AbortIO(std::vector<void*>& io_handles) {
  return AbortAsyncReads(io_handles);
}

rocksdb::IOStatus UringFileSystem::NewLogger(
    const std::string& fname, const rocksdb::IOOptions& io_opts,
    std::shared_ptr<rocksdb::Logger>* result, rocksdb::IODebugContext* dbg) {
  rocksdb::IOStatus s = target()->NewLogger(fname, io_opts, result, dbg);
  if (!s.ok() || *result == nullptr || ForkedSince(generation_)) return s;
  return NoThrow("uringfs NewLogger", [&] {
    // The logger may outlive the file system: it keeps the parts whose
    // counters it writes at close (a database that logs also writes).
    std::shared_ptr<uring::ReadEngine> e = engine();
    std::shared_ptr<FsTasks> t = tasks();
    std::shared_ptr<WriteScheduler> w = writes();
    std::shared_ptr<RocksReadCounters> c = counters_;
    std::shared_ptr<ReadAheadShared> r = read_ahead_;
    LogUnconditionally(result->get(),
                       "uringfs: %s; uringfs version %s, "
                       "stats_dump_period_sec=%u",
                       e->features().Describe().c_str(), Version(),
                       options_.stats_dump_period_sec);
    *result = std::make_shared<StatsLogger>(
        *result,
        [e, t, w, c, r] {
          return CollectStats({c.get(), e.get(), w.get(), t.get(), r.get()})
              .ToString();
        },
        options_.stats_dump_period_sec);
    return rocksdb::IOStatus::OK();
  });
}

UringFsStats UringFileSystem::GetStats() const {
  std::shared_ptr<uring::ReadEngine> e;
  std::shared_ptr<FsTasks> t;
  std::shared_ptr<WriteScheduler> w;
  {
    absl::MutexLock l(&mu_);
    e = engine_;
    t = tasks_;
    w = writes_;
  }
  return CollectStats(
      {counters_.get(), e.get(), w.get(), t.get(), read_ahead_.get()});
}

}  // namespace uringfs
