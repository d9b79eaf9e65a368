// Per-work credentials, seen through the kernel's own rule (capabilities(7),
// setfsuid(2)): a write to a set-user-ID file by a thread without CAP_FSETID
// clears the bit, and changing the fsuid from 0 to non-zero drops CAP_FSETID
// from the thread's effective set. So a root-owned 04777 file
//
//   * written by a thread whose fsuid/fsgid are 65534 loses S_ISUID, and
//   * written by a root thread keeps it,
//
// and uringfs must give the same result as the same write done directly:
// for a ".sst" name the append is written behind by a worker thread (which
// must run it with the submitter's credentials: a worker running as root
// would keep the bit), for a ".log" name it is written by the calling thread.
// The direct write(2) by the same kind of thread is the reference; if the
// kernel or file system does not clear the bit for it (or clears it for
// root), the test is skipped with that reason. Needs real root, outside the
// sandbox (tags no-sandbox, requires-root); skipped otherwise.
//
// Credentials are changed per thread with raw syscalls (SYS_setfsuid,
// SYS_setfsgid): glibc's set*id wrappers would change every thread.

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "env/uring_file_system.h"
#include "rocksdb/file_system.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/write_behind_options.h"
#include "uringfs/options.h"
#include "uringfs/stats.h"

namespace uringfs {
namespace {

constexpr uid_t kNobody = 65534;
constexpr gid_t kNogroup = 65534;

// Runs `fn` on a new thread whose fsuid and fsgid are `uid` and `gid` (only
// that thread changes). Returns fn's error text, or why the switch failed.
std::string OnThreadAs(uid_t uid, gid_t gid,
                       const std::function<std::string()>& fn) {
  std::string err;
  std::thread t([&] {
    ::syscall(SYS_setfsgid, gid);
    ::syscall(SYS_setfsuid, uid);
    // -1 is not a valid id: the calls only report the current values.
    const auto fsuid = static_cast<uid_t>(::syscall(SYS_setfsuid, -1));
    const auto fsgid = static_cast<gid_t>(::syscall(SYS_setfsgid, -1));
    if (fsuid != uid || fsgid != gid) {
      err = "setfsuid/setfsgid to " + std::to_string(uid) + "/" +
            std::to_string(gid) + " did not take (now " +
            std::to_string(fsuid) + "/" + std::to_string(fsgid) + ")";
      return;
    }
    err = fn();
  });
  t.join();
  return err;
}

mode_t ModeOf(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return 0;
  return st.st_mode;
}

// A root-owned file with mode 04777 and a few bytes; "" or what failed.
std::string MakeSetuidFile(const std::string& path) {
  ::unlink(path.c_str());
  const int fd =
      ::open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0) return "create " + path + ": " + std::strerror(errno);
  const bool wrote = ::write(fd, "seed", 4) == 4;
  ::close(fd);
  if (!wrote) return "write " + path;
  if (::chown(path.c_str(), 0, 0) != 0) {
    return "chown " + path + ": " + std::strerror(errno);
  }
  if (::chmod(path.c_str(), 04777) != 0) {
    return "chmod " + path + ": " + std::strerror(errno);
  }
  if ((ModeOf(path) & S_ISUID) == 0) return "S_ISUID did not stick on " + path;
  return "";
}

// write(2) on the calling thread; "" or what failed.
std::string DirectWrite(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0) return "open " + path + ": " + std::strerror(errno);
  const bool wrote = ::write(fd, "payload", 7) == 7;
  const int err = errno;
  ::close(fd);
  return wrote ? "" : "write " + path + ": " + std::strerror(err);
}

struct Case {
  const char* name;    // Test name suffix.
  const char* suffix;  // File name ending: picks write-behind or not.
  uid_t uid;
  gid_t gid;
  bool bit_kept;  // What capabilities(7) says happens to S_ISUID.
};

class SetuidCredsTest : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) {
      GTEST_SKIP() << "needs real root (euid " << ::geteuid()
                   << "): it writes a root-owned set-user-ID file as fsuid "
                   << kNobody << " and as root";
    }
    std::string why;
    for (const char* env :
         {static_cast<const char*>(std::getenv("TEST_TMPDIR")), "/var/tmp"}) {
      if (env == nullptr) continue;
      why = TryDir(env);
      if (why.empty()) break;
    }
    if (!why.empty()) GTEST_SKIP() << why;
    fs_ = std::make_shared<UringFileSystem>(testing::WriteBehindOptions(),
                                            rocksdb::FileSystem::Default());
  }
  void TearDown() override {
    fs_.reset();
    if (dir_.empty()) return;
    for (const std::string& p : created_) ::unlink(p.c_str());
    ::rmdir(dir_.c_str());
  }

  // Makes a fresh 0777 directory under `base` where fsuid 65534 can open a
  // file, on a file system not mounted nosuid. "" or why not.
  std::string TryDir(const std::string& base) {
    std::string templ = base + "/uringfs_setuid_XXXXXX";
    std::vector<char> buf(templ.begin(), templ.end());
    buf.push_back('\0');
    if (::mkdtemp(buf.data()) == nullptr) {
      return "mkdtemp " + templ + ": " + std::strerror(errno);
    }
    const std::string dir = buf.data();
    struct statvfs vfs;
    std::string why;
    if (::chmod(dir.c_str(), 0777) != 0) {
      why = "chmod 0777 " + dir + ": " + std::strerror(errno);
    } else if (::statvfs(dir.c_str(), &vfs) != 0) {
      why = "statvfs " + dir + ": " + std::strerror(errno);
    } else if ((vfs.f_flag & ST_NOSUID) != 0) {
      why = dir +
            " is on a file system mounted nosuid: set-user-ID bits "
            "mean nothing there";
    } else {
      const std::string probe = dir + "/probe";
      why = MakeSetuidFile(probe);
      if (why.empty()) {
        why = OnThreadAs(kNobody, kNogroup, [&]() -> std::string {
          const int fd = ::open(probe.c_str(), O_WRONLY | O_CLOEXEC);
          if (fd < 0) {
            return "fsuid " + std::to_string(kNobody) + " cannot open " +
                   probe + ": " + std::strerror(errno);
          }
          ::close(fd);
          return "";
        });
      }
      ::unlink(probe.c_str());
    }
    if (!why.empty()) {
      ::rmdir(dir.c_str());
      return why;
    }
    dir_ = dir;
    return "";
  }

  std::string NewPath(const std::string& stem) {
    const std::string p = dir_ + "/" + stem + GetParam().suffix;
    created_.push_back(p);
    return p;
  }

  // ReopenWritableFile + Append + Close through uringfs on the calling
  // thread. `mode_before_close` gets the mode once the write is done (a
  // by-name GetFileSize waits for written-behind appends) and before Close.
  std::string UringWrite(const std::string& path, mode_t* mode_before_close) {
    std::unique_ptr<rocksdb::FSWritableFile> f;
    rocksdb::IOStatus s =
        fs_->ReopenWritableFile(path, rocksdb::FileOptions(), &f, nullptr);
    if (!s.ok()) return "ReopenWritableFile: " + s.ToString();
    s = f->Append("payload", rocksdb::IOOptions(), nullptr);
    if (!s.ok()) return "Append: " + s.ToString();
    s = f->Flush(rocksdb::IOOptions(), nullptr);
    if (!s.ok()) return "Flush: " + s.ToString();
    uint64_t size = 0;
    s = fs_->GetFileSize(path, rocksdb::IOOptions(), &size, nullptr);
    if (!s.ok()) return "GetFileSize: " + s.ToString();
    if (size != 4 + 7) {
      return "size after the append is " + std::to_string(size) +
             ", expected 11";
    }
    *mode_before_close = ModeOf(path);
    s = f->Close(rocksdb::IOOptions(), nullptr);
    if (!s.ok()) return "Close: " + s.ToString();
    return "";
  }

  std::string dir_;
  std::vector<std::string> created_;
  std::shared_ptr<UringFileSystem> fs_;
};

TEST_P(SetuidCredsTest, UringfsWriteTreatsTheSetuidBitLikeADirectWrite) {
  const Case& c = GetParam();
  const std::string who =
      c.uid == 0 ? "a root thread"
                 : "a thread with fsuid/fsgid " + std::to_string(c.uid);

  // The reference: the same write done directly by the same kind of thread.
  const std::string ref = NewPath("reference");
  ASSERT_EQ(MakeSetuidFile(ref), "");
  ASSERT_EQ(OnThreadAs(c.uid, c.gid, [&] { return DirectWrite(ref); }), "");
  const mode_t ref_mode = ModeOf(ref);
  if (((ref_mode & S_ISUID) != 0) != c.bit_kept) {
    GTEST_SKIP() << "the kernel/file system here does not behave as "
                    "capabilities(7) says: a direct write(2) by "
                 << who << " " << ((ref_mode & S_ISUID) ? "kept" : "cleared")
                 << " S_ISUID of a root-owned 04777 file (mode now 0"
                 << std::oct << (ref_mode & 07777) << ")";
  }

  const bool behind = std::string(c.suffix) == ".sst";
  UringFsStats before;
  ASSERT_OK(GetUringFsStats(*fs_, &before));
  const std::string path = NewPath("through_uringfs");
  ASSERT_EQ(MakeSetuidFile(path), "");
  mode_t mode_written = 0;
  ASSERT_EQ(
      OnThreadAs(c.uid, c.gid, [&] { return UringWrite(path, &mode_written); }),
      "");
  UringFsStats after;
  ASSERT_OK(GetUringFsStats(*fs_, &after));
  const mode_t mode_closed = ModeOf(path);

  // The write went the way the name says.
  EXPECT_EQ(after.appends_queued - before.appends_queued, behind ? 1u : 0u);
  EXPECT_EQ(after.appends_direct - before.appends_direct, behind ? 0u : 1u);

  EXPECT_EQ((mode_written & S_ISUID) != 0, c.bit_kept)
      << "after " << who << " appended through uringfs ("
      << (behind ? "written behind by a worker" : "written by the caller")
      << "), S_ISUID is " << ((mode_written & S_ISUID) ? "set" : "clear")
      << "; the same direct write left it "
      << ((ref_mode & S_ISUID) ? "set" : "clear")
      << (behind && !c.bit_kept
              ? " (the worker did not write with the submitter's fsuid)"
              : "");
  EXPECT_EQ(mode_written & 07777, ref_mode & 07777);
  EXPECT_EQ(mode_closed & 07777, ref_mode & 07777);
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u);
  EXPECT_EQ(st.st_size, 11);
}

INSTANTIATE_TEST_SUITE_P(
    Paths, SetuidCredsTest,
    ::testing::Values(
        Case{"WriteBehindSstAsNobodyClearsTheBit", ".sst", kNobody, kNogroup,
             false},
        Case{"WriteBehindSstAsRootKeepsTheBit", ".sst", 0, 0, true},
        Case{"DirectLogAsNobodyClearsTheBit", ".log", kNobody, kNogroup, false},
        Case{"DirectLogAsRootKeepsTheBit", ".log", 0, 0, true}),
    [](const ::testing::TestParamInfo<Case>& i) { return i.param.name; });

// Both kinds of writer on the same file system in turn: a worker that wrote
// for fsuid 65534 is back at root for the next root write (and the other way
// round).
TEST(SetuidCredsSequenceTest, WorkerReturnsToRootBetweenSubmitters) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs real root";
  // Under /var/tmp, not TEST_TMPDIR: fsuid 65534 must be able to reach it,
  // and Bazel's output base may sit below a 0700 home directory.
  char templ[] = "/var/tmp/uringfs_setuid_seq_XXXXXX";
  ASSERT_NE(::mkdtemp(templ), nullptr) << std::strerror(errno);
  const std::string dir = templ;
  ASSERT_EQ(::chmod(dir.c_str(), 0777), 0);
  struct statvfs vfs;
  ASSERT_EQ(::statvfs(dir.c_str(), &vfs), 0);
  if ((vfs.f_flag & ST_NOSUID) != 0) {
    ::rmdir(dir.c_str());
    GTEST_SKIP() << dir << " is mounted nosuid";
  }
  auto fs = std::make_shared<UringFileSystem>(testing::WriteBehindOptions(),
                                              rocksdb::FileSystem::Default());
  std::vector<std::string> paths;
  std::string skip;
  for (int round = 0; round < 6 && skip.empty(); ++round) {
    const bool root = round % 2 == 1;
    const uid_t uid = root ? 0 : kNobody;
    const gid_t gid = root ? 0 : kNogroup;
    const std::string ref = dir + "/ref" + std::to_string(round);
    const std::string p = dir + "/seq" + std::to_string(round) + ".sst";
    paths.push_back(ref);
    paths.push_back(p);
    ASSERT_EQ(MakeSetuidFile(ref), "");
    std::string err = OnThreadAs(uid, gid, [&] { return DirectWrite(ref); });
    if (!err.empty()) {
      skip = err;
      break;
    }
    if (((ModeOf(ref) & S_ISUID) != 0) != root) {
      skip = "a direct write does not treat S_ISUID as capabilities(7) says";
      break;
    }
    ASSERT_EQ(MakeSetuidFile(p), "");
    err = OnThreadAs(uid, gid, [&]() -> std::string {
      std::unique_ptr<rocksdb::FSWritableFile> f;
      rocksdb::IOStatus s =
          fs->ReopenWritableFile(p, rocksdb::FileOptions(), &f, nullptr);
      if (!s.ok()) return s.ToString();
      s = f->Append("payload", rocksdb::IOOptions(), nullptr);
      if (s.ok()) s = f->Close(rocksdb::IOOptions(), nullptr);
      return s.ok() ? "" : s.ToString();
    });
    ASSERT_EQ(err, "");
    EXPECT_EQ((ModeOf(p) & S_ISUID) != 0, root)
        << "round " << round << " (" << (root ? "root" : "fsuid 65534")
        << " after " << (root ? "fsuid 65534" : "root") << ")";
  }
  fs.reset();
  for (const std::string& p : paths) ::unlink(p.c_str());
  ::rmdir(dir.c_str());
  if (!skip.empty()) GTEST_SKIP() << skip;
}

}  // namespace
}  // namespace uringfs
