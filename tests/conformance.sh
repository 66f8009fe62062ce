#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs `rope test` over a conformance directory and requires its exact closing line.
# Usage: conformance.sh ROPE_BINARY SUITE_DIR "N passed, N failed[, N skipped]"
# ROPE_EMULATOR (a cross build's emulator command, e.g. "qemu-aarch64 -L /usr/aarch64-linux-gnu") runs the binary.
rope=$1 suite=$2 want=$3
if [ ! -d "$suite" ]; then
  echo "skipped: $suite is absent (../shared is not beside this checkout)"
  exit 77
fi
out=$(${ROPE_EMULATOR:-} "$rope" test "$suite"/*)
status=$?
printf '%s\n' "$out"
last=$(printf '%s\n' "$out" | tail -n 1)
if [ "$last" != "$want" ]; then
  echo "expected closing line: $want"
  exit 1
fi
exit $status
