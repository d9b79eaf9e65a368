// -----------------------------------------------------------------------------
// tests/stats/stats_threads.h
// -----------------------------------------------------------------------------
//
// `StatsThreads()`: how many threads of this process are uringfs's periodic
// statistics threads ("uringfs-stats" in /proc/self/task/*/comm), so a test
// can tell that one exists while a LOG is open and none once it is closed,
// or none at all with `stats_dump_period_sec=0`.
//
// Thread-safety: safe for concurrent use.

#ifndef URINGFS_TESTS_STATS_STATS_THREADS_H_
#define URINGFS_TESTS_STATS_STATS_THREADS_H_

#include <filesystem>
#include <fstream>
#include <string>

namespace uringfs {
namespace testing {

inline int StatsThreads() {
  int n = 0;
  std::error_code ec;
  for (const auto& task :
       std::filesystem::directory_iterator("/proc/self/task", ec)) {
    std::ifstream comm(task.path() / "comm");
    std::string name;
    if (std::getline(comm, name) && name == "uringfs-stats") ++n;
  }
  return n;
}

}  // namespace testing
}  // namespace uringfs

#endif  // URINGFS_TESTS_STATS_STATS_THREADS_H_
