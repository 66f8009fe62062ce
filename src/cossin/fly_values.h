/* SPDX-License-Identifier: MIT */
/*
 * The on-the-fly cos/sin values of one position, checked against the cache's rounding (the argument
 * is in cossin/fly_rows.c). Written once, as plain C, and built once per instruction set by its own
 * small file (fly_values.c: portable; fly_values_avx2.c, fly_values_avx512.c: with those flags),
 * where the compiler vectorizes these loops 4 or 8 doubles wide instead of 2. Same C, every
 * operation an IEEE one with -ffp-contract=off: the same results on every build.
 */
#ifndef ROPE_COSSIN_FLY_VALUES_H
#define ROPE_COSSIN_FLY_VALUES_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "../cache/angle_body.h"
#include "../core/convert.h"
#include "rope.h"

#define ROPE_FLY_SLACK 0x1p-44
#define ROPE_FLY_SLACK_ABS 0x1p-90 /* covers the angle reduction's absolute error (about 2^-110 rad) */
/* An anchor that is a product of table entries (fly_rows.c, scattered positions) is within a few
 * 2^-50 of the exact cos/sin absolutely, not relatively: the bracket then adds this absolute slack
 * (tests/cossin/test_fly_bound.c measures the error below 2^-44). */
#define ROPE_FLY_SLACK_PRODUCT 0x1p-40

static inline uint32_t rope_fly_narrow_bf16(uint32_t b, uint32_t *unsafe) {
    uint32_t low = b & 0xffffu;
    *unsafe |= (uint32_t)(((low + 1u) & 0xffffu) < 2u) | (uint32_t)(low - 0x7fffu < 3u);
    return (b + 0x7fffu + ((b >> 16) & 1u)) >> 16;
}

static inline uint32_t rope_fly_narrow_f16(uint32_t b, uint32_t *unsafe) { /* normal f16 results only */
    uint32_t ax = b & 0x7fffffffu, low = b & 0x1fffu;
    *unsafe |= (uint32_t)(ax < 0x38800000u) | (uint32_t)(ax >= 0x477ff000u);
    *unsafe |= (uint32_t)(((low + 1u) & 0x1fffu) < 2u) | (uint32_t)(low - 0x0fffu < 3u);
    uint32_t m = ax - 0x38000000u, r = m >> 13, rem = m & 0x1fffu;
    uint32_t up = (uint32_t)(rem > 0x1000u) | ((uint32_t)(rem == 0x1000u) & r);
    return ((b >> 16) & 0x8000u) | (r + (up & 1u));
}

/* Values i < half from the anchor's (ca, sa) and the step's (ct, st): the float32 brackets into
 * lc/hc/ls/hs, the value into cf/sf (f32) or ch/sh (f16, bf16 patterns), and bad[i] = 1 where the
 * bracket does not decide it. Returns 1 when any bad[i] is set. */
static inline uint32_t rope_fly_values_block(size_t half, double att, double slack_abs, const double *restrict ca,
                                             const double *restrict sa, const double *restrict ct,
                                             const double *restrict st, rope_dtype dt, float *restrict lc,
                                             float *restrict hc, float *restrict ls, float *restrict hs,
                                             float *restrict cf, float *restrict sf, uint16_t *restrict ch,
                                             uint16_t *restrict sh, uint32_t *restrict bad) {
    uint32_t any;
    for (size_t i = 0; i < half; i++) {
        double a = ca[i] * ct[i], b = sa[i] * st[i], e = sa[i] * ct[i], g = ca[i] * st[i];
        double c = a - b, s = e + g;
        double dc = (fabs(a) + fabs(b)) * ROPE_FLY_SLACK + slack_abs;
        double ds = (fabs(e) + fabs(g)) * ROPE_FLY_SLACK + slack_abs;
        lc[i] = (float)((c - dc) * att), hc[i] = (float)((c + dc) * att);
        ls[i] = (float)((s - ds) * att), hs[i] = (float)((s + ds) * att);
    }
    /* One loop per dtype, each free of calls and branches so that it vectorizes. */
    any = 0;
    if (dt == ROPE_F32) {
        for (size_t i = 0; i < half; i++) {
            uint32_t u = (uint32_t)(rope_bits_of(lc[i]) != rope_bits_of(hc[i])) |
                         (uint32_t)(rope_bits_of(ls[i]) != rope_bits_of(hs[i]));
            cf[i] = lc[i], sf[i] = ls[i], bad[i] = u, any |= u;
        }
    } else if (dt == ROPE_BF16) {
        for (size_t i = 0; i < half; i++) {
            uint32_t bc = rope_bits_of(lc[i]), bs = rope_bits_of(ls[i]);
            uint32_t u = (uint32_t)(bc != rope_bits_of(hc[i])) | (uint32_t)(bs != rope_bits_of(hs[i]));
            ch[i] = (uint16_t)rope_fly_narrow_bf16(bc, &u), sh[i] = (uint16_t)rope_fly_narrow_bf16(bs, &u);
            bad[i] = u, any |= u;
        }
    } else {
        for (size_t i = 0; i < half; i++) {
            uint32_t bc = rope_bits_of(lc[i]), bs = rope_bits_of(ls[i]);
            uint32_t u = (uint32_t)(bc != rope_bits_of(hc[i])) | (uint32_t)(bs != rope_bits_of(hs[i]));
            ch[i] = (uint16_t)rope_fly_narrow_f16(bc, &u), sh[i] = (uint16_t)rope_fly_narrow_f16(bs, &u);
            bad[i] = u, any |= u;
        }
    }
    return any;
}

/* One position's inputs and outputs, [half] values each. */
typedef struct rope_fly_block {
    size_t half;
    double att;
    double slack_abs;        /* ROPE_FLY_SLACK_ABS, or ROPE_FLY_SLACK_PRODUCT for a product anchor */
    const double *ca, *sa;   /* cos/sin(anchor * inv[i]) */
    const double *ct, *st;   /* cos/sin(step * inv[i]) */
    float *lc, *hc, *ls, *hs; /* the brackets */
    float *cf, *sf;          /* f32 values */
    uint16_t *ch, *sh;       /* f16 / bf16 values */
    uint32_t *bad;           /* 1 where the bracket did not decide */
} rope_fly_block;

/* Pair i of the block gets bc and bs (rope_round_cs's bits for dt), in the f32 or the 16-bit arrays
 * as dt says: the store of every value the exact path computes (fly_rows.c, fly_axes.c). */
static inline void rope_fly_block_put(const rope_fly_block *b, rope_dtype dt, size_t i, uint32_t bc, uint32_t bs) {
    if (dt == ROPE_F32) {
        b->cf[i] = rope_float_of(bc);
        b->sf[i] = rope_float_of(bs);
    } else {
        b->ch[i] = (uint16_t)bc;
        b->sh[i] = (uint16_t)bs;
    }
}

/* rope_fly_values_block built with one instruction set; returns 1 when any bad[i] is set. */
typedef uint32_t (*rope_fly_values_fn)(const rope_fly_block *b, rope_dtype dt);

/* The build for `isa` when this library has one, else the portable build. Never NULL. */
rope_fly_values_fn rope_fly_values_for(rope_isa isa);

/* The builds (fly_values*.c): each file is this header's block compiled with its own flags. */
uint32_t rope_fly_values_portable(const rope_fly_block *b, rope_dtype dt);
uint32_t rope_fly_values_avx2(const rope_fly_block *b, rope_dtype dt);
uint32_t rope_fly_values_avx512(const rope_fly_block *b, rope_dtype dt);

/* (ca[i], sa[i]) times (c[i], s[i]) as complex numbers, in place, for i < n: a product of two digit
 * table entries of a scattered anchor (fly_rows.c). Plain IEEE operations, the same bits in every
 * build; built per instruction set with the angle block (rope_fly_sincos_for's set). */
static inline void rope_fly_cmul_block(size_t n, double *restrict ca, double *restrict sa, const double *restrict c,
                                       const double *restrict s) {
    for (size_t i = 0; i < n; i++) {
        double a = ca[i] * c[i] - sa[i] * s[i], b = sa[i] * c[i] + ca[i] * s[i];
        ca[i] = a, sa[i] = b;
    }
}

typedef void (*rope_fly_cmul_fn)(size_t n, double *ca, double *sa, const double *c, const double *s);
rope_fly_cmul_fn rope_fly_cmul_for(rope_isa isa);
void rope_fly_cmul_portable(size_t n, double *ca, double *sa, const double *c, const double *s);
void rope_fly_cmul_avx512(size_t n, double *ca, double *sa, const double *c, const double *s);

/* c[i], s[i] = cos/sin(p * inv[i]) for i < n, bitwise rope_angle_sincos (cache/angle_body.h's
 * rope_angle_sincos_block built with one instruction set: the anchors, step tables and direct values
 * of the on-the-fly rows, 8 angles at a time with AVX-512 where the scalar calls took 30 ns each). */
typedef void (*rope_fly_sincos_fn)(int64_t p, const double *inv, size_t n, double *c, double *s);

/* The build for `isa` when this library has one, else the portable build. Never NULL. */
rope_fly_sincos_fn rope_fly_sincos_for(rope_isa isa);

void rope_fly_sincos_portable(int64_t p, const double *inv, size_t n, double *c, double *s);
void rope_fly_sincos_avx512(int64_t p, const double *inv, size_t n, double *c, double *s);

/* The body of each build: `static inline` here, so every file compiles its own copy. */
static inline uint32_t rope_fly_values_of(const rope_fly_block *b, rope_dtype dt) {
    return rope_fly_values_block(b->half, b->att, b->slack_abs, b->ca, b->sa, b->ct, b->st, dt, b->lc, b->hc, b->ls, b->hs, b->cf,
                                 b->sf, b->ch, b->sh, b->bad);
}

#endif
