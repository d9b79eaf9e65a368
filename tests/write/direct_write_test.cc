// -----------------------------------------------------------------------------
// tests/write/direct_write_test.cc
// -----------------------------------------------------------------------------
//
// The write path of uringfs (env/writable_file.h) through `UringFileSystem`
// over the seam (the fixture of write_test_fixture.h): direct I/O. Misaligned
// buffers, sizes and offsets are refused before anything is written; aligned
// positioned appends are written on the caller, never behind.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "env/uring_file_system.h"
#include "rocksdb/file_system.h"
#include "rocksdb/io_status.h"
#include "tests/testing/aligned_buffer.h"
#include "tests/testing/disk_file.h"
#include "tests/testing/pattern_file.h"
#include "tests/testing/status_matchers.h"
#include "tests/write/write_test_fixture.h"
#include "uringfs/options.h"
#include "uringfs/stats.h"

namespace uringfs {
namespace {

using rocksdb::FileOptions;
using rocksdb::FSWritableFile;
using rocksdb::IOOptions;
using rocksdb::IOStatus;
using rocksdb::Slice;
using testing::AlignedBuffer;
using testing::Pattern;
using testing::ReadFileOnDisk;
using testing::SizeOnDisk;
using testing::StatsOf;
using testing::WriteTest;
using namespace std::chrono_literals;

// ---------------------------------------------------------------------------
// Direct I/O.
// ---------------------------------------------------------------------------

class DirectWriteTest : public WriteTest {
 protected:
  // Opens `name` with O_DIRECT, or skips the test with the reason.
  std::unique_ptr<FSWritableFile> OpenDirect(const std::string& name) {
    FileOptions fo;
    fo.use_direct_writes = true;
    std::unique_ptr<FSWritableFile> f;
    IOStatus s = fs_->NewWritableFile(Path(name), fo, &f, nullptr);
    if (!s.ok()) {
      skip_reason_ =
          "O_DIRECT open refused under " + dir_ + ": " + s.ToString();
      return nullptr;
    }
    if (!f->use_direct_io()) {
      skip_reason_ =
          "the base file system did not open " + name + " for direct I/O";
      return nullptr;
    }
    return f;
  }

  // A buffer aligned to `align` (at least 4096) holding `n` bytes of the
  // pattern of tests/testing/pattern_file.h.
  static std::unique_ptr<AlignedBuffer> PatternBuffer(size_t align, size_t n) {
    auto buf =
        std::make_unique<AlignedBuffer>(std::max<size_t>(align, 4096), n);
    if (buf->get() != nullptr) std::memcpy(buf->get(), Pattern(0, n).data(), n);
    return buf;
  }

  std::string skip_reason_;
};

TEST_F(DirectWriteTest, RefusesMisalignedBufferSizeAndOffsetBeforeWriting) {
  std::unique_ptr<FSWritableFile> f = OpenDirect("000090.sst");
  if (f == nullptr) GTEST_SKIP() << skip_reason_;
  const size_t align = f->GetRequiredBufferAlignment();
  ASSERT_GT(align, 1u);
  std::unique_ptr<AlignedBuffer> buf = PatternBuffer(align, 4 * align);
  ASSERT_NE(buf->get(), nullptr);
  struct Bad {
    const char* what;
    Slice data;
    uint64_t offset;
    bool positioned;
  } const cases[] = {
      {"misaligned buffer", Slice(buf->get() + 1, align), 0, true},
      {"misaligned size", Slice(buf->get(), align + 1), 0, true},
      {"misaligned offset", Slice(buf->get(), align), 1, true},
      {"misaligned buffer (Append)", Slice(buf->get() + 1, align), 0, false},
      {"misaligned size (Append)", Slice(buf->get(), align - 1), 0, false},
  };
  for (const Bad& c : cases) {
    IOStatus s = c.positioned ? f->PositionedAppend(c.data, c.offset,
                                                    IOOptions(), nullptr)
                              : f->Append(c.data, IOOptions(), nullptr);
    EXPECT_TRUE(s.IsInvalidArgument()) << c.what << ": " << s.ToString();
    EXPECT_NE(s.ToString().find("align"), std::string::npos) << s.ToString();
    EXPECT_NE(s.ToString().find(std::to_string(align)), std::string::npos)
        << c.what
        << ": the message should name the alignment: " << s.ToString();
  }
  EXPECT_EQ(SizeOnDisk(Path("000090.sst")), 0u)
      << "a refused write reached the file";
  EXPECT_EQ(StatsOf(*fs_).appends_queued, 0u);
  f->Close(IOOptions(), nullptr).PermitUncheckedError();
}

// RocksDB sends direct writes with checksum hand-off (for example
// `checksum_handoff_file_types` naming SST files with
// `use_direct_io_for_flush_and_compaction`) through the overload that
// carries the checksum; they are written like any other.
TEST_F(DirectWriteTest, PositionedAppendWithHandedOffChecksumWrites) {
  std::unique_ptr<FSWritableFile> f = OpenDirect("000092.sst");
  if (f == nullptr) GTEST_SKIP() << skip_reason_;
  const size_t align = f->GetRequiredBufferAlignment();
  std::unique_ptr<AlignedBuffer> buf = PatternBuffer(align, 2 * align);
  ASSERT_NE(buf->get(), nullptr);
  rocksdb::DataVerificationInfo v;
  v.checksum = Slice("\x01\x02\x03\x04", 4);
  ASSERT_OK(f->PositionedAppend(Slice(buf->get(), 2 * align), 0, IOOptions(), v,
                                nullptr));
  ASSERT_OK(f->Close(IOOptions(), nullptr));
  EXPECT_TRUE(ReadFileOnDisk(Path("000092.sst")) ==
              std::string(buf->get(), 2 * align));
  EXPECT_EQ(StatsOf(*fs_).appends_direct, 1u);
}

TEST_F(DirectWriteTest, AcceptsAlignedPositionedAppends) {
  std::unique_ptr<FSWritableFile> f = OpenDirect("000091.sst");
  if (f == nullptr) GTEST_SKIP() << skip_reason_;
  const size_t align = f->GetRequiredBufferAlignment();
  std::unique_ptr<AlignedBuffer> buf = PatternBuffer(align, 4 * align);
  ASSERT_NE(buf->get(), nullptr);
  ASSERT_OK(f->PositionedAppend(Slice(buf->get(), 2 * align), 0, IOOptions(),
                                nullptr));
  ASSERT_OK(f->PositionedAppend(Slice(buf->get() + 2 * align, 2 * align),
                                2 * align, IOOptions(), nullptr));
  EXPECT_EQ(f->GetFileSize(IOOptions(), nullptr), 4 * align);
  ASSERT_OK(f->Close(IOOptions(), nullptr));
  EXPECT_TRUE(ReadFileOnDisk(Path("000091.sst")) ==
              std::string(buf->get(), 4 * align));
  const UringFsStats st = StatsOf(*fs_);
  EXPECT_EQ(st.appends_queued, 0u) << "direct I/O is never written behind";
  EXPECT_EQ(st.appends_direct, 2u);
}

}  // namespace
}  // namespace uringfs
