// The credential switcher never trusts what it believes a worker runs as: a
// process-wide set*id call (glibc broadcasts setgroups/setresgid/setresuid/
// seteuid to every thread, workers included) changes a worker's identity
// behind its back. Through the CredsOps seam, with a fake that keeps one
// thread's credentials under the kernel's rules (capabilities(7), setfsuid(2),
// setgroups(2)); every test runs one worker, so the fake is that worker:
//
//   * an item whose submitter matches what the worker actually runs as makes
//     no set* call, even after a process-wide change (after a drop to 65534
//     the worker could not make one: setgroups needs CAP_SETGID);
//   * an identity changed under the worker (fsuid reset by seteuid(0)) is
//     switched back to the submitter's;
//   * equal groups are never set again;
//   * the item runs with its submitter's effective capability set (within
//     what the worker is permitted), set with capset only when it differs;
//   * when nothing differs, a switch costs exactly four reads.
#include <linux/capability.h>
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "env/wq/creds.h"
#include "env/wq/queue.h"
#include "gtest/gtest.h"
#include "tests/wq/test_util.h"

namespace uringfs {
namespace wq {
namespace {

using testing::Counter;
using testing::Key;
using testing::kWait;
using testing::Quiesce;
using testing::TestItem;

constexpr uint64_t Cap(int cap) { return uint64_t{1} << cap; }

// The capabilities that capabilities(7) says a change of the fsuid between 0
// and non-zero clears from (or restores to) the effective set.
constexpr uint64_t kFsCaps = Cap(CAP_CHOWN) | Cap(CAP_DAC_OVERRIDE) |
                             Cap(CAP_DAC_READ_SEARCH) | Cap(CAP_FOWNER) |
                             Cap(CAP_FSETID) | Cap(CAP_LINUX_IMMUTABLE) |
                             Cap(CAP_MAC_OVERRIDE) | Cap(CAP_MKNOD);
constexpr uint64_t kAllCaps = (uint64_t{1} << (CAP_LAST_CAP + 1)) - 1;

// One thread's credentials with the kernel's rules: changing an id needs
// CAP_SETUID/CAP_SETGID in the effective set unless the new id is one the
// thread already has; setgroups always needs CAP_SETGID; an fsuid change
// between 0 and non-zero clears or restores the file-system capabilities.
// Counts every call. Thread-safe (the worker calls, the test inspects).
class FakeThreadCreds final : public CredsOps {
 public:
  struct State {
    uid_t uid = 0;  // Real, effective and saved.
    gid_t gid = 0;
    uid_t fsuid = 0;
    gid_t fsgid = 0;
    std::vector<gid_t> groups;
    uint64_t effective = kAllCaps;
    uint64_t permitted = kAllCaps;
    uint64_t inheritable = 0;
  };
  struct Calls {
    int fsuid_queries = 0;
    int fsgid_queries = 0;
    int get_groups = 0;
    int set_fsuid = 0;
    int set_fsgid = 0;
    int set_groups = 0;
    int cap_get = 0;
    int cap_set = 0;
    // Calls that may change the thread's credentials.
    int Sets() const { return set_fsuid + set_fsgid + set_groups + cap_set; }
    // Every call.
    int All() const {
      return fsuid_queries + fsgid_queries + get_groups + cap_get + Sets();
    }
  };

  long SetFsuid(uid_t id) ABSL_LOCKS_EXCLUDED(mu_) override {
    absl::MutexLock l(&mu_);
    const long prev = s_.fsuid;
    if (id == static_cast<uid_t>(-1)) {
      ++calls_.fsuid_queries;
      return prev;
    }
    ++calls_.set_fsuid;
    if (id == s_.uid || id == s_.fsuid || Has(CAP_SETUID)) {
      if (s_.fsuid == 0 && id != 0) s_.effective &= ~kFsCaps;
      if (s_.fsuid != 0 && id == 0) s_.effective |= s_.permitted & kFsCaps;
      s_.fsuid = id;
    }
    return prev;
  }
  long SetFsgid(gid_t id) ABSL_LOCKS_EXCLUDED(mu_) override {
    absl::MutexLock l(&mu_);
    const long prev = s_.fsgid;
    if (id == static_cast<gid_t>(-1)) {
      ++calls_.fsgid_queries;
      return prev;
    }
    ++calls_.set_fsgid;
    if (id == s_.gid || id == s_.fsgid || Has(CAP_SETGID)) s_.fsgid = id;
    return prev;
  }
  int SetGroups(const std::vector<gid_t>& groups)
      ABSL_LOCKS_EXCLUDED(mu_) override {
    absl::MutexLock l(&mu_);
    ++calls_.set_groups;
    if (!Has(CAP_SETGID)) return -EPERM;
    s_.groups = groups;
    return 0;
  }
  int GetGroups(std::vector<gid_t>* groups) ABSL_LOCKS_EXCLUDED(mu_) override {
    absl::MutexLock l(&mu_);
    ++calls_.get_groups;
    *groups = s_.groups;
    return 0;
  }

  int CapGet(Capabilities* caps) ABSL_LOCKS_EXCLUDED(mu_) override {
    absl::MutexLock l(&mu_);
    ++calls_.cap_get;
    caps->effective = s_.effective;
    caps->permitted = s_.permitted;
    caps->inheritable = s_.inheritable;
    return 0;
  }
  // capset(2) on oneself: the effective set within the permitted one, which
  // may only shrink.
  int CapSet(const Capabilities& caps) ABSL_LOCKS_EXCLUDED(mu_) override {
    absl::MutexLock l(&mu_);
    ++calls_.cap_set;
    capsets_.push_back(caps);
    if (fail_capset_) return -EPERM;
    if ((caps.effective & ~caps.permitted) != 0 ||
        (caps.permitted & ~s_.permitted) != 0) {
      return -EPERM;
    }
    s_.effective = caps.effective;
    s_.permitted = caps.permitted;
    s_.inheritable = caps.inheritable;
    return 0;
  }

  // A change made behind the switcher's back (a process-wide set*id call).
  void Change(const std::function<void(State*)>& fn) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock l(&mu_);
    fn(&s_);
  }
  State state() const ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock l(&mu_);
    return s_;
  }
  Calls calls() const ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock l(&mu_);
    return calls_;
  }
  void ResetCalls() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock l(&mu_);
    calls_ = Calls();
    capsets_.clear();
  }
  // The arguments of every CapSet since the last ResetCalls.
  std::vector<Capabilities> capsets() const ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock l(&mu_);
    return capsets_;
  }
  void FailCapSet(bool fail) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock l(&mu_);
    fail_capset_ = fail;
  }

 private:
  bool Has(int cap) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return (s_.effective & Cap(cap)) != 0;
  }

  mutable absl::Mutex mu_;
  State s_ ABSL_GUARDED_BY(mu_);
  Calls calls_ ABSL_GUARDED_BY(mu_);
  std::vector<Capabilities> capsets_ ABSL_GUARDED_BY(mu_);
  bool fail_capset_ ABSL_GUARDED_BY(mu_) = false;
};

// What glibc's setgroups({65534}) + setresgid(65534) + setresuid(65534) do to
// every thread: new ids, and no capabilities left.
void DropToNobody(FakeThreadCreds::State* s) {
  s->uid = s->fsuid = 65534;
  s->gid = s->fsgid = 65534;
  s->groups = {65534};
  s->effective = s->permitted = 0;
}

// What glibc's seteuid(0) does to a root thread: fsuid follows euid.
void SeteuidZero(FakeThreadCreds::State* s) { s->fsuid = 0; }

CredsRef MakeCreds(uid_t fsuid, gid_t fsgid, std::vector<gid_t> groups) {
  return std::make_shared<const Creds>(fsuid, fsgid, std::move(groups));
}

// What CaptureCurrentCreds gives on a thread in state `s`.
CredsRef CredsOf(const FakeThreadCreds::State& s) {
  return std::make_shared<const Creds>(s.fsuid, s.fsgid, s.groups, s.effective);
}

class CredsRefreshTest : public ::testing::Test {
 protected:
  // One worker, the fake as its credentials.
  std::unique_ptr<Queue> NewQueue() {
    QueueOptions o;
    o.max_bound_workers = 1;
    o.creds_ops = &ops_;
    return std::make_unique<Queue>(std::move(o));
  }

  // An item with explicit credentials (never captured: the fake is the
  // worker's) that records the fake's state while it runs.
  std::unique_ptr<TestItem> NewItem(CredsRef creds,
                                    FakeThreadCreds::State* seen) {
    auto item = std::make_unique<TestItem>();
    item->freed = &freed_;
    item->SetCreds(std::move(creds));
    item->SetHashKey(Key(1));
    item->body = [this, seen](TestItem*) { *seen = ops_.state(); };
    return item;
  }

  FakeThreadCreds ops_;
  Counter freed_;
};

TEST_F(CredsRefreshTest, SubmitterMatchingTheWorkerAfterAProcessWideDropRuns) {
  auto queue = NewQueue();
  auto task = queue->NewTask();
  FakeThreadCreds::State seen;
  auto as_root = NewItem(MakeCreds(0, 0, {}), &seen);
  task->Enqueue(as_root.get());
  ASSERT_TRUE(freed_.WaitAtLeast(1));
  ASSERT_EQ(as_root->do_status(), 0);
  ASSERT_TRUE(Quiesce(*queue));

  ops_.Change(DropToNobody);
  ops_.ResetCalls();
  // The daemon's thread, now 65534 too, queues the next write.
  auto as_nobody = NewItem(CredsOf(ops_.state()), &seen);
  task->Enqueue(as_nobody.get());
  ASSERT_TRUE(freed_.WaitAtLeast(2));
  EXPECT_EQ(as_nobody->do_status(), 0)
      << "the worker tried to switch to an identity it already has";
  EXPECT_EQ(seen.fsuid, 65534u);
  ASSERT_TRUE(Quiesce(*queue));
  EXPECT_EQ(ops_.calls().Sets(), 0)
      << "no set* call may be made when nothing differs (and none can "
         "succeed without CAP_SETUID/CAP_SETGID)";
}

TEST_F(CredsRefreshTest, AfterADropAnItemOfAnotherIdentityFailsUnrun) {
  auto queue = NewQueue();
  auto task = queue->NewTask();
  ops_.Change(DropToNobody);
  FakeThreadCreds::State seen;
  auto as_root = NewItem(MakeCreds(0, 0, {}), &seen);  // Queued earlier.
  bool ran = false;
  as_root->body = [&ran](TestItem*) { ran = true; };
  task->Enqueue(as_root.get());
  ASSERT_TRUE(freed_.WaitAtLeast(1));
  EXPECT_FALSE(ran);
  EXPECT_EQ(as_root->do_status(), -EPERM);
  EXPECT_EQ(as_root->free_status(), -EPERM);
}

TEST_F(CredsRefreshTest, FsuidResetUnderTheWorkerIsSwitchedBackForTheNextItem) {
  auto queue = NewQueue();
  auto task = queue->NewTask();
  const CredsRef tenant = MakeCreds(7, 8, {9});
  FakeThreadCreds::State first_seen, second_seen;
  auto first = NewItem(tenant, &first_seen);
  auto second = NewItem(tenant, &second_seen);
  absl::Notification second_queued;
  first->body = [&](TestItem*) {
    first_seen = ops_.state();
    second_queued.WaitForNotificationWithTimeout(kWait);
    // While the worker runs as the tenant, the process calls seteuid(0).
    ops_.Change(SeteuidZero);
  };
  task->Enqueue(first.get());
  task->Enqueue(second.get());  // Same key: the same worker, right after.
  second_queued.Notify();
  ASSERT_TRUE(freed_.WaitAtLeast(2));
  EXPECT_EQ(first_seen.fsuid, 7u);
  EXPECT_EQ(second->do_status(), 0);
  EXPECT_EQ(second_seen.fsuid, 7u)
      << "the worker trusted its cached identity and ran the tenant's item "
         "as root";
  EXPECT_EQ(second_seen.fsgid, 8u);
  EXPECT_EQ(second_seen.groups, std::vector<gid_t>{9});
}

TEST_F(CredsRefreshTest, IdentityChangedAfterQueueCreationIsNotSwitchedAway) {
  ops_.Change([](FakeThreadCreds::State* s) {
    s->uid = s->fsuid = 100;
    s->gid = s->fsgid = 100;
  });
  auto queue = NewQueue();
  auto task = queue->NewTask();
  // A process-wide change after the queue exists (the workers follow it).
  ops_.Change([](FakeThreadCreds::State* s) {
    s->fsuid = 7;
    s->fsgid = 8;
    s->groups = {9};
  });
  ops_.ResetCalls();
  std::vector<FakeThreadCreds::State> seen(5);
  std::vector<std::unique_ptr<TestItem>> items;
  for (int i = 0; i < 5; ++i) {
    items.push_back(NewItem(CredsOf(ops_.state()), &seen[i]));
    task->Enqueue(items.back().get());
  }
  ASSERT_TRUE(freed_.WaitAtLeast(5));
  ASSERT_TRUE(Quiesce(*queue));
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(items[i]->do_status(), 0);
    EXPECT_EQ(seen[i].fsuid, 7u);
  }
  EXPECT_EQ(ops_.calls().Sets(), 0);
  EXPECT_EQ(queue->GetStats().creds_switches, 0u);
}

TEST_F(CredsRefreshTest, EqualGroupsAreNotSetAgain) {
  ops_.Change([](FakeThreadCreds::State* s) { s->groups = {5, 6}; });
  auto queue = NewQueue();
  auto task = queue->NewTask();
  ops_.ResetCalls();
  FakeThreadCreds::State seen;
  auto item = NewItem(MakeCreds(7, 8, {6, 5}), &seen);
  task->Enqueue(item.get());
  ASSERT_TRUE(freed_.WaitAtLeast(1));
  ASSERT_TRUE(Quiesce(*queue));
  EXPECT_EQ(item->do_status(), 0);
  EXPECT_EQ(seen.fsuid, 7u);
  EXPECT_EQ(seen.fsgid, 8u);
  EXPECT_EQ(seen.groups, (std::vector<gid_t>{5, 6}));
  const FakeThreadCreds::Calls calls = ops_.calls();
  EXPECT_EQ(calls.set_groups, 0);
  EXPECT_EQ(calls.set_fsgid, 1);
  EXPECT_EQ(calls.set_fsuid, 1);
  EXPECT_EQ(queue->GetStats().creds_switches, 1u);
}

// --- The capability part, through the queue -------------------------------

TEST_F(CredsRefreshTest,
       SubmitterWithoutFsCapabilitiesDoesNotGetThemOnTheWorker) {
  auto queue = NewQueue();
  auto task = queue->NewTask();
  // A root daemon that dropped some capabilities from its effective set.
  const uint64_t dropped =
      Cap(CAP_DAC_OVERRIDE) | Cap(CAP_FOWNER) | Cap(CAP_FSETID);
  FakeThreadCreds::State submitter = ops_.state();
  submitter.effective &= ~dropped;
  FakeThreadCreds::State seen, seen_again;
  auto item = NewItem(CredsOf(submitter), &seen);
  auto again = NewItem(CredsOf(submitter), &seen_again);
  task->Enqueue(item.get());
  task->Enqueue(again.get());
  ASSERT_TRUE(freed_.WaitAtLeast(2));
  ASSERT_TRUE(Quiesce(*queue));
  EXPECT_EQ(item->do_status(), 0);
  EXPECT_EQ(seen.fsuid, 0u);
  EXPECT_EQ(seen.effective, kAllCaps & ~dropped);
  EXPECT_EQ(seen.permitted, kAllCaps) << "the permitted set is never changed";
  EXPECT_EQ(seen_again.effective, kAllCaps & ~dropped);
  const std::vector<Capabilities> capsets = ops_.capsets();
  ASSERT_EQ(capsets.size(), 1u) << "one lowering, none for the equal item";
  EXPECT_EQ(capsets[0].effective, kAllCaps & ~dropped);
  EXPECT_EQ(capsets[0].permitted, kAllCaps);
  EXPECT_EQ(queue->GetStats().creds_switches, 1u);
}

TEST_F(CredsRefreshTest, FailedCapabilityChangeFailsTheItemUnrun) {
  auto queue = NewQueue();
  auto task = queue->NewTask();
  ops_.FailCapSet(true);
  FakeThreadCreds::State submitter = ops_.state();
  submitter.effective &= ~Cap(CAP_DAC_OVERRIDE);
  FakeThreadCreds::State seen;
  auto item = NewItem(CredsOf(submitter), &seen);
  bool ran = false;
  item->body = [&ran](TestItem*) { ran = true; };
  task->Enqueue(item.get());
  ASSERT_TRUE(freed_.WaitAtLeast(1));
  EXPECT_FALSE(ran) << "ran with more capabilities than its submitter";
  EXPECT_EQ(item->do_status(), -EPERM);
}

// --- The switcher itself ----------------------------------------------------

TEST(CredsSwitcherTest, NothingDifferentCostsFourReadsAndNoSetCall) {
  FakeThreadCreds ops;
  ops.Change([](FakeThreadCreds::State* s) {
    s->fsuid = 7;
    s->fsgid = 8;
    s->groups = {9, 10};
    s->effective &= ~kFsCaps;
  });
  CredsSwitcher sw(&ops);
  const CredsRef same = CredsOf(ops.state());
  for (int i = 0; i < 3; ++i) {
    ops.ResetCalls();
    ASSERT_EQ(sw.Apply(same), 0);
    const FakeThreadCreds::Calls calls = ops.calls();
    EXPECT_EQ(calls.Sets(), 0);
    EXPECT_EQ(calls.fsuid_queries, 1);
    EXPECT_EQ(calls.fsgid_queries, 1);
    EXPECT_EQ(calls.get_groups, 1);
    EXPECT_EQ(calls.cap_get, 1);
    EXPECT_EQ(calls.All(), 4);
  }
  EXPECT_EQ(sw.switches(), 0u);
}

TEST(CredsSwitcherTest, StaleIdentityIsReadAgainBeforeEveryApply) {
  FakeThreadCreds ops;
  CredsSwitcher sw(&ops);
  const CredsRef tenant = MakeCreds(7, 8, {9});
  ASSERT_EQ(sw.Apply(tenant), 0);
  EXPECT_EQ(ops.state().fsuid, 7u);
  EXPECT_EQ(sw.switches(), 1u);
  ops.Change(SeteuidZero);  // Behind the switcher's back.
  ops.ResetCalls();
  ASSERT_EQ(sw.Apply(tenant), 0);
  const FakeThreadCreds::State now = ops.state();
  EXPECT_EQ(now.fsuid, 7u);
  EXPECT_EQ(now.fsgid, 8u);
  EXPECT_EQ(now.groups, std::vector<gid_t>{9});
  const FakeThreadCreds::Calls calls = ops.calls();
  EXPECT_EQ(calls.set_fsuid, 1) << "only the fsuid was different";
  EXPECT_EQ(calls.set_fsgid, 0);
  EXPECT_EQ(calls.set_groups, 0);
  EXPECT_EQ(sw.switches(), 2u);
}

TEST(CredsSwitcherTest, TenantAndBackNeedNoCapsetWhenTheKernelRuleMatches) {
  FakeThreadCreds ops;
  CredsSwitcher sw(&ops);
  const FakeThreadCreds::State root = ops.state();
  // A tenant thread: fsuid 65534 set by setfsuid, so no file-system
  // capabilities in effect.
  FakeThreadCreds::State tenant = root;
  tenant.fsuid = 65534;
  tenant.fsgid = 65534;
  tenant.effective &= ~kFsCaps;
  ASSERT_EQ(sw.Apply(CredsOf(tenant)), 0);
  EXPECT_EQ(ops.state().effective, kAllCaps & ~kFsCaps);
  ASSERT_EQ(sw.Apply(CredsOf(root)), 0);
  EXPECT_EQ(ops.state().effective, kAllCaps);
  EXPECT_EQ(ops.calls().cap_set, 0);
  EXPECT_EQ(sw.switches(), 2u);
}

TEST(CredsSwitcherTest, LoweredCapabilitiesAreRaisedAgainFromPermitted) {
  FakeThreadCreds ops;
  CredsSwitcher sw(&ops);
  FakeThreadCreds::State low = ops.state();
  low.effective = 0;  // Root without any capability in effect.
  ASSERT_EQ(sw.Apply(CredsOf(low)), 0);
  EXPECT_EQ(ops.state().effective, 0u);
  // The worker now lacks CAP_SETGID/CAP_SETUID in effect, yet switches to
  // a tenant, and back to a root submitter with every capability.
  ASSERT_EQ(sw.Apply(MakeCreds(7, 8, {9})), 0);
  FakeThreadCreds::State now = ops.state();
  EXPECT_EQ(now.fsuid, 7u);
  EXPECT_EQ(now.groups, std::vector<gid_t>{9});
  EXPECT_EQ(now.effective, kAllCaps & ~kFsCaps);
  ASSERT_EQ(sw.Apply(MakeCreds(0, 0, {})), 0);
  now = ops.state();
  EXPECT_EQ(now.fsuid, 0u);
  EXPECT_EQ(now.groups, std::vector<gid_t>{});
  EXPECT_EQ(now.effective, kAllCaps);
  EXPECT_EQ(now.permitted, kAllCaps);
}

TEST(CredsSwitcherTest, CapabilitiesTheWorkerIsNotPermittedAreLeftOut) {
  FakeThreadCreds ops;
  const uint64_t missing = Cap(CAP_SYS_RESOURCE);
  ops.Change([&](FakeThreadCreds::State* s) {
    s->effective &= ~missing;
    s->permitted &= ~missing;
  });
  CredsSwitcher sw(&ops);
  ops.ResetCalls();
  ASSERT_EQ(sw.Apply(MakeCreds(0, 0, {})), 0);  // Wants every capability.
  EXPECT_EQ(ops.state().effective, kAllCaps & ~missing);
  EXPECT_EQ(ops.calls().Sets(), 0) << "already as close as permitted";
}

TEST(CredsSwitcherTest, EveryFailureIsEperm) {
  FakeThreadCreds ops;
  CredsSwitcher sw(&ops);
  EXPECT_EQ(sw.Apply(nullptr), -EPERM);
  ops.Change(DropToNobody);
  EXPECT_EQ(sw.Apply(MakeCreds(0, 0, {})), -EPERM);           // setgroups: no.
  EXPECT_EQ(sw.Apply(MakeCreds(1, 65534, {65534})), -EPERM);  // setfsuid.
  EXPECT_EQ(ops.state().fsuid, 65534u);
  EXPECT_EQ(sw.switches(), 2u) << "failed switches count too";
}

TEST(CredsSwitcherTest, CaptureIncludesTheEffectiveCapabilities) {
  FakeThreadCreds ops;
  ops.Change([](FakeThreadCreds::State* s) {
    s->fsuid = 5;
    s->fsgid = 6;
    s->groups = {8, 7, 8};
    s->effective = Cap(CAP_CHOWN);
  });
  CredsRef c;
  ASSERT_EQ(CaptureCurrentCreds(&ops, &c), 0);
  EXPECT_EQ(c->fsuid(), 5u);
  EXPECT_EQ(c->fsgid(), 6u);
  EXPECT_EQ(c->groups(), (std::vector<gid_t>{7, 8}));
  EXPECT_EQ(c->cap_effective(), Cap(CAP_CHOWN));
}

}  // namespace
}  // namespace wq
}  // namespace uringfs
