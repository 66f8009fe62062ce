/* SPDX-License-Identifier: MIT */
/* Float64 references of the fused prologue's tests (test_vllm_qk_norm_rope.c,
 * test_vllm_kv_cache.c), written from rope.h's contract and vLLM's semantics (fused_qk_norm_rope,
 * rotary_embedding, reshape_and_cache_flash), never from src/. Header-only: each test includes it
 * once. */
#ifndef ROPE_TEST_PROLOGUE_REF_H
#define ROPE_TEST_PROLOGUE_REF_H

#include <math.h>
#include <stdint.h>

#include "harness.h"
#include "reference.h"

/* MRoPE: the axis pair j of rot/2 pairs takes its position from (rope.h's rule). */
static inline int pr_axis(int axes, int interleaved, const int64_t *sec, int64_t j) {
    if (!axes) return 0;
    if (interleaved) {
        if (j % 3 == 1 && j < 3 * sec[1]) return 1;
        if (j % 3 == 2 && j < 3 * sec[2]) return 2;
        return 0;
    }
    int64_t end = 0;
    for (int a = 0; a < axes; a++) {
        end += sec[a];
        if (j < end) return a;
    }
    return axes - 1;
}

/* One head x[0..hd) (doubles, as read), normalised (w NULL: not) and rotated at the cos/sin rows
 * pos_of_pair (cache [P, rot] as doubles); want[i] the exact result, mag[i] the size of the terms
 * that make it (for the tolerance). */
static inline void pr_head(const double *x, int64_t hd, const double *w, double eps, const double *cache, int64_t rot,
                    int neox, const int64_t *pos_of_pair, double *want, double *mag) {
    double n[4096];
    double r = 1.0;
    if (w) {
        double ss = 0;
        for (int64_t i = 0; i < hd; i++) ss += x[i] * x[i];
        r = 1.0 / sqrt(ss / (double)hd + (double)(float)eps);
    }
    for (int64_t i = 0; i < hd; i++) n[i] = w ? x[i] * r * w[i] : x[i];
    int64_t half = rot / 2;
    for (int64_t j = 0; j < half; j++) {
        int64_t a = neox ? j : 2 * j, b = neox ? j + half : 2 * j + 1;
        const double *row = cache + pos_of_pair[j] * rot;
        double c = row[j], s = row[half + j];
        want[a] = n[a] * c - n[b] * s;
        want[b] = n[b] * c + n[a] * s;
        mag[a] = mag[b] = fabs(n[a] * c) + fabs(n[b] * s) + fabs(n[a] * s) + fabs(n[b] * c);
    }
    for (int64_t i = rot; i < hd; i++) want[i] = n[i], mag[i] = fabs(n[i]);
}

/* The tolerance of a normalised result: one rounding to dt, plus the float32 arithmetic's error,
 * bounded by (hd/16 + 16) float32 half-units at the size of the terms (the sum of squares in 16
 * partials of hd/16 terms and a 4-level tree, the division, sqrt and reciprocal, two scale products,
 * the rotation's products and add). Without a norm: rope.h's rotation bound (3 half-units). */
static inline double pr_tol(rope_dtype dt, double want, double mag, int64_t hd, int normed) {
    double units = normed ? (double)hd / 16.0 + 16.0 : 3.0;
    double arith = mag * units * 0x1p-24;
    double out = dt == ROPE_F32 ? 0.5 * ref_ulp(ROPE_F32, fabs(want)) : ref_ulp(dt, fabs(want));
    return out + arith + 1e-300;
}

#endif

/* ---- fp8: the formats' codes decoded from the OCP definition, the nearest found by search ---- */

typedef struct pr_fp8 {
    int max_code, nan_code;
    double value[128];
} pr_fp8;

static inline void pr_fp8_init(pr_fp8 *f, int e5m2) {
    int mant = e5m2 ? 2 : 3, bias = e5m2 ? 15 : 7;
    f->max_code = e5m2 ? 0x7b : 0x7e;
    f->nan_code = e5m2 ? 0x7e : 0x7f;
    for (int c = 0; c < 128; c++) {
        int e = c >> mant, m = c & ((1 << mant) - 1);
        f->value[c] = e == 0 ? ldexp((double)m, 1 - bias - mant) : ldexp(1.0 + (double)m / (1 << mant), e - bias);
    }
}

/* The stored byte of v: nearest code (ties to the even code), saturated, NaN with its sign. */
static inline uint8_t pr_fp8_round(const pr_fp8 *f, double v) {
    uint8_t sign = signbit(v) ? 0x80 : 0;
    if (isnan(v)) return (uint8_t)(sign | f->nan_code);
    double a = fabs(v);
    if (a >= f->value[f->max_code]) return (uint8_t)(sign | f->max_code);
    int best = 0;
    for (int c = 1; c <= f->max_code; c++) {
        double d = fabs(f->value[c] - a), db = fabs(f->value[best] - a);
        if (d < db || (d == db && c % 2 == 0)) best = c;
    }
    return (uint8_t)(sign | best);
}
