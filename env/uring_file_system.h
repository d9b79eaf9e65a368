// -----------------------------------------------------------------------------
// env/uring_file_system.h
// -----------------------------------------------------------------------------
//
// `UringFileSystem` is the RocksDB-facing file system of uringfs: a
// `FileSystemWrapper` over a base file system (by default
// `FileSystem::Default()`).
//
//   * Random-access and sequential files read through the io_uring read path
//     (`uring::ReadEngine`), or its pread fallback; `Poll` and `AbortIO`
//     serve their `ReadAsync` handles. mmap reads stay with the base.
//   * Writable files (and in-place RandomRW files) wrap the base's handles
//     and order their work through the file system's `WriteScheduler` on the
//     process-wide worker queue: SST appends are written behind, every other
//     file is written before Flush returns (env/writable_file.h).
//     `GetFileSize` by name waits for the file's queued writes.
//   * The file system owns its tasks (`FsTasks`, uringfs/task.h) beside the
//     read engine and the write scheduler, and hands them to both sides:
//     writes queue under them, asynchronous reads are tagged with them.
//     Destroying the file system shuts its tasks down with kDrain.
//   * Directories and metadata are delegated to the base file system.
//   * In a child of fork(), a file system created before it opens nothing
//     (IOError saying so): its workers and rings are the parent's. Files
//     it opened before still read (with pread) but refuse to write; a file
//     system created in the child works normally.
//   * The info log RocksDB opens through this file system gets one line
//     saying whether reads use io_uring (and why not if they do not), with
//     uringfs's version, and a line with the counters every
//     `stats_dump_period_sec` seconds and at close (env/stats_logger.h).
//
// Options are registered with RocksDB's `Configurable` machinery under
// `UringFsOptions::kName()`, so `GetOptionString()` / `ConfigureFromString()`
// round-trip; an unknown key is `InvalidArgument` (RocksDB alone would say
// NotFound). Options can change only until the first file is opened (or a
// task is asked for); the read engine and the tasks are built then, from the
// options in force, and the write scheduler when the first file is opened
// for writing.
//
// Thread-safety: safe for concurrent use.

#ifndef URINGFS_ENV_URING_FILE_SYSTEM_H_
#define URINGFS_ENV_URING_FILE_SYSTEM_H_

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "env/fs_tasks.h"
#include "env/option_table.h"
#include "env/read_ahead.h"
#include "env/rocks_read_counters.h"
#include "env/rocksdb_api.h"
#include "env/uring/fault_injector.h"
#include "env/uring/read_engine.h"
#include "env/write_scheduler.h"
#include "rocksdb/file_system.h"
#include "uringfs/options.h"
#include "uringfs/stats.h"
#include "uringfs/task.h"

namespace uringfs {

class UringFileSystem final : public FileSystemBase {
 public:
  static const char* kClassName() { return "UringFileSystem"; }
  static const char* kNickName() { return "uringfs"; }

  // Creates a file system over `base`, which must not be null. `options`
  // must be valid (see `ValidateUringFsOptions`). `faults` is the read path's
  // test seam; production passes nullptr.
  UringFileSystem(const UringFsOptions& options,
                  std::shared_ptr<rocksdb::FileSystem> base,
                  std::shared_ptr<uring::FaultInjector> faults = nullptr);

  // Shuts the file system's tasks down with kDrain: queued writes complete.
  ~UringFileSystem() override;

  UringFileSystem(const UringFileSystem&) = delete;
  UringFileSystem& operator=(const UringFileSystem&) = delete;

  const char* Name() const override { return kClassName(); }
  const char* NickName() const override { return kNickName(); }

  // The options in force. Immutable once the file system is in use.
  const UringFsOptions& options() const { return options_; }

  rocksdb::IOStatus NewRandomAccessFile(
      const std::string& fname, const rocksdb::FileOptions& file_opts,
      std::unique_ptr<rocksdb::FSRandomAccessFile>* result,
      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus NewSequentialFile(
      const std::string& fname, const rocksdb::FileOptions& file_opts,
      std::unique_ptr<rocksdb::FSSequentialFile>* result,
      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus NewWritableFile(
      const std::string& fname, const rocksdb::FileOptions& file_opts,
      std::unique_ptr<rocksdb::FSWritableFile>* result,
      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReopenWritableFile(
      const std::string& fname, const rocksdb::FileOptions& file_opts,
      std::unique_ptr<rocksdb::FSWritableFile>* result,
      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReuseWritableFile(
      const std::string& fname, const std::string& old_fname,
      const rocksdb::FileOptions& file_opts,
      std::unique_ptr<rocksdb::FSWritableFile>* result,
      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus NewRandomRWFile(
      const std::string& fname, const rocksdb::FileOptions& file_opts,
      std::unique_ptr<rocksdb::FSRandomRWFile>* result,
      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus GetFileSize(const std::string& fname,
                                const rocksdb::IOOptions& options,
                                uint64_t* file_size,
                                rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus Poll(std::vector<void*>& io_handles,
                         size_t min_completions) override;
  rocksdb::IOStatus AbortIO(std::vector<void*>& io_handles) override;
  rocksdb::IOStatus NewLogger(const std::string& fname,
                              const rocksdb::IOOptions& io_opts,
                              std::shared_ptr<rocksdb::Logger>* result,
                              rocksdb::IODebugContext* dbg) override;

  // The file system's tasks (sets up the read engine and the tasks, as
  // opening a file does).
  std::shared_ptr<FsTasks> tasks() const ABSL_LOCKS_EXCLUDED(mu_);

  // A snapshot of the counters (see uringfs/stats.h). Sets nothing up.
  UringFsStats GetStats() const ABSL_LOCKS_EXCLUDED(mu_);

 protected:
  // Turns an unknown key into InvalidArgument naming it, refuses changes
  // once the file system is in use, then configures.
  rocksdb::Status ConfigureOptions(
      const rocksdb::ConfigOptions& config_options,
      const std::unordered_map<std::string, std::string>& opts_map,
      std::unordered_map<std::string, std::string>* unused) override
      ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // The read engine, built (with the tasks) from `options_` on first use.
  std::shared_ptr<uring::ReadEngine> engine() const ABSL_LOCKS_EXCLUDED(mu_);
  // The write scheduler, built on first use. `behind_bits`, if given,
  // receives the parsed `write_behind` classes.
  std::shared_ptr<WriteScheduler> writes(uint32_t* behind_bits = nullptr) const
      ABSL_LOCKS_EXCLUDED(mu_);
  // Builds the read engine and the tasks, once; this freezes the options.
  void StartLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // OK, or Aborted naming `fname` once the file system is shut down.
  rocksdb::IOStatus CheckOpen(const std::string& fname) const;

  // Opens `fname` for writing: refuses once shut down, calls `open_base`
  // (which fills `*result` from the base file system), then wraps the result.
  rocksdb::IOStatus OpenWritable(
      const std::string& fname, const rocksdb::FileOptions& file_opts,
      std::unique_ptr<rocksdb::FSWritableFile>* result,
      const std::function<rocksdb::IOStatus()>& open_base);

  // Written by configuration only while `engine_` is null (under `mu_`);
  // read freely afterwards.
  UringFsOptions options_;
  const uint64_t generation_;  // ForkGeneration() at construction.
  const std::shared_ptr<uring::FaultInjector> faults_;  // Immutable.
  const std::shared_ptr<RocksReadCounters> counters_;   // Thread-safe.
  const std::shared_ptr<ReadAheadShared> read_ahead_;   // Thread-safe.
  mutable absl::Mutex mu_;
  mutable std::shared_ptr<uring::ReadEngine> engine_ ABSL_GUARDED_BY(mu_);
  mutable std::shared_ptr<FsTasks> tasks_ ABSL_GUARDED_BY(mu_);
  mutable std::shared_ptr<WriteScheduler> writes_ ABSL_GUARDED_BY(mu_);
  mutable uint32_t write_behind_bits_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace uringfs

#endif  // URINGFS_ENV_URING_FILE_SYSTEM_H_
