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

/* The portable rotation kernels, one per (x dtype, cos dtype, cos width), each serving every layout:
 * rope_kernel_rot_<x>_cos<c>_any_<width>__scalar (kernel.h's scheme). */
#define SCALAR_ROT_NAME(x, c, width) rope_kernel_rot_##x##_cos##c##_any_##width##__scalar
#define SCALAR_ROT(x, c, width, xt, ct, full)                                                                \
    static void SCALAR_ROT_NAME(x, c, width)(const rope_kernel_shape *sh, const void *x_, ptrdiff_t xhs, void *y, \
                                             ptrdiff_t yhs, size_t heads, const void *cs, const void *sn) {  \
        rotate_rows(xt, ct, full, sh, x_, xhs, y, yhs, heads, cs, sn);                                       \
    }

SCALAR_ROT(f32, f32, half, ROPE_F32, ROPE_F32, 0)
SCALAR_ROT(f32, f32, full, ROPE_F32, ROPE_F32, 1)
SCALAR_ROT(f16, f16, half, ROPE_F16, ROPE_F16, 0)
SCALAR_ROT(f16, f16, full, ROPE_F16, ROPE_F16, 1)
SCALAR_ROT(f16, f32, half, ROPE_F16, ROPE_F32, 0)
SCALAR_ROT(f16, f32, full, ROPE_F16, ROPE_F32, 1)
SCALAR_ROT(bf16, bf16, half, ROPE_BF16, ROPE_BF16, 0)
SCALAR_ROT(bf16, bf16, full, ROPE_BF16, ROPE_BF16, 1)
SCALAR_ROT(bf16, f32, half, ROPE_BF16, ROPE_F32, 0)
SCALAR_ROT(bf16, f32, full, ROPE_BF16, ROPE_F32, 1)

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

/* rope_kernel_norm_<x>_cos<c>_any_half__scalar: every pair stride, half-width rows. */
#define SCALAR_NORM_NAME(x, c) rope_kernel_norm_##x##_cos##c##_any_half__scalar
#define SCALAR_NORM(x, c, xt, ct)                                                                            \
    static void SCALAR_NORM_NAME(x, c)(const rope_kernel_shape *sh, const void *x_, ptrdiff_t xhs, void *y,   \
                                       ptrdiff_t yhs, size_t heads, const void *cs, const void *sn, const float *w, \
                                       float eps) {                                                          \
        norm_rows(xt, ct, sh, x_, xhs, y, yhs, heads, cs, sn, w, eps);                                       \
    }

SCALAR_NORM(f32, f32, ROPE_F32, ROPE_F32)
SCALAR_NORM(f16, f16, ROPE_F16, ROPE_F16)
SCALAR_NORM(f16, f32, ROPE_F16, ROPE_F32)
SCALAR_NORM(bf16, bf16, ROPE_BF16, ROPE_BF16)
SCALAR_NORM(bf16, f32, ROPE_BF16, ROPE_F32)

static int scalar_cpu_has(void) { return 1; }

#define SCALAR_STR2(a) #a
#define SCALAR_STR(a) SCALAR_STR2(a)
#define ROT_INFO(x, c, width, xt, ct, full)                                                                  \
    {SCALAR_STR(SCALAR_ROT_NAME(x, c, width)), ROPE_KERNEL_ROT, ROPE_ISA_SCALAR, scalar_cpu_has, xt, ct,       \
     ROPE_PATH_ANY, full, 0, SCALAR_ROT_NAME(x, c, width), NULL, NULL}
#define NORM_INFO(x, c, xt, ct)                                                                              \
    {SCALAR_STR(SCALAR_NORM_NAME(x, c)), ROPE_KERNEL_NORM, ROPE_ISA_SCALAR, scalar_cpu_has, xt, ct, ROPE_PATH_ANY, \
     0, 0, NULL, SCALAR_NORM_NAME(x, c), NULL}

/* The set's list (kernel.h), which selection walks: the first kernel that serves a shape. */
static const rope_kernel_info scalar_kernels[] = {
    ROT_INFO(f32, f32, half, ROPE_F32, ROPE_F32, 0),
    ROT_INFO(f32, f32, full, ROPE_F32, ROPE_F32, 1),
    ROT_INFO(f16, f16, half, ROPE_F16, ROPE_F16, 0),
    ROT_INFO(f16, f16, full, ROPE_F16, ROPE_F16, 1),
    ROT_INFO(f16, f32, half, ROPE_F16, ROPE_F32, 0),
    ROT_INFO(f16, f32, full, ROPE_F16, ROPE_F32, 1),
    ROT_INFO(bf16, bf16, half, ROPE_BF16, ROPE_BF16, 0),
    ROT_INFO(bf16, bf16, full, ROPE_BF16, ROPE_BF16, 1),
    ROT_INFO(bf16, f32, half, ROPE_BF16, ROPE_F32, 0),
    ROT_INFO(bf16, f32, full, ROPE_BF16, ROPE_F32, 1),
    NORM_INFO(f32, f32, ROPE_F32, ROPE_F32),
    NORM_INFO(f16, f16, ROPE_F16, ROPE_F16),
    NORM_INFO(f16, f32, ROPE_F16, ROPE_F32),
    NORM_INFO(bf16, bf16, ROPE_BF16, ROPE_BF16),
    NORM_INFO(bf16, f32, ROPE_BF16, ROPE_F32),
    {"rope_kernel_store__scalar", ROPE_KERNEL_STORE, ROPE_ISA_SCALAR, scalar_cpu_has, ROPE_DTYPE_INVALID,
     ROPE_DTYPE_INVALID, ROPE_PATH_ANY, 0, 0, NULL, NULL, rope_kernel_store__scalar},
};

enum { SCALAR_KERNELS = sizeof scalar_kernels / sizeof scalar_kernels[0] };

static const rope_kernel_info *scalar_kernel_at(size_t i) { return i < SCALAR_KERNELS ? &scalar_kernels[i] : NULL; }

static const rope_kernel_info *first_serving(rope_kernel_kind kind, const rope_kernel_shape *sh) {
    for (size_t i = 0; i < SCALAR_KERNELS; i++)
        if (scalar_kernels[i].kind == kind && rope_kernel_serves(&scalar_kernels[i], sh)) return &scalar_kernels[i];
    return NULL;
}

static rope_kernel_norm_fn scalar_select_norm(const rope_kernel_shape *sh) {
    const rope_kernel_info *k = first_serving(ROPE_KERNEL_NORM, sh);
    return k ? k->norm : NULL;
}

static rope_kernel_fn scalar_select(const rope_kernel_shape *sh) {
    const rope_kernel_info *k = first_serving(ROPE_KERNEL_ROT, sh);
    return k ? k->rot : NULL;
}

const rope_kernel_set rope_kernels_scalar = {ROPE_ISA_SCALAR, scalar_cpu_has, scalar_select, NULL, scalar_select_norm,
                                             rope_kernel_store__scalar, scalar_kernel_at};
