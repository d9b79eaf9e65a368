// A single buffered read first asks the page cache with
// preadv2(RWF_NOWAIT). A file system that refuses the flag (NFS, FUSE, ...)
// turns the shortcut off for that file only; a system that refuses the
// system call or flag itself (ENOSYS, EPERM from a filter) turns it off for
// every file.

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "env/uring/fault_injector.h"
#include "env/uring/read_engine.h"
#include "env/uring/read_op.h"
#include "tests/testing/pattern_file.h"
#include "tests/uring/test_util.h"

namespace uringfs {
namespace uring {
namespace {

constexpr uint64_t kSize = 50000;

// Refuses RWF_NOWAIT with `err` on one file descriptor.
class NowaitRefusedOn : public FaultInjector {
 public:
  NowaitRefusedOn(int fd, int err) : fd_(fd), err_(err) {}
  int NowaitErrno(int fd) override { return fd == fd_ ? err_ : 0; }

 private:
  const int fd_;
  const int err_;
};

struct File {
  explicit File(const char* name) {
    path = ::uringfs::testing::WritePatternFile(name, kSize);
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    target.fd = fd;
    target.nowait_ok = &nowait_ok;
  }
  ~File() {
    ::close(fd);
    ::unlink(path.c_str());
  }
  // One single read of 1000 bytes at 777 through `engine`, checked.
  void ReadThrough(ReadEngine* engine) {
    std::string buf(1000, '\0');
    ReadOp op;
    op.offset = 777;
    op.len = buf.size();
    op.buf = &buf[0];
    engine->Read(target, &op, 1);
    EXPECT_TRUE(op.finished);
    EXPECT_EQ(op.error, 0);
    EXPECT_EQ(buf, ::uringfs::testing::Expected(kSize, 777, buf.size()));
  }
  std::string path;
  int fd = -1;
  std::atomic<bool> nowait_ok{true};
  ReadTarget target;
};

// Skips unless this machine's file system takes RWF_NOWAIT for `f`.
bool NowaitWorksHere(const File& f) {
  char c;
  iovec iov{&c, 1};
  return ::preadv2(f.fd, &iov, 1, 0, RWF_NOWAIT) >= 0 || errno == EAGAIN;
}

TEST(NowaitPerFileTest, FileSystemRefusalTurnsTheShortcutOffForThatFileOnly) {
  File a("nowait_a"), b("nowait_b");
  if (!NowaitWorksHere(b)) GTEST_SKIP() << "RWF_NOWAIT refused here";
  ReadEngine engine(true, /*ring_single_reads=*/true, 8,
                    std::make_shared<NowaitRefusedOn>(a.fd, EOPNOTSUPP));
  a.ReadThrough(&engine);
  EXPECT_FALSE(a.nowait_ok.load());
  b.ReadThrough(&engine);
  EXPECT_TRUE(b.nowait_ok.load());
  EXPECT_EQ(engine.counters().ops_cached.Sum(), 1u)
      << "the other file lost the page-cache shortcut";
}

TEST(NowaitPerFileTest, SystemRefusalTurnsTheShortcutOffForEveryFile) {
  File a("nowait_c"), b("nowait_d");
  if (!NowaitWorksHere(b)) GTEST_SKIP() << "RWF_NOWAIT refused here";
  ReadEngine engine(true, /*ring_single_reads=*/true, 8,
                    std::make_shared<NowaitRefusedOn>(a.fd, ENOSYS));
  a.ReadThrough(&engine);
  b.ReadThrough(&engine);
  EXPECT_EQ(engine.counters().ops_cached.Sum(), 0u);
}

}  // namespace
}  // namespace uring
}  // namespace uringfs
