// -----------------------------------------------------------------------------
// env/uring_file_system.h
// -----------------------------------------------------------------------------
//
// `UringFileSystem` is the RocksDB-facing file system of uringfs: a
// `FileSystemWrapper` over a base file system (by default
// `FileSystem::Default()`) that owns the uringfs options.
//
// Status: every call is still delegated to the base file system; the io_uring
// read path and the worker-queue write path replace the file classes in
// later steps (see README, "Status").
//
// Options are registered with RocksDB's `Configurable` machinery under
// `UringFsOptions::kName()`, so `GetOptionString()` / `ConfigureFromString()`
// round-trip, and an unknown key is `InvalidArgument` (RocksDB alone would
// say NotFound).
//
// Thread-safety: safe for concurrent use. Options may only be configured
// before the file system is first used, as with every RocksDB Customizable.

#ifndef URINGFS_ENV_URING_FILE_SYSTEM_H_
#define URINGFS_ENV_URING_FILE_SYSTEM_H_

#include <memory>
#include <string>
#include <unordered_map>

#include "rocksdb/file_system.h"
#include "uringfs/options.h"

namespace uringfs {

class UringFileSystem final : public rocksdb::FileSystemWrapper {
 public:
  static const char* kClassName() { return "UringFileSystem"; }
  static const char* kNickName() { return "uringfs"; }

  // Creates a file system over `base`, which must not be null. `options` must
  // be valid (see `ValidateUringFsOptions`).
  UringFileSystem(const UringFsOptions& options,
                  std::shared_ptr<rocksdb::FileSystem> base);

  UringFileSystem(const UringFileSystem&) = delete;
  UringFileSystem& operator=(const UringFileSystem&) = delete;

  const char* Name() const override { return kClassName(); }
  const char* NickName() const override { return kNickName(); }

  // The options in force. Immutable once the file system is in use.
  const UringFsOptions& options() const { return options_; }

 protected:
  // Turns an unknown key into InvalidArgument naming it, then configures.
  rocksdb::Status ConfigureOptions(
      const rocksdb::ConfigOptions& config_options,
      const std::unordered_map<std::string, std::string>& opts_map,
      std::unordered_map<std::string, std::string>* unused) override;

 private:
  UringFsOptions options_;
};

// ValidateUringFsOptions()
//
// OK if every field of `options` is in its accepted range, else
// InvalidArgument naming the first field that is not.
rocksdb::Status ValidateUringFsOptions(const UringFsOptions& options);

}  // namespace uringfs

#endif  // URINGFS_ENV_URING_FILE_SYSTEM_H_
