// -----------------------------------------------------------------------------
// uringfs/task.h
// -----------------------------------------------------------------------------
//
// Tasks: control over the work uringfs does on an application's behalf.
//
// Every piece of work uringfs runs in the background — a queued (written
// behind) append, preallocation or range sync, an asynchronous read in the
// kernel — belongs to a task. By default each uringfs file system is one
// task; an application can open narrower tasks (per thread, per request,
// per column family's flush, ...) and tag the I/O a thread issues with
// `IoTaskScope`. A task can be cancelled or shut down without touching any
// other task's work, whose I/O keeps flowing meanwhile.
//
//   std::shared_ptr<uringfs::IoTask> task;
//   uringfs::NewIoTask(*fs, &task);
//   {
//     uringfs::IoTaskScope scope(task);   // this thread's uringfs I/O -> task
//     ...writes and ReadAsync...
//   }
//   task->Shutdown(uringfs::ShutdownMode::kDrain);
//
// Shutdown modes:
//   * kDrain: queued writes complete (nothing acknowledged is lost); queued
//     and in-flight asynchronous reads are cancelled (their callbacks run at
//     the next Poll with an Aborted "cancelled" status).
//   * kCancel: queued writes are cancelled too; every file that lost a write
//     fails from then on with an Aborted status whose message says the write
//     was cancelled (RocksDB then stops writing that file, as for any error).
// A write already running when the task stops finishes (nothing is
// interrupted), so a shutdown returns within the time of the writes in
// progress. After a shutdown the task refuses new work: appends fail with the
// "cancelled" status and ReadAsync fails to start. Synchronous reads, which
// run on the caller's thread, are not affected.
//
// Thread-safety: everything here is safe for concurrent use, except that an
// `IoTaskScope` belongs to the thread that created it.

#ifndef URINGFS_TASK_H_
#define URINGFS_TASK_H_

#include <cstdint>
#include <memory>

#include "rocksdb/file_system.h"
#include "rocksdb/status.h"

namespace uringfs {

enum class ShutdownMode { kDrain, kCancel };

// What a cancellation found (the kernel io-wq's three answers).
enum class CancelOutcome {
  kCancelled,  // Queued work (or reads in the kernel) was cancelled.
  kRunning,    // Some work was running; it finishes, it is not interrupted.
  kNotFound,   // The task had no work.
};

class IoTask {
 public:
  // Dropping the last reference of a task shuts it down with kDrain.
  virtual ~IoTask() = default;

  // A process-unique number, never reused.
  virtual uint64_t id() const = 0;

  // IoTask::Cancel()
  //
  // Cancels the task's queued writes (their files fail, see kCancel above)
  // and asks the kernel to cancel its asynchronous reads. Running writes
  // finish. The task stays open for new work.
  virtual CancelOutcome Cancel() = 0;

  // IoTask::Shutdown()
  //
  // Refuses new work, then drains or cancels (see the modes above) and
  // returns when none of the task's queued writes is left. Idempotent; a
  // later kCancel escalates an earlier kDrain.
  virtual void Shutdown(ShutdownMode mode) = 0;

  virtual bool is_shut_down() const = 0;

  // The uringfs file system whose task this is, for uringfs's own use; null
  // for any other implementation of `IoTask` (an `IoTaskScope` of such a
  // task tags no uringfs I/O).
  const void* internal_home() const { return internal_home_; }

 protected:
  IoTask() = default;
  explicit IoTask(const void* home) : internal_home_(home) {}

 private:
  const void* const internal_home_ = nullptr;
};

// NewIoTask()
//
// A new task on the uringfs file system `fs`. InvalidArgument if `fs` is not
// uringfs; Aborted if `fs` has been shut down.
rocksdb::Status NewIoTask(rocksdb::FileSystem& fs,
                          std::shared_ptr<IoTask>* task);

// DefaultIoTask()
//
// The task the I/O of `fs` belongs to outside any `IoTaskScope`.
// InvalidArgument if `fs` is not uringfs.
rocksdb::Status DefaultIoTask(rocksdb::FileSystem& fs,
                              std::shared_ptr<IoTask>* task);

// ShutdownUringFileSystem()
//
// Shuts down every task of `fs` — its default task and every task opened on
// it — in `mode`. Afterwards `fs` opens no file (Aborted "shut down"). The
// file system's destructor does the same with kDrain. InvalidArgument if
// `fs` is not uringfs.
rocksdb::Status ShutdownUringFileSystem(rocksdb::FileSystem& fs,
                                        ShutdownMode mode);

// IoTaskScope
//
// While it lives, uringfs I/O that this thread issues through the task's file
// system belongs to `task`. Scopes nest (the innermost one of a file system
// wins) and must be destroyed in reverse order on the creating thread.
class IoTaskScope {
 public:
  explicit IoTaskScope(std::shared_ptr<IoTask> task);
  ~IoTaskScope();

  IoTaskScope(const IoTaskScope&) = delete;
  IoTaskScope& operator=(const IoTaskScope&) = delete;

  const std::shared_ptr<IoTask>& task() const { return task_; }
  const IoTaskScope* outer() const { return outer_; }

  // The innermost scope of this thread, or null.
  static const IoTaskScope* Innermost();

 private:
  const std::shared_ptr<IoTask> task_;
  const IoTaskScope* const outer_;
};

}  // namespace uringfs

#endif  // URINGFS_TASK_H_
