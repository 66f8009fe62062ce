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

/* The axis of pair j (source.h). */
static int axis_of(const rope_mrope *m, size_t j) {
    if (m->interleaved) {
        if (j % 3 == 1 && (int64_t)j < 3 * m->section[1]) return 1;
        if (j % 3 == 2 && (int64_t)j < 3 * m->section[2]) return 2;
        return 0;
    }
    int64_t end = 0;
    for (int a = 0; a < m->axes; a++)
        if ((int64_t)j < (end += m->section[a])) return a;
    return m->axes - 1; /* unreachable: the sections add up to the pairs */
}

/* Copies value j of src_row (f32 or 16-bit patterns) to out, its sign flipped when `neg`. */
static void put(void *out, const void *src_row, size_t j, size_t es, int neg) {
    if (es == 4) {
        uint32_t u;
        memcpy(&u, (const char *)src_row + 4 * j, 4);
        u ^= neg ? 0x80000000u : 0u;
        memcpy((char *)out + 4 * j, &u, 4);
    } else {
        uint16_t h;
        memcpy(&h, (const char *)src_row + 2 * j, 2);
        h ^= (uint16_t)(neg ? 0x8000u : 0u);
        memcpy((char *)out + 2 * j, &h, 2);
    }
}

void rope_mrope_rows(const rope_cossin_source *src, const rope_kernel_shape *shape, size_t seq, rope_cossin_slot *sl,
                     size_t token, size_t n) {
    const rope_mrope *m = src->mrope;
    const rope_dtype dt = shape->cs_dtype;
    const size_t es = rope_dtype_bytes(dt), half = shape->rot / 2, row_bytes = half * es;
    const int neg = src->backward, fly = src->kind == ROPE_COSSIN_FLY;
    rope_position_cursor cur[4];
    for (int a = 0; a < m->axes; a++) rope_cursor_start(&cur[a], &m->axis[a], seq, token);
    for (size_t i = 0; i < n; i++) {
        size_t pos[4];
        for (int a = 0; a < m->axes; a++) pos[a] = rope_cursor_next(&cur[a]);
        char *oc = (char *)sl->cos + i * row_bytes, *os = (char *)sl->sin + i * row_bytes;
        if (!fly) { /* table rows: pair j from the row at its axis's position */
            const char *c[4], *s[4];
            for (int a = 0; a < m->axes; a++) {
                size_t off = pos[a] * (size_t)src->table_stride * es;
                c[a] = (const char *)src->cos + off, s[a] = (const char *)src->sin + off;
            }
            for (size_t j = 0; j < half; j++) {
                int a = axis_of(m, j);
                put(oc, c[a], j, es, 0);
                put(os, s[a], j, es, neg);
            }
            continue;
        }
        /* On the fly: one position's values per distinct axis position, its pairs copied out. */
        int have = -1; /* the axis whose position the slot's block holds */
        for (int a = 0; a < m->axes; a++) {
            if (have < 0 || pos[a] != pos[have]) rope_fly_values_at(src, sl, (int64_t)pos[a], dt), have = a;
            const void *cv = dt == ROPE_F32 ? (const void *)sl->block.cf : (const void *)sl->block.ch;
            const void *sv = dt == ROPE_F32 ? (const void *)sl->block.sf : (const void *)sl->block.sh;
            for (size_t j = 0; j < half; j++) {
                if (axis_of(m, j) != a) continue;
                put(oc, cv, j, es, 0);
                put(os, sv, j, es, neg);
            }
        }
    }
}
