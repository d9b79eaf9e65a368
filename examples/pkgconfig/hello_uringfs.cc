// Opens a RocksDB database through uringfs (the `uringfs://` URI), writes a
// key, flushes it to an SST file, reopens the database and reads the key back
// from that file. Prints uringfs's version and its counters. Exits 1 on any
// error.
//
//   hello_uringfs DIR      (DIR: a new or empty folder for the database)
//
// Built against an installed uringfs with pkg-config (see the Makefile).
// Linking liburingfs registers `uringfs://` with RocksDB when the program
// starts; nothing else is needed before CreateFromString.

#include <cstdio>
#include <memory>
#include <string>

#include "rocksdb/convenience.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "rocksdb/file_system.h"
#include "rocksdb/options.h"
#include "uringfs/stats.h"
#include "uringfs/version.h"

namespace {

bool Check(const rocksdb::Status& s, const char* what) {
  if (s.ok()) return true;
  std::fprintf(stderr, "hello_uringfs: %s: %s\n", what, s.ToString().c_str());
  return false;
}

// Opens the database at `path` on `env`, creating it if missing.
bool Open(rocksdb::Env* env, const std::string& path,
          std::unique_ptr<rocksdb::DB>* db) {
  rocksdb::Options options;
  options.create_if_missing = true;
  options.env = env;
  rocksdb::DB* raw = nullptr;
  if (!Check(rocksdb::DB::Open(options, path, &raw), "open")) return false;
  db->reset(raw);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: hello_uringfs DIR\n");
    return 2;
  }
  const std::string path = std::string(argv[1]) + "/hello-db";
  std::printf("uringfs %s\n", uringfs::Version());

  std::shared_ptr<rocksdb::FileSystem> fs;
  if (!Check(rocksdb::FileSystem::CreateFromString(rocksdb::ConfigOptions(),
                                                   "uringfs://", &fs),
             "uringfs://")) {
    return 1;
  }
  std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(fs);

  std::unique_ptr<rocksdb::DB> db;
  if (!Open(env.get(), path, &db)) return 1;
  if (!Check(db->Put(rocksdb::WriteOptions(), "hello", "uringfs"), "put") ||
      !Check(db->Flush(rocksdb::FlushOptions()), "flush") ||
      !Check(db->Close(), "close")) {
    return 1;
  }
  db.reset();

  // Reopened, the key comes from the SST file, read through uringfs.
  if (!Open(env.get(), path, &db)) return 1;
  std::string value;
  if (!Check(db->Get(rocksdb::ReadOptions(), "hello", &value), "get")) {
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

  // Fails with InvalidArgument unless `fs` really is uringfs.
  uringfs::UringFsStats stats;
  if (!Check(uringfs::GetUringFsStats(*fs, &stats), "stats")) return 1;
  std::printf("uringfs stats: %s\n", stats.ToString().c_str());
  return 0;
}
