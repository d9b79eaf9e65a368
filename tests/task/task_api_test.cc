// include/uringfs/task.h through a real UringFileSystem, over the gate of
// tests/testing/seam_fs.h, which holds the base file system's appends so
// that written-behind work is reliably queued or running when a task is
// cancelled or shut down:
//
//   * Cancel: kNotFound on an idle task; kCancelled for queued work that is
//     not running (held behind another task's write to the same inode);
//     kRunning when the task's own write is running (its queued rest is
//     cancelled); the file's next call is Aborted "cancelled"; the task stays
//     usable. (Asynchronous reads: read_async_task_test.cc.)
//   * Shutdown(kDrain): every queued write reaches the file, then appends fail
//     "cancelled". Shutdown(kCancel): the running write finishes, the rest is
//     cancelled, Sync and Close report it.
//   * Isolation: cancelling or shutting down one task (IoTaskScope on its own
//     thread) leaves another task's queued writes intact and written; writes
//     of another file proceed while one file's write is held.
//   * Nested scopes, DefaultIoTask, non-uringfs file systems, the file system
//     after ShutdownUringFileSystem, counters.
// Anything that could hang runs under a Deadline that aborts the binary with
// a message instead.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "env/uring_file_system.h"
#include "rocksdb/file_system.h"
#include "tests/task/task_test_fixture.h"
#include "tests/testing/deadline.h"
#include "tests/testing/disk_file.h"
#include "tests/testing/seam_fs.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/write_behind_options.h"
#include "uringfs/options.h"
#include "uringfs/stats.h"
#include "uringfs/task.h"

namespace uringfs {
namespace {

using rocksdb::FileOptions;
using rocksdb::FSWritableFile;
using rocksdb::IOOptions;
using rocksdb::IOStatus;
using std::chrono::milliseconds;

using testing::Chunk;
using testing::Deadline;
using testing::Eventually;
using testing::ExistsOnDisk;
using testing::IsCancelled;
using testing::kChunk;
using testing::ReadFileOnDisk;
using testing::SizeOnDisk;
using testing::TaskApiTest;

// Runs `fn` on a new thread; the future is ready when it returned.
std::future<void> Async(std::function<void()> fn) {
  return std::async(std::launch::async, std::move(fn));
}

bool Ready(std::future<void>& f, milliseconds wait = milliseconds(0)) {
  return f.wait_for(wait) == std::future_status::ready;
}

// ---------------------------------------------------------------------------
// Cancel.
// ---------------------------------------------------------------------------

TEST_F(TaskApiTest, CancelOfAnIdleTaskIsNotFoundAndCounted) {
  std::shared_ptr<IoTask> task = NewTask();
  ASSERT_NE(task, nullptr);
  std::shared_ptr<IoTask> def;
  ASSERT_OK(DefaultIoTask(*fs_, &def));
  const UringFsStats before = Stats();
  EXPECT_OUTCOME(CancelOutcome::kNotFound, task->Cancel());
  EXPECT_OUTCOME(CancelOutcome::kNotFound, def->Cancel());
  // A task whose writes all completed is idle again.
  {
    IoTaskScope scope(task);
    std::unique_ptr<FSWritableFile> f = Create("idle.sst");
    AppendChunks(f.get(), 0, 2);
    ASSERT_OK(f->Close(IOOptions(), nullptr));
  }
  EXPECT_OUTCOME(CancelOutcome::kNotFound, task->Cancel());
  const UringFsStats after = Stats();
  EXPECT_EQ(after.cancels_not_found - before.cancels_not_found, 3u);
  EXPECT_EQ(after.cancels_cancelled, before.cancels_cancelled);
  EXPECT_EQ(after.cancels_running, before.cancels_running);
  EXPECT_EQ(after.writes_cancelled, before.writes_cancelled);
  EXPECT_FALSE(task->is_shut_down());
  EXPECT_FALSE(def->is_shut_down());
  EXPECT_EQ(ReadFileOnDisk(Path("idle.sst")), ChunksText(0, 2));
}

// Task A's append to the file is held in the device (running); task B's
// appends to the same inode, through a second handle, are queued behind it
// (one inode's work runs in submit order). Cancelling B finds only queued
// work: kCancelled. A is untouched.
TEST_F(TaskApiTest, CancelOfQueuedAppendsIsCancelledAndTheFileSaysCancelled) {
  Deadline deadline("CancelOfQueuedAppends", std::chrono::seconds(30));
  std::shared_ptr<IoTask> a = NewTask();
  std::shared_ptr<IoTask> b = NewTask();
  gate().CloseGate("shared.sst");
  std::unique_ptr<FSWritableFile> fa, fb;
  std::thread ta([&] {
    IoTaskScope scope(a);
    fa = Create("shared.sst");
    AppendChunks(fa.get(), 0, 1);
  });
  ta.join();
  ASSERT_TRUE(gate().WaitForBlocked(1, milliseconds(10000)))
      << "A's append never reached the base";
  const UringFsStats before = Stats();
  std::thread tb([&] {
    IoTaskScope scope(b);
    fb = Reopen("shared.sst");
    AppendChunks(fb.get(), 100, 2);  // Queued: returns at once.
  });
  tb.join();
  ASSERT_NE(fb, nullptr);

  EXPECT_OUTCOME(CancelOutcome::kCancelled, b->Cancel());
  const UringFsStats after = Stats();
  EXPECT_EQ(after.cancels_cancelled - before.cancels_cancelled, 1u);
  EXPECT_EQ(after.writes_cancelled - before.writes_cancelled, 2u);
  EXPECT_EQ(after.appends_queued - before.appends_queued, 2u);

  // B's file says so at its next call, and keeps saying it.
  {
    IoTaskScope scope(b);
    EXPECT_TRUE(IsCancelled(fb->Append("more", IOOptions(), nullptr)));
    EXPECT_TRUE(IsCancelled(fb->Flush(IOOptions(), nullptr)));
  }
  // A's held write was not B's business: it completes.
  EXPECT_FALSE(a->is_shut_down());
  gate().OpenGate();
  EXPECT_OK(fa->Close(IOOptions(), nullptr));
  EXPECT_TRUE(IsCancelled(fb->Close(IOOptions(), nullptr)));
  EXPECT_EQ(ReadFileOnDisk(Path("shared.sst")), ChunksText(0, 1))
      << "a cancelled append reached the file";

  // B stays open for new work (checked once the gate is open, so that this
  // does not depend on another worker picking it up while A's write is held;
  // AnotherFilesWritesProceedWhileOneFilesWriteIsHeld checks that).
  EXPECT_FALSE(b->is_shut_down());
  {
    IoTaskScope scope(b);
    std::unique_ptr<FSWritableFile> f = Create("b_after.sst");
    AppendChunks(f.get(), 7, 3);
    EXPECT_OK(f->Close(IOOptions(), nullptr));
  }
  EXPECT_EQ(ReadFileOnDisk(Path("b_after.sst")), ChunksText(7, 3));
  EXPECT_OUTCOME(CancelOutcome::kNotFound, b->Cancel());
}

// The task's own append is running (held in the device), two more are
// queued: Cancel says kRunning, cancels the queued ones, and the running one
// finishes.
TEST_F(TaskApiTest, CancelWithAWriteRunningIsRunningAndCancelsTheQueuedRest) {
  Deadline deadline("CancelWithAWriteRunning", std::chrono::seconds(30));
  std::shared_ptr<IoTask> task = NewTask();
  IoTaskScope scope(task);
  gate().CloseGate(".sst");
  std::unique_ptr<FSWritableFile> f = Create("run.sst");
  AppendChunks(f.get(), 0, 3);
  ASSERT_TRUE(gate().WaitForBlocked(1, milliseconds(10000)));
  const UringFsStats before = Stats();
  EXPECT_OUTCOME(CancelOutcome::kRunning, task->Cancel());
  const UringFsStats after = Stats();
  EXPECT_EQ(after.cancels_running - before.cancels_running, 1u);
  EXPECT_EQ(after.writes_cancelled - before.writes_cancelled, 2u);
  EXPECT_TRUE(IsCancelled(f->Append("x", IOOptions(), nullptr)));
  gate().OpenGate();
  EXPECT_TRUE(IsCancelled(f->Sync(IOOptions(), nullptr)));
  EXPECT_TRUE(IsCancelled(f->Close(IOOptions(), nullptr)));
  EXPECT_EQ(ReadFileOnDisk(Path("run.sst")), ChunksText(0, 1))
      << "the running write must finish, the queued ones must not";
  // Still usable, and idle again.
  EXPECT_FALSE(task->is_shut_down());
  std::unique_ptr<FSWritableFile> g = Create("again.sst");
  AppendChunks(g.get(), 5, 2);
  EXPECT_OK(g->Close(IOOptions(), nullptr));
  EXPECT_EQ(ReadFileOnDisk(Path("again.sst")), ChunksText(5, 2));
  EXPECT_OUTCOME(CancelOutcome::kNotFound, task->Cancel());
}

// ---------------------------------------------------------------------------
// Shutdown.
// ---------------------------------------------------------------------------

TEST_F(TaskApiTest, ShutdownDrainWritesEveryQueuedAppendThenRefusesAppends) {
  Deadline deadline("ShutdownDrain", std::chrono::seconds(30));
  std::shared_ptr<IoTask> task = NewTask();
  IoTaskScope scope(task);
  std::unique_ptr<FSWritableFile> wal = Create("000001.log");
  ASSERT_OK(wal->Append("before", IOOptions(), nullptr));
  ASSERT_OK(wal->Flush(IOOptions(), nullptr));
  gate().CloseGate(".sst");
  std::unique_ptr<FSWritableFile> f = Create("drain.sst");
  AppendChunks(f.get(), 0, 8);
  ASSERT_TRUE(gate().WaitForBlocked(1, milliseconds(10000)));
  const UringFsStats before = Stats();

  std::future<void> shutdown =
      Async([&] { task->Shutdown(ShutdownMode::kDrain); });
  EXPECT_TRUE(Eventually([&] { return task->is_shut_down(); }));
  EXPECT_FALSE(Ready(shutdown, milliseconds(100)))
      << "Shutdown(kDrain) returned while queued writes were held";
  gate().OpenGate();
  shutdown.get();

  EXPECT_EQ(SizeOnDisk(Path("drain.sst")), 8 * kChunk)
      << "Shutdown(kDrain) returned before its queued writes were written";
  EXPECT_EQ(ReadFileOnDisk(Path("drain.sst")), ChunksText(0, 8));
  EXPECT_EQ(Stats().writes_cancelled, before.writes_cancelled)
      << "a drain cancelled a queued write";

  // New work of the task is refused: an append fails "cancelled", on the
  // write-behind and on the write-through path, and nothing more reaches the
  // files.
  EXPECT_TRUE(IsCancelled(f->Append("late", IOOptions(), nullptr)))
      << "write-behind (.sst) append after Shutdown(kDrain)";
  EXPECT_TRUE(IsCancelled(f->Sync(IOOptions(), nullptr)));
  EXPECT_TRUE(IsCancelled(wal->Append("late", IOOptions(), nullptr)))
      << "write-through (.log) append after Shutdown(kDrain)";
  f->Close(IOOptions(), nullptr).PermitUncheckedError();
  wal->Close(IOOptions(), nullptr).PermitUncheckedError();
  EXPECT_EQ(ReadFileOnDisk(Path("drain.sst")), ChunksText(0, 8));
  EXPECT_EQ(ReadFileOnDisk(Path("000001.log")), "before");
  // Idempotent; kCancel after kDrain escalates without trouble.
  task->Shutdown(ShutdownMode::kDrain);
  task->Shutdown(ShutdownMode::kCancel);
  EXPECT_TRUE(task->is_shut_down());
}

TEST_F(TaskApiTest, ShutdownCancelFinishesTheRunningWriteAndFailsTheFile) {
  Deadline deadline("ShutdownCancel", std::chrono::seconds(30));
  std::shared_ptr<IoTask> task = NewTask();
  IoTaskScope scope(task);
  gate().CloseGate(".sst");
  std::unique_ptr<FSWritableFile> f = Create("cancel.sst");
  AppendChunks(f.get(), 0, 8);
  ASSERT_TRUE(gate().WaitForBlocked(1, milliseconds(10000)));
  const UringFsStats before = Stats();

  std::future<void> shutdown =
      Async([&] { task->Shutdown(ShutdownMode::kCancel); });
  // The 7 queued appends are cancelled at once; the held one is running.
  EXPECT_TRUE(Eventually([&] {
    return Stats().writes_cancelled - before.writes_cancelled >= 7;
  })) << "queued appends not cancelled: writes_cancelled went from "
      << before.writes_cancelled << " to " << Stats().writes_cancelled;
  EXPECT_FALSE(Ready(shutdown, milliseconds(50)))
      << "Shutdown returned while the task's write was still running";
  gate().OpenGate();
  shutdown.get();
  EXPECT_EQ(Stats().writes_cancelled - before.writes_cancelled, 7u);

  EXPECT_TRUE(IsCancelled(f->Sync(IOOptions(), nullptr)));
  EXPECT_TRUE(IsCancelled(f->Close(IOOptions(), nullptr)));
  EXPECT_EQ(ReadFileOnDisk(Path("cancel.sst")), ChunksText(0, 1))
      << "the running write is finished, never interrupted; the rest is not "
         "written";
}

TEST_F(TaskApiTest, DroppingTheLastReferenceOfATaskDrainsIt) {
  Deadline deadline("DroppingTheLastReference", std::chrono::seconds(30));
  std::shared_ptr<IoTask> task = NewTask();
  std::unique_ptr<FSWritableFile> f;
  gate().CloseGate(".sst");
  {
    IoTaskScope scope(task);
    f = Create("dropped.sst");
    AppendChunks(f.get(), 0, 4);
  }
  ASSERT_TRUE(gate().WaitForBlocked(1, milliseconds(10000)));
  std::future<void> drop =
      Async([t = std::move(task)]() mutable { t.reset(); });
  std::this_thread::sleep_for(milliseconds(20));
  gate().OpenGate();
  drop.get();
  EXPECT_EQ(ReadFileOnDisk(Path("dropped.sst")), ChunksText(0, 4));
  EXPECT_OK(f->Close(IOOptions(), nullptr));
}

// ---------------------------------------------------------------------------
// Isolation between tasks of one file system.
// ---------------------------------------------------------------------------

enum class Action { kCancel, kShutdownDrain, kShutdownCancel };

class TaskIsolationTest : public TaskApiTest,
                          public ::testing::WithParamInterface<Action> {
 protected:
  // On a thread of its own, under `task`: creates `name` and appends chunks
  // [first, first + n) to it.
  std::unique_ptr<FSWritableFile> CreateInTask(std::shared_ptr<IoTask> task,
                                               const std::string& name,
                                               int first, int n) {
    std::unique_ptr<FSWritableFile> f;
    std::thread t([&] {
      IoTaskScope scope(task);
      f = Create(name);
      AppendChunks(f.get(), first, n);
    });
    t.join();
    return f;
  }

  // Does to `task` what the test parameter says.
  static void Act(IoTask* task) {
    switch (GetParam()) {
      case Action::kCancel:
        task->Cancel();
        break;
      case Action::kShutdownDrain:
        task->Shutdown(ShutdownMode::kDrain);
        break;
      case Action::kShutdownCancel:
        task->Shutdown(ShutdownMode::kCancel);
        break;
    }
  }
};

TEST_P(TaskIsolationTest, OtherTasksQueuedWritesStayIntactAndAreWritten) {
  Deadline deadline("TaskIsolation", std::chrono::seconds(30));
  std::shared_ptr<IoTask> a = NewTask();
  std::shared_ptr<IoTask> b = NewTask();
  constexpr int kN = 6;
  gate().CloseGate(".sst");
  std::unique_ptr<FSWritableFile> fa = CreateInTask(a, "a.sst", 0, kN);
  std::unique_ptr<FSWritableFile> fb = CreateInTask(b, "b.sst", 100, kN);
  ASSERT_NE(fa, nullptr);
  ASSERT_NE(fb, nullptr);
  ASSERT_TRUE(gate().WaitForBlocked(1, milliseconds(10000)));
  const UringFsStats before = Stats();

  std::future<void> act = Async([&] { Act(a.get()); });
  if (GetParam() != Action::kShutdownDrain) {
    // A's queued appends (all of them, or all but a running one).
    EXPECT_TRUE(Eventually([&] {
      return Stats().writes_cancelled - before.writes_cancelled >= kN - 1;
    }));
  } else {
    std::this_thread::sleep_for(milliseconds(30));
  }
  gate().OpenGate();
  act.get();
  const uint64_t cancelled = Stats().writes_cancelled - before.writes_cancelled;
  EXPECT_LE(cancelled, static_cast<uint64_t>(kN)) << "more than A's work";

  // B: untouched, everything written, its file healthy.
  EXPECT_FALSE(b->is_shut_down());
  {
    IoTaskScope scope(b);
    EXPECT_OK(fb->Close(IOOptions(), nullptr));
  }
  EXPECT_EQ(ReadFileOnDisk(Path("b.sst")), ChunksText(100, kN));
  EXPECT_OUTCOME(CancelOutcome::kNotFound, b->Cancel());

  // A: as asked.
  const std::string a_text = ReadFileOnDisk(Path("a.sst"));
  if (GetParam() == Action::kShutdownDrain) {
    EXPECT_EQ(cancelled, 0u);
    EXPECT_EQ(a_text, ChunksText(0, kN));
    EXPECT_OK(fa->Close(IOOptions(), nullptr));
  } else {
    EXPECT_GE(cancelled, static_cast<uint64_t>(kN - 1));
    EXPECT_TRUE(a_text.empty() || a_text == ChunksText(0, 1))
        << "A's file has " << a_text.size() << " bytes";
    EXPECT_TRUE(IsCancelled(fa->Close(IOOptions(), nullptr)));
  }
  EXPECT_EQ(a->is_shut_down(), GetParam() != Action::kCancel);
}

INSTANTIATE_TEST_SUITE_P(
    Actions, TaskIsolationTest,
    ::testing::Values(Action::kCancel, Action::kShutdownDrain,
                      Action::kShutdownCancel),
    [](const ::testing::TestParamInfo<Action>& i) -> std::string {
      switch (i.param) {
        case Action::kCancel:
          return "Cancel";
        case Action::kShutdownDrain:
          return "ShutdownDrain";
        case Action::kShutdownCancel:
          return "ShutdownCancel";
      }
      return "?";
    });

// One file's write is stuck in the device; another task's writes to another
// file (a different inode) must not wait for it (write_scheduler.h: "different
// inodes run in parallel on up to write_workers threads"), or one stalled file
// would stall every task of the process.
TEST_F(TaskApiTest, AnotherFilesWritesProceedWhileOneFilesWriteIsHeld) {
  std::shared_ptr<IoTask> a = NewTask();
  std::shared_ptr<IoTask> b = NewTask();
  gate().CloseGate("held.sst");
  std::unique_ptr<FSWritableFile> fa;
  {
    IoTaskScope scope(a);
    fa = Create("held.sst");
    AppendChunks(fa.get(), 0, 2);
  }
  ASSERT_TRUE(gate().WaitForBlocked(1, milliseconds(10000)));
  std::future<void> other = Async([&] {
    IoTaskScope scope(b);
    std::unique_ptr<FSWritableFile> fb = Create("free.sst");
    AppendChunks(fb.get(), 10, 4);
    EXPECT_OK(fb->Close(IOOptions(), nullptr));
  });
  const bool done = Ready(other, milliseconds(5000));
  EXPECT_TRUE(done) << "task B's writes to free.sst waited for task A's held "
                       "write to held.sst (write_workers="
                    << fs_->options().write_workers << ", workers now "
                    << Stats().write_workers << ")";
  gate().OpenGate();
  {
    Deadline d("AnotherFilesWrites: after opening the gate",
               std::chrono::seconds(20));
    other.get();
    EXPECT_OK(fa->Close(IOOptions(), nullptr));
  }
  EXPECT_EQ(ReadFileOnDisk(Path("free.sst")), ChunksText(10, 4));
  EXPECT_EQ(ReadFileOnDisk(Path("held.sst")), ChunksText(0, 2));
}

// ---------------------------------------------------------------------------
// Scopes and the default task.
// ---------------------------------------------------------------------------

TEST_F(TaskApiTest, NestedScopesInnermostOfTheFileSystemWins) {
  Deadline deadline("NestedScopes", std::chrono::seconds(30));
  auto other_fs =
      std::make_shared<UringFileSystem>(testing::WriteBehindOptions(), base_);
  std::shared_ptr<IoTask> a = NewTask();
  std::shared_ptr<IoTask> b = NewTask();
  std::shared_ptr<IoTask> x;
  ASSERT_OK(NewIoTask(*other_fs, &x));
  ASSERT_NE(a->id(), b->id());
  ASSERT_NE(a->id(), x->id());
  EXPECT_EQ(IoTaskScope::Innermost(), nullptr);

  gate().CloseGate("nest.sst");
  std::unique_ptr<FSWritableFile> f;
  {
    IoTaskScope sa(a);
    EXPECT_EQ(IoTaskScope::Innermost(), &sa);
    EXPECT_EQ(sa.outer(), nullptr);
    {
      IoTaskScope sx(x);  // Another file system's task: skipped for fs_.
      EXPECT_EQ(sx.outer(), &sa);
      {
        IoTaskScope sb(b);
        EXPECT_EQ(IoTaskScope::Innermost(), &sb);
        EXPECT_EQ(sb.outer(), &sx);
        EXPECT_EQ(sb.task(), b);
        f = Create("nest.sst");
        AppendChunks(f.get(), 0, 1);  // Belongs to b (innermost), running.
        ASSERT_TRUE(gate().WaitForBlocked(1, milliseconds(10000)));
        EXPECT_OUTCOME(CancelOutcome::kNotFound, a->Cancel());
        EXPECT_OUTCOME(CancelOutcome::kNotFound, x->Cancel());
        EXPECT_OUTCOME(CancelOutcome::kRunning, b->Cancel());
      }
      EXPECT_EQ(IoTaskScope::Innermost(), &sx);
      // Innermost scope of fs_ is now a's (x belongs to other_fs). Queued
      // behind b's running write: a's Cancel finds it queued.
      ASSERT_OK(f->Append(Chunk(1, kChunk), IOOptions(), nullptr));
      EXPECT_OUTCOME(CancelOutcome::kNotFound, x->Cancel());
      EXPECT_OUTCOME(CancelOutcome::kCancelled, a->Cancel());
    }
    EXPECT_EQ(IoTaskScope::Innermost(), &sa);
  }
  EXPECT_EQ(IoTaskScope::Innermost(), nullptr);
  gate().OpenGate();
  EXPECT_TRUE(IsCancelled(f->Close(IOOptions(), nullptr)));
  EXPECT_EQ(ReadFileOnDisk(Path("nest.sst")), ChunksText(0, 1));
  // Nothing of the other file system was touched.
  UringFsStats other;
  ASSERT_OK(GetUringFsStats(*other_fs, &other));
  EXPECT_EQ(other.cancels_cancelled + other.cancels_running, 0u);
  EXPECT_EQ(other.cancels_not_found, 2u);
}

TEST_F(TaskApiTest, DefaultTaskOwnsTheIoOutsideScopes) {
  Deadline deadline("DefaultTask", std::chrono::seconds(30));
  std::shared_ptr<IoTask> d1, d2;
  ASSERT_OK(DefaultIoTask(*fs_, &d1));
  ASSERT_OK(DefaultIoTask(*fs_, &d2));
  ASSERT_NE(d1, nullptr);
  EXPECT_EQ(d1, d2);
  EXPECT_EQ(d1->id(), d2->id());
  EXPECT_FALSE(d1->is_shut_down());
  std::set<uint64_t> ids = {d1->id()};
  std::vector<std::shared_ptr<IoTask>> tasks;
  for (int i = 0; i < 20; ++i) {
    tasks.push_back(NewTask());
    EXPECT_TRUE(ids.insert(tasks.back()->id()).second) << "id reused";
  }
  // Ids are never reused, even after a task is gone.
  tasks.clear();
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(ids.insert(NewTask()->id()).second) << "id reused";
  }
  // Another file system has its own default task.
  auto other_fs =
      std::make_shared<UringFileSystem>(testing::WriteBehindOptions(), base_);
  std::shared_ptr<IoTask> od;
  ASSERT_OK(DefaultIoTask(*other_fs, &od));
  EXPECT_NE(od->id(), d1->id());

  std::shared_ptr<IoTask> t = NewTask();
  gate().CloseGate(".sst");
  std::unique_ptr<FSWritableFile> f = Create("default.sst");
  AppendChunks(f.get(), 0, 2);
  ASSERT_TRUE(gate().WaitForBlocked(1, milliseconds(10000)));
  EXPECT_OUTCOME(CancelOutcome::kNotFound, t->Cancel());
  EXPECT_OUTCOME(CancelOutcome::kNotFound, od->Cancel());
  EXPECT_OUTCOME(CancelOutcome::kRunning, d1->Cancel());
  gate().OpenGate();
  EXPECT_TRUE(IsCancelled(f->Close(IOOptions(), nullptr)));
  EXPECT_EQ(ReadFileOnDisk(Path("default.sst")), ChunksText(0, 1));
  EXPECT_FALSE(d1->is_shut_down());
}

TEST_F(TaskApiTest, NonUringFileSystemIsInvalidArgument) {
  std::shared_ptr<IoTask> t;
  UringFsStats st;
  for (rocksdb::FileSystem* other :
       {rocksdb::FileSystem::Default().get(),
        static_cast<rocksdb::FileSystem*>(base_.get())}) {
    SCOPED_TRACE(other->Name());
    EXPECT_TRUE(NewIoTask(*other, &t).IsInvalidArgument());
    EXPECT_EQ(t, nullptr);
    EXPECT_TRUE(DefaultIoTask(*other, &t).IsInvalidArgument());
    EXPECT_EQ(t, nullptr);
    EXPECT_TRUE(ShutdownUringFileSystem(*other, ShutdownMode::kDrain)
                    .IsInvalidArgument());
    EXPECT_TRUE(ShutdownUringFileSystem(*other, ShutdownMode::kCancel)
                    .IsInvalidArgument());
    EXPECT_TRUE(GetUringFsStats(*other, &st).IsInvalidArgument());
  }
  // The default file system still works afterwards.
  std::unique_ptr<FSWritableFile> f;
  ASSERT_OK(rocksdb::FileSystem::Default()->NewWritableFile(
      Path("plain"), FileOptions(), &f, nullptr));
  EXPECT_OK(f->Append("ok", IOOptions(), nullptr));
  EXPECT_OK(f->Close(IOOptions(), nullptr));
}

// ---------------------------------------------------------------------------
// ShutdownUringFileSystem.
// ---------------------------------------------------------------------------

// Every way of opening a file in `dir` through `fs` (shut down) is refused:
// Aborted, "shut down", nothing returned, nothing created. `dir` holds a file
// named "existing".
void ExpectEveryOpenRefused(rocksdb::FileSystem* fs, const std::string& dir) {
  auto path = [&dir](const std::string& name) { return dir + "/" + name; };
  auto expect_refused = [](const char* what, const IOStatus& s) {
    EXPECT_TRUE(s.IsAborted()) << what << ": " << s.ToString();
    EXPECT_NE(s.ToString().find("shut down"), std::string::npos)
        << what << ": " << s.ToString();
  };
  std::unique_ptr<FSWritableFile> w;
  expect_refused(
      "NewWritableFile",
      fs->NewWritableFile(path("new.sst"), FileOptions(), &w, nullptr));
  expect_refused(
      "NewWritableFile .log",
      fs->NewWritableFile(path("000009.log"), FileOptions(), &w, nullptr));
  expect_refused(
      "ReopenWritableFile",
      fs->ReopenWritableFile(path("existing"), FileOptions(), &w, nullptr));
  expect_refused("ReuseWritableFile",
                 fs->ReuseWritableFile(path("reused"), path("existing"),
                                       FileOptions(), &w, nullptr));
  std::unique_ptr<rocksdb::FSRandomAccessFile> r;
  expect_refused(
      "NewRandomAccessFile",
      fs->NewRandomAccessFile(path("existing"), FileOptions(), &r, nullptr));
  std::unique_ptr<rocksdb::FSSequentialFile> q;
  expect_refused(
      "NewSequentialFile",
      fs->NewSequentialFile(path("existing"), FileOptions(), &q, nullptr));
  std::unique_ptr<rocksdb::FSRandomRWFile> rw;
  expect_refused(
      "NewRandomRWFile",
      fs->NewRandomRWFile(path("existing"), FileOptions(), &rw, nullptr));
  EXPECT_EQ(w, nullptr);
  EXPECT_EQ(r, nullptr);
  EXPECT_EQ(q, nullptr);
  EXPECT_EQ(rw, nullptr);
  EXPECT_FALSE(ExistsOnDisk(path("new.sst"))) << "a refused open created";
}

TEST_F(TaskApiTest, ShutdownUringFileSystemDrainsEveryTaskThenOpensNothing) {
  Deadline deadline("ShutdownUringFileSystem", std::chrono::seconds(30));
  std::shared_ptr<IoTask> t1 = NewTask();
  std::shared_ptr<IoTask> def;
  ASSERT_OK(DefaultIoTask(*fs_, &def));
  ASSERT_OK(rocksdb::WriteStringToFile(rocksdb::Env::Default(), "data",
                                       Path("existing"), false));
  gate().CloseGate(".sst");
  std::unique_ptr<FSWritableFile> f1, f2;
  {
    IoTaskScope scope(t1);
    f1 = Create("t1.sst");
    AppendChunks(f1.get(), 0, 3);
  }
  f2 = Create("def.sst");
  AppendChunks(f2.get(), 50, 3);
  ASSERT_TRUE(gate().WaitForBlocked(1, milliseconds(10000)));

  std::future<void> shutdown = Async(
      [&] { EXPECT_OK(ShutdownUringFileSystem(*fs_, ShutdownMode::kDrain)); });
  // The tasks are shut down one after the other (opened ones first), each
  // waiting for its queued writes: t1's flag is up at once, the default
  // task's once t1 has drained.
  EXPECT_TRUE(Eventually([&] { return t1->is_shut_down(); }));
  EXPECT_FALSE(Ready(shutdown, milliseconds(20)))
      << "ShutdownUringFileSystem(kDrain) returned while writes were held";
  gate().OpenGate();
  shutdown.get();
  EXPECT_TRUE(t1->is_shut_down());
  EXPECT_TRUE(def->is_shut_down());
  EXPECT_EQ(ReadFileOnDisk(Path("t1.sst")), ChunksText(0, 3));
  EXPECT_EQ(ReadFileOnDisk(Path("def.sst")), ChunksText(50, 3));

  // Nothing opens any more: Aborted, "shut down".
  ExpectEveryOpenRefused(fs_.get(), dir_);

  std::shared_ptr<IoTask> late;
  EXPECT_TRUE(NewIoTask(*fs_, &late).IsAborted());
  // Idempotent, escalates, and the default task is still reported.
  EXPECT_OK(ShutdownUringFileSystem(*fs_, ShutdownMode::kDrain));
  EXPECT_OK(ShutdownUringFileSystem(*fs_, ShutdownMode::kCancel));
  std::shared_ptr<IoTask> def2;
  ASSERT_OK(DefaultIoTask(*fs_, &def2));
  EXPECT_TRUE(def2->is_shut_down());
  UringFsStats st;
  EXPECT_OK(GetUringFsStats(*fs_, &st));
  EXPECT_EQ(st.writes_cancelled, 0u);
  // Handles opened before still close.
  EXPECT_OK(f1->Close(IOOptions(), nullptr));
  EXPECT_OK(f2->Close(IOOptions(), nullptr));
}

TEST_F(TaskApiTest, ShutdownUringFileSystemBeforeAnyFileIsOpened) {
  EXPECT_OK(ShutdownUringFileSystem(*fs_, ShutdownMode::kCancel));
  std::unique_ptr<FSWritableFile> w;
  EXPECT_TRUE(fs_->NewWritableFile(Path("x.sst"), FileOptions(), &w, nullptr)
                  .IsAborted());
  std::shared_ptr<IoTask> t;
  EXPECT_TRUE(NewIoTask(*fs_, &t).IsAborted());
}

TEST_F(TaskApiTest, CountersOfTheWritePaths) {
  const UringFsStats before = Stats();
  std::unique_ptr<FSWritableFile> sst = Create("count.sst");
  std::unique_ptr<FSWritableFile> log = Create("000003.log");
  AppendChunks(sst.get(), 0, 3);
  AppendChunks(log.get(), 0, 2);
  ASSERT_OK(sst->Close(IOOptions(), nullptr));
  ASSERT_OK(log->Close(IOOptions(), nullptr));
  const UringFsStats after = Stats();
  EXPECT_EQ(after.appends_queued - before.appends_queued, 3u);
  EXPECT_EQ(after.bytes_queued - before.bytes_queued, 3 * kChunk);
  EXPECT_EQ(after.appends_direct - before.appends_direct, 2u);
  EXPECT_EQ(after.bytes_direct - before.bytes_direct, 2 * kChunk);
  EXPECT_EQ(after.writes_cancelled, before.writes_cancelled);
  EXPECT_EQ(after.queued_bytes, 0u);
  EXPECT_GE(after.write_workers, 1u);
  // ToString names the task counters.
  for (const char* key :
       {"cancels_cancelled=", "cancels_running=", "cancels_not_found=",
        "async_reads_cancelled=", "writes_cancelled=", "creds_switches="}) {
    EXPECT_NE(after.ToString().find(key), std::string::npos) << key;
  }
}

}  // namespace
}  // namespace uringfs
