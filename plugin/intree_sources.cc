// The sources RocksDB's in-tree plugin build compiles (ROCKSDB_PLUGINS=uringfs,
// see plugin/uringfs.mk). RocksDB compiles only files inside its own
// plugin/uringfs/ folder, so this one file pulls in uringfs's library sources
// from the checkout; the include path comes from uringfs.mk / CMakeLists.txt.
// Keep this list in step with the cc_library srcs that //plugin:registration
// depends on. load_time_registration.cc is left out on purpose: in-tree,
// RocksDB calls uringfs_register() itself.

#include "env/option_table.cc"
#include "env/uring_file_system.cc"
#include "plugin/registration.cc"
