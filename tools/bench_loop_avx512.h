/* SPDX-License-Identifier: MIT */
/* The AVX-512 primitives of the floor loop (bench_loop_body.h): 16 float32 lanes, f16 through F16C,
 * bf16 narrowed in integer arithmetic (nearest even, as rope_f32_to_bf16 for every non-NaN value),
 * or with BL_NATIVE_BF16 by vcvtneps2bf16. Included by bench_loops_avx512.c and
 * bench_loops_avx512bf16.c, each compiled with its set's flags (CMakeLists.txt); BL_BUILT is defined
 * when the flags are there (not on another architecture, nor with a compiler that lacks them). */
#ifndef ROPE_TOOL_BENCH_LOOP_AVX512_H
#define ROPE_TOOL_BENCH_LOOP_AVX512_H

#include "bench_loops.h"

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512DQ__) && defined(__F16C__) &&                     \
    (!defined(BL_NATIVE_BF16) || defined(__AVX512BF16__))
#include <immintrin.h>
#include <string.h>

#define BL_VL 16
typedef __m512 bl_vec;

static inline __attribute__((always_inline)) __m512 bl_widen_bf16(__m256i h) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

static inline __attribute__((always_inline)) bl_vec bl_ld(rope_dtype t, const void *p) {
    if (t == ROPE_F32) return _mm512_loadu_ps(p);
    __m256i h = _mm256_loadu_si256((const __m256i *)p);
    return t == ROPE_F16 ? _mm512_cvtph_ps(h) : bl_widen_bf16(h);
}

static inline __attribute__((always_inline)) void bl_st(rope_dtype t, void *p, bl_vec v) {
    if (t == ROPE_F32) {
        _mm512_storeu_ps(p, v);
    } else if (t == ROPE_F16) {
        _mm256_storeu_si256((__m256i *)p, _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    } else {
#if defined(BL_NATIVE_BF16)
        __m256bh b = _mm512_cvtneps_pbh(v); /* subnormal inputs read as zero: no fix-up in a floor */
        __m256i r;
        memcpy(&r, &b, sizeof r); /* the bf16 vector type differs between compilers; the bits do not */
        _mm256_storeu_si256((__m256i *)p, r);
#else
        __m512i u = _mm512_castps_si512(v); /* u + 0x7fff + the lowest kept bit, upper halves kept */
        __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
        u = _mm512_add_epi32(u, _mm512_add_epi32(lsb, _mm512_set1_epi32(0x7fff)));
        _mm256_storeu_si256((__m256i *)p, _mm512_cvtepi32_epi16(_mm512_srli_epi32(u, 16)));
#endif
    }
}

static inline __attribute__((always_inline)) bl_vec bl_ld_dup(rope_dtype t, const void *p) {
    __m256 h;
    if (t == ROPE_F32) h = _mm256_loadu_ps(p);
    else if (t == ROPE_F16) h = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
    else h = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p)), 16));
    const __m512i idx = _mm512_set_epi32(7, 7, 6, 6, 5, 5, 4, 4, 3, 3, 2, 2, 1, 1, 0, 0);
    return _mm512_permutexvar_ps(idx, _mm512_castps256_ps512(h));
}

static inline __attribute__((always_inline)) bl_vec bl_swap(bl_vec v) { return _mm512_permute_ps(v, 0xb1); }

static inline __attribute__((always_inline)) bl_vec bl_neg_even(bl_vec v) {
    const __m512 sign = _mm512_castsi512_ps(_mm512_set_epi32(0, INT32_MIN, 0, INT32_MIN, 0, INT32_MIN, 0, INT32_MIN, 0,
                                                             INT32_MIN, 0, INT32_MIN, 0, INT32_MIN, 0, INT32_MIN));
    return _mm512_xor_ps(v, sign);
}

static inline __attribute__((always_inline)) bl_vec bl_mul(bl_vec a, bl_vec b) { return _mm512_mul_ps(a, b); }
static inline __attribute__((always_inline)) bl_vec bl_add(bl_vec a, bl_vec b) { return _mm512_add_ps(a, b); }
static inline __attribute__((always_inline)) bl_vec bl_sub(bl_vec a, bl_vec b) { return _mm512_sub_ps(a, b); }

#include "bench_loop_body.h"
#define BL_BUILT 1
#endif

#endif
