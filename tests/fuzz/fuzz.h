/* SPDX-License-Identifier: MIT */
/*
 * The fuzz targets (tests/fuzz/fuzz_*.c). Each defines libFuzzer's entry point; a violated property
 * prints why and aborts, which libFuzzer reports as a crash (and saves the input) and which fails
 * the corpus replay (replay.c) that `make test` runs with the normal compiler.
 */
#ifndef ROPE_FUZZ_H
#define ROPE_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ASSERT(cond, ...)                                                                               \
    do {                                                                                                     \
        if (!(cond)) {                                                                                       \
            fprintf(stderr, "%s:%d: fuzz property violated: %s: ", __FILE__, __LINE__, #cond);              \
            fprintf(stderr, __VA_ARGS__);                                                                    \
            fputc('\n', stderr);                                                                             \
            abort();                                                                                         \
        }                                                                                                    \
    } while (0)

#endif
