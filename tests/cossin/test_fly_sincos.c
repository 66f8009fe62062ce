/* SPDX-License-Identifier: MIT */
/*
 * The angle block of every instruction set this CPU runs (rope_fly_sincos_for: cache/angle_body.h's
 * loop, vectorized per build) gives bitwise rope_angle_sincos, the scalar the cache is built with:
 * random positions from 0 to 2^40, frequencies from 4 down to 1e-9 (ROPE_FREQ_... scalings make
 * inverse frequencies above 1), block lengths 1..70 (every vector remainder), and angles at and
 * past the accurate range's limit (the block's scalar fall-back). Random data, fixed seed.
 */
#include <math.h>
#include <string.h>

#include "cache/angle.h"
#include "cossin/fly_values.h"
#include "harness.h"
#include "kernels/kernel.h"

static int runs(rope_isa isa) {
    if (isa == ROPE_ISA_SCALAR) return 1;
    const rope_kernel_set *s = rope_kernels_for(isa);
    return s && s->cpu_has();
}

int main(void) {
    tu_seed(2718);
    for (int isa = ROPE_ISA_SCALAR; isa < ROPE_ISA_COUNT_; isa++) {
        if (!runs((rope_isa)isa)) continue;
        rope_fly_sincos_fn fn = rope_fly_sincos_for((rope_isa)isa);
        long compared = 0, differ = 0;
        for (int n = 0; n < 20000; n++) {
            double inv[70], c[70], s[70];
            size_t len = (size_t)tu_int(1, 70);
            int64_t p = tu_int(0, (int64_t)1 << tu_int(0, 40));
            for (size_t i = 0; i < len; i++) inv[i] = 4.0 * pow(10.0, -tu_uniform(0, 9.6));
            if (n % 50 == 0) inv[len - 1] = p ? 0x1p46 / (double)p * tu_uniform(0.999, 2.0) : 1.0; /* at the limit */
            fn(p, inv, len, c, s);
            for (size_t i = 0; i < len; i++) {
                double wc, ws;
                rope_angle_sincos(p, inv[i], &wc, &ws);
                compared++;
                if (memcmp(&wc, &c[i], sizeof wc) || memcmp(&ws, &s[i], sizeof ws)) {
                    if (differ++ < 3)
                        CHECK(0, "%s: p %lld inv %a: block %a %a, scalar %a %a", rope_isa_name((rope_isa)isa),
                              (long long)p, inv[i], c[i], s[i], wc, ws);
                }
            }
        }
        CHECK(differ == 0, "%s: %ld of %ld values differ", rope_isa_name((rope_isa)isa), differ, compared);
        printf("%s: %ld values bitwise rope_angle_sincos\n", rope_isa_name((rope_isa)isa), compared);
    }
    return tu_finish();
}
