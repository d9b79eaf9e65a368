#include "env/wq/creds.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

namespace uringfs {
namespace wq {

Creds::Creds(uid_t fsuid, gid_t fsgid, std::vector<gid_t> groups)
    : fsuid_(fsuid), fsgid_(fsgid), groups_([&groups] {
        std::sort(groups.begin(), groups.end());
        groups.erase(std::unique(groups.begin(), groups.end()), groups.end());
        return std::move(groups);
      }()) {}

long CredsOps::SetFsuid(uid_t fsuid) {
  return ::syscall(SYS_setfsuid, fsuid);
}

long CredsOps::SetFsgid(gid_t fsgid) {
  return ::syscall(SYS_setfsgid, fsgid);
}

int CredsOps::SetGroups(const std::vector<gid_t>& groups) {
  // Raw system call: glibc's setgroups() is broadcast to every thread.
  long rc = ::syscall(SYS_setgroups, groups.size(), groups.data());
  return rc == 0 ? 0 : -errno;
}

int CredsOps::GetGroups(std::vector<gid_t>* groups) {
  for (;;) {
    long n = ::syscall(SYS_getgroups, 0, nullptr);
    if (n < 0) return -errno;
    groups->resize(static_cast<size_t>(n));
    long got = ::syscall(SYS_getgroups, n, groups->data());
    if (got >= 0) {
      groups->resize(static_cast<size_t>(got));
      return 0;
    }
    if (errno != EINVAL) return -errno;  // EINVAL: the list grew; retry.
  }
}

CredsOps* CredsOps::Default() {
  static CredsOps* const ops = new CredsOps();  // Never destroyed.
  return ops;
}

int CaptureCurrentCreds(CredsOps* ops, CredsRef* out) {
  // -1 is never a valid id, so these calls only report the current value.
  const long fsuid = ops->SetFsuid(static_cast<uid_t>(-1));
  const long fsgid = ops->SetFsgid(static_cast<gid_t>(-1));
  if (fsuid < 0 || fsgid < 0) return -EPERM;
  std::vector<gid_t> groups;
  if (int rc = ops->GetGroups(&groups); rc != 0) return rc;
  *out = std::make_shared<const Creds>(static_cast<uid_t>(fsuid),
                                       static_cast<gid_t>(fsgid),
                                       std::move(groups));
  return 0;
}

CredsSwitcher::CredsSwitcher(CredsOps* ops, CredsRef baseline)
    : ops_(ops), baseline_(std::move(baseline)) {}

int CredsSwitcher::Init() {
  CredsRef now;
  if (int rc = CaptureCurrentCreds(ops_, &now); rc != 0) return rc;
  current_ = *now == *baseline_ ? baseline_ : std::move(now);
  known_ = true;
  return 0;
}

int CredsSwitcher::Apply(const CredsRef& creds) {
  const CredsRef& want = creds != nullptr ? creds : baseline_;
  if (known_ && (current_ == want || *current_ == *want)) return 0;
  ++switches_;
  if (Switch(*want) == 0) {
    current_ = want;
    known_ = true;
    return 0;
  }
  known_ = false;
  if (want != baseline_ && Switch(*baseline_) == 0) {
    current_ = baseline_;
    known_ = true;
  }
  return -EPERM;
}

int CredsSwitcher::Switch(const Creds& to) {
  // Entering an identity goes groups -> fsgid -> fsuid; returning to the
  // baseline goes the reverse way, so the thread never holds the target's
  // fsuid together with a stale group set.
  if (to == *baseline_) {
    ops_->SetFsuid(to.fsuid());
    ops_->SetFsgid(to.fsgid());
    if (ops_->SetGroups(to.groups()) != 0) return -EPERM;
  } else {
    if (ops_->SetGroups(to.groups()) != 0) return -EPERM;
    ops_->SetFsgid(to.fsgid());
    ops_->SetFsuid(to.fsuid());
  }
  // setfsuid/setfsgid report no errors: query again (-1 never changes
  // anything) and compare.
  if (ops_->SetFsuid(static_cast<uid_t>(-1)) != static_cast<long>(to.fsuid()) ||
      ops_->SetFsgid(static_cast<gid_t>(-1)) != static_cast<long>(to.fsgid())) {
    return -EPERM;
  }
  return 0;
}

}  // namespace wq
}  // namespace uringfs
