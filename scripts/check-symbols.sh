#!/bin/sh
# SPDX-License-Identifier: MIT
# The shared library must export exactly the functions its public headers declare (include/rope.h, and
# include/rope_dlpack.h where the build has it), no more, no less. The headers are parsed (every
# declaration line starting at column 0 that names a rope_ function), so a new declaration is checked
# without editing this script. Usage: check-symbols.sh LIBROPE.so HEADER...
set -eu
lib=$1
shift
header="$*"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0

# Declarations: a line at column 0 "[ROPE_API] type name(" (function pointer typedefs excluded).
# shellcheck disable=SC2086 # one word per header
cat $header | grep -E '^[A-Za-z_][A-Za-z0-9_ ]*[ *]rope_[a-z0-9_]+\(' | grep -v '^typedef' > "$work/decls" || true
if grep -v '^ROPE_API ' "$work/decls" > "$work/unmarked"; then
  sed 's/^/declared without ROPE_API: /' "$work/unmarked"
  fail=1
fi
sed -E 's/^[^(]*[^A-Za-z0-9_](rope_[a-z0-9_]+)\(.*/\1/' "$work/decls" | sort -u > "$work/declared"
[ -s "$work/declared" ] || { echo "no declarations found in $header"; exit 1; }

# Defined dynamic symbols, without the linker's own markers.
nm -D --defined-only "$lib" | awk 'NF >= 3 { print $3 }' | sed 's/@.*//' |
  grep -vE '^(_init|_fini|_edata|_end|__bss_start)$' | sort -u > "$work/exported"

comm -23 "$work/declared" "$work/exported" | sed 's/^/declared but not exported: /' > "$work/missing"
comm -13 "$work/declared" "$work/exported" | sed 's/^/exported but not declared in a public header: /' > "$work/extra"
cat "$work/missing" "$work/extra"
[ -s "$work/missing" ] && fail=1
[ -s "$work/extra" ] && fail=1
n=$(wc -l < "$work/declared")
if [ "$fail" = 0 ]; then
  echo "1 passed, 0 failed ($n symbols: exactly the functions of $header)"
else
  echo "0 passed, 1 failed"
fi
exit "$fail"
