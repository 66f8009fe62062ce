/* SPDX-License-Identifier: MIT */
/*
 * The floor loop's body (bench_loops.h), written once over a few vector primitives that the
 * including file (bench_loops_<set>.c, compiled with its set's flags) defines first:
 *   BL_VL                      lanes of float32 in a vector; bl_vec its type
 *   bl_vec bl_ld(t, p)         BL_VL elements of dtype t at p, widened
 *   void   bl_st(t, p, v)      v narrowed to t (nearest even), BL_VL elements stored at p
 *   bl_vec bl_ld_dup(t, p)     BL_VL / 2 elements at p, widened, each in two adjacent lanes
 *   bl_vec bl_swap(v)          lanes 2i and 2i + 1 exchanged
 *   bl_vec bl_neg_even(v)      even lanes negated
 *   bl_vec bl_mul / bl_add / bl_sub (a, b)
 * and then includes this file, which defines BL_ENTRY(name): int name(job, lo, hi).
 *
 * The arithmetic is kernel.h's: with c, s the pair's cos and sin, y[a] = x[a]*c - x[b]*s and
 * y[b] = x[a]*s + x[b]*c, each product rounded (no FMA: the bench is built with
 * -ffp-contract=off and without -mfma). The interleaved form x*c + swap(x)*(-s, s) gives the same
 * bits: x[b]*(-s) is exactly -(x[b]*s).
 */
#ifndef ROPE_TOOL_BENCH_LOOP_BODY_H
#define ROPE_TOOL_BENCH_LOOP_BODY_H

#include "bench_loops.h"

#define BL_INLINE static inline __attribute__((always_inline))

/* Element i of a buffer of dtype t, as an address. */
BL_INLINE const void *bl_at(rope_dtype t, const void *p, size_t i) {
    return (const char *)p + i * (t == ROPE_F32 ? 4 : 2);
}

BL_INLINE void *bl_at_w(rope_dtype t, void *p, size_t i) { return (char *)p + i * (t == ROPE_F32 ? 4 : 2); }

/* One head vector, pairs (j, j + ps) with ps = hs / 2, one cos/sin value per pair. */
BL_INLINE void bl_halves(rope_dtype xt, rope_dtype ct, const void *x, void *y, const void *c, const void *s,
                         size_t hs) {
    size_t ps = hs / 2;
    for (size_t j = 0; j < ps; j += BL_VL) {
        bl_vec xa = bl_ld(xt, bl_at(xt, x, j)), xb = bl_ld(xt, bl_at(xt, x, j + ps));
        bl_vec cv = bl_ld(ct, bl_at(ct, c, j)), sv = bl_ld(ct, bl_at(ct, s, j));
        bl_st(xt, bl_at_w(xt, y, j), bl_sub(bl_mul(xa, cv), bl_mul(xb, sv)));
        bl_st(xt, bl_at_w(xt, y, j + ps), bl_add(bl_mul(xa, sv), bl_mul(xb, cv)));
    }
}

/* ATB's element-indexed rows: element a uses cos[a], sin[a], element b cos[b], sin[b]. */
BL_INLINE void bl_halves_full(rope_dtype xt, rope_dtype ct, const void *x, void *y, const void *c, const void *s,
                              size_t hs) {
    size_t ps = hs / 2;
    for (size_t j = 0; j < ps; j += BL_VL) {
        bl_vec xa = bl_ld(xt, bl_at(xt, x, j)), xb = bl_ld(xt, bl_at(xt, x, j + ps));
        bl_vec ca = bl_ld(ct, bl_at(ct, c, j)), sa = bl_ld(ct, bl_at(ct, s, j));
        bl_vec cb = bl_ld(ct, bl_at(ct, c, j + ps)), sb = bl_ld(ct, bl_at(ct, s, j + ps));
        bl_st(xt, bl_at_w(xt, y, j), bl_sub(bl_mul(xa, ca), bl_mul(xb, sa)));
        bl_st(xt, bl_at_w(xt, y, j + ps), bl_add(bl_mul(xb, cb), bl_mul(xa, sb)));
    }
}

/* Adjacent pairs (2i, 2i + 1), cos/sin value i. */
BL_INLINE void bl_interleaved(rope_dtype xt, rope_dtype ct, const void *x, void *y, const void *c, const void *s,
                              size_t hs) {
    for (size_t i = 0; i < hs; i += BL_VL) {
        bl_vec xv = bl_ld(xt, bl_at(xt, x, i));
        bl_vec cv = bl_ld_dup(ct, bl_at(ct, c, i / 2)), sv = bl_neg_even(bl_ld_dup(ct, bl_at(ct, s, i / 2)));
        bl_st(xt, bl_at_w(xt, y, i), bl_add(bl_mul(xv, cv), bl_mul(bl_swap(xv), sv)));
    }
}

/* One head vector in the job's layout (a constant after inlining). */
BL_INLINE void bl_head(rope_dtype xt, rope_dtype ct, int layout, const void *x, void *y, const void *c, const void *s,
                       size_t hs) {
    if (layout == 0) bl_halves(xt, ct, x, y, c, s, hs);
    else if (layout == 1) bl_interleaved(xt, ct, x, y, c, s, hs);
    else bl_halves_full(xt, ct, x, y, c, s, hs);
}

/* Units [lo, hi): head vectors in (head, token) order (heads_outer), or tokens, each with all its
 * streams' heads. */
BL_INLINE void bl_walk(rope_dtype xt, rope_dtype ct, int layout, const bench_loop_job *j, size_t lo, size_t hi) {
    size_t hs = j->head_size, T = j->tokens;
    size_t xe = xt == ROPE_F32 ? 4 : 2, ce = ct == ROPE_F32 ? 4 : 2;
    const char *cos = j->cos, *sin = j->sin;
    size_t row_bytes = j->cs_row_stride * ce;
    if (j->heads_outer) {
        const bench_loop_stream *st = &j->s[0];
        for (size_t u = lo; u < hi;) {
            size_t h = u / T, t = u % T, end = hi - u < T - t ? t + (hi - u) : T;
            const char *x = (const char *)st->x + ((ptrdiff_t)h * st->head_stride) * (ptrdiff_t)xe;
            char *y = (char *)st->y + ((ptrdiff_t)h * st->head_stride) * (ptrdiff_t)xe;
            for (; t < end; t++, u++) {
                size_t r = j->positions ? (size_t)j->positions[t] : t;
                ptrdiff_t off = (ptrdiff_t)t * st->token_stride * (ptrdiff_t)xe;
                bl_head(xt, ct, layout, x + off, y + off, cos + r * row_bytes, sin + r * row_bytes, hs);
            }
        }
        return;
    }
    for (size_t t = lo; t < hi; t++) {
        size_t r = j->positions ? (size_t)j->positions[t] : t;
        const char *c = cos + r * row_bytes, *s = sin + r * row_bytes;
        for (int k = 0; k < j->n_streams; k++) {
            const bench_loop_stream *st = &j->s[k];
            const char *x = (const char *)st->x + (ptrdiff_t)t * st->token_stride * (ptrdiff_t)xe;
            char *y = (char *)st->y + (ptrdiff_t)t * st->token_stride * (ptrdiff_t)xe;
            ptrdiff_t step = st->head_stride * (ptrdiff_t)xe;
            for (size_t h = 0; h < st->heads; h++) bl_head(xt, ct, layout, x + h * step, y + h * step, c, s, hs);
        }
    }
}

/* The job's layout: 0 halves, 1 interleaved, 2 halves with element-indexed rows. */
BL_INLINE int bl_layout(const bench_loop_job *j) {
    if (2 * j->pair_stride != j->head_size) return 1;
    return j->cos_full ? 2 : 0;
}

#define BL_WALK_LAYOUTS(xt, ct)                                                                                        \
    static void bl_walk_##xt##_##ct(const bench_loop_job *j, size_t lo, size_t hi) {                                   \
        switch (bl_layout(j)) {                                                                                        \
        case 0: bl_walk(ROPE_##xt, ROPE_##ct, 0, j, lo, hi); return;                                                   \
        case 1: bl_walk(ROPE_##xt, ROPE_##ct, 1, j, lo, hi); return;                                                   \
        default: bl_walk(ROPE_##xt, ROPE_##ct, 2, j, lo, hi); return;                                                  \
        }                                                                                                              \
    }

BL_WALK_LAYOUTS(F32, F32)
BL_WALK_LAYOUTS(F16, F16)
BL_WALK_LAYOUTS(F16, F32)
BL_WALK_LAYOUTS(BF16, BF16)
BL_WALK_LAYOUTS(BF16, F32)

/* 0 when the dtype pair has no loop (bench_loop_pick never asks for one). */
#define BL_ENTRY(name)                                                                                                 \
    int name(const bench_loop_job *j, size_t lo, size_t hi) {                                                          \
        if (j->x_dtype == ROPE_F32 && j->cs_dtype == ROPE_F32) bl_walk_F32_F32(j, lo, hi);                             \
        else if (j->x_dtype == ROPE_F16 && j->cs_dtype == ROPE_F16) bl_walk_F16_F16(j, lo, hi);                        \
        else if (j->x_dtype == ROPE_F16 && j->cs_dtype == ROPE_F32) bl_walk_F16_F32(j, lo, hi);                        \
        else if (j->x_dtype == ROPE_BF16 && j->cs_dtype == ROPE_BF16) bl_walk_BF16_BF16(j, lo, hi);                    \
        else if (j->x_dtype == ROPE_BF16 && j->cs_dtype == ROPE_F32) bl_walk_BF16_F32(j, lo, hi);                      \
        else return 0;                                                                                                 \
        return 1;                                                                                                      \
    }

#endif
