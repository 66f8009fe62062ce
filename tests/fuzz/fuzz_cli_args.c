/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the `rope` CLI's argument parsers (tools/cache_args.c with its --scaling
 * TYPE:KEY=VALUE lists, tools/bench_args.c). The input's first byte picks the parser; the rest,
 * split at NUL bytes, is argv[1..]. Parsing returns 0, 1 (--help) or -1 with a message, never
 * prints, never reads outside the arguments and frees what it allocated. An accepted `rope cache`
 * command line holds what the command relies on (a dim, positions in order, an output directory,
 * factor lists of dim/2 values), and its configuration then goes to the library as the command
 * would send it: rope_freq_compute and rope_cache_fill into exactly sized tables (small shapes
 * only), which either succeed or fail without writing; an accepted --axes line has one extent per axis
 * and its grid goes to rope_cache_fill_axes the same way. An accepted `rope bench` case is consistent
 * (even head size, heads a multiple of key heads, the layout dividing the head size).
 */
#include <string.h>

#include "bench_args.h"
#include "cache_args.h"
#include "fuzz.h"

enum { MAX_ARGS = 64 };

static void run_cache_config(const cache_args *a) {
    int64_t d = a->cfg.rotary_dim, count = a->end - a->start;
    if (d <= 0 || d > 512 || count > 64) return;
    int64_t width = a->layout != ROPE_CACHE_HALF ? d : d / 2; /* FULL and VLLM: [count, R] */
    size_t half = (size_t)(d / 2), es = rope_dtype_size(a->dtype);
    double *inv = malloc(half * sizeof *inv + 1), att = -7.0;
    size_t bytes = (size_t)(count * width) * es;
    unsigned char *c = malloc(bytes + 1), *s = malloc(bytes + 1);
    FUZZ_ASSERT(inv && c && s, "out of memory");
    memset(inv, 0xA5, half * sizeof *inv);
    memset(c, 0xA5, bytes), memset(s, 0xA5, bytes);
    rope_status st = rope_freq_compute(&a->cfg, inv, &att);
    if (st != ROPE_OK) {
        FUZZ_ASSERT(att == -7.0, "rope_freq_compute failed but wrote attention_scale");
        for (size_t i = 0; i < half * sizeof *inv; i++)
            FUZZ_ASSERT(((unsigned char *)inv)[i] == 0xA5, "rope_freq_compute failed but wrote inv_freq");
    }
    rope_tensor tc = {c, a->dtype, 2, {count, width}, 0}, ts = {s, a->dtype, 2, {count, width}, 0};
    st = rope_cache_fill(&a->cfg, a->start, count, a->layout, a->coeff, &tc, a->layout == ROPE_CACHE_VLLM ? NULL : &ts);
    if (st != ROPE_OK)
        for (size_t i = 0; i < bytes; i++) FUZZ_ASSERT(c[i] == 0xA5 && s[i] == 0xA5, "rope_cache_fill failed but wrote");
    free(inv), free(c), free(s);
}

/* An accepted --axes line: its grid's tokens (small grids only) through rope_cache_fill_axes, which
 * either succeeds or fails without writing. */
static void run_axes_config(const cache_args *a) {
    const int n = a->axes.n_axes;
    int64_t rot = 0;
    for (int k = 0; k < n; k++) rot += a->axes.axes_dims[k] > 0 && a->axes.axes_dims[k] <= 512 ? a->axes.axes_dims[k] : 0;
    if (a->tokens > 64 || rot > 512) return;
    int64_t width = a->layout != ROPE_CACHE_HALF ? rot : rot / 2, T = a->tokens;
    size_t bytes = (size_t)(T * width) * rope_dtype_size(a->dtype);
    int64_t *pos = malloc((size_t)(T * n) * sizeof *pos + 1);
    unsigned char *c = malloc(bytes + 1), *s = malloc(bytes + 1);
    FUZZ_ASSERT(pos && c && s, "out of memory");
    for (int64_t t = 0; t < T; t++) {
        int64_t rest = t;
        for (int k = n - 1; k >= 0; k--) pos[t * n + k] = a->grid_start[k] + rest % a->grid[k], rest /= a->grid[k];
    }
    memset(c, 0xA5, bytes), memset(s, 0xA5, bytes);
    rope_tensor tp = {pos, ROPE_I64, 2, {T, n}, 0};
    rope_tensor tc = {c, a->dtype, 2, {T, width}, 0}, ts = {s, a->dtype, 2, {T, width}, 0};
    rope_status st = rope_cache_fill_axes(&a->axes, &tp, a->layout, a->coeff, &tc, a->layout == ROPE_CACHE_VLLM ? NULL : &ts);
    if (st != ROPE_OK)
        for (size_t i = 0; i < bytes; i++) FUZZ_ASSERT(c[i] == 0xA5 && s[i] == 0xA5, "rope_cache_fill_axes failed but wrote");
    free(pos), free(c), free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    /* the arguments, each NUL-terminated inside one exactly sized copy */
    char *text = malloc(size);
    FUZZ_ASSERT(text, "out of memory");
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    char *argv[MAX_ARGS + 1];
    int argc = 0;
    argv[argc++] = data[0] & 1 ? "bench" : "cache";
    for (char *p = text; p < text + size && argc < MAX_ARGS; p += strlen(p) + 1) argv[argc++] = p;
    argv[argc] = NULL;
    diag err;
    err.text[0] = '\0';
    if (data[0] & 1) {
        bench_opts o;
        int st = bench_args_parse(&o, argc, argv, &err);
        FUZZ_ASSERT(st >= -1 && st <= 1, "bench_args_parse returned %d", st);
        FUZZ_ASSERT(st >= 0 || err.text[0], "bench_args_parse failed without a message");
        /* --kernel NAME: one kernel, no operator case (the name fixes dtypes and layout, checked by
         * bench_kernel_run); the case's consistency holds for operator runs only */
        if (st == 0 && o.single && !o.kernel) {
            const bench_case *c = &o.c;
            FUZZ_ASSERT(c->head_size % 2 == 0 && c->x_dtype != ROPE_DTYPE_INVALID, "inconsistent bench case");
            if (c->op == BENCH_ATB)
                FUZZ_ASSERT(c->heads_k > 0 && c->heads_q % c->heads_k == 0 && c->layout > 0 &&
                                c->head_size % (size_t)c->layout == 0,
                            "inconsistent ATB bench case");
        }
    } else {
        cache_args a;
        int st = cache_args_parse(&a, argc, argv, &err);
        FUZZ_ASSERT(st >= -1 && st <= 1, "cache_args_parse returned %d", st);
        FUZZ_ASSERT(st >= 0 || err.text[0], "cache_args_parse failed without a message");
        if (st == 0 && a.have_axes) {
            FUZZ_ASSERT(a.have_grid == a.axes.n_axes && a.out_dir && a.tokens >= 1 && a.tokens <= ((int64_t)1 << 31) &&
                            !a.have_dim && !a.have_positions,
                        "accepted an inconsistent rope cache --axes command line");
            run_axes_config(&a);
        } else if (st == 0) {
            FUZZ_ASSERT(a.have_dim && a.have_positions && a.out_dir && a.start >= 0 && a.end >= a.start,
                        "accepted an incomplete rope cache command line");
            for (int k = 0; k < 2; k++)
                FUZZ_ASSERT(!a.list[k] || (int64_t)a.list_len[k] == a.cfg.rotary_dim / 2, "factor list length");
            run_cache_config(&a);
        }
        cache_args_free(&a);
    }
    free(text);
    return 0;
}
