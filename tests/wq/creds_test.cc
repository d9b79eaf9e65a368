// Credentials, as root, in their own binary (they change per-thread process
// credentials). docs/design.md, appendix A, invariant 26:
//   FileCreatedByWorkItemIsOwnedBySubmitter
//   EachSubmitterSeesItsOwnIdentityEvenAfterChangingRightAfterEnqueue
//   OtherThreadsNeverSeeAChange
//   IdleWorkerKeepsItsLastIdentityAndNextItemRunsAsItsSubmitter
// Seam-based parts (a failed switch fails the item; same creds do not
// re-switch; identities changed behind a worker's back) are in queue_test.cc
// and creds_refresh_test.cc and run without root. "A worker spawned by an
// impersonating worker runs its items as their submitters" holds because
// every switch starts from what the thread actually runs as;
// BlockingSpawnFromImpersonatingWorkerRunsNextItemAsItsSubmitter checks the
// observable effect.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "env/wq/creds.h"
#include "env/wq/queue.h"
#include "gtest/gtest.h"
#include "tests/wq/test_util.h"

namespace uringfs {
namespace wq {
namespace {

using testing::Counter;
using testing::kWait;
using testing::Quiesce;
using testing::TestItem;

constexpr uid_t kUidA = 23001;
constexpr gid_t kGidA = 24001;
constexpr uid_t kUidB = 23002;
constexpr gid_t kGidB = 24002;

struct Seen {
  uid_t fsuid = 0;
  gid_t fsgid = 0;
  std::vector<gid_t> groups;
  pid_t tid = 0;
};

Seen Observe() {
  Seen s;
  s.fsuid = static_cast<uid_t>(::syscall(SYS_setfsuid, -1));
  s.fsgid = static_cast<gid_t>(::syscall(SYS_setfsgid, -1));
  CredsOps::Default()->GetGroups(&s.groups);
  s.tid = static_cast<pid_t>(::syscall(SYS_gettid));
  return s;
}

// Switches only the calling thread (raw syscalls), like a tenant thread.
bool BecomeOnThisThread(uid_t uid, gid_t gid, std::vector<gid_t> groups) {
  CredsSwitcher sw(CredsOps::Default());
  return sw.Apply(std::make_shared<const Creds>(uid, gid, std::move(groups))) ==
         0;
}

bool CanSwitch() {
  if (::geteuid() != 0) return false;
  bool ok = false;
  std::thread t([&ok] { ok = BecomeOnThisThread(kUidA, kGidA, {kGidA}); });
  t.join();
  return ok;
}

#define SKIP_UNLESS_ROOT()                                                   \
  if (!CanSwitch())                                                          \
  GTEST_SKIP() << "needs root with CAP_SETUID/CAP_SETGID and uids " << kUidA \
               << "/" << kUidB << " usable (not root, or a user "            \
               << "namespace without them)"

class ObservingItem final : public WorkItem {
 public:
  std::function<void()> action;
  Seen seen;
  Counter* freed = nullptr;
  void DoWork(int status) override {
    status_ = status;
    if (status != 0) return;
    seen = Observe();
    if (action) action();
  }
  WorkItem* FreeWork(int /*status*/) override {
    freed->Add();
    return nullptr;
  }
  int status() const { return status_; }

 private:
  int status_ = 1;
};

std::string TaskStatusLine(pid_t tid, const std::string& key) {
  std::ifstream in("/proc/self/task/" + std::to_string(tid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(key, 0) == 0) return line;
  }
  return "";
}

TEST(CredsTest, FileCreatedByWorkItemIsOwnedBySubmitter) {
  SKIP_UNLESS_ROOT();
  const char* tmp = std::getenv("TEST_TMPDIR");
  std::string dir =
      std::string(tmp != nullptr ? tmp : "/tmp") + "/wqcredsXXXXXX";
  ASSERT_NE(::mkdtemp(dir.data()), nullptr);
  ASSERT_EQ(::chmod(dir.c_str(), 0777), 0);
  const int dirfd = ::open(dir.c_str(), O_DIRECTORY | O_RDONLY);
  ASSERT_GE(dirfd, 0);
  Counter freed;
  ObservingItem item;
  item.freed = &freed;
  int create_errno = -1;
  item.action = [&] {
    const int fd = ::openat(dirfd, "owned", O_CREAT | O_WRONLY, 0644);
    create_errno = fd >= 0 ? 0 : errno;
    if (fd >= 0) ::close(fd);
  };
  Queue queue;
  auto task = queue.NewTask();
  std::thread submitter([&] {
    ASSERT_TRUE(BecomeOnThisThread(kUidA, kGidA, {kGidA}));
    task->Enqueue(&item);
  });
  submitter.join();
  ASSERT_TRUE(freed.WaitAtLeast(1));
  ASSERT_EQ(create_errno, 0);
  struct stat st;
  ASSERT_EQ(::fstatat(dirfd, "owned", &st, 0), 0);
  EXPECT_EQ(st.st_uid, kUidA);
  EXPECT_EQ(st.st_gid, kGidA);
  EXPECT_EQ(item.seen.fsuid, kUidA);
  EXPECT_NE(item.seen.tid, static_cast<pid_t>(::syscall(SYS_gettid)));
  ::unlinkat(dirfd, "owned", 0);
  ::close(dirfd);
  ::rmdir(dir.c_str());
}

TEST(CredsTest,
     EachSubmitterSeesItsOwnIdentityEvenAfterChangingRightAfterEnqueue) {
  SKIP_UNLESS_ROOT();
  Counter freed;
  ObservingItem a1, b1, a2;
  absl::Notification gate;
  for (ObservingItem* i : {&a1, &b1, &a2}) i->freed = &freed;
  a1.action = [&gate] { gate.WaitForNotificationWithTimeout(kWait); };
  QueueOptions o;
  o.max_bound_workers = 1;  // One worker runs all three, switching between.
  Queue queue(std::move(o));
  auto task = queue.NewTask();
  std::thread ta([&] {
    ASSERT_TRUE(BecomeOnThisThread(kUidA, kGidA, {kGidA, 777}));
    task->Enqueue(&a1);
    task->Enqueue(&a2);
    // Changing right after enqueue must not affect the queued items.
    ASSERT_TRUE(BecomeOnThisThread(kUidB, kGidB, {}));
  });
  ta.join();
  std::thread tb([&] {
    ASSERT_TRUE(BecomeOnThisThread(kUidB, kGidB, {kGidB}));
    task->Enqueue(&b1);
  });
  tb.join();
  gate.Notify();
  ASSERT_TRUE(freed.WaitAtLeast(3));
  EXPECT_EQ(a1.seen.fsuid, kUidA);
  EXPECT_EQ(a1.seen.fsgid, kGidA);
  EXPECT_EQ(a1.seen.groups, (std::vector<gid_t>{777, kGidA}));
  EXPECT_EQ(a2.seen.fsuid, kUidA);
  EXPECT_EQ(b1.seen.fsuid, kUidB);
  EXPECT_EQ(b1.seen.fsgid, kGidB);
  EXPECT_EQ(b1.seen.groups, (std::vector<gid_t>{kGidB}));
}

TEST(CredsTest, OtherThreadsNeverSeeAChange) {
  SKIP_UNLESS_ROOT();
  const Seen before = Observe();
  std::atomic<bool> stop{false};  // relaxed: a stop flag.
  std::atomic<int> changes{0};    // relaxed: a counter read after join.
  std::thread bystander([&] {
    const Seen mine = Observe();
    while (!stop.load(std::memory_order_relaxed)) {
      const Seen now = Observe();
      if (now.fsuid != mine.fsuid || now.fsgid != mine.fsgid ||
          now.groups != mine.groups) {
        changes.fetch_add(1, std::memory_order_relaxed);
      }
    }
  });
  Counter freed;
  std::vector<std::unique_ptr<ObservingItem>> items;
  QueueOptions o;
  o.max_bound_workers = 2;
  Queue queue(std::move(o));
  auto task = queue.NewTask();
  std::thread tenant([&] {
    ASSERT_TRUE(BecomeOnThisThread(kUidA, kGidA, {kGidA, 4242}));
    for (int i = 0; i < 200; ++i) {
      items.push_back(std::make_unique<ObservingItem>());
      items.back()->freed = &freed;
      if (i % 2) items.back()->SetConcurrent();
      task->Enqueue(items.back().get());
    }
  });
  tenant.join();
  ASSERT_TRUE(freed.WaitAtLeast(200));
  stop.store(true, std::memory_order_relaxed);
  bystander.join();
  EXPECT_EQ(changes.load(), 0);
  const Seen after = Observe();
  EXPECT_EQ(after.fsuid, before.fsuid);
  EXPECT_EQ(after.groups, before.groups);
  for (auto& i : items) ASSERT_EQ(i->seen.fsuid, kUidA);
}

TEST(CredsTest, IdleWorkerKeepsItsLastIdentityAndNextItemRunsAsItsSubmitter) {
  SKIP_UNLESS_ROOT();
  Counter freed;
  ObservingItem item, root_item;
  item.freed = root_item.freed = &freed;
  QueueOptions o;
  o.max_bound_workers = 1;  // The same worker runs both items.
  Queue queue(std::move(o));
  auto task = queue.NewTask();
  std::thread tenant([&] {
    ASSERT_TRUE(BecomeOnThisThread(kUidB, kGidB, {kGidB}));
    task->Enqueue(&item);
  });
  tenant.join();
  ASSERT_TRUE(freed.WaitAtLeast(1));
  ASSERT_TRUE(Quiesce(queue));  // Parked, as the tenant (no baseline).
  EXPECT_EQ(item.seen.fsuid, kUidB);
  // "Uid: real effective saved fs"; only the fs field is the tenant's.
  const std::string uid_line = TaskStatusLine(item.seen.tid, "Uid:");
  ASSERT_FALSE(uid_line.empty());
  EXPECT_EQ(uid_line.substr(uid_line.find_last_of('\t') + 1),
            std::to_string(kUidB));
  const Seen me = Observe();
  task->Enqueue(&root_item);  // Captured as this (root) thread.
  ASSERT_TRUE(freed.WaitAtLeast(2));
  EXPECT_EQ(root_item.seen.tid, item.seen.tid);
  EXPECT_EQ(root_item.seen.fsuid, me.fsuid);
  EXPECT_EQ(root_item.seen.fsgid, me.fsgid);
  EXPECT_EQ(root_item.seen.groups, me.groups);
}

TEST(CredsTest,
     BlockingSpawnFromImpersonatingWorkerRunsNextItemAsItsSubmitter) {
  SKIP_UNLESS_ROOT();
  Counter freed;
  absl::Notification queued, gate;
  ObservingItem tenant_item, root_item;
  tenant_item.freed = root_item.freed = &freed;
  tenant_item.action = [&] {
    queued.WaitForNotificationWithTimeout(kWait);
    BlockingScope scope;  // Creates a worker from this impersonating thread.
    gate.WaitForNotificationWithTimeout(kWait);
  };
  Queue queue;
  auto task = queue.NewTask();
  std::thread tenant([&] {
    ASSERT_TRUE(BecomeOnThisThread(kUidA, kGidA, {kGidA}));
    task->Enqueue(&tenant_item);
  });
  tenant.join();
  task->Enqueue(&root_item);  // Captured as root.
  queued.Notify();
  ASSERT_TRUE(freed.WaitAtLeast(1));  // root_item, on the new worker.
  EXPECT_EQ(root_item.seen.fsuid, 0u);
  EXPECT_EQ(root_item.seen.fsgid, 0u);
  EXPECT_NE(root_item.seen.tid, tenant_item.seen.tid);
  gate.Notify();
  ASSERT_TRUE(freed.WaitAtLeast(2));
  EXPECT_EQ(tenant_item.seen.fsuid, kUidA);
}

}  // namespace
}  // namespace wq
}  // namespace uringfs
