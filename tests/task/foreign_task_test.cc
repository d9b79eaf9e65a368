// `IoTask` is an interface an application may implement itself. A scope of a
// task that is not one of uringfs's own tags no uringfs I/O: the I/O belongs
// to the file system's default task, and nothing treats the foreign object
// as uringfs's.

#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "rocksdb/file_system.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/write_behind_options.h"
#include "uringfs/options.h"
#include "uringfs/task.h"
#include "uringfs/uringfs.h"

namespace uringfs {
namespace {

class ForeignTask final : public IoTask {
 public:
  uint64_t id() const override { return 424242; }
  CancelOutcome Cancel() override {
    ++cancels;
    return CancelOutcome::kNotFound;
  }
  void Shutdown(ShutdownMode) override { shut_down = true; }
  bool is_shut_down() const override { return shut_down; }
  int cancels = 0;
  bool shut_down = true;  // Were it taken for a uringfs task, I/O would fail.
};

TEST(ForeignTaskTest, ScopeOfAForeignTaskLeavesIoWithTheDefaultTask) {
  const std::string dir = testing::FreshDir("foreign_task");
  std::shared_ptr<rocksdb::FileSystem> fs;
  ASSERT_TRUE(NewUringFileSystem(testing::WriteBehindOptions(), &fs).ok());
  auto foreign = std::make_shared<ForeignTask>();
  EXPECT_EQ(foreign->internal_home(), nullptr);
  {
    IoTaskScope scope(foreign);
    std::unique_ptr<rocksdb::FSWritableFile> f;
    ASSERT_TRUE(fs->NewWritableFile(dir + "/000001.sst", rocksdb::FileOptions(),
                                    &f, nullptr)
                    .ok());
    EXPECT_TRUE(f->Append("data", rocksdb::IOOptions(), nullptr).ok());
    EXPECT_TRUE(f->Sync(rocksdb::IOOptions(), nullptr).ok());
    EXPECT_TRUE(f->Close(rocksdb::IOOptions(), nullptr).ok());
  }
  uint64_t size = 0;
  ASSERT_TRUE(
      fs->GetFileSize(dir + "/000001.sst", rocksdb::IOOptions(), &size, nullptr)
          .ok());
  EXPECT_EQ(size, 4u);
  EXPECT_EQ(foreign->cancels, 0);
  std::shared_ptr<IoTask> def;
  ASSERT_TRUE(DefaultIoTask(*fs, &def).ok());
  EXPECT_NE(def->internal_home(), nullptr);
  testing::RemoveTree(dir);
}

}  // namespace
}  // namespace uringfs
