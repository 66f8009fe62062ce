#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs librope into a scratch prefix and builds a consumer with find_package(rope) and with
# pkg-config (no --define-variable: rope.pc must find its prefix itself), checks the documents under
# share/doc/rope, then moves the whole prefix elsewhere and builds the pkg-config consumer again.
# Usage: check-install.sh BUILD_DIR           the build as configured
#        check-install.sh --multiarch         a fresh library-only build with a Debian multiarch
#                                             libdir (lib/<triplet>), checked the same way
# Prints "N passed, N failed"; exit 77 (skipped) when pkg-config is missing.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
command -v pkg-config >/dev/null 2>&1 || { echo "skipped: pkg-config is not installed"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0
check() { # check WHAT COMMAND...: runs the command, counts it
  what=$1
  shift
  if "$@" >"$work/log" 2>&1; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "install check failed: $what" >&2
    sed 's/^/  /' "$work/log" >&2
  fi
}

if [ "${1:-}" = "--multiarch" ]; then
  triplet=$(cc -print-multiarch 2>/dev/null || true)
  [ -n "$triplet" ] || triplet=$(uname -m)-linux-gnu
  build="$work/build-multiarch"
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DROPE_BUILD_TESTS=OFF \
    -DCMAKE_INSTALL_LIBDIR="lib/$triplet" >/dev/null
  cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)" --target rope rope_static rope_cli >/dev/null
else
  build=${1:-build}
fi

prefix="$work/some/where/prefix"
cmake --install "$build" --prefix "$prefix" >/dev/null

mkdir -p "$work/app"
cat > "$work/app/main.c" <<'C'
#include <stdio.h>
#include "rope.h"
int main(void) {
    float x[4] = {1, 2, 3, 4}, c[2] = {0.5f, 1}, s[2] = {0.5f, 0};
    rope_tensor X = {x, ROPE_F32, 4, {1, 1, 1, 4}, 0};
    rope_tensor C = {c, ROPE_F32, 3, {1, 1, 2}, 0}, S = {s, ROPE_F32, 3, {1, 1, 2}, 0};
    rope_status st = rope_onnx_rotary_embedding(NULL, NULL, &X, &C, &S, NULL, &X);
    printf("%s %g\n", rope_version_string(), x[0]);
    return st == ROPE_OK && x[0] == -1.0f ? 0 : 1;
}
C
cat > "$work/app/CMakeLists.txt" <<'C'
cmake_minimum_required(VERSION 3.20)
project(app C)
find_package(rope 0.1 REQUIRED)
add_executable(app main.c)
target_link_libraries(app PRIVATE rope::rope)
C

libdir_of() { # the directory holding librope.so under a prefix
  dirname "$(find "$1" -name 'librope.so' | head -n 1)"
}

cmake_consumer() {
  cmake -S "$work/app" -B "$work/app/build" -DCMAKE_PREFIX_PATH="$prefix" &&
    cmake --build "$work/app/build" &&
    LD_LIBRARY_PATH="$(libdir_of "$prefix")" "$work/app/build/app"
}

pc_consumer() { # pc_consumer PREFIX: pkg-config, told nothing but where rope.pc is
  pcdir=$(dirname "$(find "$1" -name rope.pc | head -n 1)")
  flags=$(PKG_CONFIG_PATH="$pcdir" pkg-config --cflags --libs rope)
  echo "pkg-config: $flags"
  libdir=$(PKG_CONFIG_PATH="$pcdir" pkg-config --variable=libdir rope)
  [ -f "$libdir/librope.so" ] || { echo "libdir $libdir has no librope.so"; return 1; }
  inc=$(PKG_CONFIG_PATH="$pcdir" pkg-config --variable=includedir rope)
  [ "$(cd "$inc" && pwd -P)" = "$(cd "$1/include" && pwd -P)" ] || { echo "includedir $inc is not $1/include"; return 1; }
  # shellcheck disable=SC2086
  cc "$work/app/main.c" -o "$work/app/app-pc" $flags && LD_LIBRARY_PATH="$libdir" "$work/app/app-pc"
}

docs() {
  for f in README.md LICENSE CHANGELOG.md; do
    [ -s "$prefix/share/doc/rope/$f" ] || { echo "missing share/doc/rope/$f"; return 1; }
  done
}

check "find_package(rope) consumer" cmake_consumer
check "pkg-config consumer at $prefix" pc_consumer "$prefix"
check "README, LICENSE, CHANGELOG under share/doc/rope" docs
mv "$prefix" "$work/moved"
check "pkg-config consumer after moving the prefix" pc_consumer "$work/moved"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
