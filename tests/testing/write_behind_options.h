// -----------------------------------------------------------------------------
// tests/testing/write_behind_options.h
// -----------------------------------------------------------------------------
//
// WriteBehindOptions(): uringfs's default options, except that table files
// are written behind (`write_behind=sst`). The tests of the worker queue, of
// queued work's credentials, of shutdown and of failing queued writes need
// appends that are queued, which the default (`none`) never makes.

#ifndef URINGFS_TESTS_TESTING_WRITE_BEHIND_OPTIONS_H_
#define URINGFS_TESTS_TESTING_WRITE_BEHIND_OPTIONS_H_

#include "uringfs/options.h"

namespace uringfs {
namespace testing {

inline UringFsOptions WriteBehindOptions() {
  UringFsOptions o;
  o.write_behind = "sst";
  return o;
}

}  // namespace testing
}  // namespace uringfs

#endif  // URINGFS_TESTS_TESTING_WRITE_BEHIND_OPTIONS_H_
