// -----------------------------------------------------------------------------
// tools/probe/path_facts.h
// -----------------------------------------------------------------------------
//
// What the file system under one path offers uringfs, found by trying it on
// a temporary file made (and at once unlinked) in that directory:
//
//   * the file system's type (statfs);
//   * the direct-I/O alignment the kernel reports (STATX_DIOALIGN,
//     base/dio_alignment.h), or that it reports none;
//   * whether buffered `preadv2` and `pwritev2` take RWF_NOWAIT, read as the
//     read path reads it (env/uring/nowait.h): EOPNOTSUPP means "no".
//
// Thread-safety: safe for concurrent use (each call makes its own file).

#ifndef URINGFS_TOOLS_PROBE_PATH_FACTS_H_
#define URINGFS_TOOLS_PROBE_PATH_FACTS_H_

#include <string>

namespace uringfs {
namespace probe {

struct PathFacts {
  std::string directory;       // Where the temporary file was made.
  std::string real_directory;  // The same without links, "." or "..".
  std::string fs_type;         // "ext2/ext3/ext4 (magic 0xef53)".
  std::string dio_alignment;   // "memory 4, offset 512" or "not reported".
  std::string nowait_read;     // "yes", "no (EOPNOTSUPP)", ...
  std::string nowait_write;
};

// ProbePath()
//
// The facts for `path`: a directory, or a file (then its directory is
// tried). Returns false, with the reason in `*error`, if `path` does not
// exist; a failure after that (no permission to create a file) is reported
// in the fields it prevented.
bool ProbePath(const std::string& path, PathFacts* facts, std::string* error);

}  // namespace probe
}  // namespace uringfs

#endif  // URINGFS_TOOLS_PROBE_PATH_FACTS_H_
