// write_bench: what one small record costs on each write path.
//
//   stock_flush     stock FileSystem, Append + Flush      (write(2) per record)
//   through_flush   uringfs write-through file (*.log), Append + Flush
//   queued_wait     the record queued on the worker queue, then waited for
//                   (what Flush would cost if write-through files queued)
//   behind_append   uringfs write-behind file (*.sst), Append only; the
//                   queued writes are waited for by Close, included
//
// Usage: write_bench DIR [records] [reps]. One line per path and record size:
// median ns per record over the repetitions, run in A B C D order per rep.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "env/fs_tasks.h"
#include "env/process_queue.h"
#include "env/uring_file_system.h"
#include "env/write_scheduler.h"
#include "rocksdb/file_system.h"
#include "uringfs/options.h"

namespace uringfs {
namespace {

using Clock = std::chrono::steady_clock;

double NsPer(Clock::time_point start, size_t n) {
  return std::chrono::duration<double, std::nano>(Clock::now() - start)
             .count() /
         static_cast<double>(n);
}

void Check(const rocksdb::IOStatus& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "write_bench: %s: %s\n", what, s.ToString().c_str());
    std::exit(1);
  }
}

// Appends `n` records to `fname` through `fs`, with Flush after each when
// `flush`; returns ns per record, Close included.
double AppendRecords(rocksdb::FileSystem* fs, const std::string& fname,
                     const std::string& record, size_t n, bool flush) {
  std::unique_ptr<rocksdb::FSWritableFile> f;
  rocksdb::IOOptions io;
  Check(fs->NewWritableFile(fname, rocksdb::FileOptions(), &f, nullptr),
        "open");
  const auto start = Clock::now();
  for (size_t i = 0; i < n; ++i) {
    Check(f->Append(record, io, nullptr), "append");
    if (flush) Check(f->Flush(io, nullptr), "flush");
  }
  Check(f->Close(io, nullptr), "close");
  return NsPer(start, n);
}

// Each record queued as one hashed item that pwrite()s it, then drained.
double QueuedAndWaited(const std::string& fname, const std::string& record,
                       size_t n) {
  const int fd = ::open(fname.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) {
    std::perror("open");
    std::exit(1);
  }
  auto tasks = std::make_shared<FsTasks>(&ProcessQueue(),
                                         std::weak_ptr<uring::ReadEngine>());
  auto scheduler = std::make_shared<WriteScheduler>(UringFsOptions(), tasks);
  std::shared_ptr<OpenInode> inode;
  Check(scheduler->Attach(fname, &inode), "attach");
  const auto start = Clock::now();
  for (size_t i = 0; i < n; ++i) {
    const off_t offset = static_cast<off_t>(i * record.size());
    scheduler->Enqueue(
        inode, 0,
        [fd, &record, offset](int status) {
          if (status == 0 &&
              ::pwrite(fd, record.data(), record.size(), offset) < 0) {
            std::perror("pwrite");
          }
        },
        nullptr);
    scheduler->Drain(inode);
  }
  const double ns = NsPer(start, n);
  ::close(fd);
  return ns;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace
}  // namespace uringfs

int main(int argc, char** argv) {
  using namespace uringfs;
  if (argc < 2) {
    std::fprintf(stderr, "usage: write_bench DIR [records] [reps]\n");
    return 2;
  }
  const std::string dir = argv[1];
  const size_t n = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 100000;
  const int reps = argc > 3 ? std::atoi(argv[3]) : 5;
  std::shared_ptr<rocksdb::FileSystem> stock = rocksdb::FileSystem::Default();
  auto uring = std::make_shared<UringFileSystem>(UringFsOptions(), stock);
  for (size_t size : {128, 4096}) {
    const std::string record(size, 'r');
    std::vector<double> a, b, c, d;
    for (int r = 0; r < reps; ++r) {
      a.push_back(
          AppendRecords(stock.get(), dir + "/stock.log", record, n, true));
      b.push_back(
          AppendRecords(uring.get(), dir + "/through.log", record, n, true));
      c.push_back(QueuedAndWaited(dir + "/queued.log", record, n));
      d.push_back(
          AppendRecords(uring.get(), dir + "/behind.sst", record, n, false));
    }
    std::printf(
        "record=%zu stock_flush=%.0f through_flush=%.0f "
        "queued_wait=%.0f behind_append=%.0f (ns/record, median of "
        "%d x %zu)\n",
        size, Median(a), Median(b), Median(c), Median(d), reps, n);
  }
  return 0;
}
