// Shutting the file system's tasks down allocates nothing on the calling
// thread (failing_new.h arms the very next allocation to fail; it must never
// fire): the shutdown runs in destructors, where a bad_alloc would be
// std::terminate. Replaces operator new, so not run under the sanitizers.

#include <memory>
#include <vector>

#include <gtest/gtest.h>

#include "env/fs_tasks.h"
#include "env/wq/queue.h"
#include "tests/testing/failing_new.h"

namespace uringfs {
namespace {

using testing::ArmAllocationFailure;
using testing::DisarmAllocationFailure;

TEST(ShutdownAllocFailureTest, ShuttingTasksDownAllocatesNothing) {
  wq::Queue queue;
  FsTasks tasks(&queue, std::weak_ptr<uring::ReadEngine>());
  std::vector<std::shared_ptr<FsTask>> opened;
  for (int i = 0; i < 4; ++i) opened.push_back(tasks.NewTask());
  opened[1].reset();  // One already gone: skipped, not visited twice.

  ArmAllocationFailure(0);
  tasks.Shutdown(ShutdownMode::kCancel);
  EXPECT_FALSE(DisarmAllocationFailure()) << "FsTasks::Shutdown allocated";

  EXPECT_TRUE(tasks.shut_down());
  EXPECT_TRUE(tasks.default_task()->is_shut_down());
  for (const std::shared_ptr<FsTask>& task : opened) {
    if (task != nullptr) {
      EXPECT_TRUE(task->is_shut_down());
    }
  }
  EXPECT_EQ(tasks.NewTask(), nullptr);
}

}  // namespace
}  // namespace uringfs
