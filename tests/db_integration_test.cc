// A real RocksDB database opened through uringfs: put, get, batched MultiGet,
// iteration, flush, compaction, close and reopen, with the data checked at
// every step. Run with io_uring allowed and with it forced off.

#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>

#include "rocksdb/convenience.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "rocksdb/file_system.h"
#include "rocksdb/options.h"
#include "rocksdb/table.h"
#include "tests/testing/open_db.h"
#include "tests/testing/status_matchers.h"
#include "uringfs/version.h"

namespace uringfs {
namespace {

constexpr int kNumKeys = 20000;

std::string Key(int i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "key%08d", i);
  return buf;
}

// Deterministic, incompressible-enough values of varying length.
std::string Value(int i, int generation) {
  std::string v(100 + (i * 7) % 300, '\0');
  uint32_t x = static_cast<uint32_t>(i) * 2654435761u + generation;
  for (char& c : v) {
    x = x * 1103515245u + 12345u;
    c = static_cast<char>('a' + (x >> 16) % 26);
  }
  return v;
}

class DbIntegrationTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    ASSERT_OK(rocksdb::FileSystem::CreateFromString(rocksdb::ConfigOptions(),
                                                    GetParam(), &fs_));
    ASSERT_NE(fs_, nullptr);
    ASSERT_STREQ(fs_->Name(), "UringFileSystem");
    env_ = rocksdb::NewCompositeEnv(fs_);
    std::string name =
        ::testing::UnitTest::GetInstance()->current_test_info()->name();
    for (char& c : name) {
      if (c == '/') c = '_';  // TEST_P names end in "/<param>".
    }
    dir_ = ::testing::TempDir() + "db_integration_" +
           std::to_string(::getpid()) + "_" + name;
    rocksdb::Options cleanup;
    cleanup.env = env_.get();
    rocksdb::DestroyDB(dir_, cleanup);
  }

  void TearDown() override {
    db_.reset();
    rocksdb::Options o;
    o.env = env_.get();
    EXPECT_OK(rocksdb::DestroyDB(dir_, o));
  }

  rocksdb::Options MakeOptions(bool direct_reads) const {
    rocksdb::Options o;
    o.env = env_.get();
    o.create_if_missing = true;
    o.write_buffer_size = 256 << 10;  // Several SST files from kNumKeys.
    o.target_file_size_base = 512 << 10;
    o.compression = rocksdb::kNoCompression;
    o.use_direct_reads = direct_reads;
    rocksdb::BlockBasedTableOptions t;
    t.block_cache = nullptr;
    t.no_block_cache = true;  // Every Get reaches the file system.
    o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
    return o;
  }

  void Open(bool direct_reads = false) {
    rocksdb::DB* db = nullptr;
    ASSERT_OK(uringfs::testing::OpenDb(MakeOptions(direct_reads), dir_, &db));
    db_.reset(db);
  }

  void WriteAll(int generation) {
    rocksdb::WriteOptions w;
    for (int i = 0; i < kNumKeys; ++i) {
      ASSERT_OK(db_->Put(w, Key(i), Value(i, generation)));
    }
  }

  void ExpectGets(int generation) {
    std::string v;
    for (int i = 0; i < kNumKeys; i += 97) {
      ASSERT_OK(db_->Get(rocksdb::ReadOptions(), Key(i), &v));
      ASSERT_EQ(v, Value(i, generation)) << Key(i);
    }
    EXPECT_TRUE(db_->Get(rocksdb::ReadOptions(), "absent", &v).IsNotFound());
  }

  // Batched MultiGet over keys spread across every file, some absent.
  void ExpectBatchedMultiGet(int generation) {
    std::vector<std::string> names;
    for (int i = 0; i < kNumKeys; i += kNumKeys / 64) names.push_back(Key(i));
    names.push_back(Key(kNumKeys + 5));  // Absent.
    std::vector<rocksdb::Slice> keys(names.begin(), names.end());
    std::vector<rocksdb::PinnableSlice> values(keys.size());
    std::vector<rocksdb::Status> statuses(keys.size());
    db_->MultiGet(rocksdb::ReadOptions(), db_->DefaultColumnFamily(),
                  keys.size(), keys.data(), values.data(), statuses.data(),
                  /*sorted_input=*/true);
    for (size_t k = 0; k + 1 < keys.size(); ++k) {
      ASSERT_OK(statuses[k]);
      const int i = static_cast<int>(k) * (kNumKeys / 64);
      ASSERT_EQ(values[k].ToString(), Value(i, generation)) << names[k];
    }
    EXPECT_TRUE(statuses.back().IsNotFound()) << statuses.back().ToString();
  }

  void ExpectIteration(int generation) {
    std::unique_ptr<rocksdb::Iterator> it(
        db_->NewIterator(rocksdb::ReadOptions()));
    int i = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next(), ++i) {
      ASSERT_EQ(it->key().ToString(), Key(i));
      ASSERT_EQ(it->value().ToString(), Value(i, generation));
    }
    ASSERT_OK(it->status());
    EXPECT_EQ(i, kNumKeys);
    it->Seek(Key(kNumKeys / 2));
    ASSERT_TRUE(it->Valid());
    EXPECT_EQ(it->key().ToString(), Key(kNumKeys / 2));
  }

  void ExpectEverything(int generation) {
    ExpectGets(generation);
    ExpectBatchedMultiGet(generation);
    ExpectIteration(generation);
  }

  int NumSstFiles() {
    std::vector<rocksdb::LiveFileMetaData> files;
    db_->GetLiveFilesMetaData(&files);
    return static_cast<int>(files.size());
  }

  std::shared_ptr<rocksdb::FileSystem> fs_;
  std::unique_ptr<rocksdb::Env> env_;
  std::string dir_;
  std::unique_ptr<rocksdb::DB> db_;
};

TEST_P(DbIntegrationTest, DataSurvivesFlushCompactionAndReopen) {
  Open();
  WriteAll(/*generation=*/1);
  ExpectEverything(1);  // From the memtable (and any early flushes).

  ASSERT_OK(db_->Flush(rocksdb::FlushOptions()));
  EXPECT_GT(NumSstFiles(), 1);
  ExpectEverything(1);

  WriteAll(/*generation=*/2);  // Overwrite every key, then compact.
  ASSERT_OK(db_->Flush(rocksdb::FlushOptions()));
  ASSERT_OK(
      db_->CompactRange(rocksdb::CompactRangeOptions(), nullptr, nullptr));
  ExpectEverything(2);

  ASSERT_OK(db_->Close());
  db_.reset();
  Open();
  ExpectEverything(2);
}

TEST_P(DbIntegrationTest, UnflushedWritesAreRecoveredFromTheWalOnReopen) {
  Open();
  WriteAll(/*generation=*/3);
  ASSERT_OK(db_->Close());  // No flush: the data lives only in the WAL.
  db_.reset();
  Open();
  ExpectEverything(3);
}

TEST_P(DbIntegrationTest, DirectReadsSeeTheSameData) {
  Open();
  WriteAll(/*generation=*/4);
  ASSERT_OK(db_->Flush(rocksdb::FlushOptions()));
  ASSERT_OK(db_->Close());
  db_.reset();

  rocksdb::DB* db = nullptr;
  rocksdb::Status s = uringfs::testing::OpenDb(MakeOptions(true), dir_, &db);
  if (s.IsNotSupported() || s.IsInvalidArgument()) {
    GTEST_SKIP() << "O_DIRECT not supported in " << dir_ << ": "
                 << s.ToString();
  }
  ASSERT_OK(s);
  db_.reset(db);
  ExpectEverything(4);
}

TEST_P(DbIntegrationTest, InfoLogNamesTheFileSystem) {
  Open();
  ASSERT_OK(db_->Close());
  db_.reset();
  std::ifstream log(dir_ + "/LOG");
  std::stringstream text;
  text << log.rdbuf();
  EXPECT_NE(text.str().find("Options.fs: UringFileSystem"), std::string::npos);
}

TEST_P(DbIntegrationTest, FirstUringfsLineOfTheLogCarriesTheVersion) {
  Open();
  ASSERT_OK(db_->Close());
  db_.reset();
  std::ifstream log(dir_ + "/LOG");
  std::string line;
  while (std::getline(log, line) &&
         line.find(" uringfs: ") == std::string::npos) {
  }
  ASSERT_NE(line.find(" uringfs: io_uring: "), std::string::npos) << line;
  EXPECT_NE(line.find(std::string("uringfs version ") + Version()),
            std::string::npos)
      << line;
}

INSTANTIATE_TEST_SUITE_P(IoUringOnAndOff, DbIntegrationTest,
                         ::testing::Values("uringfs://",
                                           "uringfs://?use_io_uring=false"),
                         [](const ::testing::TestParamInfo<const char*>& p) {
                           return std::string(p.index == 0 ? "IoUringAllowed"
                                                           : "IoUringOff");
                         });

}  // namespace
}  // namespace uringfs
