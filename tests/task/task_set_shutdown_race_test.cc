// A task opened while the file system shuts down is either refused or shut
// down with the rest: no task escapes `ShutdownUringFileSystem`.

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "rocksdb/file_system.h"
#include "uringfs/options.h"
#include "uringfs/task.h"
#include "uringfs/uringfs.h"

namespace uringfs {
namespace {

TEST(TaskSetShutdownRaceTest, NoTaskOpenedDuringShutdownEscapesIt) {
  for (int round = 0; round < 200; ++round) {
    std::shared_ptr<rocksdb::FileSystem> fs;
    ASSERT_TRUE(NewUringFileSystem(UringFsOptions(), &fs).ok());
    std::shared_ptr<IoTask> first;
    ASSERT_TRUE(DefaultIoTask(*fs, &first).ok());  // Sets the tasks up.
    std::atomic<bool> go{false};
    std::vector<std::shared_ptr<IoTask>> opened;
    std::thread opener([&] {
      while (!go.load()) {
      }
      for (;;) {
        std::shared_ptr<IoTask> t;
        if (!NewIoTask(*fs, &t).ok()) break;  // Refused: shut down.
        opened.push_back(t);
      }
    });
    go.store(true);
    ASSERT_TRUE(ShutdownUringFileSystem(*fs, ShutdownMode::kDrain).ok());
    opener.join();
    for (const std::shared_ptr<IoTask>& t : opened) {
      ASSERT_TRUE(t->is_shut_down())
          << "round " << round << ": a task opened during the shutdown "
          << "escaped it";
    }
  }
}

}  // namespace
}  // namespace uringfs
