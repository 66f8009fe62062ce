/* SPDX-License-Identifier: MIT */
/* `rope bench`'s argument parser (bench_args.h): options into one case or the suite's settings.
 * Messages go to a diag, never to a stream. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_args.h"
#include "cli_args.h"
#include "tensor_util.h"

/* A message the usage text follows. */
static int bad(bench_opts *o, diag *err, const char *fmt, const char *arg) {
    o->usage = 1;
    return diag_set(err, fmt, arg);
}

/* The layout word for the case's operator: ONNX and vLLM pair halves or interleaved (vLLM's
 * is_neox True or False), ATB takes a coefficient. */
static int set_layout(bench_opts *o, diag *err) {
    bench_case *c = &o->c;
    const char *ly = o->layout ? o->layout : c->op == BENCH_ATB ? "coeff2" : "halves";
    cli_layout l;
    if (cli_layout_named(ly, &l, err)) return -1;
    if (c->op != BENCH_ATB) {
        if (l != CLI_HALVES && l != CLI_INTERLEAVED)
            return bad(o, err, "--layout '%s': expected halves or interleaved with --op onnx and vllm", ly);
        c->layout = l == CLI_INTERLEAVED;
        return 0;
    }
    if (!cli_layout_is_atb(l)) return bad(o, err, "--layout '%s': expected coeff2, coeff4 or coeffD with --op atb", ly);
    c->layout = l == CLI_COEFF2 ? 2 : l == CLI_COEFF4 ? 4 : (int)c->head_size;
    if (c->head_size % (size_t)c->layout != 0) return bad(o, err, "--layout %s: head size must be a multiple", ly);
    return 0;
}

/* Builds the single case from the options (dtype and layout names were kept until the op is known). */
static int finish_case(bench_opts *o, diag *err) {
    bench_case *c = &o->c;
    if (c->op == BENCH_ONNX && o->heads_k > 0)
        return bad(o, err, "%s", "--heads-k applies to --op atb and vllm only");
    int vllm_like = c->op == BENCH_VLLM || c->op == BENCH_QK_NORM || c->op == BENCH_KV_CACHE;
    int prologue = c->op == BENCH_QK_NORM || c->op == BENCH_KV_CACHE;
    if (c->scatter && !vllm_like) return bad(o, err, "%s", "--scatter applies to --op vllm, qknorm and kvcache only");
    if (c->mrope && !vllm_like) return bad(o, err, "%s", "--mrope applies to --op vllm, qknorm and kvcache only");
    if (prologue && (c->fly || c->backward))
        return bad(o, err, "%s", "--fly and --backward do not apply to --op qknorm and kvcache");
    if ((c->kv_dtype || c->norm || c->separate) && c->op != BENCH_KV_CACHE)
        return bad(o, err, "%s", "--kv-dtype, --norm and --separate apply to --op kvcache only");
    if (c->separate && c->norm) return bad(o, err, "%s", "--separate has no norm (the baseline is rotary_embedding)");
    if (c->mrope && c->head_size < 16) return bad(o, err, "%s", "--mrope needs --head-size 16 or more (3 sections)");
    if (c->head_size % 2 != 0) return bad(o, err, "%s", "--head-size must be even");
    if (o->axes || o->grid) { /* on the fly from the grid's multi-axis coordinates */
        if (!o->axes || !o->grid) return bad(o, err, "%s", "--axes and --grid go together (the widths and the grid)");
        if (prologue || c->mrope || c->scatter)
            return bad(o, err, "%s", "--axes applies to --op onnx, atb and vllm, without --mrope and --scatter");
        if (o->n_grid != c->axes.n_axes)
            return diag_set(err, "--grid has %d extents, expected %d (one per --axes width)", o->n_grid,
                            (int)c->axes.n_axes);
        int64_t rot = 0, tokens = 1;
        for (int a = 0; a < c->axes.n_axes; a++) {
            rot += c->axes.axes_dims[a];
            tokens *= c->grid[a];
        }
        if (rot != (int64_t)c->head_size)
            return diag_set(err, "--axes widths sum to %lld, expected --head-size %lld (the rotated width)",
                            (long long)rot, (long long)c->head_size);
        for (int a = 0; a < c->axes.n_axes; a++) c->axes.theta[a] = o->theta;
        c->tokens = (size_t)tokens;
        c->fly = 1;
    }
    const char *dt = o->dtype ? o->dtype : c->op == BENCH_ONNX ? "f32" : "f16";
    if (float_dtype_named(dt) != ROPE_DTYPE_INVALID) {
        c->x_dtype = float_dtype_named(dt);
        c->cs_dtype = c->x_dtype;
    } else if (!strcmp(dt, "f16-f32cos") && c->op != BENCH_ONNX) {
        c->x_dtype = ROPE_F16;
        c->cs_dtype = ROPE_F32;
    } else if (!strcmp(dt, "bf16-f32cos") && vllm_like) {
        c->x_dtype = ROPE_BF16;
        c->cs_dtype = ROPE_F32;
    } else {
        return bad(o, err,
                   "--dtype '%s': expected f32, f16, bf16, f16-f32cos (atb, vllm, qknorm, kvcache) or bf16-f32cos "
                   "(vllm, qknorm, kvcache)",
                   dt);
    }
    c->rot = c->head_size;
    if (set_layout(o, err)) return -1;
    if (c->op == BENCH_ONNX) {
        c->heads_k = 0;
        return 0;
    }
    c->heads_k = o->heads_k > 0 ? (size_t)o->heads_k : c->heads_q >= 4 ? c->heads_q / 4 : 1;
    if (c->op == BENCH_ATB && c->heads_q % c->heads_k != 0)
        return bad(o, err, "%s", "--heads must be a multiple of --heads-k");
    return 0;
}

/* --kernel: the options left are the sizes, --reps, --csv, --quick, and --dtype / --kv-dtype (the
 * store piece's, checked by bench_kernel_run); the others pick an operator's case. */
static int kernel_options(bench_opts *o, int op_given, diag *err) {
    const bench_case *c = &o->c;
    const char *other = op_given         ? "--op"
                        : o->layout      ? "--layout"
                        : c->fly         ? "--fly"
                        : c->backward    ? "--backward"
                        : c->scatter     ? "--scatter"
                        : c->mrope       ? "--mrope"
                        : c->norm        ? "--norm"
                        : c->separate    ? "--separate"
                        : o->heads_k > 0 ? "--heads-k"
                        : o->plot        ? "--plot"
                        : o->pools != BENCH_POOL_OWN ? "--pool"
                        : o->threads > 1 ? "--threads"
                                         : NULL;
    if (other) return bad(o, err, "--kernel times one kernel on one thread, without an operator: not with %s", other);
    return 0;
}

/* The value options. */
static const char *const value_options[] = {"--op",      "--dtype",   "--layout", "--tokens", "--heads",
                                            "--heads-k", "--head-size", "--threads", "--reps",  "--pool",
                                            "--plot",    "--mrope", "--kv-dtype", "--kernel", "--axes", "--grid",
                                            "--theta"};

static int set_option(bench_opts *o, const char *a, const char *v, int *op_given, diag *err) {
    int64_t n = 0;
    if (!strcmp(a, "--op")) {
        if (!strcmp(v, "onnx")) o->c.op = BENCH_ONNX;
        else if (!strcmp(v, "atb")) o->c.op = BENCH_ATB;
        else if (!strcmp(v, "vllm")) o->c.op = BENCH_VLLM;
        else if (!strcmp(v, "qknorm")) o->c.op = BENCH_QK_NORM;
        else if (!strcmp(v, "kvcache")) o->c.op = BENCH_KV_CACHE;
        else return bad(o, err, "--op '%s': expected onnx, atb, vllm, qknorm or kvcache", v);
        *op_given = o->single = 1;
    } else if (!strcmp(a, "--mrope")) {
        if (!strcmp(v, "contiguous")) o->c.mrope = 1;
        else if (!strcmp(v, "interleaved")) o->c.mrope = 2;
        else return bad(o, err, "--mrope '%s': expected contiguous or interleaved", v);
        o->single = 1;
    } else if (!strcmp(a, "--kv-dtype")) {
        if (!strcmp(v, "auto")) o->c.kv_dtype = ROPE_DTYPE_INVALID;
        else if (!strcmp(v, "fp8_e4m3") || !strcmp(v, "fp8")) o->c.kv_dtype = ROPE_FP8_E4M3;
        else if (!strcmp(v, "fp8_e5m2")) o->c.kv_dtype = ROPE_FP8_E5M2;
        else return bad(o, err, "--kv-dtype '%s': expected auto, fp8, fp8_e4m3 or fp8_e5m2", v);
        o->single = 1;
    } else if (!strcmp(a, "--axes") || !strcmp(a, "--grid")) {
        int grid = !strcmp(a, "--grid"), n = 0;
        int64_t *out = grid ? o->c.grid : o->c.axes.axes_dims;
        memset(out, 0, ROPE_MAX_AXES * sizeof *out);
        for (const char *p = v;; n++) { /* D0,D1,... or N0xN1x...: 1 .. ROPE_MAX_AXES positive integers */
            char item[32];
            size_t len = strcspn(p, grid ? "x" : ",");
            if (n == ROPE_MAX_AXES || len == 0 || len >= sizeof item)
                return bad(o, err, grid ? "--grid '%s': expected N0xN1x... (1 to 8 extents)"
                                        : "--axes '%s': expected D0,D1,... (1 to 8 widths)", v);
            memcpy(item, p, len);
            item[len] = 0;
            if (cli_i64(a, item, grid ? 1 : 2, grid ? 1l << 24 : 65536, &out[n], err)) return -1;
            if (!p[len]) break;
            p += len + 1;
        }
        if (grid) {
            o->grid = 1;
            o->n_grid = n + 1;
        } else {
            o->axes = 1;
            o->c.axes.n_axes = n + 1;
        }
        o->single = 1;
    } else if (!strcmp(a, "--theta")) {
        double t = 0;
        if (cli_f64(a, v, &t, err)) return -1;
        if (!(t > 1)) return bad(o, err, "--theta '%s': expected a base > 1", v);
        o->theta = t;
    } else if (!strcmp(a, "--dtype")) {
        o->dtype = v;
        o->single = 1;
    } else if (!strcmp(a, "--layout")) {
        o->layout = v;
        o->single = 1;
    } else if (!strcmp(a, "--tokens") || !strcmp(a, "--heads") || !strcmp(a, "--heads-k") || !strcmp(a, "--head-size")) {
        if (cli_i64(a, v, 1, 1l << 24, &n, err)) return -1;
        if (!strcmp(a, "--tokens")) o->c.tokens = (size_t)n;
        else if (!strcmp(a, "--heads")) o->c.heads_q = (size_t)n;
        else if (!strcmp(a, "--heads-k")) o->heads_k = (long)n;
        else o->c.head_size = (size_t)n;
        o->single = 1;
    } else if (!strcmp(a, "--threads")) {
        if (cli_i64(a, v, 1, 1024, &n, err)) return -1;
        o->threads = (int)n;
    } else if (!strcmp(a, "--reps")) {
        if (cli_i64(a, v, 1, 100000, &n, err)) return -1;
        o->reps = (int)n;
    } else if (!strcmp(a, "--pool")) {
        o->pools = !strcmp(v, "own")     ? BENCH_POOL_OWN
                   : !strcmp(v, "host")  ? BENCH_POOL_HOST
                   : !strcmp(v, "split") ? BENCH_POOL_SPLIT
                   : !strcmp(v, "all")   ? BENCH_POOL_OWN | BENCH_POOL_HOST | BENCH_POOL_SPLIT
                                         : 0;
        if (!o->pools) return bad(o, err, "--pool '%s': expected own, host, split or all", v);
    } else if (!strcmp(a, "--kernel")) {
        o->kernel = v;
    } else {
        size_t len = strlen(v);
        if (len < 5 || strcmp(v + len - 4, ".png")) return bad(o, err, "--plot '%s': expected a FILE.png", v);
        o->plot = v;
    }
    return 0;
}

int bench_args_parse(bench_opts *o, int argc, char **argv, diag *err) {
    memset(o, 0, sizeof *o);
    o->c.op = BENCH_ONNX;
    o->c.tokens = 2048, o->c.heads_q = 32, o->c.head_size = 128;
    o->pools = BENCH_POOL_OWN;
    o->c.axes = (rope_axes_config)ROPE_AXES_CONFIG_INIT;
    o->theta = 10000.0;
    int op_given = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) return 1;
        int f;
        if ((f = cli_flag(a, "--csv", err)) != 0) { if (f < 0) return -1; o->csv = 1; continue; }
        if ((f = cli_flag(a, "--quick", err)) != 0) { if (f < 0) return -1; o->quick = 1; continue; }
        if ((f = cli_flag(a, "--fly", err)) != 0) { if (f < 0) return -1; o->c.fly = o->single = 1; continue; }
        if ((f = cli_flag(a, "--backward", err)) != 0) { if (f < 0) return -1; o->c.backward = o->single = 1; continue; }
        if ((f = cli_flag(a, "--scatter", err)) != 0) { if (f < 0) return -1; o->c.scatter = o->single = 1; continue; }
        if ((f = cli_flag(a, "--norm", err)) != 0) { if (f < 0) return -1; o->c.norm = o->single = 1; continue; }
        if ((f = cli_flag(a, "--separate", err)) != 0) { if (f < 0) return -1; o->c.separate = o->single = 1; continue; }
        size_t k = 0;
        int m = 0;
        for (; k < sizeof value_options / sizeof value_options[0]; k++)
            if ((m = cli_value(argc, argv, &i, value_options[k], &v, err)) != 0) break;
        if (m < 0) return -1;
        if (m == 0) return bad(o, err, "unknown option '%s'", a);
        if (set_option(o, value_options[k], v, &op_given, err)) return -1;
    }
    if (!o->reps) o->reps = o->quick ? 5 : 11;
    if (o->kernel) return kernel_options(o, op_given, err);
    /* A coefficient layout names the ATB operation even without --op. */
    if (!op_given && o->layout && !strncmp(o->layout, "coeff", 5)) o->c.op = BENCH_ATB;
    if (o->single && finish_case(o, err)) return -1;
    return 0;
}
