#include "tools/probe/fs_type.h"

#include <sys/vfs.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace uringfs {
namespace probe {

const char* FsTypeName(uint64_t magic) {
  // The magic numbers of the file systems a database is likely to live on
  // (include/uapi/linux/magic.h and the file systems' own sources).
  static const struct {
    uint64_t magic;
    const char* name;
  } kTypes[] = {
      {0xEF53, "ext2/ext3/ext4"}, {0x58465342, "xfs"},
      {0x9123683E, "btrfs"},      {0xF2F52010, "f2fs"},
      {0xCA451A4E, "bcachefs"},   {0x2FC12FC1, "zfs"},
      {0x01021994, "tmpfs"},      {0x858458F6, "ramfs"},
      {0x794C7630, "overlayfs"},  {0x6969, "nfs"},
      {0x65735546, "fuse"},       {0xFE534D42, "smb2"},
      {0xFF534D42, "cifs"},       {0x01021997, "v9fs"},
      {0x00C36400, "ceph"},       {0x0BD00BD0, "lustre"},
      {0x01161970, "gfs2"},       {0x7461636F, "ocfs2"},
      {0x73717368, "squashfs"},   {0x4D44, "vfat"},
      {0x2011BAB0, "exfat"},      {0x5346544E, "ntfs"},
      {0xF15F, "ecryptfs"},       {0x9FA0, "proc"},
      {0x62656572, "sysfs"},
  };
  for (const auto& t : kTypes) {
    if (t.magic == magic) return t.name;
  }
  return "unknown";
}

std::string FsTypeOf(const std::string& path) {
  struct statfs sfs {};
  if (::statfs(path.c_str(), &sfs) != 0) {
    return std::string("statfs failed: ") + std::strerror(errno);
  }
  const uint64_t magic = static_cast<uint64_t>(sfs.f_type) & 0xFFFFFFFFu;
  char hex[32];
  std::snprintf(hex, sizeof(hex), "0x%llx",
                static_cast<unsigned long long>(magic));
  return std::string(FsTypeName(magic)) + " (magic " + hex + ")";
}

}  // namespace probe
}  // namespace uringfs
