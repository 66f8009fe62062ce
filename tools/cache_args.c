/* SPDX-License-Identifier: MIT */
/* `rope cache`'s argument parser (cache_args.h): --dim, --positions, --scaling TYPE:KEY=VALUE lists and
 * the rest, into a rope_freq_config; or --axes, --grid, --theta for a multi-axis table. Messages go
 * to a diag, never to a stream. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache_args.h"
#include "cli_args.h"
#include "tensor_util.h"

/* The rope_scaling keys, and which methods read each (bit i: rope_scaling i), to refuse a key the
 * method would ignore. */
enum { CK_FACTOR, CK_ORIG, CK_LOW, CK_HIGH, CK_FAST, CK_SLOW, CK_ATT, CK_MSCALE, CK_MSCALE_ALL, CK_TRUNCATE,
       CK_ROTATED, CK_SHORT, CK_LONG, CK_COUNT };
static const char *const cache_key_names[CK_COUNT] = {
    "factor",           "original_max_position_embeddings", "low_freq_factor", "high_freq_factor",
    "beta_fast",        "beta_slow",                        "attention_factor", "mscale",
    "mscale_all_dim",   "truncate",                         "rotated_pairs",    "short_factor",
    "long_factor"};
#define CACHE_BIT(s) (1u << (s))
#define U_LIN CACHE_BIT(ROPE_SCALING_LINEAR)
#define U_DYN CACHE_BIT(ROPE_SCALING_DYNAMIC)
#define U_YARN CACHE_BIT(ROPE_SCALING_YARN)
#define U_L3 CACHE_BIT(ROPE_SCALING_LLAMA3)
#define U_LONG CACHE_BIT(ROPE_SCALING_LONGROPE)
#define U_PROP CACHE_BIT(ROPE_SCALING_PROPORTIONAL)
static const unsigned cache_key_users[CK_COUNT] = {
    U_LIN | U_DYN | U_YARN | U_L3 | U_LONG | U_PROP, /* factor */
    U_DYN | U_YARN | U_L3 | U_LONG,                  /* original_max_position_embeddings */
    U_L3, U_L3,                                      /* low/high_freq_factor */
    U_YARN, U_YARN,                                  /* beta_fast, beta_slow */
    U_YARN | U_LONG,                                 /* attention_factor */
    U_YARN, U_YARN, U_YARN,                          /* mscale, mscale_all_dim, truncate */
    U_PROP,                                          /* rotated_pairs */
    U_LONG, U_LONG};                                 /* short_factor, long_factor */

static int cache_parse_i64(const char *s, int64_t *out) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || errno) return -1;
    *out = (int64_t)v;
    return 0;
}

static int cache_parse_f64(const char *s, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno == ERANGE) return -1;
    *out = v;
    return 0;
}

/* "a/b/c" into a malloc'd array. */
static int cache_parse_list(const char *s, double **out, size_t *n) {
    size_t count = 1;
    for (const char *p = s; *p; p++) count += *p == '/';
    double *v = malloc(count * sizeof *v);
    char *copy = malloc(strlen(s) + 1);
    if (!v || !copy) {
        free(v), free(copy);
        return -1;
    }
    strcpy(copy, s);
    size_t i = 0;
    char *item = copy;
    for (;;) {
        char *slash = strchr(item, '/');
        if (slash) *slash = '\0';
        if (cache_parse_f64(item, &v[i++])) {
            free(v), free(copy);
            return -1;
        }
        if (!slash) break;
        item = slash + 1;
    }
    free(copy);
    *out = v;
    *n = count;
    return 0;
}

/* Applies one KEY=VALUE of --scaling. */
static int cache_parse_key(cache_args *a, char *kv, diag *err) {
    char *eq = strchr(kv, '=');
    if (!eq) return diag_set(err, "--scaling: '%s': expected KEY=VALUE", kv);
    *eq = '\0';
    const char *val = eq + 1;
    int k = 0;
    while (k < CK_COUNT && strcmp(kv, cache_key_names[k]) != 0) k++;
    if (k == CK_COUNT) return diag_set(err, "--scaling: unknown key '%s'", kv);
    if (a->keys & (1u << k)) return diag_set(err, "--scaling: key '%s' given twice", kv);
    a->keys |= 1u << k;
    rope_freq_config *c = &a->cfg;
    int bad = 0;
    switch (k) {
    case CK_FACTOR: bad = cache_parse_f64(val, &c->factor); break;
    case CK_ORIG: bad = cache_parse_i64(val, &c->original_max_position_embeddings); break;
    case CK_LOW: bad = cache_parse_f64(val, &c->low_freq_factor); break;
    case CK_HIGH: bad = cache_parse_f64(val, &c->high_freq_factor); break;
    case CK_FAST: bad = cache_parse_f64(val, &c->beta_fast); break;
    case CK_SLOW: bad = cache_parse_f64(val, &c->beta_slow); break;
    case CK_ATT: bad = cache_parse_f64(val, &c->attention_factor); break;
    case CK_MSCALE: bad = cache_parse_f64(val, &c->mscale); break;
    case CK_MSCALE_ALL: bad = cache_parse_f64(val, &c->mscale_all_dim); break;
    case CK_ROTATED: bad = cache_parse_i64(val, &c->rotated_pairs); break;
    case CK_TRUNCATE:
        if (!strcmp(val, "true") || !strcmp(val, "1")) c->no_truncate = 0;
        else if (!strcmp(val, "false") || !strcmp(val, "0")) c->no_truncate = 1;
        else bad = 1;
        break;
    default: bad = cache_parse_list(val, &a->list[k - CK_SHORT], &a->list_len[k - CK_SHORT]); break;
    }
    return bad ? diag_set(err, "--scaling: %s: cannot read '%s'", cache_key_names[k], val) : 0;
}

/* TYPE[:KEY=VALUE,...] */
static int cache_parse_scaling(cache_args *a, const char *spec, diag *err) {
    char *s = malloc(strlen(spec) + 1);
    if (!s) return diag_set(err, "--scaling: out of memory");
    strcpy(s, spec);
    char *colon = strchr(s, ':');
    if (colon) *colon = '\0';
    int st = 0;
    rope_scaling t;
    if (rope_scaling_from_name(s, &t) == ROPE_OK) { /* the library's one table of names (and aliases) */
        a->cfg.scaling = t;
    } else {
        char known[256] = "";
        for (int i = 0; rope_scaling_name((rope_scaling)i); i++) {
            size_t n = strlen(known);
            snprintf(known + n, sizeof known - n, "%s%s", i ? ", " : "", rope_scaling_name((rope_scaling)i));
        }
        st = diag_set(err, "--scaling: unknown type '%s' (%s)", s, known);
    }
    for (char *kv = colon ? colon + 1 : NULL; st == 0 && kv && *kv;) {
        char *comma = strchr(kv, ',');
        if (comma) *comma = '\0';
        st = cache_parse_key(a, kv, err);
        kv = comma ? comma + 1 : NULL;
    }
    free(s);
    return st;
}

/* S:E (or E alone): each bound read whole, overflow reported as such. */
static int cache_parse_positions(cache_args *a, const char *s, diag *err) {
    const char *colon = strchr(s, ':');
    char first[64];
    const int64_t max = (int64_t)1 << 53;
    a->start = 0;
    if (colon) {
        size_t n = (size_t)(colon - s);
        if (n == 0 || n >= sizeof first) return diag_set(err, "--positions '%s': expected START:END", s);
        memcpy(first, s, n);
        first[n] = '\0';
        if (cli_i64("--positions START", first, 0, max, &a->start, err)) return -1;
    }
    if (cli_i64("--positions END", colon ? colon + 1 : s, 0, max, &a->end, err)) return -1;
    if (a->end < a->start)
        return diag_set(err, "--positions '%s': END (%lld) is below START (%lld)", s, (long long)a->end,
                        (long long)a->start);
    a->have_positions = 1;
    return 0;
}

/* Applies --layout: the table the named operator pairing (or vLLM's cache) reads. */
static int cache_set_layout(cache_args *a, const char *v, diag *err) {
    cli_layout l;
    if (cli_layout_named(v, &l, err)) return -1;
    a->layout = l == CLI_VLLM ? ROPE_CACHE_VLLM : cli_layout_is_atb(l) ? ROPE_CACHE_FULL : ROPE_CACHE_HALF;
    a->coeff = l == CLI_COEFF2 ? 2 : l == CLI_COEFF4 ? 4 : l == CLI_COEFFD ? -1 /* the rotary dim, below */ : 0;
    return 0;
}

/* "a,b,c" into at most ROPE_MAX_AXES integers in [lo, hi]; *n gets the count. */
static int cache_parse_ints(const char *name, const char *s, int64_t lo, int64_t hi, char sep, int64_t *out, int *n,
                            diag *err) {
    char item[64];
    int k = 0;
    for (const char *p = s;; k++) {
        const char *end = strchr(p, sep);
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (k == ROPE_MAX_AXES) return diag_set(err, "%s '%s': at most %d values", name, s, ROPE_MAX_AXES);
        if (len == 0 || len >= sizeof item) return diag_set(err, "%s '%s': value %d is empty or too long", name, s, k);
        memcpy(item, p, len);
        item[len] = '\0';
        if (cli_i64(name, item, lo, hi, &out[k], err)) return -1;
        if (!end) break;
        p = end + 1;
    }
    *n = k + 1;
    return 0;
}

/* --theta T or T0,T1,...: one base for every axis or one per axis (checked against --axes later). */
static int cache_parse_thetas(cache_args *a, const char *s, diag *err) {
    char item[64];
    int k = 0;
    memset(a->axes.theta, 0, sizeof a->axes.theta); /* a repeated --theta replaces the list */
    for (const char *p = s;; k++) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (k == ROPE_MAX_AXES) return diag_set(err, "--theta '%s': at most %d values", s, ROPE_MAX_AXES);
        if (len == 0 || len >= sizeof item) return diag_set(err, "--theta '%s': value %d is empty or too long", s, k);
        memcpy(item, p, len);
        item[len] = '\0';
        if (cli_f64("--theta", item, &a->axes.theta[k], err)) return -1;
        if (a->axes.theta[k] == 0) /* the library reads 0 as "default": never silently */
            return diag_set(err, "--theta '%s': value %d is 0; expected > 1 (leave --theta out for 10000)", s, k);
        if (!end) break;
        p = end + 1;
    }
    a->n_theta = k + 1;
    return 0;
}

/* --axes-freq: how the frequencies are dealt to the axes. */
static int cache_set_axes_freq(cache_args *a, const char *v, diag *err) {
    if (!strcmp(v, "per-axis")) a->axes.freq = ROPE_AXES_FREQ_PER_AXIS;
    else if (!strcmp(v, "alternating")) a->axes.freq = ROPE_AXES_FREQ_ALTERNATING;
    else return diag_set(err, "--axes-freq '%s': expected per-axis or alternating", v);
    return 0;
}

static const char *const cache_value_options[] = {
    "--dim",   "--base",  "--positions", "--scaling", "--seq-len",    "-o",          "--output",
    "--dtype", "--layout", "--axes",     "--grid",    "--grid-start", "--theta",     "--axes-freq"};

/* Applies option `name` with its value `v`. */
static int cache_set_option(cache_args *a, const char *name, const char *v, diag *err) {
    if (!strcmp(name, "--dim")) {
        a->have_dim = 1;
        return cli_i64(name, v, 2, 65536, &a->cfg.rotary_dim, err);
    }
    if (!strcmp(name, "--base")) {
        if (cli_f64(name, v, &a->cfg.base, err)) return -1;
        if (a->cfg.base == 0) /* the library reads 0 as "default": never silently */
            return diag_set(err, "--base 0: expected a value > 1 (leave --base out for 10000)");
        return 0;
    }
    if (!strcmp(name, "--positions")) return cache_parse_positions(a, v, err);
    if (!strcmp(name, "--scaling")) return cache_parse_scaling(a, v, err);
    if (!strcmp(name, "--seq-len")) {
        a->have_seq_len = 1;
        return cli_i64(name, v, 0, INT64_MAX, &a->seq_len, err);
    }
    if (!strcmp(name, "-o") || !strcmp(name, "--output")) {
        a->out_dir = v;
        return 0;
    }
    if (!strcmp(name, "--axes")) {
        int n = 0;
        a->have_axes = 1;
        memset(a->axes.axes_dims, 0, sizeof a->axes.axes_dims); /* a repeated --axes replaces the list */
        if (cache_parse_ints(name, v, INT64_MIN, INT64_MAX, ',', a->axes.axes_dims, &n, err)) return -1;
        a->axes.n_axes = n; /* the widths' domain is the library's to check (exit 1, as --dim) */
        return 0;
    }
    if (!strcmp(name, "--grid")) {
        int n = 0;
        a->have_grid = 0;
        if (cache_parse_ints(name, v, 1, (int64_t)1 << 31, 'x', a->grid, &n, err)) return -1;
        a->have_grid = n;
        return 0;
    }
    if (!strcmp(name, "--grid-start")) {
        const int64_t lim = (int64_t)1 << 53;
        return cache_parse_ints(name, v, -lim, lim, ',', a->grid_start, &a->n_grid_start, err);
    }
    if (!strcmp(name, "--theta")) return cache_parse_thetas(a, v, err);
    if (!strcmp(name, "--axes-freq")) return cache_set_axes_freq(a, v, err);
    if (!strcmp(name, "--dtype")) {
        a->dtype = float_dtype_named(v);
        if (a->dtype == ROPE_DTYPE_INVALID) return diag_set(err, "--dtype '%s': expected f32, f16 or bf16", v);
        return 0;
    }
    return cache_set_layout(a, v, err);
}

/* The end of a multi-axis command line: its options complete and consistent, the 1-D ones absent. */
static int cache_finish_axes(cache_args *a, diag *err) {
    const int n = a->axes.n_axes;
    const char *other = a->have_dim ? "--dim" : a->have_positions ? "--positions" : a->cfg.base != 0 ? "--base"
                        : a->cfg.scaling != ROPE_SCALING_DEFAULT || a->keys ? "--scaling"
                        : a->have_seq_len ? "--seq-len" : NULL;
    if (other) {
        a->usage = 1;
        return diag_set(err, "%s: not with --axes (the axes' widths give the rotated width, --grid the tokens, "
                             "--theta the bases)", other);
    }
    const char *missing = !a->have_grid ? "--grid" : !a->out_dir ? "-o DIR" : NULL;
    if (missing) {
        a->usage = 1;
        return diag_set(err, "%s is required with --axes", missing);
    }
    if (a->have_grid != n)
        return diag_set(err, "--grid has %d extents, expected %d (one per --axes width)", a->have_grid, n);
    if (a->n_grid_start && a->n_grid_start != n)
        return diag_set(err, "--grid-start has %d values, expected %d (one per --axes width)", a->n_grid_start, n);
    if (a->n_theta > 1 && a->n_theta != n)
        return diag_set(err, "--theta has %d values, expected 1 or %d (one per --axes width)", a->n_theta, n);
    for (int k = 1; a->n_theta == 1 && k < n; k++) a->axes.theta[k] = a->axes.theta[0];
    a->tokens = 1;
    for (int k = 0; k < n; k++) {
        a->tokens *= a->grid[k]; /* each extent <= 2^31: the product is checked before it can overflow */
        if (a->tokens > ((int64_t)1 << 31))
            return diag_set(err, "--grid: more than 2^31 tokens");
    }
    int64_t rot = 0;
    for (int k = 0; k < n; k++)
        if (a->axes.axes_dims[k] > 0 && a->axes.axes_dims[k] <= 65536) rot += a->axes.axes_dims[k];
    if (a->coeff < 0) a->coeff = (int32_t)rot; /* coeffD */
    return 0;
}

int cache_args_parse(cache_args *a, int argc, char **argv, diag *err) {
    memset(a, 0, sizeof *a);
    a->cfg = (rope_freq_config)ROPE_FREQ_CONFIG_INIT;
    a->axes = (rope_axes_config)ROPE_AXES_CONFIG_INIT;
    a->dtype = ROPE_F32;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v = NULL;
        if (!strcmp(o, "-h") || !strcmp(o, "--help")) return 1;
        if (o[0] != '-') return diag_set(err, "unexpected argument '%s'", o);
        int k = 0, m = 0, n = (int)(sizeof cache_value_options / sizeof cache_value_options[0]);
        for (; k < n; k++)
            if ((m = cli_value(argc, argv, &i, cache_value_options[k], &v, err)) != 0) break;
        if (m < 0) return -1;
        if (m == 0) {
            a->usage = 1;
            if (!strncmp(o, "--coeff", 7))
                return diag_set(err, "%s: the coefficient is part of the layout: --layout coeff2, coeff4 or coeffD", o);
            return diag_set(err, "unknown option '%s'", o);
        }
        if (cache_set_option(a, cache_value_options[k], v, err)) return -1;
    }
    if (a->have_axes) return cache_finish_axes(a, err);
    if (a->have_grid || a->n_theta || a->n_grid_start || a->axes.freq != ROPE_AXES_FREQ_PER_AXIS) {
        a->usage = 1;
        return diag_set(err, "--grid, --grid-start, --theta and --axes-freq need --axes (a multi-axis table)");
    }
    const char *missing = !a->have_dim ? "--dim" : !a->have_positions ? "--positions" : !a->out_dir ? "-o DIR" : NULL;
    if (missing) {
        a->usage = 1;
        return diag_set(err, "%s is required", missing);
    }
    if (a->coeff < 0) a->coeff = (int32_t)a->cfg.rotary_dim; /* coeffD */
    for (int k = 0; k < 2; k++)
        if (a->list[k] && (int64_t)a->list_len[k] != a->cfg.rotary_dim / 2)
            return diag_set(err, "%s has %zu values, expected %lld (dim/2)", cache_key_names[CK_SHORT + k],
                            a->list_len[k], (long long)(a->cfg.rotary_dim / 2));
    for (int k = 0; k < CK_COUNT; k++)
        if ((a->keys & (1u << k)) && !(cache_key_users[k] & CACHE_BIT(a->cfg.scaling)))
            return diag_set(err, "--scaling: %s scaling does not use %s (refused rather than ignored)",
                            rope_scaling_name(a->cfg.scaling), cache_key_names[k]);
    a->cfg.short_factor = a->list[0];
    a->cfg.long_factor = a->list[1];
    a->cfg.seq_len = a->have_seq_len ? a->seq_len : a->end;
    return 0;
}

void cache_args_free(cache_args *a) {
    free(a->list[0]), free(a->list[1]);
    a->list[0] = a->list[1] = NULL;
}
