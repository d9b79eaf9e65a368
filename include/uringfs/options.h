// -----------------------------------------------------------------------------
// uringfs/options.h
// -----------------------------------------------------------------------------
//
// `UringFsOptions` is the one place that lists every knob of a uringfs file
// system: its meaning, unit, default and accepted range. The same table drives
// the three ways an option can be given, so they accept exactly the same
// values and reject the same mistakes:
//
//   * a URI query:          `uringfs://?queue_depth=64&write_workers=4`
//   * a RocksDB options string, after the id:
//                           `id=UringFileSystem;queue_depth=64`
//   * C++:                  `UringFsOptions o; o.queue_depth = 64;`
//                           then `uringfs::NewUringFileSystem(o, &fs)`.
//
// Byte sizes may be written as RocksDB writes them: digits with an optional
// suffix `K`, `M`, `G` or `T` (either case; powers of 1024), so
// `max_queued_bytes=256M` is 268435456. Other numbers are plain decimal.
//
// A value outside its range, a malformed number (`12abc`, `-1`, `5KB`, a
// size past 64 bits such as `99999999999T`) or an unknown key is answered
// with `InvalidArgument` naming the key and what is accepted; nothing is
// created, and nothing of the text is applied, in that case.
//
// Thread-safety: a plain value type; copy it freely. A file system copies its
// options when it is created and never changes them afterwards.

#ifndef URINGFS_OPTIONS_H_
#define URINGFS_OPTIONS_H_

#include <cstdint>
#include <string>

namespace uringfs {

struct UringFsOptions {
  // The name under which these options are registered with RocksDB's
  // `Configurable` machinery (`fs->GetOptions<UringFsOptions>()`).
  static const char* kName() { return "UringFsOptions"; }

  // queue_depth: submission-queue entries of each io_uring ring, that is the
  // most reads one thread keeps in flight at once. Unit: entries.
  // Default 128. Accepted: 1 to 4096.
  uint32_t queue_depth = 128;

  // write_workers: the most worker threads that execute queued buffered
  // writes at once (the bound account of the worker queue). Unit: threads.
  // Default 4. Accepted: 1 to 256.
  uint32_t write_workers = 4;

  // use_io_uring: `true` probes io_uring once and uses it where the kernel
  // allows; `false` forces the plain-syscall path (pread/pwrite), as if
  // io_uring were unavailable. Accepted: true, false, 1, 0.
  bool use_io_uring = true;

  // ring_single_reads: `true` sends a single synchronous read (a `Read` of a
  // random-access or sequential file, a `MultiRead` of one request) through
  // io_uring, after a `preadv2(RWF_NOWAIT)` try of the page cache for
  // buffered files; `false` reads it with one `pread`, as RocksDB's POSIX
  // file system does. The caller waits for a single read either way, and the
  // ring's round trip costs CPU that nothing overlaps (docs/benchmarks.md
  // has the costs). Batches and asynchronous reads use io_uring either way.
  // Default false. Accepted: true, false, 1, 0.
  bool ring_single_reads = false;

  // write_behind: the classes of files whose buffered appends are queued and
  // written behind the caller's back, on the worker queue: a comma-separated
  // list of `sst` (table files, *.sst and *.ldb) and `blob` (*.blob), or
  // `none`. RocksDB trusts table files only after Sync + Close, which wait
  // for the queued writes. Every other file (WAL, MANIFEST, CURRENT, OPTIONS,
  // LOG, anything unknown) is written before `Flush` returns, so a process
  // crash loses nothing that was flushed. Default "none": writing behind
  // shortens flushes and compactions, but their writes then compete for the
  // CPU with the foreground writers, and on a machine with few cores fills
  // ran a few percent slower (README, "Options"); set `sst` where cores are
  // spare. `blob` is safe only with the integrated BlobDB
  // (`enable_blob_files`), which syncs its blob files before it trusts them;
  // the stacked BlobDB (`utilities/blob_db`) trusts `Flush` of its blob files
  // like the WAL's, and a process crash with `blob` written behind can lose
  // values it acknowledged.
  std::string write_behind = "none";

  // max_queued_bytes: the most appended bytes one file system holds queued,
  // not yet written, over all its files. A full budget makes `Append` wait.
  // Unit: bytes (size suffixes accepted). Default 256 MiB (`256M`).
  // Accepted: 65536 (`64K`) to 68719476736 (`64G`).
  uint64_t max_queued_bytes = uint64_t{256} << 20;

  // max_queued_bytes_per_file: the same budget for a single file. An append
  // larger than the budget is accepted when the file has nothing queued.
  // Unit: bytes (size suffixes accepted). Default 64 MiB (`64M`).
  // Accepted: 4096 (`4K`) to 68719476736 (`64G`).
  uint64_t max_queued_bytes_per_file = uint64_t{64} << 20;

  // max_read_ahead_bytes: how far uringfs reads ahead of RocksDB's
  // asynchronous prefetching of direct-I/O table files (`ReadAsync`, used
  // by iterators with `ReadOptions::async_io`): when a file's requests
  // follow one another and the device is behind the scan (the file's last
  // Poll waited 100 µs or more), uringfs starts reading the range the next
  // request will ask for, so the device has two reads of the scan at a time
  // instead of one. This is the most memory all such reads of one file
  // system hold together; none starts while they would need more. 0 turns
  // reading ahead off. Buffered files are read ahead by the kernel and
  // never use it. README, "Options", has the numbers. Unit: bytes (size
  // suffixes accepted). Default 64 MiB (`64M`).
  // Accepted: 0 to 68719476736 (`64G`).
  uint64_t max_read_ahead_bytes = uint64_t{64} << 20;

  // stats_dump_period_sec: every this many seconds, the `uringfs stats:`
  // line with the file system's counters is written to the info log (LOG)
  // of each database that uses the file system, as RocksDB's own option of
  // the same name does for its statistics; the line is written at close in
  // any case. 0 writes it at close only, and starts no thread. The period
  // runs from when the database opened its LOG. Unit: seconds. Default 600.
  // Accepted: 0 to 4294967295.
  uint32_t stats_dump_period_sec = 600;
};

}  // namespace uringfs

#endif  // URINGFS_OPTIONS_H_
