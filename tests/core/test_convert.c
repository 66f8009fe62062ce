/* SPDX-License-Identifier: MIT */
/* The scalar f16 / bf16 conversions against the references of tests/support/reference.c, which
 * compute values from the bit fields with ldexp and round by searching the ordered patterns. Loops
 * over many values count their mismatches and make one check, printing the first few. */
#include <float.h>
#include <math.h>
#include <string.h>

#include "harness.h"
#include "reference.h"
#include "rope.h"

static uint32_t bits_of(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static float float_of(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static int is_nan16(uint16_t h) { return (h & 0x7c00) == 0x7c00 && (h & 0x3ff); }
static int is_nan_bf16(uint16_t b) { return (b & 0x7f80) == 0x7f80 && (b & 0x7f); }

/* Mismatch counter of one loop: reports the first few, then one check for the whole loop. */
typedef struct tally {
    const char *what;
    long bad, total;
} tally;

static void note(tally *t, int ok, uint32_t input, uint32_t got, uint32_t want) {
    t->total++;
    if (ok) return;
    if (t->bad++ < 5)
        fprintf(stderr, "  %s: input 0x%08x: got 0x%08x, want 0x%08x\n", t->what, (unsigned)input, (unsigned)got,
                (unsigned)want);
}

#define CLOSE(t) CHECK((t).bad == 0, "%s: %ld of %ld wrong", (t).what, (t).bad, (t).total)

/* Every f16 pattern widens to its exact value and narrows back to itself; NaNs stay NaN, quiet,
 * with their sign. */
static void all_f16_patterns(void) {
    tally widen = {"f16 -> f32 value", 0, 0}, trip = {"f16 round trip", 0, 0};
    tally nan_w = {"f16 NaN -> f32 quiet NaN", 0, 0}, nan_n = {"f16 NaN -> f32 -> f16 quiet NaN", 0, 0};
    for (uint32_t h = 0; h < 0x10000; h++) {
        float f = rope_f16_to_f32((uint16_t)h);
        uint16_t back = rope_f32_to_f16(f);
        if (is_nan16((uint16_t)h)) {
            uint32_t u = bits_of(f);
            note(&nan_w, isnan(f) && (u & 0x400000u) && (u >> 31) == (h >> 15), h, u, 0x7fc00000u);
            note(&nan_n, is_nan16(back) && (back & 0x200) && (back >> 15) == (h >> 15), h, back, 0x7e00);
            continue;
        }
        double want = ref_f16_value((uint16_t)h);
        note(&widen, (double)f == want && !signbit(f) == !signbit(want), h, bits_of(f), bits_of((float)want));
        note(&trip, back == h, h, back, h);
    }
    CLOSE(widen);
    CLOSE(trip);
    CLOSE(nan_w);
    CLOSE(nan_n);
}

static void all_bf16_patterns(void) {
    tally widen = {"bf16 -> f32 value", 0, 0}, trip = {"bf16 round trip", 0, 0};
    tally nan_w = {"bf16 NaN -> f32 quiet NaN", 0, 0}, nan_n = {"bf16 NaN -> f32 -> bf16 quiet NaN", 0, 0};
    for (uint32_t b = 0; b < 0x10000; b++) {
        float f = rope_bf16_to_f32((uint16_t)b);
        uint16_t back = rope_f32_to_bf16(f);
        if (is_nan_bf16((uint16_t)b)) {
            uint32_t u = bits_of(f);
            note(&nan_w, isnan(f) && (u & 0x400000u) && (u >> 31) == (b >> 15), b, u, 0x7fc00000u);
            note(&nan_n, is_nan_bf16(back) && (back & 0x40) && (back >> 15) == (b >> 15), b, back, 0x7fc0);
            continue;
        }
        double want = ref_bf16_value((uint16_t)b);
        note(&widen, (double)f == want && !signbit(f) == !signbit(want), b, bits_of(f), bits_of((float)want));
        note(&trip, back == b, b, back, b);
    }
    CLOSE(widen);
    CLOSE(trip);
    CLOSE(nan_w);
    CLOSE(nan_n);
}

/* Between every two neighbouring f16 values (the last finite one and "65536", i.e. infinity,
 * included): the midpoint goes to the even pattern, one float32 step off it to the nearer side. */
static void f16_midpoints(void) {
    tally tie = {"f16 tie to even", 0, 0}, below = {"f16 just below a midpoint", 0, 0};
    tally above = {"f16 just above a midpoint", 0, 0}, refc = {"reference f16 rounding of midpoints", 0, 0};
    for (uint32_t h = 0; h < 0x7c00; h++) {
        double lo = ref_f16_value((uint16_t)h);
        double hi = h + 1 == 0x7c00 ? 65536.0 : ref_f16_value((uint16_t)(h + 1));
        float mid = (float)((lo + hi) / 2); /* 12 significant bits: exact */
        uint16_t even = (uint16_t)((h & 1) ? h + 1 : h);
        for (int sgn = 0; sgn < 2; sgn++) {
            float m = sgn ? -mid : mid;
            uint16_t s = sgn ? 0x8000 : 0;
            note(&tie, rope_f32_to_f16(m) == (s | even), bits_of(m), rope_f32_to_f16(m), s | even);
            float dn = nextafterf(m, 0.0f), up = nextafterf(m, sgn ? -INFINITY : INFINITY);
            note(&below, rope_f32_to_f16(dn) == (s | h), bits_of(dn), rope_f32_to_f16(dn), s | h);
            note(&above, rope_f32_to_f16(up) == (s | (h + 1)), bits_of(up), rope_f32_to_f16(up), s | (h + 1));
            note(&refc, ref_f16_round(m) == (s | even) && ref_f16_round(up) == (s | (h + 1)), bits_of(m),
                 ref_f16_round(m), s | even);
        }
    }
    CLOSE(tie);
    CLOSE(below);
    CLOSE(above);
    CLOSE(refc);
}

/* The same for bf16: the midpoint above pattern b is the float32 (b << 16) | 0x8000. */
static void bf16_midpoints(void) {
    tally tie = {"bf16 tie to even", 0, 0}, below = {"bf16 just below a midpoint", 0, 0};
    tally above = {"bf16 just above a midpoint", 0, 0}, refc = {"reference bf16 rounding of midpoints", 0, 0};
    for (uint32_t b = 0; b < 0x7f80; b++) {
        uint16_t even = (uint16_t)((b & 1) ? b + 1 : b);
        for (uint32_t s = 0; s <= 0x8000; s += 0x8000) {
            uint32_t m = ((s | b) << 16) | 0x8000u;
            uint16_t got = rope_f32_to_bf16(float_of(m));
            note(&tie, got == (s | even), m, got, s | even);
            got = rope_f32_to_bf16(float_of(m - 1));
            note(&below, got == (s | b), m - 1, got, s | b);
            got = rope_f32_to_bf16(float_of(m + 1));
            note(&above, got == (s | (b + 1)), m + 1, got, s | (b + 1));
            note(&refc, ref_bf16_round(float_of(m)) == (s | even), m, ref_bf16_round(float_of(m)), s | even);
        }
    }
    CLOSE(tie);
    CLOSE(below);
    CLOSE(above);
    CLOSE(refc);
}

#define F16_IS(value, want)                                                                                  \
    CHECK(rope_f32_to_f16(value) == (want), "f32_to_f16(%a) = 0x%04x, want 0x%04x", (double)(value),          \
          (unsigned)rope_f32_to_f16(value), (unsigned)(want))
#define BF16_IS(value, want)                                                                                 \
    CHECK(rope_f32_to_bf16(value) == (want), "f32_to_bf16(%a) = 0x%04x, want 0x%04x", (double)(value),        \
          (unsigned)rope_f32_to_bf16(value), (unsigned)(want))

/* The landmarks the loops above pass through, spelled out so a failure names them. */
static void named_values(void) {
    F16_IS(65520.0f, 0x7c00);                           /* halfway to 65536 rounds to infinity */
    F16_IS(nextafterf(65520.0f, 0.0f), 0x7bff);         /* just below it stays finite */
    F16_IS(-65520.0f, 0xfc00);
    F16_IS(65504.0f, 0x7bff);                           /* the largest finite */
    F16_IS(FLT_MAX, 0x7c00);
    F16_IS(1e10f, 0x7c00);
    F16_IS(INFINITY, 0x7c00);
    F16_IS(-INFINITY, 0xfc00);
    F16_IS(0x1p-24f, 0x0001);                           /* the smallest subnormal */
    F16_IS(0x1p-25f, 0x0000);                           /* the tie between 0 and 2^-24 goes to 0 */
    F16_IS(-0x1p-25f, 0x8000);
    F16_IS(nextafterf(0x1p-25f, 1.0f), 0x0001);         /* just above it rounds up */
    F16_IS(0x1.8p-24f, 0x0002);                         /* 1.5 ulp: tie to even 2 */
    F16_IS(0x1.4p-23f, 0x0002);                         /* 2.5 ulp: tie to even 2 */
    F16_IS(0x1p-30f, 0x0000);
    F16_IS(FLT_TRUE_MIN, 0x0000);
    F16_IS(0x1p-14f, 0x0400);                           /* the smallest normal */
    F16_IS(0x1.ff8p-15f, 0x03ff);                       /* the largest subnormal */
    F16_IS(0x1.ffcp-15f, 0x0400);                       /* the tie above it carries into the normals */
    F16_IS(0.0f, 0x0000);
    F16_IS(-0.0f, 0x8000);
    F16_IS(1.0f, 0x3c00);
    F16_IS(0x1.002p0f, 0x3c00);                         /* 1 + 2^-11: tie to even 1.0 */
    F16_IS(0x1.006p0f, 0x3c02);                         /* 1 + 3 * 2^-11: tie to even 1 + 2^-9 */
    CHECK(rope_f16_to_f32(0x8000) == 0.0f && signbit(rope_f16_to_f32(0x8000)), "f16 -0 widens to -0");
    CHECK(rope_f16_to_f32(0x0001) == 0x1p-24f, "smallest subnormal widens exactly");
    CHECK(rope_f16_to_f32(0x7bff) == 65504.0f, "largest finite widens exactly");
    CHECK(isinf(rope_f16_to_f32(0xfc00)) && rope_f16_to_f32(0xfc00) < 0, "-inf widens");

    uint16_t n = rope_f32_to_f16(NAN);
    CHECK(is_nan16(n) && (n & 0x200), "f32 NaN -> f16 0x%04x: not a quiet NaN", (unsigned)n);
    n = rope_f32_to_f16(float_of(0x7f800001u)); /* signalling, payload only in low bits */
    CHECK(is_nan16(n) && (n & 0x200), "f32 sNaN 0x7f800001 -> f16 0x%04x: not a quiet NaN", (unsigned)n);
    n = rope_f32_to_f16(float_of(0xff800001u));
    CHECK(is_nan16(n) && (n & 0x8200) == 0x8200, "f32 -sNaN -> f16 0x%04x: not a negative quiet NaN", (unsigned)n);

    BF16_IS(FLT_MAX, 0x7f80);                           /* rounds past the largest finite bf16 */
    BF16_IS(float_of(0x7f7f7fffu), 0x7f7f);             /* just below the halfway point */
    BF16_IS(float_of(0x7f7f8000u), 0x7f80);             /* the tie goes to the even pattern: infinity */
    BF16_IS(INFINITY, 0x7f80);
    BF16_IS(-INFINITY, 0xff80);
    BF16_IS(0.0f, 0x0000);
    BF16_IS(-0.0f, 0x8000);
    BF16_IS(FLT_TRUE_MIN, 0x0000);                      /* float32 subnormals round like the rest */
    BF16_IS(float_of(0x00008000u), 0x0000);             /* tie to even 0 */
    BF16_IS(float_of(0x00018000u), 0x0002);             /* tie to even 2 */
    BF16_IS(float_of(0x80008001u), 0x8001);
    BF16_IS(1.0f, 0x3f80);
    BF16_IS(float_of(0x3f808000u), 0x3f80);             /* 1 + 2^-8: tie to even 1.0 */
    BF16_IS(float_of(0x3f818000u), 0x3f82);
    uint16_t b = rope_f32_to_bf16(float_of(0x7f800001u)); /* truncation alone would make it infinity */
    CHECK(is_nan_bf16(b) && (b & 0x40), "f32 sNaN 0x7f800001 -> bf16 0x%04x: not a quiet NaN", (unsigned)b);
    b = rope_f32_to_bf16(float_of(0xffc00000u));
    CHECK(b == 0xffc0, "f32 -qNaN -> bf16 0x%04x, want 0xffc0", (unsigned)b);
}

/* Checks one float32 against both references. */
static void one_random(tally *t16, tally *tb, float f) {
    uint32_t u = bits_of(f);
    uint16_t h = rope_f32_to_f16(f), b = rope_f32_to_bf16(f);
    if (isnan(f)) {
        note(t16, is_nan16(h) && (h & 0x200) && (h >> 15) == (u >> 31), u, h, 0x7e00);
        note(tb, is_nan_bf16(b) && (b & 0x40) && (b >> 15) == (u >> 31), u, b, 0x7fc0);
        return;
    }
    uint16_t wh = ref_f16_round(f), wb = ref_bf16_round(f);
    note(t16, h == wh, u, h, wh);
    note(tb, b == wb, u, b, wb);
}

/* Millions of float32: uniformly random bit patterns (every class), and values whose exponent
 * lies around the f16 range, where f16 rounding does its work. */
static void random_values(void) {
    tally a16 = {"random f32 patterns -> f16", 0, 0}, ab = {"random f32 patterns -> bf16", 0, 0};
    tally r16 = {"f16-range f32 -> f16", 0, 0}, rb = {"f16-range f32 -> bf16", 0, 0};
    tu_seed(0xc0ffee);
    for (long i = 0; i < 1000000; i++) one_random(&a16, &ab, float_of((uint32_t)tu_u64()));
    for (long i = 0; i < 1000000; i++) {
        uint32_t e = (uint32_t)tu_int(127 - 27, 127 + 16), m = (uint32_t)tu_u64() & 0x807fffffu;
        one_random(&r16, &rb, float_of(m | (e << 23)));
    }
    CLOSE(a16);
    CLOSE(ab);
    CLOSE(r16);
    CLOSE(rb);
}

int main(void) {
    all_f16_patterns();
    all_bf16_patterns();
    f16_midpoints();
    bf16_midpoints();
    named_values();
    random_values();
    return tu_finish();
}
