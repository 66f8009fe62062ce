#!/bin/sh
# SPDX-License-Identifier: MIT
# Cross-builds librope for aarch64 (NEON kernels) with -Werror and runs the whole test suite under
# user-mode QEMU: ctest starts every test through the toolchain file's emulator, and the conformance
# suites start the CLI through it as well (ROPE_EMULATOR, see tests/CMakeLists.txt).
# Installs the cross compiler and QEMU when missing (Debian/Ubuntu, as root).
# Usage: scripts/ci-arm.sh [build directory, default build-arm]
set -eu
cd "$(dirname "$0")/.."
build=${1:-build-arm}
jobs=$(nproc 2>/dev/null || echo 2)

have_qemu() { command -v qemu-aarch64 >/dev/null 2>&1 || command -v qemu-aarch64-static >/dev/null 2>&1; }

install_pkgs() {
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "ci-arm: needs $* (install them, then run again)" >&2
    exit 1
  fi
  echo "ci-arm: installing $*" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

need=""
command -v aarch64-linux-gnu-gcc >/dev/null 2>&1 || need="$need gcc-aarch64-linux-gnu"
have_qemu || need="$need qemu-user"
if [ -n "$need" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then apt-get update -qq >/dev/null; fi
  # shellcheck disable=SC2086 # one word per package
  install_pkgs $need
  # some releases ship qemu-aarch64 only in qemu-user-static
  have_qemu || install_pkgs qemu-user-static
fi

cmake -S . -B "$build" -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake -DROPE_WERROR=ON >/dev/null
cmake --build "$build" -j "$jobs"
cd "$build"
ctest --output-on-failure -j "$jobs" --timeout 600
