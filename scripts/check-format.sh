#!/bin/sh
# SPDX-License-Identifier: MIT
# The C layout (.clang-format) where it holds today, kept: every file listed in
# scripts/format-allowlist.txt (the files of src/, include/ and tools/ that clang-format leaves
# unchanged), and with --base REF every .c / .h file under src/, include/, tools/ and tests/ added
# since REF (new code starts formatted). The rest of the tree predates the file and is not
# reformatted here: a reformatting commit would collide with every branch editing those files.
# Usage: check-format.sh [--base REF] [--all]. --all checks every .c / .h of src/, include/ and
# tools/ instead (a report of how far the tree is, expected to fail). Prints each file that differs
# (with its diff under --verbose) and "N passed, N failed"; exits 77 (skipped) without clang-format.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
base=""
all=0
verbose=0
while [ $# -gt 0 ]; do
  case "$1" in
    --base) base=$2; shift 2 ;;
    --base=*) base=${1#--base=}; shift ;;
    --all) all=1; shift ;;
    --verbose) verbose=1; shift ;;
    *) echo "check-format.sh: unknown argument '$1' (usage: check-format.sh [--base REF] [--all] [--verbose])" >&2; exit 2 ;;
  esac
done
cf=${CLANG_FORMAT:-clang-format}
if ! command -v "$cf" >/dev/null 2>&1; then
  echo "skipped: $cf not found (apt-get install clang-format)"
  exit 77
fi
list=$(mktemp)
trap 'rm -f "$list"' EXIT
if [ "$all" = 1 ]; then
  git ls-files src include tools | grep -E '\.(c|h)$' > "$list"
else
  grep -v '^#' scripts/format-allowlist.txt | grep . > "$list" || true
  if [ -n "$base" ]; then
    git diff --name-only --diff-filter=A "$base" -- src include tools tests | grep -E '\.(c|h)$' >> "$list" || true
  fi
fi
passed=0
failed=0
for f in $(sort -u "$list"); do
  if [ ! -f "$f" ]; then
    echo "listed but missing: $f"
    failed=$((failed + 1))
    continue
  fi
  if "$cf" --style=file "$f" | cmp -s "$f" -; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "not formatted: $f (clang-format -i $f)"
    [ "$verbose" = 1 ] && "$cf" --style=file "$f" | diff -u "$f" - || true
  fi
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
