// -----------------------------------------------------------------------------
// tests/testing/seam_fs.h
// -----------------------------------------------------------------------------
//
// `SeamFileSystem` is a test seam to put UNDER uringfs
// (`UringFileSystem(options, seam)`): a `FileSystemWrapper` over
// `FileSystem::Default()` whose writable files misbehave on request, so that
// tests can see what uringfs does when the device below it fails, stalls or
// crawls. Three knobs, each selected by a file-name suffix (".sst", ".log",
// "MANIFEST-000001", ...):
//
//   * FailNth(op, suffix, n, status): the n-th call of `op` (Append, Sync,
//     Fsync, Close, Truncate) on a writable file whose name ends in `suffix`
//     returns `status` instead of reaching the disk. Calls are counted per
//     handle (RocksDB opens one handle per file), so every matching file
//     fails at its own n-th call. A failed call writes nothing.
//   * CloseGate(suffix) / OpenGate(): while the gate is closed, Appends to
//     matching files wait in the seam before anything is written (a stalled
//     device; backpressure tests). `WaitForBlocked(n)` waits until n Appends
//     are parked at the gate.
//   * SetAppendDelay(suffix, d): every Append to a matching file sleeps `d`
//     first (a slow device).
//
// Everything else is the default POSIX file system, unchanged.
//
// Thread-safety: the knobs may be turned from any thread while files are in
// use. The files follow FSWritableFile's rules (one thread at a time, except
// Sync concurrently with Append).

#ifndef URINGFS_TESTS_TESTING_SEAM_FS_H_
#define URINGFS_TESTS_TESTING_SEAM_FS_H_

#include <chrono>
#include <memory>
#include <string>

#include "rocksdb/file_system.h"
#include "rocksdb/io_status.h"

namespace uringfs {
namespace testing {

enum class SeamOp { kAppend = 0, kSync, kFsync, kClose, kTruncate };
inline constexpr int kSeamOps = 5;

// What the POSIX file system returns for ENOSPC (NoSpace, retryable) and for
// EIO (a plain IOError, not retryable). Messages say "injected".
rocksdb::IOStatus InjectedNoSpace();
rocksdb::IOStatus InjectedEio();

// The knobs' shared state; defined in seam_fs.cc.
class Seam;

class SeamFileSystem final : public rocksdb::FileSystemWrapper {
 public:
  SeamFileSystem();
  ~SeamFileSystem() override;

  const char* Name() const override { return "SeamFileSystem"; }

  // (a) Faults. Replaces any earlier fault for the same `op`.
  void FailNth(SeamOp op, const std::string& suffix, int n,
               rocksdb::IOStatus status);
  // How many calls have failed by injection so far.
  int fired() const;

  // (b) The gate.
  void CloseGate(const std::string& suffix);
  void OpenGate();
  // Appends waiting at the gate right now.
  int blocked() const;
  // True once at least `n` Appends wait at the gate; false after `timeout`.
  bool WaitForBlocked(int n, std::chrono::milliseconds timeout) const;

  // (c) Slow device. A zero delay turns it off.
  void SetAppendDelay(const std::string& suffix,
                      std::chrono::microseconds delay);

  rocksdb::IOStatus NewWritableFile(
      const std::string& fname, const rocksdb::FileOptions& options,
      std::unique_ptr<rocksdb::FSWritableFile>* result,
      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReopenWritableFile(
      const std::string& fname, const rocksdb::FileOptions& options,
      std::unique_ptr<rocksdb::FSWritableFile>* result,
      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReuseWritableFile(
      const std::string& fname, const std::string& old_fname,
      const rocksdb::FileOptions& options,
      std::unique_ptr<rocksdb::FSWritableFile>* result,
      rocksdb::IODebugContext* dbg) override;

 private:
  // Wraps the freshly opened `*result` for `fname` (if the open succeeded).
  rocksdb::IOStatus Wrap(const std::string& fname, rocksdb::IOStatus s,
                         std::unique_ptr<rocksdb::FSWritableFile>* result);

  // Shared with the files, which may outlive this object.
  const std::shared_ptr<Seam> seam_;
};

}  // namespace testing
}  // namespace uringfs

#endif  // URINGFS_TESTS_TESTING_SEAM_FS_H_
