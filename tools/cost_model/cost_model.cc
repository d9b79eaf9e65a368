// cost_model: runs one I/O path of one file system N times, for
// tools/cost-model, which runs it under strace and perf for N and 2N
// operations and takes the difference, so that set-up costs cancel out:
//
//   cost_model --fs stock|uringfs --path PATH --ops N --dir DIR
//
// DIR holds a 256 MiB data file (made once, kept). Paths, one operation each:
//   read_warm       4 KiB Read at a random offset, buffered (the caller
//                   puts the file in the page cache first)
//   read_cold       the same, the file dropped from the page cache first
//   read_direct     4 KiB Read with O_DIRECT
//   multiread32     MultiRead of 32 random 4 KiB requests, O_DIRECT
//   readasync_poll  ReadAsync of 4 KiB (O_DIRECT), then Poll for it
//   readasync_abort ReadAsync of 4 KiB (O_DIRECT), then AbortIO
//   append_small    Append of 100 bytes to a WAL-named file
//   append_large    Append of 1 MiB to a table file (*.sst)
//   flush           Append of 100 bytes + Flush, WAL-named file
//   sync            Append of 4 KiB + Sync, WAL-named file
// "uringfs" is uringfs://, its defaults; "stock" is RocksDB's default file
// system. Prints `cpu_ns_per_op N`: the process's CPU time (all threads) over
// the operations, divided by their number (appends: Close not included).
// Exit status 0 when every operation succeeded.

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "env/rocksdb_api.h"
#include "rocksdb/convenience.h"
#include "rocksdb/file_system.h"

namespace {

constexpr uint64_t kFileSize = uint64_t{256} << 20;
constexpr size_t kBlock = 4096;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "cost_model: %s\n", what.c_str());
  std::exit(1);
}

void Check(const rocksdb::IOStatus& s, const char* what) {
  if (!s.ok()) Die(std::string(what) + ": " + s.ToString());
}

std::string DataFile(const std::string& dir) {
  const std::string path = dir + "/cost_model.dat";
  if (::access(path.c_str(), R_OK) == 0) return path;
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) Die("cannot create " + tmp);
  std::vector<char> chunk(1 << 20);
  std::mt19937_64 rng(7);
  for (uint64_t done = 0; done < kFileSize; done += chunk.size()) {
    for (char& c : chunk) c = static_cast<char>(rng());
    if (::write(fd, chunk.data(), chunk.size()) !=
        static_cast<ssize_t>(chunk.size())) {
      Die("cannot write " + tmp);
    }
  }
  ::fsync(fd);
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) Die("cannot rename " + tmp);
  return path;
}

struct AlignedBuffer {
  explicit AlignedBuffer(size_t n) {
    if (::posix_memalign(&p, kBlock, n) != 0) Die("out of memory");
    std::memset(p, 0, n);
  }
  ~AlignedBuffer() { std::free(p); }
  char* data() const { return static_cast<char*>(p); }
  void* p = nullptr;
};

// The CPU time of the whole process (every thread, io_uring's and uringfs's
// workers included), in nanoseconds.
uint64_t ProcessCpuNanos() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000u +
         static_cast<uint64_t>(ts.tv_nsec);
}

class Runner {
 public:
  Runner(std::shared_ptr<rocksdb::FileSystem> fs, std::string dir)
      : fs_(std::move(fs)), dir_(std::move(dir)) {}

  void Run(const std::string& path, uint64_t ops) {
    if (path == "read_warm") return Reads(ops, false, false);
    if (path == "read_cold") return Reads(ops, false, true);
    if (path == "read_direct") return Reads(ops, true, false);
    if (path == "multiread32") return MultiReads(ops);
    if (path == "readasync_poll") return AsyncReads(ops, false);
    if (path == "readasync_abort") return AsyncReads(ops, true);
    if (path == "append_small") return Appends(ops, "000011.log", 100, 0);
    if (path == "append_large") return Appends(ops, "000012.sst", 1 << 20, 0);
    if (path == "flush") return Appends(ops, "000013.log", 100, 1);
    if (path == "sync") return Appends(ops, "000014.log", kBlock, 2);
    Die("unknown path " + path);
  }

 private:
  std::unique_ptr<rocksdb::FSRandomAccessFile> OpenRead(bool direct) {
    rocksdb::FileOptions fo;
    fo.use_direct_reads = direct;
    std::unique_ptr<rocksdb::FSRandomAccessFile> f;
    Check(fs_->NewRandomAccessFile(DataFile(dir_), fo, &f, nullptr), "open");
    return f;
  }

  uint64_t NextOffset() { return (rng_() % (kFileSize / kBlock)) * kBlock; }

  // Runs `op` `ops` times and prints the process's CPU nanoseconds per op.
  template <typename Op>
  void Timed(uint64_t ops, Op&& op) {
    const uint64_t start = ProcessCpuNanos();
    for (uint64_t i = 0; i < ops; ++i) op();
    const uint64_t spent = ProcessCpuNanos() - start;
    std::printf("cpu_ns_per_op %.0f\n",
                ops == 0 ? 0.0 : static_cast<double>(spent) / ops);
  }

  void Reads(uint64_t ops, bool direct, bool cold) {
    if (cold) {
      const std::string file = DataFile(dir_);
      const int fd = ::open(file.c_str(), O_RDONLY);
      ::fdatasync(fd);
      ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
      ::close(fd);
    }
    auto f = OpenRead(direct);
    if (cold) f->Hint(rocksdb::FSRandomAccessFile::kRandom);
    AlignedBuffer buf(kBlock);
    rocksdb::Slice result;
    Timed(ops, [&] {
      Check(f->Read(NextOffset(), kBlock, rocksdb::IOOptions(), &result,
                    buf.data(), nullptr),
            "Read");
      if (result.size() != kBlock) Die("short read");
    });
  }

  void MultiReads(uint64_t ops) {
    auto f = OpenRead(true);
    constexpr size_t kBatch = 32;
    AlignedBuffer buf(kBlock * kBatch);
    std::vector<rocksdb::FSReadRequest> reqs(kBatch);
    Timed(ops, [&] {
      for (size_t j = 0; j < kBatch; ++j) {
        reqs[j].offset = NextOffset();
        reqs[j].len = kBlock;
        reqs[j].scratch = buf.data() + j * kBlock;
      }
      Check(f->MultiRead(reqs.data(), kBatch, rocksdb::IOOptions(), nullptr),
            "MultiRead");
      for (const rocksdb::FSReadRequest& r : reqs) {
        Check(r.status, "MultiRead request");
        if (r.result.size() != kBlock) Die("short read");
      }
    });
  }

  void AsyncReads(uint64_t ops, bool abort) {
    auto f = OpenRead(true);
    AlignedBuffer buf(kBlock);
    size_t completions = 0;
    Timed(ops, [&] {
      rocksdb::FSReadRequest req;
      req.offset = NextOffset();
      req.len = kBlock;
      req.scratch = buf.data();
      void* handle = nullptr;
      rocksdb::IOHandleDeleter deleter;
      Check(f->ReadAsync(
                req, rocksdb::IOOptions(),
                [](auto& r, void* arg) {
                  if (r.status.ok()) ++*static_cast<size_t*>(arg);
                },
                &completions, &handle, &deleter, nullptr),
            "ReadAsync");
      if (handle != nullptr) {
        std::vector<void*> handles{handle};
        if (abort) {
          Check(fs_->AbortIO(handles), "AbortIO");
        } else {
          Check(fs_->Poll(handles, 1), "Poll");
        }
        deleter(handle);
      }
    });
    if (!abort && completions != ops) Die("a ReadAsync did not complete");
  }

  // then: 0 nothing, 1 Flush, 2 Sync after each Append.
  void Appends(uint64_t ops, const std::string& name, size_t size, int then) {
    const std::string path = dir_ + "/" + name;
    std::unique_ptr<rocksdb::FSWritableFile> f;
    Check(fs_->NewWritableFile(path, rocksdb::FileOptions(), &f, nullptr),
          "open for writing");
    const std::string record(size, 'r');
    Timed(ops, [&] {
      Check(f->Append(record, rocksdb::IOOptions(), nullptr), "Append");
      if (then == 1) Check(f->Flush(rocksdb::IOOptions(), nullptr), "Flush");
      if (then == 2) Check(f->Sync(rocksdb::IOOptions(), nullptr), "Sync");
    });
    Check(f->Close(rocksdb::IOOptions(), nullptr), "Close");
    fs_->DeleteFile(path, rocksdb::IOOptions(), nullptr).PermitUncheckedError();
  }

  std::shared_ptr<rocksdb::FileSystem> fs_;
  std::string dir_;
  std::mt19937_64 rng_{42};
};

}  // namespace

int main(int argc, char** argv) {
  std::string fs_name, path, dir;
  uint64_t ops = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--fs") {
      fs_name = argv[i + 1];
    } else if (a == "--path") {
      path = argv[i + 1];
    } else if (a == "--ops") {
      ops = std::strtoull(argv[i + 1], nullptr, 10);
    } else if (a == "--dir") {
      dir = argv[i + 1];
    } else {
      Die("unknown argument " + a);
    }
  }
  if (fs_name.empty() || path.empty() || dir.empty()) {
    Die("usage: cost_model --fs stock|uringfs --path PATH --ops N --dir DIR");
  }
  std::shared_ptr<rocksdb::FileSystem> fs;
  if (fs_name == "stock") {
    fs = rocksdb::FileSystem::Default();
  } else if (!rocksdb::FileSystem::CreateFromString(rocksdb::ConfigOptions(),
                                                    fs_name == "uringfs"
                                                        ? "uringfs://"
                                                        : fs_name,
                                                    &fs)
                  .ok()) {
    Die("cannot create file system " + fs_name);
  }
  DataFile(dir);
  Runner(fs, dir).Run(path, ops);
  return 0;
}
