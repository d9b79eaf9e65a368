// -----------------------------------------------------------------------------
// tests/testing/aligned_buffer.h
// -----------------------------------------------------------------------------
//
// `AlignedBuffer(alignment, size, fill)` is a heap buffer whose start is a
// multiple of `alignment` (a power of two, at least sizeof(void*)), as direct
// I/O needs. Its `size()` bytes, and `alignment` bytes of slack after them (so
// that a read rounded up to a whole block stays inside), are all set to
// `fill`, so that bytes a read did not write are recognisable. On allocation
// failure the test fails and `get()` is null.
//
//   AlignedBuffer buf(4096, 3 * 4096);
//   ASSERT_OK(file->Read(0, buf.size(), opts, &result, buf.get(), nullptr));
//
// Thread-safety: like a plain array; the object itself is not shared.

#ifndef URINGFS_TESTS_TESTING_ALIGNED_BUFFER_H_
#define URINGFS_TESTS_TESTING_ALIGNED_BUFFER_H_

#include <stdlib.h>

#include <cstddef>
#include <cstring>

#include <gtest/gtest.h>

namespace uringfs {
namespace testing {

class AlignedBuffer {
 public:
  AlignedBuffer(size_t alignment, size_t size, char fill = '\xee')
      : size_(size) {
    void* p = nullptr;
    const int err = ::posix_memalign(&p, alignment, size + alignment);
    EXPECT_EQ(err, 0) << "posix_memalign(" << alignment << ", " << size << ")";
    if (err != 0) return;
    ptr_ = static_cast<char*>(p);
    std::memset(ptr_, fill, size + alignment);
  }
  ~AlignedBuffer() { ::free(ptr_); }

  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;

  char* get() const { return ptr_; }
  size_t size() const { return size_; }

 private:
  char* ptr_ = nullptr;
  const size_t size_;
};

}  // namespace testing
}  // namespace uringfs

#endif  // URINGFS_TESTS_TESTING_ALIGNED_BUFFER_H_
