// -----------------------------------------------------------------------------
// tests/write/sticky_error_test.cc
// -----------------------------------------------------------------------------
//
// The write path of uringfs (env/writable_file.h) through `UringFileSystem`
// over the seam (the fixture of write_test_fixture.h): sticky errors. A failure
// of queued work surfaces on the file's next call and stays (every later call,
// Close included, returns it, and nothing more is written); a failure of a
// call run on the caller is returned by that call and stays; one failed file
// does not fail others.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "env/uring_file_system.h"
#include "rocksdb/file_system.h"
#include "rocksdb/io_status.h"
#include "tests/testing/deadline.h"
#include "tests/testing/disk_file.h"
#include "tests/testing/seam_fs.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/write_behind_options.h"
#include "tests/write/write_test_fixture.h"
#include "uringfs/options.h"
#include "uringfs/stats.h"

namespace uringfs {
namespace {

using rocksdb::FSWritableFile;
using rocksdb::IOOptions;
using rocksdb::IOStatus;
using testing::Background;
using testing::Concat;
using testing::InjectedEio;
using testing::InjectedNoSpace;
using testing::kMustReturn;
using testing::RandomBytes;
using testing::ReadFileOnDisk;
using testing::SeamOp;
using testing::SizeOnDisk;
using testing::StatsOf;
using testing::WriteTest;
using namespace std::chrono_literals;

// What the test expects of a status carrying the injected error: NoSpace for
// ENOSPC; a plain, non-retryable IOError for EIO.
::testing::AssertionResult IsInjected(const IOStatus& s, bool eio) {
  if (eio) {
    if (s.IsIOError() && s.subcode() == rocksdb::Status::kNone &&
        !s.GetRetryable() &&
        s.ToString().find("injected EIO") != std::string::npos) {
      return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure()
           << "expected the injected non-retryable EIO IOError, got "
           << s.ToString() << " (retryable=" << s.GetRetryable() << ")";
  }
  // Retryable, as the base (like PosixFileSystem) said: uringfs keeps the
  // attributes of the status it was given.
  if (s.IsNoSpace() && s.GetRetryable() &&
      s.ToString().find("injected ENOSPC") != std::string::npos) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure()
         << "expected the injected, retryable NoSpace, got " << s.ToString()
         << " (retryable=" << s.GetRetryable() << ")";
}

// Every later call on `f` returns the injected error, Close included (twice).
void ExpectStaysFailed(FSWritableFile* f, bool eio) {
  const IOOptions io;
  EXPECT_TRUE(IsInjected(f->Append("after the failure", io, nullptr), eio))
      << "Append";
  EXPECT_TRUE(IsInjected(f->Flush(io, nullptr), eio)) << "Flush";
  EXPECT_TRUE(IsInjected(f->Sync(io, nullptr), eio)) << "Sync";
  EXPECT_TRUE(IsInjected(f->Fsync(io, nullptr), eio)) << "Fsync";
  EXPECT_TRUE(IsInjected(f->Close(io, nullptr), eio)) << "Close";
  EXPECT_TRUE(IsInjected(f->Close(io, nullptr), eio)) << "second Close";
  EXPECT_TRUE(IsInjected(f->Append("after close", io, nullptr), eio))
      << "Append after Close";
}

// ---------------------------------------------------------------------------
// Sticky errors.
// ---------------------------------------------------------------------------

// Which call is expected to report a failure of queued work first.
enum class Surface { kAppend, kFlush, kSync, kClose };

struct QueuedFailureCase {
  bool eio;
  Surface surface;
};

std::string CaseName(const ::testing::TestParamInfo<QueuedFailureCase>& p) {
  static const char* const kSurface[] = {"Append", "Flush", "Sync", "Close"};
  return std::string(p.param.eio ? "Eio" : "NoSpace") + "SurfacesOn" +
         kSurface[static_cast<int>(p.param.surface)];
}

class QueuedAppendFailureTest
    : public WriteTest,
      public ::testing::WithParamInterface<QueuedFailureCase> {};

TEST_P(QueuedAppendFailureTest, SurfacesOnTheNextCallStaysAndStopsLaterWrites) {
  const bool eio = GetParam().eio;
  seam_->FailNth(SeamOp::kAppend, ".sst", 3,
                 eio ? InjectedEio() : InjectedNoSpace());
  std::unique_ptr<FSWritableFile> f = Open("000040.sst");
  ASSERT_NE(f, nullptr);
  const std::vector<std::string> parts = Parts(5, 100, 5000);
  // All five are queued before the device sees any; the 3rd then fails on a
  // worker, after the calls that queued it returned OK.
  seam_->CloseGate(".sst");
  AppendAll(f.get(), parts);
  seam_->OpenGate();
  IOStatus first;
  {
    Background b([&] {
      const auto deadline = std::chrono::steady_clock::now() + 10s;
      switch (GetParam().surface) {
        case Surface::kAppend:
        case Surface::kFlush:
          // The failure is asynchronous: poll until the call reports it.
          do {
            first = GetParam().surface == Surface::kAppend
                        ? f->Append("more", IOOptions(), nullptr)
                        : f->Flush(IOOptions(), nullptr);
            if (first.ok()) std::this_thread::sleep_for(1ms);
          } while (first.ok() && std::chrono::steady_clock::now() < deadline);
          break;
        case Surface::kSync:
          first = f->Sync(IOOptions(), nullptr);
          break;
        case Surface::kClose:
          first = f->Close(IOOptions(), nullptr);
          break;
      }
    });
    ASSERT_TRUE(b.Finished(kMustReturn));
  }
  EXPECT_TRUE(IsInjected(first, eio));
  EXPECT_EQ(seam_->fired(), 1);
  ExpectStaysFailed(f.get(), eio);
  EXPECT_TRUE(ReadFileOnDisk(Path("000040.sst")) == Concat(parts, 2))
      << "data queued after the failed append was written (size "
      << SizeOnDisk(Path("000040.sst")) << ", expected "
      << Concat(parts, 2).size() << ")";
  EXPECT_EQ(StatsOf(*fs_).write_errors, 1u);
}

INSTANTIATE_TEST_SUITE_P(
    WriteBehind, QueuedAppendFailureTest,
    ::testing::Values(QueuedFailureCase{false, Surface::kAppend},
                      QueuedFailureCase{false, Surface::kFlush},
                      QueuedFailureCase{false, Surface::kSync},
                      QueuedFailureCase{false, Surface::kClose},
                      QueuedFailureCase{true, Surface::kAppend},
                      QueuedFailureCase{true, Surface::kFlush},
                      QueuedFailureCase{true, Surface::kSync},
                      QueuedFailureCase{true, Surface::kClose}),
    CaseName);

struct CallerFailureCase {
  bool eio;
  SeamOp op;         // kAppend (write-through only), kSync, kFsync, kClose.
  const char* name;  // File name: decides the policy.
};

std::string CallerCaseName(
    const ::testing::TestParamInfo<CallerFailureCase>& p) {
  static const char* const kOp[] = {"Append", "Sync", "Fsync", "Close",
                                    "Truncate"};
  std::string file = p.param.name;
  file = file.substr(file.find('.') + 1);
  return std::string(p.param.eio ? "Eio" : "NoSpace") + "On" +
         kOp[static_cast<int>(p.param.op)] + "Of_" + file;
}

class CallerFailureTest
    : public WriteTest,
      public ::testing::WithParamInterface<CallerFailureCase> {};

// Failures of operations that run on the caller (every operation of a
// write-through file; Sync/Fsync/Close of a write-behind one) are returned by
// that call itself and stay.
TEST_P(CallerFailureTest, IsReturnedByTheCallAndStays) {
  const CallerFailureCase c = GetParam();
  const std::string suffix =
      std::string(c.name).substr(std::string(c.name).find('.'));
  seam_->FailNth(c.op, suffix, c.op == SeamOp::kAppend ? 3 : 1,
                 c.eio ? InjectedEio() : InjectedNoSpace());
  std::unique_ptr<FSWritableFile> f = Open(c.name);
  ASSERT_NE(f, nullptr);
  const std::vector<std::string> parts = Parts(4, 100, 5000);
  IOStatus first;
  size_t written = 0;  // Parts expected on disk.
  {
    Background b([&] {
      for (size_t i = 0; i < parts.size() && first.ok(); ++i) {
        first = f->Append(parts[i], IOOptions(), nullptr);
        if (first.ok()) first = f->Flush(IOOptions(), nullptr);
        if (first.ok()) written = i + 1;
      }
      if (!first.ok()) return;
      switch (c.op) {
        case SeamOp::kSync:
          first = f->Sync(IOOptions(), nullptr);
          break;
        case SeamOp::kFsync:
          first = f->Fsync(IOOptions(), nullptr);
          break;
        case SeamOp::kClose:
          first = f->Close(IOOptions(), nullptr);
          break;
        default:
          break;
      }
    });
    ASSERT_TRUE(b.Finished(kMustReturn));
  }
  EXPECT_TRUE(IsInjected(first, c.eio));
  EXPECT_EQ(seam_->fired(), 1);
  EXPECT_EQ(written, c.op == SeamOp::kAppend ? 2u : parts.size());
  ExpectStaysFailed(f.get(), c.eio);
  EXPECT_TRUE(ReadFileOnDisk(Path(c.name)) == Concat(parts, written))
      << "data given after the failure was written";
}

INSTANTIATE_TEST_SUITE_P(
    Caller, CallerFailureTest,
    ::testing::Values(CallerFailureCase{false, SeamOp::kAppend, "000050.log"},
                      CallerFailureCase{true, SeamOp::kAppend, "000050.log"},
                      CallerFailureCase{false, SeamOp::kSync, "000050.log"},
                      CallerFailureCase{true, SeamOp::kSync, "000050.log"},
                      CallerFailureCase{true, SeamOp::kClose, "000050.log"},
                      CallerFailureCase{false, SeamOp::kSync, "000050.sst"},
                      CallerFailureCase{true, SeamOp::kSync, "000050.sst"},
                      CallerFailureCase{false, SeamOp::kFsync, "000050.sst"},
                      CallerFailureCase{true, SeamOp::kFsync, "000050.sst"},
                      CallerFailureCase{false, SeamOp::kClose, "000050.sst"},
                      CallerFailureCase{true, SeamOp::kClose, "000050.sst"}),
    CallerCaseName);

TEST_F(WriteTest, TruncateFailureOfAWriteBehindFileStays) {
  seam_->FailNth(SeamOp::kTruncate, ".sst", 1, InjectedEio());
  std::unique_ptr<FSWritableFile> f = Open("000055.sst");
  ASSERT_NE(f, nullptr);
  AppendAll(f.get(), {"0123456789"});
  EXPECT_TRUE(IsInjected(f->Truncate(4, IOOptions(), nullptr), true));
  ExpectStaysFailed(f.get(), true);
  EXPECT_EQ(ReadFileOnDisk(Path("000055.sst")), "0123456789");
}

TEST_F(WriteTest, AFailedFileDoesNotFailOtherFiles) {
  seam_->FailNth(SeamOp::kAppend, "bad.sst", 1, InjectedEio());
  std::unique_ptr<FSWritableFile> bad = Open("000056bad.sst");
  std::unique_ptr<FSWritableFile> good = Open("000056good.sst");
  ASSERT_NE(bad, nullptr);
  ASSERT_NE(good, nullptr);
  bad->Append("lost", IOOptions(), nullptr).PermitUncheckedError();
  ASSERT_OK(good->Append("kept", IOOptions(), nullptr));
  EXPECT_TRUE(IsInjected(bad->Sync(IOOptions(), nullptr), true));
  ASSERT_OK(good->Sync(IOOptions(), nullptr));
  ASSERT_OK(good->Close(IOOptions(), nullptr));
  EXPECT_TRUE(IsInjected(bad->Close(IOOptions(), nullptr), true));
  EXPECT_EQ(ReadFileOnDisk(Path("000056good.sst")), "kept");
  EXPECT_EQ(ReadFileOnDisk(Path("000056bad.sst")), "");
}

TEST_F(WriteTest, DestroyingAHandleWithoutCloseWritesItsQueuedData) {
  seam_->SetAppendDelay(".sst", 2ms);
  std::unique_ptr<FSWritableFile> f = Open("000057.sst");
  ASSERT_NE(f, nullptr);
  const std::vector<std::string> parts = Parts(10, 1, 64 << 10);
  AppendAll(f.get(), parts);
  {
    Background b([&] { f.reset(); });
    EXPECT_TRUE(b.Finished(kMustReturn));
  }
  EXPECT_TRUE(ReadFileOnDisk(Path("000057.sst")) ==
              Concat(parts, parts.size()));
}

// Sync may run concurrently with Append (IsSyncThreadSafe); such a Sync
// covers everything appended before it started.
TEST_F(WriteTest, ConcurrentSyncCoversEverythingAppendedBeforeItStarted) {
  UringFsOptions o = testing::WriteBehindOptions();
  o.max_queued_bytes_per_file = 256 << 10;  // Bounds how long a Sync drains.
  Reset(o);
  seam_->SetAppendDelay(".sst", 100us);
  for (const char* name : {"000058.sst", "000058.log"}) {
    SCOPED_TRACE(name);
    std::unique_ptr<FSWritableFile> f = Open(name);
    ASSERT_NE(f, nullptr);
    ASSERT_TRUE(f->IsSyncThreadSafe());
    std::atomic<uint64_t> appended{0};
    std::atomic<bool> stop{false};
    std::thread appender([&] {
      std::mt19937_64 rng(7);
      std::uniform_int_distribution<size_t> size(1, 16 << 10);
      while (!stop) {
        const std::string data = RandomBytes(rng, size(rng));
        EXPECT_OK(f->Append(data, IOOptions(), nullptr));
        EXPECT_OK(f->Flush(IOOptions(), nullptr));
        appended += data.size();
      }
    });
    for (int i = 0; i < 20; ++i) {
      const uint64_t before = appended.load();
      ASSERT_OK(f->Sync(IOOptions(), nullptr));
      ASSERT_GE(SizeOnDisk(Path(name)), before)
          << "Sync returned before bytes appended earlier were written";
      std::this_thread::sleep_for(1ms);
    }
    stop = true;
    appender.join();
    ASSERT_OK(f->Close(IOOptions(), nullptr));
    EXPECT_EQ(SizeOnDisk(Path(name)), appended.load());
  }
}

}  // namespace
}  // namespace uringfs
