// The public free functions of uringfs (uringfs/uringfs.h, uringfs/task.h,
// uringfs/stats.h, uringfs/version.h): each finds the uringfs file system
// behind a `rocksdb::FileSystem` and asks it.

#include <memory>
#include <string>
#include <utility>

#include "env/option_table.h"
#include "env/uring_file_system.h"
#include "uringfs/stats.h"
#include "uringfs/task.h"
#include "uringfs/uringfs.h"
#include "uringfs/version.h"

namespace uringfs {
namespace {

// `fs` as uringfs, or InvalidArgument naming what it is instead.
template <typename Fs, typename Uring>
rocksdb::Status AsUring(Fs& fs, Uring** out) {
  *out = fs.template CheckedCast<UringFileSystem>();
  if (*out != nullptr) return rocksdb::Status::OK();
  return rocksdb::Status::InvalidArgument(
      std::string("uringfs: not a uringfs file system: ") + fs.Name());
}

}  // namespace

rocksdb::Status NewUringFileSystem(
    const UringFsOptions& options,
    std::shared_ptr<rocksdb::FileSystem>* result) {
  result->reset();
  rocksdb::Status s = ValidateUringFsOptions(options);
  if (!s.ok()) return s;
  *result = std::make_shared<UringFileSystem>(options,
                                              rocksdb::FileSystem::Default());
  return rocksdb::Status::OK();
}

rocksdb::Status GetUringFsStats(const rocksdb::FileSystem& fs,
                                UringFsStats* stats) {
  const UringFileSystem* uring_fs = nullptr;
  rocksdb::Status s = AsUring(fs, &uring_fs);
  if (s.ok()) *stats = uring_fs->GetStats();
  return s;
}

rocksdb::Status NewIoTask(rocksdb::FileSystem& fs,
                          std::shared_ptr<IoTask>* task) {
  UringFileSystem* uring_fs = nullptr;
  rocksdb::Status s = AsUring(fs, &uring_fs);
  if (!s.ok()) return s;
  *task = uring_fs->tasks()->NewTask();
  if (*task == nullptr) {
    return rocksdb::Status::Aborted("uringfs: the file system is shut down");
  }
  return rocksdb::Status::OK();
}

rocksdb::Status DefaultIoTask(rocksdb::FileSystem& fs,
                              std::shared_ptr<IoTask>* task) {
  UringFileSystem* uring_fs = nullptr;
  rocksdb::Status s = AsUring(fs, &uring_fs);
  if (s.ok()) *task = uring_fs->tasks()->default_task();
  return s;
}

rocksdb::Status ShutdownUringFileSystem(rocksdb::FileSystem& fs,
                                        ShutdownMode mode) {
  UringFileSystem* uring_fs = nullptr;
  rocksdb::Status s = AsUring(fs, &uring_fs);
  if (s.ok()) uring_fs->tasks()->Shutdown(mode);
  return s;
}

#define URINGFS_STR2(x) #x
#define URINGFS_STR(x) URINGFS_STR2(x)
const char* Version() {
  return URINGFS_STR(URINGFS_VERSION_MAJOR) "." URINGFS_STR(
      URINGFS_VERSION_MINOR) "." URINGFS_STR(URINGFS_VERSION_PATCH);
}
#undef URINGFS_STR
#undef URINGFS_STR2

}  // namespace uringfs
