"""A RocksDB built from source, for checking uringfs against other releases.

The project's build uses Debian's librocksdb (//third_party:rocksdb). With
`--define=rocksdb=source --repo_env=URINGFS_ROCKSDB_SRC=<dir>` it uses
instead the headers of the RocksDB source tree <dir>/include and the library
in <dir-of-libs> named by URINGFS_ROCKSDB_LIB (a directory holding
librocksdb.a and a librocksdb.so linker script that adds the libraries the
static archive needs; tools/check-intree writes both).
"""

def _rocksdb_source_impl(ctx):
    src = ctx.os.environ.get("URINGFS_ROCKSDB_SRC", "")
    lib = ctx.os.environ.get("URINGFS_ROCKSDB_LIB", "")
    if not src or not lib:
        # Unset: a target that exists (queries walk every select branch) but
        # fails with a clear message if a build ever uses it.
        ctx.file("BUILD.bazel", """
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
""")
        return
    ctx.symlink(src + "/include", "include")
    ctx.file("BUILD.bazel", """
cc_library(
    name = "rocksdb",
    hdrs = glob(["include/**/*.h"]),
    includes = ["include"],
    linkopts = ["-L{lib}", "-lrocksdb"],
    visibility = ["//visibility:public"],
)
""".format(lib = lib))

rocksdb_source = repository_rule(
    implementation = _rocksdb_source_impl,
    environ = ["URINGFS_ROCKSDB_SRC", "URINGFS_ROCKSDB_LIB"],
    local = True,
)
