#include "env/option_table.h"

#include <cstring>
#include <limits>

#include "env/size_text.h"

namespace uringfs {
namespace internal {
namespace {

constexpr char kScheme[] = "uringfs://";

bool ParseBool(const std::string& text, bool* out) {
  if (text == "true" || text == "1") {
    *out = true;
  } else if (text == "false" || text == "0") {
    *out = false;
  } else {
    return false;
  }
  return true;
}

rocksdb::Status BadValue(const OptionSpec& spec, const std::string& value,
                         const char* why) {
  return rocksdb::Status::InvalidArgument(
      "uringfs: option '" + std::string(spec.name) + "' = '" + value + "' " +
      why + "; accepted: " + Accepted(spec));
}

std::string KnownKeys() {
  std::string keys;
  for (const OptionSpec& spec : AllOptionSpecs()) {
    if (!keys.empty()) keys += ", ";
    keys += spec.name;
  }
  return keys;
}

// Splits `query` ("a=1&b=2") into pairs and applies them to `scratch`.
rocksdb::Status ApplyQuery(const std::string& query, UringFsOptions* scratch) {
  std::vector<std::string> seen;
  size_t pos = 0;
  while (pos <= query.size()) {
    size_t end = query.find('&', pos);
    if (end == std::string::npos) end = query.size();
    const std::string pair = query.substr(pos, end - pos);
    const size_t eq = pair.find('=');
    if (eq == std::string::npos || eq == 0) {
      return rocksdb::Status::InvalidArgument(
          "uringfs: malformed URI query item '" + pair +
          "'; expected key=value pairs joined by '&' (keys: " + KnownKeys() +
          ")");
    }
    const std::string key = pair.substr(0, eq);
    for (const std::string& k : seen) {
      if (k == key) {
        return rocksdb::Status::InvalidArgument("uringfs: option '" + key +
                                                "' given twice in the URI");
      }
    }
    seen.push_back(key);
    rocksdb::Status s = SetOption(key, pair.substr(eq + 1), scratch);
    if (!s.ok()) return s;
    pos = end + 1;
  }
  return rocksdb::Status::OK();
}

rocksdb::OptionType RocksDbType(OptionSpec::Kind kind) {
  switch (kind) {
    case OptionSpec::Kind::kBool:
      return rocksdb::OptionType::kBoolean;
    case OptionSpec::Kind::kFileClasses:
      return rocksdb::OptionType::kString;
    case OptionSpec::Kind::kByteSize:
      return rocksdb::OptionType::kUInt64T;
    case OptionSpec::Kind::kUint32:
      break;
  }
  return rocksdb::OptionType::kUInt32T;
}

}  // namespace

const std::vector<OptionSpec>& AllOptionSpecs() {
  static const std::vector<OptionSpec> specs = {
      {"queue_depth", OptionSpec::Kind::kUint32,
       offsetof(UringFsOptions, queue_depth), 1, 4096, "entries"},
      {"write_workers", OptionSpec::Kind::kUint32,
       offsetof(UringFsOptions, write_workers), 1, 256, "threads"},
      {"use_io_uring", OptionSpec::Kind::kBool,
       offsetof(UringFsOptions, use_io_uring), 0, 1, ""},
      {"ring_single_reads", OptionSpec::Kind::kBool,
       offsetof(UringFsOptions, ring_single_reads), 0, 1, ""},
      {"write_behind", OptionSpec::Kind::kFileClasses,
       offsetof(UringFsOptions, write_behind), 0, 0, ""},
      {"max_queued_bytes", OptionSpec::Kind::kByteSize,
       offsetof(UringFsOptions, max_queued_bytes), 65536, uint64_t{64} << 30,
       "bytes"},
      {"max_queued_bytes_per_file", OptionSpec::Kind::kByteSize,
       offsetof(UringFsOptions, max_queued_bytes_per_file), 4096,
       uint64_t{64} << 30, "bytes"},
      {"max_read_ahead_bytes", OptionSpec::Kind::kByteSize,
       offsetof(UringFsOptions, max_read_ahead_bytes), 0, uint64_t{64} << 30,
       "bytes"},
      {"stats_dump_period_sec", OptionSpec::Kind::kUint32,
       offsetof(UringFsOptions, stats_dump_period_sec), 0,
       std::numeric_limits<uint32_t>::max(), "seconds"},
  };
  return specs;
}

const OptionSpec* FindOptionSpec(const std::string& name) {
  for (const OptionSpec& spec : AllOptionSpecs()) {
    if (name == spec.name) return &spec;
  }
  return nullptr;
}

std::string Accepted(const OptionSpec& spec) {
  if (spec.kind == OptionSpec::Kind::kBool) return "true, false, 1 or 0";
  if (spec.kind == OptionSpec::Kind::kFileClasses) {
    return "a comma-separated list of sst and blob, or none";
  }
  if (spec.kind == OptionSpec::Kind::kByteSize) {
    return "a size from " + std::to_string(spec.min) + " to " +
           std::to_string(spec.max) + " bytes (" + FormatSize(spec.min) +
           " to " + FormatSize(spec.max) +
           "; suffixes K, M, G, T are powers of 1024)";
  }
  return "an integer from " + std::to_string(spec.min) + " to " +
         std::to_string(spec.max) + " (" + spec.unit + ")";
}

rocksdb::Status ParseFileClasses(const std::string& text, uint32_t* bits) {
  static const std::pair<const char*, uint32_t> kClasses[] = {
      {"sst", kSstFiles}, {"blob", kBlobFiles}, {"none", 0}};
  uint32_t result = 0;
  size_t items = 0;
  bool none = false;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find(',', pos);
    if (end == std::string::npos) end = text.size();
    const std::string item = text.substr(pos, end - pos);
    const std::pair<const char*, uint32_t>* found = nullptr;
    for (const auto& c : kClasses) {
      if (item == c.first) found = &c;
    }
    if (found == nullptr || (found->second & result) != 0 ||
        (found->second == 0 && none)) {
      return rocksdb::Status::InvalidArgument(
          "uringfs: option 'write_behind' = '" + text + "': item '" + item +
          "' is " + (found == nullptr ? "not a file class" : "repeated") +
          "; accepted: a comma-separated list of sst and blob, or none");
    }
    none = none || found->second == 0;
    result |= found->second;
    ++items;
    pos = end + 1;
  }
  if (none && items > 1) {
    return rocksdb::Status::InvalidArgument(
        "uringfs: option 'write_behind' = '" + text +
        "': none cannot be combined with a file class");
  }
  *bits = result;
  return rocksdb::Status::OK();
}

rocksdb::Status ParseOptionValue(const OptionSpec& spec,
                                 const std::string& value, void* field) {
  if (spec.kind == OptionSpec::Kind::kBool) {
    bool b = false;
    if (!ParseBool(value, &b)) return BadValue(spec, value, "is not a boolean");
    *static_cast<bool*>(field) = b;
    return rocksdb::Status::OK();
  }
  if (spec.kind == OptionSpec::Kind::kFileClasses) {
    uint32_t bits = 0;
    rocksdb::Status s = ParseFileClasses(value, &bits);
    if (s.ok()) *static_cast<std::string*>(field) = value;
    return s;
  }
  uint64_t v = 0;
  const char* why =
      ParseUnsigned(value, spec.kind == OptionSpec::Kind::kByteSize, &v);
  if (why != nullptr) return BadValue(spec, value, why);
  if (v < spec.min || v > spec.max) {
    return BadValue(spec, value, "is out of range");
  }
  if (spec.kind == OptionSpec::Kind::kByteSize) {
    *static_cast<uint64_t*>(field) = v;
  } else {
    *static_cast<uint32_t*>(field) = static_cast<uint32_t>(v);
  }
  return rocksdb::Status::OK();
}

std::string FormatOptionValue(const OptionSpec& spec, const void* field) {
  switch (spec.kind) {
    case OptionSpec::Kind::kBool:
      return *static_cast<const bool*>(field) ? "true" : "false";
    case OptionSpec::Kind::kFileClasses:
      return *static_cast<const std::string*>(field);
    case OptionSpec::Kind::kByteSize:
      return std::to_string(*static_cast<const uint64_t*>(field));
    case OptionSpec::Kind::kUint32:
      break;
  }
  return std::to_string(*static_cast<const uint32_t*>(field));
}

rocksdb::Status UnknownOptionError(const std::string& key) {
  return rocksdb::Status::InvalidArgument("uringfs: unknown option '" + key +
                                          "'; known options: " + KnownKeys());
}

rocksdb::Status SetOption(const std::string& key, const std::string& value,
                          UringFsOptions* options) {
  const OptionSpec* spec = FindOptionSpec(key);
  if (spec == nullptr) return UnknownOptionError(key);
  return ParseOptionValue(*spec, value,
                          reinterpret_cast<char*>(options) + spec->offset);
}

rocksdb::Status ParseUri(const std::string& uri, UringFsOptions* options) {
  if (uri == "uringfs") return rocksdb::Status::OK();  // The nickname.
  const size_t scheme_len = std::strlen(kScheme);
  if (uri.compare(0, scheme_len, kScheme) != 0) {
    return rocksdb::Status::InvalidArgument("uringfs: URI '" + uri +
                                            "' does not start with " + kScheme);
  }
  std::string rest = uri.substr(scheme_len);
  if (rest.empty()) return rocksdb::Status::OK();
  if (rest[0] != '?') {
    return rocksdb::Status::InvalidArgument(
        "uringfs: unexpected '" + rest + "' after " + kScheme +
        "; expected uringfs:// or uringfs://?key=value&...");
  }
  UringFsOptions scratch = *options;
  rocksdb::Status s = ApplyQuery(rest.substr(1), &scratch);
  if (s.ok()) *options = scratch;
  return s;
}

const std::unordered_map<std::string, rocksdb::OptionTypeInfo>&
RocksDbTypeInfo() {
  static const auto* const map = [] {
    auto* m = new std::unordered_map<std::string, rocksdb::OptionTypeInfo>();
    for (const OptionSpec& spec : AllOptionSpecs()) {
      const rocksdb::OptionType type = RocksDbType(spec.kind);
      const OptionSpec* s = &spec;  // AllOptionSpecs() is never destroyed.
      m->emplace(spec.name,
                 rocksdb::OptionTypeInfo(
                     static_cast<int>(spec.offset), type,
                     rocksdb::OptionVerificationType::kNormal,
                     rocksdb::OptionTypeFlags::kNone,
                     [s](const rocksdb::ConfigOptions&, const std::string&,
                         const std::string& value, void* addr) {
                       return ParseOptionValue(*s, value, addr);
                     },
                     [s](const rocksdb::ConfigOptions&, const std::string&,
                         const void* addr, std::string* value) {
                       *value = FormatOptionValue(*s, addr);
                       return rocksdb::Status::OK();
                     },
                     [s](const rocksdb::ConfigOptions&, const std::string& name,
                         const void* a, const void* b, std::string* mismatch) {
                       const bool same =
                           FormatOptionValue(*s, a) == FormatOptionValue(*s, b);
                       if (!same) *mismatch = name;
                       return same;
                     }));
    }
    return m;
  }();
  return *map;
}

}  // namespace internal

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

}  // namespace uringfs
