"""A RocksDB built from source, for checking uringfs against other releases.

The project's build uses Debian's librocksdb (//third_party:rocksdb). With
`--define=rocksdb=source` and
  --repo_env=URINGFS_ROCKSDB_SRC=<RocksDB source tree>
  --repo_env=URINGFS_ROCKSDB_LIB=<folder with librocksdb.a and libs.txt>
  --repo_env=URINGFS_ROCKSDB_LIB_STAMP=<anything that changes with the archive>
it uses instead the headers of <source tree>/include and the static
librocksdb.a, linked with the libraries named in libs.txt (`-lsnappy ...`).
The archive is an input of every link, so a new one relinks the tests; the
stamp makes Bazel look at the folder again. tools/check-intree writes all
three and passes them.
"""

_UNSET = """
# --define=rocksdb=source without URINGFS_ROCKSDB_SRC / URINGFS_ROCKSDB_LIB:
# a target that exists (queries walk every select branch) but fails with a
# clear message if a build ever uses it.
genrule(
    name = "unset",
    outs = ["unset.cc"],
    cmd = "echo '--define=rocksdb=source needs --repo_env=URINGFS_ROCKSDB_SRC=... and URINGFS_ROCKSDB_LIB=...' >&2; exit 1",
)

cc_library(
    name = "rocksdb",
    srcs = [":unset"],
    visibility = ["//visibility:public"],
)
"""

_BUILD = """
cc_library(
    name = "rocksdb",
    srcs = ["lib/librocksdb.a"],
    hdrs = glob(["include/**/*.h"]),
    includes = ["include"],
    linkopts = {libs},
    visibility = ["//visibility:public"],
)
"""

def _rocksdb_source_impl(ctx):
    src = ctx.os.environ.get("URINGFS_ROCKSDB_SRC", "")
    lib = ctx.os.environ.get("URINGFS_ROCKSDB_LIB", "")
    if not src or not lib:
        ctx.file("BUILD.bazel", _UNSET)
        return
    ctx.symlink(src + "/include", "include")
    ctx.symlink(lib + "/librocksdb.a", "lib/librocksdb.a")
    libs = [l for l in ctx.read(lib + "/libs.txt").replace("\n", " ").split(" ") if l]
    ctx.file("BUILD.bazel", _BUILD.format(libs = repr(libs)))

rocksdb_source = repository_rule(
    implementation = _rocksdb_source_impl,
    environ = ["URINGFS_ROCKSDB_SRC", "URINGFS_ROCKSDB_LIB", "URINGFS_ROCKSDB_LIB_STAMP"],
    local = True,
)
