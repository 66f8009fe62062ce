/* SPDX-License-Identifier: MIT */
/* `rope cache`: writes the cos/sin cache of a RoPE configuration (Hugging Face's rope_theta and
 * rope_scaling) as two TensorProto files, ready to be inputs of an ONNX or ATB node. The values
 * come from rope_cache_fill; this file only parses the command line and writes the files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

<<<<<<< HEAD
#include "cache_args.h"
=======
#include "cli_args.h"
>>>>>>> adopt
#include "commands.h"
#include "file_io.h"
#include "tensor_proto.h"
#include "tensor_util.h"

static void print_cache_usage(FILE *f) {
    fprintf(f,
            "usage: rope cache --dim R --positions START:END -o DIR [--base B] [--scaling TYPE[:KEY=VALUE,...]]\n"
<<<<<<< HEAD
            "                  [--seq-len N] [--dtype f32|f16|bf16] [--layout half|full|vllm] [--coeff 2|4|R]\n\n"
=======
            "                  [--seq-len N] [--dtype f32|f16|bf16] [--layout halves|interleaved|coeff2|coeff4|coeffD]\n\n"
>>>>>>> adopt
            "Writes DIR/cos.pb and DIR/sin.pb (TensorProto, raw_data): row r holds the cos (sin) of position\n"
            "START + r for every rotated pair, as Hugging Face transformers computes them for the configuration,\n"
            "in float64 from the exact angle, rounded once to the dtype.\n\n"
            "  --dim R            rotary dimension (even, 2..65536): head_dim * partial_rotary_factor\n"
            "  --positions S:E    positions S .. E-1 (\"E\" alone means 0:E), 0 <= S <= E <= 2^53\n"
            "  --base B           rope_theta, > 1 (default 10000 when --base is not given)\n"
            "  --scaling TYPE:... rope_scaling type: default, linear, dynamic, yarn, llama3, longrope, with\n"
            "                     keys as in Hugging Face: factor, original_max_position_embeddings,\n"
            "                     low_freq_factor, high_freq_factor, beta_fast, beta_slow, attention_factor,\n"
            "                     mscale, mscale_all_dim, truncate (true|false), short_factor, long_factor\n"
            "                     (lists of R/2 values separated by '/'); e.g.\n"
            "                     --scaling llama3:factor=8,original_max_position_embeddings=8192\n"
            "  --seq-len N        sequence length for dynamic and longrope (default E, as Hugging Face's\n"
            "                     forward over positions 0..E-1; 0 means as at initialisation)\n"
            "  --dtype D          f32 (default), f16 or bf16\n"
<<<<<<< HEAD
            "  --layout L         half (default): [E-S, R/2], ONNX RotaryEmbedding's cos_cache/sin_cache;\n"
            "                     full: [E-S, R], each pair's value in both of its elements, ATB Rope's cos/sin\n"
            "                     vllm: one file, DIR/cos_sin_cache.pb [E-S, R], rows [cos | sin], the serving\n"
            "                     engines' (vLLM) cos_sin_cache\n"
            "  --coeff C          full layout only, required there: the ATB rotaryCoeff, 2, 4 or R\n"
            "  -o DIR             output directory (created if missing)\n\n"
            "Exit status: 0 written, 1 the library rejected the configuration, 2 bad usage or unwritable files.\n");
}

=======
            "  --layout L         the pairing of the operator that reads the tables (the same words as rope\n"
            "                     bench): halves (default) or interleaved: [E-S, R/2], ONNX RotaryEmbedding's\n"
            "                     cos_cache/sin_cache; coeff2, coeff4 or coeffD: [E-S, R], each pair's value in\n"
            "                     both of its elements, ATB Rope's cos/sin for rotaryCoeff 2, 4 or R\n"
            "  -o DIR             output directory (created if missing)\n"
            "Options take --opt VALUE or --opt=VALUE. A --scaling key the type does not use is refused.\n\n"
            "Exit status: 0 written, 1 the library rejected the configuration, 2 bad usage or unwritable files.\n");
}

/* The rope_scaling keys, and which methods read each (bit i: rope_scaling i), for the warning
 * about keys a method ignores. */
enum { CK_FACTOR, CK_ORIG, CK_LOW, CK_HIGH, CK_FAST, CK_SLOW, CK_ATT, CK_MSCALE, CK_MSCALE_ALL, CK_TRUNCATE,
       CK_SHORT, CK_LONG, CK_COUNT };
static const char *const cache_key_names[CK_COUNT] = {
    "factor",           "original_max_position_embeddings", "low_freq_factor", "high_freq_factor",
    "beta_fast",        "beta_slow",                        "attention_factor", "mscale",
    "mscale_all_dim",   "truncate",                         "short_factor",     "long_factor"};
#define CACHE_BIT(s) (1u << (s))
#define U_LIN CACHE_BIT(ROPE_SCALING_LINEAR)
#define U_DYN CACHE_BIT(ROPE_SCALING_DYNAMIC)
#define U_YARN CACHE_BIT(ROPE_SCALING_YARN)
#define U_L3 CACHE_BIT(ROPE_SCALING_LLAMA3)
#define U_LONG CACHE_BIT(ROPE_SCALING_LONGROPE)
static const unsigned cache_key_users[CK_COUNT] = {
    U_LIN | U_DYN | U_YARN | U_L3 | U_LONG, /* factor */
    U_DYN | U_YARN | U_L3 | U_LONG,         /* original_max_position_embeddings */
    U_L3, U_L3,                             /* low/high_freq_factor */
    U_YARN, U_YARN,                         /* beta_fast, beta_slow */
    U_YARN | U_LONG,                        /* attention_factor */
    U_YARN, U_YARN, U_YARN,                 /* mscale, mscale_all_dim, truncate */
    U_LONG, U_LONG};                        /* short_factor, long_factor */
static const char *const cache_type_names[] = {"default", "linear", "dynamic", "yarn", "llama3", "longrope"};

typedef struct cache_args {
    rope_freq_config cfg;
    int64_t start, end, seq_len;
    int have_dim, have_positions, have_seq_len, have_coeff;
    rope_dtype dtype;
    rope_cache_layout layout;
    int32_t coeff;
    const char *out_dir;
    double *list[2]; /* short_factor, long_factor */
    size_t list_len[2];
    unsigned keys; /* bit k: key k given */
} cache_args;

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
static int cache_parse_key(cache_args *a, char *kv) {
    char *eq = strchr(kv, '=');
    if (!eq) {
        fprintf(stderr, "rope cache: --scaling: '%s': expected KEY=VALUE\n", kv);
        return -1;
    }
    *eq = '\0';
    const char *val = eq + 1;
    int k = 0;
    while (k < CK_COUNT && strcmp(kv, cache_key_names[k]) != 0) k++;
    if (k == CK_COUNT) {
        fprintf(stderr, "rope cache: --scaling: unknown key '%s'\n", kv);
        return -1;
    }
    if (a->keys & (1u << k)) {
        fprintf(stderr, "rope cache: --scaling: key '%s' given twice\n", kv);
        return -1;
    }
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
    case CK_TRUNCATE:
        if (!strcmp(val, "true") || !strcmp(val, "1")) c->no_truncate = 0;
        else if (!strcmp(val, "false") || !strcmp(val, "0")) c->no_truncate = 1;
        else bad = 1;
        break;
    default: bad = cache_parse_list(val, &a->list[k - CK_SHORT], &a->list_len[k - CK_SHORT]); break;
    }
    if (bad) fprintf(stderr, "rope cache: --scaling: %s: cannot read '%s'\n", cache_key_names[k], val);
    return bad ? -1 : 0;
}

/* TYPE[:KEY=VALUE,...] */
static int cache_parse_scaling(cache_args *a, const char *spec) {
    char *s = malloc(strlen(spec) + 1);
    if (!s) return -1;
    strcpy(s, spec);
    char *colon = strchr(s, ':');
    if (colon) *colon = '\0';
    int t = 0, n = (int)(sizeof cache_type_names / sizeof cache_type_names[0]);
    while (t < n && strcmp(s, cache_type_names[t]) != 0) t++;
    int st = 0;
    if (t == n) {
        fprintf(stderr, "rope cache: --scaling: unknown type '%s' (default, linear, dynamic, yarn, llama3, longrope)\n",
                s);
        st = -1;
    } else {
        a->cfg.scaling = (rope_scaling)t;
    }
    for (char *kv = colon ? colon + 1 : NULL; st == 0 && kv && *kv;) {
        char *comma = strchr(kv, ',');
        if (comma) *comma = '\0';
        st = cache_parse_key(a, kv);
        kv = comma ? comma + 1 : NULL;
    }
    free(s);
    return st;
}

/* S:E (or E alone): each bound read whole, overflow reported as such. */
static int cache_parse_positions(cache_args *a, const char *s) {
    const char *colon = strchr(s, ':');
    char first[64];
    const int64_t max = (int64_t)1 << 53;
    a->start = 0;
    if (colon) {
        size_t n = (size_t)(colon - s);
        if (n == 0 || n >= sizeof first) {
            fprintf(stderr, "rope cache: --positions '%s': expected START:END\n", s);
            return -1;
        }
        memcpy(first, s, n);
        first[n] = '\0';
        if (cli_i64("cache", "--positions START", first, 0, max, &a->start)) return -1;
    }
    if (cli_i64("cache", "--positions END", colon ? colon + 1 : s, 0, max, &a->end)) return -1;
    if (a->end < a->start) {
        fprintf(stderr, "rope cache: --positions '%s': END (%lld) is below START (%lld)\n", s, (long long)a->end,
                (long long)a->start);
        return -1;
    }
    a->have_positions = 1;
    return 0;
}

/* Applies --layout: the table the named operator pairing reads. */
static int cache_set_layout(cache_args *a, const char *v) {
    cli_layout l;
    if (cli_layout_named("cache", v, &l)) return -1;
    a->layout = cli_layout_is_atb(l) ? ROPE_CACHE_FULL : ROPE_CACHE_HALF;
    a->coeff = l == CLI_COEFF2 ? 2 : l == CLI_COEFF4 ? 4 : l == CLI_COEFFD ? -1 /* the rotary dim, below */ : 0;
    return 0;
}

static int cache_parse_args(cache_args *a, int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v = NULL;
        if (!strcmp(o, "-h") || !strcmp(o, "--help")) {
            print_cache_usage(stdout);
            return 1;
        }
        if (o[0] != '-') {
            fprintf(stderr, "rope cache: unexpected argument '%s'\n", o);
            return -1;
        }
        static const char *const names[] = {"--dim", "--base", "--positions", "--scaling", "--seq-len", "-o",
                                            "--output", "--dtype", "--layout"};
        int k = 0, m = 0;
        for (; k < (int)(sizeof names / sizeof names[0]); k++)
            if ((m = cli_value("cache", argc, argv, &i, names[k], &v)) != 0) break;
        if (m < 0) return -1;
        if (m == 0) {
            if (!strncmp(o, "--coeff", 7))
                fprintf(stderr, "rope cache: %s: the coefficient is part of the layout: --layout coeff2, coeff4 or coeffD\n", o);
            else
                fprintf(stderr, "rope cache: unknown option '%s'\n", o);
            print_cache_usage(stderr);
            return -1;
        }
        const char *name = names[k];
        int bad = 0;
        if (!strcmp(name, "--dim")) bad = cli_i64("cache", name, v, 2, 65536, &a->cfg.rotary_dim), a->have_dim = 1;
        else if (!strcmp(name, "--base")) {
            bad = cli_f64("cache", name, v, &a->cfg.base);
            if (!bad && a->cfg.base == 0) { /* the library reads 0 as "default": never silently */
                fprintf(stderr, "rope cache: --base 0: expected a value > 1 (leave --base out for 10000)\n");
                bad = 1;
            }
        } else if (!strcmp(name, "--positions")) bad = cache_parse_positions(a, v);
        else if (!strcmp(name, "--scaling")) bad = cache_parse_scaling(a, v);
        else if (!strcmp(name, "--seq-len")) bad = cli_i64("cache", name, v, 0, INT64_MAX, &a->seq_len), a->have_seq_len = 1;
        else if (!strcmp(name, "-o") || !strcmp(name, "--output")) a->out_dir = v;
        else if (!strcmp(name, "--dtype")) {
            a->dtype = float_dtype_named(v);
            if (a->dtype == ROPE_DTYPE_INVALID) fprintf(stderr, "rope cache: --dtype '%s': expected f32, f16 or bf16\n", v);
            bad = a->dtype == ROPE_DTYPE_INVALID;
        } else bad = cache_set_layout(a, v);
        if (bad) return -1;
    }
    const char *missing = !a->have_dim ? "--dim" : !a->have_positions ? "--positions" : !a->out_dir ? "-o DIR" : NULL;
    if (missing) {
        fprintf(stderr, "rope cache: %s is required\n", missing);
        print_cache_usage(stderr);
        return -1;
    }
    if (a->coeff < 0) a->coeff = (int32_t)a->cfg.rotary_dim; /* coeffD */
    for (int k = 0; k < 2; k++)
        if (a->list[k] && (int64_t)a->list_len[k] != a->cfg.rotary_dim / 2) {
            fprintf(stderr, "rope cache: %s has %zu values, expected %lld (dim/2)\n", cache_key_names[CK_SHORT + k],
                    a->list_len[k], (long long)(a->cfg.rotary_dim / 2));
            return -1;
        }
    for (int k = 0; k < CK_COUNT; k++)
        if ((a->keys & (1u << k)) && !(cache_key_users[k] & CACHE_BIT(a->cfg.scaling))) {
            fprintf(stderr, "rope cache: --scaling: %s scaling does not use %s (refused rather than ignored)\n",
                    cache_type_names[a->cfg.scaling], cache_key_names[k]);
            return -1;
        }
    a->cfg.short_factor = a->list[0];
    a->cfg.long_factor = a->list[1];
    a->cfg.seq_len = a->have_seq_len ? a->seq_len : a->end;
    return 0;
}

>>>>>>> adopt
static int cache_write_pair(const cache_args *a, const rope_tensor *c, const rope_tensor *s) {
    if (a->layout == ROPE_CACHE_VLLM) { /* one [count, R] file of [cos | sin] rows */
        static const char *const file[1] = {"cos_sin_cache.pb"}, *const name[1] = {"cos_sin_cache"};
        return tensor_files_save("cache", a->out_dir, 1, &c, file, name);
    }
    const rope_tensor *ts[2] = {c, s};
    static const char *const files[2] = {"cos.pb", "sin.pb"};
    static const char *const names[2][2] = {{"cos_cache", "sin_cache"}, {"cos", "sin"}}; /* ONNX / ATB inputs */
    return tensor_files_save("cache", a->out_dir, 2, ts, files, names[a->layout == ROPE_CACHE_FULL]);
}

int rope_cmd_cache(int argc, char **argv) {
    cache_args a;
    diag err;
    int st = cache_args_parse(&a, argc, argv, &err);
    if (st > 0) print_cache_usage(stdout);
    if (st < 0) {
        fprintf(stderr, "rope cache: %s\n", err.text);
        if (a.usage) print_cache_usage(stderr);
    }
    if (st != 0) {
        cache_args_free(&a);
        return st > 0 ? 0 : 2;
    }
    cache_args_warn(&a, stderr);
    int64_t count = a.end - a.start;
    int64_t width = a.layout != ROPE_CACHE_HALF ? a.cfg.rotary_dim : a.cfg.rotary_dim / 2;
    if (width < 0) width = 0; /* a negative --dim is the library's to report */
    size_t es = rope_dtype_size(a.dtype);
    size_t bytes = 0;
    int too_big = width > 0 && (uint64_t)count > SIZE_MAX / es / (uint64_t)width;
    if (!too_big) bytes = (size_t)count * (size_t)width * es;
    void *cd = too_big ? NULL : malloc(bytes ? bytes : 1), *sd = too_big ? NULL : malloc(bytes ? bytes : 1);
    int status = 2;
    if (!cd || !sd) {
        fprintf(stderr, "rope cache: cannot allocate two %lld x %lld %s tables\n", (long long)count, (long long)width,
                rope_dtype_name(a.dtype));
    } else {
        rope_tensor c = {cd, a.dtype, 2, {count, width}, 0}, s = {sd, a.dtype, 2, {count, width}, 0};
        if (rope_cache_fill(&a.cfg, a.start, count, a.layout, a.coeff, &c,
                            a.layout == ROPE_CACHE_VLLM ? NULL : &s) != ROPE_OK) {
            fprintf(stderr, "rope cache: %s\n", rope_last_error());
            status = 1;
        } else {
            status = cache_write_pair(&a, &c, &s);
        }
    }
    free(cd), free(sd);
    cache_args_free(&a);
    return status;
}
