#!/usr/bin/env bash
# kill -9 crash test: tools/crash-check for 20 cycles on the writer and plugin
# built by Bazel. Every acknowledged Put must survive, through uringfs and the
# stock file system, and Debian's ldb/sst_dump must find the database sound.
# Table files are written behind (write_behind=sst), the mode with more to
# lose; the WAL is written through either way.
set -u

runfiles=${TEST_SRCDIR:-$PWD/..}/${TEST_WORKSPACE:-uringfs}
work=${TEST_TMPDIR:-$(mktemp -d)}/crash
rm -rf "$work"

exec "$runfiles/tools/crash-check" \
  --cycles "${CRASH_CYCLES:-20}" \
  --keys 30000 \
  --min-delay 0.2 --max-delay 1.0 \
  --writer "$runfiles/tests/crash/crash_writer" \
  --lib "$runfiles/plugin/liburingfs.so" \
  --fs-uri 'uringfs://?write_behind=sst' \
  --dir "$work"
