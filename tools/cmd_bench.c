/* SPDX-License-Identifier: MIT */
/* `rope bench`: throughput of the operators' calls against a memory copy of the same bytes, and their
 * time against a minimal loop of the same arithmetic (the floor, bench_loops.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_args.h"
#include "bench_kernel.h"
#include "bench_plot.h"
#include "bench_run.h"
#include "host_pool.h"
#include "commands.h"
#include "tensor_util.h"

static const char usage_text[] =
    "usage: rope bench [--quick] [--csv] [--op onnx|atb|vllm|qknorm|kvcache]\n"
    "                  [--dtype f32|f16|bf16|f16-f32cos|bf16-f32cos] [--kv-dtype auto|fp8_e4m3|fp8_e5m2] [--norm]\n"
    "                  [--separate]\n"
    "                  [--layout halves|interleaved|coeff2|coeff4|coeffD] [--tokens N] [--heads N]\n"
    "                  [--heads-k N] [--head-size N] [--threads N] [--reps N] [--fly] [--backward] [--scatter]\n"
    "                  [--mrope contiguous|interleaved] [--pool own|host|split|all] [--plot FILE.png]\n"
    "       rope bench --kernel list|NAME [--tokens N] [--heads N] [--head-size N] [--reps N] [--csv]\n"
    "                  [--dtype f32|f16|bf16] [--kv-dtype auto|fp8_e4m3|fp8_e5m2] (the last two: store pieces)\n"
    "\n"
    "Without case options, runs the default suite with 1 and 2 threads: ONNX [1, 32, seq, 128] (f32, f16,\n"
    "bf16; halves and interleaved; position_ids 0..seq-1 into a 2-D cache) and ATB q [tokens, 4096],\n"
    "k [tokens, 1024], cos [tokens, 128] (f16, f16 with f32 cos, bf16; coefficient 2), each for decode\n"
    "(1 token), prefill (2048) and huge (16384), then vLLM rotary_embedding q [T, 32x128], k [T, 8x128]\n"
    "(f16 and bf16 with an f32 cos_sin_cache; halves, is_neox=True, out of place): batched decode (T = 64 and\n"
    "256 tokens at positions scattered over [0, 32768), a cache of 32768 rows) and prefill (2048 tokens,\n"
    "positions 0..2047). --quick leaves out the huge shapes and repeats less.\n"
    "Any of --op, --dtype, --layout, --tokens, --heads, --heads-k, --head-size selects one case instead\n"
    "(defaults: onnx f32 halves, atb f16 coeff2 or vllm f16 halves; 2048 tokens, 32 heads, heads/4 key\n"
    "heads, 128). vLLM's is_neox=True is --layout halves, is_neox=False (GPT-J) interleaved.\n"
    "--threads N runs only N threads instead of 1 and 2; --reps N sets the repetitions (11, quick 5).\n"
    "--fly computes cos/sin from positions 0..tokens-1 and a default rope_freq_config (rope.h's on-the-fly\n"
    "mode) instead of reading tables; --backward runs the backward form. They mark the layout column\n"
    "(halves+fly, coeff2+bwd, ...). The default suite adds, for prefill, the fly, backward and fly backward\n"
    "rows of ONNX halves and ATB coeff2. --scatter (vLLM) draws the positions from [0, 32768) as above;\n"
    "--mrope (vLLM) gives each token three positions (time, height, width) and splits the pairs among\n"
    "them as Qwen2-VL (contiguous, [16, 24, 24] at rot 128) or Qwen3-VL (interleaved) does.\n"
    "--op qknorm runs rope_vllm_fused_qk_norm_rope in place on qkv [tokens, (heads + 2 heads-k) x head-size]\n"
    "(num_heads_v = heads-k, f32 weights); --op kvcache rope_vllm_rotary_embedding_and_cache (q and k in\n"
    "place, the value and NHD caches of 16-slot blocks written, slots 0..tokens-1, or with --scatter\n"
    "distinct slots in a random order and the last token padded; --kv-dtype the caches' dtype, scales 1;\n"
    "--norm adds the QK-norm: the whole Qwen3 prologue). Their bytes: q and k read and written, the value\n"
    "read and the key and value cache entries written (kvcache), the cache rows read. --separate (kvcache)\n"
    "times the unfused baseline instead: rotary_embedding, then a second pass writing each token's key and\n"
    "value to its slot with the library's store piece (the same copy or vectorised fp8 conversion, and the\n"
    "same streaming rule, as the fused call).\n";

/* The usage text's second part (one string literal stays within the 4095 characters C requires). */
static const char usage_columns[] =
    "--axes D0,D1,... --grid N0xN1x... [--theta T] (--op onnx, atb, vllm) runs the operator on the fly from\n"
    "multi-axis positions (rope_*_fly_axes: vision towers, image and video diffusion): the tokens are the\n"
    "grid's points, walked row-major, as float32 coordinates; pair j of axis a turns by the coordinate times\n"
    "T^(-2j/D_a) (T 10000); the widths sum to --head-size. The layout column says +axes.\n"
    "\n"
    "gbps counts input read + output written + cos/sin rows read (fly rows count the rows they replace,\n"
    "so every row of a shape counts the same bytes); copy_gbps is a memcpy of half as many\n"
    "bytes (so the same bytes move) on the same threads, timed alternately with the kernel; ratio is\n"
    "gbps / copy_gbps. loop names the floor timed in the same batches: a minimal hand-written loop of the same\n"
    "arithmetic on the same buffers, positions and threads (load, convert, multiply with cos/sin, convert,\n"
    "store; no checks, no dispatch) for the context's instruction set (avx512, avx512bf16: bf16 narrowed by\n"
    "vcvtneps2bf16, avx2, or c, the portable loop), '-' for rows without one (on the fly, backward, MRoPE,\n"
    "qknorm, kvcache, atb coeff4 and coeffD); loop_us is its median time and ratio_loop = loop_us / median_us\n"
    "(near 1: the kernel is at its floor; low: overhead to find; a loop far below the copy: the arithmetic\n"
    "binds). --csv prints one header line and one row per case.\n"
    "\n"
    "--pool picks who runs the threads (the pool column): own (default) the library's pool; host a\n"
    "context given a host's parallel-for (a plain pthread pool standing in for the engine's); split\n"
    "contexts for part i of n, every host worker calling with the same arguments (ggml style); all:\n"
    "the three, one after the other for each case. The copy runs on the same threads.\n"
    "--plot FILE.png draws the ratio per case, dtype and thread count with gnuplot (after the table), and\n"
    "beside each the loop's throughput against the copy (series \"... loop\").\n"
    "Options take --opt VALUE or --opt=VALUE; the layout words are those of rope cache --layout (whose\n"
    "vllm names vLLM's cache, read by either pairing).\n"
    "\n"
    "--kernel list prints every kernel of this build by name (rope_kernel_<rot|norm>_<x>_cos<c>_<path>_<width>\n"
    "[_psN]__<isa>, rope_kernel_store__<isa>; src/kernels/kernel.h), with what it serves and whether this CPU\n"
    "runs it. --kernel NAME times that kernel alone, called directly (no engine, no checks, no dispatch) on\n"
    "one thread, token by token over [tokens, heads, head-size] (defaults 2048, 32, 128), out of place, a\n"
    "cos/sin row per token, full rotation (split: half the head) at the pair stride its name says (halves\n"
    "for blocked and any); the columns are those above, the loop that of the kernel's own instruction set\n"
    "where the shape has one (rotations at halves or adjacent pairs).\n";

static const char *const pool_names[] = {"", "own", "host", "", "split"};

static bench_plot *plot_rows; /* rows kept for --plot */

static const char *const columns[] = {"op",        "dtype", "layout",    "tokens", "heads_q", "heads_k",
                                      "head_size", "rot",   "threads",   "pool",   "median_us", "gbps",
                                      "copy_gbps", "ratio", "loop",      "loop_us", "ratio_loop"};
static const int widths[] = {4, 11, 22, 6, 7, 7, 9, 4, 7, 5, 11, 8, 9, 6, 10, 9, 10};
enum { N_COLUMNS = sizeof columns / sizeof columns[0] };

static const char *op_label(const bench_case *c) {
    switch (c->op) {
    case BENCH_ONNX: return "onnx";
    case BENCH_ATB: return "atb";
    case BENCH_VLLM: return "vllm";
    case BENCH_QK_NORM: return "qknorm";
    case BENCH_KV_CACHE: return "kvcache";
    }
    return "?";
}

static const char *dtype_label(const bench_case *c) {
    if (c->op != BENCH_ONNX && c->x_dtype != ROPE_F32 && c->cs_dtype == ROPE_F32)
        return c->x_dtype == ROPE_F16 ? "f16-f32cos" : "bf16-f32cos";
    return rope_dtype_name(c->x_dtype);
}

static void layout_label(const bench_case *c, char *buf, size_t size) {
    const char *mode = c->fly && c->backward ? (c->axes.n_axes ? "+axes+bwd" : "+fly+bwd")
                       : c->fly                ? (c->axes.n_axes ? "+axes" : "+fly")
                       : c->backward           ? "+bwd"
                                               : "";
    if (c->op == BENCH_ONNX) snprintf(buf, size, "%s%s", c->layout ? "interleaved" : "halves", mode);
    else if (c->op == BENCH_VLLM || c->op == BENCH_QK_NORM)
        snprintf(buf, size, "%s%s%s%s", c->layout ? "interleaved" : "halves", c->scatter ? "+scatter" : "",
                 c->mrope ? (c->mrope == 2 ? "+mrope-i" : "+mrope") : "", mode);
    else if (c->op == BENCH_KV_CACHE)
        snprintf(buf, size, "%s%s%s+%s%s%s", c->layout ? "interleaved" : "halves", c->scatter ? "+scatter" : "",
                 c->mrope ? (c->mrope == 2 ? "+mrope-i" : "+mrope") : "",
                 c->kv_dtype ? rope_dtype_name(c->kv_dtype) : "auto", c->norm ? "+norm" : "",
                 c->separate ? "+separate" : "");
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
    char layout[48], cells[N_COLUMNS][48];
    if (!header_done) {
        if (!csv) printf("%s", preamble);
        print_header(csv);
        header_done = 1;
    }
    layout_label(c, layout, sizeof layout);
    snprintf(cells[0], sizeof cells[0], "%s", op_label(c));
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
    snprintf(cells[14], sizeof cells[14], "%s", bench_loop_name((bench_loop_kind)r->loop));
    if (r->loop == BENCH_LOOP_NONE) {
        snprintf(cells[15], sizeof cells[15], "-");
        snprintf(cells[16], sizeof cells[16], "-");
    } else {
        snprintf(cells[15], sizeof cells[15], "%.3f", r->loop_us);
        snprintf(cells[16], sizeof cells[16], "%.3f", r->ratio_loop);
    }
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
    if (pool != BENCH_POOL_OWN) {
        host = host_pool_create(threads);
        if (!host) {
            fprintf(stderr, "rope bench: cannot start %d host threads\n", threads);
            return 1;
        }
        copt.parallel_for = pool == BENCH_POOL_HOST ? host_pool_for : NULL;
        copt.parallel_user = pool == BENCH_POOL_HOST ? host : NULL;
    }
    if (pool == BENCH_POOL_SPLIT) {
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
    if (pool == BENCH_POOL_HOST) bench_set_split(d, NULL, 0, host); /* the copy on the host's threads */
    if (status) fprintf(stderr, "rope bench: %s\n", rope_last_error());
    bench_result r;
    if (!status && bench_measure(d, ctx, o->reps, &r) != 0) status = 1;
    if (!status) {
        print_row(o->csv, c, threads, pool, &r);
        char layout[48];
        layout_label(c, layout, sizeof layout);
        if (plot_rows) {
            bench_plot_add(plot_rows, op_label(c), dtype_label(c), layout, c->tokens, threads, pool_names[pool], 0,
                           r.ratio);
            if (r.loop != BENCH_LOOP_NONE) /* the floor's own throughput against the copy */
                bench_plot_add(plot_rows, op_label(c), dtype_label(c), layout, c->tokens, threads, pool_names[pool], 1,
                               r.ratio * r.ratio_loop);
        }
    }
    bench_set_split(d, NULL, 0, NULL);
    if (pool == BENCH_POOL_SPLIT)
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
    if (o->threads > 0) {
        counts[0] = o->threads;
        n = 1;
    }
    int status = 0;
    for (int i = 0; i < n && !status; i++)
        for (int pool = BENCH_POOL_OWN; pool <= BENCH_POOL_SPLIT && !status; pool <<= 1)
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

int rope_cmd_bench(int argc, char **argv) {
    bench_opts o;
    diag err;
    int st = bench_args_parse(&o, argc, argv, &err);
    if (st > 0) {
        fputs(usage_text, stdout);
        fputs(usage_columns, stdout);
    }
    if (st < 0) fprintf(stderr, "rope bench: %s\n%s%s", err.text, o.usage ? usage_text : "", o.usage ? usage_columns : "");
    if (st != 0) return st > 0 ? 0 : 2;
    if (o.kernel) return bench_kernel_run(&o);
    if (o.plot && bench_plot_check(o.plot)) return 2;
    if (o.plot && !(plot_rows = bench_plot_new())) {
        fprintf(stderr, "rope bench: out of memory\n");
        return 2;
    }
    static char pre[256];
    snprintf(pre, sizeof pre, "rope bench: isa %s; %s; medians of %d repetitions\n", rope_context_isa_reason(NULL),
             o.single ? "one case" : o.quick ? "quick suite" : "full suite", o.reps);
    preamble = pre;
    int status = o.single ? run_case(&o, &o.c) : run_suite(&o);
    if (plot_rows) {
        if (status == 0) status = bench_plot_write(plot_rows, o.plot, pre) ? 1 : 0;
        bench_plot_free(plot_rows);
        plot_rows = NULL;
    }
    return status;
}
