// -----------------------------------------------------------------------------
// tools/probe/fs_type.h
// -----------------------------------------------------------------------------
//
// The type of the file system a path lives on, from statfs's `f_type` magic
// number (ext2, ext3 and ext4 share one magic: "ext2/ext3/ext4").
//
// Thread-safety: pure functions, safe for concurrent use.

#ifndef URINGFS_TOOLS_PROBE_FS_TYPE_H_
#define URINGFS_TOOLS_PROBE_FS_TYPE_H_

#include <cstdint>
#include <string>

namespace uringfs {
namespace probe {

// FsTypeName()
//
// The name for `magic`, or "unknown" for a magic not in the table.
const char* FsTypeName(uint64_t magic);

// FsTypeOf()
//
// "ext2/ext3/ext4 (magic 0xef53)" for the file system of `path`, or
// "statfs failed: <error>".
std::string FsTypeOf(const std::string& path);

}  // namespace probe
}  // namespace uringfs

#endif  // URINGFS_TOOLS_PROBE_FS_TYPE_H_
