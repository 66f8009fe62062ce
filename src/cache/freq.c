/* SPDX-License-Identifier: MIT */
/*
 * rope_freq_compute and the per-method inverse frequencies (formulas in rope.h, "Cos/sin caches").
 *
 * Each method follows Hugging Face transformers' rope initialisation function for it, operation for
 * operation where the order matters (e.g. YaRN's blend weight 1 - (1 - ramp)), but in float64 where
 * Hugging Face uses float32, so the values agree to float32 rounding. Defaults for zero fields and
 * the domains checked here are listed with rope_freq_config.
 */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "../core/internal.h"
#include "../core/try.h"
#include "freq.h"

/* pi to float64 precision (M_PI is POSIX, not C11). */
#define ROPE_PI 3.14159265358979323846

static int finite_ge(double v, double lo) { return isfinite(v) && v >= lo; }
static int finite_gt(double v, double lo) { return isfinite(v) && v > lo; }

/* The oldest rope_freq_config with struct_size ends after seq_len; rotated_pairs came with PROPORTIONAL. */
#define FREQ_CONFIG_V1_SIZE (offsetof(rope_freq_config, seq_len) + sizeof(int64_t))

/* Copies the fields the caller's struct_size covers over a zeroed config (later fields keep their 0
 * defaults), refusing a size that is no version of the struct. */
static rope_status read_config(const char *where, const rope_freq_config *in, rope_freq_config *out) {
    size_t n = in->struct_size;
    if (n < FREQ_CONFIG_V1_SIZE || n > sizeof *out)
        return rope_fail(ROPE_ERROR_ATTRIBUTE, where,
                         "cfg->struct_size: expected %zu (start from ROPE_FREQ_CONFIG_INIT; %zu for the oldest "
                         "layout, without rotated_pairs), found %zu",
                         sizeof *out, (size_t)FREQ_CONFIG_V1_SIZE, n);
    memset(out, 0, sizeof *out);
    memcpy(out, in, n);
    out->struct_size = sizeof *out;
    return ROPE_OK;
}

/* `factor` of a method that requires it: > 0 for linear, >= 1 for the context extensions. */
static rope_status check_factor(const char *where, const char *method, double factor, double lo, int strict) {
    if (strict ? finite_gt(factor, lo) : finite_ge(factor, lo)) return ROPE_OK;
    return rope_fail(ROPE_ERROR_ATTRIBUTE, where, "factor: expected a finite value %s %g for %s scaling, found %g",
                     strict ? ">" : ">=", lo, method, factor);
}

static rope_status check_orig(const char *where, const char *method, int64_t orig, int64_t lo) {
    if (orig >= lo) return ROPE_OK;
    return rope_fail(ROPE_ERROR_ATTRIBUTE, where,
                     "original_max_position_embeddings: expected >= %lld for %s scaling, found %lld", (long long)lo,
                     method, (long long)orig);
}

static rope_status check_attention(const char *where, double af) {
    if (finite_ge(af, 0)) return ROPE_OK;
    return rope_fail(ROPE_ERROR_ATTRIBUTE, where,
                     "attention_factor: expected a finite value >= 0 (0: computed), found %g", af);
}

static rope_status check_array(const char *where, const char *name, const double *v, int64_t n) {
    if (!v)
        return rope_fail(ROPE_ERROR_ATTRIBUTE, where,
                         "%s: required for longrope scaling (rotary_dim/2 = %lld values), found NULL", name,
                         (long long)n);
    for (int64_t i = 0; i < n; i++)
        if (!finite_gt(v[i], 0))
            return rope_fail(ROPE_ERROR_ATTRIBUTE, where, "%s[%lld]: expected a finite value > 0, found %g", name,
                             (long long)i, v[i]);
    return ROPE_OK;
}

/* YaRN's get_mscale: the attention temperature for a context stretched by `scale`. */
static double yarn_mscale(double scale, double k) { return scale <= 1.0 ? 1.0 : 0.1 * k * log(scale) + 1.0; }

/* YaRN's find_correction_dim: the (fractional) pair index whose wavelength fits n_rot times into
 * the original context. */
static double yarn_correction_dim(double n_rot, double dim, double base, double orig) {
    return (dim * log(orig / (n_rot * 2.0 * ROPE_PI))) / (2.0 * log(base));
}

static rope_status plan_yarn(const char *where, const rope_freq_config *cfg, rope_freq_plan *p) {
    const char *m = "yarn";
    ROPE_TRY(check_factor(where, m, cfg->factor, 1.0, 0));
    ROPE_TRY(check_orig(where, m, cfg->original_max_position_embeddings, 1));
    double fast = cfg->beta_fast == 0 ? 32.0 : cfg->beta_fast;
    double slow = cfg->beta_slow == 0 ? 1.0 : cfg->beta_slow;
    if (!finite_gt(fast, 0))
        return rope_fail(ROPE_ERROR_ATTRIBUTE, where, "beta_fast: expected a finite value > 0 (0: 32), found %g", fast);
    if (!finite_gt(slow, 0))
        return rope_fail(ROPE_ERROR_ATTRIBUTE, where, "beta_slow: expected a finite value > 0 (0: 1), found %g", slow);
    if (fast < slow)
        return rope_fail(ROPE_ERROR_ATTRIBUTE, where, "beta_fast: expected >= beta_slow (%g), found %g", slow, fast);
    if (!finite_ge(cfg->mscale, 0))
        return rope_fail(ROPE_ERROR_ATTRIBUTE, where, "mscale: expected a finite value >= 0 (0: unset), found %g",
                         cfg->mscale);
    if (!finite_ge(cfg->mscale_all_dim, 0))
        return rope_fail(ROPE_ERROR_ATTRIBUTE, where,
                         "mscale_all_dim: expected a finite value >= 0 (0: unset), found %g", cfg->mscale_all_dim);
    if (cfg->no_truncate != 0 && cfg->no_truncate != 1)
        return rope_fail(ROPE_ERROR_ATTRIBUTE, where, "no_truncate: expected 0 or 1, found %d", (int)cfg->no_truncate);
    ROPE_TRY(check_attention(where, cfg->attention_factor));

    p->factor = cfg->factor;
    p->orig = (double)cfg->original_max_position_embeddings;
    double d = (double)p->dim;
    double low = yarn_correction_dim(fast, d, p->base, p->orig);
    double high = yarn_correction_dim(slow, d, p->base, p->orig);
    if (!cfg->no_truncate) {
        low = floor(low);
        high = ceil(high);
    }
    /* Hugging Face clamps the upper end at dim - 1 although pair indices stop at dim/2 - 1. */
    if (low < 0) low = 0;
    if (high > d - 1) high = d - 1;
    if (low == high) high += 0.001; /* keeps the ramp's slope finite */
    p->ramp_low = low;
    p->ramp_high = high;

    if (cfg->attention_factor > 0)
        p->attention = cfg->attention_factor;
    else if (cfg->mscale != 0 && cfg->mscale_all_dim != 0)
        p->attention = yarn_mscale(p->factor, cfg->mscale) / yarn_mscale(p->factor, cfg->mscale_all_dim);
    else
        p->attention = yarn_mscale(p->factor, 1.0);
    return ROPE_OK;
}

static rope_status plan_longrope(const char *where, const rope_freq_config *cfg, rope_freq_plan *p) {
    const char *m = "longrope";
    int64_t half = p->dim / 2;
    ROPE_TRY(check_array(where, "short_factor", cfg->short_factor, half));
    ROPE_TRY(check_array(where, "long_factor", cfg->long_factor, half));
    ROPE_TRY(check_orig(where, m, cfg->original_max_position_embeddings, 1));
    ROPE_TRY(check_attention(where, cfg->attention_factor));
    p->orig = (double)cfg->original_max_position_embeddings;
    p->ext = cfg->seq_len > cfg->original_max_position_embeddings ? cfg->long_factor : cfg->short_factor;
    if (cfg->attention_factor > 0) {
        p->attention = cfg->attention_factor;
        return ROPE_OK;
    }
    if (cfg->factor == 0)
        return rope_fail(ROPE_ERROR_ATTRIBUTE, where,
                         "factor: required for longrope scaling when attention_factor is 0 (Hugging Face derives it as "
                         "max_position_embeddings / original_max_position_embeddings), found 0");
    ROPE_TRY(check_factor(where, m, cfg->factor, 1.0, 0));
    p->factor = cfg->factor;
    if (p->factor <= 1.0) {
        p->attention = 1.0;
        return ROPE_OK;
    }
    /* ln(orig) divides: orig 1 would make it infinite. */
    ROPE_TRY(check_orig(where, "longrope (attention factor from factor)", cfg->original_max_position_embeddings, 2));
    p->attention = sqrt(1.0 + log(p->factor) / log(p->orig));
    return ROPE_OK;
}

rope_status rope_freq_plan_make(const char *where, const rope_freq_config *caller_cfg, rope_freq_plan *plan) {
    if (!caller_cfg) return rope_fail(ROPE_ERROR_NULL_ARGUMENT, where, "cfg is NULL");
    rope_freq_config full;
    ROPE_TRY(read_config(where, caller_cfg, &full));
    const rope_freq_config *cfg = &full;
    const char *m = rope_scaling_name(cfg->scaling);
    if (!m)
        return rope_fail(ROPE_ERROR_ATTRIBUTE, where,
                         "scaling: expected a rope_scaling value 0..%d (DEFAULT .. PROPORTIONAL), found %d",
                         (int)ROPE_SCALING_PROPORTIONAL, (int)cfg->scaling);
    rope_freq_plan p = {0};
    p.scaling = cfg->scaling;
    p.base = cfg->base == 0 ? 10000.0 : cfg->base;
    p.factor = 1.0;
    p.attention = 1.0;
    if (!finite_gt(p.base, 1.0))
        return rope_fail(ROPE_ERROR_ATTRIBUTE, where, "base: expected a finite value > 1 (0: 10000), found %g", p.base);
    if (cfg->rotary_dim <= 0 || cfg->rotary_dim % 2 != 0 || cfg->rotary_dim > ROPE_MAX_ROTARY_DIM)
        return rope_fail(ROPE_ERROR_ATTRIBUTE, where, "rotary_dim: expected an even number in [2, %d], found %lld",
                         ROPE_MAX_ROTARY_DIM, (long long)cfg->rotary_dim);
    p.dim = cfg->rotary_dim;
    if (cfg->seq_len < 0)
        return rope_fail(ROPE_ERROR_ATTRIBUTE, where, "seq_len: expected >= 0 (0: not given), found %lld",
                         (long long)cfg->seq_len);
    p.rotated = p.dim / 2;
    if (cfg->scaling != ROPE_SCALING_PROPORTIONAL && cfg->rotated_pairs != 0)
        return rope_fail(ROPE_ERROR_ATTRIBUTE, where,
                         "rotated_pairs: only proportional scaling reads it, expected 0 for %s, found %lld", m,
                         (long long)cfg->rotated_pairs);

    switch (cfg->scaling) {
    case ROPE_SCALING_DEFAULT: break;
    case ROPE_SCALING_LINEAR:
        /* A pure division of the positions: any positive factor is meaningful. */
        ROPE_TRY(check_factor(where, m, cfg->factor, 0.0, 1));
        p.factor = cfg->factor;
        break;
    case ROPE_SCALING_DYNAMIC: {
        if (cfg->rotary_dim < 4)
            return rope_fail(ROPE_ERROR_ATTRIBUTE, where,
                             "rotary_dim: expected >= 4 for dynamic scaling (its exponent is d/(d-2)), found %lld",
                             (long long)cfg->rotary_dim);
        ROPE_TRY(check_factor(where, m, cfg->factor, 1.0, 0));
        ROPE_TRY(check_orig(where, m, cfg->original_max_position_embeddings, 1));
        p.factor = cfg->factor;
        p.orig = (double)cfg->original_max_position_embeddings;
        double len = cfg->seq_len > cfg->original_max_position_embeddings ? (double)cfg->seq_len : p.orig;
        double d = (double)p.dim;
        double scaled = p.base * pow((p.factor * len / p.orig) - (p.factor - 1.0), d / (d - 2.0));
        if (!isfinite(scaled))
            return rope_fail(ROPE_ERROR_ATTRIBUTE, where,
                             "seq_len: dynamic scaling of base %g for seq_len %lld overflows float64", p.base,
                             (long long)cfg->seq_len);
        p.base = scaled;
        break;
    }
    case ROPE_SCALING_YARN: ROPE_TRY(plan_yarn(where, cfg, &p)); break;
    case ROPE_SCALING_LLAMA3: {
        ROPE_TRY(check_factor(where, m, cfg->factor, 1.0, 0));
        ROPE_TRY(check_orig(where, m, cfg->original_max_position_embeddings, 1));
        double lf = cfg->low_freq_factor == 0 ? 1.0 : cfg->low_freq_factor;
        double hf = cfg->high_freq_factor == 0 ? 4.0 : cfg->high_freq_factor;
        if (!finite_gt(lf, 0))
            return rope_fail(ROPE_ERROR_ATTRIBUTE, where,
                             "low_freq_factor: expected a finite value > 0 (0: 1), found %g", lf);
        if (!isfinite(hf) || !(hf > lf))
            return rope_fail(ROPE_ERROR_ATTRIBUTE, where,
                             "high_freq_factor: expected a finite value > low_freq_factor (%g) (0: 4), found %g", lf,
                             hf);
        p.factor = cfg->factor;
        p.orig = (double)cfg->original_max_position_embeddings;
        p.low_freq_factor = lf;
        p.high_freq_factor = hf;
        break;
    }
    case ROPE_SCALING_LONGROPE: ROPE_TRY(plan_longrope(where, cfg, &p)); break;
    case ROPE_SCALING_PROPORTIONAL:
        if (cfg->rotated_pairs < 0 || cfg->rotated_pairs > p.dim / 2)
            return rope_fail(ROPE_ERROR_ATTRIBUTE, where,
                             "rotated_pairs: expected 0 .. rotary_dim/2 (%lld) for proportional scaling (0: all), "
                             "found %lld",
                             (long long)(p.dim / 2), (long long)cfg->rotated_pairs);
        if (cfg->rotated_pairs > 0) p.rotated = cfg->rotated_pairs;
        if (cfg->factor != 0) ROPE_TRY(check_factor(where, m, cfg->factor, 0.0, 1));
        p.factor = cfg->factor == 0 ? 1.0 : cfg->factor;
        break;
    }
    /* Every value is attention * cos or sin: above the largest float16 it would round to infinity in
     * an f16 table (and, far larger, in f32), which no model means. */
    if (!(p.attention <= ROPE_MAX_ATTENTION))
        return rope_fail(ROPE_ERROR_ATTRIBUTE, where,
                         "attention factor %g (attention_factor, or from mscale / mscale_all_dim / factor): expected at "
                         "most %g, so that every cos/sin value is finite in every dtype",
                         p.attention, ROPE_MAX_ATTENTION);
    *plan = p;
    return ROPE_OK;
}

double rope_freq_plan_at(const rope_freq_plan *p, int64_t i) {
    double expo = (double)(2 * i) / (double)p->dim;
    double pos_freq = pow(p->base, expo); /* base^(2i/d) */
    switch (p->scaling) {
    case ROPE_SCALING_DEFAULT:
    case ROPE_SCALING_DYNAMIC: return 1.0 / pos_freq;
    case ROPE_SCALING_LINEAR: return (1.0 / pos_freq) / p->factor;
    case ROPE_SCALING_YARN: {
        double extrap = 1.0 / pos_freq;
        double interp = 1.0 / (p->factor * pos_freq);
        double ramp = ((double)i - p->ramp_low) / (p->ramp_high - p->ramp_low);
        ramp = ramp < 0.0 ? 0.0 : ramp > 1.0 ? 1.0 : ramp;
        double w = 1.0 - ramp; /* Hugging Face's inv_freq_extrapolation_factor */
        return interp * (1.0 - w) + extrap * w;
    }
    case ROPE_SCALING_LLAMA3: {
        double inv = 1.0 / pos_freq;
        double wavelen = 2.0 * ROPE_PI / inv;
        if (wavelen < p->orig / p->high_freq_factor) return inv;
        if (wavelen > p->orig / p->low_freq_factor) return inv / p->factor;
        double s = (p->orig / wavelen - p->low_freq_factor) / (p->high_freq_factor - p->low_freq_factor);
        return (1.0 - s) * inv / p->factor + s * inv;
    }
    case ROPE_SCALING_LONGROPE: return 1.0 / (p->ext[i] * pos_freq);
    case ROPE_SCALING_PROPORTIONAL: return i < p->rotated ? (1.0 / pos_freq) / p->factor : 0.0;
    }
    return 0.0; /* unreachable: plans only hold valid methods */
}

rope_status rope_freq_plan_fill(const char *where, const rope_freq_plan *p, double *out, double *max_out) {
    int64_t half = p->dim / 2;
    double max = 0.0;
    /* An extreme base, factor or LongRoPE factor can overflow or underflow float64: each value is
     * checked as it is written. */
    for (int64_t i = 0; i < half; i++) {
        double v = rope_freq_plan_at(p, i);
        if (out) out[i] = v;
        int unrotated = i >= p->rotated; /* PROPORTIONAL's pairs past rotated_pairs: exactly 0 */
        if (unrotated ? v != 0.0 : !finite_gt(v, 0))
            return rope_fail(ROPE_ERROR_ATTRIBUTE, where,
                             "inv_freq[%lld] comes out %g with this configuration: expected finite and > 0 "
                             "(check base, factor and the LongRoPE factors)",
                             (long long)i, v);
        if (v > max) max = v;
    }
    if (max_out) *max_out = max;
    return ROPE_OK;
}

rope_status rope_freq_compute(const rope_freq_config *cfg, double *inv_freq, double *attention_scale) {
    static const char where[] = "rope_freq_compute";
    rope_freq_plan p;
    ROPE_TRY(rope_freq_plan_make(where, cfg, &p));
    if (!inv_freq) return rope_fail(ROPE_ERROR_NULL_ARGUMENT, where, "inv_freq is NULL");
    ROPE_TRY(rope_freq_plan_fill(where, &p, NULL, NULL)); /* nothing of the caller's written on failure */
    ROPE_TRY(rope_freq_plan_fill(where, &p, inv_freq, NULL));
    if (attention_scale) *attention_scale = p.attention;
    return ROPE_OK;
}
