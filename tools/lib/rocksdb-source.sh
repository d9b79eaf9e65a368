# Shell functions shared by tools/check-intree and tools/rocksdb-tests
# (sourced, not run). They expect `root` (the uringfs checkout) to be set.

# debian_rocksdb_source DIR LOGFILE
#
# Unpacks Debian 12's rocksdb source package (7.8.3) into DIR/rocksdb-7.8.3
# unless it is there already. Needs root: apt-get source needs a deb-src
# entry, which goes into a file of its own,
# /etc/apt/sources.list.d/uringfs-deb-src.sources, built from the deb
# entries of debian.sources and removed again afterwards. The system's own
# apt sources are never edited.
debian_rocksdb_source() {
  local dir=$1 log=$2 sys=/etc/apt/sources.list.d/debian.sources
  local debsrc=/etc/apt/sources.list.d/uringfs-deb-src.sources
  [ -d "$dir/rocksdb-7.8.3" ] && return 0
  if [ "$(id -u)" != 0 ]; then
    echo "no $dir/rocksdb-7.8.3, and fetching it needs root (apt-get source)" >&2
    return 1
  fi
  [ -r "$sys" ] || { echo "$sys not found" >&2; return 1; }
  awk 'BEGIN { RS=""; ORS="\n\n" }
       /(^|\n)Types:[^\n]*deb/ {
         out = "Types: deb-src"
         n = split($0, l, "\n")
         for (i = 1; i <= n; i++)
           if (l[i] ~ /^(URIs|Suites|Components|Signed-By):/) out = out "\n" l[i]
         print out
       }' "$sys" >"$debsrc"
  echo "added $debsrc (deb-src entries of the same archive as $sys) for apt-get source; removed afterwards"
  local rc=0
  apt-get update -qq && (cd "$dir" && { apt-get source -qq rocksdb=7.8.3-2 >"$log" 2>&1 ||
                                        apt-get source -qq rocksdb >>"$log" 2>&1; }) || rc=$?
  rm -f "$debsrc"
  apt-get update -qq || true
  echo "removed $debsrc"
  [ $rc = 0 ] && [ -d "$dir/rocksdb-7.8.3" ] || { echo "apt-get source rocksdb failed (log: $log)" >&2; return 1; }
}

# install_build_deps
#
# The Debian packages a RocksDB source build needs (root only; a no-op for
# packages already installed).
install_build_deps() {
  local need=(build-essential dpkg-dev libsnappy-dev zlib1g-dev libbz2-dev liblz4-dev
              libzstd-dev libgflags-dev liburing-dev python3 cmake pkg-config) missing=() p
  for p in "${need[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} = 0 ] && return 0
  [ "$(id -u)" = 0 ] || { echo "missing packages (install as root): ${missing[*]}" >&2; return 1; }
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# place_plugin SRC
#
# Puts uringfs into RocksDB source tree SRC the way RocksDB's plugin
# convention expects a clone: SRC/plugin/uringfs holds the repository, with
# uringfs.mk and CMakeLists.txt at its top. The files are those of the
# checkout as it is now (tracked and new files, uncommitted edits included),
# so that what is checked is what is being worked on. Objects of the
# plugin's sources then land inside RocksDB's tree, never in the checkout.
place_plugin() {
  local dest=$1/plugin/uringfs
  rm -rf "$dest"
  mkdir -p "$dest"
  (cd "$root" && git ls-files -z --cached --others --exclude-standard |
     while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
     tar --null -T - -cf -) | tar -xf - -C "$dest"
}

# rocksdb_version SRC -> "major.minor.patch" of the RocksDB source tree SRC.
rocksdb_version() {
  local h=$1/include/rocksdb/version.h
  printf '%s.%s.%s\n' "$(awk '/define ROCKSDB_MAJOR/ {print $3}' "$h")" \
    "$(awk '/define ROCKSDB_MINOR/ {print $3}' "$h")" "$(awk '/define ROCKSDB_PATCH/ {print $3}' "$h")"
}
