/* SPDX-License-Identifier: MIT */
/*
 * The normalised rotation (kernel.h, rope_kernel_norm_fn: QK-norm + RoPE), written once for every
 * SIMD instruction set from the pieces of simd_paths.h (load, rotate, store) and the transform
 * below (the sum of squares in kernel.h's fixed order, the factor, the scale). An ISA file includes
 * simd_paths.h, then this header, then instantiates K_NORM_FAMILY per (x dtype, cos dtype). It may
 * define before either: K_SUM_TREE (the fixed tree in its registers, below) and K_VREGS (its vector
 * registers, 16 by default).
 */
#ifndef ROPE_SIMD_NORM_PATHS_H
#define ROPE_SIMD_NORM_PATHS_H

#include "simd_paths.h"

#define K_REG_HEAD 8 /* the whole-head path: up to 2 x 8 vectors of a head in registers */

/* The fixed tree of kernel.h over the ROPE_SQ_LANES partials held in ROPE_SQ_LANES / K_VL vectors
 * (vector u: partials [u*K_VL, (u+1)*K_VL)). An instruction set may define it in registers
 * (K_SUM_TREE: the same adds, operands in the same order); otherwise the partials go through the
 * stack to rope_sum_partials. */
#ifndef K_SUM_TREE
static ROPE_ALWAYS_INLINE float k_sum_tree(const kvec *acc) {
    float part[ROPE_SQ_LANES];
    for (size_t u = 0; u < ROPE_SQ_LANES / K_VL; u++) k_store(ROPE_F32, part, u * K_VL, acc[u], 0);
    return rope_sum_partials(part);
}
#endif

/* Transform, first half: the sum of squares of a head's n elements in kernel.h's fixed order. Vector
 * u of a run of ROPE_SQ_LANES / K_VL accumulators holds partials [u*K_VL, (u+1)*K_VL); the vector
 * starting at element i adds to partials i % 16 .. (the lanes of a partial load past n add +0, which
 * leaves a sum of squares unchanged). The accumulators are indexed by constants only (a loop over
 * NV at a time), so they stay in registers. */
static ROPE_ALWAYS_INLINE float k_sum_squares(rope_dtype xt, const void *xh, size_t n) {
    enum { NV = ROPE_SQ_LANES / K_VL };
    kvec acc[NV];
    for (size_t u = 0; u < NV; u++) acc[u] = k_set1(0.0f);
    size_t i = 0;
    for (; i + NV * K_VL <= n; i += NV * K_VL)
        for (size_t u = 0; u < NV; u++) {
            kvec x = k_load(xt, xh, i + u * K_VL);
            acc[u] = k_add(acc[u], k_mul(x, x));
        }
    for (size_t u = 0; u < NV && i < n; u++, i += K_VL) {
        kvec x = n - i >= K_VL ? k_load(xt, xh, i) : k_load_part(xt, xh, i, n - i);
        acc[u] = k_add(acc[u], k_mul(x, x));
    }
    return k_sum_tree(acc);
}

/* k_sum_squares of 4 heads at once (xh[0..4)), each with its own accumulators in the same order: one
 * head's adds form a chain of latency-bound steps (8 x 4 cycles at head_size 128), four chains
 * interleaved keep the adder busy (measured: the sums took a third of a call one head at a time). */
static ROPE_ALWAYS_INLINE void k_sum_squares4(rope_dtype xt, const char *const *xh, size_t n, float *sums) {
    enum { NV = ROPE_SQ_LANES / K_VL };
    kvec acc[4][NV];
    for (size_t hh = 0; hh < 4; hh++)
        for (size_t u = 0; u < NV; u++) acc[hh][u] = k_set1(0.0f);
    size_t i = 0;
    for (; i + NV * K_VL <= n; i += NV * K_VL)
        for (size_t u = 0; u < NV; u++)
            for (size_t hh = 0; hh < 4; hh++) {
                kvec x = k_load(xt, xh[hh], i + u * K_VL);
                acc[hh][u] = k_add(acc[hh][u], k_mul(x, x));
            }
    for (size_t u = 0; u < NV && i < n; u++, i += K_VL)
        for (size_t hh = 0; hh < 4; hh++) {
            kvec x = n - i >= K_VL ? k_load(xt, xh[hh], i) : k_load_part(xt, xh[hh], i, n - i);
            acc[hh][u] = k_add(acc[hh][u], k_mul(x, x));
        }
    for (size_t hh = 0; hh < 4; hh++) sums[hh] = k_sum_tree(acc[hh]);
}

/* The sum of squares of a head held in registers, NH vectors (NH >= ROPE_SQ_LANES / K_VL, a
 * constant): vector i adds to accumulator i % NV, in order. Each partial's first add is left out:
 * +0 + s is s for every square s (never -0; a NaN keeps its payload), so the sums are k_sum_squares'
 * bit for bit. */
static ROPE_ALWAYS_INLINE float k_sum_squares_regs(const kvec *xv, size_t NH) {
    enum { NV = ROPE_SQ_LANES / K_VL };
    kvec acc[NV];
    for (size_t u = 0; u < NV; u++) acc[u] = k_mul(xv[u], xv[u]);
    for (size_t i = NV; i < NH; i++) acc[i % NV] = k_add(acc[i % NV], k_mul(xv[i], xv[i]));
    return k_sum_tree(acc);
}

/* Transform, second half: lanes [i, i + n) of a head, loaded and scaled: x * (r * w). */
static ROPE_ALWAYS_INLINE kvec k_norm_load(rope_dtype xt, const void *xh, size_t i, size_t n, kvec r, const float *w) {
    if (n == K_VL) return k_mul(k_load(xt, xh, i), k_mul(r, k_load(ROPE_F32, w, i)));
    return k_mul(k_load_part(xt, xh, i, n), k_mul(r, k_load_part(ROPE_F32, w, i, n)));
}

static ROPE_ALWAYS_INLINE void k_store_n(rope_dtype xt, void *yh, size_t i, kvec v, size_t n) {
    if (n == K_VL) k_store(xt, yh, i, v, 0);
    else k_store_part(xt, yh, i, v, n);
}

/* The factors r of heads [h0, h0 + n) of a call, all computed before any of them is rotated: the
 * heads' sums are independent, so their loads (from DRAM at prefill) and their serial adds overlap
 * (four at a time), where one head at a time waited for each (4x slower, measured with rope bench
 * --op qknorm). */
enum { K_NORM_BATCH = 16 };

static ROPE_ALWAYS_INLINE void k_norm_factors(rope_dtype xt, const rope_kernel_shape *sh, const void *x, ptrdiff_t xhs,
                                              size_t n, size_t h0, float eps, float *rs) {
    float sums[K_NORM_BATCH];
    const char *xh[K_NORM_BATCH];
    for (size_t i = 0; i < n; i++) {
        xh[i] = (const char *)x + (ptrdiff_t)(h0 + i) * xhs * (ptrdiff_t)K_ES(xt);
        k_prefetch_ahead(xh[i], sh->head_size * K_ES(xt)); /* the data of a later batch (or token): from DRAM */
    }
    size_t i = 0;
    for (; i + 4 <= n; i += 4) k_sum_squares4(xt, xh + i, sh->head_size, sums + i);
    for (; i < n; i++) sums[i] = k_sum_squares(xt, xh[i], sh->head_size);
    for (size_t i = 0; i < n; i++) rs[i] = rope_rms_factor(sums[i], sh->head_size, eps);
}

/* Head h's factor (heads walked in order from 0) as a vector: at each batch's first head, the factors
 * of that batch (k_norm_factors) into rs, of K_NORM_BATCH floats. */
static ROPE_ALWAYS_INLINE kvec k_norm_factor_of(rope_dtype xt, const rope_kernel_shape *sh, const void *x, ptrdiff_t xhs,
                                                size_t heads, size_t h, float eps, float *rs) {
    if (h % K_NORM_BATCH == 0)
        k_norm_factors(xt, sh, x, xhs, heads - h < K_NORM_BATCH ? heads - h : K_NORM_BATCH, h, eps, rs);
    return k_set1(rs[h % K_NORM_BATCH]);
}


/* The tail [rot, head_size): the scaled values stored. */

static ROPE_ALWAYS_INLINE void k_norm_tail(rope_dtype xt, const rope_kernel_shape *sh, const void *xh, void *yh, kvec r,
                                           const float *w) {
    for (size_t i = sh->rot; i < sh->head_size; i += K_VL) {
        size_t n = sh->head_size - i < K_VL ? sh->head_size - i : K_VL;
        k_store_n(xt, yh, i, k_norm_load(xt, xh, i, n, r, w), n);
    }
}

/* Any pair stride (halves): each run of ps pairs a vector at a time, k_rows_blocked's walk with the
 * scaled loads. The whole head is read (sum of squares) before its first store. */
static ROPE_ALWAYS_INLINE void k_norm_blocked(rope_dtype xt, rope_dtype ct, const rope_kernel_shape *sh, const void *x,
                                              ptrdiff_t xhs, void *y, ptrdiff_t yhs, size_t heads, const void *cs,
                                              const void *sn, const float *w, float eps) {
    const size_t ps = sh->pair_stride, rot = sh->rot;
    float rs[K_NORM_BATCH];
    for (size_t h = 0; h < heads; h++) {
        k_head v = k_head_at(xt, ct, K_PASS, h);
        kvec r = k_norm_factor_of(xt, sh, x, xhs, heads, h, eps, rs);
        for (size_t g = 0; g < rot; g += 2 * ps) {
            for (size_t j = 0; j < ps; j += K_VL) {
                size_t n = ps - j < K_VL ? ps - j : K_VL, a = g + j, b = a + ps, c = g / 2 + j;
                kvec xa = k_norm_load(xt, v.x, a, n, r, w), xb = k_norm_load(xt, v.x, b, n, r, w);
                kvec ca = n == K_VL ? k_load(ct, v.cs, c) : k_load_part(ct, v.cs, c, n);
                kvec sa = n == K_VL ? k_load(ct, v.sn, c) : k_load_part(ct, v.sn, c, n);
                kvec ya, yb;
                k_rotate(xa, xb, ca, sa, ca, sa, &ya, &yb);
                k_store_n(xt, v.y, a, ya, n);
                k_store_n(xt, v.y, b, yb, n);
            }
        }
        k_norm_tail(xt, sh, v.x, v.y, r, w);
    }
}

/* k_norm_blocked when the heads share one cos/sin row (cs_step 0), rot = 2 ps and each half is R
 * whole vectors (R <= K_REG_MAX): the row's cos and sin and the weights of both halves stay in
 * registers across the call's heads (k_rows_blocked_regs's reason: a per-head setup for a few
 * iterations cost more than the work). Same operations per element as k_norm_blocked. */
static ROPE_ALWAYS_INLINE void k_norm_blocked_regs(rope_dtype xt, rope_dtype ct, size_t R, const rope_kernel_shape *sh,
                                                   const void *x, ptrdiff_t xhs, void *y, ptrdiff_t yhs, size_t heads,
                                                   const void *cs, const void *sn, const float *w, float eps) {
    const size_t ps = sh->pair_stride;
    const ptrdiff_t xstep = xhs * (ptrdiff_t)K_ES(xt), ystep = yhs * (ptrdiff_t)K_ES(xt);
    kvec ca[K_REG_MAX], sa[K_REG_MAX], wa[K_REG_MAX], wb[K_REG_MAX];
    for (size_t r = 0; r < R; r++) {
        ca[r] = k_load(ct, cs, r * K_VL), sa[r] = k_load(ct, sn, r * K_VL);
        wa[r] = k_load(ROPE_F32, w, r * K_VL), wb[r] = k_load(ROPE_F32, w, ps + r * K_VL);
    }
    float rs[K_NORM_BATCH];
    const char *xh = (const char *)x;
    char *yh = (char *)y;
    for (size_t h = 0; h < heads; h++, xh += xstep, yh += ystep) {
        kvec rv = k_norm_factor_of(xt, sh, x, xhs, heads, h, eps, rs);
        for (size_t r = 0; r < R; r++) {
            kvec xa = k_mul(k_load(xt, xh, r * K_VL), k_mul(rv, wa[r]));
            kvec xb = k_mul(k_load(xt, xh, ps + r * K_VL), k_mul(rv, wb[r]));
            kvec ya, yb;
            k_rotate(xa, xb, ca[r], sa[r], ca[r], sa[r], &ya, &yb);
            k_store(xt, yh, r * K_VL, ya, 0);
            k_store(xt, yh, ps + r * K_VL, yb, 0);
        }
        k_norm_tail(xt, sh, xh, yh, rv, w);
    }
}

/* The whole head in registers (rot = head_size = 2 ps, NH = head_size / K_VL vectors, a constant,
 * NH >= ROPE_SQ_LANES / K_VL): each head is loaded (and widened) once, its sum of squares formed from
 * those registers, then the same registers are scaled, rotated and stored, with no stack round trip
 * for the partials and no batch bookkeeping (k_norm_factors + k_norm_blocked_regs read each head
 * twice). Software-pipelined by one head: head h + 1 is loaded and its factor computed before head
 * h is rotated (two register sets taking turns, k_norm_head_regs below), so the serial part of a head (the sum's chain of adds, the division, square root
 * and division: about 100 cycles) overlaps the previous head's rotation instead of stalling it
 * (one head at a time, it was 1.3x slower in L2: the multiplies waiting for the factor filled the
 * scheduler). Two heads fit in registers when 2 NH + 8 <= K_VREGS (AVX-512 up to head_size 128);
 * otherwise the current head is read again from L1 for its rotation. cos, sin and the weights
 * are read from L1 per head (memory operands of the multiplies). Same operations per element as
 * k_norm_blocked. */
#ifndef K_VREGS
#define K_VREGS 16 /* vector registers of the instruction set */
#endif

/* One head of the whole-head path: loaded (prefetching a later one) and its factor. */
static ROPE_ALWAYS_INLINE float k_norm_head_load(rope_dtype xt, size_t NH, const char *xh, size_t hs, float eps,
                                                 kvec *xv) {
    k_prefetch_ahead(xh, hs * K_ES(xt)); /* a later head (or token): from DRAM at prefill */
    for (size_t i = 0; i < NH; i++) xv[i] = k_load(xt, xh, i * K_VL);
    return rope_rms_factor(k_sum_squares_regs(xv, NH), hs, eps);
}

/* The other part of a head: scaled by r * w, rotated with its row, stored. xv is re-read from xh
 * when the set cannot hold two heads (reload). */
static ROPE_ALWAYS_INLINE void k_norm_head_rotate(rope_dtype xt, rope_dtype ct, size_t NH, int reload, const char *xh,
                                                  char *yh, const void *c, const void *s, const float *w, float r,
                                                  kvec *xv) {
    const size_t R = NH / 2, ps = R * K_VL;
    if (reload)
        for (size_t i = 0; i < NH; i++) xv[i] = k_load(xt, xh, i * K_VL);
    kvec rv = k_set1(r);
    for (size_t i = 0; i < R; i++) {
        kvec xa = k_mul(xv[i], k_mul(rv, k_load(ROPE_F32, w, i * K_VL)));
        kvec xb = k_mul(xv[R + i], k_mul(rv, k_load(ROPE_F32, w, ps + i * K_VL)));
        kvec ca = k_load(ct, c, i * K_VL), sa = k_load(ct, s, i * K_VL);
        kvec ya, yb;
        k_rotate(xa, xb, ca, sa, ca, sa, &ya, &yb);
        k_store(xt, yh, i * K_VL, ya, 0);
        k_store(xt, yh, ps + i * K_VL, yb, 0);
    }
}

/* Two register sets, A and B, take turns (unrolled by two heads, so that no copy from one to the
 * other goes through the stack): while head h in A is rotated, head h + 1 is loaded into B. */
static ROPE_ALWAYS_INLINE void k_norm_head_regs(rope_dtype xt, rope_dtype ct, size_t NH, const rope_kernel_shape *sh,
                                                const void *x, ptrdiff_t xhs, void *y, ptrdiff_t yhs, size_t heads,
                                                const void *cs, const void *sn, const float *w, float eps) {
    const size_t hs = sh->head_size; /* a local: the stores could alias *sh, which kept it in memory */
    const int reload = 2 * NH + 8 > K_VREGS;
    const ptrdiff_t xstep = xhs * (ptrdiff_t)K_ES(xt), ystep = yhs * (ptrdiff_t)K_ES(xt);
    const ptrdiff_t cstep = sh->cs_step * (ptrdiff_t)K_ES(ct);
    const char *xh = (const char *)x, *c = (const char *)cs, *s = (const char *)sn;
    char *yh = (char *)y;
    kvec va[2 * K_REG_HEAD], vb[2 * K_REG_HEAD];
    /* Set before use on every path, which the compiler cannot see; all of both sets, since the
     * instantiations the caller's switch never reaches (2 NH below the partial sums' count: NEON's
     * NH 2) read past NH in k_sum_squares_regs and warn otherwise (cross gcc -Werror). */
    for (size_t i = 0; i < 2 * K_REG_HEAD; i++) {
        va[i] = k_set1(0.0f);
        vb[i] = k_set1(0.0f);
    }
    float ra = k_norm_head_load(xt, NH, xh, hs, eps, va), rb = 0.0f;
    for (size_t h = 0; h < heads; h += 2) {
        int more = h + 1 < heads;
        if (more) rb = k_norm_head_load(xt, NH, xh + xstep, hs, eps, vb);
        k_norm_head_rotate(xt, ct, NH, reload && h > 0, xh, yh, c, s, w, ra, va);
        if (!more) break;
        xh += xstep, yh += ystep, c += cstep, s += cstep;
        if (h + 2 < heads) ra = k_norm_head_load(xt, NH, xh + xstep, hs, eps, va);
        k_norm_head_rotate(xt, ct, NH, reload, xh, yh, c, s, w, rb, vb);
        xh += xstep, yh += ystep, c += cstep, s += cstep;
    }
}

/* k_norm_blocked with the register path where it applies. */
static ROPE_ALWAYS_INLINE void k_norm_blocked_heads(rope_dtype xt, rope_dtype ct, const rope_kernel_shape *sh,
                                                    const void *x, ptrdiff_t xhs, void *y, ptrdiff_t yhs, size_t heads,
                                                    const void *cs, const void *sn, const float *w, float eps) {
    size_t ps = sh->pair_stride, R = ps / K_VL;
    if (sh->rot == sh->head_size && sh->rot == 2 * ps && ps % K_VL == 0 && 2 * R >= ROPE_SQ_LANES / K_VL) {
        switch (R) { /* NH = 2R as a constant, so that the head stays in registers */
        case 1: k_norm_head_regs(xt, ct, 2, sh, x, xhs, y, yhs, heads, cs, sn, w, eps); return;
        case 2: k_norm_head_regs(xt, ct, 4, sh, x, xhs, y, yhs, heads, cs, sn, w, eps); return;
        case 3: k_norm_head_regs(xt, ct, 6, sh, x, xhs, y, yhs, heads, cs, sn, w, eps); return;
        case 4: k_norm_head_regs(xt, ct, 8, sh, x, xhs, y, yhs, heads, cs, sn, w, eps); return;
        case 6: k_norm_head_regs(xt, ct, 12, sh, x, xhs, y, yhs, heads, cs, sn, w, eps); return;
        case 8: k_norm_head_regs(xt, ct, 16, sh, x, xhs, y, yhs, heads, cs, sn, w, eps); return;
        default: break;
        }
    }
    if (heads > 1 && sh->cs_step == 0 && sh->rot == 2 * ps && ps % K_VL == 0) {
        switch (R) { /* R as a constant, so that the vectors stay in registers */
        case 1: k_norm_blocked_regs(xt, ct, 1, sh, x, xhs, y, yhs, heads, cs, sn, w, eps); return;
        case 2: k_norm_blocked_regs(xt, ct, 2, sh, x, xhs, y, yhs, heads, cs, sn, w, eps); return;
        case 3: k_norm_blocked_regs(xt, ct, 3, sh, x, xhs, y, yhs, heads, cs, sn, w, eps); return;
        case 4: k_norm_blocked_regs(xt, ct, 4, sh, x, xhs, y, yhs, heads, cs, sn, w, eps); return;
        default: break;
        }
    }
    k_norm_blocked(xt, ct, sh, x, xhs, y, yhs, heads, cs, sn, w, eps);
}

/* Adjacent pairs (GPT-J, ps 1): k_rows_pairs's walk with the scaled loads. */
static ROPE_ALWAYS_INLINE void k_norm_pairs(rope_dtype xt, rope_dtype ct, const rope_kernel_shape *sh, const void *x,
                                            ptrdiff_t xhs, void *y, ptrdiff_t yhs, size_t heads, const void *cs,
                                            const void *sn, const float *w, float eps) {
    const size_t rot = sh->rot;
    float rs[K_NORM_BATCH];
    for (size_t h = 0; h < heads; h++) {
        k_head v = k_head_at(xt, ct, K_PASS, h);
        kvec r = k_norm_factor_of(xt, sh, x, xhs, heads, h, eps, rs);
        for (size_t i = 0; i < rot; i += K_VL) {
            size_t n = rot - i < K_VL ? rot - i : K_VL;
            kvec c, s;
            k_pairs_cs(ct, 0, v.cs, v.sn, i, n, &c, &s);
            k_store_n(xt, v.y, i, k_pairs_apply(k_norm_load(xt, v.x, i, n, r, w), c, s, 1), n);
        }
        k_norm_tail(xt, sh, v.x, v.y, r, w);
    }
}

#define K_NORM_ARGS K_ARGS, const float *w, float eps
#define K_NORM_PASS K_PASS, w, eps

/* The normalised kernels of one (x dtype, cos dtype) combination, as listed: [0] any pair stride
 * (halves), [1] adjacent pairs. */
typedef struct k_norm_family {
    rope_kernel_info by_pairing[2];
} k_norm_family;

#define K_NORM_INFO(name, variant, xt, ct, path, ps)                                                                   \
    {                                                                                                                  \
        K_STR(K_NORM_NAME(name, variant)), ROPE_KERNEL_NORM, K_SET_ISA, K_CPU_HAS, xt, ct, path, 0, ps, NULL,          \
            K_NORM_NAME(name, variant), NULL                                                                           \
    }

/* K_NORM_FAMILY(name, xt, ct) defines norm_<name> and its kernels
 * rope_kernel_norm_<name>_blocked_half__<isa> and _pairs_half_ps1__<isa> (name: <x>_cos<c>). */
#define K_NORM_FAMILY(name, xt, ct)                                                                                    \
    K_NOINLINE static void K_NORM_NAME(name, blocked_half)(K_NORM_ARGS) { k_norm_blocked_heads(xt, ct, K_NORM_PASS); } \
    K_NOINLINE static void K_NORM_NAME(name, pairs_half_ps1)(K_NORM_ARGS) { k_norm_pairs(xt, ct, K_NORM_PASS); }       \
    static const k_norm_family norm_##name = {{K_NORM_INFO(name, blocked_half, xt, ct, ROPE_PATH_BLOCKED, 0),          \
                                               K_NORM_INFO(name, pairs_half_ps1, xt, ct, ROPE_PATH_PAIRS, 1)}}

/* One row of an instruction set's table of normalised kernels. */
typedef struct k_norm_entry {
    rope_dtype x_dtype, cs_dtype;
    const k_norm_family *family;
} k_norm_entry;

static inline rope_kernel_norm_fn k_select_norm(const k_norm_entry *table, size_t n, const rope_kernel_shape *sh) {
    if (sh->cos_full) return NULL;
    for (size_t i = 0; i < n; i++)
        if (table[i].x_dtype == sh->x_dtype && table[i].cs_dtype == sh->cs_dtype)
            return table[i].family->by_pairing[sh->pair_stride == 1 ? 1 : 0].norm;
    return NULL;
}

/* Entry *i of a set's list (kernel.h, kernel_at): the rotation families' kernels in table order, then
 * the normalised ones', then `store` (NULL: none). Past the last, NULL, with *i reduced by the number
 * of entries (so that a set may list another file's kernels after its own). */
static inline const rope_kernel_info *k_kernel_at(const k_entry *table, size_t n, const k_norm_entry *norm_table,
                                                  size_t n_norm, const rope_kernel_info *store, size_t *i) {
    for (size_t r = 0; r < n; r++)
        for (size_t l = 0; l < K_LAYOUT_COUNT; l++) {
            const rope_kernel_info *k = &table[r].family->by_layout[l];
            if (!k->rot) continue;
            if (*i == 0) return k;
            --*i;
        }
    for (size_t r = 0; r < n_norm; r++)
        for (size_t l = 0; l < 2; l++) {
            if (*i == 0) return &norm_table[r].family->by_pairing[l];
            --*i;
        }
    if (store) {
        if (*i == 0) return store;
        --*i;
    }
    return NULL;
}

#endif
