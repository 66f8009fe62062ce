/* SPDX-License-Identifier: MIT */
/*
 * rope_freq_compute: every scaling method against a float64 model written here from the formulas
 * (in a different shape from src/cache/freq.c: exp/log instead of pow, blends rearranged), values
 * worked by hand, and every configuration error with nothing written.
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "rope.h"

#define PI 3.14159265358979323846
#define MAXH 256

static rope_freq_config base_cfg(rope_scaling sc, double base, int64_t dim) {
    rope_freq_config c = ROPE_FREQ_CONFIG_INIT;
    c.scaling = sc;
    c.base = base;
    c.rotary_dim = dim;
    return c;
}

/* ---- the model: inv_freq and attention from the formulas ---------------------------------------- */

static double theta0(double base, int64_t i, int64_t d) { return exp(-((double)(2 * i) / (double)d) * log(base)); }

static double model(const rope_freq_config *c, double *inv) {
    int64_t d = c->rotary_dim, h = d / 2;
    double base = c->base ? c->base : 10000.0, att = 1.0, orig = (double)c->original_max_position_embeddings;
    switch (c->scaling) {
    case ROPE_SCALING_DEFAULT:
        for (int64_t i = 0; i < h; i++) inv[i] = theta0(base, i, d);
        break;
    case ROPE_SCALING_LINEAR:
        for (int64_t i = 0; i < h; i++) inv[i] = theta0(base, i, d) / c->factor;
        break;
    case ROPE_SCALING_DYNAMIC: {
        double L = c->seq_len > c->original_max_position_embeddings ? (double)c->seq_len : orig;
        double nb = base * exp((double)d / (d - 2) * log(c->factor * (L / orig) - c->factor + 1.0));
        for (int64_t i = 0; i < h; i++) inv[i] = theta0(nb, i, d);
        break;
    }
    case ROPE_SCALING_YARN: {
        double bf = c->beta_fast ? c->beta_fast : 32, bs = c->beta_slow ? c->beta_slow : 1;
        /* the pair index that turns n times over orig positions: d/2 * log_base(orig / (2 pi n)) */
        double lo = 0.5 * d * log(orig / (2 * PI * bf)) / log(base);
        double hi = 0.5 * d * log(orig / (2 * PI * bs)) / log(base);
        if (!c->no_truncate) lo = floor(lo), hi = ceil(hi);
        lo = fmax(lo, 0.0);
        hi = fmin(hi, (double)(d - 1));
        if (hi == lo) hi += 0.001;
        for (int64_t i = 0; i < h; i++) {
            double ramp = fmin(fmax((i - lo) / (hi - lo), 0.0), 1.0);
            double ex = theta0(base, i, d);
            inv[i] = ex + (ex / c->factor - ex) * ramp; /* interp where ramp is 1 */
        }
        double ms = c->factor <= 1 ? 1 : 0.1 * log(c->factor) + 1;
        if (c->mscale != 0 && c->mscale_all_dim != 0 && c->factor > 1)
            ms = (0.1 * c->mscale * log(c->factor) + 1) / (0.1 * c->mscale_all_dim * log(c->factor) + 1);
        att = c->attention_factor ? c->attention_factor : ms;
        break;
    }
    case ROPE_SCALING_LLAMA3: {
        double lf = c->low_freq_factor ? c->low_freq_factor : 1, hf = c->high_freq_factor ? c->high_freq_factor : 4;
        for (int64_t i = 0; i < h; i++) {
            double t = theta0(base, i, d), turns = orig * t / (2 * PI); /* turns over the context */
            if (turns > hf)
                inv[i] = t;
            else if (turns < lf)
                inv[i] = t / c->factor;
            else {
                double s = (turns - lf) / (hf - lf);
                inv[i] = t * (s + (1 - s) / c->factor);
            }
        }
        break;
    }
    case ROPE_SCALING_LONGROPE: {
        const double *ext = c->seq_len > c->original_max_position_embeddings ? c->long_factor : c->short_factor;
        for (int64_t i = 0; i < h; i++) inv[i] = theta0(base, i, d) / ext[i];
        att = c->attention_factor ? c->attention_factor : c->factor <= 1 ? 1 : sqrt(1 + log(c->factor) / log(orig));
        break;
    }
    case ROPE_SCALING_PROPORTIONAL: { /* n pairs turn at the head-size exponent, the rest stand still */
        int64_t n = c->rotated_pairs ? c->rotated_pairs : h;
        double f = c->factor ? c->factor : 1.0;
        for (int64_t i = 0; i < h; i++) inv[i] = i < n ? theta0(base, i, d) / f : 0.0;
        break;
    }
    }
    return att;
}

/* Compares the library with the model over all pairs; returns the largest relative difference. */
static double compare(const rope_freq_config *c, const char *what) {
    double got[MAXH], want[MAXH], att = -1;
    rope_status st = rope_freq_compute(c, got, &att);
    CHECK(st == ROPE_OK, "%s: %s", what, rope_last_error());
    if (st != ROPE_OK) return INFINITY;
    double watt = model(c, want), worst = fabs(att - watt) / watt;
    for (int64_t i = 0; i < c->rotary_dim / 2; i++)
        worst = fmax(worst, want[i] == 0 ? (got[i] == 0 ? 0 : INFINITY) : fabs(got[i] - want[i]) / want[i]);
    CHECK(worst < 1e-12, "%s: relative difference %.3g", what, worst);
    return worst;
}

static void random_methods(void) {
    double sf[MAXH], lf[MAXH];
    for (int it = 0; it < 400; it++) {
        rope_scaling sc = (rope_scaling)(it % 7);
        int64_t d = 2 * tu_int(2, MAXH / 2);
        rope_freq_config c = base_cfg(sc, exp(tu_uniform(log(100.0), log(1e7))), d);
        c.factor = tu_uniform(1.0, 64.0);
        c.original_max_position_embeddings = tu_int(256, 65536);
        c.seq_len = tu_int(0, 1) ? 0 : tu_int(1, 4 * c.original_max_position_embeddings);
        if (sc == ROPE_SCALING_LINEAR) c.factor = tu_uniform(0.25, 16.0);
        if (sc == ROPE_SCALING_YARN) {
            if (tu_int(0, 1)) c.beta_fast = tu_uniform(8, 64), c.beta_slow = tu_uniform(0.5, 4);
            c.no_truncate = (int32_t)tu_int(0, 1);
            if (tu_int(0, 3) == 0) c.mscale = tu_uniform(0.5, 1.5), c.mscale_all_dim = tu_uniform(0.5, 1.5);
            if (tu_int(0, 3) == 0) c.attention_factor = tu_uniform(0.5, 2);
        }
        if (sc == ROPE_SCALING_LLAMA3 && tu_int(0, 1)) {
            c.low_freq_factor = tu_uniform(0.5, 2);
            c.high_freq_factor = c.low_freq_factor + tu_uniform(0.5, 8);
        }
        if (sc == ROPE_SCALING_LONGROPE) {
            for (int i = 0; i < MAXH; i++) sf[i] = tu_uniform(0.8, 1.5), lf[i] = tu_uniform(1.0, 60.0);
            c.short_factor = sf, c.long_factor = lf;
            if (tu_int(0, 3) == 0) c.attention_factor = tu_uniform(0.5, 2);
        }
        if (sc == ROPE_SCALING_PROPORTIONAL) {
            c.original_max_position_embeddings = 0, c.seq_len = 0;
            c.factor = tu_int(0, 1) ? 0 : tu_uniform(0.25, 16.0);
            c.rotated_pairs = tu_int(0, d / 2);
        }
        char what[64];
        snprintf(what, sizeof what, "random config %d (scaling %d, dim %lld)", it, (int)sc, (long long)d);
        compare(&c, what);
    }
}

static int near(double a, double b) { return fabs(a - b) <= 4e-16 * fabs(b); }

static void by_hand(void) {
    double inv[8], att;
    /* default, base 10000, dim 4: 10000^0 and 10000^-1/2 */
    rope_freq_config c = base_cfg(ROPE_SCALING_DEFAULT, 10000, 4);
    CHECK(rope_freq_compute(&c, inv, &att) == ROPE_OK && inv[0] == 1.0 && near(inv[1], 0.01) && att == 1.0,
          "default: %.17g %.17g att %g", inv[0], inv[1], att);
    c.base = 0; /* 0 means 10000 */
    CHECK(rope_freq_compute(&c, inv, NULL) == ROPE_OK && inv[0] == 1.0 && near(inv[1], 0.01), "base 0: %g", inv[1]);
    c.factor = -3; /* unused by DEFAULT: ignored */
    CHECK(rope_freq_compute(&c, inv, NULL) == ROPE_OK, "default ignores factor: %s", rope_last_error());

    c = base_cfg(ROPE_SCALING_LINEAR, 10000, 4);
    c.factor = 2;
    CHECK(rope_freq_compute(&c, inv, NULL) == ROPE_OK && inv[0] == 0.5 && near(inv[1], 0.005), "linear: %g %g", inv[0],
          inv[1]);

    /* dynamic, factor 2, orig 100: seq_len 200 gives base 10000 * (2*200/100 - 1)^(4/2) = 90000 */
    c = base_cfg(ROPE_SCALING_DYNAMIC, 10000, 4);
    c.factor = 2, c.original_max_position_embeddings = 100, c.seq_len = 200;
    CHECK(rope_freq_compute(&c, inv, NULL) == ROPE_OK && inv[0] == 1.0 && near(inv[1], 1.0 / 300), "dynamic: %.17g",
          inv[1]);
    c.seq_len = 100; /* not beyond orig: unchanged */
    CHECK(rope_freq_compute(&c, inv, NULL) == ROPE_OK && near(inv[1], 0.01), "dynamic at orig: %.17g", inv[1]);
    c.seq_len = 0;
    CHECK(rope_freq_compute(&c, inv, NULL) == ROPE_OK && near(inv[1], 0.01), "dynamic, no seq_len: %.17g", inv[1]);

    /* llama3, factor 8, low 1, high 4, base 10000 dim 4: wavelengths 2*pi and 200*pi = 628.3 */
    c = base_cfg(ROPE_SCALING_LLAMA3, 10000, 4);
    c.factor = 8, c.original_max_position_embeddings = 1024; /* bands: < 256 kept, > 1024 divided */
    CHECK(rope_freq_compute(&c, inv, &att) == ROPE_OK, "%s", rope_last_error());
    /* 628.3 is medium: s = (1024 / (200 pi) - 1) / 3 = 0.2099155..., (1-s)*0.01/8 + s*0.01 */
    CHECK(inv[0] == 1.0 && fabs(inv[1] - 0.003086760967011274) < 1e-17 && att == 1.0, "llama3 smooth: %.17g", inv[1]);
    c.original_max_position_embeddings = 512; /* 628.3 > 512: divided by 8 */
    CHECK(rope_freq_compute(&c, inv, NULL) == ROPE_OK && near(inv[1], 0.00125), "llama3 low: %.17g", inv[1]);
    c.original_max_position_embeddings = 8192; /* 628.3 < 2048: kept */
    CHECK(rope_freq_compute(&c, inv, NULL) == ROPE_OK && near(inv[1], 0.01), "llama3 high: %.17g", inv[1]);

    /* yarn, dim 8, orig 2048, factor 4: corr(32) = 1.008 -> low 1, corr(1) = 2.513 -> high 3;
     * ramp 0, 0, 1/2, 1 over the pairs */
    c = base_cfg(ROPE_SCALING_YARN, 10000, 8);
    c.factor = 4, c.original_max_position_embeddings = 2048;
    CHECK(rope_freq_compute(&c, inv, &att) == ROPE_OK, "%s", rope_last_error());
    CHECK(inv[0] == 1.0 && near(inv[1], 0.1) && near(inv[2], 0.00625) && near(inv[3], 0.00025),
          "yarn: %.17g %.17g %.17g %.17g", inv[0], inv[1], inv[2], inv[3]);
    CHECK(fabs(att - 1.1386294361119891) < 1e-15, "yarn attention 0.1 ln 4 + 1: %.17g", att);
    c.no_truncate = 1; /* low 1.008, high 2.513: pair 2 at (2 - 1.008) / 1.505 of the ramp */
    CHECK(rope_freq_compute(&c, inv, NULL) == ROPE_OK, "%s", rope_last_error());
    double r2 = (2 - 1.0080001056257721) / (2.5131500839456781 - 1.0080001056257721);
    CHECK(fabs(inv[2] - (0.01 * (1 - r2) + 0.0025 * r2)) < 1e-15 && near(inv[1], 0.1) && inv[3] == 0.00025,
          "yarn no_truncate: %.17g", inv[2]);
    c.no_truncate = 0;
    c.mscale = 1, c.mscale_all_dim = 1; /* DeepSeek: the ratio is 1 */
    CHECK(rope_freq_compute(&c, inv, &att) == ROPE_OK && att == 1.0, "yarn mscale ratio: %.17g", att);
    c.mscale_all_dim = 0; /* only one set: the plain m(factor) */
    CHECK(rope_freq_compute(&c, inv, &att) == ROPE_OK && fabs(att - 1.1386294361119891) < 1e-15, "%.17g", att);
    c.attention_factor = 0.75;
    CHECK(rope_freq_compute(&c, inv, &att) == ROPE_OK && att == 0.75, "yarn attention_factor: %g", att);

    /* longrope: base 10000 dim 4, orig 100, factor 8 */
    double sf[2] = {1, 2}, lf[2] = {4, 8};
    c = base_cfg(ROPE_SCALING_LONGROPE, 10000, 4);
    c.short_factor = sf, c.long_factor = lf, c.original_max_position_embeddings = 100, c.factor = 8;
    CHECK(rope_freq_compute(&c, inv, &att) == ROPE_OK && inv[0] == 1.0 && near(inv[1], 0.005), "short: %g %g", inv[0],
          inv[1]);
    CHECK(fabs(att - 1.2048008107135269) < 1e-15, "longrope attention sqrt(1 + ln 8 / ln 100): %.17g", att);
    c.seq_len = 100;
    CHECK(rope_freq_compute(&c, inv, NULL) == ROPE_OK && inv[0] == 1.0, "seq_len == orig keeps short: %g", inv[0]);
    c.seq_len = 101;
    CHECK(rope_freq_compute(&c, inv, NULL) == ROPE_OK && inv[0] == 0.25 && near(inv[1], 0.00125), "long: %g %g", inv[0],
          inv[1]);
    c.factor = 1;
    CHECK(rope_freq_compute(&c, inv, &att) == ROPE_OK && att == 1.0, "factor 1: attention %g", att);
    c.factor = 0, c.attention_factor = 1.5; /* factor unneeded when attention_factor is given */
    CHECK(rope_freq_compute(&c, inv, &att) == ROPE_OK && att == 1.5, "attention_factor: %g (%s)", att,
          rope_last_error());
}

/* ---- errors: status, message naming the field, nothing written ---------------------------------- */

static void expect_error(const rope_freq_config *c, rope_status want, const char *needle, const char *what) {
    double inv[MAXH], att = 42.0;
    for (int i = 0; i < MAXH; i++) inv[i] = -7.0;
    rope_status st = rope_freq_compute(c, inv, &att);
    CHECK(st == want, "%s: status %d, expected %d (%s)", what, (int)st, (int)want, rope_last_error());
    CHECK(strstr(rope_last_error(), needle) != NULL, "%s: message \"%s\" lacks \"%s\"", what, rope_last_error(),
          needle);
    int untouched = att == 42.0;
    for (int i = 0; i < MAXH; i++) untouched &= inv[i] == -7.0;
    CHECK(untouched, "%s: output written on failure", what);
}

static void errors(void) {
    double inv[4];
    rope_freq_config c = base_cfg(ROPE_SCALING_DEFAULT, 10000, 8);
    CHECK(rope_freq_compute(NULL, inv, NULL) == ROPE_ERROR_NULL_ARGUMENT, "NULL cfg");
    CHECK(rope_freq_compute(&c, NULL, NULL) == ROPE_ERROR_NULL_ARGUMENT && strstr(rope_last_error(), "inv_freq"),
          "NULL inv_freq: %s", rope_last_error());

#define ERR(field_setup, needle)                                                                                       \
    do {                                                                                                               \
        rope_freq_config e = c;                                                                                        \
        field_setup;                                                                                                   \
        expect_error(&e, ROPE_ERROR_ATTRIBUTE, needle, #field_setup);                                                  \
    } while (0)

    ERR(e.scaling = (rope_scaling)7, "scaling");
    ERR(e.scaling = (rope_scaling)-1, "scaling");
    ERR(e.base = 1.0, "base");
    ERR(e.base = 0.5, "base");
    ERR(e.base = -10, "base");
    ERR(e.base = INFINITY, "base");
    ERR(e.base = NAN, "base");
    ERR(e.rotary_dim = 0, "rotary_dim");
    ERR(e.rotary_dim = -4, "rotary_dim");
    ERR(e.rotary_dim = 7, "rotary_dim: expected an even number in [2, 65536], found 7");
    ERR(e.rotary_dim = ROPE_MAX_ROTARY_DIM + 2, "rotary_dim: expected an even number in [2, 65536], found 65538");
    ERR(e.rotary_dim = (int64_t)1 << 40, "rotary_dim"); /* would ask for terabytes of frequency tables */
    /* an attention factor whose cos/sin would round to infinity (found by the Python config fuzzer) */
    c.scaling = ROPE_SCALING_YARN, c.factor = 8, c.original_max_position_embeddings = 4096;
    ERR((e.mscale = 1e308, e.mscale_all_dim = 0.5), "attention factor");
    ERR(e.attention_factor = 70000, "attention factor");
    c.scaling = ROPE_SCALING_DEFAULT, c.factor = 0, c.original_max_position_embeddings = 0;
    ERR(e.seq_len = -1, "seq_len");

    c.scaling = ROPE_SCALING_LINEAR, c.factor = 2;
    ERR(e.factor = 0, "factor: expected a finite value > 0 for linear scaling, found 0");
    ERR(e.factor = -1, "factor");
    ERR(e.factor = NAN, "factor");

    c.scaling = ROPE_SCALING_DYNAMIC, c.original_max_position_embeddings = 1024;
    ERR(e.factor = 0.5, "factor: expected a finite value >= 1 for dynamic scaling, found 0.5");
    ERR(e.original_max_position_embeddings = 0, "original_max_position_embeddings");
    ERR(e.rotary_dim = 2, "rotary_dim: expected >= 4 for dynamic");
    ERR((e.base = 1e300, e.seq_len = INT64_MAX), "seq_len: dynamic scaling");

    c.scaling = ROPE_SCALING_YARN;
    ERR(e.factor = 0, "factor");
    ERR(e.factor = INFINITY, "factor");
    ERR(e.original_max_position_embeddings = -5, "original_max_position_embeddings");
    ERR(e.beta_fast = -1, "beta_fast");
    ERR(e.beta_slow = NAN, "beta_slow");
    ERR((e.beta_fast = 1, e.beta_slow = 2), "beta_fast: expected >= beta_slow (2), found 1");
    ERR(e.mscale = -1, "mscale");
    ERR(e.mscale_all_dim = INFINITY, "mscale_all_dim");
    ERR(e.no_truncate = 2, "no_truncate");
    ERR(e.attention_factor = -0.5, "attention_factor");

    c.scaling = ROPE_SCALING_LLAMA3;
    ERR(e.factor = 0.9, "factor");
    ERR(e.original_max_position_embeddings = 0, "original_max_position_embeddings");
    ERR(e.low_freq_factor = -1, "low_freq_factor");
    ERR((e.low_freq_factor = 4, e.high_freq_factor = 4),
        "high_freq_factor: expected a finite value > low_freq_factor (4)");
    ERR(e.high_freq_factor = 0.5, "high_freq_factor"); /* below the default low 1 */
    ERR(e.high_freq_factor = NAN, "high_freq_factor");

    double sf[4] = {1, 1, 1, 1}, lf[4] = {2, 2, 2, 2}, bad[4] = {1, 0, 1, 1}, inf[4] = {INFINITY, 1, 1, 1},
           tiny[4] = {1e-320, 1, 1, 1};
    c.scaling = ROPE_SCALING_LONGROPE, c.factor = 4, c.short_factor = sf, c.long_factor = lf;
    ERR(e.short_factor = NULL, "short_factor: required for longrope");
    ERR(e.long_factor = NULL, "long_factor: required for longrope");
    ERR(e.short_factor = bad, "short_factor[1]: expected a finite value > 0, found 0");
    ERR(e.long_factor = inf, "long_factor[0]");
    ERR(e.original_max_position_embeddings = 0, "original_max_position_embeddings");
    ERR(e.attention_factor = NAN, "attention_factor");
    ERR(e.factor = 0, "factor: required for longrope scaling when attention_factor is 0");
    ERR(e.factor = 0.5, "factor");
    ERR(e.original_max_position_embeddings = 1, "original_max_position_embeddings: expected >= 2");
    ERR(e.short_factor = tiny, "inv_freq[0] comes out inf");

    c = base_cfg(ROPE_SCALING_LINEAR, 10000, 8);
    c.factor = 2;
    ERR(e.rotated_pairs = 2, "rotated_pairs: only proportional scaling reads it, expected 0 for linear");
    c.scaling = ROPE_SCALING_PROPORTIONAL;
    ERR(e.rotated_pairs = 5, "rotated_pairs: expected 0 .. rotary_dim/2 (4)");
    ERR(e.rotated_pairs = -1, "rotated_pairs");
    ERR(e.factor = -1, "factor: expected a finite value > 0 for proportional scaling");
    ERR(e.factor = NAN, "factor");
#undef ERR
}

/* PROPORTIONAL worked by hand: head 8 (4 pairs), 2 rotated, base 10000, factor 2. */
static void proportional_by_hand(void) {
    double inv[4] = {-7, -7, -7, -7}, att = 0;
    rope_freq_config c = base_cfg(ROPE_SCALING_PROPORTIONAL, 10000, 8);
    c.rotated_pairs = 2, c.factor = 2;
    CHECK(rope_freq_compute(&c, inv, &att) == ROPE_OK, "proportional: %s", rope_last_error());
    /* 10000^(-0/8) / 2 and 10000^(-2/8) / 2 = 0.1 / 2: the head size, not 2 * rotated, in the exponent */
    CHECK(inv[0] == 0.5 && near(inv[1], 0.05) && inv[2] == 0.0 && inv[3] == 0.0 && att == 1.0,
          "proportional: %.17g %.17g %.17g %.17g att %g", inv[0], inv[1], inv[2], inv[3], att);
    c.rotated_pairs = 0, c.factor = 0; /* all pairs, factor 1: the default frequencies */
    CHECK(rope_freq_compute(&c, inv, &att) == ROPE_OK && inv[0] == 1.0 && near(inv[2], 0.01) && inv[3] != 0.0,
          "proportional, all pairs: %.17g %.17g", inv[0], inv[2]);
}

/* struct_size: the current size and the oldest layout are read; 0, sizes below the oldest layout and
 * above the current one are refused, naming struct_size, with nothing written. A caller of the
 * oldest layout never sets rotated_pairs: whatever lies past its struct is not read. */
static void struct_sizes(void) {
    const size_t v1 = offsetof(rope_freq_config, seq_len) + sizeof(int64_t);
    rope_freq_config c = base_cfg(ROPE_SCALING_LINEAR, 10000, 8);
    c.factor = 2;
    double inv[4], want[4];
    model(&c, want);
    CHECK(c.struct_size == sizeof(rope_freq_config), "ROPE_FREQ_CONFIG_INIT sets struct_size");
    c.struct_size = v1;
    c.rotated_pairs = 3; /* past a v1 caller's struct: garbage the library must not read */
    CHECK(rope_freq_compute(&c, inv, NULL) == ROPE_OK && fabs(inv[1] / want[1] - 1) < 1e-12 &&
              fabs(inv[3] / want[3] - 1) < 1e-12,
          "the oldest layout (struct_size %zu) is read: %s", v1, rope_last_error());
    const size_t bad[] = {0, 1, sizeof(double), v1 - 1, sizeof(rope_freq_config) + 1, (size_t)-1};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rope_freq_config e = c;
        e.struct_size = bad[i];
        char what[64];
        snprintf(what, sizeof what, "struct_size %zu", bad[i]);
        expect_error(&e, ROPE_ERROR_ATTRIBUTE, "cfg->struct_size: expected", what);
    }
    /* rope_cache_fill reads the configuration through the same check */
    float cs[4], sn[4];
    rope_tensor C = {cs, ROPE_F32, 2, {1, 4}, 0}, S = {sn, ROPE_F32, 2, {1, 4}, 0};
    rope_freq_config z = c;
    z.struct_size = 0;
    CHECK(rope_cache_fill(&z, 0, 1, ROPE_CACHE_HALF, 2, &C, &S) == ROPE_ERROR_ATTRIBUTE &&
              strstr(rope_last_error(), "struct_size"),
          "rope_cache_fill, struct_size 0: %s", rope_last_error());
}

/* The name table: every value named, names and aliases read back, unknown names refused. */
static void scaling_names(void) {
    static const char *const want[] = {"default", "linear", "dynamic", "yarn", "llama3", "longrope", "proportional"};
    int n = 0;
    while (rope_scaling_name((rope_scaling)n)) n++;
    CHECK(n == 7, "rope_scaling_name names %d values, expected 7", n);
    for (int i = 0; i < 7 && i < n; i++) {
        rope_scaling got = (rope_scaling)-1;
        CHECK(strcmp(rope_scaling_name((rope_scaling)i), want[i]) == 0, "name %d: %s", i,
              rope_scaling_name((rope_scaling)i));
        CHECK(rope_scaling_from_name(want[i], &got) == ROPE_OK && got == (rope_scaling)i, "from_name(%s)", want[i]);
    }
    CHECK(rope_scaling_name((rope_scaling)-1) == NULL && rope_scaling_name((rope_scaling)7) == NULL,
          "values outside the enum have no name");
    rope_scaling got = ROPE_SCALING_YARN;
    CHECK(rope_scaling_from_name("mrope", &got) == ROPE_OK && got == ROPE_SCALING_DEFAULT, "mrope is default");
    const char *unknown[] = {"su", "", "Linear", "yarn ", "dynamic_ntk"};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        got = ROPE_SCALING_YARN;
        CHECK(rope_scaling_from_name(unknown[i], &got) == ROPE_ERROR_ATTRIBUTE && got == ROPE_SCALING_YARN &&
                  strstr(rope_last_error(), "proportional") && strstr(rope_last_error(), "mrope"),
              "'%s' refused, listing the names: %s", unknown[i], rope_last_error());
    }
    CHECK(rope_scaling_from_name(NULL, &got) == ROPE_ERROR_NULL_ARGUMENT, "NULL name");
    CHECK(rope_scaling_from_name("yarn", NULL) == ROPE_ERROR_NULL_ARGUMENT, "NULL out");
}

int main(void) {
    tu_seed(7);
    by_hand();
    proportional_by_hand();
    random_methods();
    errors();
    struct_sizes();
    scaling_names();
    return tu_finish();
}
