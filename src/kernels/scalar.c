/* SPDX-License-Identifier: MIT */
/* The portable kernel: the reference every instruction-set kernel is compared with, bit for bit. */
#include "../core/convert.h"
#include "../core/internal.h"
#include "kernel.h"

static ROPE_ALWAYS_INLINE float load(rope_dtype t, const void *p, size_t i) {
    switch (t) {
    case ROPE_F16: return rope_f16_to_f32_inline(((const uint16_t *)p)[i]);
    case ROPE_BF16: return rope_bf16_to_f32_inline(((const uint16_t *)p)[i]);
    default: return ((const float *)p)[i];
    }
}

static ROPE_ALWAYS_INLINE void store(rope_dtype t, void *p, size_t i, float v) {
    switch (t) {
    case ROPE_F16: ((uint16_t *)p)[i] = rope_f32_to_f16_inline(v); break;
    case ROPE_BF16: ((uint16_t *)p)[i] = rope_f32_to_bf16_inline(v); break;
    default: ((float *)p)[i] = v; break;
    }
}

/* The element-wise copy keeps the bits of x exactly, NaN payloads included. */
static ROPE_ALWAYS_INLINE void copy_tail(rope_dtype t, const void *x, void *y, size_t from, size_t to) {
    size_t es = t == ROPE_F32 ? 4 : 2;
    if (x != y && to > from) memmove((char *)y + from * es, (const char *)x + from * es, (to - from) * es);
}

/* The pair (a, b) with cos/sin at ca_i (a) and cb_i (b; the same index for half-width rows). */
static ROPE_ALWAYS_INLINE void rotate_pair(rope_dtype xt, rope_dtype ct, const void *xh, void *yh, size_t a, size_t b,
                                           const void *cs, const void *sn, size_t ca_i, size_t cb_i) {
    float xa = load(xt, xh, a), xb = load(xt, xh, b);
    float ca = load(ct, cs, ca_i), sa = load(ct, sn, ca_i);
    float cb = load(ct, cs, cb_i), sb = load(ct, sn, cb_i);
    float pa = xa * ca, qa = xb * sa;
    float pb = xa * sb, qb = xb * cb;
    store(xt, yh, a, pa - qa);
    store(xt, yh, b, pb + qb);
}

static ROPE_ALWAYS_INLINE void rotate_rows(rope_dtype xt, rope_dtype ct, int cos_full, const rope_kernel_shape *sh,
                                           const void *x, ptrdiff_t xhs, void *y, ptrdiff_t yhs, size_t heads,
                                           const void *cs, const void *sn) {
    size_t es = xt == ROPE_F32 ? 4 : 2;
    size_t ps = sh->pair_stride, rot = sh->rot, half = rot / 2;
    ptrdiff_t cstep = sh->cs_step * (ptrdiff_t)(ct == ROPE_F32 ? 4 : 2);
    const void *cs0 = cs, *sn0 = sn;
    for (size_t h = 0; h < heads; h++) {
        const void *xh = (const char *)x + (ptrdiff_t)h * xhs * (ptrdiff_t)es;
        void *yh = (char *)y + (ptrdiff_t)h * yhs * (ptrdiff_t)es;
        cs = (const char *)cs0 + (ptrdiff_t)h * cstep;
        sn = (const char *)sn0 + (ptrdiff_t)h * cstep;
        if (sh->split) { /* one group: (j, ps + j) for j < rot/2 */
            for (size_t j = 0; j < half; j++)
                rotate_pair(xt, ct, xh, yh, j, ps + j, cs, sn, j, cos_full ? half + j : j);
            copy_tail(xt, xh, yh, half, ps);
            copy_tail(xt, xh, yh, ps + half, sh->head_size);
        } else {
            for (size_t g = 0; g < rot; g += 2 * ps) {
                for (size_t j = 0; j < ps; j++) {
                    size_t a = g + j, b = a + ps, p = g / 2 + j;
                    rotate_pair(xt, ct, xh, yh, a, b, cs, sn, cos_full ? a : p, cos_full ? b : p);
                }
            }
            copy_tail(xt, xh, yh, rot, sh->head_size);
        }
        if (sh->lead) { /* the elements before the head's rotated start (vLLM rope_dim_offset) */
            const char *xl = (const char *)xh - (ptrdiff_t)(sh->lead * es);
            copy_tail(xt, xl, (char *)yh - (ptrdiff_t)(sh->lead * es), 0, sh->lead);
        }
    }
}

#define ROPE_SCALAR_KERNEL(name, xt, ct, full)                                                              \
    static void name(const rope_kernel_shape *sh, const void *x, ptrdiff_t xhs, void *y, ptrdiff_t yhs,     \
                     size_t heads, const void *cs, const void *sn) {                                        \
        rotate_rows(xt, ct, full, sh, x, xhs, y, yhs, heads, cs, sn);                                       \
    }

ROPE_SCALAR_KERNEL(f32_f32_half, ROPE_F32, ROPE_F32, 0)
ROPE_SCALAR_KERNEL(f32_f32_full, ROPE_F32, ROPE_F32, 1)
ROPE_SCALAR_KERNEL(f16_f16_half, ROPE_F16, ROPE_F16, 0)
ROPE_SCALAR_KERNEL(f16_f16_full, ROPE_F16, ROPE_F16, 1)
ROPE_SCALAR_KERNEL(f16_f32_half, ROPE_F16, ROPE_F32, 0)
ROPE_SCALAR_KERNEL(f16_f32_full, ROPE_F16, ROPE_F32, 1)
ROPE_SCALAR_KERNEL(bf16_bf16_half, ROPE_BF16, ROPE_BF16, 0)
ROPE_SCALAR_KERNEL(bf16_bf16_full, ROPE_BF16, ROPE_BF16, 1)
ROPE_SCALAR_KERNEL(bf16_f32_half, ROPE_BF16, ROPE_F32, 0)
ROPE_SCALAR_KERNEL(bf16_f32_full, ROPE_BF16, ROPE_F32, 1)

/* The normalised rotation (kernel.h), element by element: the reference of every other instruction
 * set's. Load (widen), transform (the sum of squares in ROPE_SQ_LANES partials, then
 * x * (r * weight)), rotate (the products and adds of rotate_rows), store (one rounding). */
static ROPE_ALWAYS_INLINE float sum_squares(rope_dtype xt, const void *xh, size_t n) {
    float part[ROPE_SQ_LANES] = {0};
    for (size_t i = 0; i < n; i++) {
        float v = load(xt, xh, i);
        float sq = v * v;
        part[i % ROPE_SQ_LANES] = part[i % ROPE_SQ_LANES] + sq;
    }
    return rope_sum_partials(part);
}

static ROPE_ALWAYS_INLINE float normed(rope_dtype xt, const void *xh, size_t i, float r, const float *w) {
    float rw = r * w[i];
    return load(xt, xh, i) * rw;
}

static ROPE_ALWAYS_INLINE void norm_rows(rope_dtype xt, rope_dtype ct, const rope_kernel_shape *sh, const void *x,
                                         ptrdiff_t xhs, void *y, ptrdiff_t yhs, size_t heads, const void *cs,
                                         const void *sn, const float *w, float eps) {
    size_t es = xt == ROPE_F32 ? 4 : 2;
    size_t ps = sh->pair_stride, rot = sh->rot, hs = sh->head_size;
    ptrdiff_t cstep = sh->cs_step * (ptrdiff_t)(ct == ROPE_F32 ? 4 : 2);
    for (size_t h = 0; h < heads; h++) {
        const void *xh = (const char *)x + (ptrdiff_t)h * xhs * (ptrdiff_t)es;
        void *yh = (char *)y + (ptrdiff_t)h * yhs * (ptrdiff_t)es;
        const void *c = (const char *)cs + (ptrdiff_t)h * cstep, *s = (const char *)sn + (ptrdiff_t)h * cstep;
        float r = rope_rms_factor(sum_squares(xt, xh, hs), hs, eps); /* the whole head is read first */
        for (size_t g = 0; g < rot; g += 2 * ps) {
            for (size_t j = 0; j < ps; j++) {
                size_t a = g + j, b = a + ps, p = g / 2 + j;
                float xa = normed(xt, xh, a, r, w), xb = normed(xt, xh, b, r, w);
                float ca = load(ct, c, p), sa = load(ct, s, p);
                float pa = xa * ca, qa = xb * sa;
                float pb = xa * sa, qb = xb * ca;
                store(xt, yh, a, pa - qa);
                store(xt, yh, b, pb + qb);
            }
        }
        for (size_t i = rot; i < hs; i++) store(xt, yh, i, normed(xt, xh, i, r, w));
    }
}

#define ROPE_SCALAR_NORM_KERNEL(name, xt, ct)                                                               \
    static void name(const rope_kernel_shape *sh, const void *x, ptrdiff_t xhs, void *y, ptrdiff_t yhs,     \
                     size_t heads, const void *cs, const void *sn, const float *w, float eps) {             \
        norm_rows(xt, ct, sh, x, xhs, y, yhs, heads, cs, sn, w, eps);                                        \
    }

ROPE_SCALAR_NORM_KERNEL(scalar_norm_f32_f32, ROPE_F32, ROPE_F32)
ROPE_SCALAR_NORM_KERNEL(scalar_norm_f16_f16, ROPE_F16, ROPE_F16)
ROPE_SCALAR_NORM_KERNEL(scalar_norm_f16_f32, ROPE_F16, ROPE_F32)
ROPE_SCALAR_NORM_KERNEL(scalar_norm_bf16_bf16, ROPE_BF16, ROPE_BF16)
ROPE_SCALAR_NORM_KERNEL(scalar_norm_bf16_f32, ROPE_BF16, ROPE_F32)

static rope_kernel_norm_fn scalar_select_norm(const rope_kernel_shape *sh) {
    if (sh->cos_full) return NULL; /* one cos per pair only (the vLLM cache) */
    switch (sh->x_dtype) {
    case ROPE_F32: return sh->cs_dtype == ROPE_F32 ? scalar_norm_f32_f32 : NULL;
    case ROPE_F16: return sh->cs_dtype == ROPE_F16 ? scalar_norm_f16_f16 : sh->cs_dtype == ROPE_F32 ? scalar_norm_f16_f32 : NULL;
    case ROPE_BF16:
        return sh->cs_dtype == ROPE_BF16 ? scalar_norm_bf16_bf16 : sh->cs_dtype == ROPE_F32 ? scalar_norm_bf16_f32 : NULL;
    default: return NULL;
    }
}

static rope_kernel_fn scalar_select(const rope_kernel_shape *sh) {
    int full = sh->cos_full != 0;
    switch (sh->x_dtype) {
    case ROPE_F32:
        if (sh->cs_dtype == ROPE_F32) return full ? f32_f32_full : f32_f32_half;
        break;
    case ROPE_F16:
        if (sh->cs_dtype == ROPE_F16) return full ? f16_f16_full : f16_f16_half;
        if (sh->cs_dtype == ROPE_F32) return full ? f16_f32_full : f16_f32_half;
        break;
    case ROPE_BF16:
        if (sh->cs_dtype == ROPE_BF16) return full ? bf16_bf16_full : bf16_bf16_half;
        if (sh->cs_dtype == ROPE_F32) return full ? bf16_f32_full : bf16_f32_half;
        break;
    default: break;
    }
    return NULL;
}

static int scalar_cpu_has(void) { return 1; }

const rope_kernel_set rope_kernels_scalar = {ROPE_ISA_SCALAR, scalar_cpu_has, scalar_select, NULL, scalar_select_norm, NULL};
