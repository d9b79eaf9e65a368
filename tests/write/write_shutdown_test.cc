// -----------------------------------------------------------------------------
// tests/write/write_shutdown_test.cc
// -----------------------------------------------------------------------------
//
// The write path of uringfs (env/writable_file.h) through `UringFileSystem`
// over the seam (the fixture of write_test_fixture.h): shutdown. Destroying the
// file system drains the queued writes; a file outliving its file system
// fails as cancelled; a thread whose task is shut down never sees Sync return
// OK while its queued append is held.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "env/uring_file_system.h"
#include "rocksdb/file_system.h"
#include "rocksdb/io_status.h"
#include "tests/testing/deadline.h"
#include "tests/testing/disk_file.h"
#include "tests/testing/status_matchers.h"
#include "tests/write/write_test_fixture.h"
#include "uringfs/options.h"
#include "uringfs/stats.h"
#include "uringfs/task.h"

namespace uringfs {
namespace {

using rocksdb::FSWritableFile;
using rocksdb::IOOptions;
using rocksdb::IOStatus;
using testing::Background;
using testing::Concat;
using testing::kMustReturn;
using testing::kStillBlocked;
using testing::ReadFileOnDisk;
using testing::SizeOnDisk;
using testing::WriteTest;
using ::uringfs::IoTask;
using namespace std::chrono_literals;

// ---------------------------------------------------------------------------
// Shutdown.
// ---------------------------------------------------------------------------

TEST_F(WriteTest, DestroyingTheFileSystemDrainsQueuedWrites) {
  std::unique_ptr<FSWritableFile> f = Open("000100.sst");
  ASSERT_NE(f, nullptr);
  seam_->CloseGate(".sst");
  const std::vector<std::string> parts = Parts(6, 1000, 20000);
  AppendAll(f.get(), parts);
  ASSERT_TRUE(seam_->WaitForBlocked(1, kMustReturn));
  std::atomic<bool> opened{false};
  std::thread opener([&] {
    std::this_thread::sleep_for(kStillBlocked);
    opened = true;
    seam_->OpenGate();
  });
  {
    Background b([&] { fs_.reset(); });
    EXPECT_TRUE(b.Finished(kMustReturn));
  }
  opener.join();
  EXPECT_TRUE(opened) << "the file system was destroyed before its queued "
                         "writes could be written";
  EXPECT_TRUE(ReadFileOnDisk(Path("000100.sst")) == Concat(parts, parts.size()))
      << "queued writes were lost when the file system was destroyed";
  EXPECT_OK(f->Close(IOOptions(), nullptr));
}

TEST_F(WriteTest, AppendAfterTheFileSystemIsGoneFailsAsCancelled) {
  std::unique_ptr<FSWritableFile> f = Open("000101.sst");
  ASSERT_NE(f, nullptr);
  ASSERT_OK(f->Append("before", IOOptions(), nullptr));
  {
    Background b([&] { fs_.reset(); });
    EXPECT_TRUE(b.Finished(kMustReturn));
  }
  // The file outlives its file system: its queued work can only be cancelled.
  IOStatus s;
  {
    Background b([&] {
      f->Append("after", IOOptions(), nullptr).PermitUncheckedError();
      s = f->Sync(IOOptions(), nullptr);
    });
    EXPECT_TRUE(b.Finished(kMustReturn));
  }
  EXPECT_TRUE(s.IsAborted()) << s.ToString();
  EXPECT_NE(s.ToString().find("cancel"), std::string::npos) << s.ToString();
  EXPECT_TRUE(f->Close(IOOptions(), nullptr).IsAborted());
  EXPECT_EQ(ReadFileOnDisk(Path("000101.sst")), "before");
}

// A thread whose current task (uringfs/task.h) is shut down may still call
// barriers on a file whose writes were queued under another, live task (the
// file system's default task here). Such a barrier may fail, or wait; it must
// not report the queued write as done while the device still holds it.
class ShutDownTaskBarrierTest : public WriteTest {
 protected:
  // Queues one append of `name` under the default task, held at the gate,
  // and returns a task that is already shut down.
  std::shared_ptr<IoTask> QueueHeldAppendAndShutDownTask(
      FSWritableFile* f, const std::string& data) {
    seam_->CloseGate(".sst");
    EXPECT_OK(f->Append(data, IOOptions(), nullptr));
    EXPECT_TRUE(seam_->WaitForBlocked(1, kMustReturn));
    std::shared_ptr<IoTask> task;
    EXPECT_OK(NewIoTask(*fs_, &task));
    if (task != nullptr) task->Shutdown(ShutdownMode::kDrain);
    return task;
  }
};

TEST_F(ShutDownTaskBarrierTest, SyncNeverReturnsOkWhileTheQueuedAppendIsHeld) {
  std::unique_ptr<FSWritableFile> f = Open("000130.sst");
  ASSERT_NE(f, nullptr);
  std::shared_ptr<IoTask> task =
      QueueHeldAppendAndShutDownTask(f.get(), "held");
  ASSERT_NE(task, nullptr);
  std::atomic<bool> gate_opened{false};
  bool returned_while_held = false;
  uint64_t on_disk = 0;
  IOStatus s;
  {
    Background b([&] {
      IoTaskScope scope(task);
      s = f->Sync(IOOptions(), nullptr);
      returned_while_held = !gate_opened;
      on_disk = SizeOnDisk(Path("000130.sst"));
    });
    b.Finished(kStillBlocked);
    gate_opened = true;
    seam_->OpenGate();
  }
  if (returned_while_held) {
    EXPECT_FALSE(s.ok())
        << "Sync returned OK while the append it covers was still held at the "
           "gate (file on disk then: "
        << on_disk << " bytes of 4)";
  }
  f->Close(IOOptions(), nullptr).PermitUncheckedError();
}

TEST_F(ShutDownTaskBarrierTest,
       GetFileSizeByNameNeverReturnsAShortSizeWhileTheQueuedAppendIsHeld) {
  std::unique_ptr<FSWritableFile> f = Open("000131.sst");
  ASSERT_NE(f, nullptr);
  std::shared_ptr<IoTask> task =
      QueueHeldAppendAndShutDownTask(f.get(), "held");
  ASSERT_NE(task, nullptr);
  IOStatus s;
  uint64_t size = 0;
  {
    Background b([&] {
      IoTaskScope scope(task);
      s = fs_->GetFileSize(Path("000131.sst"), IOOptions(), &size, nullptr);
    });
    b.Finished(kStillBlocked);
    seam_->OpenGate();
  }
  if (s.ok()) {
    EXPECT_EQ(size, 4u) << "GetFileSize by name did not wait for the queued "
                           "append (its drain marker went to the shut-down "
                           "task and was cancelled at once)";
  }
  ASSERT_OK(f->Close(IOOptions(), nullptr));
}

}  // namespace
}  // namespace uringfs
