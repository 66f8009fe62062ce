/* SPDX-License-Identifier: MIT */
/*
 * The tables rope_cache_fill and rope_cache_fill_axes write: a rope_cache_layout resolved for a rotated
 * width d (each row's width, ATB's pair stride), the checks of the cos / sin tensors, and the store
 * of one pair's value rounded once to the tables' dtype. Shared so that both fills accept the same
 * tensors with the same messages and place a pair's values identically.
 */
#ifndef ROPE_CACHE_TABLE_H
#define ROPE_CACHE_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "rope.h"
#include "round.h"

typedef struct rope_table_shape {
    rope_cache_layout layout;
    int64_t half;    /* d/2 pairs per row */
    int64_t width;   /* elements per row: d/2 (HALF) or d (FULL, VLLM) */
    int64_t ps;      /* FULL: the pair stride d / rotary_coeff; 1 otherwise */
    const char *why; /* what fixes the width, for messages */
} rope_table_shape;

/* Resolves `layout` (ATTRIBUTE for an unknown one) and, for FULL, rotary_coeff (2, 4 or d, dividing
 * d), for the rotated width d (even, > 0). */
rope_status rope_table_shape_make(const char *where, rope_cache_layout layout, int32_t rotary_coeff, int64_t d,
                                  rope_table_shape *out);

/* The tensors of `count` rows of `shape`: cos and sin 2-D [count, width], f32 / f16 / bf16 alike,
 * dense, with data, disjoint; VLLM: cos alone and sin NULL. */
rope_status rope_table_check(const char *where, const rope_table_shape *shape, int64_t count, const rope_tensor *cos,
                             const rope_tensor *sin);

/* Stores pair p's cos value c and sin value s of row r, each rounded once (round.h). */
static inline void rope_table_store(const rope_table_shape *sh, const rope_tensor *cos, const rope_tensor *sin,
                                    int64_t r, int64_t p, double c, double s) {
    size_t row = (size_t)r * (size_t)sh->width;
    uint32_t cb = rope_round_cs(cos->dtype, c), sb = rope_round_cs(cos->dtype, s);
    switch (sh->layout) {
    case ROPE_CACHE_VLLM: /* [cos | sin] in one row */
        rope_store_cs(cos->data, cos->dtype, row + (size_t)p, cb);
        rope_store_cs(cos->data, cos->dtype, row + (size_t)(sh->half + p), sb);
        return;
    case ROPE_CACHE_HALF:
        rope_store_cs(cos->data, cos->dtype, row + (size_t)p, cb);
        rope_store_cs(sin->data, sin->dtype, row + (size_t)p, sb);
        return;
    case ROPE_CACHE_FULL: { /* pair p = g*ps + j owns elements g*2*ps + j and that + ps */
        size_t a = row + (size_t)((p / sh->ps) * 2 * sh->ps + p % sh->ps);
        rope_store_cs(cos->data, cos->dtype, a, cb);
        rope_store_cs(cos->data, cos->dtype, a + (size_t)sh->ps, cb);
        rope_store_cs(sin->data, sin->dtype, a, sb);
        rope_store_cs(sin->data, sin->dtype, a + (size_t)sh->ps, sb);
        return;
    }
    }
}

#endif
