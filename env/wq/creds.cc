#include "env/wq/creds.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

namespace uringfs {
namespace wq {
namespace {

// -1 is never a valid id: setfsuid/setfsgid with it only report the current
// value.
constexpr uid_t kQueryUid = static_cast<uid_t>(-1);
constexpr gid_t kQueryGid = static_cast<gid_t>(-1);

// Enough for the groups of almost every process: one getgroups call.
constexpr size_t kGroupsGuess = 32;

void SortUnique(std::vector<gid_t>* groups) {
  std::sort(groups->begin(), groups->end());
  groups->erase(std::unique(groups->begin(), groups->end()), groups->end());
}

}  // namespace

Creds::Creds(uid_t fsuid, gid_t fsgid, std::vector<gid_t> groups,
             uint64_t cap_effective)
    : fsuid_(fsuid),
      fsgid_(fsgid),
      groups_([&groups] {
        SortUnique(&groups);
        return std::move(groups);
      }()),
      cap_effective_(cap_effective) {}

Creds::Creds(uid_t fsuid, gid_t fsgid, std::vector<gid_t> groups)
    : Creds(fsuid, fsgid, std::move(groups), DefaultCapabilities(fsuid)) {}

long CredsOps::SetFsuid(uid_t fsuid) { return ::syscall(SYS_setfsuid, fsuid); }

long CredsOps::SetFsgid(gid_t fsgid) { return ::syscall(SYS_setfsgid, fsgid); }

int CredsOps::SetGroups(const std::vector<gid_t>& groups) {
  // Raw system call: glibc's setgroups() is broadcast to every thread.
  long rc = ::syscall(SYS_setgroups, groups.size(), groups.data());
  return rc == 0 ? 0 : -errno;
}

int CredsOps::GetGroups(std::vector<gid_t>* groups) {
  if (groups->capacity() < kGroupsGuess) groups->reserve(kGroupsGuess);
  for (;;) {
    groups->resize(groups->capacity());
    const long got = ::syscall(SYS_getgroups, groups->size(), groups->data());
    if (got >= 0) {
      groups->resize(static_cast<size_t>(got));
      return 0;
    }
    if (errno != EINVAL) return -errno;
    // EINVAL: more groups than room. Ask how many, then try again (the list
    // may grow in between: then this repeats).
    const long n = ::syscall(SYS_getgroups, 0, nullptr);
    if (n < 0) return -errno;
    groups->reserve(static_cast<size_t>(n));
  }
}

int CredsOps::CapGet(Capabilities* caps) {
  __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (::syscall(SYS_capget, &header, data) != 0) return -errno;
  caps->effective = data[0].effective | uint64_t{data[1].effective} << 32;
  caps->permitted = data[0].permitted | uint64_t{data[1].permitted} << 32;
  caps->inheritable = data[0].inheritable | uint64_t{data[1].inheritable} << 32;
  return 0;
}

int CredsOps::CapSet(const Capabilities& caps) {
  // pid 0: the calling thread only.
  __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  data[0].effective = static_cast<uint32_t>(caps.effective);
  data[1].effective = static_cast<uint32_t>(caps.effective >> 32);
  data[0].permitted = static_cast<uint32_t>(caps.permitted);
  data[1].permitted = static_cast<uint32_t>(caps.permitted >> 32);
  data[0].inheritable = static_cast<uint32_t>(caps.inheritable);
  data[1].inheritable = static_cast<uint32_t>(caps.inheritable >> 32);
  return ::syscall(SYS_capset, &header, data) == 0 ? 0 : -errno;
}

CredsOps* CredsOps::Default() {
  static CredsOps* const ops = new CredsOps();  // Never destroyed.
  return ops;
}

int CaptureCurrentCreds(CredsOps* ops, CredsRef* out) {
  const long fsuid = ops->SetFsuid(kQueryUid);
  const long fsgid = ops->SetFsgid(kQueryGid);
  if (fsuid < 0 || fsgid < 0) return -EPERM;
  std::vector<gid_t> groups;
  if (int rc = ops->GetGroups(&groups); rc != 0) return rc;
  Capabilities caps;
  if (int rc = ops->CapGet(&caps); rc != 0) return rc;
  *out = std::make_shared<const Creds>(static_cast<uid_t>(fsuid),
                                       static_cast<gid_t>(fsgid),
                                       std::move(groups), caps.effective);
  return 0;
}

CredsSwitcher::CredsSwitcher(CredsOps* ops) : ops_(ops) {}

int CredsSwitcher::Apply(const CredsRef& creds) {
  if (creds == nullptr) return -EPERM;  // Unknown identity: never run.
  bool changed = false;
  const int rc = Switch(*creds, &changed);
  if (changed) ++switches_;
  return rc;
}

int CredsSwitcher::Switch(const Creds& want, bool* changed) {
  // What the thread runs as now: never what we last set (see the contract).
  const long fsuid = ops_->SetFsuid(kQueryUid);
  const long fsgid = ops_->SetFsgid(kQueryGid);
  if (fsuid < 0 || fsgid < 0) return -EPERM;
  if (ops_->GetGroups(&groups_) != 0) return -EPERM;
  SortUnique(&groups_);
  Capabilities caps;
  if (ops_->CapGet(&caps) != 0) return -EPERM;

  const bool set_groups = groups_ != want.groups();
  const bool set_fsgid = static_cast<gid_t>(fsgid) != want.fsgid();
  const bool set_fsuid = static_cast<uid_t>(fsuid) != want.fsuid();
  if (set_groups || set_fsgid || set_fsuid) {
    // Changing ids takes CAP_SETGID/CAP_SETUID in effect. A worker that an
    // earlier item left without them takes them back from its permitted set
    // (the effective set is made exact below).
    const uint64_t need = (set_groups || set_fsgid ? CapBit(CAP_SETGID) : 0) |
                          (set_fsuid ? CapBit(CAP_SETUID) : 0);
    const uint64_t raise = need & caps.permitted & ~caps.effective;
    if (raise != 0) {
      Capabilities raised = caps;
      raised.effective |= raise;
      *changed = true;
      if (ops_->CapSet(raised) != 0) return -EPERM;
    }
    // Groups first, fsuid last: the thread never holds the target's fsuid
    // together with a stale group set.
    if (set_groups) {
      *changed = true;
      if (ops_->SetGroups(want.groups()) != 0) return -EPERM;
    }
    if (set_fsgid) {
      *changed = true;
      ops_->SetFsgid(want.fsgid());
      // setfsgid/setfsuid report no errors: query again and compare.
      if (ops_->SetFsgid(kQueryGid) != static_cast<long>(want.fsgid())) {
        return -EPERM;
      }
    }
    if (set_fsuid) {
      *changed = true;
      ops_->SetFsuid(want.fsuid());
      if (ops_->SetFsuid(kQueryUid) != static_cast<long>(want.fsuid())) {
        return -EPERM;
      }
    }
    // The raise above and the kernel's fsuid rule changed the effective set.
    if (ops_->CapGet(&caps) != 0) return -EPERM;
  }

  // Never more than the submitter had in effect; never more than permitted
  // (capset refuses that).
  const uint64_t effective = want.cap_effective() & caps.permitted;
  if (caps.effective != effective) {
    Capabilities exact = caps;
    exact.effective = effective;
    *changed = true;
    if (ops_->CapSet(exact) != 0) return -EPERM;
  }
  return 0;
}

}  // namespace wq
}  // namespace uringfs
