/* SPDX-License-Identifier: MIT */
/* The floor loop on AVX2 (bench_loops.h): 8 float32 lanes, f16 through F16C, bf16 narrowed in
 * integer arithmetic (nearest even, as rope_f32_to_bf16 for every non-NaN value). Compiled with the
 * library's AVX2 flags (CMakeLists.txt); without them the entry says it did not run. */
#include "bench_loops.h"

#if defined(__AVX2__) && defined(__F16C__)
#include <immintrin.h>

#define BL_VL 8
typedef __m256 bl_vec;

static inline __attribute__((always_inline)) __m256 bl_widen_bf16(__m128i h) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

static inline __attribute__((always_inline)) bl_vec bl_ld(rope_dtype t, const void *p) {
    if (t == ROPE_F32) return _mm256_loadu_ps(p);
    __m128i h = _mm_loadu_si128((const __m128i *)p);
    return t == ROPE_F16 ? _mm256_cvtph_ps(h) : bl_widen_bf16(h);
}

static inline __attribute__((always_inline)) void bl_st(rope_dtype t, void *p, bl_vec v) {
    if (t == ROPE_F32) {
        _mm256_storeu_ps(p, v);
    } else if (t == ROPE_F16) {
        _mm_storeu_si128((__m128i *)p, _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    } else { /* u + 0x7fff + the lowest kept bit, the upper halves packed */
        __m256i u = _mm256_castps_si256(v);
        __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(1));
        u = _mm256_srli_epi32(_mm256_add_epi32(u, _mm256_add_epi32(lsb, _mm256_set1_epi32(0x7fff))), 16);
        __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi32(u, u), 0x08); /* lanes 0 and 2 */
        _mm_storeu_si128((__m128i *)p, _mm256_castsi256_si128(packed));
    }
}

static inline __attribute__((always_inline)) bl_vec bl_ld_dup(rope_dtype t, const void *p) {
    __m128 h;
    if (t == ROPE_F32) h = _mm_loadu_ps(p);
    else if (t == ROPE_F16) h = _mm_cvtph_ps(_mm_loadl_epi64((const __m128i *)p));
    else h = _mm_castsi128_ps(_mm_slli_epi32(_mm_cvtepu16_epi32(_mm_loadl_epi64((const __m128i *)p)), 16));
    return _mm256_permutevar8x32_ps(_mm256_castps128_ps256(h), _mm256_set_epi32(3, 3, 2, 2, 1, 1, 0, 0));
}

static inline __attribute__((always_inline)) bl_vec bl_swap(bl_vec v) { return _mm256_permute_ps(v, 0xb1); }

static inline __attribute__((always_inline)) bl_vec bl_neg_even(bl_vec v) {
    return _mm256_xor_ps(v,
                         _mm256_castsi256_ps(_mm256_set_epi32(0, INT32_MIN, 0, INT32_MIN, 0, INT32_MIN, 0, INT32_MIN)));
}

static inline __attribute__((always_inline)) bl_vec bl_mul(bl_vec a, bl_vec b) { return _mm256_mul_ps(a, b); }
static inline __attribute__((always_inline)) bl_vec bl_add(bl_vec a, bl_vec b) { return _mm256_add_ps(a, b); }
static inline __attribute__((always_inline)) bl_vec bl_sub(bl_vec a, bl_vec b) { return _mm256_sub_ps(a, b); }

#include "bench_loop_body.h"

BL_ENTRY(bench_loop_avx2)

#else
int bench_loop_avx2(const bench_loop_job *job, size_t lo, size_t hi) { /* not built for this set */
    (void)job;
    (void)lo;
    (void)hi;
    return 0;
}
#endif
