// -----------------------------------------------------------------------------
// tests/testing/power_loss_fs.h
// -----------------------------------------------------------------------------
//
// `PowerLossFs` is a test seam: a `FileSystemWrapper` (by default over
// `FileSystem::Default()`) that remembers, for every file written through
// it, how many bytes were durable at its last `Sync`/`Fsync`, so that a test
// can simulate the machine losing power:
//
//   auto seam = std::make_shared<PowerLossFs>();
//   ... run a database over `seam` (directly, or under uringfs) ...
//   seam->PowerOff();          // the machine dies: nothing more reaches disk
//   ... destroy the database and every file handle ...
//   seam->DropUnsyncedData();  // the disk as it would be after reboot
//
// The durability model, deliberately simple and stated here in full:
//
//   * A file's bytes up to its size at the last successful Sync or Fsync
//     survive; everything appended after is lost (truncated away). RangeSync,
//     Flush and Close make nothing durable.
//   * A file created through the seam survives only if it was synced at
//     least once; a file never synced is deleted. (A real file system also
//     needs the directory fsynced; RocksDB does that for every file it
//     syncs, so the model keeps to file syncs.)
//   * The base must be a local file system: DropUnsyncedData() cuts files
//     with truncate(2) (RocksDB 7.8.3's POSIX file system has no Truncate by
//     name).
//   * Files the seam never opened for writing ("existed before") are left
//     alone, as are directories and the info LOG.
//   * Metadata operations (DeleteFile, RenameFile, LinkFile, Truncate, creating
//     or deleting directories) are durable at once. A rename moves the
//     source's state to the target name, so a synced temp file renamed to
//     CURRENT survives under its new name.
//
// After `PowerOff()` every mutating call through the seam (append, sync,
// truncate, create, delete, rename, ...) fails with IOError("power lost")
// and never reaches the base file system, so work still queued anywhere
// (uringfs's write-behind queue included) cannot touch the disk any more.
// `PowerOff()` waits for every mutation already inside the base to finish.
// Closing a handle still releases its descriptor (the base's Close only
// trims preallocated space beyond what was appended, which
// DropUnsyncedData() cuts anyway).
//
// Not modelled: FSRandomRWFile writes (RocksDB 7.8.3 uses them only for
// external file ingestion; the seam refuses to open one after PowerOff but
// does not track it), direct I/O page-cache subtleties, torn sectors.
//
// Thread-safety: safe for concurrent use, like any FileSystem.

#ifndef URINGFS_TESTS_TESTING_POWER_LOSS_FS_H_
#define URINGFS_TESTS_TESTING_POWER_LOSS_FS_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "rocksdb/file_system.h"

namespace uringfs {
namespace testing {

// What DropUnsyncedData() did.
struct PowerLossReport {
  uint64_t files_tracked = 0;    // Files written through the seam, still named.
  uint64_t files_deleted = 0;    // Never synced: removed.
  uint64_t files_truncated = 0;  // Cut back to their last synced size.
  uint64_t bytes_dropped = 0;    // Over the truncated files.
  std::string ToString() const;
};

class PowerLossFs final : public rocksdb::FileSystemWrapper {
 public:
  // The per-file record; shared by the seam's name table and the open
  // handles of the file. Public only for the file classes in the .cc.
  struct FileState {
    uint64_t size = 0;         // Bytes the base has been given.
    uint64_t synced_size = 0;  // `size` at the last successful Sync/Fsync.
    bool durable = false;      // Synced at least once, or existed before.
    int open_handles = 0;
  };
  // State shared with the file handles, which may outlive a call into the
  // seam but not the process.
  struct Shared {
    // Held shared by every mutation while it runs in the base, exclusively
    // by PowerOff().
    absl::Mutex gate;
    bool off ABSL_GUARDED_BY(gate) = false;  // Written holding it exclusively.
    absl::Mutex mu;  // Guards `files` and every FileState.
    std::map<std::string, std::shared_ptr<FileState>> files ABSL_GUARDED_BY(mu);
  };

  explicit PowerLossFs(std::shared_ptr<rocksdb::FileSystem> base =
                           rocksdb::FileSystem::Default());

  static const char* kClassName() { return "PowerLossFs"; }
  const char* Name() const override { return kClassName(); }

  // The machine dies: waits for mutations in progress, then refuses every
  // later one. Idempotent.
  void PowerOff();
  bool powered_off() const;

  // Makes the disk look as it would after the power loss (see the model
  // above). REQUIRES: PowerOff() was called. Fails with InvalidArgument,
  // changing nothing, while any handle written through the seam is still
  // open (its Close could still move bytes).
  rocksdb::IOStatus DropUnsyncedData(PowerLossReport* report = nullptr);

  // The last synced size of `fname` (0 if never synced or not tracked), for
  // tests of the seam itself.
  uint64_t SyncedSize(const std::string& fname) const;

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
  rocksdb::IOStatus NewDirectory(const std::string& name,
                                 const rocksdb::IOOptions& io_opts,
                                 std::unique_ptr<rocksdb::FSDirectory>* result,
                                 rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus DeleteFile(const std::string& fname,
                               const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus Truncate(const std::string& fname, size_t size,
                             const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus CreateDir(const std::string& dirname,
                              const rocksdb::IOOptions& options,
                              rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus CreateDirIfMissing(const std::string& dirname,
                                       const rocksdb::IOOptions& options,
                                       rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus DeleteDir(const std::string& dirname,
                              const rocksdb::IOOptions& options,
                              rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus RenameFile(const std::string& src,
                               const std::string& target,
                               const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus LinkFile(const std::string& src, const std::string& target,
                             const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override;

 private:
  const std::shared_ptr<Shared> shared_;
};

}  // namespace testing
}  // namespace uringfs

#endif  // URINGFS_TESTS_TESTING_POWER_LOSS_FS_H_
