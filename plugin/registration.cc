// Registers uringfs's factories with a RocksDB ObjectLibrary (see
// uringfs/uringfs.h, `uringfs_register`).

#include <memory>
#include <string>

#include "env/option_table.h"
#include "env/uring_file_system.h"
#include "rocksdb/utilities/object_registry.h"
#include "uringfs/uringfs.h"

namespace uringfs {
namespace {

// Factory for `uringfs://[?query]`: parses the query itself, because RocksDB
// hands the whole URI over as the object id. On a bad URI it returns null and
// sets `*errmsg`, which RocksDB turns into InvalidArgument (a null result
// with an empty message would make RocksDB's tools crash).
rocksdb::FileSystem* CreateFromUri(const std::string& uri,
                                   std::unique_ptr<rocksdb::FileSystem>* guard,
                                   std::string* errmsg) {
  UringFsOptions options;
  rocksdb::Status s = internal::ParseUri(uri, &options);
  if (!s.ok()) {
    *errmsg = s.getState() != nullptr ? s.getState() : s.ToString();
    return nullptr;
  }
  guard->reset(new UringFileSystem(options, rocksdb::FileSystem::Default()));
  return guard->get();
}

// Factory for the class id; options come afterwards through ConfigureFromMap.
rocksdb::FileSystem* CreateFromClassId(
    const std::string& /*id*/, std::unique_ptr<rocksdb::FileSystem>* guard,
    std::string* /*errmsg*/) {
  guard->reset(
      new UringFileSystem(UringFsOptions(), rocksdb::FileSystem::Default()));
  return guard->get();
}

}  // namespace
}  // namespace uringfs

extern "C" int uringfs_register(ROCKSDB_NAMESPACE::ObjectLibrary& library,
                                const std::string& /*arg*/) {
  using Entry = ROCKSDB_NAMESPACE::ObjectLibrary::PatternEntry;
  // "uringfs" alone, or "uringfs:" + anything: the factory accepts
  // "uringfs" and "uringfs://[?query]" and answers everything else (a typo
  // such as "uringfs:/") with a clear error rather than RocksDB's null object.
  library.AddFactory<ROCKSDB_NAMESPACE::FileSystem>(
      Entry("uringfs", true).AddSeparator(":", false), uringfs::CreateFromUri);
  library.AddFactory<ROCKSDB_NAMESPACE::FileSystem>(uringfs::kClassId,
                                                    uringfs::CreateFromClassId);
  return 2;
}
