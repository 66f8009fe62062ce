/* SPDX-License-Identifier: MIT */
/* The store piece of the KV-cache write (kernels/store_body.h) built for each instruction set this
 * CPU runs gives the bytes of the portable build: every f16 and every bf16 bit pattern, and f32
 * values (random, special, near the fp8 ranges' edges), converted to fp8 e4m3 and e5m2 at several
 * scales (saturating ones included), and copied to a cache of the source dtype; several heads with
 * strides on both sides. (The portable conversion itself is checked exhaustively against an
 * independent reference in tests/core/test_fp8.c.) */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "kernel_data.h"
#include "kernel_sets.h"

enum { HS = 128, HEADS = 4, SRC_STRIDE = 136, DST_STRIDE = 140, N = HEADS * SRC_STRIDE };

static long cases;

static void compare(const rope_kernel_set *set, const char *name, rope_dtype src_t, const void *src, rope_dtype dst_t,
                    float scale) {
    size_t des = rope_dtype_size(dst_t), bytes = (size_t)(HEADS * DST_STRIDE) * des;
    unsigned char *want = tu_xmalloc(bytes), *got = tu_xmalloc(bytes);
    memset(want, 0x5a, bytes), memset(got, 0x5a, bytes);
    rope_kernels_store(NULL)(src_t, src, SRC_STRIDE, dst_t, want, DST_STRIDE, HEADS, HS, scale);
    rope_kernels_store(set)(src_t, src, SRC_STRIDE, dst_t, got, DST_STRIDE, HEADS, HS, scale);
    cases++;
    CHECK(memcmp(want, got, bytes) == 0, "%s: %s -> %s at scale %g differs from the portable build", name,
          rope_dtype_name(src_t), rope_dtype_name(dst_t), (double)scale);
    free(want), free(got);
}

static void run_set(const rope_kernel_set *set, const char *name) {
    static const float scales[] = {1.0f, 0.37f, 1e-3f, 300.0f, 3.0e-5f};
    static const rope_dtype fp8[] = {ROPE_FP8_E4M3, ROPE_FP8_E5M2};
    uint16_t h[N];
    for (uint32_t base = 0; base < 65536; base += HEADS * HS) { /* every 16-bit pattern, as f16 and as bf16 */
        for (int i = 0; i < N; i++) h[i] = (uint16_t)(base + (uint32_t)((i / SRC_STRIDE) * HS + i % SRC_STRIDE));
        for (int s = 0; s < 5; s++)
            for (int k = 0; k < 2; k++) {
                compare(set, name, ROPE_F16, h, fp8[k], scales[s]);
                compare(set, name, ROPE_BF16, h, fp8[k], scales[s]);
            }
        compare(set, name, ROPE_F16, h, ROPE_F16, 1.0f);
        compare(set, name, ROPE_BF16, h, ROPE_BF16, 1.0f);
    }
    float f[N];
    for (int r = 0; r < 200; r++) {
        tk_fill(ROPE_F32, f, N, r % 4 == 0 ? 0.2 : 0.0);
        if (r % 3 == 1) /* near the formats' largest and smallest values */
            for (int i = 0; i < N; i++) f[i] *= r % 2 ? 120.0f : 1.0f / 4096.0f;
        for (int s = 0; s < 5; s++)
            for (int k = 0; k < 2; k++) compare(set, name, ROPE_F32, f, fp8[k], scales[s]);
        compare(set, name, ROPE_F32, f, ROPE_F32, 1.0f);
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
    for (int s = 0; s < n; s++) {
        run_set(sets[s].set, sets[s].name);
        printf("store piece %s: %ld cases bitwise the portable build\n", sets[s].name, cases);
        cases = 0;
    }
    return tu_finish();
}
