#!/bin/sh
# Installs librope into a scratch prefix and builds a consumer twice: with find_package(rope) and
# with pkg-config. Usage: check-install.sh BUILD_DIR
set -eu
build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null

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
find_package(rope REQUIRED)
add_executable(app main.c)
target_link_libraries(app PRIVATE rope::rope)
C
cmake -S "$work/app" -B "$work/app/build" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/app/build" >/dev/null
LD_LIBRARY_PATH="$work/prefix/lib:$work/prefix/lib64" "$work/app/build/app"

pcdir=$(dirname "$(find "$work/prefix" -name rope.pc | head -n 1)")
# pkg-config must be told the prefix moved: the .pc file names the configured one.
flags=$(PKG_CONFIG_PATH="$pcdir" pkg-config --define-variable=prefix="$work/prefix" --cflags --libs rope)
cc "$work/app/main.c" -o "$work/app/app-pc" $flags
LD_LIBRARY_PATH="$work/prefix/lib:$work/prefix/lib64" "$work/app/app-pc"
echo "install check passed (find_package and pkg-config)"
