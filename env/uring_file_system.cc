#include "env/uring_file_system.h"

#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <functional>
#include <unordered_set>
#include <utility>

#include "env/async_read_handle.h"
#include "env/file_class.h"
#include "env/counter.h"
#include "env/io_error.h"
#include "env/io_guard.h"
#include "env/open_for_read.h"
#include "env/random_rw_file.h"
#include "env/option_table.h"
#include "env/sequential_file.h"
#include "env/stats_logger.h"
#include "env/writable_file.h"
#include "rocksdb/env.h"
#include "uringfs/uringfs.h"

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


void CollectWriteStats(const WriteScheduler& w, UringFsStats* s) {
  const WriteCounters& c = w.counters();
  s->appends_queued = Get(c.appends_queued);
  s->appends_direct = Get(c.appends_direct);
  s->bytes_queued = Get(c.bytes_queued);
  s->bytes_direct = Get(c.bytes_direct);
  s->write_drains = Get(c.drains);
  s->write_errors = Get(c.write_errors);
  s->writes_cancelled = Get(c.cancelled);
  s->budget_waits = w.budget().waits();
  s->queued_bytes = w.budget().queued_bytes();
  s->peak_queued_bytes = w.budget().peak_queued_bytes();
  s->max_queued_bytes = w.budget().max_total_bytes();
  s->max_queued_bytes_per_file = w.budget().max_file_bytes();
  const wq::QueueStats q = WriteScheduler::QueueStats();
  s->write_workers = static_cast<uint64_t>(q.bound.workers);
  s->creds_switches = q.creds_switches;
  const CancelCounters& cc = w.tasks()->home().counters();
  s->cancels_cancelled = Get(cc.cancelled);
  s->cancels_running = Get(cc.running);
  s->cancels_not_found = Get(cc.not_found);
  s->async_reads_cancelled = Get(cc.reads_cancelled);
}

// The counters of `rc`, of engine `e` and of write scheduler `w` (either may
// be null: no file opened yet). Sets nothing up.
UringFsStats CollectStats(const uring::ReadEngine* e, const WriteScheduler* w,
                          const RocksReadCounters& rc) {
  UringFsStats s;
  if (w != nullptr) CollectWriteStats(*w, &s);
  s.reads = Get(rc.reads);
  s.multi_reads = Get(rc.multi_reads);
  s.multi_read_requests = Get(rc.multi_read_requests);
  s.multi_read_nanos = Get(rc.multi_read_nanos);
  s.async_reads = Get(rc.async_reads);
  if (e == nullptr) {
    s.io_uring = "io_uring: not probed yet (no file opened)";
    return s;
  }
  const uring::ReadCounters& c = e->counters();
  s.io_uring = e->features().Describe();
  s.io_uring_in_use = e->features().usable();
  s.ops_uring = Get(c.ops_uring);
  s.ops_pread = Get(c.ops_pread);
  s.ops_cached = Get(c.ops_cached);
  s.sqes_submitted = Get(c.submitted);
  s.resubmitted = Get(c.resubmitted);
  s.rings_created = e->rings_created();
  s.ring_setup_failures = Get(c.ring_failures);
  s.rings_abandoned = Get(c.rings_abandoned);
  s.rescued = Get(c.rescued);
  if (std::shared_ptr<uring::AsyncReader> a = e->existing_async_reader()) {
    s.async_submitted = a->submitted();
    s.async_sync_fallbacks = a->sync_fallbacks();
    s.async_cancels = a->cancels_sent();
    s.rescued += a->rescued();
  }
  return s;
}

}  // namespace

UringFileSystem::UringFileSystem(const UringFsOptions& options,
                                 std::shared_ptr<rocksdb::FileSystem> base,
                                 std::shared_ptr<uring::FaultInjector> faults)
    : rocksdb::FileSystemWrapper(std::move(base)),
      options_(options),
      faults_(std::move(faults)),
      counters_(std::make_shared<RocksReadCounters>()) {
  RegisterOptions(&options_, &internal::RocksDbTypeInfo());
}

UringFileSystem::~UringFileSystem() {
  std::shared_ptr<WriteScheduler> w;
  {
    absl::MutexLock l(&mu_);
    w = writes_;
  }
  if (w != nullptr) w->Shutdown(ShutdownMode::kDrain);
}

void UringFileSystem::StartLocked() const {
  if (engine_ != nullptr) return;
  engine_ = std::make_shared<uring::ReadEngine>(options_.use_io_uring,
                                                options_.queue_depth, faults_);
  writes_ = std::make_shared<WriteScheduler>(options_);
  std::weak_ptr<uring::ReadEngine> engine = engine_;
  writes_->tasks()->home().SetReadCanceller([engine](uint64_t task_id) {
    std::shared_ptr<uring::ReadEngine> e = engine.lock();
    std::shared_ptr<uring::AsyncReader> r =
        e == nullptr ? nullptr : e->existing_async_reader();
    return r == nullptr ? size_t{0} : r->CancelOwned(task_id);
  });
  // Validated when the options were set.
  internal::ParseFileClasses(options_.write_behind, &write_behind_bits_)
      .PermitUncheckedError();
}

std::shared_ptr<uring::ReadEngine> UringFileSystem::engine() const {
  absl::MutexLock l(&mu_);
  StartLocked();
  return engine_;
}

std::shared_ptr<WriteScheduler> UringFileSystem::writes(
    uint32_t* behind_bits) const {
  absl::MutexLock l(&mu_);
  StartLocked();
  if (behind_bits != nullptr) *behind_bits = write_behind_bits_;
  return writes_;
}

rocksdb::Status UringFileSystem::ConfigureOptions(
    const rocksdb::ConfigOptions& config_options,
    const std::unordered_map<std::string, std::string>& opts_map,
    std::unordered_map<std::string, std::string>* unused) {
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
  if (!writes()->tasks()->shut_down()) return rocksdb::IOStatus::OK();
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
      result->reset(new UringRandomAccessFile(fname, fd, t, e, counters_,
                                              writes()->tasks()));
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

rocksdb::IOStatus UringFileSystem::GetFileSize(const std::string& fname,
                                               const rocksdb::IOOptions& options,
                                               uint64_t* file_size,
                                               rocksdb::IODebugContext* dbg) {
  rocksdb::IOStatus s = NoThrow("uringfs GetFileSize", [&] {
    writes()->DrainByName(fname);
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
  if (!s.ok() || *result == nullptr) return s;
  return NoThrow("uringfs NewLogger", [&] {
    std::shared_ptr<uring::ReadEngine> e = engine();
    std::shared_ptr<WriteScheduler> w = writes();
    LogUnconditionally(result->get(), "uringfs: %s",
                       e->features().Describe().c_str());
    std::shared_ptr<RocksReadCounters> c = counters_;
    *result = std::make_shared<StatsLogger>(*result, [e, w, c] {
      return CollectStats(e.get(), w.get(), *c).ToString();
    });
    return rocksdb::IOStatus::OK();
  });
}

UringFsStats UringFileSystem::GetStats() const {
  std::shared_ptr<uring::ReadEngine> e;
  std::shared_ptr<WriteScheduler> w;
  {
    absl::MutexLock l(&mu_);
    e = engine_;
    w = writes_;
  }
  return CollectStats(e.get(), w.get(), *counters_);
}

std::string UringFsStats::ToString() const {
  const std::pair<const char*, uint64_t> fields[] = {
      {"reads", reads},
      {"multi_reads", multi_reads},
      {"multi_read_requests", multi_read_requests},
      {"multi_read_nanos", multi_read_nanos},
      {"async_reads", async_reads},
      {"ops_uring", ops_uring},
      {"ops_pread", ops_pread},
      {"ops_cached", ops_cached},
      {"sqes_submitted", sqes_submitted},
      {"resubmitted", resubmitted},
      {"rings_created", rings_created},
      {"ring_setup_failures", ring_setup_failures},
      {"rings_abandoned", rings_abandoned},
      {"rescued", rescued},
      {"async_submitted", async_submitted},
      {"async_sync_fallbacks", async_sync_fallbacks},
      {"async_cancels", async_cancels},
      {"appends_queued", appends_queued},
      {"appends_direct", appends_direct},
      {"bytes_queued", bytes_queued},
      {"bytes_direct", bytes_direct},
      {"budget_waits", budget_waits},
      {"queued_bytes", queued_bytes},
      {"peak_queued_bytes", peak_queued_bytes},
      {"max_queued_bytes", max_queued_bytes},
      {"max_queued_bytes_per_file", max_queued_bytes_per_file},
      {"write_drains", write_drains},
      {"write_errors", write_errors},
      {"writes_cancelled", writes_cancelled},
      {"write_workers", write_workers},
      {"creds_switches", creds_switches},
      {"cancels_cancelled", cancels_cancelled},
      {"cancels_running", cancels_running},
      {"cancels_not_found", cancels_not_found},
      {"async_reads_cancelled", async_reads_cancelled},
  };
  char avg[96];
  std::snprintf(avg, sizeof(avg),
                "%.2f multi_read_requests_per_second=%.0f",
                AverageRequestsPerMultiRead(), MultiReadRequestsPerSecond());
  std::string text = std::string("io_uring_in_use=") +
                     (io_uring_in_use ? "1" : "0") +
                     " avg_requests_per_multi_read=" + avg;
  for (const auto& [name, value] : fields) {
    text += std::string(" ") + name + "=" + std::to_string(value);
  }
  return text + " (" + io_uring + ")";
}

rocksdb::Status GetUringFsStats(const rocksdb::FileSystem& fs,
                                UringFsStats* stats) {
  const auto* uring_fs = fs.CheckedCast<UringFileSystem>();
  if (uring_fs == nullptr) {
    return rocksdb::Status::InvalidArgument(
        std::string("uringfs: not a uringfs file system: ") + fs.Name());
  }
  *stats = uring_fs->GetStats();
  return rocksdb::Status::OK();
}

namespace {

// The write scheduler of `fs`, or InvalidArgument if it is not uringfs.
rocksdb::Status SchedulerOf(rocksdb::FileSystem& fs,
                            std::shared_ptr<WriteScheduler>* w) {
  auto* uring_fs = fs.CheckedCast<UringFileSystem>();
  if (uring_fs == nullptr) {
    return rocksdb::Status::InvalidArgument(
        std::string("uringfs: not a uringfs file system: ") + fs.Name());
  }
  *w = uring_fs->scheduler();
  return rocksdb::Status::OK();
}

}  // namespace

rocksdb::Status NewIoTask(rocksdb::FileSystem& fs,
                          std::shared_ptr<IoTask>* task) {
  std::shared_ptr<WriteScheduler> w;
  rocksdb::Status s = SchedulerOf(fs, &w);
  if (!s.ok()) return s;
  *task = w->tasks()->NewTask();
  if (*task == nullptr) {
    return rocksdb::Status::Aborted("uringfs: the file system is shut down");
  }
  return rocksdb::Status::OK();
}

rocksdb::Status DefaultIoTask(rocksdb::FileSystem& fs,
                              std::shared_ptr<IoTask>* task) {
  std::shared_ptr<WriteScheduler> w;
  rocksdb::Status s = SchedulerOf(fs, &w);
  if (s.ok()) *task = w->tasks()->default_task();
  return s;
}

rocksdb::Status ShutdownUringFileSystem(rocksdb::FileSystem& fs,
                                        ShutdownMode mode) {
  std::shared_ptr<WriteScheduler> w;
  rocksdb::Status s = SchedulerOf(fs, &w);
  if (s.ok()) w->Shutdown(mode);
  return s;
}

rocksdb::Status ValidateUringFsOptions(const UringFsOptions& options) {
  for (const internal::OptionSpec& spec : internal::AllOptionSpecs()) {
    const void* field = reinterpret_cast<const char*>(&options) + spec.offset;
    UringFsOptions scratch;
    rocksdb::Status s = internal::ParseOptionValue(
        spec, internal::FormatOptionValue(spec, field),
        reinterpret_cast<char*>(&scratch) + spec.offset);
    if (!s.ok()) return s;
  }
  return rocksdb::Status::OK();
}

rocksdb::Status NewUringFileSystem(
    const UringFsOptions& options,
    std::shared_ptr<rocksdb::FileSystem>* result) {
  result->reset();
  rocksdb::Status s = ValidateUringFsOptions(options);
  if (!s.ok()) return s;
  *result = std::make_shared<UringFileSystem>(options,
                                              rocksdb::FileSystem::Default());
  return rocksdb::Status::OK();
}

}  // namespace uringfs
