/* SPDX-License-Identifier: MIT */
/*
 * aarch64 Advanced SIMD kernels: 4 float32 lanes per vector. NEON is part of the aarch64 baseline,
 * so the file needs no flags and cpu_has is always true.
 *
 * f16 uses the hardware conversions (FCVTL / FCVTN): exact widening, and narrowing that rounds to
 * nearest even under the default FPCR, keeps subnormals and infinities, and quiets a NaN keeping
 * the top of its payload, exactly as rope_f32_to_f16. bf16 is the upper half of a float32: widen
 * by a shift, narrow with the scalar integer formula. Partial vectors are loaded and stored lane by
 * lane, so nothing outside a head is read or written (and no memcpy call enters the kernels'
 * loops, which would cost the rotation loop its registers). Multiplies and adds stay separate
 * instructions (vmulq / vaddq / vsubq; -ffp-contract=off keeps the compiler from fusing them).
 */
#include <arm_neon.h>
#include <stdint.h>
#include <string.h>

#include "../core/internal.h"
#include "kernel.h"

#define K_VL 4
#define K_REG "w" /* a SIMD register */
typedef float32x4_t kvec;

static ROPE_ALWAYS_INLINE const uint16_t *k_h(const void *p, size_t i) { return (const uint16_t *)p + i; }
static ROPE_ALWAYS_INLINE uint16_t *k_hw(void *p, size_t i) { return (uint16_t *)p + i; }

/* ---- conversions ------------------------------------------------------------------------------ */

static ROPE_ALWAYS_INLINE float32x4_t k_widen4(rope_dtype t, uint16x4_t h) {
    if (t == ROPE_F16) return vcvt_f32_f16(vreinterpret_f16_u16(h));
    return vreinterpretq_f32_u32(vshll_n_u16(h, 16));
}

static ROPE_ALWAYS_INLINE uint16x4_t k_narrow4(rope_dtype t, float32x4_t v) {
    if (t == ROPE_F16) return vreinterpret_u16_f16(vcvt_f16_f32(v));
    /* bf16: add 0x7fff plus the lowest kept bit, keep the upper half; NaN: upper half | quiet bit */
    uint32x4_t u = vreinterpretq_u32_f32(v);
    uint32x4_t lsb = vandq_u32(vshrq_n_u32(u, 16), vdupq_n_u32(1));
    uint16x4_t r = vshrn_n_u32(vaddq_u32(u, vaddq_u32(lsb, vdupq_n_u32(0x7fff))), 16);
    uint16x4_t q = vorr_u16(vshrn_n_u32(u, 16), vdup_n_u16(0x40));
    uint16x4_t nan = vmovn_u32(vmvnq_u32(vceqq_f32(v, v)));
    return vbsl_u16(nan, q, r);
}

/* ---- loads ------------------------------------------------------------------------------------ */

static ROPE_ALWAYS_INLINE kvec k_load(rope_dtype t, const void *p, size_t i) {
    if (t == ROPE_F32) return vld1q_f32((const float *)p + i);
    return k_widen4(t, vld1_u16(k_h(p, i)));
}

/* n (1..3) elements, lane by lane; the other lanes zero. */
static ROPE_ALWAYS_INLINE kvec k_load_part(rope_dtype t, const void *p, size_t i, size_t n) {
    if (t == ROPE_F32) {
        const float *f = (const float *)p + i;
        float32x4_t v = vld1q_lane_f32(f, vdupq_n_f32(0.0f), 0);
        if (n > 1) v = vld1q_lane_f32(f + 1, v, 1);
        if (n > 2) v = vld1q_lane_f32(f + 2, v, 2);
        return v;
    }
    const uint16_t *h = k_h(p, i);
    uint16x4_t v = vld1_lane_u16(h, vdup_n_u16(0), 0);
    if (n > 1) v = vld1_lane_u16(h + 1, v, 1);
    if (n > 2) v = vld1_lane_u16(h + 2, v, 2);
    return k_widen4(t, v);
}

/* c0 c0 c1 c1 from two values (in lanes 0 and 1 of v). */
static ROPE_ALWAYS_INLINE kvec k_dup2(float32x4_t v) { return vzip1q_f32(v, v); }

static ROPE_ALWAYS_INLINE kvec k_load_dup(rope_dtype t, const void *p, size_t i) {
    if (t == ROPE_F32) {
        float32x2_t c = vld1_f32((const float *)p + i);
        return vcombine_f32(vdup_lane_f32(c, 0), vdup_lane_f32(c, 1));
    }
    uint32_t two; /* the two 16-bit values, read as one 32-bit word */
    memcpy(&two, k_h(p, i), sizeof two);
    return k_dup2(k_widen4(t, vreinterpret_u16_u32(vdup_n_u32(two))));
}

/* n is 2 here (a partial vector holds whole pairs and is shorter than 4 lanes): one value. */
static ROPE_ALWAYS_INLINE kvec k_load_dup_part(rope_dtype t, const void *p, size_t i, size_t n) {
    (void)n;
    if (t == ROPE_F32) return vdupq_n_f32(((const float *)p)[i]);
    return vdupq_lane_f32(vget_low_f32(k_widen4(t, vdup_n_u16(*k_h(p, i)))), 0);
}

/* ---- stores (no streaming-store intrinsic here: the hint is ignored, as it may be) ------------ */

static ROPE_ALWAYS_INLINE void k_store(rope_dtype t, void *p, size_t i, kvec v, int nt) {
    (void)nt;
    if (t == ROPE_F32) vst1q_f32((float *)p + i, v);
    else vst1_u16(k_hw(p, i), k_narrow4(t, v));
}

static ROPE_ALWAYS_INLINE void k_store_part(rope_dtype t, void *p, size_t i, kvec v, size_t n) {
    if (t == ROPE_F32) {
        float *f = (float *)p + i;
        vst1q_lane_f32(f, v, 0);
        if (n > 1) vst1q_lane_f32(f + 1, v, 1);
        if (n > 2) vst1q_lane_f32(f + 2, v, 2);
        return;
    }
    uint16_t *h = k_hw(p, i);
    uint16x4_t r = k_narrow4(t, v);
    vst1_lane_u16(h, r, 0);
    if (n > 1) vst1_lane_u16(h + 1, r, 1);
    if (n > 2) vst1_lane_u16(h + 2, r, 2);
}

static ROPE_ALWAYS_INLINE void k_prefetch(uintptr_t a) { (void)a; } /* not measured on ARM hardware */
static ROPE_ALWAYS_INLINE kvec k_set1(float v) { return vdupq_n_f32(v); }

/* ---- arithmetic and lane moves ---------------------------------------------------------------- */

static ROPE_ALWAYS_INLINE kvec k_mul(kvec a, kvec b) { return vmulq_f32(a, b); }
static ROPE_ALWAYS_INLINE kvec k_add(kvec a, kvec b) { return vaddq_f32(a, b); }
static ROPE_ALWAYS_INLINE kvec k_sub(kvec a, kvec b) { return vsubq_f32(a, b); }

static ROPE_ALWAYS_INLINE kvec k_partner(kvec v, size_t ps) {
    if (ps == 1) return vrev64q_f32(v); /* swap neighbours */
    return vextq_f32(v, v, 2);          /* swap halves */
}

static ROPE_ALWAYS_INLINE kvec k_pick(kvec ya, kvec yb, size_t ps) {
    static const uint32_t a1[4] = {~0u, 0, ~0u, 0}, a2[4] = {~0u, ~0u, 0, 0};
    return vbslq_f32(vld1q_u32(ps == 1 ? a1 : a2), ya, yb);
}

#define K_ISA neon /* after the double underscore in its kernels' names (kernel.h) */
#define K_SET_ISA ROPE_ISA_NEON
#define K_CPU_HAS neon_cpu_has
static int neon_cpu_has(void);
#include "simd_paths.h"
#include "simd_norm_paths.h"

K_FAMILY(f32_cosf32, ROPE_F32, ROPE_F32); /* f32 x, f32 cos/sin: rope_kernel_rot_f32_cosf32_<layout>__neon */
K_FAMILY(f16_cosf16, ROPE_F16, ROPE_F16);
K_FAMILY(f16_cosf32, ROPE_F16, ROPE_F32);
K_FAMILY(bf16_cosbf16, ROPE_BF16, ROPE_BF16);
K_FAMILY(bf16_cosf32, ROPE_BF16, ROPE_F32);

K_NORM_FAMILY(f32_cosf32, ROPE_F32, ROPE_F32); /* norm_f32_cosf32: rope_kernel_norm_f32_cosf32_...__neon */
K_NORM_FAMILY(f16_cosf16, ROPE_F16, ROPE_F16);
K_NORM_FAMILY(f16_cosf32, ROPE_F16, ROPE_F32);
K_NORM_FAMILY(bf16_cosbf16, ROPE_BF16, ROPE_BF16);
K_NORM_FAMILY(bf16_cosf32, ROPE_BF16, ROPE_F32);

static const k_norm_entry neon_norm_table[] = {
    {ROPE_F32, ROPE_F32, &norm_f32_cosf32},
    {ROPE_F16, ROPE_F16, &norm_f16_cosf16},
    {ROPE_F16, ROPE_F32, &norm_f16_cosf32},
    {ROPE_BF16, ROPE_BF16, &norm_bf16_cosbf16},
    {ROPE_BF16, ROPE_F32, &norm_bf16_cosf32},
};

static rope_kernel_norm_fn neon_select_norm(const rope_kernel_shape *sh) {
    return k_select_norm(neon_norm_table, K_COUNT(neon_norm_table), sh);
}

/* x dtype, cos dtype -> the family serving them; k_select then picks the layout's kernel. */
static const k_entry neon_table[] = {
    {ROPE_F32, ROPE_F32, &f32_cosf32},
    {ROPE_F16, ROPE_F16, &f16_cosf16},
    {ROPE_F16, ROPE_F32, &f16_cosf32},
    {ROPE_BF16, ROPE_BF16, &bf16_cosbf16},
    {ROPE_BF16, ROPE_F32, &bf16_cosf32},
};

static rope_kernel_fn neon_select(const rope_kernel_shape *sh) { return k_select(neon_table, K_COUNT(neon_table), sh); }

static int neon_cpu_has(void) { return 1; }

/* No store piece of its own (the portable one, listed by the scalar set). */
static const rope_kernel_info *neon_kernel_at(size_t i) {
    return k_kernel_at(neon_table, K_COUNT(neon_table), neon_norm_table, K_COUNT(neon_norm_table), NULL, &i);
}

/* No fence: these kernels never stream. */
const rope_kernel_set rope_kernels_neon = {ROPE_ISA_NEON, neon_cpu_has, neon_select, NULL, neon_select_norm, NULL,
                                           neon_kernel_at};
