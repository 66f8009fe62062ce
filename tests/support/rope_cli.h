/* SPDX-License-Identifier: MIT */
/* The `rope` CLI as the end-to-end tools tests run it: the binary beside the build's tests
 * directory, its output read back. */
#ifndef ROPE_TEST_ROPE_CLI_H
#define ROPE_TEST_ROPE_CLI_H

#include <stddef.h>

/* Finds `rope` beside the tests directory (from /proc/self/exe, else argv0); 0 when it is not built.
 * rope_cli_path() names where it was looked for either way (the skip message says it). */
int rope_cli_find(const char *argv0);
const char *rope_cli_path(void);

/* Runs `rope bench ARGS` (through $ROPE_EMULATOR when set: a cross build's qemu, see
 * tests/CMakeLists.txt), stdout into out (at most size - 1 bytes, NUL-terminated), stderr dropped;
 * returns the exit status (-1 if it did not exit). */
int rope_cli_bench(const char *args, char *out, size_t size);

#endif
