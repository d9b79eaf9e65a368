// -----------------------------------------------------------------------------
// base/dio_alignment.h
// -----------------------------------------------------------------------------
//
// What the kernel says about direct I/O on one open file: statx with
// STATX_DIOALIGN (Linux 6.1+) reports the alignment that buffers in memory
// and file offsets and lengths need. Older kernels, and file systems that do
// not take O_DIRECT, report nothing. Asked at run time; nothing is assumed
// from the headers the program was built with.
//
// Thread-safety: pure functions, safe for concurrent use.

#ifndef URINGFS_BASE_DIO_ALIGNMENT_H_
#define URINGFS_BASE_DIO_ALIGNMENT_H_

#include <cstdint>

namespace uringfs {

struct DioAlignment {
  bool reported = false;  // False: the kernel did not say.
  uint32_t memory = 0;    // stx_dio_mem_align: of the buffer address.
  uint32_t offset = 0;    // stx_dio_offset_align: of offsets, lengths.
};

// QueryDioAlignment()
//
// The direct-I/O alignment of the open file `fd`. `reported` is false when
// statx fails or leaves STATX_DIOALIGN out, or reports an offset alignment of
// 0 (the file does not support direct I/O).
DioAlignment QueryDioAlignment(int fd);

}  // namespace uringfs

#endif  // URINGFS_BASE_DIO_ALIGNMENT_H_
