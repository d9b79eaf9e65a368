# RocksDB in-tree plugin build (make and cmake both read this file).
#
#   ln -s /path/to/uringfs/plugin /path/to/rocksdb/plugin/uringfs
#   cd /path/to/rocksdb && ROCKSDB_PLUGINS=uringfs make db_bench
#
# RocksDB then links uringfs into librocksdb and calls uringfs_register() when
# its object registry starts, so --fs_uri=uringfs:// works without a preload.
# URINGFS_ROOT is the uringfs checkout; it is found through the symlink, or
# can be given on the make command line.

ifndef URINGFS_ROOT
URINGFS_ROOT := $(realpath $(dir $(lastword $(MAKEFILE_LIST)))/..)
endif

uringfs_SOURCES = intree_sources.cc
uringfs_HEADERS =
uringfs_FUNC = uringfs_register
uringfs_LIBS = uring absl_synchronization absl_time absl_time_zone absl_int128 absl_stacktrace absl_symbolize absl_debugging_internal absl_demangle_internal absl_malloc_internal absl_base absl_spinlock_wait absl_raw_logging_internal absl_log_severity
# make links with _LDFLAGS; cmake reads the names from _LIBS (keep it literal).
uringfs_LDFLAGS = $(addprefix -l,$(uringfs_LIBS))
uringfs_CXXFLAGS = -I$(URINGFS_ROOT) -I$(URINGFS_ROOT)/include
