// Process-wide privilege changes while uringfs's worker threads exist. glibc's
// setgroups/setresgid/setresuid/seteuid change every thread of the process,
// the worker threads included; a queued write must still run exactly as it
// would on the thread that submitted it:
//
//   * DbKeepsWorkingAfterTheProcessDropsRoot: a RocksDB database opened by
//     root through uringfs (NewUringFileSystem + NewCompositeEnv), its
//     directory handed to 65534:65534, then the process drops to 65534 with
//     setgroups/setresgid/setresuid and keeps writing: Flush (the SST is
//     written behind by a worker), CompactRange, close and reopen all succeed
//     and every key reads back, as with the stock file system.
//   * WorkerResetBySeteuidRunsTheNextItemAsItsSubmitter: a worker runs an
//     append queued by a thread with fsuid 65534; while it runs, the process
//     calls seteuid(0), which resets every thread's fsuid to 0; the next
//     append of the same submitter, queued before the reset, must still run
//     with fsuid 65534 on that worker.
//   * SubmitterWithoutFsCapabilitiesDoesNotGetThemOnTheWorker: a root thread
//     that dropped CAP_DAC_OVERRIDE, CAP_FOWNER and CAP_FSETID from its
//     effective set queues an append; the worker (started by a thread with
//     every capability) runs it with the submitter's effective set, and runs
//     the next root append with every capability again.
//
// What the worker runs as is seen by a FileSystem under uringfs that records,
// on each .sst Append (called by the worker), the calling thread's fsuid,
// fsgid and effective capabilities, and can hold Appends at a gate.
//
// Each scenario changes process-wide credentials for good, so it runs in a
// child process: this binary has its own main(), and a test re-executes it
// with URINGFS_PRIVDROP_CHILD=<scenario> (a fresh process, with no worker
// pool copied by fork()). Needs real root outside the sandbox (tags
// requires-root, no-sandbox); skipped otherwise, or when uid 65534 cannot be
// used (a user namespace without it).

#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "env/uring_file_system.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "rocksdb/file_system.h"
#include "rocksdb/options.h"
#include "tests/testing/open_db.h"
#include "tests/testing/write_behind_options.h"
#include "uringfs/options.h"
#include "uringfs/stats.h"
#include "uringfs/uringfs.h"

extern char** environ;

namespace uringfs {
namespace {

constexpr uid_t kNobody = 65534;
constexpr gid_t kNogroup = 65534;
constexpr int kExitSkip = 77;
constexpr absl::Duration kWait = absl::Seconds(20);
constexpr char kChildEnv[] = "URINGFS_PRIVDROP_CHILD";
constexpr char kDirEnv[] = "URINGFS_PRIVDROP_DIR";

// ---------------------------------------------------------------------------
// Per-thread credentials, read and changed with raw system calls (glibc's
// wrappers would change every thread).

uid_t ThreadFsuid() { return static_cast<uid_t>(::syscall(SYS_setfsuid, -1)); }
gid_t ThreadFsgid() { return static_cast<gid_t>(::syscall(SYS_setfsgid, -1)); }

struct ThreadCaps {
  uint64_t effective = 0;
  uint64_t permitted = 0;
  uint64_t inheritable = 0;
};

bool GetThreadCaps(ThreadCaps* caps) {
  __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (::syscall(SYS_capget, &header, data) != 0) return false;
  caps->effective = data[0].effective | uint64_t{data[1].effective} << 32;
  caps->permitted = data[0].permitted | uint64_t{data[1].permitted} << 32;
  caps->inheritable = data[0].inheritable | uint64_t{data[1].inheritable} << 32;
  return true;
}

bool SetThreadCaps(const ThreadCaps& caps) {
  __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  data[0].effective = static_cast<uint32_t>(caps.effective);
  data[1].effective = static_cast<uint32_t>(caps.effective >> 32);
  data[0].permitted = static_cast<uint32_t>(caps.permitted);
  data[1].permitted = static_cast<uint32_t>(caps.permitted >> 32);
  data[0].inheritable = static_cast<uint32_t>(caps.inheritable);
  data[1].inheritable = static_cast<uint32_t>(caps.inheritable >> 32);
  return ::syscall(SYS_capset, &header, data) == 0;
}

uint64_t CapBit(int cap) { return uint64_t{1} << cap; }

pid_t ThreadId() { return static_cast<pid_t>(::syscall(SYS_gettid)); }

// The line of /proc/self/task/<tid>/status that starts with `key`, or "".
std::string TaskStatusLine(pid_t tid, const std::string& key) {
  std::ifstream in("/proc/self/task/" + std::to_string(tid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(key, 0) == 0) return line;
  }
  return "";
}

std::string Errno(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

// ---------------------------------------------------------------------------
// The FileSystem under uringfs: records who runs each .sst Append, and can
// hold Appends at a gate.

struct AppendRecord {
  std::string fname;
  pid_t tid = 0;
  uid_t fsuid = 0;
  gid_t fsgid = 0;
  uint64_t cap_effective = 0;
};

class ProbeFileSystem final : public rocksdb::FileSystemWrapper {
 public:
  ProbeFileSystem()
      : rocksdb::FileSystemWrapper(rocksdb::FileSystem::Default()) {}
  const char* Name() const override { return "ProbeFileSystem"; }

  void CloseGate() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock l(&mu_);
    gate_closed_ = true;
  }
  void OpenGate() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock l(&mu_);
    gate_closed_ = false;
  }
  // True once `n` Appends wait at the gate.
  bool WaitForBlocked(int n) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock l(&mu_);
    auto reached = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return blocked_ >= n;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&reached), kWait);
  }
  std::vector<AppendRecord> records() const ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock l(&mu_);
    return records_;
  }
  // The records of appends to files whose name ends in `name`.
  std::vector<AppendRecord> RecordsFor(const std::string& name) const {
    std::vector<AppendRecord> out;
    for (const AppendRecord& r : records()) {
      if (r.fname.size() >= name.size() &&
          r.fname.compare(r.fname.size() - name.size(), name.size(), name) ==
              0) {
        out.push_back(r);
      }
    }
    return out;
  }

  // Called on the thread that runs the Append (a worker for .sst files).
  void BeforeAppend(const std::string& fname) ABSL_LOCKS_EXCLUDED(mu_) {
    AppendRecord r;
    r.fname = fname;
    r.tid = ThreadId();
    r.fsuid = ThreadFsuid();
    r.fsgid = ThreadFsgid();
    ThreadCaps caps;
    r.cap_effective = GetThreadCaps(&caps) ? caps.effective : ~uint64_t{0};
    absl::MutexLock l(&mu_);
    records_.push_back(std::move(r));
    ++blocked_;
    auto open = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return !gate_closed_;
    };
    mu_.AwaitWithTimeout(absl::Condition(&open), kWait);
    --blocked_;
  }

  rocksdb::IOStatus NewWritableFile(
      const std::string& fname, const rocksdb::FileOptions& options,
      std::unique_ptr<rocksdb::FSWritableFile>* result,
      rocksdb::IODebugContext* dbg) override;

 private:
  mutable absl::Mutex mu_;
  bool gate_closed_ ABSL_GUARDED_BY(mu_) = false;
  int blocked_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<AppendRecord> records_ ABSL_GUARDED_BY(mu_);
};

class ProbeWritableFile final : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  ProbeWritableFile(std::unique_ptr<rocksdb::FSWritableFile> target,
                    ProbeFileSystem* fs, std::string fname)
      : rocksdb::FSWritableFileOwnerWrapper(std::move(target)),
        fs_(fs),
        fname_(std::move(fname)) {}

  rocksdb::IOStatus Append(const rocksdb::Slice& data,
                           const rocksdb::IOOptions& options,
                           rocksdb::IODebugContext* dbg) override {
    fs_->BeforeAppend(fname_);
    return target()->Append(data, options, dbg);
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& data,
                           const rocksdb::IOOptions& options,
                           const rocksdb::DataVerificationInfo& info,
                           rocksdb::IODebugContext* dbg) override {
    fs_->BeforeAppend(fname_);
    return target()->Append(data, options, info, dbg);
  }

 private:
  ProbeFileSystem* const fs_;
  const std::string fname_;
};

rocksdb::IOStatus ProbeFileSystem::NewWritableFile(
    const std::string& fname, const rocksdb::FileOptions& options,
    std::unique_ptr<rocksdb::FSWritableFile>* result,
    rocksdb::IODebugContext* dbg) {
  rocksdb::IOStatus s = target()->NewWritableFile(fname, options, result, dbg);
  if (s.ok() && fname.size() > 4 &&
      fname.compare(fname.size() - 4, 4, ".sst") == 0) {
    result->reset(new ProbeWritableFile(std::move(*result), this, fname));
  }
  return s;
}

// Appends each of `chunks` to a new file through `fs` and closes it (Close
// waits for the written-behind appends). "" or what failed.
std::string WriteFile(rocksdb::FileSystem* fs, const std::string& path,
                      const std::vector<std::string>& chunks) {
  std::unique_ptr<rocksdb::FSWritableFile> f;
  rocksdb::IOStatus s =
      fs->NewWritableFile(path, rocksdb::FileOptions(), &f, nullptr);
  if (!s.ok()) return "NewWritableFile " + path + ": " + s.ToString();
  for (const std::string& c : chunks) {
    s = f->Append(c, rocksdb::IOOptions(), nullptr);
    if (!s.ok()) return "Append " + path + ": " + s.ToString();
  }
  s = f->Close(rocksdb::IOOptions(), nullptr);
  return s.ok() ? "" : "Close " + path + ": " + s.ToString();
}

// ---------------------------------------------------------------------------
// The child scenarios. Each returns "" (passed), "SKIP: why", or what failed.

// Like a daemon after preparing its data directory: everything below `dir`
// (and `dir`) belongs to 65534:65534.
std::string ChownTree(const std::string& dir) {
  std::error_code ec;
  if (::lchown(dir.c_str(), kNobody, kNogroup) != 0)
    return Errno("chown " + dir);
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir, ec)) {
    if (::lchown(e.path().c_str(), kNobody, kNogroup) != 0) {
      return Errno("chown " + e.path().string());
    }
  }
  return ec ? "walk " + dir + ": " + ec.message() : "";
}

// Drops root for good, process-wide (glibc broadcasts each call to every
// thread). "" or why not.
std::string DropToNobody() {
  const gid_t groups[] = {kNogroup};
  if (::setgroups(1, groups) != 0) return Errno("setgroups({65534})");
  if (::setresgid(kNogroup, kNogroup, kNogroup) != 0) {
    return Errno("setresgid(65534)");
  }
  if (::setresuid(kNobody, kNobody, kNobody) != 0) {
    return Errno("setresuid(65534)");
  }
  return "";
}

// Every thread of the process (uringfs's workers included) runs as 65534.
std::string EveryThreadIsNobody() {
  std::error_code ec;
  int threads = 0;
  for (const auto& e :
       std::filesystem::directory_iterator("/proc/self/task", ec)) {
    const pid_t tid =
        static_cast<pid_t>(std::stol(e.path().filename().string()));
    // The kernel's own io_uring workers (iou-wrk-*) are not glibc threads
    // and use each request's credentials.
    std::string comm;
    std::getline(std::ifstream(e.path() / "comm"), comm);
    if (comm.rfind("iou-", 0) == 0) continue;
    const std::string uid = TaskStatusLine(tid, "Uid:");
    const std::string gid = TaskStatusLine(tid, "Gid:");
    if (uid != "Uid:\t65534\t65534\t65534\t65534" ||
        gid != "Gid:\t65534\t65534\t65534\t65534") {
      return "thread " + std::to_string(tid) + " after the drop: " + uid +
             " / " + gid;
    }
    ++threads;
  }
  if (ec) return "list /proc/self/task: " + ec.message();
  return threads > 1 ? "" : "only one thread: no worker to test";
}

std::string Key(int i) { return "key" + std::to_string(1000 + i); }
std::string Value(int i) {
  return "value-" + std::to_string(i) + "-" + std::string(100, 'v');
}

std::string PutRange(rocksdb::DB* db, int from, int to) {
  for (int i = from; i < to; ++i) {
    rocksdb::Status s = db->Put(rocksdb::WriteOptions(), Key(i), Value(i));
    if (!s.ok()) return "Put " + Key(i) + ": " + s.ToString();
  }
  return "";
}

std::string DropScenario(const std::string& dir) {
  std::shared_ptr<rocksdb::FileSystem> fs;
  rocksdb::Status s = NewUringFileSystem(testing::WriteBehindOptions(), &fs);
  if (!s.ok()) return "NewUringFileSystem: " + s.ToString();
  std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(fs);
  rocksdb::Options options;
  options.create_if_missing = true;
  options.env = env.get();
  const std::string path = dir + "/db";
  rocksdb::DB* raw = nullptr;
  s = uringfs::testing::OpenDb(options, path, &raw);
  if (!s.ok()) return "DB::Open as root: " + s.ToString();
  std::unique_ptr<rocksdb::DB> db(raw);

  std::string err = PutRange(db.get(), 0, 100);
  if (!err.empty()) return err + " (as root)";
  s = db->Flush(rocksdb::FlushOptions());
  if (!s.ok()) return "Flush as root: " + s.ToString();
  UringFsStats before;
  s = GetUringFsStats(*fs, &before);
  if (!s.ok()) return "GetUringFsStats: " + s.ToString();
  if (before.appends_queued == 0) {
    return "the flush wrote no SST through the worker queue: the test proves "
           "nothing";
  }

  err = ChownTree(dir);
  if (!err.empty()) return err;
  err = DropToNobody();
  if (!err.empty()) return "SKIP: cannot drop to uid/gid 65534: " + err;
  err = EveryThreadIsNobody();
  if (!err.empty()) return "the process-wide drop did not reach: " + err;

  err = PutRange(db.get(), 100, 200);
  if (!err.empty()) return err + " (after the drop)";
  s = db->Flush(rocksdb::FlushOptions());
  if (!s.ok()) return "Flush after the drop: " + s.ToString();
  UringFsStats after;
  s = GetUringFsStats(*fs, &after);
  if (!s.ok()) return "GetUringFsStats: " + s.ToString();
  if (after.appends_queued == before.appends_queued) {
    return "the flush after the drop wrote no SST through the worker queue: "
           "the test proves nothing";
  }
  err = PutRange(db.get(), 200, 300);
  if (!err.empty()) return err + " (after the drop)";
  s = db->Flush(rocksdb::FlushOptions());
  if (!s.ok()) return "second Flush after the drop: " + s.ToString();
  s = db->CompactRange(rocksdb::CompactRangeOptions(), nullptr, nullptr);
  if (!s.ok()) return "CompactRange after the drop: " + s.ToString();
  s = db->Close();
  if (!s.ok()) return "Close after the drop: " + s.ToString();
  db.reset();

  s = uringfs::testing::OpenDb(options, path, &raw);
  if (!s.ok()) return "reopen as 65534: " + s.ToString();
  db.reset(raw);
  for (int i = 0; i < 300; ++i) {
    std::string value;
    s = db->Get(rocksdb::ReadOptions(), Key(i), &value);
    if (!s.ok()) return "Get " + Key(i) + " after reopen: " + s.ToString();
    if (value != Value(i)) return "wrong value for " + Key(i) + " after reopen";
  }
  s = db->Close();
  if (!s.ok()) return "Close after reopen: " + s.ToString();
  db.reset();
  UringFsStats end;
  s = GetUringFsStats(*fs, &end);
  if (!s.ok()) return "GetUringFsStats: " + s.ToString();
  if (end.write_errors != 0) {
    return std::to_string(end.write_errors) + " queued writes failed";
  }
  return "";
}

// Sets only the calling thread's fsuid/fsgid. "" or why not.
std::string BecomeFsUser(uid_t uid, gid_t gid) {
  ::syscall(SYS_setfsgid, gid);
  ::syscall(SYS_setfsuid, uid);
  if (ThreadFsuid() != uid || ThreadFsgid() != gid) {
    return "SKIP: setfsuid/setfsgid to " + std::to_string(uid) + "/" +
           std::to_string(gid) + " did not take";
  }
  return "";
}

std::string ResetScenario(const std::string& dir) {
  if (::chmod(dir.c_str(), 0777) != 0) return Errno("chmod " + dir);
  auto probe = std::make_shared<ProbeFileSystem>();
  UringFsOptions options = testing::WriteBehindOptions();
  options.write_workers = 1;  // One worker runs both appends.
  auto fs = std::make_shared<UringFileSystem>(options, probe);
  const std::string path = dir + "/000007.sst";
  probe->CloseGate();

  std::string tenant_err;
  absl::Notification queued;
  absl::Notification reset_done;
  std::thread tenant([&] {
    tenant_err = BecomeFsUser(kNobody, kNogroup);
    std::unique_ptr<rocksdb::FSWritableFile> f;
    if (tenant_err.empty()) {
      rocksdb::IOStatus s =
          fs->NewWritableFile(path, rocksdb::FileOptions(), &f, nullptr);
      if (!s.ok()) tenant_err = "NewWritableFile as 65534: " + s.ToString();
    }
    if (tenant_err.empty()) {
      // The first append runs on the worker and stops at the gate; the
      // second is queued behind it (same file: same worker, in order).
      rocksdb::IOStatus s = f->Append("first", rocksdb::IOOptions(), nullptr);
      if (s.ok() && !probe->WaitForBlocked(1)) {
        tenant_err = "the first append never reached the file system";
      } else if (s.ok()) {
        s = f->Append("second", rocksdb::IOOptions(), nullptr);
      }
      if (!s.ok()) tenant_err = "Append as 65534: " + s.ToString();
    }
    queued.Notify();
    if (f == nullptr) return;
    reset_done.WaitForNotificationWithTimeout(kWait);
    rocksdb::IOStatus s = f->Close(rocksdb::IOOptions(), nullptr);
    if (!s.ok() && tenant_err.empty()) tenant_err = "Close: " + s.ToString();
  });
  queued.WaitForNotification();
  std::string err;
  const std::vector<AppendRecord> first = probe->records();
  if (tenant_err.empty() && first.size() == 1) {
    // Process-wide: every thread's fsuid becomes its euid, 0.
    if (::seteuid(0) != 0) {
      err = Errno("seteuid(0)");
    } else {
      const std::string uid = TaskStatusLine(first[0].tid, "Uid:");
      if (uid.substr(uid.find_last_of('\t') + 1) != "0") {
        err = "seteuid(0) did not reset the worker's fsuid (" + uid +
              "): the scenario was not exercised";
      }
    }
  }
  probe->OpenGate();
  reset_done.Notify();
  tenant.join();
  if (!tenant_err.empty()) return tenant_err;
  if (!err.empty()) return err;
  const std::vector<AppendRecord> r = probe->RecordsFor("000007.sst");
  if (r.size() != 2)
    return std::to_string(r.size()) + " appends recorded, not 2";
  if (r[0].fsuid != kNobody || r[0].fsgid != kNogroup) {
    return "the first append ran with fsuid/fsgid " +
           std::to_string(r[0].fsuid) + "/" + std::to_string(r[0].fsgid) +
           ", not 65534/65534";
  }
  if (r[1].tid != r[0].tid) {
    return "the two appends ran on different workers: the scenario was not "
           "exercised";
  }
  if (r[1].fsuid != kNobody || r[1].fsgid != kNogroup) {
    return "the second append, queued by a thread with fsuid 65534, ran with "
           "fsuid/fsgid " +
           std::to_string(r[1].fsuid) + "/" + std::to_string(r[1].fsgid) +
           " on the worker whose fsuid seteuid(0) had reset";
  }
  return "";
}

std::string CapsScenario(const std::string& dir) {
  const uint64_t fs_caps =
      CapBit(CAP_DAC_OVERRIDE) | CapBit(CAP_FOWNER) | CapBit(CAP_FSETID);
  ThreadCaps mine;
  if (!GetThreadCaps(&mine)) return Errno("capget");
  if ((mine.effective & fs_caps) != fs_caps) {
    return "SKIP: the test process lacks CAP_DAC_OVERRIDE/CAP_FOWNER/"
           "CAP_FSETID";
  }
  auto probe = std::make_shared<ProbeFileSystem>();
  UringFsOptions options = testing::WriteBehindOptions();
  options.write_workers = 1;  // One worker runs every append.
  auto fs = std::make_shared<UringFileSystem>(options, probe);

  // The worker is started by (and inherits) a thread with every capability.
  std::string err = WriteFile(fs.get(), dir + "/000001.sst", {"full"});
  if (!err.empty()) return err;
  ThreadCaps submitter;
  std::thread t([&] {
    ThreadCaps c;
    if (!GetThreadCaps(&c)) {
      err = Errno("capget");
      return;
    }
    c.effective &= ~fs_caps;
    if (!SetThreadCaps(c) || !GetThreadCaps(&submitter) ||
        (submitter.effective & fs_caps) != 0) {
      err = Errno("capset (drop from the effective set)");
      return;
    }
    err = WriteFile(fs.get(), dir + "/000002.sst", {"dropped"});
  });
  t.join();
  if (!err.empty()) return err;
  err = WriteFile(fs.get(), dir + "/000003.sst", {"full again"});
  if (!err.empty()) return err;

  const std::vector<AppendRecord> full = probe->RecordsFor("000001.sst");
  const std::vector<AppendRecord> dropped = probe->RecordsFor("000002.sst");
  const std::vector<AppendRecord> again = probe->RecordsFor("000003.sst");
  if (full.size() != 1 || dropped.size() != 1 || again.size() != 1) {
    return "expected one append per file";
  }
  if (dropped[0].tid != full[0].tid) {
    return "the appends ran on different workers: the scenario was not "
           "exercised";
  }
  char hex[64];
  std::snprintf(hex, sizeof(hex), "%016llx, the submitter's is %016llx",
                static_cast<unsigned long long>(dropped[0].cap_effective),
                static_cast<unsigned long long>(submitter.effective));
  if ((dropped[0].cap_effective & fs_caps) != 0 ||
      dropped[0].cap_effective != submitter.effective) {
    return std::string(
               "the append of a thread without CAP_DAC_OVERRIDE/"
               "CAP_FOWNER/CAP_FSETID ran on a worker with effective "
               "capabilities ") +
           hex;
  }
  if (dropped[0].fsuid != 0) return "the append did not run as fsuid 0";
  if ((again[0].cap_effective & fs_caps) != fs_caps) {
    return "the next append of a thread with every capability ran without "
           "some of them";
  }
  return "";
}

int ChildMain(const std::string& scenario, const std::string& dir) {
  std::string result;
  if (scenario == "drop") {
    result = DropScenario(dir);
  } else if (scenario == "reset") {
    result = ResetScenario(dir);
  } else if (scenario == "caps") {
    result = CapsScenario(dir);
  } else {
    result = "unknown scenario " + scenario;
  }
  std::fprintf(stderr, "%s: %s\n", scenario.c_str(),
               result.empty() ? "OK" : result.c_str());
  std::fflush(stderr);
  if (result.empty()) return 0;
  return result.rfind("SKIP: ", 0) == 0 ? kExitSkip : 1;
}

// ---------------------------------------------------------------------------
// The parent: one child process per scenario.

struct ChildResult {
  int exit_code = -1;  // -1: killed or not started.
  std::string output;
};

ChildResult RunChild(const std::string& scenario, const std::string& dir) {
  ChildResult result;
  std::vector<std::string> env_strings = {
      std::string(kChildEnv) + "=" + scenario,
      std::string(kDirEnv) + "=" + dir};
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::strncmp(*e, "URINGFS_PRIVDROP_", 17) != 0) {
      env_strings.push_back(*e);
    }
  }
  std::vector<char*> envp;
  for (std::string& s : env_strings) envp.push_back(&s[0]);
  envp.push_back(nullptr);
  char exe[4096];
  const ssize_t n = ::readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (n <= 0) {
    result.output = Errno("readlink /proc/self/exe");
    return result;
  }
  exe[n] = '\0';
  char* argv[] = {exe, nullptr};
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) {
    result.output = Errno("pipe2");
    return result;
  }
  const pid_t pid = ::fork();
  if (pid < 0) {
    result.output = Errno("fork");
    ::close(pipefd[0]);
    ::close(pipefd[1]);
    return result;
  }
  if (pid == 0) {
    ::dup2(pipefd[1], STDOUT_FILENO);
    ::dup2(pipefd[1], STDERR_FILENO);
    ::execve(exe, argv, envp.data());
    ::_exit(127);
  }
  ::close(pipefd[1]);
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(120);
  bool timed_out = false;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd p = {pipefd[0], POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[4096];
    const ssize_t got = ::read(pipefd[0], buf, sizeof(buf));
    if (got <= 0) break;  // EOF: the child is gone.
    result.output.append(buf, static_cast<size_t>(got));
  }
  ::close(pipefd[0]);
  if (timed_out) {
    ::kill(pid, SIGKILL);
    result.output += "\n(killed after 120 s)";
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  return result;
}

class PrivilegeDropTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) {
      GTEST_SKIP() << "needs real root (euid " << ::geteuid()
                   << "): it drops a child process to uid 65534 and changes "
                      "worker credentials";
    }
    // Under /var/tmp: 65534 must be able to reach it, and Bazel's output base
    // may sit below a 0700 home directory.
    char templ[] = "/var/tmp/uringfs_privdrop_XXXXXX";
    ASSERT_NE(::mkdtemp(templ), nullptr) << std::strerror(errno);
    dir_ = templ;
  }
  void TearDown() override {
    if (dir_.empty()) return;
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  void RunScenario(const std::string& scenario) {
    const ChildResult r = RunChild(scenario, dir_);
    if (r.exit_code == kExitSkip) GTEST_SKIP() << r.output;
    EXPECT_EQ(r.exit_code, 0) << "child output:\n" << r.output;
  }

  std::string dir_;
};

TEST_F(PrivilegeDropTest, DbKeepsWorkingAfterTheProcessDropsRoot) {
  RunScenario("drop");
}

TEST_F(PrivilegeDropTest, WorkerResetBySeteuidRunsTheNextItemAsItsSubmitter) {
  RunScenario("reset");
}

TEST_F(PrivilegeDropTest,
       SubmitterWithoutFsCapabilitiesDoesNotGetThemOnTheWorker) {
  RunScenario("caps");
}

}  // namespace
}  // namespace uringfs

int main(int argc, char** argv) {
  const char* scenario = std::getenv(uringfs::kChildEnv);
  const char* dir = std::getenv(uringfs::kDirEnv);
  if (scenario != nullptr && dir != nullptr) {
    return uringfs::ChildMain(scenario, dir);
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
