/* SPDX-License-Identifier: MIT */
/* The store piece of the KV-cache write (kernels/store_body.h) built for each instruction set this
 * CPU runs gives the bytes of the portable build: every f16 and every bf16 bit pattern, and f32
 * values (random, special, near the fp8 ranges' edges), converted to fp8 e4m3 and e5m2 at several
 * scales (saturating ones included), and copied to a cache of the source dtype; several heads with
 * strides on both sides. (The portable conversion itself is checked exhaustively against an
 * independent reference in tests/core/test_fp8.c.) The portable build is also checked element by
 * element against value / scale divided here and converted by rope_f32_to_fp8, at scales that take
 * its exact-reciprocal path (powers of two) and scales that do not. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "kernel_data.h"
#include "kernel_sets.h"

enum { HS = 128, HEADS = 4, SRC_STRIDE = 136, DST_STRIDE = 140, N = HEADS * SRC_STRIDE };

static long cases;
static const rope_kernel_set *sets_first; /* the reference check runs once, with the first set */

static void compare(const rope_kernel_set *set, const char *name, rope_dtype src_t, const void *src, rope_dtype dst_t,
                    float scale) {
    size_t des = rope_dtype_size(dst_t), bytes = (size_t)(HEADS * DST_STRIDE) * des;
    unsigned char *want = tu_xmalloc(bytes), *got = tu_xmalloc(bytes);
    memset(want, 0x5a, bytes), memset(got, 0x5a, bytes);
    rope_kernels_store(NULL)(src_t, src, SRC_STRIDE, dst_t, want, DST_STRIDE, HEADS, HS, scale, 0);
    for (int nt = 0; nt < 2; nt++) { /* through the cache, then streaming (fenced as the engine does) */
        memset(got, 0x5a, bytes);
        rope_kernels_store(set)(src_t, src, SRC_STRIDE, dst_t, got, DST_STRIDE, HEADS, HS, scale, nt);
        if (nt && set->fence) set->fence();
        cases++;
        CHECK(memcmp(want, got, bytes) == 0, "%s: %s -> %s at scale %g%s differs from the portable build", name,
              rope_dtype_name(src_t), rope_dtype_name(dst_t), (double)scale, nt ? " (streaming)" : "");
    }
    free(want), free(got);
}

/* A token's heads contiguous on both sides (NHD's one copy), at every offset of dst in a line, so the
 * streaming copy's ragged ends are covered. */
static void compare_contiguous(const rope_kernel_set *set, const char *name, rope_dtype t, const void *src) {
    size_t es = rope_dtype_size(t), bytes = (size_t)(HEADS * HS) * es;
    unsigned char *want = tu_xmalloc(bytes + 128), *got = tu_xmalloc(bytes + 128);
    for (size_t off = 0; off < 64; off += es) {
        memset(want, 0x5a, bytes + 128), memset(got, 0x5a, bytes + 128);
        rope_kernels_store(NULL)(t, src, HS, t, want + off, HS, HEADS, HS, 1.0f, 0);
        rope_kernels_store(set)(t, src, HS, t, got + off, HS, HEADS, HS, 1.0f, 1);
        if (set->fence) set->fence();
        cases++;
        CHECK(memcmp(want, got, bytes + 128) == 0, "%s: contiguous %s copy at offset %zu (streaming) differs", name,
              rope_dtype_name(t), off);
    }
    free(want), free(got);
}

/* Element e of head h as float32, as the store widens it. */
static float widened(rope_dtype t, const void *src, size_t i) {
    if (t == ROPE_F32) return ((const float *)src)[i];
    uint16_t v = ((const uint16_t *)src)[i];
    return t == ROPE_F16 ? rope_f16_to_f32(v) : rope_bf16_to_f32(v);
}

static void against_division(rope_dtype src_t, const void *src, rope_dtype dst_t, float scale) {
    uint8_t out[HEADS * DST_STRIDE];
    rope_kernels_store(NULL)(src_t, src, SRC_STRIDE, dst_t, out, DST_STRIDE, HEADS, HS, scale, 0);
    for (size_t h = 0; h < HEADS; h++)
        for (size_t e = 0; e < HS; e++) {
            uint8_t want = rope_f32_to_fp8(widened(src_t, src, h * SRC_STRIDE + e) / scale, dst_t);
            CHECK(out[h * DST_STRIDE + e] == want, "portable store %s -> %s at scale %g, head %zu element %zu: 0x%02x, "
                  "expected 0x%02x", rope_dtype_name(src_t), rope_dtype_name(dst_t), (double)scale, h, e,
                  out[h * DST_STRIDE + e], want);
        }
    cases++;
}

/* Powers of two (the reciprocal path: 1, 2^-1, 2^1, 2^-20, 2^100, 2^126, and 2^127 and 2^-127 whose
 * reciprocals are not normal) and others. */
static const float scales[] = {1.0f, 0.37f, 1e-3f, 300.0f, 3.0e-5f, 0.5f, 2.0f, 0x1p-20f, 0x1p100f, 0x1p126f,
                               0x1p127f, 0x1p-127f};
enum { N_SCALES = sizeof scales / sizeof scales[0] };

static void run_set(const rope_kernel_set *set, const char *name) {
    static const rope_dtype fp8[] = {ROPE_FP8_E4M3, ROPE_FP8_E5M2};
    uint16_t h[N];
    for (uint32_t base = 0; base < 65536; base += HEADS * HS) { /* every 16-bit pattern, as f16 and as bf16 */
        for (int i = 0; i < N; i++) h[i] = (uint16_t)(base + (uint32_t)((i / SRC_STRIDE) * HS + i % SRC_STRIDE));
        for (int s = 0; s < N_SCALES; s++)
            for (int k = 0; k < 2; k++) {
                compare(set, name, ROPE_F16, h, fp8[k], scales[s]);
                compare(set, name, ROPE_BF16, h, fp8[k], scales[s]);
                if (set == sets_first) {
                    against_division(ROPE_F16, h, fp8[k], scales[s]);
                    against_division(ROPE_BF16, h, fp8[k], scales[s]);
                }
            }
        compare(set, name, ROPE_F16, h, ROPE_F16, 1.0f);
        compare(set, name, ROPE_BF16, h, ROPE_BF16, 1.0f);
        compare_contiguous(set, name, ROPE_BF16, h);
    }
    float f[N];
    for (int r = 0; r < 200; r++) {
        tk_fill(ROPE_F32, f, N, r % 4 == 0 ? 0.2 : 0.0);
        if (r % 3 == 1) /* near the formats' largest and smallest values */
            for (int i = 0; i < N; i++) f[i] *= r % 2 ? 120.0f : 1.0f / 4096.0f;
        for (int s = 0; s < N_SCALES; s++)
            for (int k = 0; k < 2; k++) {
                compare(set, name, ROPE_F32, f, fp8[k], scales[s]);
                if (set == sets_first) against_division(ROPE_F32, f, fp8[k], scales[s]);
            }
        compare(set, name, ROPE_F32, f, ROPE_F32, 1.0f);
        if (r < 4) compare_contiguous(set, name, ROPE_F32, f);
    }
}

int main(void) {
    tk_set sets[8];
    int n = tk_sets(sets);
    if (n == 0) {
        printf("no SIMD kernel runs on this CPU: nothing to compare\n");
        return 77;
    }
    tu_seed(0x5707e);
    sets_first = sets[0].set;
    for (int s = 0; s < n; s++) {
        run_set(sets[s].set, sets[s].name);
        printf("store piece %s: %ld cases bitwise the portable build\n", sets[s].name, cases);
        cases = 0;
    }
    return tu_finish();
}
