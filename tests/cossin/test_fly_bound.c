/* SPDX-License-Identifier: MIT */
/*
 * The error bound cossin/fly_rows.c relies on to make on-the-fly values bitwise the cache's: a value
 * v = ca*ct -+ sa*st built from the anchor cos/sin(P * inv) and the step cos/sin(j * inv) (both from
 * rope_angle_sincos) differs from w = rope_angle_sincos(P + j, inv) by at most K * 2^-53 * T, where
 * T = |ca*ct| + |sa*st| is the size of the terms. fly_rows.c brackets v with 2^-44 * T; this measures
 * |v - w| / T over random anchors up to 2^30, steps up to 127 and frequencies from 1 down to 1e-7,
 * and requires it below 2^-48: a 16-fold margin.
 *
 * Scattered positions take their anchor from digit tables (fly_rows.c, anchor_values): cos/sin of
 * d * block^k for each nonzero base-block digit d of P / block, multiplied as complex numbers in the
 * digits' order. Such an anchor is accurate absolutely, not relatively, and its value brackets add
 * ROPE_FLY_SLACK_PRODUCT (2^-40): this measures |v - w| over random anchors of 2 to 6 digits (blocks
 * 16 to 128, positions up to 2^40) and requires it below 2^-44, again a 16-fold margin. Random data,
 * fixed seed.
 */
#include <math.h>

#include "cache/angle.h"
#include "harness.h"

int main(void) {
    tu_seed(5150);
    double worst = 0;
    for (int n = 0; n < 400000; n++) {
        int64_t block = (int64_t)1 << tu_int(4, 7);
        int64_t anchor = tu_int(0, (int64_t)1 << tu_int(4, 30)) / block * block, j = tu_int(0, block - 1);
        double inv = pow(10.0, -tu_uniform(0, 7));
        double ca, sa, ct, st, wc, ws;
        rope_angle_sincos(anchor, inv, &ca, &sa);
        rope_angle_sincos(j, inv, &ct, &st);
        rope_angle_sincos(anchor + j, inv, &wc, &ws);
        double a = ca * ct, b = sa * st, e = sa * ct, g = ca * st;
        double rc = fabs((a - b) - wc) / (fabs(a) + fabs(b)), rs = fabs((e + g) - ws) / (fabs(e) + fabs(g));
        if (rc > worst) worst = rc;
        if (rs > worst) worst = rs;
    }
    CHECK(worst < 0x1p-48, "worst |v - w| / T = 2^%.2f", log2(worst));
    printf("worst |v - w| / T = 2^%.2f (fly_rows.c brackets with 2^-44)\n", log2(worst));

    double worst_abs = 0;
    for (int n = 0; n < 200000; n++) {
        int64_t block = (int64_t)1 << tu_int(4, 7), j = tu_int(0, block - 1);
        uint64_t q = (uint64_t)tu_int(0, ((int64_t)1 << tu_int(8, 40)) / block);
        double inv = pow(10.0, -tu_uniform(0, 7));
        if ((double)(q * (uint64_t)block + (uint64_t)j) * inv >= 0x1p46) continue;
        double ca = 1, sa = 0, ct, st, wc, ws;
        int factors = 0;
        int64_t unit = block;
        for (uint64_t r = q; r; r /= (uint64_t)block, unit *= block) { /* fly_rows.c's anchor_values */
            int64_t d = (int64_t)(r % (uint64_t)block);
            if (!d) continue;
            double c, s;
            rope_angle_sincos(d * unit, inv, &c, &s);
            if (!factors++) {
                ca = c, sa = s;
            } else {
                double a = ca * c - sa * s, b = sa * c + ca * s;
                ca = a, sa = b;
            }
        }
        if (factors < 2) continue;
        rope_angle_sincos(j, inv, &ct, &st);
        rope_angle_sincos((int64_t)q * block + j, inv, &wc, &ws);
        double ec = fabs((ca * ct - sa * st) - wc), es = fabs((sa * ct + ca * st) - ws);
        if (ec > worst_abs) worst_abs = ec;
        if (es > worst_abs) worst_abs = es;
    }
    CHECK(worst_abs < 0x1p-44, "product anchors: worst |v - w| = 2^%.2f", log2(worst_abs));
    printf("product anchors: worst |v - w| = 2^%.2f (fly_rows.c adds 2^-40)\n", log2(worst_abs));
    return tu_finish();
}
