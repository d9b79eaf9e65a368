// -----------------------------------------------------------------------------
// uringfs/version.h
// -----------------------------------------------------------------------------
//
// The version of uringfs, as MAJOR.MINOR.PATCH (semantic versioning: the
// major number changes when a program built against an older release may no
// longer compile or link against this one; it is also the number in the
// shared library's SONAME, liburingfs.so.MAJOR).
//
// The macros give the version of the headers a program was compiled with;
// `uringfs::Version()` gives the version of the library it runs with.

#ifndef URINGFS_VERSION_H_
#define URINGFS_VERSION_H_

#define URINGFS_VERSION_MAJOR 1
#define URINGFS_VERSION_MINOR 3
#define URINGFS_VERSION_PATCH 1

namespace uringfs {

// Version()
//
// The library's version, "MAJOR.MINOR.PATCH" (for example "1.0.0"). The
// returned string is static. Safe for concurrent use.
const char* Version();

}  // namespace uringfs

#endif  // URINGFS_VERSION_H_
