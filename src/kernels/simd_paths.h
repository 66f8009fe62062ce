/* SPDX-License-Identifier: MIT */
/*
 * The pair layouts of kernel.h, written once for every SIMD instruction set.
 *
 * An ISA file defines a float32 vector type and a handful of primitives, then includes this header,
 * which builds the kernels from them. Every kernel computes, lane by lane, exactly what the portable
 * kernel computes element by element, in the same order:
 *     pa = xa*ca, qa = xb*sa, pb = xa*sb, qb = xb*cb;  y[a] = pa - qa,  y[b] = pb + qb
 * (separate multiplies, never fused; each operation with its operands in the scalar order), and
 * narrows with the same round-to-nearest-even conversions. So every result is bitwise the portable
 * one, NaN payloads included where a single NaN flows through; where two NaNs meet in one operation,
 * which payload survives is left open by IEEE 754 (and compilers commute * and +), so only NaN-ness
 * is guaranteed there.
 *
 * Primitives the including file defines (all static, inlined; t is a compile-time dtype):
 *   K_VL                       lanes of `kvec` (float32)
 *   kvec k_load(t, p, i)       K_VL elements p[i .. i+K_VL) widened to float32
 *   kvec k_load_part(t, p, i, n)   n (1..K_VL-1) elements; other lanes zero; nothing else is touched
 *   kvec k_load_dup(t, p, i)   K_VL/2 elements p[i ..], each twice: c0 c0 c1 c1 ...
 *   kvec k_load_dup_part(t, p, i, n)   the same for the first n lanes (n even), reading n/2 elements
 *   void k_store(t, p, i, v, nt)       K_VL elements, rounded to t; streaming when nt and aligned
 *   void k_store_part(t, p, i, v, n)   n (1..K_VL-1) elements; nothing else is touched
 *   void k_store_pair(t, p, ia, ya, ib, yb, nt)   optional (K_STORE_PAIR): k_store of ya at ia and
 *                              yb at ib, where narrowing both at once is cheaper (AVX-512 bf16)
 *   kvec k_mul / k_add / k_sub(a, b)   one IEEE operation per lane, operands in this order
 *   kvec k_partner(v, ps)      ps a power of two < K_VL: lane l gets lane l+ps (l%(2ps) < ps) or l-ps
 *   kvec k_pick(ya, yb, ps)    lanes with l%(2ps) < ps from ya, the others from yb
 *   void k_prefetch(uintptr_t a)   hints that the line at address a will be read (never faults)
 *   kvec k_set1(float v)       v in every lane
 *   K_REG                      the inline-asm constraint of a vector register ("x", "v", "w")
 * and optionally (K_DEINT defined: adjacent pairs split, k_rows_deint):
 *   void k_load_deint(t, p, i, &a, &b)     2*K_VL elements p[i ..]: even ones widened into a, odd into b
 *   void k_store_int(t, p, i, a, b, nt)    the inverse: a and b narrowed, interleaved, stored
 *
 * The normalised rotation (QK-norm + RoPE) is built from these pieces in simd_norm_paths.h, which
 * an ISA file includes after this header.
 */
#ifndef ROPE_SIMD_PATHS_H
#define ROPE_SIMD_PATHS_H

#include <stdint.h>
#include <string.h>

#include "../core/internal.h"
#include "kernel.h"

#define K_ES(t) ((t) == ROPE_F32 ? (size_t)4 : (size_t)2)
#define K_CAT2(a, b) a##b
#define K_CAT(a, b) K_CAT2(a, b)

/* The parameters of rope_kernel_fn, and passing them on. */
#define K_ARGS                                                                                               \
    const rope_kernel_shape *sh, const void *x, ptrdiff_t xhs, void *y, ptrdiff_t yhs, size_t heads,         \
        const void *cs, const void *sn
#define K_PASS sh, x, xhs, y, yhs, heads, cs, sn

/* Hides how a vector was computed from the optimiser. LLVM treats the sign of a NaN as unspecified
 * and turns select(lanes, p - q, q + p) into p + select(lanes, -q, q): equal for numbers, but a NaN
 * coming from q then changes sign. The empty asm (K_REG: the ISA's vector register constraint) makes
 * each result an opaque value, so the subtraction and the addition stay as written. */
#if defined(__GNUC__) || defined(__clang__)
#define K_OPAQUE(v) __asm__("" : "+" K_REG(v))
#else
#define K_OPAQUE(v) ((void)0)
#endif

#if !defined(K_STORE_PAIR)
static ROPE_ALWAYS_INLINE void k_store_pair(rope_dtype t, void *p, size_t ia, kvec ya, size_t ib, kvec yb, int nt) {
    k_store(t, p, ia, ya, nt);
    k_store(t, p, ib, yb, nt);
}
#endif

/* ---- The pieces: load (k_load*), rotate (k_rotate, k_pairs_apply), store (k_store*, k_store_pair);
 * the transform of the normalised kernels (k_sum_squares, k_norm_load) is in simd_norm_paths.h. The
 * kernels, plain and normalised, are compositions of them, so they share one rounding recipe. ---- */

/* Rotate: (ya, yb) from the pair vectors (xa, xb) and their cos/sin vectors, in the scalar order:
 * pa = xa*ca, qa = xb*sa, pb = xa*sb, qb = xb*cb;  ya = pa - qa,  yb = pb + qb. */
static ROPE_ALWAYS_INLINE void k_rotate(kvec xa, kvec xb, kvec ca, kvec sa, kvec cb, kvec sb, kvec *ya, kvec *yb) {
    *ya = k_sub(k_mul(xa, ca), k_mul(xb, sa));
    *yb = k_add(k_mul(xa, sb), k_mul(xb, cb));
}

/* y[a] and y[b] for n pairs (n == K_VL: whole vectors) at element offsets ia, ib, with cos/sin at
 * ca_i, cb_i (equal when the cache holds one value per pair). All loads come before the stores, so
 * y may be x. */
static ROPE_ALWAYS_INLINE void k_block(rope_dtype xt, rope_dtype ct, int full, const void *xh, void *yh, size_t ia,
                                       size_t ib, const void *cs, const void *sn, size_t ca_i, size_t cb_i,
                                       size_t n, int nt) {
    kvec xa, xb, ca, sa, cb, sb;
    if (n == K_VL) {
        xa = k_load(xt, xh, ia), xb = k_load(xt, xh, ib);
        ca = k_load(ct, cs, ca_i), sa = k_load(ct, sn, ca_i);
        if (full) cb = k_load(ct, cs, cb_i), sb = k_load(ct, sn, cb_i);
        else cb = ca, sb = sa;
    } else {
        xa = k_load_part(xt, xh, ia, n), xb = k_load_part(xt, xh, ib, n);
        ca = k_load_part(ct, cs, ca_i, n), sa = k_load_part(ct, sn, ca_i, n);
        if (full) cb = k_load_part(ct, cs, cb_i, n), sb = k_load_part(ct, sn, cb_i, n);
        else cb = ca, sb = sa;
    }
    kvec ya, yb;
    k_rotate(xa, xb, ca, sa, cb, sb, &ya, &yb);
    if (n == K_VL) {
        k_store_pair(xt, yh, ia, ya, ib, yb, nt);
    } else {
        k_store_part(xt, yh, ia, ya, n);
        k_store_part(xt, yh, ib, yb, n);
    }
}

/* Elements [rot, head_size) of every head are copied bit for bit (NaN payloads included), as the
 * portable kernel does, after the rotation, which runs in a separate leaf function (K_FAMILY): with
 * a library call in the same function the rotation loop's state moves to the stack and its frame is
 * realigned, and it ran slower (docs/PERFORMANCE.md, "Kernels"). */
static void k_copy_span(size_t es, K_ARGS, ptrdiff_t from, size_t n) {
    (void)sh, (void)cs, (void)sn;
    for (size_t h = 0; h < heads; h++)
        memcpy((char *)y + ((ptrdiff_t)h * yhs + from) * (ptrdiff_t)es,
               (const char *)x + ((ptrdiff_t)h * xhs + from) * (ptrdiff_t)es, n * es);
}

/* The copied parts: the tail (with `split`, from pair_stride + rot/2, and the gap [rot/2,
 * pair_stride) between the halves' rotated runs) and the `lead` elements before the head. */
static void k_finish(size_t es, K_ARGS) {
    if (x == y) return; /* in place, the copied parts are already there */
    size_t half = sh->rot / 2, from = sh->split ? sh->pair_stride + half : sh->rot;
    if (sh->head_size > from) k_copy_span(es, K_PASS, (ptrdiff_t)from, sh->head_size - from);
    if (sh->split && sh->pair_stride > half) k_copy_span(es, K_PASS, (ptrdiff_t)half, sh->pair_stride - half);
    if (sh->lead) k_copy_span(es, K_PASS, -(ptrdiff_t)sh->lead, sh->lead);
}

#if defined(__GNUC__) || defined(__clang__)
#define K_NOINLINE __attribute__((noinline))
#else
#define K_NOINLINE
#endif

/*
 * Streaming jobs (nontemporal: outputs far beyond the last-level cache) read their input from DRAM,
 * where the hardware prefetchers alone do not keep a thread busy; the input is prefetched 4 KiB
 * ahead of each head vector (docs/PERFORMANCE.md, "Kernels"). The inputs of these jobs run on linearly in memory past
 * the call (the next token's rows, the next tokens of a head), so the address ahead is the data
 * of a later call; it is computed as an integer because it may lie outside the call's tensors, and
 * a prefetch never faults nor changes results.
 */
#define K_PF_AHEAD 4096

static ROPE_ALWAYS_INLINE void k_prefetch_ahead(const void *xh, size_t bytes) {
    for (size_t o = 0; o < bytes; o += 64) k_prefetch((uintptr_t)xh + K_PF_AHEAD + o);
}

/* Head vector h of a call: its input x, output y, and cos/sin rows cs, sn (the call's row, or the
 * h-th one cs_step elements apart). */
typedef struct k_head {
    const char *x;
    char *y;
    const void *cs, *sn;
} k_head;

static ROPE_ALWAYS_INLINE k_head k_head_at(rope_dtype xt, rope_dtype ct, K_ARGS, size_t h) {
    (void)heads;
    k_head v;
    v.x = (const char *)x + (ptrdiff_t)h * xhs * (ptrdiff_t)K_ES(xt);
    v.y = (char *)y + (ptrdiff_t)h * yhs * (ptrdiff_t)K_ES(xt);
    v.cs = (const char *)cs + (ptrdiff_t)h * sh->cs_step * (ptrdiff_t)K_ES(ct);
    v.sn = (const char *)sn + (ptrdiff_t)h * sh->cs_step * (ptrdiff_t)K_ES(ct);
    return v;
}

/*
 * Any ps: each group [g, g + 2ps) is two runs of ps elements, a = g + j and b = g + ps + j, walked a
 * vector at a time with a partial vector for ps % K_VL. cos/sin run along with them: from index g
 * (cos_full, element-indexed) or g/2 (one value per pair, p = g/2 + j). Best for ps >= K_VL (ONNX
 * halves, ATB rotary_coeff 2 and 4); correct for every ps.
 */
static ROPE_ALWAYS_INLINE void k_rows_blocked(rope_dtype xt, rope_dtype ct, int full, const rope_kernel_shape *sh,
                                              const void *x, ptrdiff_t xhs, void *y, ptrdiff_t yhs, size_t heads,
                                              const void *cs, const void *sn) {
    const size_t ps = sh->pair_stride, rot = sh->rot;
    const int nt = sh->nontemporal;
    for (size_t h = 0; h < heads; h++) {
        k_head v = k_head_at(xt, ct, K_PASS, h);
        if (nt) k_prefetch_ahead(v.x, sh->head_size * K_ES(xt));
        for (size_t g = 0; g < rot; g += 2 * ps) {
            size_t c0 = full ? g : g / 2, c1 = full ? g + ps : g / 2;
            size_t j = 0;
            for (; j + K_VL <= ps; j += K_VL)
                k_block(xt, ct, full, v.x, v.y, g + j, g + ps + j, v.cs, v.sn, c0 + j, c1 + j, K_VL, nt);
            if (j < ps) k_block(xt, ct, full, v.x, v.y, g + j, g + ps + j, v.cs, v.sn, c0 + j, c1 + j, ps - j, 0);
        }
    }
}

/*
 * k_rows_blocked when every head of the call shares one cos/sin row (cs_step 0, heads > 1: a
 * token's heads) and it fits in registers: one group (rot = 2 ps) of R whole vectors per half.
 * The row's R cos and sin vectors are loaded once per call and every head is a straight run of
 * R blocks: the general loop paid, per head, a setup for only a few iterations. Heads stay in
 * memory order (walking heads innermost was slower on ATB prefill, whose rows come from L3;
 * docs/PERFORMANCE.md, "Kernels"). The arithmetic per element is k_block's, in the same order.
 */
#define K_REG_MAX 4 /* vectors per half held in registers (x2 for cos and sin, x2 again when full) */

static ROPE_ALWAYS_INLINE void k_rows_blocked_regs(rope_dtype xt, rope_dtype ct, int full, size_t R,
                                                   const rope_kernel_shape *sh, const void *x, ptrdiff_t xhs,
                                                   void *y, ptrdiff_t yhs, size_t heads, const void *cs,
                                                   const void *sn) {
    const size_t ps = sh->pair_stride;
    const ptrdiff_t xstep = xhs * (ptrdiff_t)K_ES(xt), ystep = yhs * (ptrdiff_t)K_ES(xt);
    const int nt = sh->nontemporal;
    kvec ca[K_REG_MAX], sa[K_REG_MAX], cb[K_REG_MAX], sb[K_REG_MAX];
    for (size_t r = 0; r < R; r++) {
        ca[r] = k_load(ct, cs, r * K_VL), sa[r] = k_load(ct, sn, r * K_VL);
        cb[r] = ca[r], sb[r] = sa[r];
        if (full) cb[r] = k_load(ct, cs, ps + r * K_VL), sb[r] = k_load(ct, sn, ps + r * K_VL);
    }
    const char *xh = (const char *)x;
    char *yh = (char *)y;
    for (size_t h = 0; h < heads; h++, xh += xstep, yh += ystep) {
        if (nt) k_prefetch_ahead(xh, sh->head_size * K_ES(xt));
        for (size_t r = 0; r < R; r++) {
            kvec xa = k_load(xt, xh, r * K_VL), xb = k_load(xt, xh, ps + r * K_VL);
            kvec ya, yb;
            k_rotate(xa, xb, ca[r], sa[r], cb[r], sb[r], &ya, &yb);
            k_store_pair(xt, yh, r * K_VL, ya, ps + r * K_VL, yb, nt);
        }
    }
}

/*
 * k_rows_blocked when one group of R whole vectors per half (rot = 2 ps, R = ps / K_VL a constant)
 * and the rows move cs_step along (one head over a run of tokens, the engine's tiles) or a single
 * head: each head vector is a straight run of R blocks, the pointers stepped. The general loop's
 * per-head setup (group and remainder loops, the head's addresses by multiplication, state spilled
 * to the stack) cost about as many instructions as the 4 blocks of a 128-element head
 * (docs/PERFORMANCE.md, "16-bit prefill"). Same operations per element as k_block.
 */
static ROPE_ALWAYS_INLINE void k_rows_blocked_run(rope_dtype xt, rope_dtype ct, int full, size_t R,
                                                  const rope_kernel_shape *sh, const void *x, ptrdiff_t xhs,
                                                  void *y, ptrdiff_t yhs, size_t heads, const void *cs,
                                                  const void *sn) {
    const size_t ps = R * K_VL, hs = sh->head_size; /* locals: the stores could alias *sh */
    const ptrdiff_t xstep = xhs * (ptrdiff_t)K_ES(xt), ystep = yhs * (ptrdiff_t)K_ES(xt);
    const ptrdiff_t cstep = sh->cs_step * (ptrdiff_t)K_ES(ct);
    const int nt = sh->nontemporal;
    const char *xh = (const char *)x, *c = (const char *)cs, *s = (const char *)sn;
    char *yh = (char *)y;
    for (size_t h = 0; h < heads; h++, xh += xstep, yh += ystep, c += cstep, s += cstep) {
        if (nt) k_prefetch_ahead(xh, hs * K_ES(xt));
        for (size_t r = 0; r < R; r++) {
            kvec xa = k_load(xt, xh, r * K_VL), xb = k_load(xt, xh, ps + r * K_VL);
            kvec ca = k_load(ct, c, r * K_VL), sa = k_load(ct, s, r * K_VL), cb = ca, sb = sa;
            if (full) cb = k_load(ct, c, ps + r * K_VL), sb = k_load(ct, s, ps + r * K_VL);
            kvec ya, yb;
            k_rotate(xa, xb, ca, sa, cb, sb, &ya, &yb);
            k_store(xt, yh, r * K_VL, ya, nt);
            k_store(xt, yh, ps + r * K_VL, yb, nt);
        }
    }
}

/* k_rows_blocked for a call of several heads, with the register path where it applies. */
static ROPE_ALWAYS_INLINE void k_rows_blocked_heads(rope_dtype xt, rope_dtype ct, int full,
                                                    const rope_kernel_shape *sh, const void *x, ptrdiff_t xhs,
                                                    void *y, ptrdiff_t yhs, size_t heads, const void *cs,
                                                    const void *sn) {
    size_t ps = sh->pair_stride, R = ps / K_VL;
    if (heads > 1 && sh->cs_step == 0 && sh->rot == 2 * ps && ps % K_VL == 0) {
        /* R as a constant, so that the vectors stay in registers */
        switch (R) {
        case 1: k_rows_blocked_regs(xt, ct, full, 1, K_PASS); return;
        case 2: k_rows_blocked_regs(xt, ct, full, 2, K_PASS); return;
        case 3: k_rows_blocked_regs(xt, ct, full, 3, K_PASS); return;
        case 4: k_rows_blocked_regs(xt, ct, full, 4, K_PASS); return;
        default: break;
        }
    }
    if (sh->rot == 2 * ps && ps % K_VL == 0) {
        switch (R) { /* R as a constant: a straight run of blocks per head */
        case 1: k_rows_blocked_run(xt, ct, full, 1, K_PASS); return;
        case 2: k_rows_blocked_run(xt, ct, full, 2, K_PASS); return;
        case 3: k_rows_blocked_run(xt, ct, full, 3, K_PASS); return;
        case 4: k_rows_blocked_run(xt, ct, full, 4, K_PASS); return;
        case 8: k_rows_blocked_run(xt, ct, full, 8, K_PASS); return;
        default: break;
        }
    }
    k_rows_blocked(xt, ct, full, K_PASS);
}

/* The split layout (kernel.h): one group of rot/2 pairs (j, pair_stride + j), a vector at a time;
 * cos/sin from index j (half width), or j and rot/2 + j (full width). */
static ROPE_ALWAYS_INLINE void k_rows_split(rope_dtype xt, rope_dtype ct, int full, K_ARGS) {
    const size_t ps = sh->pair_stride, half = sh->rot / 2, cb0 = full ? half : 0;
    const int nt = sh->nontemporal;
    for (size_t h = 0; h < heads; h++) {
        k_head v = k_head_at(xt, ct, K_PASS, h);
        if (nt) k_prefetch_ahead(v.x, sh->head_size * K_ES(xt));
        size_t j = 0;
        for (; j + K_VL <= half; j += K_VL)
            k_block(xt, ct, full, v.x, v.y, j, ps + j, v.cs, v.sn, j, cb0 + j, K_VL, nt);
        if (j < half) k_block(xt, ct, full, v.x, v.y, j, ps + j, v.cs, v.sn, j, cb0 + j, half - j, 0);
    }
}

/* The element-indexed cos/sin vectors (c, s) of lanes [i, i + n) of a head: loaded (full), or one
 * value per pair duplicated onto both lanes (ps == 1). */
static ROPE_ALWAYS_INLINE void k_pairs_cs(rope_dtype ct, int full, const void *cs, const void *sn, size_t i, size_t n,
                                          kvec *c, kvec *s) {
    if (n == K_VL) {
        if (full) *c = k_load(ct, cs, i), *s = k_load(ct, sn, i);
        else *c = k_load_dup(ct, cs, i / 2), *s = k_load_dup(ct, sn, i / 2);
    } else {
        if (full) *c = k_load_part(ct, cs, i, n), *s = k_load_part(ct, sn, i, n);
        else *c = k_load_dup_part(ct, cs, i / 2, n), *s = k_load_dup_part(ct, sn, i / 2, n);
    }
}

/* Rotate, for pairs inside one vector: lanes a and b = a + ps of xv with their element-indexed
 * cos/sin vectors. */
static ROPE_ALWAYS_INLINE kvec k_pairs_apply(kvec xv, kvec c, kvec s, size_t ps) {
    /* Lane a: p = xa*ca, q = xb*sa, y = p - q.  Lane b: p = xb*cb (the scalar qb), q = xa*sb (the
     * scalar pb), y = q + p: the scalar pb + qb with its operands in order. */
    kvec p = k_mul(xv, c), q = k_mul(k_partner(xv, ps), s);
    kvec ya = k_sub(p, q), yb = k_add(q, p);
    K_OPAQUE(ya);
    K_OPAQUE(yb);
    return k_pick(ya, yb, ps);
}

/* Lanes [i, i + n) of a head, given their cos/sin vectors. */
static ROPE_ALWAYS_INLINE void k_pairs_rot(rope_dtype xt, size_t ps, const void *xh, void *yh, size_t i, kvec c,
                                           kvec s, size_t n, int nt) {
    kvec xv = n == K_VL ? k_load(xt, xh, i) : k_load_part(xt, xh, i, n);
    kvec yv = k_pairs_apply(xv, c, s, ps);
    if (n == K_VL) k_store(xt, yh, i, yv, nt);
    else k_store_part(xt, yh, i, yv, n);
}

static ROPE_ALWAYS_INLINE void k_pairs_vec(rope_dtype xt, rope_dtype ct, int full, size_t ps, const void *xh,
                                           void *yh, size_t i, const void *cs, const void *sn, size_t n, int nt) {
    kvec c, s;
    k_pairs_cs(ct, full, cs, sn, i, n, &c, &s);
    k_pairs_rot(xt, ps, xh, yh, i, c, s, n, nt);
}

/* ps a power of two below K_VL (adjacent pairs ps = 1; ATB rotary_coeff 4 on narrow chunks):
 * vectors start at multiples of K_VL, which are multiples of 2ps, so no pair straddles two vectors;
 * the last, partial vector holds whole groups because rot is a multiple of 2ps. */
static ROPE_ALWAYS_INLINE void k_rows_pairs(rope_dtype xt, rope_dtype ct, int full, size_t ps,
                                            const rope_kernel_shape *sh, const void *x, ptrdiff_t xhs, void *y,
                                            ptrdiff_t yhs, size_t heads, const void *cs, const void *sn) {
    const size_t rot = sh->rot;
    const int nt = sh->nontemporal;
    for (size_t h = 0; h < heads; h++) {
        k_head v = k_head_at(xt, ct, K_PASS, h);
        if (nt) k_prefetch_ahead(v.x, sh->head_size * K_ES(xt));
        size_t i = 0;
        for (; i + K_VL <= rot; i += K_VL) k_pairs_vec(xt, ct, full, ps, v.x, v.y, i, v.cs, v.sn, K_VL, nt);
        if (i < rot) k_pairs_vec(xt, ct, full, ps, v.x, v.y, i, v.cs, v.sn, rot - i, 0);
    }
}

/*
 * When the heads of a call share one cos/sin row (cs_step 0), the row is turned
 * into float32 once per call, on the stack, instead of once per head: widened when it is f16 /
 * bf16, and for ps == 1 with one value per pair also duplicated onto both elements of the pair
 * (c0 c0 c1 c1 ...), which makes it an element-indexed row (cos_full) over the same values. The
 * conversions are exact, so the results are those of the direct path.
 */
#define K_PREP_MAX 512 /* floats per row: 4 KiB of stack for cos and sin */

static ROPE_ALWAYS_INLINE void k_prep(rope_dtype ct, const void *src, float *buf, size_t n, int dup) {
    size_t i = 0;
    for (; i + K_VL <= n; i += K_VL)
        k_store(ROPE_F32, buf, i, dup ? k_load_dup(ct, src, i / 2) : k_load(ct, src, i), 0);
    if (i < n) { /* n - i is even when dup: n = rot, i a multiple of K_VL */
        size_t m = n - i;
        k_store_part(ROPE_F32, buf, i, dup ? k_load_dup_part(ct, src, i / 2, m) : k_load_part(ct, src, i, m), m);
    }
}

#define K_ARGS_OF(cs_, sn_) sh, x, xhs, y, yhs, heads, cs_, sn_

static ROPE_ALWAYS_INLINE void k_run_blocked(rope_dtype xt, rope_dtype ct, int full, K_ARGS) {
    size_t cn = full ? sh->rot : sh->rot / 2;
    if (ct != ROPE_F32 && heads > 1 && cn <= K_PREP_MAX && sh->cs_step == 0) {
        float cb[K_PREP_MAX], sb[K_PREP_MAX];
        k_prep(ct, cs, cb, cn, 0);
        k_prep(ct, sn, sb, cn, 0);
        k_rows_blocked_heads(xt, ROPE_F32, full, K_ARGS_OF(cb, sb));
    } else {
        k_rows_blocked_heads(xt, ct, full, K_PASS);
    }
}

#if defined(K_DEINT)
/*
 * Adjacent pairs with one cos/sin value per pair (ps 1, half width), for sets that define
 * k_load_deint / k_store_int: 2*K_VL elements at a time, split into their even (a) and odd (b)
 * elements, rotated as halves are (k_rotate: the same products and adds, in the same order), and
 * interleaved again on the store; the pairs' cos/sin are then K_VL consecutive values, read as they
 * are. The in-vector path (k_pairs_apply) duplicated each cos/sin value onto both lanes of its pair
 * and shuffled every vector's partner and blend: twice the lane moves per element, which bound
 * ONNX interleaved prefill (docs/PERFORMANCE.md, "16-bit prefill"). The rest of rot (below 2*K_VL)
 * takes that path.
 */
static ROPE_ALWAYS_INLINE void k_deint_block(rope_dtype xt, rope_dtype ct, const char *xh, char *yh, const void *c,
                                             const void *s, size_t i, int nt) {
    kvec xa, xb, ya, yb;
    k_load_deint(xt, xh, i, &xa, &xb);
    kvec cv = k_load(ct, c, i / 2), sv = k_load(ct, s, i / 2);
    k_rotate(xa, xb, cv, sv, cv, sv, &ya, &yb);
    k_store_int(xt, yh, i, ya, yb, nt);
}

/* N = rot / (2 K_VL) blocks per head, the rest of rot through k_pairs_vec; N as a constant (1..8)
 * makes each head a straight run with its pointers stepped (k_rows_blocked_run's reason), 0 loops. */
static ROPE_ALWAYS_INLINE void k_rows_deint_n(rope_dtype xt, rope_dtype ct, size_t N, K_ARGS) {
    const size_t rot = sh->rot, hs = sh->head_size;
    const int nt = sh->nontemporal;
    const ptrdiff_t xstep = xhs * (ptrdiff_t)K_ES(xt), ystep = yhs * (ptrdiff_t)K_ES(xt);
    const ptrdiff_t cstep = sh->cs_step * (ptrdiff_t)K_ES(ct);
    const size_t whole = N ? 2 * K_VL * N : rot - rot % (2 * K_VL);
    const char *xh = (const char *)x, *c = (const char *)cs, *s = (const char *)sn;
    char *yh = (char *)y;
    for (size_t h = 0; h < heads; h++, xh += xstep, yh += ystep, c += cstep, s += cstep) {
        if (nt) k_prefetch_ahead(xh, hs * K_ES(xt));
        for (size_t i = 0; i < whole; i += 2 * K_VL) k_deint_block(xt, ct, xh, yh, c, s, i, nt);
        size_t i = whole;
        for (; i + K_VL <= rot; i += K_VL) k_pairs_vec(xt, ct, 0, 1, xh, yh, i, c, s, K_VL, nt);
        if (i < rot) k_pairs_vec(xt, ct, 0, 1, xh, yh, i, c, s, rot - i, 0);
    }
}

static ROPE_ALWAYS_INLINE void k_rows_deint(rope_dtype xt, rope_dtype ct, K_ARGS) {
    if (sh->rot % (2 * K_VL) == 0) {
        switch (sh->rot / (2 * K_VL)) {
        case 1: k_rows_deint_n(xt, ct, 1, K_PASS); return;
        case 2: k_rows_deint_n(xt, ct, 2, K_PASS); return;
        case 4: k_rows_deint_n(xt, ct, 4, K_PASS); return;
        case 8: k_rows_deint_n(xt, ct, 8, K_PASS); return;
        default: break;
        }
    }
    k_rows_deint_n(xt, ct, 0, K_PASS);
}

/* The heads of a token sharing one row: the row widened once per call (k_prep), not duplicated. */
static ROPE_ALWAYS_INLINE void k_run_deint(rope_dtype xt, rope_dtype ct, K_ARGS) {
    size_t cn = sh->rot / 2;
    if (ct != ROPE_F32 && heads > 1 && cn <= K_PREP_MAX && sh->cs_step == 0) {
        float cb[K_PREP_MAX], sb[K_PREP_MAX];
        k_prep(ct, cs, cb, cn, 0);
        k_prep(ct, sn, sb, cn, 0);
        k_rows_deint(xt, ROPE_F32, K_ARGS_OF(cb, sb));
    } else {
        k_rows_deint(xt, ct, K_PASS);
    }
}
#endif

static ROPE_ALWAYS_INLINE void k_run_pairs(rope_dtype xt, rope_dtype ct, int full, size_t ps, K_ARGS) {
#if defined(K_DEINT)
    if (!full) { /* adjacent pairs, one value per pair (the only half-width pairs layout) */
        k_run_deint(xt, ct, K_PASS);
        return;
    }
#endif
    if ((!full || ct != ROPE_F32) && heads > 1 && sh->rot <= K_PREP_MAX && sh->cs_step == 0) {
        float cb[K_PREP_MAX], sb[K_PREP_MAX];
        k_prep(ct, cs, cb, sh->rot, !full);
        k_prep(ct, sn, sb, sh->rot, !full);
        k_rows_pairs(xt, ROPE_F32, 1, ps, K_ARGS_OF(cb, sb));
    } else {
        k_rows_pairs(xt, ct, full, ps, K_PASS);
    }
}

/* The paths of a family: blocked (any pair stride) and pairs (a pair stride that is a power of two
 * below K_VL, as a constant so that k_partner / k_pick become single instructions), each for
 * half-width (one cos per pair) and full-width (one cos per element) rows. */
typedef enum k_layout {
    K_BLOCKED_HALF,
    K_BLOCKED_FULL,
    K_PAIRS_HALF,     /* pair stride 1 (adjacent pairs) */
    K_PAIRS_FULL_PS1, /* full width, pair stride 1, 2, 4, 8 */
    K_PAIRS_FULL_PS2,
    K_PAIRS_FULL_PS4,
    K_PAIRS_FULL_PS8,
    K_SPLIT_HALF,     /* the split layout (kernel.h), half and full width */
    K_SPLIT_FULL,
    K_LAYOUT_COUNT
} k_layout;

/* The kernels of one (x dtype, cos dtype) combination, one per layout, as listed (kernel.h,
 * rope_kernel_info); rot NULL where the instruction set has none (a pair stride of K_VL or more
 * never takes a pairs path). Selection (k_select) and the set's list (k_kernel_at) both read it. */
typedef struct k_family {
    rope_kernel_info by_layout[K_LAYOUT_COUNT];
} k_family;

/* Kernel names (kernel.h's scheme): rope_kernel_rot_<name>_<variant>__<isa>, with K_ISA (defined by
 * the including file) after the double underscore; K_SET_ISA and K_CPU_HAS (also the including
 * file's) are the rope_isa that lists the kernels and the CPU test they need. */
#define K_STR2(a) #a
#define K_STR(a) K_STR2(a)
#define K_ROT_NAME(name, variant) K_CAT(rope_kernel_rot_##name##_##variant##__, K_ISA)
#define K_NORM_NAME(name, variant) K_CAT(rope_kernel_norm_##name##_##variant##__, K_ISA)

/* One rotation kernel: the rotation (the arguments after xt) in the leaf <kernel>_loop, kept out of
 * line (k_copy_span says why), then the copied parts. */
#define K_ROT_KERNEL(name, variant, xt, ...)                                                                 \
    K_NOINLINE static void K_CAT(K_ROT_NAME(name, variant), _loop)(K_ARGS) { __VA_ARGS__; }                  \
    static void K_ROT_NAME(name, variant)(K_ARGS) {                                                          \
        K_CAT(K_ROT_NAME(name, variant), _loop)(K_PASS);                                                     \
        k_finish(K_ES(xt), K_PASS);                                                                          \
    }

/* Its list entry; `has` 0 leaves the entry empty (a layout the vector width rules out). */
#define K_ROT_INFO(name, variant, xt, ct, path, full, ps, has)                                               \
    {(has) ? K_STR(K_ROT_NAME(name, variant)) : NULL, ROPE_KERNEL_ROT, K_SET_ISA, K_CPU_HAS, xt, ct, path,    \
     full, ps, (has) ? K_ROT_NAME(name, variant) : NULL, NULL, NULL}

/* K_FAMILY(name, xt, ct) defines `name`, the k_family of x dtype xt and cos dtype ct (name is
 * <x>_cos<c>, e.g. f16_cosf32), and its kernels rope_kernel_rot_<name>_blocked_half__<isa>,
 * _blocked_full, _pairs_half_ps1, _pairs_full_ps1 .. _ps8, _split_half and _split_full. */
#define K_FAMILY(name, xt, ct)                                                                               \
    K_ROT_KERNEL(name, blocked_half, xt, k_run_blocked(xt, ct, 0, K_PASS))                                   \
    K_ROT_KERNEL(name, blocked_full, xt, k_run_blocked(xt, ct, 1, K_PASS))                                   \
    K_ROT_KERNEL(name, pairs_half_ps1, xt, k_run_pairs(xt, ct, 0, 1, K_PASS))                                \
    K_ROT_KERNEL(name, pairs_full_ps1, xt, k_run_pairs(xt, ct, 1, 1, K_PASS))                                \
    K_ROT_KERNEL(name, pairs_full_ps2, xt, k_run_pairs(xt, ct, 1, 2, K_PASS))                                \
    K_ROT_KERNEL(name, pairs_full_ps4, xt, k_run_pairs(xt, ct, 1, 4, K_PASS))                                \
    K_ROT_KERNEL(name, pairs_full_ps8, xt, k_run_pairs(xt, ct, 1, 8, K_PASS))                                \
    K_ROT_KERNEL(name, split_half, xt, k_rows_split(xt, ct, 0, K_PASS))                                      \
    K_ROT_KERNEL(name, split_full, xt, k_rows_split(xt, ct, 1, K_PASS))                                      \
    static const k_family name = {{                                                                          \
        K_ROT_INFO(name, blocked_half, xt, ct, ROPE_PATH_BLOCKED, 0, 0, 1),                                  \
        K_ROT_INFO(name, blocked_full, xt, ct, ROPE_PATH_BLOCKED, 1, 0, 1),                                  \
        K_ROT_INFO(name, pairs_half_ps1, xt, ct, ROPE_PATH_PAIRS, 0, 1, 1),                                  \
        K_ROT_INFO(name, pairs_full_ps1, xt, ct, ROPE_PATH_PAIRS, 1, 1, 1),                                  \
        K_ROT_INFO(name, pairs_full_ps2, xt, ct, ROPE_PATH_PAIRS, 1, 2, 1),                                  \
        K_ROT_INFO(name, pairs_full_ps4, xt, ct, ROPE_PATH_PAIRS, 1, 4, K_VL > 4),                           \
        K_ROT_INFO(name, pairs_full_ps8, xt, ct, ROPE_PATH_PAIRS, 1, 8, K_VL > 8),                           \
        K_ROT_INFO(name, split_half, xt, ct, ROPE_PATH_SPLIT, 0, 0, 1),                                      \
        K_ROT_INFO(name, split_full, xt, ct, ROPE_PATH_SPLIT, 1, 0, 1)}}

/* The store piece's list entry (fn: the set's rope_kernel_store__<isa>). */
#define K_STORE_INFO(fn)                                                                                     \
    {K_STR(fn), ROPE_KERNEL_STORE, K_SET_ISA, K_CPU_HAS, ROPE_DTYPE_INVALID, ROPE_DTYPE_INVALID, ROPE_PATH_ANY, \
     0, 0, NULL, NULL, fn}

/* The layout that serves `sh`: a pairs path when the pair stride is a power of two below K_VL (for
 * half-width rows only stride 1, adjacent pairs), else blocked. */
static inline k_layout k_layout_of(const rope_kernel_shape *sh) {
    size_t ps = sh->pair_stride;
    int full = sh->cos_full != 0;
    if (sh->split) return full ? K_SPLIT_FULL : K_SPLIT_HALF;
    if (ps >= K_VL || (ps & (ps - 1)) != 0 || (!full && ps != 1)) return full ? K_BLOCKED_FULL : K_BLOCKED_HALF;
    if (!full) return K_PAIRS_HALF;
    return ps == 1 ? K_PAIRS_FULL_PS1 : ps == 2 ? K_PAIRS_FULL_PS2 : ps == 4 ? K_PAIRS_FULL_PS4 : K_PAIRS_FULL_PS8;
}

/* One row of an instruction set's selection table. */
typedef struct k_entry {
    rope_dtype x_dtype, cs_dtype;
    const k_family *family;
} k_entry;

#define K_COUNT(table) (sizeof(table) / sizeof((table)[0]))

/* The kernel of `table` for `sh`; NULL when the table has no row for its dtypes or no kernel for its
 * layout (the caller then uses the portable kernel). */
static inline rope_kernel_fn k_select(const k_entry *table, size_t n, const rope_kernel_shape *sh) {
    for (size_t i = 0; i < n; i++)
        if (table[i].x_dtype == sh->x_dtype && table[i].cs_dtype == sh->cs_dtype)
            return table[i].family->by_layout[k_layout_of(sh)].rot;
    return NULL;
}


#endif
