// -----------------------------------------------------------------------------
// env/option_table.h
// -----------------------------------------------------------------------------
//
// The table behind `UringFsOptions`: one `OptionSpec` per field, with its
// accepted range and a one-line meaning. Parsing from a URI query, from a
// RocksDB options string and serialising back all go through this table, so
// the three agree on what is accepted and on the wording of every error.
// Byte sizes take RocksDB's suffixes (`64K`, `256M`, `1G`, `2T`; see
// env/size_text.h); values are serialised as plain decimal, which parses
// back to the same value.
//
// Why a table of our own and not only RocksDB's option machinery: RocksDB's
// `Configurable` machinery is used — the table is registered with
// `RegisterOptions` as `OptionTypeInfo`s (`RocksDbTypeInfo()`), so
// `GetOptionString`, `GetOption`, `AreEquivalent` and RocksDB's roll-back of
// a failed `ConfigureFromString` (it re-applies the serialised options, so
// nothing of a refused string stays applied) all work as for RocksDB's own
// objects. But each `OptionTypeInfo` carries the table's parse, serialise
// and compare functions instead of RocksDB's built-in ones for
// `kUInt32T`/`kUInt64T`, because those cannot give strict errors:
// `ParseUint64` (std::stoull plus a suffix letter) takes `12abc` as 12 and
// `5KB` as 5K, accepts blanks and a sign (`-1` becomes 2^64-1), shifts
// `99999999999T` past 64 bits without a word, and reports stoull's
// exceptions as "Error parsing <key>:stoull" without the accepted range;
// `OptionTypeInfo` has no notion of a range at all, and the `ValidateOptions`
// / `PrepareOptions` hooks run only after the values are stored (or at
// `DB::Open`), too late to name the key and refuse it.
//
// Thread-safety: the table is immutable after first use; every function here
// is safe for concurrent use.

#ifndef URINGFS_ENV_OPTION_TABLE_H_
#define URINGFS_ENV_OPTION_TABLE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "rocksdb/status.h"
#include "rocksdb/utilities/options_type.h"
#include "uringfs/options.h"

namespace uringfs {
namespace internal {

// One option: its key, where it lives in `UringFsOptions`, and what it accepts.
struct OptionSpec {
  // kUint32: a uint32_t, plain decimal digits.
  // kByteSize: a uint64_t count of bytes, digits with an optional K, M, G or
  // T suffix (env/size_text.h).
  // kFileClasses: a std::string holding a comma-separated subset of
  // `sst`, `blob`, or `none` (see `ParseFileClasses`).
  enum class Kind { kUint32, kByteSize, kBool, kFileClasses };
  const char* name;
  Kind kind;
  size_t offset;  // Byte offset of the field in `UringFsOptions`.
  uint64_t min;   // Inclusive bounds of the integer kinds.
  uint64_t max;
  const char* unit;  // e.g. "entries"; integer kinds only.
};

// AllOptionSpecs()
//
// Every option, in documentation order. Immutable.
const std::vector<OptionSpec>& AllOptionSpecs();

// FindOptionSpec()
//
// The spec named `name`, or nullptr if there is none.
const OptionSpec* FindOptionSpec(const std::string& name);

// Accepted()
//
// What `spec` accepts, in words: "an integer from 1 to 4096 (entries)",
// "a size from 65536 to 68719476736 bytes (64K to 64G; ...)".
std::string Accepted(const OptionSpec& spec);

// ParseOptionValue()
//
// Parses `value` for `spec` into the field at `field` (which must point at the
// field `spec` describes). Returns OK, or InvalidArgument naming the key, the
// bad value and what is accepted; `*field` is unchanged on error.
rocksdb::Status ParseOptionValue(const OptionSpec& spec,
                                 const std::string& value, void* field);

// FormatOptionValue()
//
// The canonical text of the field at `field`; `ParseOptionValue` accepts it.
std::string FormatOptionValue(const OptionSpec& spec, const void* field);

// SetOption()
//
// Sets `key` in `options` from text. InvalidArgument for an unknown key (the
// message lists the known ones) or a bad value; `options` is unchanged then.
rocksdb::Status SetOption(const std::string& key, const std::string& value,
                          UringFsOptions* options);

// UnknownOptionError()
//
// The InvalidArgument for an unknown key `key`, listing the accepted keys.
rocksdb::Status UnknownOptionError(const std::string& key);

// File classes that `write_behind` can name, as bits.
enum FileClassBits : uint32_t {
  kSstFiles = 1u << 0,
  kBlobFiles = 1u << 1,
};

// ParseFileClasses()
//
// Parses a `write_behind` value ("sst,blob", "blob", "none", ...) into
// `FileClassBits`. InvalidArgument naming the bad item for an empty item, an
// unknown class, a repeated class, or `none` combined with a class.
rocksdb::Status ParseFileClasses(const std::string& text, uint32_t* bits);

// ParseUri()
//
// Parses `uringfs` or `uringfs://`, optionally followed by `?key=value&...`,
// and applies each pair on top of `*options`. Returns InvalidArgument for any
// other scheme, text between `://` and `?`, an empty or repeated key, a pair
// without
// `=`, or a bad key or value; `*options` is unchanged on error.
rocksdb::Status ParseUri(const std::string& uri, UringFsOptions* options);

// RocksDbTypeInfo()
//
// The table in the form RocksDB's `Configurable::RegisterOptions` wants,
// with parse, serialise and compare functions that use the specs above.
// Immutable; lives for the whole process.
const std::unordered_map<std::string, rocksdb::OptionTypeInfo>&
RocksDbTypeInfo();

}  // namespace internal

// ValidateUringFsOptions()
//
// OK if every field of `options` is in its accepted range, else
// InvalidArgument naming the first field that is not.
rocksdb::Status ValidateUringFsOptions(const UringFsOptions& options);

}  // namespace uringfs

#endif  // URINGFS_ENV_OPTION_TABLE_H_
