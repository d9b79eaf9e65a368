// -----------------------------------------------------------------------------
// creds.h
// -----------------------------------------------------------------------------
//
// Per-work credentials: the submitter's fsuid, fsgid, supplementary groups and
// effective capability set, captured when work is enqueued and applied by a
// worker thread around that work.
//
// Contract
//
// * `Creds` is an immutable value, shared as `CredsRef`. Thread-safe.
// * `CredsOps` is the system-call seam. The default implementation uses raw
//   per-thread system calls (`syscall(SYS_setfsuid)`, `SYS_setfsgid`,
//   `SYS_setgroups`, `SYS_getgroups`, `SYS_capget`, `SYS_capset`): glibc's
//   `setgroups()` and set*id wrappers change every thread of the process.
//   Tests inject fakes that fail or count calls.
// * `CredsSwitcher` belongs to one worker thread (thread-compatible, never
//   shared). It keeps no belief about what the thread runs as: a process-wide
//   set*id call (glibc broadcasts setgroups/setresgid/setresuid/seteuid/... to
//   every thread, workers included) changes that at any time. `Apply()` reads
//   the thread's actual fsuid, fsgid, groups and capabilities, then changes
//   only what differs from the item's `Creds`: groups -> fsgid -> fsuid ->
//   effective capabilities. When nothing differs it makes no set* call
//   (4 system calls: setfsuid(-1), setfsgid(-1), getgroups, capget).
// * Idle workers: there is no baseline, and nothing is undone after an item.
//   A worker keeps what its last item ran as (identity and effective
//   capabilities); nothing runs on an idle worker, and the next item switches
//   from whatever the thread actually is by then (a process-wide set*id call
//   may have changed it meanwhile). A new worker starts as the thread that
//   created it (a submitter, or a worker inside an item); the same rule
//   covers it.
// * Capabilities: an item runs with the effective set
//   `creds.cap_effective() & <the worker's permitted set>`: never a capability
//   its submitter did not have in effect, and never one the worker is not
//   permitted (then it runs with less privilege than its submitter, never
//   more). The kernel's own rule applies
//   first (an fsuid change from 0 to non-zero clears the file-system
//   capabilities from the effective set, the reverse restores the permitted
//   ones); the switcher then sets the effective set only if it still differs.
//   The permitted and inheritable sets are never changed, so a lowered
//   effective set can always be raised again later (a worker left lowered
//   takes CAP_SETUID/CAP_SETGID back from its permitted set before it changes
//   ids).
// * A process-wide set*id call made while an item runs changes the worker
//   under it, as it would change the submitting thread.
// * On any failure `Apply()` returns -EPERM and the thread may be left partly
//   switched (it is read again before the next item); the caller must then
//   fail the work without running it.
#ifndef URINGFS_ENV_WQ_CREDS_H_
#define URINGFS_ENV_WQ_CREDS_H_

#include <linux/capability.h>
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <vector>

namespace uringfs {
namespace wq {

// The bit of capability `cap` (CAP_*) in a 64-bit capability set.
constexpr uint64_t CapBit(int cap) { return uint64_t{1} << cap; }

// The capabilities that capabilities(7) lists as cleared from the effective set
// when the fsuid changes from 0 to non-zero (and restored, if permitted, when
// it changes back).
inline constexpr uint64_t kFsCapabilities =
    CapBit(CAP_CHOWN) | CapBit(CAP_DAC_OVERRIDE) | CapBit(CAP_DAC_READ_SEARCH) |
    CapBit(CAP_FOWNER) | CapBit(CAP_FSETID) | CapBit(CAP_LINUX_IMMUTABLE) |
    CapBit(CAP_MAC_OVERRIDE) | CapBit(CAP_MKNOD);

// A thread's capability sets, bit n = capability n.
struct Capabilities {
  uint64_t effective = 0;
  uint64_t permitted = 0;
  uint64_t inheritable = 0;
};

class Creds final {
 public:
  // `groups` is sorted and de-duplicated. `cap_effective` is the submitter's
  // effective capability set: the most the work may run with.
  Creds(uid_t fsuid, gid_t fsgid, std::vector<gid_t> groups,
        uint64_t cap_effective);
  // Without a captured capability set: `DefaultCapabilities(fsuid)`.
  Creds(uid_t fsuid, gid_t fsgid, std::vector<gid_t> groups);

  // The ceiling for work whose capabilities were not captured: every
  // capability (the worker's permitted set limits it), minus kFsCapabilities
  // unless `fsuid` is 0. That is what the kernel leaves in effect on a thread
  // with every capability that changed only its fsuid.
  static constexpr uint64_t DefaultCapabilities(uid_t fsuid) {
    return fsuid == 0 ? ~uint64_t{0} : ~kFsCapabilities;
  }

  uid_t fsuid() const { return fsuid_; }
  gid_t fsgid() const { return fsgid_; }
  const std::vector<gid_t>& groups() const { return groups_; }
  uint64_t cap_effective() const { return cap_effective_; }

  friend bool operator==(const Creds& a, const Creds& b) {
    return a.fsuid_ == b.fsuid_ && a.fsgid_ == b.fsgid_ &&
           a.groups_ == b.groups_ && a.cap_effective_ == b.cap_effective_;
  }
  friend bool operator!=(const Creds& a, const Creds& b) { return !(a == b); }

 private:
  const uid_t fsuid_;
  const gid_t fsgid_;
  const std::vector<gid_t> groups_;
  const uint64_t cap_effective_;
};

using CredsRef = std::shared_ptr<const Creds>;

// The system-call seam. All calls act on the calling thread only.
class CredsOps {
 public:
  virtual ~CredsOps() = default;
  // Like setfsuid(2): returns the previous fsuid; `-1` only queries.
  virtual long SetFsuid(uid_t fsuid);
  virtual long SetFsgid(gid_t fsgid);
  // 0 or a negative errno.
  virtual int SetGroups(const std::vector<gid_t>& groups);
  // Replaces `*groups` with the thread's groups (kernel order). One system
  // call when they fit the vector's capacity (at least 32 entries). 0 or
  // -errno.
  virtual int GetGroups(std::vector<gid_t>* groups);
  // capget(2)/capset(2) of the calling thread (64-bit sets). 0 or -errno.
  virtual int CapGet(Capabilities* caps);
  virtual int CapSet(const Capabilities& caps);

  // A process-wide instance of the raw-syscall implementation. Thread-safe.
  static CredsOps* Default();
};

// CaptureCurrentCreds()
//
// Reads the calling thread's fsuid, fsgid, groups and effective capability
// set. Returns 0 or -errno (-EPERM if an id cannot be read).
int CaptureCurrentCreds(CredsOps* ops, CredsRef* out);

class CredsSwitcher final {
 public:
  // `ops` must outlive the switcher.
  explicit CredsSwitcher(CredsOps* ops);
  ~CredsSwitcher() = default;
  CredsSwitcher(const CredsSwitcher&) = delete;
  CredsSwitcher& operator=(const CredsSwitcher&) = delete;

  // CredsSwitcher::Apply()
  //
  // Makes the calling thread run as `creds` (see the contract): reads what it
  // runs as now and changes only what differs. Returns 0, or -EPERM if
  // `creds` is null or any step fails. REQUIRES: called on the thread that
  // owns the switcher.
  int Apply(const CredsRef& creds);

  // Number of Apply() calls that made at least one set* call (setgroups,
  // setfsgid, setfsuid or capset), successful or not.
  uint64_t switches() const { return switches_; }
  // Switches made since the last call (for a shared counter).
  uint64_t TakeNewSwitches() {
    const uint64_t n = switches_ - taken_;
    taken_ = switches_;
    return n;
  }

 private:
  // Apply() without the counting; sets `*changed` once a set* call is made.
  int Switch(const Creds& want, bool* changed);

  CredsOps* const ops_;
  std::vector<gid_t> groups_;  // Scratch for the thread's groups.
  uint64_t switches_ = 0;
  uint64_t taken_ = 0;
};

}  // namespace wq
}  // namespace uringfs

#endif  // URINGFS_ENV_WQ_CREDS_H_
