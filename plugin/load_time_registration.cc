// Registers uringfs with RocksDB's default ObjectLibrary when the library that
// contains this file is loaded (LD_PRELOAD, dlopen or a plain link). RocksDB's
// in-tree plugin build does not compile this file: it calls
// `uringfs_register` itself.

#include "rocksdb/utilities/object_registry.h"
#include "uringfs/uringfs.h"

namespace uringfs {
namespace {

const int registered_at_load = [] {
  // librocksdb.so is a dependency of this library, so it is initialised first
  // and its default library exists.
  return uringfs_register(*ROCKSDB_NAMESPACE::ObjectLibrary::Default(), "");
}();

}  // namespace
}  // namespace uringfs
