/* SPDX-License-Identifier: MIT */
/*
 * The one rounding of a float64 cos/sin value to a cache dtype, shared by rope_cache_fill and the
 * on-the-fly rows (cossin/fly_rows.c), so a value computed inside an operator is bitwise the value the
 * cache would hold.
 *
 * Narrowing float64 to float16 / bfloat16 through an ordinary float32 would round twice (a float32
 * landing exactly on a float16 midpoint can tip the wrong way), so the float32 step rounds to odd:
 * a float32 with 24 bits then holds enough to round correctly to any format of at most 22 bits,
 * which both are. Every step is monotone (non-decreasing) in v, which the on-the-fly rows rely on.
 */
#ifndef ROPE_CACHE_ROUND_H
#define ROPE_CACHE_ROUND_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../core/convert.h"
#include "rope.h"

/* float64 -> float32 rounded to odd: truncate toward zero, then set the last bit when inexact. */
static inline float rope_round_to_odd_f32(double v) {
    float f = (float)v;
    if ((double)f == v || isnan(v)) return f;
    uint32_t u = rope_bits_of(f);
    if (fabs((double)f) > fabs(v)) u -= 1; /* rounded away from zero: one step back (sign-magnitude) */
    return rope_float_of(u | 1u);
}

/* The bit pattern of v rounded once to `dtype` (f32, f16 or bf16; 0 for anything else). */
static inline uint32_t rope_round_cs(rope_dtype dtype, double v) {
    switch (dtype) {
    case ROPE_F32: return rope_bits_of((float)v);
    case ROPE_F16: return rope_f32_to_f16_inline(rope_round_to_odd_f32(v));
    case ROPE_BF16: return rope_f32_to_bf16_inline(rope_round_to_odd_f32(v));
    default: return 0;
    }
}

/* Stores a pattern from rope_round_cs as element idx of a `dtype` array. Through memcpy: a table
 * need not be aligned to its dtype (a DLPack byte offset, or a vLLM-layout cos placed over the
 * ignored sin's block at an odd f16 offset: the ops fuzzer's reproducer crash-c5c8e81d...), and a
 * typed store to such an address is undefined; the compilers make it one plain store. */
static inline void rope_store_cs(void *data, rope_dtype dtype, size_t idx, uint32_t bits) {
    if (dtype == ROPE_F32) {
        float f = rope_float_of(bits); /* stored as a float: the array's own type */
        memcpy((char *)data + idx * sizeof f, &f, sizeof f);
    } else {
        uint16_t h = (uint16_t)bits;
        memcpy((char *)data + idx * sizeof h, &h, sizeof h);
    }
}

#endif
