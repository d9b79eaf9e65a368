#include "base/dio_alignment.h"

#include <fcntl.h>
#include <sys/stat.h>

namespace uringfs {

DioAlignment QueryDioAlignment(int fd) {
  DioAlignment a;
  struct statx stx {};
  if (::statx(fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &stx) != 0 ||
      (stx.stx_mask & STATX_DIOALIGN) == 0 || stx.stx_dio_offset_align == 0) {
    return a;
  }
  a.reported = true;
  a.memory = stx.stx_dio_mem_align;
  a.offset = stx.stx_dio_offset_align;
  return a;
}

}  // namespace uringfs
