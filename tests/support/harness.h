/* SPDX-License-Identifier: MIT */
/* The tests' tiny harness: checks that count, a seeded random source, and the closing summary. */
#ifndef ROPE_TEST_HARNESS_H
#define ROPE_TEST_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

extern int tu_passed, tu_failed;

/* Records one check; on failure prints the location and the formatted reason. */
#define CHECK(cond, ...)                                                                                     \
    do {                                                                                                     \
        if (cond) {                                                                                          \
            tu_passed++;                                                                                     \
        } else {                                                                                             \
            tu_failed++;                                                                                     \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond);                         \
            fprintf(stderr, __VA_ARGS__);                                                                    \
            fputc('\n', stderr);                                                                             \
        }                                                                                                    \
    } while (0)

/* Prints "N passed, N failed" and returns the process exit status. */
int tu_finish(void);

/* Deterministic random numbers (xoshiro-style); seed with tu_seed. */
void tu_seed(uint64_t seed);
uint64_t tu_u64(void);
/* Makes tu_u64 read its values from data (8 bytes each, little endian, the last one zero-padded)
 * until they run out, then from the seeded sequence: a fuzzer's bytes drive the choices of a
 * randomized test (tests/fuzz/fuzz_api.c). NULL returns to the seeded sequence only. */
void tu_source(const uint8_t *data, size_t size);
/* Uniform integer in [lo, hi]. */
int64_t tu_int(int64_t lo, int64_t hi);
/* Uniform float in [lo, hi), never exactly 0 for lo < 0 < hi ranges used as data. */
double tu_uniform(double lo, double hi);

/* malloc(n) (one byte for n = 0, so the result is never NULL); aborts when out of memory. */
void *tu_xmalloc(size_t n);

/* The path of ../shared (from ROPE_SHARED_DIR) or NULL when absent. */
const char *tu_shared_dir(void);

#endif
