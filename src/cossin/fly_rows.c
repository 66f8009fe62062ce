/* SPDX-License-Identifier: MIT */
/*
 * Rows computed on the fly: attention * cos/sin(position * inv_freq[i]), rounded to the cos dtype
 * exactly as rope_cache_fill rounds (cache/round.h), so results are bitwise the cached operator's.
 *
 * Fast and still bitwise the cache's. rope_cache_fill rounds w = rope_angle_sincos(p, inv) (about
 * 30 ns each as a call; the angle block, fly_values.h, does 8 at a time with AVX-512) once to the cos
 * dtype. Evaluating that per (token, pair) would cost a prefill more than the rotation itself, so
 * positions are split p = P + j with P a multiple of `block`: cos/sin(P * inv) (the anchor) comes
 * from the angle block once per block of consecutive positions, cos/sin(j * inv) from a per-call
 * table, and one complex product gives
 *     v = ca*ct - sa*st   (cos),   sa*ct + ca*st   (sin).
 * Both factors are within a few float64 ulps of the exact values, so |v - w| <= K * 2^-53 * T with
 * T = |ca*ct| + |sa*st| (the size of the terms, which bounds the cancellation's absolute error) and
 * K around 20 (3k + 2 for factors within k ulps): about 2^-48.7. tests/cossin/test_fly_bound.c
 * measures |v - w| / T (2^-50.6 at worst over its random cases) and requires it below 2^-48.
 * The rounding is monotone, so when v - SLACK*T and v + SLACK*T (SLACK = 2^-44, 16 times 2^-48)
 * round to the same value, w rounds to it too: that value is the cache's, bit for bit. Otherwise (a
 * value within 2^-44 relative of a float32 rounding boundary, a few in a million; for float16 /
 * bfloat16 also a float32 result next to a narrow rounding decision, about 1 in 1,600 / 13,000, and
 * float16 subnormals) the value is computed as the cache computes it: each costs one more
 * rope_angle_sincos. For j = 0 with an exact anchor, v is rope_angle_sincos(P) itself.
 *
 * Scattered positions (batched decode) change anchor at almost every token: when the call has
 * enough tokens, anchors come instead from per-call digit tables (fly.h: cos/sin of d * block^k for
 * each digit d of P / block in base `block`), one entry (exact) or the complex product of its
 * nonzero digits' entries. A product is accurate absolutely (a few 2^-50), not relatively, so its
 * brackets add ROPE_FLY_SLACK_PRODUCT (2^-40; test_fly_bound.c measures 2^-50.4 at worst): values
 * within that of zero or of a rounding boundary are computed as the cache computes them.
 *
 * The check, in passes the compiler vectorizes (fly_values.h). lo = fl(fl(v - d) * att) and hi =
 * fl(fl(v + d) * att) bracket the cache's u = fl(w * att). When lo and hi round to the same float32 g
 * (same bit pattern, so zeros of both signs are told apart), float32 rounding of u gives g: that is
 * the f32 result. The f16 / bf16 path first rounds u to odd in float32 (round.h), which then gives g
 * or a neighbour of g; when g's low bits are not within one unit of a rounding decision of the narrow
 * format, all three round to the same narrow value, which is then the cache's. Anything else (rare)
 * is computed as the cache computes it.
 */
#include <stdlib.h>
#include <string.h>

#include "../cache/angle.h"
#include "../core/alloc.h"
#include "../cache/round.h"
#include "fly.h"
#include "slot.h"

/* Positions per anchor block: the square root of the token count balances the table (block angles
 * per pair, once per call) against the anchors (one per block of consecutive positions), at a power
 * of two in [16, 128]. Few tokens: no table, each value computed as the cache computes it. */
static size_t block_for(size_t tokens) {
    if (tokens < 32) return 0;
    size_t b = 16;
    while (b < 128 && b * b < tokens) b *= 2;
    return b;
}

/* The digit tables' levels for anchors up to max_pos: the base-`block` digits of max_pos / block, when
 * their tables (levels * block angle blocks, once per call) cost less than an angle block per token,
 * the worst case of scattered positions; 0 otherwise (few tokens: anchors from the angle block). */
static size_t levels_for(size_t block, int64_t max_pos, size_t tokens) {
    if (!block || max_pos < (int64_t)block) return 0;
    size_t levels = 0;
    for (uint64_t n = (uint64_t)max_pos / block; n; n /= block) levels++;
    return levels * block < tokens ? levels : 0;
}

rope_status rope_fly_freqs_of(const char *where, const double *inv, int64_t half_in, double attention,
                              int64_t max_pos, size_t tokens, rope_isa isa, rope_fly_freqs *out) {
    size_t half = (size_t)half_in, block = block_for(tokens), levels = levels_for(block, max_pos, tokens);
    size_t rows = 2 * block + 2 * levels * block + 1; /* inv, the step table, the digit tables */
    if (half > SIZE_MAX / sizeof(double) / rows)
        return rope_fail(ROPE_ERROR_OUT_OF_MEMORY, where, "rotary_dim %lld: frequency tables too large",
                         (long long)(2 * half_in));
    double *mem = rope_malloc(half * rows * sizeof(double) + 1);
    if (!mem) return rope_fail(ROPE_ERROR_OUT_OF_MEMORY, where, "cannot allocate %zu frequency values", half);
    for (size_t i = 0; i < half; i++) mem[i] = inv[i];
    double *step = mem + half;
    out->sincos = rope_fly_sincos_for(isa);
    out->cmul = rope_fly_cmul_for(isa);
    for (size_t j = 0; j < block; j++) out->sincos((int64_t)j, mem, half, &step[j * 2 * half], &step[j * 2 * half + half]);
    double *level = step + 2 * block * half;
    int64_t unit = (int64_t)block; /* block^(k+1) <= max_pos */
    for (size_t k = 0; k < levels; k++, unit *= (int64_t)block) {
        /* the top level only up to max_pos's digit: every anchor's digit is at most that, and the
         * entries above it could lie past the accurate angles */
        int64_t top = k + 1 < levels ? (int64_t)block - 1 : max_pos / unit;
        for (int64_t d = 0; d <= top; d++) {
            double *row = level + (k * block + (size_t)d) * 2 * half;
            out->sincos(d * unit, mem, half, row, row + half);
        }
    }
    out->levels = levels;
    out->level = level;
    out->mem = mem;
    out->half = (int64_t)half;
    out->inv = mem;
    out->attention = attention;
    out->block = block;
    out->step = step;
    return ROPE_OK;
}

rope_status rope_fly_freqs_make(const char *where, const rope_freq_plan *plan, int64_t max_pos, size_t tokens,
                                rope_isa isa, rope_fly_freqs *out) {
    size_t half = (size_t)(plan->dim / 2);
    double *inv = rope_malloc(half * sizeof(double) + 1);
    if (!inv) return rope_fail(ROPE_ERROR_OUT_OF_MEMORY, where, "cannot allocate %zu frequency values", half);
    double max_inv = 0;
    rope_status st = rope_freq_plan_fill(where, plan, inv, &max_inv);
    if (st == ROPE_OK && max_pos >= 0) st = rope_angle_check(where, "fly->positions: ", max_pos, max_inv);
    if (st == ROPE_OK) st = rope_fly_freqs_of(where, inv, (int64_t)half, plan->attention, max_pos, tokens, isa, out);
    rope_free(inv);
    return st;
}

void rope_fly_freqs_free(rope_fly_freqs *f) {
    rope_free(f->mem);
    f->mem = NULL;
}

/* Pair i's values from the exact cos and sin (times attention), rounded as rope_cache_fill rounds. */
static void put_exact(rope_fly_block *b, size_t i, rope_dtype dt, double c, double s) {
    uint32_t bc = rope_round_cs(dt, c), bs = rope_round_cs(dt, s);
    rope_fly_block_put(b, dt, i, bc, bs);
}

/* cos/sin(anchor * inv[i]) into ca / sa: from the angle block, or from the digit tables (one entry
 * as it is, several multiplied as complex numbers). Returns 1 for a product, whose error is absolute
 * (ROPE_FLY_SLACK_PRODUCT). */
static int anchor_values(const rope_fly_freqs *f, int64_t anchor, double *ca, double *sa) {
    const size_t half = (size_t)f->half, block = f->block;
    if (!f->levels) {
        f->sincos(anchor, f->inv, half, ca, sa);
        return 0;
    }
    int factors = 0;
    /* n has at most `levels` digits (anchor <= max_pos); a zero digit is the factor 1 */
    uint64_t n = (uint64_t)anchor / block;
    for (size_t k = 0; n; k++, n /= block) {
        size_t d = n % block;
        if (!d) continue;
        const double *c = f->level + (k * block + d) * 2 * half, *s = c + half;
        if (!factors++) {
            memcpy(ca, c, half * sizeof *ca);
            memcpy(sa, s, half * sizeof *sa);
            continue;
        }
        f->cmul(half, ca, sa, c, s);
    }
    if (!factors) { /* anchor 0: digit 0's entry, cos/sin(0) */
        memcpy(ca, f->level, half * sizeof *ca);
        memcpy(sa, f->level + half, half * sizeof *sa);
    }
    return factors > 1;
}

/* The cos/sin of every pair at position p, rounded as rope_cache_fill rounds them, into the slot's
 * block: cf / sf (f32) or ch / sh (f16, bf16 patterns). */
static void fly_values(const rope_fly_freqs *f, rope_cossin_slot *sl, int64_t p, rope_dtype dt) {
    const size_t half = (size_t)f->half;
    const double att = f->attention;
    rope_fly_block *b = &sl->block;
    if (!f->block) { /* no table: every value as the cache computes it, into the anchor's place */
        f->sincos(p, f->inv, half, sl->ca, sl->sa);
        sl->anchor = -1;
        for (size_t i = 0; i < half; i++) put_exact(b, i, dt, sl->ca[i] * att, sl->sa[i] * att);
        return;
    }
    int64_t j = p % (int64_t)f->block, anchor = p - j;
    if (anchor != sl->anchor) {
        b->slack_abs = anchor_values(f, anchor, sl->ca, sl->sa) ? ROPE_FLY_SLACK_PRODUCT : ROPE_FLY_SLACK_ABS;
        sl->anchor = anchor;
    }
    b->ct = f->step + (size_t)j * 2 * half;
    b->st = b->ct + half;
    uint32_t any = sl->values(b, dt);
    for (size_t i = 0; any && i < half; i++) {
        if (!b->bad[i]) continue;
        double c, s;
        rope_angle_sincos(p, f->inv[i], &c, &s);
        put_exact(b, i, dt, c * att, s * att);
    }
}

void rope_fly_values_at(const rope_cossin_source *src, rope_cossin_slot *sl, int64_t p, rope_dtype dt) {
    fly_values(src->fly, sl, p, dt);
}

void rope_fly_place_row(const rope_fly_block *b, size_t half, const rope_kernel_shape *shape, int neg, void *out_c,
                        void *out_s) {
    rope_dtype dt = shape->cs_dtype;
    int full = shape->cos_full;
    size_t ps = full ? rope_cos_pair_stride(shape) : half; /* half width: one run */
    if (dt == ROPE_F32) {
        float *oc = out_c, *os = out_s;
        for (size_t g = 0; g < half; g += ps) {
            float *c0 = oc + (full ? 2 * g : g), *s0 = os + (full ? 2 * g : g);
            const float *cf = b->cf + g, *sf = b->sf + g;
            for (size_t j = 0; j < ps; j++) c0[j] = cf[j], s0[j] = neg ? -sf[j] : sf[j];
            if (full)
                for (size_t j = 0; j < ps; j++) c0[ps + j] = c0[j], s0[ps + j] = s0[j];
        }
    } else {
        uint16_t *oc = out_c, *os = out_s, sign = neg ? 0x8000u : 0u;
        for (size_t g = 0; g < half; g += ps) {
            uint16_t *c0 = oc + (full ? 2 * g : g), *s0 = os + (full ? 2 * g : g);
            const uint16_t *ch = b->ch + g, *sh = b->sh + g;
            for (size_t j = 0; j < ps; j++) c0[j] = ch[j], s0[j] = (uint16_t)(sh[j] ^ sign);
            if (full)
                for (size_t j = 0; j < ps; j++) c0[ps + j] = c0[j], s0[ps + j] = s0[j];
        }
    }
}

void rope_fly_row(const rope_cossin_source *src, const rope_kernel_shape *shape, rope_cossin_slot *sl,
                  int64_t p, void *out_c, void *out_s) {
    const rope_fly_freqs *f = src->fly;
    fly_values(f, sl, p, shape->cs_dtype);
    rope_fly_place_row(&sl->block, (size_t)f->half, shape, src->backward, out_c, out_s);
}
