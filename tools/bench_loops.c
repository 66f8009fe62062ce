/* SPDX-License-Identifier: MIT */
/* The floor loop's choice and its portable C form (bench_loops.h); the vector forms live in
 * bench_loops_<set>.c, each compiled with its set's flags. */
#include "bench_loops.h"

#include <math.h>
#include <string.h>

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#define BL_X86 1
#endif

const char *bench_loop_name(bench_loop_kind k) {
    switch (k) {
    case BENCH_LOOP_NONE: return "-";
    case BENCH_LOOP_C: return "c";
    case BENCH_LOOP_AVX2: return "avx2";
    case BENCH_LOOP_AVX512: return "avx512";
    case BENCH_LOOP_AVX512BF16: return "avx512bf16";
    }
    return "?";
}

/* CPUID leaf 7 subleaf 1, EAX bit 5: AVX512_BF16 (the OS's zmm state is checked by the library,
 * whose context runs AVX-512 only where it is enabled). */
int bench_loop_cpu_has_bf16(void) {
#if defined(BL_X86)
    unsigned eax, ebx, ecx, edx;
    if (__get_cpuid_max(0, 0) < 7) return 0;
    __cpuid_count(7, 0, eax, ebx, ecx, edx);
    if (eax < 1) return 0; /* no subleaf 1 */
    __cpuid_count(7, 1, eax, ebx, ecx, edx);
    return (eax >> 5) & 1u;
#else
    return 0;
#endif
}

size_t bench_loop_units(const bench_loop_job *j) { return j->heads_outer ? j->s[0].heads * j->tokens : j->tokens; }

/* ---- the portable loop: any even head size, element by element ---------------------------------- */

static uint32_t bits_of(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float float_of(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static float widen(rope_dtype t, const void *p, size_t i) {
    if (t == ROPE_F32) return ((const float *)p)[i];
    uint32_t h = ((const uint16_t *)p)[i];
    if (t == ROPE_BF16) return float_of(h << 16);
    uint32_t sign = (h & 0x8000u) << 16, e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
    if (e == 0x1f) return float_of(sign | 0x7f800000u | (m << 13) | (m ? 0x400000u : 0u));
    if (e) return float_of(sign | ((e + 112u) << 23) | (m << 13));
    return sign ? -(float)m * 0x1p-24f : (float)m * 0x1p-24f; /* zero or subnormal, exact */
}

/* x + half of the dropped unit, plus its lowest kept bit, then the dropped bits cut: nearest even. */
static uint32_t round_shift(uint32_t x, unsigned n) { return (x + (1u << (n - 1)) - 1u + ((x >> n) & 1u)) >> n; }

static uint16_t narrow_f16(float f) {
    uint32_t x = bits_of(f), sign = (x >> 16) & 0x8000u, ax = x & 0x7fffffffu;
    if (ax > 0x7f800000u) return (uint16_t)(sign | 0x7e00u);                            /* NaN */
    if (ax >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u);                           /* rounds to infinity */
    if (ax >= 0x38800000u) return (uint16_t)(sign | round_shift(ax - 0x38000000u, 13)); /* normal */
    /* a subnormal (or zero): |f| * 2^24 rounded to an integer, nearest even (the default mode) */
    return (uint16_t)(sign | (uint32_t)nearbyintf(float_of(ax) * 0x1p24f));
}

static void store(rope_dtype t, void *p, size_t i, float v) {
    if (t == ROPE_F32) ((float *)p)[i] = v;
    else if (t == ROPE_F16) ((uint16_t *)p)[i] = narrow_f16(v);
    else ((uint16_t *)p)[i] = (uint16_t)round_shift(bits_of(v), 16);
}

static void c_head(const bench_loop_job *j, const void *x, void *y, const void *c, const void *s) {
    size_t ps = j->pair_stride, hs = j->head_size;
    rope_dtype xt = j->x_dtype, ct = j->cs_dtype;
    for (size_t g = 0; g < hs; g += 2 * ps)
        for (size_t k = 0; k < ps; k++) {
            size_t a = g + k, b = a + ps, p = g / 2 + k;
            float xa = widen(xt, x, a), xb = widen(xt, x, b);
            float ca = widen(ct, c, j->cos_full ? a : p), sa = widen(ct, s, j->cos_full ? a : p);
            float cb = widen(ct, c, j->cos_full ? b : p), sb = widen(ct, s, j->cos_full ? b : p);
            float pa = xa * ca, qa = xb * sa, pb = xa * sb, qb = xb * cb;
            store(xt, y, a, pa - qa);
            store(xt, y, b, pb + qb);
        }
}

static void c_loop(const bench_loop_job *j, size_t lo, size_t hi) {
    size_t xe = j->x_dtype == ROPE_F32 ? 4 : 2, ce = j->cs_dtype == ROPE_F32 ? 4 : 2;
    for (size_t u = lo; u < hi; u++) {
        size_t t = j->heads_outer ? u % j->tokens : u, r = j->positions ? (size_t)j->positions[t] : t;
        const char *c = (const char *)j->cos + r * j->cs_row_stride * ce;
        const char *s = (const char *)j->sin + r * j->cs_row_stride * ce;
        for (int k = 0; k < j->n_streams; k++) {
            const bench_loop_stream *st = &j->s[k];
            size_t h0 = j->heads_outer ? u / j->tokens : 0, h1 = j->heads_outer ? h0 + 1 : st->heads;
            for (size_t h = h0; h < h1; h++) {
                ptrdiff_t off = ((ptrdiff_t)t * st->token_stride + (ptrdiff_t)h * st->head_stride) * (ptrdiff_t)xe;
                c_head(j, (const char *)st->x + off, (char *)st->y + off, c, s);
            }
        }
    }
}

/* ---- the choice ------------------------------------------------------------------------------------ */

static int dtypes_have_loop(const bench_loop_job *j) {
    switch (j->x_dtype) {
    case ROPE_F32: return j->cs_dtype == ROPE_F32;
    case ROPE_F16: return j->cs_dtype == ROPE_F16 || j->cs_dtype == ROPE_F32;
    case ROPE_BF16: return j->cs_dtype == ROPE_BF16 || j->cs_dtype == ROPE_F32;
    default: return 0;
    }
}

/* Whole vectors of `lanes` float32: halves of hs/2 elements, or interleaved heads of hs. */
static int fits(const bench_loop_job *j, size_t lanes) {
    size_t run = 2 * j->pair_stride == j->head_size ? j->head_size / 2 : j->head_size;
    return run % lanes == 0;
}

bench_loop_kind bench_loop_pick(const bench_loop_job *j, rope_isa isa, int native_bf16) {
    int halves = 2 * j->pair_stride == j->head_size, interleaved = j->pair_stride == 1 && !j->cos_full;
    if (!dtypes_have_loop(j) || j->head_size < 2 || j->head_size % 2 || !(halves || interleaved))
        return BENCH_LOOP_NONE;
    if (j->heads_outer && j->n_streams != 1) return BENCH_LOOP_NONE;
    if (isa == ROPE_ISA_AVX512 && fits(j, 16)) {
        if (j->x_dtype == ROPE_BF16 && native_bf16 && bench_loop_avx512bf16(j, 0, 0)) return BENCH_LOOP_AVX512BF16;
        if (bench_loop_avx512(j, 0, 0)) return BENCH_LOOP_AVX512;
    }
    if (isa == ROPE_ISA_AVX2 && fits(j, 8) && bench_loop_avx2(j, 0, 0)) return BENCH_LOOP_AVX2;
    return BENCH_LOOP_C;
}

void bench_loop_run(bench_loop_kind k, const bench_loop_job *j, size_t part, size_t parts) {
    size_t n = bench_loop_units(j), lo = n * part / parts, hi = n * (part + 1) / parts;
    switch (k) {
    case BENCH_LOOP_AVX512BF16: bench_loop_avx512bf16(j, lo, hi); return;
    case BENCH_LOOP_AVX512: bench_loop_avx512(j, lo, hi); return;
    case BENCH_LOOP_AVX2: bench_loop_avx2(j, lo, hi); return;
    case BENCH_LOOP_C: c_loop(j, lo, hi); return;
    case BENCH_LOOP_NONE: return;
    }
}
