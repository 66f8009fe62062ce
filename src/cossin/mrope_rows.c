/* SPDX-License-Identifier: MIT */
/*
 * MRoPE rows (source.h): a token's half-width row assembled pair by pair, each pair's cos and sin
 * taken at the position its axis gives the token, from the caller's table or computed on the fly
 * (the same values as the plain sources: a table row's entries, or rope_fly_values_at's, which are
 * rope_cache_fill's). Backward negates every sin, as for plain half-width rows. So a token whose
 * axes all hold the same position gets bitwise the plain row.
 */
#include <string.h>

#include "fly.h"
#include "slot.h"

/* Pairs lo, lo + step, ... below hi of one axis: cos and sin values (f32 or 16-bit patterns) copied
 * from that axis's rows c / s to the token's rows oc / os, sin's sign flipped when `neg`. */
static void copy_pairs(char *oc, char *os, const char *c, const char *s, size_t lo, size_t hi, size_t step, size_t es,
                       int neg) {
    if (es == 4) {
        const uint32_t sign = neg ? 0x80000000u : 0u;
        for (size_t j = lo; j < hi; j += step) {
            uint32_t u, v;
            memcpy(&u, c + 4 * j, 4), memcpy(&v, s + 4 * j, 4);
            v ^= sign;
            memcpy(oc + 4 * j, &u, 4), memcpy(os + 4 * j, &v, 4);
        }
    } else {
        const uint16_t sign = (uint16_t)(neg ? 0x8000u : 0u);
        for (size_t j = lo; j < hi; j += step) {
            uint16_t u, v;
            memcpy(&u, c + 2 * j, 2), memcpy(&v, s + 2 * j, 2);
            v ^= sign;
            memcpy(oc + 2 * j, &u, 2), memcpy(os + 2 * j, &v, 2);
        }
    }
}

static size_t min_size(size_t a, size_t b) { return a < b ? a : b; }

/* The pairs of axis a (source.h): contiguous, its section's range; interleaved, j = 1, 4, 7, ... below
 * 3*s_1 for axis 1, j = 2, 5, 8, ... below 3*s_2 for axis 2, and every other pair for axis 0. */
static void copy_axis(const rope_mrope *m, int a, size_t half, size_t es, int neg, const char *c, const char *s,
                      char *oc, char *os) {
    if (!m->interleaved) {
        size_t lo = 0;
        for (int b = 0; b < a; b++) lo += (size_t)m->section[b];
        copy_pairs(oc, os, c, s, lo, min_size(lo + (size_t)m->section[a], half), 1, es, neg);
        return;
    }
    size_t end1 = min_size(3 * (size_t)m->section[1], half), end2 = min_size(3 * (size_t)m->section[2], half);
    if (a == 1) copy_pairs(oc, os, c, s, 1, end1, 3, es, neg);
    if (a == 2) copy_pairs(oc, os, c, s, 2, end2, 3, es, neg);
    if (a != 0) return;
    copy_pairs(oc, os, c, s, 0, half, 3, es, neg);
    copy_pairs(oc, os, c, s, 3 * (size_t)m->section[1] + 1, half, 3, es, neg);
    copy_pairs(oc, os, c, s, 3 * (size_t)m->section[2] + 2, half, 3, es, neg);
}

void rope_mrope_rows(const rope_cossin_source *src, const rope_kernel_shape *shape, size_t seq, rope_cossin_slot *sl,
                     size_t token, size_t n) {
    const rope_mrope *m = src->mrope;
    const rope_dtype dt = shape->cs_dtype;
    const size_t es = rope_dtype_bytes(dt), half = shape->rot / 2, row_bytes = half * es;
    const int neg = src->backward, fly = src->kind == ROPE_COSSIN_FLY;
    /* Axis by axis, then token by token: on the fly, consecutive tokens' positions on one axis share
     * the slot's anchor (fly_rows.c), which alternating axes per token would recompute every time
     * (rope bench --op vllm --tokens 64 --mrope contiguous --fly: 370 us token by token, 101 us so). */
    for (int a = 0; a < m->axes; a++) {
        rope_position_cursor cur;
        rope_cursor_start(&cur, &m->axis[a], seq, token);
        for (size_t i = 0; i < n; i++) {
            size_t pos = rope_cursor_next(&cur);
            const char *c, *s;
            if (fly) {
                rope_fly_values_at(src, sl, (int64_t)pos, dt);
                c = dt == ROPE_F32 ? (const char *)sl->block.cf : (const char *)sl->block.ch;
                s = dt == ROPE_F32 ? (const char *)sl->block.sf : (const char *)sl->block.sh;
            } else { /* the table row at the axis's position */
                size_t off = pos * (size_t)src->table_stride * es;
                c = (const char *)src->cos + off, s = (const char *)src->sin + off;
            }
            copy_axis(m, a, half, es, neg, c, s, (char *)sl->cos + i * row_bytes, (char *)sl->sin + i * row_bytes);
        }
    }
}
