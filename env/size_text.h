// -----------------------------------------------------------------------------
// env/size_text.h
// -----------------------------------------------------------------------------
//
// Unsigned integers as option text, and byte sizes as RocksDB users write
// them: `65536`, `64K`, `256M`, `1G`, `2T`.
//
// The size suffixes are RocksDB's (`ParseUint64` in 7.8.3 and 11.x): one
// letter after the digits, `k`/`K` = 2^10, `m`/`M` = 2^20, `g`/`G` = 2^30,
// `t`/`T` = 2^40, in either case. Unlike RocksDB's parser, the text must be
// exactly that — digits and at most one suffix — and nothing else: RocksDB
// reads `12abc` as 12 and `5KB` as 5K, skips leading blanks, accepts a sign
// (`-1` wraps to 2^64-1) and shifts past 64 bits silently (`99999999999T`).
// Here each of those is an error with its reason.
//
// Thread-safety: pure functions, safe for concurrent use.

#ifndef URINGFS_ENV_SIZE_TEXT_H_
#define URINGFS_ENV_SIZE_TEXT_H_

#include <cstdint>
#include <string>

namespace uringfs {

// ParseUnsigned()
//
// Parses `text` as a decimal unsigned integer; with `size_suffix`, one of
// the suffixes above may follow the digits. On success stores the value in
// `*out` and returns nullptr. Otherwise leaves `*out` alone and returns why,
// as a phrase that follows the value in a message: "is empty", "is
// negative", "is not a whole decimal number", "is not a size (digits and an
// optional K, M, G or T)", "is too large (more than 64 bits)". The returned
// string is static.
const char* ParseUnsigned(const std::string& text, bool size_suffix,
                          uint64_t* out);

// FormatSize()
//
// `bytes` with the largest suffix that divides it exactly ("64K", "256M",
// "1G", "1000"); ParseUnsigned(FormatSize(b), true) gives back `b`.
std::string FormatSize(uint64_t bytes);

}  // namespace uringfs

#endif  // URINGFS_ENV_SIZE_TEXT_H_
