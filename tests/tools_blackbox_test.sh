#!/usr/bin/env bash
# Black-box test: Debian's own db_bench, ldb and sst_dump with uringfs
# preloaded through tools/with-uringfs. Each must exit 0 on a real database,
# the database's LOG must name the file system, and a bad option must end the
# tool with a message and a non-zero exit, never a signal.
set -u

runfiles=${TEST_SRCDIR:-$PWD/..}/${TEST_WORKSPACE:-uringfs}
export URINGFS_LIB=$runfiles/plugin/liburingfs.so
wrap=$runfiles/tools/with-uringfs
work=${TEST_TMPDIR:-$(mktemp -d)}/blackbox
rm -rf "$work" && mkdir -p "$work"

failures=0
passes=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok:   $*"; passes=$((passes + 1)); }

for tool in db_bench ldb sst_dump; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool missing; run tools/setup"; exit 1; }
done

# expect_ok NAME CMD...: exit status 0.
expect_ok() {
  local name=$1; shift
  if "$@" >"$work/$name.out" 2>&1; then pass "$name"; else
    fail "$name exited $?"; tail -5 "$work/$name.out"; fi
}

# expect_refused NAME NEEDLE CMD...: non-zero exit below 128 (no signal) and
# NEEDLE in the output.
expect_refused() {
  local name=$1 needle=$2; shift 2
  "$@" >"$work/$name.out" 2>&1
  local rc=$?
  if [ "$rc" -eq 0 ] || [ "$rc" -ge 128 ]; then
    fail "$name: exit $rc (want 1..127)"; tail -3 "$work/$name.out"
  elif ! grep -q -- "$needle" "$work/$name.out"; then
    fail "$name: output lacks '$needle'"; tail -3 "$work/$name.out"
  else
    pass "$name (exit $rc: $(grep -m1 -- "$needle" "$work/$name.out" | cut -c1-100))"
  fi
}

# Everything twice: io_uring allowed, and forced off (the pread fallback).
for uri in 'uringfs://' 'uringfs://?use_io_uring=false'; do
  tag=$([ "$uri" = 'uringfs://' ] && echo on || echo off)
  db=$work/db-$tag
  common=(--fs_uri="$uri" --db="$db" --num=20000 --value_size=200
          --compression_type=none --write_buffer_size=1048576)

  expect_ok db_bench_fill_$tag "$wrap" db_bench "${common[@]}" \
    --benchmarks=fillseq,flush --disable_wal=false
  expect_ok db_bench_reads_$tag "$wrap" db_bench "${common[@]}" --use_existing_db=true \
    --benchmarks=readrandom,multireadrandom,seekrandom --reads=2000 --seek_nexts=10 \
    --multiread_batched=true --batch_size=32 --use_direct_reads=true --async_io=true
  if grep -q "Options.fs: UringFileSystem" "$db/LOG"; then pass "LOG names UringFileSystem ($tag)"
  else fail "LOG does not name UringFileSystem ($tag)"; grep "Options.fs" "$db/LOG"; fi
  want=$([ "$tag" = on ] && echo "uringfs: io_uring: on" || echo "uringfs: io_uring: off")
  if grep -aq "$want" "$db/LOG"; then pass "LOG says '$want'"
  else fail "LOG lacks '$want'"; grep -a "uringfs:" "$db/LOG"; fi

  expect_ok ldb_checkconsistency_$tag "$wrap" ldb --fs_uri="$uri" --db="$db" checkconsistency
  grep -qx OK "$work/ldb_checkconsistency_$tag.out" || fail "checkconsistency ($tag) did not print OK"
  expect_ok ldb_scan_$tag "$wrap" ldb --fs_uri="$uri" --db="$db" scan
  lines=$(wc -l <"$work/ldb_scan_$tag.out")
  [ "$lines" -eq 20000 ] && pass "ldb scan saw 20000 keys ($tag)" || fail "ldb scan saw $lines keys ($tag)"

  expect_ok sst_dump_verify_$tag "$wrap" sst_dump --fs_uri="$uri" --file="$db" --command=verify
  ssts=$(grep -c "^Process " "$work/sst_dump_verify_$tag.out")
  oks=$(grep -c "The file is ok" "$work/sst_dump_verify_$tag.out")
  if [ "$ssts" -gt 0 ] && [ "$ssts" -eq "$oks" ]; then pass "sst_dump verified $ssts files ($tag)"
  else fail "sst_dump ($tag): $ssts files, $oks ok"; fi
done

expect_refused db_bench_bogus bogus "$wrap" db_bench --fs_uri='uringfs://?bogus=1' \
  --benchmarks=fillseq --db="$work/bad"
expect_refused db_bench_range "queue_depth" "$wrap" db_bench \
  --fs_uri='uringfs://?queue_depth=0' --benchmarks=fillseq --db="$work/bad"
expect_refused db_bench_options_string bogus "$wrap" db_bench \
  --fs_uri='id=UringFileSystem;bogus=1' --benchmarks=fillseq --db="$work/bad"
expect_refused ldb_bogus bogus "$wrap" ldb --fs_uri='uringfs://?bogus=1' --db="$db" scan
expect_refused sst_dump_bogus bogus "$wrap" sst_dump --fs_uri='uringfs://?bogus=1' \
  --file="$db" --command=verify
expect_refused wrapper_without_library "not found" \
  env URINGFS_LIB=/nonexistent/liburingfs.so "$wrap" db_bench --benchmarks=fillseq

echo "$passes passed, $failures failed"
[ "$failures" -eq 0 ]
