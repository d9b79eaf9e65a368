// -----------------------------------------------------------------------------
// tools/probe/errno_name.h
// -----------------------------------------------------------------------------
//
// `ErrnoName(err)`: the symbolic name of an errno value ("EOPNOTSUPP"), as
// the probe prints it, or "errno N" where the C library knows no name.
//
// Thread-safety: a pure function.

#ifndef URINGFS_TOOLS_PROBE_ERRNO_NAME_H_
#define URINGFS_TOOLS_PROBE_ERRNO_NAME_H_

#include <string.h>

#include <string>

namespace uringfs {
namespace probe {

inline std::string ErrnoName(int err) {
  const char* name = ::strerrorname_np(err);
  return name != nullptr ? name : "errno " + std::to_string(err);
}

}  // namespace probe
}  // namespace uringfs

#endif  // URINGFS_TOOLS_PROBE_ERRNO_NAME_H_
