/* SPDX-License-Identifier: MIT */
/*
 * Multi-axis rows on the fly (fly.h's rope_fly_axes_rows): token t's row is each axis's pairs at
 * that axis's coordinate, every value rounded exactly as rope_cache_fill_axes rounds it
 * (cache/axes.c: attention * cos/sin of the exact product coordinate * inv_a[j], cache/round.h), so the
 * operators' results are bitwise the table operator's on that table.
 *
 * An integer coordinate (any position dtype: a float holding an integer is the same float64, and
 * rope_angle_sincos(p) is rope_angle_sincos_real(p) bit for bit) takes fly_rows.c's fast path per
 * axis: an anchor every `block` positions (kept per axis in the slot, so a token walk that moves
 * along one axis and stays on the others recomputes nothing), a per-call step table, the complex
 * product, and the bracket that decides whether the product's rounding is the cache's; what the
 * bracket leaves undecided, and every fractional coordinate, is computed as the table computes it.
 * Negative coordinates use the floor of p / block as their anchor block, so the step index stays in
 * [0, block).
 */
#include <math.h>

#include "../cache/angle.h"
#include "../cache/axes.h"
#include "../cache/round.h"
#include "../core/alloc.h"
#include "fly.h"
#include "slot.h"

/* Coordinates up to this size take the anchor path: the anchor, at most `block` (<= 128) further
 * out, keeps its angle far below 2^46 rad for every frequency (the largest is theta^0 = 1). */
#define AXES_ANCHOR_LIMIT 0x1p40

rope_status rope_fly_axes_rows_make(const char *where, const rope_axes_config *c, const double *inv, size_t tokens,
                                    rope_isa isa, rope_fly_axes_rows *out) {
    out->n_axes = c->n_axes;
    out->attention = c->attention;
    int64_t off = 0;
    for (int a = 0; a < c->n_axes; a++) {
        out->offset[a] = off;
        rope_status st = rope_fly_freqs_of(where, inv + off, c->axes_dims[a] / 2, c->attention, -1, tokens, isa,
                                            &out->axis[a]);
        if (st != ROPE_OK) {
            while (a-- > 0) rope_fly_freqs_free(&out->axis[a]);
            return st;
        }
        off += c->axes_dims[a] / 2;
    }
    out->half = off;
    return ROPE_OK;
}

void rope_fly_axes_rows_free(rope_fly_axes_rows *r) {
    for (int a = 0; a < r->n_axes; a++) rope_fly_freqs_free(&r->axis[a]);
}

/* Axis a's values at coordinate v into the slot's block, at the axis's offset. */
static void axis_values(const rope_fly_axes_rows *r, int a, rope_cossin_slot *sl, double v, rope_dtype dt) {
    const rope_fly_freqs *f = &r->axis[a];
    const size_t off = (size_t)r->offset[a], half = (size_t)f->half;
    rope_fly_block b = sl->block; /* the axis's slice of the slot's block */
    b.half = half;
    b.ca = sl->ca + off;
    b.sa = sl->sa + off;
    b.lc += off;
    b.hc += off;
    b.ls += off;
    b.hs += off;
    b.cf += off;
    b.sf += off;
    b.ch += off;
    b.sh += off;
    b.bad += off;
    const double att = r->attention;
    if (v == 0.0) {
        /* Coordinate 0 (Flux's time axis for every image token): the angle of every pair is 0 * inv
         * (a zero of v's sign, whatever the positive frequency), so rope_angle_sincos_real gives
         * every pair the same values; the bracket below would leave each sin undecided (exact 0). */
        double c, s;
        rope_angle_sincos_real(v, f->inv[0], &c, &s);
        uint32_t bc = rope_round_cs(dt, c * att), bs = rope_round_cs(dt, s * att);
        for (size_t i = 0; i < half; i++) rope_fly_block_put(&b, dt, i, bc, bs);
        return;
    }
    uint32_t any = 1;
    if (f->block && v == floor(v) && fabs(v) < AXES_ANCHOR_LIMIT) {
        const int64_t p = (int64_t)v, blk = (int64_t)f->block;
        int64_t j = p % blk;
        if (j < 0) j += blk;
        const int64_t anchor = p - j;
        if (!sl->axis_anchored[a] || sl->axis_anchor[a] != anchor) {
            for (size_t i = 0; i < half; i++) rope_angle_sincos(anchor, f->inv[i], &sl->ca[off + i], &sl->sa[off + i]);
            sl->axis_anchor[a] = anchor;
            sl->axis_anchored[a] = 1;
        }
        b.ct = f->step + (size_t)j * 2 * half;
        b.st = b.ct + half;
        any = sl->values(&b, dt);
    } else { /* fractional (or huge): every value as the table computes it */
        for (size_t i = 0; i < half; i++) b.bad[i] = 1;
    }
    for (size_t i = 0; any && i < half; i++) {
        if (!b.bad[i]) continue;
        double c, s;
        rope_angle_sincos_real(v, f->inv[i], &c, &s);
        uint32_t bc = rope_round_cs(dt, c * att), bs = rope_round_cs(dt, s * att);
        rope_fly_block_put(&b, dt, i, bc, bs);
    }
}

void rope_fly_axes_rows_fill(const rope_cossin_source *src, const rope_kernel_shape *shape, rope_cossin_slot *sl,
                             size_t token, size_t n) {
    const rope_fly_axes_rows *r = src->axes;
    const rope_dtype dt = shape->cs_dtype;
    const size_t row_bytes = rope_cos_width(shape) * rope_dtype_bytes(dt), A = (size_t)r->n_axes;
    for (size_t i = 0; i < n; i++) {
        size_t row = (token + i) % r->rows;
        for (size_t a = 0; a < A; a++)
            axis_values(r, (int)a, sl, rope_axes_coordinate(r->positions, r->pos_dtype, row * A + a), dt);
        rope_fly_place_row(&sl->block, (size_t)r->half, shape, src->backward, (char *)sl->cos + i * row_bytes,
                           (char *)sl->sin + i * row_bytes);
    }
}
