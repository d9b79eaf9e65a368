// -----------------------------------------------------------------------------
// env/file_class.h
// -----------------------------------------------------------------------------
//
// `FileClassOf` tells, from a file name, which class of RocksDB file it is,
// as the `FileClassBits` the `write_behind` option names: table files
// (`*.sst`, and `*.ldb` from older versions) and blob files (`*.blob`).
// Anything else (WAL `*.log`, MANIFEST, CURRENT, OPTIONS, IDENTITY, LOG,
// temporary `*.dbtmp`, user files) is class 0 and never written behind.
//
// Thread-safety: a pure function.

#ifndef URINGFS_ENV_FILE_CLASS_H_
#define URINGFS_ENV_FILE_CLASS_H_

#include <cstdint>
#include <string>

namespace uringfs {

// FileClassOf()
//
// `kSstFiles`, `kBlobFiles` (env/option_table.h) or 0, from the name's
// extension.
uint32_t FileClassOf(const std::string& fname);

}  // namespace uringfs

#endif  // URINGFS_ENV_FILE_CLASS_H_
