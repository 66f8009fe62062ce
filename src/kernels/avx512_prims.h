/* SPDX-License-Identifier: MIT */
/*
 * The AVX-512 primitives of simd_paths.h: 16 float32 lanes; f16 / bf16 travel as 16 x 16 bits in a
 * ymm. Partial vectors use masked loads and stores, which never touch (nor fault on) the masked-off
 * elements, so a head is never read or written outside its extent.
 *
 * Included by avx512.c (bf16 narrowed with integer arithmetic) and avx512_bf16.c (compiled with
 * -mavx512bf16 and K_NATIVE_BF16 defined: vcvtneps2bf16 plus a fix-up for subnormal inputs).
 */
#ifndef ROPE_AVX512_PRIMS_H
#define ROPE_AVX512_PRIMS_H

#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "../core/internal.h"
#include "kernel.h"

#define K_VL 16
#define K_REG "v" /* any of zmm0-31 */
#define K_VREGS 32
typedef __m512 kvec;

static ROPE_ALWAYS_INLINE __mmask16 k_first(size_t n) { return (__mmask16)((1u << n) - 1u); }

static ROPE_ALWAYS_INLINE const uint16_t *k_h(const void *p, size_t i) { return (const uint16_t *)p + i; }
static ROPE_ALWAYS_INLINE uint16_t *k_hw(void *p, size_t i) { return (uint16_t *)p + i; }

/* ---- widening: exact, as rope_f16_to_f32 / rope_bf16_to_f32 ---------------------------------- */

static ROPE_ALWAYS_INLINE __m512 k_widen16(rope_dtype t, __m256i h) {
    if (t == ROPE_F16) return _mm512_cvtph_ps(h);
    /* bf16: element i into the upper half of lane i, the lower halves zeroed, in one vpermw */
    const __m512i idx = _mm512_set_epi16(15, 0, 14, 0, 13, 0, 12, 0, 11, 0, 10, 0, 9, 0, 8, 0, 7, 0, 6, 0, 5, 0, 4, 0,
                                         3, 0, 2, 0, 1, 0, 0, 0);
    return _mm512_castsi512_ps(_mm512_maskz_permutexvar_epi16(0xaaaaaaaau, idx, _mm512_castsi256_si512(h)));
}

static ROPE_ALWAYS_INLINE __m256 k_widen8(rope_dtype t, __m128i h) {
    if (t == ROPE_F16) return _mm256_cvtph_ps(h);
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

/* ---- narrowing: round to nearest even, as rope_f32_to_f16 / rope_f32_to_bf16 ------------------- */

/* bf16 in integer arithmetic, the scalar formula lane by lane: add 0x7fff plus the lowest kept bit,
 * keep the upper half. v is always the result of an arithmetic instruction, so a NaN in it is
 * already quiet (bit 22 set) and the scalar NaN rule, (x >> 16) | 0x40, is plain truncation: NaN
 * lanes skip the bias (it could carry into the payload). One vpermw gathers the upper halves. */
static ROPE_ALWAYS_INLINE __m512i k_bf16_biased(__m512 v) { /* the rounded bf16 in each lane's upper half */
    __m512i u = _mm512_castps_si512(v);
    __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
    __mmask16 num = _mm512_cmp_ps_mask(v, v, _CMP_ORD_Q);
    return _mm512_mask_add_epi32(u, num, u, _mm512_add_epi32(lsb, _mm512_set1_epi32(0x7fff)));
}

static ROPE_ALWAYS_INLINE __m256i k_bf16_rne(__m512 v) {
    __m512i u = k_bf16_biased(v);
    const __m512i odd = _mm512_set_epi16(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 31, 29, 27, 25, 23, 21, 19,
                                         17, 15, 13, 11, 9, 7, 5, 3, 1);
    return _mm512_castsi512_si256(_mm512_permutexvar_epi16(odd, u));
}

#if defined(K_NATIVE_BF16)
/* vcvtneps2bf16 rounds to nearest even and quiets NaN exactly as the scalar code ((x >> 16) | 0x40),
 * but reads subnormal inputs as zero: a lane with 0 < |x| < 2^-126 would give +-0 where the scalar
 * conversion gives a bf16 subnormal (or rounds up to 2^-126). Every other input gives a nonzero
 * result (a normal value cannot round to zero), so a +-0 lane in the result is the only sign that
 * a lane may be subnormal: one vptestnmw on the 16-bit result (a 256-bit integer test) then sends
 * the whole vector through the integer path, exact for every lane (a zero input only takes the
 * slower path). The former test, vfpclassps on the 512-bit input before the conversion, cost a
 * quarter of bf16 batched decode on Zen 4 (docs/PERFORMANCE.md, "Batched decode and the single call"). */
static ROPE_ALWAYS_INLINE __m256i k_bf16_cvt(__m512 v) {
    __m256bh b = _mm512_cvtneps_pbh(v);
    __m256i r;
    memcpy(&r, &b, sizeof r); /* the bf16 vector type differs between compilers; the bits do not */
    return r;
}

/* The lanes of a bf16 result that are +-0. */
static ROPE_ALWAYS_INLINE __mmask16 k_bf16_zeros(__m256i r) {
    return _mm256_testn_epi16_mask(r, _mm256_set1_epi16(0x7fff));
}

static ROPE_ALWAYS_INLINE __m256i k_bf16_narrow(__m512 v) {
    __m256i r = k_bf16_cvt(v);
    if (__builtin_expect(k_bf16_zeros(r) != 0, 0)) return k_bf16_rne(v);
    return r;
}

/* Two vectors narrowed with one branch: the pair path's stores (k_store_pair). */
static ROPE_ALWAYS_INLINE void k_bf16_narrow_pair(__m512 a, __m512 b, __m256i *ra, __m256i *rb) {
    *ra = k_bf16_cvt(a);
    *rb = k_bf16_cvt(b);
    if (__builtin_expect((k_bf16_zeros(*ra) | k_bf16_zeros(*rb)) != 0, 0)) {
        *ra = k_bf16_rne(a);
        *rb = k_bf16_rne(b);
    }
}
#else
static ROPE_ALWAYS_INLINE __m256i k_bf16_narrow(__m512 v) { return k_bf16_rne(v); }

static ROPE_ALWAYS_INLINE void k_bf16_narrow_pair(__m512 a, __m512 b, __m256i *ra, __m256i *rb) {
    *ra = k_bf16_rne(a);
    *rb = k_bf16_rne(b);
}
#endif

static ROPE_ALWAYS_INLINE __m256i k_narrow16(rope_dtype t, __m512 v) {
    if (t == ROPE_F16) return _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    return k_bf16_narrow(v);
}

/* ---- loads ------------------------------------------------------------------------------------ */

static ROPE_ALWAYS_INLINE kvec k_load(rope_dtype t, const void *p, size_t i) {
    if (t == ROPE_F32) return _mm512_loadu_ps((const float *)p + i);
    return k_widen16(t, _mm256_loadu_si256((const __m256i *)(const void *)k_h(p, i)));
}

static ROPE_ALWAYS_INLINE kvec k_load_part(rope_dtype t, const void *p, size_t i, size_t n) {
    if (t == ROPE_F32) return _mm512_maskz_loadu_ps(k_first(n), (const float *)p + i);
    return k_widen16(t, _mm256_maskz_loadu_epi16(k_first(n), k_h(p, i)));
}

/* c0 c0 c1 c1 ... c7 c7 from eight values. */
static ROPE_ALWAYS_INLINE kvec k_dup8(__m256 c) {
    const __m512i idx = _mm512_set_epi32(7, 7, 6, 6, 5, 5, 4, 4, 3, 3, 2, 2, 1, 1, 0, 0);
    return _mm512_permutexvar_ps(idx, _mm512_castps256_ps512(c));
}

static ROPE_ALWAYS_INLINE kvec k_load_dup(rope_dtype t, const void *p, size_t i) {
    if (t == ROPE_F32) return k_dup8(_mm256_loadu_ps((const float *)p + i));
    return k_dup8(k_widen8(t, _mm_loadu_si128((const __m128i *)(const void *)k_h(p, i))));
}

static ROPE_ALWAYS_INLINE kvec k_load_dup_part(rope_dtype t, const void *p, size_t i, size_t n) {
    __mmask8 m = (__mmask8)k_first(n / 2);
    if (t == ROPE_F32) return k_dup8(_mm256_maskz_loadu_ps(m, (const float *)p + i));
    return k_dup8(k_widen8(t, _mm_maskz_loadu_epi16(m, k_h(p, i))));
}

/* ---- stores ----------------------------------------------------------------------------------- */

/* Streaming stores need an aligned address; an unaligned vector takes the ordinary store. f16 /
 * bf16 results stream as half lines (32 bytes), which the write-combining buffers join (faster on
 * the Xeon this was tuned on, slower on Zen 4: docs/PERFORMANCE.md, "Kernels"). */
static ROPE_ALWAYS_INLINE void k_store(rope_dtype t, void *p, size_t i, kvec v, int nt) {
    if (t == ROPE_F32) {
        float *d = (float *)p + i;
        if (nt && ((uintptr_t)d & 63u) == 0) _mm512_stream_ps(d, v);
        else _mm512_storeu_ps(d, v);
        return;
    }
    __m256i *d = (__m256i *)(void *)k_hw(p, i);
    if (nt && ((uintptr_t)d & 31u) == 0) _mm256_stream_si256(d, k_narrow16(t, v));
    else _mm256_storeu_si256(d, k_narrow16(t, v));
}

/* k_store of ya at element ia and yb at ib (a pair's two halves): bf16 narrows both before one
 * check for subnormal lanes (k_bf16_narrow_pair); the other dtypes store one after the other. */
#define K_STORE_PAIR 1
static ROPE_ALWAYS_INLINE void k_store_pair(rope_dtype t, void *p, size_t ia, kvec ya, size_t ib, kvec yb, int nt) {
    if (t != ROPE_BF16) {
        k_store(t, p, ia, ya, nt);
        k_store(t, p, ib, yb, nt);
        return;
    }
    __m256i ra, rb;
    k_bf16_narrow_pair(ya, yb, &ra, &rb);
    __m256i *da = (__m256i *)(void *)k_hw(p, ia), *db = (__m256i *)(void *)k_hw(p, ib);
    if (nt && ((uintptr_t)da & 31u) == 0) _mm256_stream_si256(da, ra);
    else _mm256_storeu_si256(da, ra);
    if (nt && ((uintptr_t)db & 31u) == 0) _mm256_stream_si256(db, rb);
    else _mm256_storeu_si256(db, rb);
}

static ROPE_ALWAYS_INLINE void k_store_part(rope_dtype t, void *p, size_t i, kvec v, size_t n) {
    if (t == ROPE_F32) _mm512_mask_storeu_ps((float *)p + i, k_first(n), v);
    else _mm256_mask_storeu_epi16(k_hw(p, i), k_first(n), k_narrow16(t, v));
}

/* ---- adjacent pairs split into their two elements (K_DEINT, simd_paths.h's k_rows_deint) ---------- */

#define K_DEINT 1

/* 32 adjacent elements p[i .. i+32) as their even (a) and odd (b) elements, widened. bf16: a 32-bit
 * lane holds an even element in its lower and an odd one in its upper half, so a shift and a mask
 * widen both; f16 / f32: one permute gathers them (16-bit lanes before the conversion for f16). */
static ROPE_ALWAYS_INLINE void k_load_deint(rope_dtype t, const void *p, size_t i, kvec *a, kvec *b) {
    if (t == ROPE_F32) {
        const __m512i ev = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
        const __m512i od = _mm512_set_epi32(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
        __m512 lo = _mm512_loadu_ps((const float *)p + i), hi = _mm512_loadu_ps((const float *)p + i + 16);
        *a = _mm512_permutex2var_ps(lo, ev, hi);
        *b = _mm512_permutex2var_ps(lo, od, hi);
        return;
    }
    __m512i u = _mm512_loadu_si512((const void *)k_h(p, i));
    if (t == ROPE_BF16) {
        *a = _mm512_castsi512_ps(_mm512_slli_epi32(u, 16));
        *b = _mm512_castsi512_ps(_mm512_and_si512(u, _mm512_set1_epi32((int)0xffff0000u)));
        return;
    }
    const __m512i split = _mm512_set_epi16(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1, /* odd */
                                           30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    __m512i e = _mm512_permutexvar_epi16(split, u);
    *a = _mm512_cvtph_ps(_mm512_castsi512_si256(e));
    *b = _mm512_cvtph_ps(_mm512_extracti64x4_epi64(e, 1));
}

/* The inverse: a and b narrowed and interleaved into p[i .. i+32) (streaming when nt and aligned). */
static ROPE_ALWAYS_INLINE void k_store_int(rope_dtype t, void *p, size_t i, kvec a, kvec b, int nt) {
    __m512i w;
    if (t == ROPE_F32) {
        const __m512i lo = _mm512_set_epi32(23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
        const __m512i hi = _mm512_set_epi32(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8);
        k_store(ROPE_F32, p, i, _mm512_permutex2var_ps(a, lo, b), nt);
        k_store(ROPE_F32, p, i + 16, _mm512_permutex2var_ps(a, hi, b), nt);
        return;
    }
#if defined(K_NATIVE_BF16)
    if (t == ROPE_BF16 && !(_mm512_fpclass_ps_mask(a, 0x20) | _mm512_fpclass_ps_mask(b, 0x20))) {
        /* no subnormal input (k_bf16_narrow): one conversion of both, a in the lower 16 words */
        __m512bh ab = _mm512_cvtne2ps_pbh(b, a);
        __m512i h;
        memcpy(&h, &ab, sizeof h);
        const __m512i mix = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8, 23, 7, 22,
                                             6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
        w = _mm512_permutexvar_epi16(mix, h);
    } else
#endif
    if (t == ROPE_BF16) {
        /* the rounded halves: a's moved down, b's kept up (vpternlog: (a >> 16) | (b & 0xffff0000)) */
        w = _mm512_ternarylogic_epi32(_mm512_srli_epi32(k_bf16_biased(a), 16), k_bf16_biased(b),
                                      _mm512_set1_epi32((int)0xffff0000u), 0xf8);
    } else {
        const __m512i mix = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8, 23, 7, 22,
                                             6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
        __m256i ha = _mm512_cvtps_ph(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        __m256i hb = _mm512_cvtps_ph(b, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        w = _mm512_permutexvar_epi16(mix, _mm512_inserti64x4(_mm512_castsi256_si512(ha), hb, 1));
    }
    void *d = (void *)k_hw(p, i);
    if (nt && ((uintptr_t)d & 63u) == 0) _mm512_stream_si512(d, w);
    else _mm512_storeu_si512(d, w);
}

static ROPE_ALWAYS_INLINE void k_prefetch(uintptr_t a) { _mm_prefetch((const char *)a, _MM_HINT_T0); }
static ROPE_ALWAYS_INLINE kvec k_set1(float v) { return _mm512_set1_ps(v); }

/* ---- arithmetic and lane moves ---------------------------------------------------------------- */

static ROPE_ALWAYS_INLINE kvec k_mul(kvec a, kvec b) { return _mm512_mul_ps(a, b); }
static ROPE_ALWAYS_INLINE kvec k_add(kvec a, kvec b) { return _mm512_add_ps(a, b); }
static ROPE_ALWAYS_INLINE kvec k_sub(kvec a, kvec b) { return _mm512_sub_ps(a, b); }

static ROPE_ALWAYS_INLINE kvec k_partner(kvec v, size_t ps) {
    switch (ps) {
    case 1: return _mm512_permute_ps(v, 0xb1);       /* swap neighbours */
    case 2: return _mm512_permute_ps(v, 0x4e);       /* swap pairs of two */
    case 4: return _mm512_shuffle_f32x4(v, v, 0xb1); /* swap 128-bit quarters */
    default: return _mm512_shuffle_f32x4(v, v, 0x4e); /* swap 256-bit halves */
    }
}

static ROPE_ALWAYS_INLINE kvec k_pick(kvec ya, kvec yb, size_t ps) {
    __mmask16 b = ps == 1 ? 0xaaaa : ps == 2 ? 0xcccc : ps == 4 ? 0xf0f0 : 0xff00;
    return _mm512_mask_blend_ps(b, ya, yb);
}

/* kernel.h's tree over the 16 partials of one vector, in registers: p[l] + p[l + 8] (the upper
 * 256 bits onto the lower), then + p[l + 4], + p[l + 2], + p[l + 1]; each add with the lower
 * index as its first operand, as rope_sum_partials. */
#define K_SUM_TREE 1
static ROPE_ALWAYS_INLINE float k_sum_tree(const kvec *acc) {
    __m256 a = _mm256_add_ps(_mm512_castps512_ps256(acc[0]), _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(acc[0]), 1)));
    __m128 b = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    __m128 c = _mm_add_ps(b, _mm_movehl_ps(b, b));
    return _mm_cvtss_f32(_mm_add_ss(c, _mm_movehdup_ps(c)));
}

/* The bf16-output kernels built with vcvtneps2bf16 (avx512_bf16.c, when the compiler has it). */
ROPE_HIDDEN rope_kernel_fn rope_avx512bf16_select(const rope_kernel_shape *shape);
ROPE_HIDDEN rope_kernel_norm_fn rope_avx512bf16_select_norm(const rope_kernel_shape *shape);
ROPE_HIDDEN const rope_kernel_info *rope_avx512bf16_kernel_at(size_t i);

#endif
