// include/uringfs/task.h through a real UringFileSystem, over the gate of
// tests/write/seam_fs.h, which holds the base file system's appends so
// that written-behind work is reliably queued or running when a task is
// cancelled or shut down:
//
//   * Cancel: kNotFound on an idle task; kCancelled for queued work that is
//     not running (held behind another task's write to the same inode);
//     kRunning when the task's own write is running (its queued rest is
//     cancelled); the file's next call is Aborted "cancelled"; the task stays
//     usable; asynchronous reads in the kernel count as cancelled work.
//   * Shutdown(kDrain): every queued write reaches the file, then appends fail
//     "cancelled". Shutdown(kCancel): the running write finishes, the rest is
//     cancelled, Sync and Close report it.
//   * Isolation: cancelling or shutting down one task (IoTaskScope on its own
//     thread) leaves another task's queued writes intact and written; writes
//     of another file proceed while one file's write is held.
//   * Nested scopes, DefaultIoTask, non-uringfs file systems, the file system
//     after ShutdownUringFileSystem, counters.
//   * ReadAsync: refused (no callback) once the task is shut down; reads in
//     flight when the task is shut down complete at the next Poll with data
//     or Aborted, never hang; AbortIO / Poll / Cancel racing completions from
//     several threads: every callback exactly once, or never for an aborted
//     handle.
// Anything that could hang runs under a Deadline that aborts the binary with
// a message instead.

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <future>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "env/uring_file_system.h"
#include "rocksdb/file_system.h"
#include "tests/deadline.h"
#include "tests/status_matchers.h"
#include "tests/temp_dir.h"
#include "tests/write/seam_fs.h"
#include "uringfs/options.h"
#include "uringfs/stats.h"
#include "uringfs/task.h"

namespace uringfs {
namespace {

using rocksdb::FileOptions;
using rocksdb::FSReadRequest;
using rocksdb::FSWritableFile;
using rocksdb::IODebugContext;
using rocksdb::IOOptions;
using rocksdb::IOStatus;
using rocksdb::Slice;
using std::chrono::milliseconds;

using testing::Deadline;
using testing::SeamFileSystem;

// True once `pred` holds; false after `limit`.
bool Eventually(const std::function<bool()>& pred,
                milliseconds limit = milliseconds(10000)) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(milliseconds(1));
  }
  return true;
}

// ---------------------------------------------------------------------------
// Helpers.
// ---------------------------------------------------------------------------

using testing::FreshDir;
using testing::RemoveTree;

std::string Chunk(int i, size_t n) {
  std::string s(n, '\0');
  uint32_t x = 0x9e3779b9u * static_cast<uint32_t>(i + 1);
  for (char& c : s) {
    x = x * 1664525u + 1013904223u;
    c = static_cast<char>('A' + (x >> 24) % 26);
  }
  return s;
}

std::string Contents(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

uint64_t SizeOf(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return ~uint64_t{0};
  return static_cast<uint64_t>(st.st_size);
}

bool SaysCancelled(const IOStatus& s) {
  return s.ToString().find("cancelled") != std::string::npos;
}

// An Aborted status whose message says cancelled.
::testing::AssertionResult IsCancelled(const IOStatus& s) {
  if (s.IsAborted() && SaysCancelled(s)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "expected Aborted \"cancelled\", got " << s.ToString();
}

const char* OutcomeName(CancelOutcome o) {
  switch (o) {
    case CancelOutcome::kCancelled: return "kCancelled";
    case CancelOutcome::kRunning: return "kRunning";
    case CancelOutcome::kNotFound: return "kNotFound";
  }
  return "?";
}

#define EXPECT_OUTCOME(expected, expr)                                   \
  do {                                                                   \
    const CancelOutcome _o = (expr);                                     \
    EXPECT_EQ(_o, expected) << #expr << " returned " << OutcomeName(_o)  \
                            << ", expected " << OutcomeName(expected);   \
  } while (0)

// Runs `fn` on a new thread; the future is ready when it returned.
std::future<void> Async(std::function<void()> fn) {
  return std::async(std::launch::async, std::move(fn));
}

bool Ready(std::future<void>& f, milliseconds wait = milliseconds(0)) {
  return f.wait_for(wait) == std::future_status::ready;
}

constexpr size_t kChunk = 64 << 10;

class TaskApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = FreshDir("task_api");
    base_ = std::make_shared<SeamFileSystem>();
    fs_ = std::make_shared<UringFileSystem>(UringFsOptions(), base_);
  }
  void TearDown() override {
    base_->OpenGate();
    {
      Deadline d("TearDown: destroying the file system", std::chrono::seconds(20));
      fs_.reset();
    }
    RemoveTree(dir_);
  }

  std::string Path(const std::string& name) const { return dir_ + "/" + name; }
  // The gate of the seam under uringfs: appends to matching names wait.
  SeamFileSystem& gate() { return *base_; }

  std::unique_ptr<FSWritableFile> Create(const std::string& name) {
    std::unique_ptr<FSWritableFile> f;
    IOStatus s = fs_->NewWritableFile(Path(name), FileOptions(), &f, nullptr);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return f;
  }
  std::unique_ptr<FSWritableFile> Reopen(const std::string& name) {
    std::unique_ptr<FSWritableFile> f;
    IOStatus s =
        fs_->ReopenWritableFile(Path(name), FileOptions(), &f, nullptr);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return f;
  }
  std::shared_ptr<IoTask> NewTask() {
    std::shared_ptr<IoTask> t;
    rocksdb::Status s = NewIoTask(*fs_, &t);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return t;
  }
  UringFsStats Stats() const {
    UringFsStats st;
    EXPECT_OK(GetUringFsStats(*fs_, &st));
    return st;
  }
  // Appends chunks [first, first + n) of size kChunk.
  static void AppendChunks(FSWritableFile* f, int first, int n) {
    for (int i = first; i < first + n; ++i) {
      ASSERT_OK(f->Append(Chunk(i, kChunk), IOOptions(), nullptr));
    }
  }
  static std::string ChunksText(int first, int n) {
    std::string s;
    for (int i = first; i < first + n; ++i) s += Chunk(i, kChunk);
    return s;
  }

  std::string dir_;
  std::shared_ptr<SeamFileSystem> base_;
  std::shared_ptr<UringFileSystem> fs_;
};

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
  EXPECT_EQ(Contents(Path("idle.sst")), ChunksText(0, 2));
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
  ASSERT_TRUE(gate().WaitForBlocked(1, milliseconds(10000))) << "A's append never reached the base";
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
  EXPECT_EQ(Contents(Path("shared.sst")), ChunksText(0, 1))
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
  EXPECT_EQ(Contents(Path("b_after.sst")), ChunksText(7, 3));
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
  EXPECT_EQ(Contents(Path("run.sst")), ChunksText(0, 1))
      << "the running write must finish, the queued ones must not";
  // Still usable, and idle again.
  EXPECT_FALSE(task->is_shut_down());
  std::unique_ptr<FSWritableFile> g = Create("again.sst");
  AppendChunks(g.get(), 5, 2);
  EXPECT_OK(g->Close(IOOptions(), nullptr));
  EXPECT_EQ(Contents(Path("again.sst")), ChunksText(5, 2));
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

  EXPECT_EQ(SizeOf(Path("drain.sst")), 8 * kChunk)
      << "Shutdown(kDrain) returned before its queued writes were written";
  EXPECT_EQ(Contents(Path("drain.sst")), ChunksText(0, 8));
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
  EXPECT_EQ(Contents(Path("drain.sst")), ChunksText(0, 8));
  EXPECT_EQ(Contents(Path("000001.log")), "before");
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
  EXPECT_TRUE(Eventually(
      [&] { return Stats().writes_cancelled - before.writes_cancelled >= 7; }))
      << "queued appends not cancelled: writes_cancelled went from "
      << before.writes_cancelled << " to " << Stats().writes_cancelled;
  EXPECT_FALSE(Ready(shutdown, milliseconds(50)))
      << "Shutdown returned while the task's write was still running";
  gate().OpenGate();
  shutdown.get();
  EXPECT_EQ(Stats().writes_cancelled - before.writes_cancelled, 7u);

  EXPECT_TRUE(IsCancelled(f->Sync(IOOptions(), nullptr)));
  EXPECT_TRUE(IsCancelled(f->Close(IOOptions(), nullptr)));
  EXPECT_EQ(Contents(Path("cancel.sst")), ChunksText(0, 1))
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
  std::future<void> drop = Async([t = std::move(task)]() mutable { t.reset(); });
  std::this_thread::sleep_for(milliseconds(20));
  gate().OpenGate();
  drop.get();
  EXPECT_EQ(Contents(Path("dropped.sst")), ChunksText(0, 4));
  EXPECT_OK(f->Close(IOOptions(), nullptr));
}

// ---------------------------------------------------------------------------
// Isolation between tasks of one file system.
// ---------------------------------------------------------------------------

enum class Action { kCancel, kShutdownDrain, kShutdownCancel };

class TaskIsolationTest : public TaskApiTest,
                          public ::testing::WithParamInterface<Action> {};

TEST_P(TaskIsolationTest, OtherTasksQueuedWritesStayIntactAndAreWritten) {
  Deadline deadline("TaskIsolation", std::chrono::seconds(30));
  std::shared_ptr<IoTask> a = NewTask();
  std::shared_ptr<IoTask> b = NewTask();
  constexpr int kN = 6;
  gate().CloseGate(".sst");
  std::unique_ptr<FSWritableFile> fa, fb;
  std::thread ta([&] {
    IoTaskScope scope(a);
    fa = Create("a.sst");
    AppendChunks(fa.get(), 0, kN);
  });
  std::thread tb([&] {
    IoTaskScope scope(b);
    fb = Create("b.sst");
    AppendChunks(fb.get(), 100, kN);
  });
  ta.join();
  tb.join();
  ASSERT_TRUE(gate().WaitForBlocked(1, milliseconds(10000)));
  const UringFsStats before = Stats();

  std::future<void> act = Async([&] {
    switch (GetParam()) {
      case Action::kCancel: a->Cancel(); break;
      case Action::kShutdownDrain: a->Shutdown(ShutdownMode::kDrain); break;
      case Action::kShutdownCancel: a->Shutdown(ShutdownMode::kCancel); break;
    }
  });
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
  EXPECT_EQ(Contents(Path("b.sst")), ChunksText(100, kN));
  EXPECT_OUTCOME(CancelOutcome::kNotFound, b->Cancel());

  // A: as asked.
  const std::string a_text = Contents(Path("a.sst"));
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
        case Action::kCancel: return "Cancel";
        case Action::kShutdownDrain: return "ShutdownDrain";
        case Action::kShutdownCancel: return "ShutdownCancel";
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
  EXPECT_EQ(Contents(Path("free.sst")), ChunksText(10, 4));
  EXPECT_EQ(Contents(Path("held.sst")), ChunksText(0, 2));
}

// ---------------------------------------------------------------------------
// Scopes and the default task.
// ---------------------------------------------------------------------------

TEST_F(TaskApiTest, NestedScopesInnermostOfTheFileSystemWins) {
  Deadline deadline("NestedScopes", std::chrono::seconds(30));
  auto other_fs =
      std::make_shared<UringFileSystem>(UringFsOptions(), base_);
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
  EXPECT_EQ(Contents(Path("nest.sst")), ChunksText(0, 1));
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
  auto other_fs = std::make_shared<UringFileSystem>(UringFsOptions(), base_);
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
  EXPECT_EQ(Contents(Path("default.sst")), ChunksText(0, 1));
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
  EXPECT_EQ(Contents(Path("t1.sst")), ChunksText(0, 3));
  EXPECT_EQ(Contents(Path("def.sst")), ChunksText(50, 3));

  // Nothing opens any more: Aborted, "shut down".
  auto expect_refused = [](const char* what, const IOStatus& s) {
    EXPECT_TRUE(s.IsAborted()) << what << ": " << s.ToString();
    EXPECT_NE(s.ToString().find("shut down"), std::string::npos)
        << what << ": " << s.ToString();
  };
  std::unique_ptr<FSWritableFile> w;
  expect_refused("NewWritableFile",
                 fs_->NewWritableFile(Path("new.sst"), FileOptions(), &w,
                                      nullptr));
  expect_refused("NewWritableFile .log",
                 fs_->NewWritableFile(Path("000009.log"), FileOptions(), &w,
                                      nullptr));
  expect_refused("ReopenWritableFile",
                 fs_->ReopenWritableFile(Path("existing"), FileOptions(), &w,
                                         nullptr));
  expect_refused("ReuseWritableFile",
                 fs_->ReuseWritableFile(Path("reused"), Path("existing"),
                                        FileOptions(), &w, nullptr));
  std::unique_ptr<rocksdb::FSRandomAccessFile> r;
  expect_refused("NewRandomAccessFile",
                 fs_->NewRandomAccessFile(Path("existing"), FileOptions(), &r,
                                          nullptr));
  std::unique_ptr<rocksdb::FSSequentialFile> q;
  expect_refused("NewSequentialFile",
                 fs_->NewSequentialFile(Path("existing"), FileOptions(), &q,
                                        nullptr));
  std::unique_ptr<rocksdb::FSRandomRWFile> rw;
  expect_refused("NewRandomRWFile",
                 fs_->NewRandomRWFile(Path("existing"), FileOptions(), &rw,
                                      nullptr));
  EXPECT_EQ(w, nullptr);
  EXPECT_EQ(r, nullptr);
  EXPECT_EQ(q, nullptr);
  EXPECT_EQ(rw, nullptr);
  EXPECT_EQ(SizeOf(Path("new.sst")), ~uint64_t{0}) << "a refused open created";

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
  EXPECT_TRUE(
      fs_->NewWritableFile(Path("x.sst"), FileOptions(), &w, nullptr)
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
  for (const char* key : {"cancels_cancelled=", "cancels_running=",
                          "cancels_not_found=", "async_reads_cancelled=",
                          "writes_cancelled=", "creds_switches="}) {
    EXPECT_NE(after.ToString().find(key), std::string::npos) << key;
  }
}

// ---------------------------------------------------------------------------
// Asynchronous reads.
// ---------------------------------------------------------------------------

// One ReadAsync and what its callback saw.
struct AsyncCall {
  FSReadRequest req;
  char* buf = nullptr;
  void* handle = nullptr;
  rocksdb::IOHandleDeleter del;
  std::atomic<int> calls{0};
  IOStatus status;
  std::string data;

  AsyncCall() = default;
  AsyncCall(const AsyncCall&) = delete;
  ~AsyncCall() {
    if (handle != nullptr && del) del(handle);
    ::free(buf);
  }

  IOStatus Start(rocksdb::FSRandomAccessFile* file, uint64_t offset,
                 size_t n) {
    if (buf == nullptr) {
      void* p = nullptr;
      if (::posix_memalign(&p, 4096, std::max<size_t>(n, 4096)) != 0) {
        return IOStatus::IOError("posix_memalign");
      }
      buf = static_cast<char*>(p);
    }
    req.offset = offset;
    req.len = n;
    req.scratch = buf;
    return file->ReadAsync(
        req, IOOptions(),
        [this](const FSReadRequest& r, void* arg) {
          EXPECT_EQ(arg, static_cast<void*>(this));
          calls.fetch_add(1);
          status = r.status;
          data = r.result.ToString();
        },
        this, &handle, &del, nullptr);
  }
};

// Byte i of a pattern file.
char PatternByte(uint64_t i) {
  return static_cast<char>('a' + (i * 7 + i / 4096) % 26);
}

std::string Pattern(uint64_t offset, size_t n) {
  std::string s(n, '\0');
  for (size_t k = 0; k < n; ++k) s[k] = PatternByte(offset + k);
  return s;
}

void WritePatternFile(const std::string& path, uint64_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  const size_t kBlock = 1 << 20;
  for (uint64_t off = 0; off < size; off += kBlock) {
    const std::string s = Pattern(off, std::min<uint64_t>(kBlock, size - off));
    out.write(s.data(), static_cast<std::streamsize>(s.size()));
  }
}

class AsyncTaskTest : public TaskApiTest {
 protected:
  void SetUp() override {
    TaskApiTest::SetUp();
    path_ = Path("pattern");
    WritePatternFile(path_, kSize);
    file_ = OpenRandom(path_, false);
    ASSERT_NE(file_, nullptr);
    io_uring_ = Stats().io_uring_in_use;
  }
  void TearDown() override {
    file_.reset();
    TaskApiTest::TearDown();
  }
  std::unique_ptr<rocksdb::FSRandomAccessFile> OpenRandom(
      const std::string& path, bool direct) {
    FileOptions fo;
    fo.use_direct_reads = direct;
    std::unique_ptr<rocksdb::FSRandomAccessFile> f;
    IOStatus s = fs_->NewRandomAccessFile(path, fo, &f, nullptr);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return f;
  }

  static constexpr uint64_t kSize = 1 << 20;
  std::string path_;
  std::unique_ptr<rocksdb::FSRandomAccessFile> file_;
  bool io_uring_ = false;
};

TEST_F(AsyncTaskTest, ReadAsyncAfterTheTaskIsShutDownFailsToStart) {
  Deadline deadline("ReadAsyncAfterShutdown", std::chrono::seconds(30));
  std::shared_ptr<IoTask> task = NewTask();
  task->Shutdown(ShutdownMode::kDrain);
  {
    IoTaskScope scope(task);
    AsyncCall c;
    IOStatus s = c.Start(file_.get(), 4096, 1000);
    EXPECT_TRUE(IsCancelled(s));
    EXPECT_EQ(c.handle, nullptr);
    std::vector<void*> none;
    EXPECT_OK(fs_->Poll(none, 0));
    EXPECT_EQ(c.calls.load(), 0);
    // Synchronous reads run on the caller: not affected.
    std::string scratch(1000, '\0');
    Slice result;
    ASSERT_OK(file_->Read(4096, 1000, IOOptions(), &result, &scratch[0],
                          nullptr));
    EXPECT_EQ(result.ToString(), Pattern(4096, 1000));
  }
  // Outside the scope the default task (still open) reads.
  {
    AsyncCall c;
    ASSERT_OK(c.Start(file_.get(), 8192, 500));
    std::vector<void*> h = {c.handle};
    ASSERT_OK(fs_->Poll(h, 1));
    EXPECT_EQ(c.calls.load(), 1);
    EXPECT_OK(c.status);
    EXPECT_EQ(c.data, Pattern(8192, 500));
  }
  // After ShutdownUringFileSystem, a file opened before refuses ReadAsync
  // from anywhere, and still reads synchronously.
  ASSERT_OK(ShutdownUringFileSystem(*fs_, ShutdownMode::kDrain));
  {
    AsyncCall c;
    EXPECT_TRUE(IsCancelled(c.Start(file_.get(), 0, 100)));
    EXPECT_EQ(c.handle, nullptr);
    EXPECT_EQ(c.calls.load(), 0);
    std::string scratch(100, '\0');
    Slice result;
    ASSERT_OK(file_->Read(0, 100, IOOptions(), &result, &scratch[0], nullptr));
    EXPECT_EQ(result.ToString(), Pattern(0, 100));
  }
}

// Reads held in flight by a FIFO (no data until we write some): a shutdown
// of their task cancels them; they complete at the next Poll with Aborted
// "cancelled". Another task's read on the same FIFO stays and gets data.
class FifoTaskTest : public AsyncTaskTest {
 protected:
  void SetUp() override {
    AsyncTaskTest::SetUp();
    if (HasFatalFailure()) return;
    if (!io_uring_) {
      GTEST_SKIP() << "io_uring is not in use here (" << Stats().io_uring
                   << "); without it ReadAsync on a FIFO would block inside "
                      "ReadAsync, nothing can be kept in flight";
    }
    fifo_ = Path("fifo");
    ASSERT_EQ(::mkfifo(fifo_.c_str(), 0600), 0) << std::strerror(errno);
    writer_ = ::open(fifo_.c_str(), O_RDWR | O_CLOEXEC);  // Never blocks.
    ASSERT_GE(writer_, 0);
    fifo_file_ = OpenRandom(fifo_, false);
    ASSERT_NE(fifo_file_, nullptr);
  }
  void TearDown() override {
    fifo_file_.reset();
    if (writer_ >= 0) ::close(writer_);
    AsyncTaskTest::TearDown();
  }
  void Feed(const std::string& s) {
    ASSERT_EQ(::write(writer_, s.data(), s.size()),
              static_cast<ssize_t>(s.size()));
  }

  std::string fifo_;
  int writer_ = -1;
  std::unique_ptr<rocksdb::FSRandomAccessFile> fifo_file_;
};

TEST_F(FifoTaskTest, InFlightReadsOfAShutDownTaskCompleteAtPollAsCancelled) {
  Deadline deadline("InFlightReadsOfAShutDownTask", std::chrono::seconds(30));
  std::shared_ptr<IoTask> t = NewTask();
  std::shared_ptr<IoTask> u = NewTask();
  constexpr int kReads = 4;
  std::vector<std::unique_ptr<AsyncCall>> mine;
  {
    IoTaskScope scope(t);
    for (int i = 0; i < kReads; ++i) {
      mine.push_back(std::make_unique<AsyncCall>());
      ASSERT_OK(mine.back()->Start(fifo_file_.get(), 0, 64));
    }
  }
  AsyncCall theirs;
  {
    IoTaskScope scope(u);
    ASSERT_OK(theirs.Start(fifo_file_.get(), 0, 64));
  }
  std::this_thread::sleep_for(milliseconds(5));
  const UringFsStats before = Stats();
  t->Shutdown(ShutdownMode::kDrain);
  const UringFsStats after = Stats();
  EXPECT_EQ(after.async_reads_cancelled - before.async_reads_cancelled,
            static_cast<uint64_t>(kReads));

  std::vector<void*> handles;
  for (auto& c : mine) handles.push_back(c->handle);
  ASSERT_OK(fs_->Poll(handles, handles.size()));
  for (auto& c : mine) {
    EXPECT_EQ(c->calls.load(), 1);
    EXPECT_TRUE(IsCancelled(c->status));
  }
  ASSERT_OK(fs_->Poll(handles, handles.size()));  // Never twice.
  for (auto& c : mine) EXPECT_EQ(c->calls.load(), 1);

  // U's read was not cancelled: it gets the data.
  EXPECT_EQ(theirs.calls.load(), 0);
  Feed(std::string(64, 'q'));
  std::vector<void*> h = {theirs.handle};
  ASSERT_OK(fs_->Poll(h, 1));
  EXPECT_EQ(theirs.calls.load(), 1);
  EXPECT_OK(theirs.status);
  EXPECT_EQ(theirs.data, std::string(64, 'q'));
  EXPECT_FALSE(u->is_shut_down());
}

// Cancel() covers asynchronous reads in the kernel too (task.h: "kCancelled:
// Queued work (or reads in the kernel) was cancelled"); the task stays open.
TEST_F(FifoTaskTest, CancelOfATaskWithReadsInTheKernelIsCancelled) {
  Deadline deadline("CancelOfReads", std::chrono::seconds(30));
  std::shared_ptr<IoTask> t = NewTask();
  IoTaskScope scope(t);
  AsyncCall c;
  ASSERT_OK(c.Start(fifo_file_.get(), 0, 32));
  std::this_thread::sleep_for(milliseconds(5));
  const UringFsStats before = Stats();
  EXPECT_OUTCOME(CancelOutcome::kCancelled, t->Cancel());
  const UringFsStats after = Stats();
  EXPECT_EQ(after.async_reads_cancelled - before.async_reads_cancelled, 1u);
  std::vector<void*> h = {c.handle};
  ASSERT_OK(fs_->Poll(h, 1));
  EXPECT_EQ(c.calls.load(), 1);
  EXPECT_TRUE(IsCancelled(c.status));
  // Still open: a new read of the task starts and completes.
  EXPECT_FALSE(t->is_shut_down());
  AsyncCall d;
  ASSERT_OK(d.Start(fifo_file_.get(), 0, 16));
  Feed(std::string(16, 'z'));
  std::vector<void*> hd = {d.handle};
  ASSERT_OK(fs_->Poll(hd, 1));
  EXPECT_EQ(d.calls.load(), 1);
  EXPECT_OK(d.status);
  EXPECT_EQ(d.data, std::string(16, 'z'));
}

// Direct reads of a large file keep the device busy; a shutdown right after
// starting them leaves some in flight. Every callback runs exactly once at
// the next Poll, with the right data or with Aborted — never a hang.
TEST_F(AsyncTaskTest, DirectReadsInFlightAtShutdownCompleteWithDataOrAborted) {
  const std::string big = Path("big");
  constexpr uint64_t kBig = 32 << 20;
  WritePatternFile(big, kBig);
  const int probe = ::open(big.c_str(), O_RDONLY | O_DIRECT | O_CLOEXEC);
  if (probe < 0) {
    GTEST_SKIP() << "O_DIRECT open of " << big
                 << " failed: " << std::strerror(errno);
  }
  ::close(probe);
  std::unique_ptr<rocksdb::FSRandomAccessFile> f = OpenRandom(big, true);
  ASSERT_NE(f, nullptr);
  Deadline deadline("DirectReadsInFlightAtShutdown", std::chrono::seconds(60));
  constexpr size_t kLen = 256 << 10;
  constexpr int kReads = 48;
  int with_data = 0, aborted = 0;
  for (int round = 0; round < 6; ++round) {
    std::shared_ptr<IoTask> t = NewTask();
    std::vector<std::unique_ptr<AsyncCall>> calls;
    {
      IoTaskScope scope(t);
      for (int i = 0; i < kReads; ++i) {
        calls.push_back(std::make_unique<AsyncCall>());
        const uint64_t off =
            (static_cast<uint64_t>((i * 37 + round * 11) % (kBig / kLen))) *
            kLen;
        ASSERT_OK(calls.back()->Start(f.get(), off, kLen));
      }
    }
    t->Shutdown(round % 2 == 0 ? ShutdownMode::kDrain : ShutdownMode::kCancel);
    std::vector<void*> handles;
    for (auto& c : calls) handles.push_back(c->handle);
    ASSERT_OK(fs_->Poll(handles, handles.size()));
    for (auto& c : calls) {
      ASSERT_EQ(c->calls.load(), 1);
      if (c->status.ok()) {
        ++with_data;
        EXPECT_EQ(c->data.size(), kLen);
        EXPECT_TRUE(c->data == Pattern(c->req.offset, kLen))
            << "wrong data at " << c->req.offset;
      } else {
        ++aborted;
        EXPECT_TRUE(IsCancelled(c->status));
      }
    }
  }
  std::printf("direct reads at shutdown: %d with data, %d aborted (io_uring %s)\n",
              with_data, aborted, io_uring_ ? "on" : "off");
  if (!io_uring_) {
    EXPECT_EQ(aborted, 0) << "nothing is in flight without io_uring";
  }
}

// Several threads, each with its own task, start reads and immediately abort,
// poll, or poll some and abort the rest, while another thread keeps
// cancelling their tasks. Every callback runs exactly once, or never for a
// handle aborted before it was reported; data is right when the status is.
TEST_F(AsyncTaskTest, AbortIORacingCompletionsAndCancelsFromSeveralThreads) {
  const std::string big = Path("big");
  constexpr uint64_t kBig = 8 << 20;
  WritePatternFile(big, kBig);
  const int probe = ::open(big.c_str(), O_RDONLY | O_DIRECT | O_CLOEXEC);
  const bool direct = probe >= 0;
  if (probe >= 0) ::close(probe);
  std::unique_ptr<rocksdb::FSRandomAccessFile> fd =
      OpenRandom(big, direct);  // Direct when possible: slower, in flight.
  std::unique_ptr<rocksdb::FSRandomAccessFile> fb = OpenRandom(big, false);
  ASSERT_NE(fd, nullptr);
  ASSERT_NE(fb, nullptr);
  Deadline deadline("AbortIORacingCompletions", std::chrono::seconds(60));

  constexpr int kThreads = 4;
  constexpr int kIterations = 150;
  std::vector<std::shared_ptr<IoTask>> tasks;
  for (int i = 0; i < kThreads; ++i) tasks.push_back(NewTask());
  std::atomic<bool> stop{false};
  std::atomic<int> delivered{0}, never{0}, cancelled{0};
  std::thread canceller([&] {
    std::mt19937 rng(7);
    while (!stop.load()) {
      tasks[rng() % kThreads]->Cancel();
      std::this_thread::sleep_for(std::chrono::microseconds(300));
    }
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      IoTaskScope scope(tasks[t]);
      std::mt19937 rng(1000 + t);
      for (int it = 0; it < kIterations; ++it) {
        const int n = 1 + static_cast<int>(rng() % 6);
        std::vector<std::unique_ptr<AsyncCall>> calls;
        for (int i = 0; i < n; ++i) {
          calls.push_back(std::make_unique<AsyncCall>());
          const bool use_direct = (rng() % 2) == 0;
          const size_t len = use_direct ? (64 << 10) : 1000 + rng() % 9000;
          const uint64_t off =
              use_direct ? (rng() % (kBig / len)) * len : rng() % (kBig - len);
          ASSERT_OK(calls.back()->Start(use_direct ? fd.get() : fb.get(), off,
                                        len));
        }
        std::vector<void*> all;
        for (auto& c : calls) all.push_back(c->handle);
        std::vector<bool> aborted(calls.size(), false);
        switch (rng() % 4) {
          case 0:  // Abort at once.
            ASSERT_OK(fs_->AbortIO(all));
            aborted.assign(calls.size(), true);
            break;
          case 1:  // Reap what is done, abort the rest.
            ASSERT_OK(fs_->Poll(all, 0));
            ASSERT_OK(fs_->AbortIO(all));
            aborted.assign(calls.size(), true);
            break;
          case 2: {  // Abort the first half, wait for the rest.
            std::vector<void*> first(all.begin(), all.begin() + n / 2);
            std::vector<void*> rest(all.begin() + n / 2, all.end());
            ASSERT_OK(fs_->AbortIO(first));
            for (int i = 0; i < n / 2; ++i) aborted[i] = true;
            ASSERT_OK(fs_->Poll(rest, rest.size()));
            break;
          }
          default:  // Wait for all, then abort (a no-op for reported ones).
            ASSERT_OK(fs_->Poll(all, all.size()));
            ASSERT_OK(fs_->AbortIO(all));
            break;
        }
        for (size_t i = 0; i < calls.size(); ++i) {
          AsyncCall& c = *calls[i];
          const int k = c.calls.load();
          ASSERT_LE(k, 1) << "callback ran twice";
          if (!aborted[i]) {
            ASSERT_EQ(k, 1) << "polled read never called back";
          }
          if (k == 0) {
            ++never;
            continue;
          }
          ++delivered;
          if (c.status.ok()) {
            ASSERT_EQ(c.data.size(), c.req.len);
            ASSERT_TRUE(c.data == Pattern(c.req.offset, c.req.len))
                << "wrong data at " << c.req.offset;
          } else {
            ASSERT_TRUE(IsCancelled(c.status));
            ++cancelled;
          }
        }
        // A later Poll never calls an aborted or reported handle back.
        ASSERT_OK(fs_->Poll(all, 0));
        for (auto& c : calls) ASSERT_LE(c->calls.load(), 1);
      }
    });
  }
  for (std::thread& th : threads) th.join();
  stop = true;
  canceller.join();
  std::printf("racing reads: %d delivered (%d cancelled), %d aborted unseen; "
              "direct=%d io_uring=%d\n",
              delivered.load(), cancelled.load(), never.load(), direct ? 1 : 0,
              io_uring_ ? 1 : 0);
  EXPECT_GT(delivered.load(), 0);
}

}  // namespace
}  // namespace uringfs
