// -----------------------------------------------------------------------------
// tests/testing/async_call.h
// -----------------------------------------------------------------------------
//
// `AsyncCall` is one `FSRandomAccessFile::ReadAsync` and what its callback
// saw: how often it ran, on which thread, the status and the bytes. The read
// goes into a buffer of the call's own, aligned to 4096 bytes (so direct
// reads work too) and kept until the call is destroyed.
//
//   AsyncCall c;
//   ASSERT_OK(c.Start(file.get(), 0, 4096));
//   std::vector<void*> handles = {c.handle};
//   ASSERT_OK(fs->Poll(handles, 1));
//   EXPECT_EQ(c.calls.load(), 1);
//   c.Release();  // the IOHandleDeleter; else the destructor calls it
//
// Thread-safety: Start, Release and the destructor from one thread. The
// callback may run on another (the poller's); `calls` is atomic, the other
// fields may be read once the callback is known to have run (after the Poll
// or the join that saw it).

#ifndef URINGFS_TESTS_TESTING_ASYNC_CALL_H_
#define URINGFS_TESTS_TESTING_ASYNC_CALL_H_

#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "rocksdb/file_system.h"
#include "rocksdb/io_status.h"

namespace uringfs {
namespace testing {

struct AsyncCall {
  rocksdb::FSReadRequest req;
  void* handle = nullptr;
  rocksdb::IOHandleDeleter del;
  std::atomic<int> calls{0};
  std::thread::id thread;
  rocksdb::IOStatus status;
  std::string data;

  AsyncCall() = default;
  AsyncCall(const AsyncCall&) = delete;
  AsyncCall& operator=(const AsyncCall&) = delete;
  ~AsyncCall() {
    Release();
    ::free(buf_);
  }

  // ReadAsync of [offset, offset + n) from `file`; its return value.
  rocksdb::IOStatus Start(rocksdb::FSRandomAccessFile* file, uint64_t offset,
                          size_t n) {
    if (n > capacity_ || buf_ == nullptr) {
      ::free(buf_);
      buf_ = nullptr;
      capacity_ = std::max<size_t>(n, 4096);
      void* p = nullptr;
      if (::posix_memalign(&p, 4096, capacity_) != 0) {
        capacity_ = 0;
        return rocksdb::IOStatus::IOError("posix_memalign");
      }
      buf_ = static_cast<char*>(p);
    }
    req.offset = offset;
    req.len = n;
    req.scratch = buf_;
    return file->ReadAsync(
        req, rocksdb::IOOptions(),
        [this](const rocksdb::FSReadRequest& r, void* arg) {
          EXPECT_EQ(arg, static_cast<void*>(this));
          thread = std::this_thread::get_id();
          status = r.status;
          data = r.result.ToString();
          calls.fetch_add(1);
        },
        this, &handle, &del, nullptr);
  }

  // Calls the IOHandleDeleter of the handle, if there is one, once.
  void Release() {
    if (handle != nullptr && del) del(handle);
    handle = nullptr;
  }

  // The buffer the read writes to: req.len bytes.
  char* scratch() const { return buf_; }
  std::string ScratchBytes() const { return std::string(buf_, req.len); }

 private:
  char* buf_ = nullptr;
  size_t capacity_ = 0;
};

}  // namespace testing
}  // namespace uringfs

#endif  // URINGFS_TESTS_TESTING_ASYNC_CALL_H_
