/* SPDX-License-Identifier: MIT */
/* rope_f32_to_fp8 (the KV-cache store's conversion) against an independent reference: each format's
 * 256 codes decoded from the OCP definition, the nearest one found by a search over them (ties to
 * the even code), saturation past the largest finite value, NaN to the format's NaN with its sign.
 * Exhaustive over every f16 and every bf16 value, every float32 pattern near the formats' range
 * (all upper 13 mantissa bits with the low 10 bits at the rounding edges), and specials. */
#include <math.h>
#include <string.h>

#include "harness.h"
#include "reference.h"

typedef struct fmt {
    rope_dtype dt;
    int mant, bias;
    int max_code, nan_code;
    double value[128]; /* codes 0 .. 127 (positive) decoded */
} fmt;

static void decode_all(fmt *f) {
    for (int c = 0; c < 128; c++) {
        int e = c >> f->mant, m = c & ((1 << f->mant) - 1);
        if (e == 0) f->value[c] = ldexp((double)m, 1 - f->bias - f->mant); /* subnormal */
        else f->value[c] = ldexp(1.0 + (double)m / (double)(1 << f->mant), e - f->bias);
    }
}

static uint8_t reference(const fmt *f, double v) {
    if (isnan(v)) return (uint8_t)((signbit(v) ? 0x80 : 0) | f->nan_code);
    uint8_t sign = signbit(v) ? 0x80 : 0;
    double a = fabs(v);
    if (a >= f->value[f->max_code]) return (uint8_t)(sign | f->max_code);
    int lo = 0, hi = f->max_code; /* value[lo] <= a < value[hi] */
    while (hi - lo > 1) {
        int mid = (lo + hi) / 2;
        if (f->value[mid] <= a) lo = mid;
        else hi = mid;
    }
    double dl = a - f->value[lo], dh = f->value[hi] - a;
    int code = dl < dh ? lo : dh < dl ? hi : (lo % 2 == 0 ? lo : hi);
    return (uint8_t)(sign | code);
}

static int check_one(const fmt *f, float x) {
    uint8_t got = rope_f32_to_fp8(x, f->dt), want = reference(f, (double)x);
    if (got == want) return 1;
    uint32_t bits;
    memcpy(&bits, &x, sizeof bits);
    CHECK(got == want, "%s of %.9g (0x%08x): got 0x%02x, want 0x%02x", rope_dtype_name(f->dt), (double)x, bits, got,
          want);
    return 0;
}

int main(void) {
    fmt e4 = {ROPE_FP8_E4M3, 3, 7, 0x7e, 0x7f, {0}}, e5 = {ROPE_FP8_E5M2, 2, 15, 0x7b, 0x7e, {0}};
    decode_all(&e4);
    decode_all(&e5);
    e5.value[0x7c] = INFINITY; /* e5m2's exponent 31: infinity and NaNs, never produced */
    CHECK(e4.value[0x7e] == 448.0 && e5.value[0x7b] == 57344.0, "largest finite values %g %g", e4.value[0x7e],
          e5.value[0x7b]);
    fmt *fs[2] = {&e4, &e5};
    for (int k = 0; k < 2; k++) {
        const fmt *f = fs[k];
        long bad = 0, n = 0;
        for (uint32_t h = 0; h < 65536 && bad < 10; h++, n += 2) {
            bad += !check_one(f, (float)ref_f16_value((uint16_t)h));
            bad += !check_one(f, (float)ref_bf16_value((uint16_t)h));
        }
        /* float32: exponents from 2^-30 to 2^17, both signs */
        static const uint32_t low[] = {0x000, 0x001, 0x1ff, 0x200, 0x201, 0x3ff};
        for (uint32_t e = 97; e <= 144 && bad < 10; e++)
            for (uint32_t up = 0; up < (1u << 13); up++)
                for (size_t l = 0; l < sizeof low / sizeof low[0]; l++)
                    for (uint32_t s = 0; s < 2; s++, n++) {
                        uint32_t bits = (s << 31) | (e << 23) | (up << 10) | low[l];
                        float x;
                        memcpy(&x, &bits, sizeof x);
                        bad += !check_one(f, x);
                    }
        static const float special[] = {0.0f, -0.0f, 1e-45f, -1e-45f, 1e-38f, 3.4e38f, -3.4e38f, 1.0f};
        for (size_t i = 0; i < sizeof special / sizeof special[0]; i++) bad += !check_one(f, special[i]);
        bad += !check_one(f, INFINITY) + !check_one(f, -INFINITY) + !check_one(f, NAN) + !check_one(f, -NAN);
        CHECK(bad == 0, "%s: %ld of %ld conversions differ", rope_dtype_name(f->dt), bad, n);
        tu_passed++; /* the format as a whole */
    }
    /* Saturation and NaN, as rope.h states them */
    CHECK(rope_f32_to_fp8(INFINITY, ROPE_FP8_E4M3) == 0x7e && rope_f32_to_fp8(-INFINITY, ROPE_FP8_E4M3) == 0xfe,
          "e4m3 infinity saturates to +-448");
    CHECK(rope_f32_to_fp8(1e6f, ROPE_FP8_E5M2) == 0x7b, "e5m2 1e6 saturates to 57344");
    CHECK(rope_f32_to_fp8(NAN, ROPE_FP8_E4M3) == 0x7f && rope_f32_to_fp8(-NAN, ROPE_FP8_E5M2) == 0xfe, "NaN kept");
    CHECK(rope_f32_to_fp8(464.0f, ROPE_FP8_E4M3) == 0x7e, "464 (halfway to 480, beyond max) saturates");
    CHECK(rope_f32_to_fp8(1.0f, ROPE_F32) == 0, "a non-fp8 dtype gives 0");
    return tu_finish();
}
