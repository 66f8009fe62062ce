/* SPDX-License-Identifier: MIT */
/* `rope bench`: throughput of the ONNX and ATB calls against a memory copy of the same bytes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

<<<<<<< HEAD
#include "bench_args.h"
=======
#include "bench_plot.h"
>>>>>>> adopt
#include "bench_run.h"
#include "cli_args.h"
#include "host_pool.h"
#include "commands.h"
#include "tensor_util.h"

static const char usage_text[] =
<<<<<<< HEAD
    "usage: rope bench [--quick] [--csv] [--op onnx|atb|vllm] [--dtype f32|f16|bf16|f16-f32cos|bf16-f32cos]\n"
    "                  [--layout halves|interleaved|coeff2|coeff4|coeffD|neox|gptj] [--tokens N] [--heads N]\n"
    "                  [--heads-k N] [--head-size N] [--threads N] [--reps N] [--fly] [--backward] [--scatter]\n"
    "                  [--mrope contiguous|interleaved]\n"
=======
    "usage: rope bench [--quick] [--csv] [--op onnx|atb] [--dtype f32|f16|bf16|f16-f32cos]\n"
    "                  [--layout halves|interleaved|coeff2|coeff4|coeffD] [--tokens N] [--heads N]\n"
    "                  [--heads-k N] [--head-size N] [--threads N] [--reps N] [--fly] [--backward]\n"
    "                  [--pool own|host|split|all] [--plot FILE.png]\n"
>>>>>>> adopt
    "\n"
    "Without case options, runs the default suite with 1 and 2 threads: ONNX [1, 32, seq, 128] (f32, f16,\n"
    "bf16; halves and interleaved; position_ids 0..seq-1 into a 2-D cache) and ATB q [tokens, 4096],\n"
    "k [tokens, 1024], cos [tokens, 128] (f16, f16 with f32 cos, bf16; coefficient 2), each for decode\n"
    "(1 token), prefill (2048) and huge (16384), then vLLM rotary_embedding q [T, 32x128], k [T, 8x128]\n"
    "(f16 and bf16 with an f32 cos_sin_cache; GPT-NeoX halves, out of place): batched decode (T = 64 and\n"
    "256 tokens at positions scattered over [0, 32768), a cache of 32768 rows) and prefill (2048 tokens,\n"
    "positions 0..2047). --quick leaves out the huge shapes and repeats less.\n"
    "Any of --op, --dtype, --layout, --tokens, --heads, --heads-k, --head-size selects one case instead\n"
    "(defaults: onnx f32 halves, or atb f16 coeff2; 2048 tokens, 32 heads, heads/4 key heads, 128).\n"
    "--threads N runs only N threads instead of 1 and 2; --reps N sets the repetitions (11, quick 5).\n"
    "--fly computes cos/sin from positions 0..tokens-1 and a default rope_freq_config (rope.h's on-the-fly\n"
    "mode) instead of reading tables; --backward runs the backward form. They mark the layout column\n"
    "(halves+fly, coeff2+bwd, ...). The default suite adds, for prefill, the fly, backward and fly backward\n"
    "rows of ONNX halves and ATB coeff2. --scatter (vLLM) draws the positions from [0, 32768) as above;\n"
    "--mrope (vLLM) gives each token three positions (time, height, width) and splits the pairs among\n"
    "them as Qwen2-VL (contiguous, [16, 24, 24] at rot 128) or Qwen3-VL (interleaved) does.\n"
    "\n"
    "gbps counts input read + output written + cos/sin rows read (fly rows count the rows they replace,\n"
    "so every row of a shape counts the same bytes); copy_gbps is a memcpy of half as many\n"
    "bytes (so the same bytes move) on the same threads, timed alternately with the kernel; ratio is\n"
    "gbps / copy_gbps. --csv prints one header line and one row per case.\n"
    "\n"
    "--pool picks who runs the threads (the pool column): own (default) the library's pool; host a\n"
    "context given a host's parallel-for (a plain pthread pool standing in for the engine's); split\n"
    "contexts for part i of n, every host worker calling with the same arguments (ggml style); all:\n"
    "the three, one after the other for each case. The copy runs on the same threads.\n"
    "--plot FILE.png draws the ratio per case, dtype and thread count with gnuplot (after the table).\n"
    "Options take --opt VALUE or --opt=VALUE; the layout words are those of rope cache --layout.\n";

enum { POOL_OWN = 1, POOL_HOST = 2, POOL_SPLIT = 4 };
static const char *const pool_names[] = {"", "own", "host", "", "split"};

<<<<<<< HEAD
=======
typedef struct bench_opts {
    int csv, quick, single, reps, threads, pools;
    bench_case c;
    const char *dtype, *layout, *plot;
    long heads_k;
    bench_plot *rows; /* rows kept for --plot */
} bench_opts;
>>>>>>> adopt

static const char *const columns[] = {"op",      "dtype", "layout",    "tokens", "heads_q",   "heads_k", "head_size",
                                      "rot",     "threads", "pool",    "median_us", "gbps",  "copy_gbps", "ratio"};
static const int widths[] = {4, 10, 19, 6, 7, 7, 9, 4, 7, 5, 11, 8, 9, 6};
enum { N_COLUMNS = sizeof columns / sizeof columns[0] };

static const char *dtype_label(const bench_case *c) {
    if (c->op != BENCH_ONNX && c->x_dtype != ROPE_F32 && c->cs_dtype == ROPE_F32)
        return c->x_dtype == ROPE_F16 ? "f16-f32cos" : "bf16-f32cos";
    return rope_dtype_name(c->x_dtype);
}

static void layout_label(const bench_case *c, char *buf, size_t size) {
    const char *mode = c->fly && c->backward ? "+fly+bwd" : c->fly ? "+fly" : c->backward ? "+bwd" : "";
    if (c->op == BENCH_ONNX) snprintf(buf, size, "%s%s", c->layout ? "interleaved" : "halves", mode);
    else if (c->op == BENCH_VLLM)
        snprintf(buf, size, "%s%s%s%s", c->layout ? "gptj" : "neox", c->scatter ? "+scatter" : "",
                 c->mrope ? (c->mrope == 2 ? "+mrope-i" : "+mrope") : "", mode);
    else if ((size_t)c->layout == c->rot && c->layout != 2 && c->layout != 4) snprintf(buf, size, "coeffD%s", mode);
    else snprintf(buf, size, "coeff%d%s", c->layout, mode);
}

static void print_header(int csv) {
    for (int i = 0; i < N_COLUMNS; i++) {
        if (csv) printf("%s%s", i ? "," : "", columns[i]);
        else printf("%s%*s", i ? " " : "", i < 3 ? -widths[i] : widths[i], columns[i]);
    }
    printf("\n");
}

/* The header goes out with the first row, so a case that fails first prints no partial table. */
static const char *preamble;
static int header_done;

static void print_row(int csv, const bench_case *c, int threads, int pool, const bench_result *r) {
    char layout[32], cells[N_COLUMNS][32];
    if (!header_done) {
        if (!csv) printf("%s", preamble);
        print_header(csv);
        header_done = 1;
    }
    layout_label(c, layout, sizeof layout);
    snprintf(cells[0], sizeof cells[0], "%s", c->op == BENCH_ONNX ? "onnx" : c->op == BENCH_ATB ? "atb" : "vllm");
    snprintf(cells[1], sizeof cells[1], "%s", dtype_label(c));
    snprintf(cells[2], sizeof cells[2], "%s", layout);
    snprintf(cells[3], sizeof cells[3], "%zu", c->tokens);
    snprintf(cells[4], sizeof cells[4], "%zu", c->heads_q);
    snprintf(cells[5], sizeof cells[5], "%zu", c->heads_k);
    snprintf(cells[6], sizeof cells[6], "%zu", c->head_size);
    snprintf(cells[7], sizeof cells[7], "%zu", c->rot);
    snprintf(cells[8], sizeof cells[8], "%d", threads);
    snprintf(cells[9], sizeof cells[9], "%s", pool_names[pool]);
    snprintf(cells[10], sizeof cells[10], "%.3f", r->median_us);
    snprintf(cells[11], sizeof cells[11], "%.2f", r->gbps);
    snprintf(cells[12], sizeof cells[12], "%.2f", r->copy_gbps);
    snprintf(cells[13], sizeof cells[13], "%.3f", r->ratio);
    for (int i = 0; i < N_COLUMNS; i++) {
        if (csv) printf("%s%s", i ? "," : "", cells[i]);
        else printf("%s%*s", i ? " " : "", i < 3 ? -widths[i] : widths[i], cells[i]);
    }
    printf("\n");
    fflush(stdout);
}

/* One measurement of the case on `threads` threads run by `pool`. */
static int run_one(const bench_opts *o, const bench_case *c, bench_data *d, int threads, int pool) {
    rope_context *ctx = NULL, *parts[1024] = {0};
    host_pool *host = NULL;
    rope_context_options copt = ROPE_CONTEXT_OPTIONS_INIT;
    copt.threads = threads;
    int status = 0;
    if (pool != POOL_OWN) {
        host = host_pool_create(threads);
        if (!host) {
            fprintf(stderr, "rope bench: cannot start %d host threads\n", threads);
            return 1;
        }
        copt.parallel_for = pool == POOL_HOST ? host_pool_for : NULL;
        copt.parallel_user = pool == POOL_HOST ? host : NULL;
    }
    if (pool == POOL_SPLIT) {
        copt.threads = 0, copt.split_parts = threads;
        for (int i = 0; i < threads && !status; i++) {
            copt.split_part = i;
            if (rope_context_create(&copt, &parts[i]) != ROPE_OK) status = 1;
        }
        bench_set_split(d, parts, threads, host);
        ctx = parts[0];
    } else if (rope_context_create(&copt, &ctx) != ROPE_OK) {
        status = 1;
    }
    if (status) fprintf(stderr, "rope bench: %s\n", rope_last_error());
    bench_result r;
    if (!status && bench_measure(d, ctx, o->reps, &r) != 0) status = 1;
    if (!status) {
        print_row(o->csv, c, threads, pool, &r);
        char layout[32];
        layout_label(c, layout, sizeof layout);
        if (o->rows) bench_plot_add(o->rows, c->op == BENCH_ONNX ? "onnx" : "atb", dtype_label(c), layout, c->tokens,
                                    threads, pool_names[pool], r.ratio);
    }
    bench_set_split(d, NULL, 0, NULL);
    if (pool == POOL_SPLIT)
        for (int i = 0; i < threads; i++) rope_context_free(parts[i]);
    else rope_context_free(ctx);
    host_pool_free(host);
    return status;
}

/* Runs one case for each thread count and pool; buffers are made once for all of them. */
static int run_case(const bench_opts *o, const bench_case *c) {
    bench_data *d = bench_data_create(c);
    if (!d) return 1;
    int counts[2] = {1, 2}, n = 2;
    if (o->threads > 0) counts[0] = o->threads, n = 1;
    int status = 0;
    for (int i = 0; i < n && !status; i++)
        for (int pool = POOL_OWN; pool <= POOL_SPLIT && !status; pool <<= 1)
            if (o->pools & pool) status = run_one(o, c, d, counts[i], pool);
    bench_data_free(d);
    return status;
}

/* A case of the default suite: 32 query heads of 128, full rotation, tables, forward. */
static bench_case suite_case(bench_op op, rope_dtype x, rope_dtype cs, int layout, size_t tokens, size_t heads_k) {
    bench_case c;
    memset(&c, 0, sizeof c);
    c.op = op, c.x_dtype = x, c.cs_dtype = cs, c.layout = layout, c.tokens = tokens;
    c.heads_q = 32, c.heads_k = heads_k, c.head_size = c.rot = 128;
    return c;
}

static int run_suite(const bench_opts *o) {
    static const size_t shapes[] = {1, 2048, 16384};
    static const rope_dtype onnx_types[] = {ROPE_F32, ROPE_F16, ROPE_BF16};
    static const rope_dtype atb_types[][2] = {{ROPE_F16, ROPE_F16}, {ROPE_F16, ROPE_F32}, {ROPE_BF16, ROPE_BF16}};
    size_t n_shapes = o->quick ? 2 : 3;
    for (size_t s = 0; s < n_shapes; s++)
        for (size_t t = 0; t < 3; t++)
            for (int layout = 0; layout < 2; layout++) {
                bench_case c = suite_case(BENCH_ONNX, onnx_types[t], onnx_types[t], layout, shapes[s], 0);
                if (run_case(o, &c)) return 1;
            }
    for (size_t s = 0; s < n_shapes; s++)
        for (size_t t = 0; t < 3; t++) {
            bench_case c = suite_case(BENCH_ATB, atb_types[t][0], atb_types[t][1], 2, shapes[s], 8);
            if (run_case(o, &c)) return 1;
        }
    /* vLLM: batched decode (one token of each of 64 / 256 sequences, scattered positions), prefill. */
    static const size_t vllm_tokens[] = {64, 256, 2048};
    static const rope_dtype vllm_types[] = {ROPE_F16, ROPE_BF16};
    for (size_t s = 0; s < 3; s++)
        for (size_t t = 0; t < 2; t++) {
            bench_case c = suite_case(BENCH_VLLM, vllm_types[t], ROPE_F32, 0, vllm_tokens[s], 8);
            c.scatter = s < 2;
            if (run_case(o, &c)) return 1;
        }
    /* Prefill on the fly and backward, to compare with the table rows above. */
    for (int mode = 1; mode < 4; mode++) {
        for (size_t t = 0; t < 3; t++) {
            bench_case c = suite_case(BENCH_ONNX, onnx_types[t], onnx_types[t], 0, 2048, 0);
            c.fly = mode & 1, c.backward = mode >> 1;
            if (run_case(o, &c)) return 1;
        }
        for (size_t t = 0; t < 3; t++) {
            bench_case c = suite_case(BENCH_ATB, atb_types[t][0], atb_types[t][1], 2, 2048, 8);
            c.fly = mode & 1, c.backward = mode >> 1;
            if (run_case(o, &c)) return 1;
        }
    }
    return 0;
}

<<<<<<< HEAD
int rope_cmd_bench(int argc, char **argv) {
    bench_opts o;
    diag err;
    int st = bench_args_parse(&o, argc, argv, &err);
    if (st > 0) fputs(usage_text, stdout);
    if (st < 0) fprintf(stderr, "rope bench: %s\n%s", err.text, o.usage ? usage_text : "");
    if (st != 0) return st > 0 ? 0 : 2;
    if (!o.csv)
        printf("rope bench: isa %s; %s; medians of %d repetitions\n", rope_isa_name(rope_context_isa(NULL)),
               o.single ? "one case" : o.quick ? "quick suite" : "full suite", o.reps);
    print_header(o.csv);
    return o.single ? run_case(&o, &o.c) : run_suite(&o);
=======
static int bad(const char *fmt, const char *arg) {
    fprintf(stderr, "rope bench: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n%s", usage_text);
    return 2;
}

static int parse_count(const char *name, const char *s, long lo, long hi, long *out) {
    int64_t v;
    if (cli_i64("bench", name, s, lo, hi, &v)) return 0;
    *out = (long)v;
    return 1;
}

/* Builds the single case from the options (dtype and layout names were kept until the op is known). */
static int finish_case(bench_opts *o) {
    bench_case *c = &o->c;
    if (c->op == BENCH_ONNX && o->heads_k > 0)
        return bad("%s", "--heads-k applies to --op atb only");
    const char *dt = o->dtype ? o->dtype : c->op == BENCH_ONNX ? "f32" : "f16";
    if (float_dtype_named(dt) != ROPE_DTYPE_INVALID) c->x_dtype = c->cs_dtype = float_dtype_named(dt);
    else if (!strcmp(dt, "f16-f32cos") && c->op == BENCH_ATB) c->x_dtype = ROPE_F16, c->cs_dtype = ROPE_F32;
    else return bad("--dtype '%s': expected f32, f16, bf16 (onnx) or f16-f32cos (atb)", dt);
    c->rot = c->head_size;
    const char *ly = o->layout ? o->layout : c->op == BENCH_ONNX ? "halves" : "coeff2";
    cli_layout l;
    if (cli_layout_named("bench", ly, &l)) return 2;
    if (c->op == BENCH_ONNX) {
        if (cli_layout_is_atb(l)) return bad("--layout '%s': expected halves or interleaved with --op onnx", ly);
        c->layout = l == CLI_INTERLEAVED;
        c->heads_k = 0;
    } else {
        if (!cli_layout_is_atb(l)) return bad("--layout '%s': expected coeff2, coeff4 or coeffD with --op atb", ly);
        c->layout = l == CLI_COEFF2 ? 2 : l == CLI_COEFF4 ? 4 : (int)c->head_size;
        if (c->head_size % (size_t)c->layout != 0) return bad("--layout %s: head size must be a multiple", ly);
        c->heads_k = o->heads_k > 0 ? (size_t)o->heads_k : c->heads_q >= 4 ? c->heads_q / 4 : 1;
        if (c->heads_q % c->heads_k != 0) return bad("%s", "--heads must be a multiple of --heads-k");
    }
    if (c->head_size % 2 != 0) return bad("%s", "--head-size must be even");
    return 0;
}

/* The value options: name, and whether it selects the single case. */
static const char *const value_options[] = {"--op",      "--dtype",   "--layout", "--tokens", "--heads", "--heads-k",
                                            "--head-size", "--threads", "--reps",   "--pool",   "--plot"};

static int set_option(bench_opts *o, const char *a, const char *v, int *op_given) {
    long n = 0;
    if (!strcmp(a, "--op")) {
        if (!strcmp(v, "onnx")) o->c.op = BENCH_ONNX;
        else if (!strcmp(v, "atb")) o->c.op = BENCH_ATB;
        else return bad("--op '%s': expected onnx or atb", v);
        *op_given = o->single = 1;
    } else if (!strcmp(a, "--dtype")) o->dtype = v, o->single = 1;
    else if (!strcmp(a, "--layout")) o->layout = v, o->single = 1;
    else if (!strcmp(a, "--tokens") || !strcmp(a, "--heads") || !strcmp(a, "--heads-k") || !strcmp(a, "--head-size")) {
        if (!parse_count(a, v, 1, 1l << 24, &n)) return 2;
        if (!strcmp(a, "--tokens")) o->c.tokens = (size_t)n;
        else if (!strcmp(a, "--heads")) o->c.heads_q = (size_t)n;
        else if (!strcmp(a, "--heads-k")) o->heads_k = n;
        else o->c.head_size = (size_t)n;
        o->single = 1;
    } else if (!strcmp(a, "--threads")) {
        if (!parse_count(a, v, 1, 1024, &n)) return 2;
        o->threads = (int)n;
    } else if (!strcmp(a, "--reps")) {
        if (!parse_count(a, v, 1, 100000, &n)) return 2;
        o->reps = (int)n;
    } else if (!strcmp(a, "--pool")) {
        o->pools = !strcmp(v, "own") ? POOL_OWN : !strcmp(v, "host") ? POOL_HOST : !strcmp(v, "split") ? POOL_SPLIT
                 : !strcmp(v, "all") ? POOL_OWN | POOL_HOST | POOL_SPLIT : 0;
        if (!o->pools) return bad("--pool '%s': expected own, host, split or all", v);
    } else {
        size_t len = strlen(v);
        if (len < 5 || strcmp(v + len - 4, ".png")) return bad("--plot '%s': expected a FILE.png", v);
        o->plot = v;
    }
    return 0;
}

int rope_cmd_bench(int argc, char **argv) {
    bench_opts o;
    memset(&o, 0, sizeof o);
    o.c.op = BENCH_ONNX;
    o.c.tokens = 2048, o.c.heads_q = 32, o.c.head_size = 128;
    o.pools = POOL_OWN;
    int op_given = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage_text, stdout);
            return 0;
        }
        int f;
        if ((f = cli_flag("bench", a, "--csv")) != 0) { if (f < 0) return 2; o.csv = 1; continue; }
        if ((f = cli_flag("bench", a, "--quick")) != 0) { if (f < 0) return 2; o.quick = 1; continue; }
        if ((f = cli_flag("bench", a, "--fly")) != 0) { if (f < 0) return 2; o.c.fly = o.single = 1; continue; }
        if ((f = cli_flag("bench", a, "--backward")) != 0) { if (f < 0) return 2; o.c.backward = o.single = 1; continue; }
        size_t k = 0;
        int m = 0;
        for (; k < sizeof value_options / sizeof value_options[0]; k++)
            if ((m = cli_value("bench", argc, argv, &i, value_options[k], &v)) != 0) break;
        if (m < 0) return 2;
        if (m == 0) return bad("unknown option '%s'", a);
        int st = set_option(&o, value_options[k], v, &op_given);
        if (st) return st;
    }
    if (!o.reps) o.reps = o.quick ? 5 : 11;
    /* A coefficient layout names the ATB operation even without --op. */
    if (!op_given && o.layout && !strncmp(o.layout, "coeff", 5)) o.c.op = BENCH_ATB;
    if (o.single) {
        int st = finish_case(&o);
        if (st) return st;
    }
    if (o.plot && bench_plot_check(o.plot)) return 2;
    if (o.plot && !(o.rows = bench_plot_new())) return bad("%s", "out of memory");
    static char pre[256];
    snprintf(pre, sizeof pre, "rope bench: isa %s; %s; medians of %d repetitions\n", rope_context_isa_reason(NULL),
             o.single ? "one case" : o.quick ? "quick suite" : "full suite", o.reps);
    preamble = pre;
    int status = o.single ? run_case(&o, &o.c) : run_suite(&o);
    if (o.rows) {
        if (status == 0) status = bench_plot_write(o.rows, o.plot, pre) ? 1 : 0;
        bench_plot_free(o.rows);
    }
    return status;
>>>>>>> adopt
}
