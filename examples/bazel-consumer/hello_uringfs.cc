// Opens a RocksDB database on the `uringfs://` file system, writes a key,
// flushes it to an SST file and reads it back, and prints uringfs's version
// and counters. Exits 1 on any error.
//
//   bazel run //:hello_uringfs -- DIR      (DIR: a new or empty folder)

#include <cstdio>
#include <memory>
#include <string>

#include "rocksdb/convenience.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "rocksdb/options.h"
#include "uringfs/stats.h"
#include "uringfs/version.h"

namespace {

bool Check(const rocksdb::Status& s, const char* what) {
  if (s.ok()) return true;
  std::fprintf(stderr, "hello_uringfs: %s: %s\n", what, s.ToString().c_str());
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: hello_uringfs DIR\n");
    return 2;
  }
  std::printf("uringfs %s\n", uringfs::Version());

  // An Env whose file system is uringfs, configured by its URI.
  rocksdb::Env* env = nullptr;
  std::shared_ptr<rocksdb::Env> env_guard;
  if (!Check(rocksdb::Env::CreateFromUri(rocksdb::ConfigOptions(), "",
                                         "uringfs://?queue_depth=32", &env,
                                         &env_guard),
             "uringfs://")) {
    return 1;
  }

  rocksdb::Options options;
  options.create_if_missing = true;
  options.env = env;
  rocksdb::DB* raw = nullptr;
  if (!Check(
          rocksdb::DB::Open(options, std::string(argv[1]) + "/hello-db", &raw),
          "open")) {
    return 1;
  }
  std::unique_ptr<rocksdb::DB> db(raw);
  std::string value;
  if (!Check(db->Put(rocksdb::WriteOptions(), "hello", "uringfs"), "put") ||
      !Check(db->Flush(rocksdb::FlushOptions()), "flush") ||
      !Check(db->Get(rocksdb::ReadOptions(), "hello", &value), "get")) {
    return 1;
  }
  if (value != "uringfs") {
    std::fprintf(stderr, "hello_uringfs: read \"%s\", wrote \"uringfs\"\n",
                 value.c_str());
    return 1;
  }
  std::printf("hello=%s\n", value.c_str());
  if (!Check(db->Close(), "close")) return 1;
  db.reset();

  // Fails with InvalidArgument unless the file system really is uringfs.
  uringfs::UringFsStats stats;
  if (!Check(uringfs::GetUringFsStats(*env->GetFileSystem(), &stats),
             "stats")) {
    return 1;
  }
  std::printf("uringfs stats: %s\n", stats.ToString().c_str());
  return 0;
}
