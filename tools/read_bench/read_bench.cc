// read_bench: the cost of one random 4 KiB read through each read path, on a
// warm page cache or with O_DIRECT, in one process and one run:
//
//   read_bench [--direct] [--reads N] [--rounds R] FILE
//
// Paths: plain pread(2); FileSystem::Default() (RocksDB's POSIX file
// system); uringfs with io_uring; uringfs with use_io_uring=false. Rounds
// alternate the paths (A B C D A B C D ...) and the median ns per read is
// printed with the ratio to pread. Each path reads the same offsets.

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "rocksdb/convenience.h"
#include "rocksdb/file_system.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Path {
  std::string name;
  std::function<bool(uint64_t offset, char* buf)> read;  // 4 KiB at offset.
  std::vector<double> ns_per_read;
};

std::unique_ptr<rocksdb::FSRandomAccessFile> Open(const std::string& uri,
                                                  const std::string& file,
                                                  bool direct) {
  std::shared_ptr<rocksdb::FileSystem> fs;
  if (uri.empty()) {
    fs = rocksdb::FileSystem::Default();
  } else if (!rocksdb::FileSystem::CreateFromString(rocksdb::ConfigOptions(),
                                                    uri, &fs)
                  .ok()) {
    std::fprintf(stderr, "cannot create %s\n", uri.c_str());
    std::exit(2);
  }
  static std::vector<std::shared_ptr<rocksdb::FileSystem>> keep;
  keep.push_back(fs);
  rocksdb::FileOptions fo;
  fo.use_direct_reads = direct;
  std::unique_ptr<rocksdb::FSRandomAccessFile> f;
  rocksdb::IOStatus s = fs->NewRandomAccessFile(file, fo, &f, nullptr);
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    std::exit(2);
  }
  return f;
}

Path FsPath(const std::string& name, const std::string& uri,
            const std::string& file, bool direct) {
  std::shared_ptr<rocksdb::FSRandomAccessFile> f = Open(uri, file, direct);
  return {name,
          [f](uint64_t offset, char* buf) {
            rocksdb::Slice r;
            return f->Read(offset, 4096, rocksdb::IOOptions(), &r, buf, nullptr)
                       .ok() &&
                   r.size() == 4096;
          },
          {}};
}

}  // namespace

int main(int argc, char** argv) {
  bool direct = false;
  size_t reads = 200000;
  int rounds = 5;
  std::string file;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--direct")
      direct = true;
    else if (a == "--reads" && i + 1 < argc)
      reads = std::strtoull(argv[++i], nullptr, 10);
    else if (a == "--rounds" && i + 1 < argc)
      rounds = std::atoi(argv[++i]);
    else
      file = a;
  }
  if (file.empty()) {
    std::fprintf(
        stderr, "usage: read_bench [--direct] [--reads N] [--rounds R] FILE\n");
    return 2;
  }
  const int fd = ::open(file.c_str(), O_RDONLY | (direct ? O_DIRECT : 0));
  if (fd < 0) {
    std::perror(file.c_str());
    return 2;
  }
  const off_t size = ::lseek(fd, 0, SEEK_END);
  if (size < 8192) {
    std::fprintf(stderr, "file too small\n");
    return 2;
  }

  std::vector<uint64_t> offsets(reads);
  std::mt19937_64 rng(42);
  for (uint64_t& o : offsets) o = (rng() % (size / 4096 - 1)) * 4096;

  std::vector<Path> paths;
  paths.push_back({"pread",
                   [fd](uint64_t offset, char* buf) {
                     return ::pread(fd, buf, 4096, offset) == 4096;
                   },
                   {}});
  paths.push_back(FsPath("rocksdb-posix", "", file, direct));
  paths.push_back(FsPath("uringfs", "uringfs://", file, direct));
  paths.push_back(FsPath("uringfs-ring", "uringfs://?ring_single_reads=true",
                         file, direct));
  paths.push_back(
      FsPath("uringfs-pread", "uringfs://?use_io_uring=false", file, direct));

  char* buf = nullptr;
  if (posix_memalign(reinterpret_cast<void**>(&buf), 4096, 4096) != 0) return 2;
  for (int r = 0; r < rounds; ++r) {
    for (Path& p : paths) {
      const auto start = Clock::now();
      for (uint64_t o : offsets) {
        if (!p.read(o, buf)) {
          std::fprintf(stderr, "%s failed\n", p.name.c_str());
          return 1;
        }
      }
      const double ns =
          std::chrono::duration<double, std::nano>(Clock::now() - start)
              .count();
      p.ns_per_read.push_back(ns / reads);
    }
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  const double base = median(paths[0].ns_per_read);
  std::printf(
      "| path | ns per 4 KiB read (median of %d) | vs pread "
      "|\n|---|---:|---:|\n",
      rounds);
  for (Path& p : paths) {
    const double m = median(p.ns_per_read);
    std::printf("| %s | %.0f | %.3fx |\n", p.name.c_str(), m, m / base);
  }
  std::printf("%s, %zu reads per round, %s\n",
              direct ? "O_DIRECT" : "buffered (warm)", reads, file.c_str());
  free(buf);
  ::close(fd);
  return 0;
}
