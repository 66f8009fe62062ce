/* SPDX-License-Identifier: MIT */
/* The store piece built with AVX-512 (cmake/kernels.cmake gives this file the flags; store_body.h),
 * with the fp8 conversion written in intrinsics: the compiler's vectorisation of the portable loop
 * spilled (the store was 59% of a decode call with an fp8 cache, perf). Streaming stores for the
 * cache when the caller asks (docs/PERFORMANCE.md, "The cache write's stores"). */
#include <immintrin.h>
#include <stdint.h>

#include "../core/fp8.h"

/* rope_fp8_convert (core/fp8.h) on 16 lanes, operation for operation: the same unsigned 32-bit
 * integer steps (wrapping alike), the same two float32 operations for the subnormal code, the same
 * selections by mask. Returns the number of elements converted (whole vectors). */
static size_t convert_fp8_avx512(const float *v, uint8_t *out, size_t n, const rope_fp8_format *fmt, int nt) {
    const uint32_t mant = fmt->mant, bias = fmt->bias, shift = 23u - mant;
    const uint32_t max_exp = (uint32_t)fmt->max_code >> mant;
    const uint32_t max_bits =
        ((max_exp + 127u - bias) << 23) | (((uint32_t)fmt->max_code & ((1u << mant) - 1u)) << (23u - mant));
    const __m512i c_abs = _mm512_set1_epi32(0x7fffffff), c_inf = _mm512_set1_epi32(0x7f800000);
    const __m512i c_max = _mm512_set1_epi32((int)max_bits), c_0x80 = _mm512_set1_epi32(0x80);
    const __m512i c_half = _mm512_set1_epi32((int)((1u << (shift - 1u)) - 1u)), c_one = _mm512_set1_epi32(1);
    const __m512i c_rebias = _mm512_set1_epi32((int)((127u - bias) << mant));
    const __m512i c_min_normal = _mm512_set1_epi32((int)((128u - bias) << 23));
    const __m512i c_nan = _mm512_set1_epi32(fmt->nan_code);
    const __m512 c_scale = _mm512_castsi512_ps(_mm512_set1_epi32((int)((bias - 1u + mant + 127u) << 23)));
    const __m512 c_2p23 = _mm512_set1_ps(8388608.0f);
    const __m128i c_shift = _mm_cvtsi32_si128((int)shift);
    nt = nt && ((uintptr_t)out & 15) == 0; /* 16 codes a vector: streamed when aligned */
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512i x = _mm512_castps_si512(_mm512_loadu_ps(v + i));
        __m512i sign = _mm512_and_si512(_mm512_srli_epi32(x, 24), c_0x80);
        __m512i ax = _mm512_and_si512(x, c_abs);
        __mmask16 nan = _mm512_cmpgt_epu32_mask(ax, c_inf);
        __mmask16 big = _mm512_cmpge_epu32_mask(ax, c_max);
        __m512i a = _mm512_mask_mov_epi32(ax, big, c_max);
        __m512i lsb = _mm512_and_si512(_mm512_srl_epi32(a, c_shift), c_one);
        __m512i rounded = _mm512_add_epi32(_mm512_add_epi32(a, c_half), lsb);
        __m512i normal = _mm512_sub_epi32(_mm512_srl_epi32(rounded, c_shift), c_rebias);
        __m512 scaled = _mm512_mul_ps(_mm512_castsi512_ps(a), c_scale);
        __m512 sub = _mm512_sub_ps(_mm512_add_ps(scaled, c_2p23), c_2p23);
        __m512i subnormal = _mm512_cvttps_epi32(sub);
        __mmask16 is_normal = _mm512_cmpge_epu32_mask(a, c_min_normal);
        __m512i code = _mm512_mask_mov_epi32(subnormal, is_normal, normal);
        code = _mm512_mask_mov_epi32(code, nan, c_nan);
        __m128i codes = _mm512_cvtepi32_epi8(_mm512_or_si512(sign, code));
        if (nt) _mm_stream_si128((__m128i *)(void *)(out + i), codes);
        else _mm_storeu_si128((__m128i *)(void *)(out + i), codes);
    }
    return i;
}

#define ROPE_STORE_STREAM_BYTES 64
#define ROPE_STORE_STREAM_VECTOR(d, s) _mm512_stream_si512((void *)(d), _mm512_loadu_si512((const void *)(s)))
#define ROPE_STORE_CONVERT_VECTORS(v, out, n, fmt, nt) convert_fp8_avx512(v, out, n, fmt, nt)
#define ROPE_STORE_NAME rope_kernel_store__avx512
#include "store_body.h"
