# RocksDB in-tree plugin build: RocksDB's Makefile includes this file, and
# RocksDB's CMakeLists.txt reads it too. Clone uringfs into RocksDB's plugin
# folder and name it when building:
#
#   git clone <uringfs> /path/to/rocksdb/plugin/uringfs
#   cd /path/to/rocksdb && ROCKSDB_PLUGINS=uringfs make db_bench
#   # or: cmake -DROCKSDB_PLUGINS=uringfs ...
#
# RocksDB then links uringfs into librocksdb and calls uringfs_register() when
# its object registry starts, so --fs_uri=uringfs:// works without a preload.
#
# RocksDB's CMakeLists.txt does not evaluate this file: it takes the text after
# the first "SOURCES", "_FUNC" and "_LIBS" assignments with regular
# expressions. Keep those three lines literal (no variables, no continuation
# lines) and keep those words followed by " = " out of the comments above them.
# The standalone build (CMakeLists.txt) reads the library and header lists
# from here as well.

# This file's folder, the uringfs checkout (also through a symlink). It can be
# given on the make command line instead.
ifndef URINGFS_ROOT
URINGFS_ROOT := $(realpath $(dir $(lastword $(MAKEFILE_LIST))))
endif

# Relative to this folder. intree_sources.cc includes every library source.
uringfs_SOURCES = plugin/intree_sources.cc
# The public API; RocksDB's `make install` copies these.
uringfs_HEADERS = include/uringfs/options.h include/uringfs/stats.h include/uringfs/task.h include/uringfs/uringfs.h include/uringfs/version.h
uringfs_FUNC = uringfs_register
# make links what pkg-config names (and RocksDB's generated rocksdb.pc
# requires it); CMake links these library names.
uringfs_PKGCONFIG_REQUIRES = liburing absl_synchronization absl_time
uringfs_LIBS = uring absl_synchronization absl_time absl_time_zone absl_int128 absl_stacktrace absl_symbolize absl_debugging_internal absl_demangle_internal absl_malloc_internal absl_base absl_spinlock_wait absl_raw_logging_internal absl_log_severity
uringfs_CXXFLAGS = -I$(URINGFS_ROOT) -I$(URINGFS_ROOT)/include
