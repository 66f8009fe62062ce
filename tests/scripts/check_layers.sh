#!/bin/sh
# SPDX-License-Identifier: MIT
# scripts/check-layers.py on the real tree (must pass), and on small trees with a known fault each
# (must fail): a core file including the engine, and two cossin files including each other.
set -u
script=$1 src=$2
python3 "$script" "$src" || { echo "0 passed, 1 failed"; exit 1; }
tmp=$(mktemp -d) && trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/src/core" "$tmp/src/engine" "$tmp/src/cossin" "$tmp/include"
echo '#include "../engine/e.h"' > "$tmp/src/core/c.h"
echo '' > "$tmp/src/engine/e.h"
python3 "$script" "$tmp/src" > "$tmp/out1" && { echo "upward include not found"; echo "1 passed, 1 failed"; exit 1; }
grep -q "may only look down" "$tmp/out1" || { cat "$tmp/out1"; echo "1 passed, 1 failed"; exit 1; }
echo '' > "$tmp/src/core/c.h"
echo '#include "b.h"' > "$tmp/src/cossin/a.h"
echo '#include "a.h"' > "$tmp/src/cossin/b.h"
python3 "$script" "$tmp/src" > "$tmp/out2" && { echo "cycle not found"; echo "2 passed, 1 failed"; exit 1; }
grep -q "include cycle" "$tmp/out2" || { cat "$tmp/out2"; echo "2 passed, 1 failed"; exit 1; }
echo "3 passed, 0 failed"
