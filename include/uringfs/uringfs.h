// -----------------------------------------------------------------------------
// uringfs/uringfs.h
// -----------------------------------------------------------------------------
//
// The public entry points of uringfs, a RocksDB `FileSystem` for Linux that
// routes reads through io_uring and buffered writes through a per-file hashed
// worker queue. Three ways to get one:
//
//   1. Preload the plugin into any RocksDB program and name it by URI:
//        LD_PRELOAD=.../liburingfs.so db_bench --fs_uri=uringfs://
//   2. Link `//plugin:uringfs_library` (it registers the factories at load
//   time) and
//        rocksdb::FileSystem::CreateFromString(cfg,
//        "uringfs://?queue_depth=64", &fs);
//      or call `NewUringFileSystem()` below.
//   3. Build it into RocksDB with `ROCKSDB_PLUGINS=uringfs` (uringfs cloned
//      as rocksdb/plugin/uringfs; see uringfs.mk at the checkout's root).
//      RocksDB then calls `uringfs_register()` itself.
//
// Names: the URI scheme is `uringfs://`; the class id for RocksDB options
// strings is `UringFileSystem` (`id=UringFileSystem;queue_depth=64`).
//
// Thread-safety: every function here is safe for concurrent use. A file
// system returned here is safe for concurrent use, as RocksDB requires.

#ifndef URINGFS_URINGFS_H_
#define URINGFS_URINGFS_H_

#include <memory>
#include <string>

#include "rocksdb/file_system.h"
#include "rocksdb/status.h"
#include "rocksdb/utilities/object_registry.h"
#include "uringfs/options.h"

namespace uringfs {

// The URI scheme uringfs registers, and its class id.
inline constexpr char kUriScheme[] = "uringfs://";
inline constexpr char kClassId[] = "UringFileSystem";

// NewUringFileSystem()
//
// Creates a uringfs file system with `options` over `FileSystem::Default()`.
// On success stores it in `*result` and returns OK. If any option is out of
// range returns InvalidArgument naming it and leaves `*result` empty.
rocksdb::Status NewUringFileSystem(
    const UringFsOptions& options,
    std::shared_ptr<rocksdb::FileSystem>* result);

}  // namespace uringfs

// uringfs_register()
//
// Adds uringfs's factories to `library`: the URI pattern `uringfs://[?query]`
// and the class id `UringFileSystem`. `arg` is ignored. Returns the number of
// factories added. This is the `uringfs_FUNC` of uringfs.mk, called by
// RocksDB for in-tree builds; the preloaded and linked library calls it on the
// default library when it is loaded. Registering twice is harmless.
extern "C" int uringfs_register(ROCKSDB_NAMESPACE::ObjectLibrary& library,
                                const std::string& arg);

#endif  // URINGFS_URINGFS_H_
