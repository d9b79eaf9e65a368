// -----------------------------------------------------------------------------
// creds.h
// -----------------------------------------------------------------------------
//
// Per-work credentials: the submitter's fsuid, fsgid and supplementary groups,
// captured when work is enqueued and applied by a worker thread only around
// that work.
//
// Contract
//
// * `Creds` is an immutable value, shared as `CredsRef`. Thread-safe.
// * `CredsOps` is the system-call seam. The default implementation uses raw
//   per-thread system calls (`syscall(SYS_setfsuid)`, `SYS_setfsgid`,
//   `SYS_setgroups`, `SYS_getgroups`): glibc's `setgroups()` wrapper would
//   change every thread of the process. Tests inject failing implementations.
// * `CredsSwitcher` belongs to one thread (thread-compatible, never shared).
//   `Apply()` switches only when the wanted credentials differ from the ones
//   it last applied, in the order groups -> fsgid -> fsuid, and verifies the
//   result; `RestoreBaseline()` goes back in the reverse order. On any failure
//   it tries to return to the baseline and reports `-EPERM`: the caller must
//   then fail the work without running it.
#ifndef URINGFS_ENV_WQ_CREDS_H_
#define URINGFS_ENV_WQ_CREDS_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <vector>

namespace uringfs {
namespace wq {

class Creds final {
 public:
  // `groups` is sorted and de-duplicated.
  Creds(uid_t fsuid, gid_t fsgid, std::vector<gid_t> groups);

  uid_t fsuid() const { return fsuid_; }
  gid_t fsgid() const { return fsgid_; }
  const std::vector<gid_t>& groups() const { return groups_; }

  friend bool operator==(const Creds& a, const Creds& b) {
    return a.fsuid_ == b.fsuid_ && a.fsgid_ == b.fsgid_ &&
           a.groups_ == b.groups_;
  }
  friend bool operator!=(const Creds& a, const Creds& b) { return !(a == b); }

 private:
  const uid_t fsuid_;
  const gid_t fsgid_;
  const std::vector<gid_t> groups_;
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
  virtual int GetGroups(std::vector<gid_t>* groups);

  // A process-wide instance of the raw-syscall implementation. Thread-safe.
  static CredsOps* Default();
};

// CaptureCurrentCreds()
//
// Reads the calling thread's fsuid, fsgid and groups. Returns 0 or -errno.
int CaptureCurrentCreds(CredsOps* ops, CredsRef* out);

class CredsSwitcher final {
 public:
  // `ops` must outlive the switcher. `baseline` is the identity to return to;
  // the thread is assumed to run as something unknown until the first call.
  CredsSwitcher(CredsOps* ops, CredsRef baseline);
  ~CredsSwitcher() = default;
  CredsSwitcher(const CredsSwitcher&) = delete;
  CredsSwitcher& operator=(const CredsSwitcher&) = delete;

  // CredsSwitcher::Init()
  //
  // Reads what the thread runs as now (a thread inherits its creator's
  // identity). Returns 0 or -errno; on failure the state stays unknown and the
  // next Apply() switches unconditionally.
  int Init();

  // CredsSwitcher::Apply()
  //
  // Makes the thread run as `creds` (nullptr = baseline). No system call is
  // made when `creds` equals what was last applied. Returns 0 or -EPERM.
  int Apply(const CredsRef& creds);

  // CredsSwitcher::RestoreBaseline()
  //
  // Returns to the baseline, forcing the switch if the state is unknown.
  int RestoreBaseline() { return Apply(nullptr); }

  bool at_baseline() const { return known_ && *current_ == *baseline_; }
  // Number of switches made (each is a group of system calls).
  uint64_t switches() const { return switches_; }
  // Switches made since the last call (for a shared counter).
  uint64_t TakeNewSwitches() {
    const uint64_t n = switches_ - taken_;
    taken_ = switches_;
    return n;
  }

 private:
  int Switch(const Creds& to);

  CredsOps* const ops_;
  const CredsRef baseline_;
  CredsRef current_;
  bool known_ = false;
  uint64_t switches_ = 0;
  uint64_t taken_ = 0;
};

}  // namespace wq
}  // namespace uringfs

#endif  // URINGFS_ENV_WQ_CREDS_H_
