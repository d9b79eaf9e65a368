#include "env/uring_file_system.h"

#include <unordered_set>
#include <utility>

#include "env/option_table.h"
#include "uringfs/uringfs.h"

namespace uringfs {

UringFileSystem::UringFileSystem(const UringFsOptions& options,
                                 std::shared_ptr<rocksdb::FileSystem> base)
    : rocksdb::FileSystemWrapper(std::move(base)), options_(options) {
  RegisterOptions(&options_, &internal::RocksDbTypeInfo());
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
  return rocksdb::FileSystemWrapper::ConfigureOptions(config_options, opts_map,
                                                      unused);
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
