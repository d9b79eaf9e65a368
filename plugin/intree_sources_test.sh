#!/usr/bin/env bash
# Checks that the unity file (first argument) includes exactly the source
# files given as the other arguments, no more and no fewer.
set -euo pipefail
unity=$1
shift
want=$(printf '%s\n' "$@" | grep -v '^plugin/intree_sources.cc$' | sort)
have=$(sed -n 's/^#include "\(.*\.cc\)"$/\1/p' "$unity" | sort)
if [ "$want" != "$have" ]; then
  echo "intree_sources.cc does not list the library's sources:"
  diff <(echo "$want") <(echo "$have") | sed 's/^</  missing:/; s/^>/  stale:  /' | grep -E 'missing|stale'
  exit 1
fi
echo "intree_sources.cc lists all $(echo "$have" | wc -l) sources"
