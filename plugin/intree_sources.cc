// The sources RocksDB's in-tree plugin build compiles (ROCKSDB_PLUGINS=uringfs
// with the checkout cloned as rocksdb/plugin/uringfs; see uringfs.mk at its
// root). RocksDB compiles the files uringfs.mk names, so this one file pulls
// in uringfs's library sources; the include path comes from uringfs.mk (make)
// or CMakeLists.txt (cmake). The standalone CMake build compiles it as well.
// This is the one list of the library's sources: every .cc file of base/,
// env/, env/uring/ and env/wq/, and plugin/registration.cc
// (//plugin:intree_sources_test checks that it names exactly those files).
// load_time_registration.cc is left out on purpose: in-tree, RocksDB calls
// uringfs_register() itself.

#include "base/dio_alignment.cc"
#include "base/fork_generation.cc"
#include "env/append_copies.cc"
#include "env/async_read_handle.cc"
#include "env/file_class.cc"
#include "env/fs_stats.cc"
#include "env/fs_tasks.cc"
#include "env/io_error.cc"
#include "env/open_for_read.cc"
#include "env/option_table.cc"
#include "env/periodic_thread.cc"
#include "env/process_queue.cc"
#include "env/public_api.cc"
#include "env/random_access_file.cc"
#include "env/random_rw_file.cc"
#include "env/read_ahead.cc"
#include "env/read_request.cc"
#include "env/sequential_file.cc"
#include "env/size_text.cc"
#include "env/stats_logger.cc"
#include "env/uring/async_reader.cc"
#include "env/uring/batch_reader.cc"
#include "env/uring/features.cc"
#include "env/uring/read_engine.cc"
#include "env/uring/read_op.cc"
#include "env/uring/ring_pool.cc"
#include "env/uring_file_system.cc"
#include "env/wq/completion_queue.cc"
#include "env/wq/creds.cc"
#include "env/wq/pending_list.cc"
#include "env/wq/queue.cc"
#include "env/wq/task.cc"
#include "env/wq/thread_factory.cc"
#include "env/wq/worker.cc"
#include "env/writable_file.cc"
#include "env/write_budget.cc"
#include "env/write_scheduler.cc"
#include "plugin/registration.cc"
