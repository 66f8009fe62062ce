/* SPDX-License-Identifier: MIT */
/*
 * The permutation piece of the pairs-to-halves layout (DeepSeek's rope_interleave): a head's rotated
 * run of adjacent pairs (e0 o0 e1 o1 ...) moved to halves (e0 e1 ... | o0 o1 ...) after the
 * adjacent-pair rotation, and back before it for the backward pass. Only bits move, so every
 * instruction set gives the bytes the portable code gives.
 *
 * In place, runs that fit BUF_BYTES go through a stack buffer; longer ones are split in two halves
 * of pairs, each permuted recursively, and the two middle blocks exchanged with a rotation (three
 * reversals): O(n log n) moves and no allocation, so a kernel-level piece cannot fail.
 */
#include <string.h>

#include "kernel.h"

enum { BUF_BYTES = 4096 };

static void reverse(char *p, size_t n, size_t es) {
    for (size_t i = 0, j = n ? n - 1 : 0; i < j; i++, j--) {
        char t[4];
        memcpy(t, p + i * es, es);
        memcpy(p + i * es, p + j * es, es);
        memcpy(p + j * es, t, es);
    }
}

/* [A B] -> [B A], |A| = a and |B| = b elements. */
static void rotate_blocks(char *p, size_t a, size_t b, size_t es) {
    reverse(p, a, es);
    reverse(p + a * es, b, es);
    reverse(p, a + b, es);
}

/* n adjacent pairs at p -> n evens then n odds. */
static void unshuffle(char *p, size_t n, size_t es) {
    if (2 * n * es <= BUF_BYTES) {
        char buf[BUF_BYTES];
        memcpy(buf, p, 2 * n * es);
        for (size_t j = 0; j < n; j++) {
            memcpy(p + j * es, buf + 2 * j * es, es);
            memcpy(p + (n + j) * es, buf + (2 * j + 1) * es, es);
        }
        return;
    }
    size_t n1 = n / 2, n2 = n - n1;
    unshuffle(p, n1, es);                  /* [E1 O1 | pairs of the second half] */
    unshuffle(p + 2 * n1 * es, n2, es);    /* [E1 O1 E2 O2] */
    rotate_blocks(p + n1 * es, n1, n2, es); /* [E1 E2 O1 O2] */
}

/* n evens then n odds at p -> n adjacent pairs: unshuffle's inverse. */
static void shuffle(char *p, size_t n, size_t es) {
    if (2 * n * es <= BUF_BYTES) {
        char buf[BUF_BYTES];
        memcpy(buf, p, 2 * n * es);
        for (size_t j = 0; j < n; j++) {
            memcpy(p + 2 * j * es, buf + j * es, es);
            memcpy(p + (2 * j + 1) * es, buf + (n + j) * es, es);
        }
        return;
    }
    size_t n1 = n / 2, n2 = n - n1;
    rotate_blocks(p + n1 * es, n2, n1, es); /* [E1 E2 O1 O2] -> [E1 O1 E2 O2] */
    shuffle(p, n1, es);
    shuffle(p + 2 * n1 * es, n2, es);
}

void rope_pairs_to_halves(rope_dtype dt, void *y, ptrdiff_t y_head_stride, size_t heads, size_t rot) {
    size_t es = rope_dtype_size(dt);
    for (size_t h = 0; h < heads; h++) unshuffle((char *)y + (ptrdiff_t)h * y_head_stride * (ptrdiff_t)es, rot / 2, es);
}

void rope_halves_to_pairs(rope_dtype dt, const void *x, ptrdiff_t x_head_stride, void *y, ptrdiff_t y_head_stride,
                          size_t heads, size_t lead, size_t rot, size_t head_size) {
    size_t es = rope_dtype_size(dt), half = rot / 2;
    for (size_t h = 0; h < heads; h++) {
        const char *xh = (const char *)x + (ptrdiff_t)h * x_head_stride * (ptrdiff_t)es;
        char *yh = (char *)y + (ptrdiff_t)h * y_head_stride * (ptrdiff_t)es;
        if (xh == yh) {
            shuffle(yh, half, es);
            continue;
        }
        for (size_t j = 0; j < half; j++) {
            memcpy(yh + 2 * j * es, xh + j * es, es);
            memcpy(yh + (2 * j + 1) * es, xh + (half + j) * es, es);
        }
        memcpy(yh + rot * es, xh + rot * es, (head_size - rot) * es);
        memcpy(yh - (ptrdiff_t)(lead * es), xh - (ptrdiff_t)(lead * es), lead * es);
    }
}
