/* SPDX-License-Identifier: MIT */
/*
 * The on-the-fly cos/sin values of one position, checked against the cache's rounding (see the
 * comment above fly_values in engine/rows.c for the argument). Written once, as plain C, and built
 * twice: into the portable engine and, through rope_kernel_set.fly_values, into each x86 kernel file
 * with its instruction set, where the compiler vectorizes these loops 4 or 8 doubles wide instead of
 * 2 (the value computation was 40% of an on-the-fly ONNX f16 prefill). Same C, every operation an
 * IEEE one with -ffp-contract=off: the same results on every path.
 */
#ifndef ROPE_KERNELS_FLY_VALUES_H
#define ROPE_KERNELS_FLY_VALUES_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/convert.h"
#include "kernel.h"

#define ROPE_FLY_SLACK 0x1p-44
#define ROPE_FLY_SLACK_ABS 0x1p-90 /* covers the angle reduction's absolute error (about 2^-110 rad) */

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
static inline uint32_t rope_fly_values_block(size_t half, double att, const double *restrict ca,
                                             const double *restrict sa, const double *restrict ct,
                                             const double *restrict st, rope_dtype dt, float *restrict lc,
                                             float *restrict hc, float *restrict ls, float *restrict hs,
                                             float *restrict cf, float *restrict sf, uint16_t *restrict ch,
                                             uint16_t *restrict sh, uint32_t *restrict bad) {
    uint32_t any;
    for (size_t i = 0; i < half; i++) {
        double a = ca[i] * ct[i], b = sa[i] * st[i], e = sa[i] * ct[i], g = ca[i] * st[i];
        double c = a - b, s = e + g;
        double dc = (fabs(a) + fabs(b)) * ROPE_FLY_SLACK + ROPE_FLY_SLACK_ABS;
        double ds = (fabs(e) + fabs(g)) * ROPE_FLY_SLACK + ROPE_FLY_SLACK_ABS;
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

/* Defines `name`, a rope_fly_values_fn, as this file's block built with the including file's flags. */
#define ROPE_FLY_VALUES_FN(name)                                                                             \
    static uint32_t name(size_t half, double att, const double *ca, const double *sa, const double *ct,       \
                         const double *st, rope_dtype dt, float *lc, float *hc, float *ls, float *hs, float *cf,  \
                         float *sf, uint16_t *ch, uint16_t *sh, uint32_t *bad) {                               \
        return rope_fly_values_block(half, att, ca, sa, ct, st, dt, lc, hc, ls, hs, cf, sf, ch, sh, bad);     \
    }

#endif
