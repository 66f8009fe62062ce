/* SPDX-License-Identifier: MIT */
/*
 * Accuracy of the angles: cos/sin(pos * theta) from src/cache/angle.c (and through rope_cache_fill)
 * against a reference that shares nothing with it:
 *   - pi comes from Machin's formula, pi = 16 atan(1/5) - 4 atan(1/239), summed here in 384-bit
 *     fixed point (no pi constant is typed in);
 *   - the angle pos * theta is formed exactly as an integer times a power of two (theta's 53-bit
 *     significand times pos, in 32-bit limbs) and reduced modulo 2*pi by big-integer subtraction,
 *     not by a Cody-Waite / double-double reduction;
 *   - the reduced angle (in [0, 2*pi), to ~2^-370) is turned into a double pair hi + lo and
 *     evaluated with libm: cos(hi) - sin(hi)*lo, sin(hi) + cos(hi)*lo.
 * Errors are measured in units in the last place of float32 at the reference value, and must stay
 * <= 2 (the library's contract). A naive float32 angle must fail the same check, so the check can fail.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache/angle.h"
#include "harness.h"
#include "reference.h"
#include "rope.h"

/* ---- 512-bit fixed point: FRAC limbs of fraction, value = sum limb[i] * 2^(32*(i - FRAC)) ---- */
enum { NL = 16, FRAC = 12 };
typedef struct {
    uint32_t l[NL];
} fx;

static void fx_add(fx *a, const fx *b) {
    uint64_t c = 0;
    for (int i = 0; i < NL; i++) {
        c += (uint64_t)a->l[i] + b->l[i];
        a->l[i] = (uint32_t)c;
        c >>= 32;
    }
}
static void fx_sub(fx *a, const fx *b) { /* two's complement wrap: negative values have the top bit set */
    int64_t br = 0;
    for (int i = 0; i < NL; i++) {
        int64_t v = (int64_t)a->l[i] - b->l[i] - br;
        br = v < 0;
        a->l[i] = (uint32_t)(v + (br ? ((int64_t)1 << 32) : 0));
    }
}
static int fx_neg(const fx *a) { return (a->l[NL - 1] >> 31) != 0; }
static int fx_ge(const fx *a, const fx *b) { /* both non-negative */
    for (int i = NL - 1; i >= 0; i--)
        if (a->l[i] != b->l[i]) return a->l[i] > b->l[i];
    return 1;
}
static void fx_div_small(fx *a, uint32_t q) {
    uint64_t r = 0;
    for (int i = NL - 1; i >= 0; i--) {
        uint64_t cur = (r << 32) | a->l[i];
        a->l[i] = (uint32_t)(cur / q);
        r = cur % q;
    }
}
static void fx_mul_small(fx *a, uint32_t m) {
    uint64_t c = 0;
    for (int i = 0; i < NL; i++) {
        c += (uint64_t)a->l[i] * m;
        a->l[i] = (uint32_t)c;
        c >>= 32;
    }
}
/* out = a * n for n < 2^64, by its two 32-bit halves. */
static fx fx_mul_u64(const fx *a, uint64_t n) {
    fx lo = *a, hi = *a, out;
    fx_mul_small(&lo, (uint32_t)n);
    fx_mul_small(&hi, (uint32_t)(n >> 32));
    memset(&out, 0, sizeof out);
    for (int i = NL - 1; i > 0; i--) out.l[i] = hi.l[i - 1];
    fx_add(&out, &lo);
    return out;
}

/* atan(1/x) = sum_k (-1)^k / ((2k+1) x^(2k+1)), each term truncated to 2^-384. */
static fx fx_atan_inv(uint32_t x) {
    fx sum, pw;
    memset(&sum, 0, sizeof sum);
    memset(&pw, 0, sizeof pw);
    pw.l[FRAC] = 1;
    fx_div_small(&pw, x); /* 1/x */
    for (uint32_t k = 0;; k++) {
        fx t = pw;
        fx_div_small(&t, 2 * k + 1);
        int zero = 1;
        for (int i = 0; i < NL; i++) zero &= t.l[i] == 0;
        if (zero) break;
        if (k % 2)
            fx_sub(&sum, &t);
        else
            fx_add(&sum, &t);
        fx_div_small(&pw, x);
        fx_div_small(&pw, x);
    }
    return sum;
}

static fx TWO_PI;

static void make_two_pi(void) {
    fx a = fx_atan_inv(5), b = fx_atan_inv(239);
    fx_mul_small(&a, 32); /* 2*pi = 32 atan(1/5) - 8 atan(1/239) */
    fx_mul_small(&b, 8);
    fx_sub(&a, &b);
    TWO_PI = a;
}

/* s + e = a + b exactly. */
static void two_sum(double a, double b, double *s, double *e) {
    double x = a + b, bv = x - a, av = x - bv;
    *s = x;
    *e = (a - av) + (b - bv);
}

/* The reference cos/sin(pos * theta), for 0 <= pos < 2^63 and theta a positive normal double. */
static void ref_sincos(int64_t pos, double theta, double *c, double *s) {
    int e2;
    double m = frexp(theta, &e2);          /* theta = m * 2^e2, m in [0.5, 1) */
    uint64_t sig = (uint64_t)ldexp(m, 53); /* exact 53-bit integer */
    int shift = e2 - 53 + 32 * FRAC;       /* theta = sig * 2^(e2-53) */
    /* N = pos * sig as four 32-bit limbs. */
    uint32_t pl[2] = {(uint32_t)pos, (uint32_t)((uint64_t)pos >> 32)};
    uint32_t sl[2] = {(uint32_t)sig, (uint32_t)(sig >> 32)};
    uint32_t nl[5] = {0, 0, 0, 0, 0};
    for (int i = 0; i < 2; i++) {
        uint64_t carry = 0;
        for (int j = 0; j < 2; j++) {
            uint64_t t = (uint64_t)pl[i] * sl[j] + nl[i + j] + carry;
            nl[i + j] = (uint32_t)t;
            carry = t >> 32;
        }
        for (int k = i + 2; carry && k < 5; k++) {
            uint64_t t = (uint64_t)nl[k] + carry;
            nl[k] = (uint32_t)t;
            carry = t >> 32;
        }
    }
    /* X = N << shift into the fixed-point layout (shift >= 0 for every theta used here). */
    fx x;
    memset(&x, 0, sizeof x);
    for (int i = 0; i < 5; i++) {
        for (int b = 0; b < 32; b++) {
            if (!((nl[i] >> b) & 1u)) continue;
            int bit = i * 32 + b + shift;
            if (bit >= 0 && bit < 32 * NL - 1) x.l[bit / 32] |= 1u << (bit % 32);
        }
    }
    /* n ~ floor(x / 2pi), then exact correction. */
    double approx = (double)pos * theta / 6.283185307179586;
    uint64_t n = approx > 1 ? (uint64_t)approx : 0;
    fx np = fx_mul_u64(&TWO_PI, n);
    fx_sub(&x, &np);
    while (fx_neg(&x)) fx_add(&x, &TWO_PI);
    while (fx_ge(&x, &TWO_PI)) fx_sub(&x, &TWO_PI);
    /* To a double pair, top limb first. */
    double hi = 0, lo = 0;
    for (int i = NL - 1; i >= 0; i--) {
        double e;
        two_sum(hi, ldexp((double)x.l[i], 32 * (i - FRAC)), &hi, &e);
        lo += e;
    }
    two_sum(hi, lo, &hi, &lo);
    *c = cos(hi) - sin(hi) * lo;
    *s = sin(hi) + cos(hi) * lo;
}

/* |f - ref| in float32 ulps of ref. */
static double ulp_err(float f, double ref) {
    return fabs((double)f - ref) / ref_ulp(ROPE_F32, ref);
}

typedef struct {
    double lib, naive;
} errs;

static void measure(int64_t pos, double theta, errs *m) {
    double rc, rs, c, s;
    ref_sincos(pos, theta, &rc, &rs);
    rope_angle_sincos(pos, theta, &c, &s);
    double el = fmax(ulp_err((float)c, rc), ulp_err((float)s, rs));
    float a = (float)pos * (float)theta; /* what a float32 pipeline computes */
    double en = fmax(ulp_err(cosf(a), rc), ulp_err(sinf(a), rs));
    if (el > m->lib) m->lib = el;
    if (en > m->naive) m->naive = en;
    if (el > 2)
        fprintf(stderr, "pos %lld theta %a: %.3f ulp (c %a ref %a, s %a ref %a)\n", (long long)pos, theta, el, c, rc, s,
                rs);
}

static void report(const char *what, const errs *m) {
    printf("%-44s max error %.6f ulp (naive float32 angle: %.3g ulp)\n", what, m->lib, m->naive);
    CHECK(m->lib <= 2.0, "%s: %.4f ulp", what, m->lib);
    CHECK(m->naive > 2.0, "%s: the naive angle passes too (%.3g ulp): the check cannot fail", what, m->naive);
}

enum { N_THETAS = 192 };

/* The reference's 2*pi against a float64 one (a sanity check of the Machin sum), and one easy angle. */
static void reference_sanity(void) {
    double hi = 0;
    for (int i = NL - 1; i >= 0; i--) hi += ldexp((double)TWO_PI.l[i], 32 * (i - FRAC));
    CHECK(hi == 6.283185307179586, "Machin 2*pi = %.17g", hi);
    double c, s;
    ref_sincos(3, 0.5, &c, &s);
    CHECK(fabs(c - cos(1.5)) < 1e-15 && fabs(s - sin(1.5)) < 1e-15, "ref(1.5) = %g %g", c, s);
}

/* Frequencies of real models (base 10000 and 500000, rotary_dim 128), then random ones in (1e-7, 1]. */
static void model_and_random_frequencies(double thetas[N_THETAS]) {
    int nt = 0;
    double bases[2] = {10000.0, 500000.0};
    for (int b = 0; b < 2; b++) {
        rope_freq_config cfg;
        cfg = (rope_freq_config)ROPE_FREQ_CONFIG_INIT;
        cfg.base = bases[b];
        cfg.rotary_dim = 128;
        CHECK(rope_freq_compute(&cfg, thetas + nt, NULL) == ROPE_OK, "%s", rope_last_error());
        nt += 64;
    }
    tu_seed(2024);
    while (nt < N_THETAS) thetas[nt++] = exp(tu_uniform(log(1e-7), 0.0)); /* random in (1e-7, 1] */
}

/* Every frequency at every position around 2^20 and just below 2^24. */
static void positions_near_powers_of_two(const double thetas[N_THETAS]) {
    errs m20 = {0, 0}, m24 = {0, 0};
    for (int t = 0; t < N_THETAS; t++)
        for (int64_t p = (1 << 20) - 64; p <= (1 << 20) + 64; p++) measure(p, thetas[t], &m20);
    report("positions 2^20 +- 64, 192 frequencies", &m20);
    for (int t = 0; t < N_THETAS; t++)
        for (int64_t p = (1 << 24) - 128; p <= (1 << 24); p++) measure(p, thetas[t], &m24);
    report("positions 2^24 - 128 .. 2^24, 192 frequencies", &m24);
}

/* Random positions below 2^24 and below 2^31, each with a random one of the frequencies. */
static void random_positions(const double thetas[N_THETAS]) {
    errs mr = {0, 0};
    for (int i = 0; i < 200000; i++) measure(tu_int(0, 1 << 24), thetas[tu_int(0, N_THETAS - 1)], &mr);
    report("200000 random positions below 2^24", &mr);
    errs m31 = {0, 0};
    for (int i = 0; i < 20000; i++) measure(tu_int(0, INT32_MAX), thetas[tu_int(0, N_THETAS - 1)], &m31);
    report("20000 random positions below 2^31", &m31);
}

/* Angles within ~2^-29 of a multiple of pi/2: theta = RN(k*pi/2 / p), so cos or sin is tiny and
 * only an accurate reduction gets its float32 ulps right. */
static void angles_next_to_multiples_of_half_pi(void) {
    errs mh = {0, 0};
    for (int i = 0; i < 100000; i++) {
        int64_t p = tu_int(1 << 10, 1 << 24);
        double k = (double)tu_int(1, p); /* theta in (0, pi/2] */
        measure(p, k * 1.5707963267948966 / (double)p, &mh);
    }
    report("100000 angles next to multiples of pi/2", &mh);
}

/* The same through the public cache builder, at its float32 output. */
static void cache_fill_f32(void) {
    enum { D = 128, H = D / 2, N = 64 };
    static float cs[N][H], sn[N][H];
    rope_freq_config cfg;
    cfg = (rope_freq_config)ROPE_FREQ_CONFIG_INIT;
    cfg.rotary_dim = D;
    double inv[H];
    CHECK(rope_freq_compute(&cfg, inv, NULL) == ROPE_OK, "%s", rope_last_error());
    rope_tensor C = {cs, ROPE_F32, 2, {N, H}, 0}, S = {sn, ROPE_F32, 2, {N, H}, 0};
    int64_t start = (1 << 24) - N + 1;
    CHECK(rope_cache_fill(&cfg, start, N, ROPE_CACHE_HALF, 0, &C, &S) == ROPE_OK, "%s", rope_last_error());
    double worst = 0;
    for (int r = 0; r < N; r++)
        for (int i = 0; i < H; i++) {
            double rc, rs;
            ref_sincos(start + r, inv[i], &rc, &rs);
            worst = fmax(worst, fmax(ulp_err(cs[r][i], rc), ulp_err(sn[r][i], rs)));
        }
    printf("%-44s max error %.6f ulp\n", "rope_cache_fill f32, positions to 2^24", worst);
    CHECK(worst <= 2.0, "rope_cache_fill: %.4f ulp", worst);
}

/* Edge values: position 0, theta exactly representable angles, negative positions. */
static void edge_values(void) {
    double c, s;
    rope_angle_sincos(0, 0.25, &c, &s);
    CHECK(c == 1.0 && s == 0.0, "angle 0: %a %a", c, s);
    rope_angle_sincos(-5, 0.3, &c, &s);
    CHECK(fabs(c - cos(-1.5)) < 1e-15 && fabs(s - sin(-1.5)) < 1e-15, "negative position: %g %g", c, s);
    rope_angle_sincos(1, INFINITY, &c, &s);
    CHECK(isnan(c) && isnan(s), "infinite theta: %g %g", c, s);
    rope_angle_sincos(1, 0x1p50, &c, &s); /* beyond the limit: still a valid cos/sin pair */
    CHECK(fabs(c * c + s * s - 1.0) < 1e-12, "beyond the limit: %g %g", c, s);
}

/* Speed, for information (no check). */
static void speed(const double thetas[N_THETAS]) {
    clock_t t0 = clock();
    double acc = 0;
    int n = 4000000;
    for (int i = 0; i < n; i++) {
        double c, s;
        rope_angle_sincos(i, thetas[i & 127], &c, &s);
        acc += c + s;
    }
    double ns = (double)(clock() - t0) / CLOCKS_PER_SEC * 1e9 / n;
    printf("rope_angle_sincos: %.1f ns per call (checksum %g)\n", ns, acc);
}

int main(void) {
    make_two_pi();
    reference_sanity();
    double thetas[N_THETAS];
    model_and_random_frequencies(thetas);
    positions_near_powers_of_two(thetas);
    random_positions(thetas);
    angles_next_to_multiples_of_half_pi();
    cache_fill_f32();
    edge_values();
    speed(thetas);
    return tu_finish();
}
