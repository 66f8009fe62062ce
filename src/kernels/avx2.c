/* SPDX-License-Identifier: MIT */
/*
 * AVX2 + F16C kernels: 8 float32 lanes; f16 / bf16 travel as 8 x 16 bits in an xmm.
 *
 * Partial vectors (the last n < 8 elements of a run) use AVX2's masked 32-bit loads and stores,
 * which neither touch nor fault on masked-off elements: f32 lanes directly, 16-bit elements as
 * pairs in 32-bit lanes plus, for odd n, the last element on its own. So a head is never read or
 * written outside its extent, and no library call (memcpy) enters the kernels' loops. No FMA: the
 * file is compiled without -mfma, so not even an intrinsic could fuse a multiply into the add.
 */
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "../core/internal.h"
#include "kernel.h"
#include "x86_features.h"

#define K_VL 8
#define K_REG "x" /* a ymm register */
typedef __m256 kvec;

static ROPE_ALWAYS_INLINE const uint16_t *k_h(const void *p, size_t i) { return (const uint16_t *)p + i; }
static ROPE_ALWAYS_INLINE uint16_t *k_hw(void *p, size_t i) { return (uint16_t *)p + i; }

/* ---- conversions ------------------------------------------------------------------------------ */

/* Exact widening, as rope_f16_to_f32 / rope_bf16_to_f32 (bf16 is the upper half of a float32). */
static ROPE_ALWAYS_INLINE __m256 k_widen8(rope_dtype t, __m128i h) {
    if (t == ROPE_F16) return _mm256_cvtph_ps(h);
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

static ROPE_ALWAYS_INLINE __m128 k_widen4(rope_dtype t, __m128i h) {
    if (t == ROPE_F16) return _mm_cvtph_ps(h);
    return _mm_castsi128_ps(_mm_slli_epi32(_mm_cvtepu16_epi32(h), 16));
}

/* Round to nearest even, as rope_f32_to_f16 / rope_f32_to_bf16. F16C's conversion with an explicit
 * rounding immediate ignores MXCSR and keeps subnormals, infinities and (quieted) NaN payloads as
 * the scalar code does.
 * bf16 is the scalar formula lane by lane: add 0x7fff plus the lowest kept bit, keep the upper half.
 * v is always the result of an arithmetic instruction, so a NaN in it is already quiet (bit 22 set)
 * and the scalar NaN rule, (x >> 16) | 0x40, is plain truncation: NaN lanes just skip the bias
 * (adding it could carry into the payload). The upper halves are then gathered with one byte
 * shuffle and one qword permute, cheaper than shift + extract + pack. */
static ROPE_ALWAYS_INLINE __m256i k_bf16_biased(__m256 v) { /* the rounded bf16 in each lane's upper half */
    __m256i u = _mm256_castps_si256(v);
    __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(1));
    __m256i bias = _mm256_add_epi32(lsb, _mm256_set1_epi32(0x7fff));
    __m256i nan = _mm256_castps_si256(_mm256_cmp_ps(v, v, _CMP_UNORD_Q));
    return _mm256_add_epi32(u, _mm256_andnot_si256(nan, bias));
}

static ROPE_ALWAYS_INLINE __m128i k_narrow8(rope_dtype t, __m256 v) {
    if (t == ROPE_F16) return _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256i u = k_bf16_biased(v);
    const __m256i upper = _mm256_setr_epi8(2, 3, 6, 7, 10, 11, 14, 15, -1, -1, -1, -1, -1, -1, -1, -1, /* */
                                           2, 3, 6, 7, 10, 11, 14, 15, -1, -1, -1, -1, -1, -1, -1, -1);
    u = _mm256_shuffle_epi8(u, upper); /* per 128-bit half: four bf16 in its low 64 bits */
    return _mm256_castsi256_si128(_mm256_permute4x64_epi64(u, 0x08)); /* qwords 0 and 2 */
}

/* ---- loads ------------------------------------------------------------------------------------ */

static ROPE_ALWAYS_INLINE kvec k_load(rope_dtype t, const void *p, size_t i) {
    if (t == ROPE_F32) return _mm256_loadu_ps((const float *)p + i);
    return k_widen8(t, _mm_loadu_si128((const __m128i *)(const void *)k_h(p, i)));
}

/* The first n (0..8) 32-bit lanes set. */
static ROPE_ALWAYS_INLINE __m256i k_first(size_t n) {
    static const int32_t table[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    return _mm256_loadu_si256((const __m256i *)(const void *)(table + 8 - n));
}

/* n (0..7) 16-bit elements, the other lanes zero. */
static ROPE_ALWAYS_INLINE __m128i k_load16_part(const uint16_t *p, size_t n) {
    __m128i h = _mm_maskload_epi32((const int *)(const void *)p, _mm256_castsi256_si128(k_first(n / 2)));
    if (n & 1) { /* the odd last element, into 16-bit lane n - 1 */
        static const int16_t lane[16] = {0, 0, 0, 0, 0, 0, 0, -1, 0, 0, 0, 0, 0, 0, 0, 0};
        __m128i at = _mm_loadu_si128((const __m128i *)(const void *)(lane + 8 - n));
        h = _mm_blendv_epi8(h, _mm_set1_epi16((short)p[n - 1]), at);
    }
    return h;
}

static ROPE_ALWAYS_INLINE void k_store16_part(uint16_t *p, __m128i h, size_t n) {
    _mm_maskstore_epi32((int *)(void *)p, _mm256_castsi256_si128(k_first(n / 2)), h);
    if (n & 1) {
        uint16_t b[8];
        _mm_storeu_si128((__m128i *)(void *)b, h);
        p[n - 1] = b[n - 1];
    }
}

static ROPE_ALWAYS_INLINE kvec k_load_part(rope_dtype t, const void *p, size_t i, size_t n) {
    if (t == ROPE_F32) return _mm256_maskload_ps((const float *)p + i, k_first(n));
    return k_widen8(t, k_load16_part(k_h(p, i), n));
}

/* c0 c0 c1 c1 c2 c2 c3 c3 from four values. */
static ROPE_ALWAYS_INLINE kvec k_dup4(__m128 c) {
    return _mm256_permutevar8x32_ps(_mm256_castps128_ps256(c), _mm256_set_epi32(3, 3, 2, 2, 1, 1, 0, 0));
}

static ROPE_ALWAYS_INLINE kvec k_load_dup(rope_dtype t, const void *p, size_t i) {
    if (t == ROPE_F32) return k_dup4(_mm_loadu_ps((const float *)p + i));
    return k_dup4(k_widen4(t, _mm_loadl_epi64((const __m128i *)(const void *)k_h(p, i))));
}

static ROPE_ALWAYS_INLINE kvec k_load_dup_part(rope_dtype t, const void *p, size_t i, size_t n) {
    if (t == ROPE_F32) return k_dup4(_mm256_castps256_ps128(_mm256_maskload_ps((const float *)p + i, k_first(n / 2))));
    return k_dup4(k_widen4(t, k_load16_part(k_h(p, i), n / 2)));
}

/* ---- stores ----------------------------------------------------------------------------------- */

/* Streaming stores need an aligned address; an unaligned vector takes the ordinary store. 16-bit
 * results (16 bytes, a quarter of a cache line per store) are never streamed: slower than ordinary
 * stores, while 32-byte f32 stores gain (docs/PERFORMANCE.md, "Kernels"). */
static ROPE_ALWAYS_INLINE void k_store(rope_dtype t, void *p, size_t i, kvec v, int nt) {
    if (t == ROPE_F32) {
        float *d = (float *)p + i;
        if (nt && ((uintptr_t)d & 31u) == 0) _mm256_stream_ps(d, v);
        else _mm256_storeu_ps(d, v);
        return;
    }
    _mm_storeu_si128((__m128i *)(void *)k_hw(p, i), k_narrow8(t, v));
}

static ROPE_ALWAYS_INLINE void k_store_part(rope_dtype t, void *p, size_t i, kvec v, size_t n) {
    if (t == ROPE_F32) _mm256_maskstore_ps((float *)p + i, k_first(n), v);
    else k_store16_part(k_hw(p, i), k_narrow8(t, v), n);
}

/* ---- adjacent pairs split into their two elements (K_DEINT, simd_paths.h's k_rows_deint) ---------- */

#define K_DEINT 1

/* 16 adjacent elements p[i .. i+16) as their even (a) and odd (b) elements, widened. bf16: a 32-bit
 * lane holds an even element in its lower and an odd one in its upper half (a shift and a mask);
 * f16: the halves of each 8-element run gathered by a byte shuffle, the runs joined, then widened;
 * f32: one shuffle per result picks them in the order (0 1 4 5 | 2 3 6 7), a qword permute orders. */
static ROPE_ALWAYS_INLINE void k_load_deint(rope_dtype t, const void *p, size_t i, kvec *a, kvec *b) {
    if (t == ROPE_F32) {
        __m256 lo = _mm256_loadu_ps((const float *)p + i), hi = _mm256_loadu_ps((const float *)p + i + 8);
        *a = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(lo, hi, 0x88)), 0xd8));
        *b = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(lo, hi, 0xdd)), 0xd8));
        return;
    }
    if (t == ROPE_BF16) {
        __m256i u = _mm256_loadu_si256((const __m256i *)(const void *)k_h(p, i));
        *a = _mm256_castsi256_ps(_mm256_slli_epi32(u, 16));
        *b = _mm256_castsi256_ps(_mm256_and_si256(u, _mm256_set1_epi32((int)0xffff0000u)));
        return;
    }
    const __m128i split = _mm_setr_epi8(0, 1, 4, 5, 8, 9, 12, 13, 2, 3, 6, 7, 10, 11, 14, 15);
    __m128i lo = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(const void *)k_h(p, i)), split);
    __m128i hi = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(const void *)k_h(p, i + 8)), split);
    *a = _mm256_cvtph_ps(_mm_unpacklo_epi64(lo, hi));
    *b = _mm256_cvtph_ps(_mm_unpackhi_epi64(lo, hi));
}

/* The inverse: a and b narrowed and interleaved into p[i .. i+16) (16-bit results never stream, as
 * k_store; f32 through k_store). */
static ROPE_ALWAYS_INLINE void k_store_int(rope_dtype t, void *p, size_t i, kvec a, kvec b, int nt) {
    if (t == ROPE_F32) {
        __m256 lo = _mm256_unpacklo_ps(a, b), hi = _mm256_unpackhi_ps(a, b); /* (0-3 | 8-11), (4-7 | 12-15) */
        k_store(ROPE_F32, p, i, _mm256_permute2f128_ps(lo, hi, 0x20), nt);
        k_store(ROPE_F32, p, i + 8, _mm256_permute2f128_ps(lo, hi, 0x31), nt);
        return;
    }
    if (t == ROPE_BF16) { /* the rounded halves: a's moved down, b's kept up */
        __m256i w = _mm256_or_si256(_mm256_srli_epi32(k_bf16_biased(a), 16),
                                    _mm256_and_si256(k_bf16_biased(b), _mm256_set1_epi32((int)0xffff0000u)));
        _mm256_storeu_si256((__m256i *)(void *)k_hw(p, i), w);
        return;
    }
    __m128i ha = k_narrow8(t, a), hb = k_narrow8(t, b);
    _mm_storeu_si128((__m128i *)(void *)k_hw(p, i), _mm_unpacklo_epi16(ha, hb));
    _mm_storeu_si128((__m128i *)(void *)k_hw(p, i + 8), _mm_unpackhi_epi16(ha, hb));
}

static ROPE_ALWAYS_INLINE void k_prefetch(uintptr_t a) { _mm_prefetch((const char *)a, _MM_HINT_T0); }
static ROPE_ALWAYS_INLINE kvec k_set1(float v) { return _mm256_set1_ps(v); }

/* ---- arithmetic and lane moves ---------------------------------------------------------------- */

static ROPE_ALWAYS_INLINE kvec k_mul(kvec a, kvec b) { return _mm256_mul_ps(a, b); }
static ROPE_ALWAYS_INLINE kvec k_add(kvec a, kvec b) { return _mm256_add_ps(a, b); }
static ROPE_ALWAYS_INLINE kvec k_sub(kvec a, kvec b) { return _mm256_sub_ps(a, b); }

static ROPE_ALWAYS_INLINE kvec k_partner(kvec v, size_t ps) {
    switch (ps) {
    case 1: return _mm256_permute_ps(v, 0xb1);   /* swap neighbours */
    case 2: return _mm256_permute_ps(v, 0x4e);   /* swap pairs of two */
    default: return _mm256_permute2f128_ps(v, v, 1); /* swap 128-bit halves */
    }
}

static ROPE_ALWAYS_INLINE kvec k_pick(kvec ya, kvec yb, size_t ps) {
    switch (ps) {
    case 1: return _mm256_blend_ps(ya, yb, 0xaa);
    case 2: return _mm256_blend_ps(ya, yb, 0xcc);
    default: return _mm256_blend_ps(ya, yb, 0xf0);
    }
}

/* kernel.h's tree over the 16 partials of two vectors (partials 0-7, 8-15), in registers:
 * p[l] + p[l + 8], then + p[l + 4], + p[l + 2], + p[l + 1]; each add with the lower index as its
 * first operand, as rope_sum_partials. */
#define K_SUM_TREE 1
static ROPE_ALWAYS_INLINE float k_sum_tree(const kvec *acc) {
    __m256 a = _mm256_add_ps(acc[0], acc[1]);
    __m128 b = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    __m128 c = _mm_add_ps(b, _mm_movehl_ps(b, b));
    return _mm_cvtss_f32(_mm_add_ss(c, _mm_movehdup_ps(c)));
}

#define K_ISA avx2 /* after the double underscore in its kernels' names (kernel.h) */
#define K_SET_ISA ROPE_ISA_AVX2
#define K_CPU_HAS rope_x86_has_avx2
#include "simd_paths.h"
#include "simd_norm_paths.h"

K_FAMILY(f32_cosf32, ROPE_F32, ROPE_F32); /* f32 x, f32 cos/sin: rope_kernel_rot_f32_cosf32_<layout>__avx2 */
K_FAMILY(f16_cosf16, ROPE_F16, ROPE_F16);
K_FAMILY(f16_cosf32, ROPE_F16, ROPE_F32);
K_FAMILY(bf16_cosbf16, ROPE_BF16, ROPE_BF16);
K_FAMILY(bf16_cosf32, ROPE_BF16, ROPE_F32);

K_NORM_FAMILY(f32_cosf32, ROPE_F32, ROPE_F32); /* norm_f32_cosf32: rope_kernel_norm_f32_cosf32_...__avx2 */
K_NORM_FAMILY(f16_cosf16, ROPE_F16, ROPE_F16);
K_NORM_FAMILY(f16_cosf32, ROPE_F16, ROPE_F32);
K_NORM_FAMILY(bf16_cosbf16, ROPE_BF16, ROPE_BF16);
K_NORM_FAMILY(bf16_cosf32, ROPE_BF16, ROPE_F32);

static const k_norm_entry avx2_norm_table[] = {
    {ROPE_F32, ROPE_F32, &norm_f32_cosf32},
    {ROPE_F16, ROPE_F16, &norm_f16_cosf16},
    {ROPE_F16, ROPE_F32, &norm_f16_cosf32},
    {ROPE_BF16, ROPE_BF16, &norm_bf16_cosbf16},
    {ROPE_BF16, ROPE_F32, &norm_bf16_cosf32},
};

static rope_kernel_norm_fn avx2_select_norm(const rope_kernel_shape *sh) {
    return k_select_norm(avx2_norm_table, K_COUNT(avx2_norm_table), sh);
}

/* x dtype, cos dtype -> the family serving them; k_select then picks the layout's kernel. */
static const k_entry avx2_table[] = {
    {ROPE_F32, ROPE_F32, &f32_cosf32},
    {ROPE_F16, ROPE_F16, &f16_cosf16},
    {ROPE_F16, ROPE_F32, &f16_cosf32},
    {ROPE_BF16, ROPE_BF16, &bf16_cosbf16},
    {ROPE_BF16, ROPE_F32, &bf16_cosf32},
};

static rope_kernel_fn avx2_select(const rope_kernel_shape *sh) { return k_select(avx2_table, K_COUNT(avx2_table), sh); }

static void avx2_fence(void) { _mm_sfence(); }

static const rope_kernel_info avx2_store_info = K_STORE_INFO(rope_kernel_store__avx2);

static const rope_kernel_info *avx2_kernel_at(size_t i) {
    return k_kernel_at(avx2_table, K_COUNT(avx2_table), avx2_norm_table, K_COUNT(avx2_norm_table), &avx2_store_info, &i);
}

const rope_kernel_set rope_kernels_avx2 = {ROPE_ISA_AVX2, rope_x86_has_avx2, avx2_select, avx2_fence, avx2_select_norm,
                                       rope_kernel_store__avx2, avx2_kernel_at};
