/* SPDX-License-Identifier: MIT */
/*
 * `rope cache` end to end: the command writes cos.pb / sin.pb into a temporary directory, the tool's
 * own TensorProto reader loads them back, and they must equal rope_cache_fill's tables for the same
 * configuration bit for bit (dtype, dims, name, bytes). Also: its usage errors (exit 2) and library
 * rejections (exit 1) write nothing, and the built `rope` binary, when found next to the tests,
 * reaches the command through its table.
 */
#define _POSIX_C_SOURCE 200809L
#include "../../tools/diag.c"
#include "../../tools/file_io.c"
#include "../../tools/pb.c"
#include "../../tools/pb_write.c"
#include "../../tools/onnx_dtype.c"
#include "../../tools/tensor_util.c"
#include "../../tools/tensor_proto.c"
#include "../../tools/cmd_cache.c"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "reference.h"

static char dir[64];

static int run(int argc, const char *const *args) {
    char *argv[32];
    for (int i = 0; i < argc; i++) argv[i] = (char *)args[i];
    return rope_cmd_cache(argc, argv);
}
/* run() on a whole array of arguments. */
#define RUN(a) run((int)(sizeof a / sizeof *a), a)
/* The arguments in a row of a table padded with NULLs. */
static int argc_of(const char *const *row, int len) {
    int n = 0;
    while (n < len && row[n]) n++;
    return n;
}

static void remove_outputs(const char *sub) {
    char d[256], f[300];
    snprintf(d, sizeof d, "%s/%s", dir, sub);
    snprintf(f, sizeof f, "%s/cos.pb", d);
    remove(f);
    snprintf(f, sizeof f, "%s/sin.pb", d);
    remove(f);
    rmdir(d);
}

/* Loads sub/cos.pb and sub/sin.pb and compares them with rope_cache_fill(cfg, ...). */
static void expect_files(const char *what, const char *sub, const rope_freq_config *cfg, int64_t start, int64_t count,
                         rope_cache_layout layout, int32_t coeff, rope_dtype dtype) {
    int64_t width = layout == ROPE_CACHE_FULL ? cfg->rotary_dim : cfg->rotary_dim / 2;
    size_t bytes = (size_t)(count * width) * rope_dtype_size(dtype);
    void *wc = malloc(bytes + 1), *ws = malloc(bytes + 1);
    rope_tensor C = {wc, dtype, 2, {count, width}, 0}, S = {ws, dtype, 2, {count, width}, 0};
    CHECK(rope_cache_fill(cfg, start, count, layout, coeff, &C, &S) == ROPE_OK, "%s: %s", what, rope_last_error());
    const char *names[2][2] = {{"cos_cache", "sin_cache"}, {"cos", "sin"}};
    const char *files[2] = {"cos.pb", "sin.pb"};
    void *want[2] = {wc, ws};
    for (int k = 0; k < 2; k++) {
        char path[300];
        snprintf(path, sizeof path, "%s/%s/%s", dir, sub, files[k]);
        tensor_proto tp;
        diag err;
        int r = tensor_proto_load(path, &tp, &err);
        CHECK(r == 0, "%s: %s", what, err.text);
        if (r) continue;
        CHECK(tp.t.dtype == dtype && tp.t.rank == 2 && tp.t.dims[0] == count && tp.t.dims[1] == width,
              "%s: %s is %s rank %d [%lld, %lld]", what, files[k], rope_dtype_name(tp.t.dtype), tp.t.rank,
              (long long)tp.t.dims[0], (long long)tp.t.dims[1]);
        CHECK(!strcmp(tp.name, names[layout == ROPE_CACHE_FULL][k]), "%s: name %s", what, tp.name);
        CHECK(tp.t.rank == 2 && !memcmp(tp.t.data, want[k], bytes), "%s: %s differs from rope_cache_fill", what,
              files[k]);
        tensor_proto_free(&tp);
    }
    free(wc), free(ws);
}

/* sub/cos_sin_cache.pb (--layout vllm) holds, row by row, the ROPE_CACHE_HALF cos then sin rows. */
static void expect_vllm_file(const char *what, const char *sub, const rope_freq_config *cfg, int64_t start,
                             int64_t count, rope_dtype dtype) {
    int64_t half = cfg->rotary_dim / 2;
    size_t es = rope_dtype_size(dtype), bytes = (size_t)(count * half) * es;
    unsigned char *wc = malloc(bytes + 1), *ws = malloc(bytes + 1);
    rope_tensor C = {wc, dtype, 2, {count, half}, 0}, S = {ws, dtype, 2, {count, half}, 0};
    CHECK(rope_cache_fill(cfg, start, count, ROPE_CACHE_HALF, 0, &C, &S) == ROPE_OK, "%s: %s", what,
          rope_last_error());
    char path[300];
    snprintf(path, sizeof path, "%s/%s/cos_sin_cache.pb", dir, sub);
    tensor_proto tp;
    diag err;
    int r = tensor_proto_load(path, &tp, &err);
    CHECK(r == 0, "%s: %s", what, err.text);
    if (r == 0) {
        int shaped = tp.t.dtype == dtype && tp.t.rank == 2 && tp.t.dims[0] == count && tp.t.dims[1] == 2 * half;
        CHECK(shaped, "%s: cos_sin_cache.pb is %s rank %d", what, rope_dtype_name(tp.t.dtype), tp.t.rank);
        CHECK(!strcmp(tp.name, "cos_sin_cache"), "%s: name %s", what, tp.name);
        for (int64_t row = 0; shaped && row < count; row++) {
            const unsigned char *got = (const unsigned char *)tp.t.data + (size_t)(row * 2 * half) * es;
            CHECK(!memcmp(got, wc + (size_t)(row * half) * es, (size_t)half * es), "%s: row %lld cos", what,
                  (long long)row);
            CHECK(!memcmp(got + (size_t)half * es, ws + (size_t)(row * half) * es, (size_t)half * es),
                  "%s: row %lld sin", what, (long long)row);
        }
        tensor_proto_free(&tp);
    }
    free(wc), free(ws);
}

static int exists(const char *sub) {
    char path[300];
    snprintf(path, sizeof path, "%s/%s/cos.pb", dir, sub);
    FILE *f = fopen(path, "rb");
    if (f) fclose(f);
    return f != NULL;
}

static rope_freq_config cfg0(rope_scaling sc, double base, int64_t dim) {
    rope_freq_config c = ROPE_FREQ_CONFIG_INIT;
    c.scaling = sc, c.base = base, c.rotary_dim = dim;
    return c;
}

/* Default scaling, half layout, f32. */
static void default_half_f32(void) {
    char out[128];
    snprintf(out, sizeof out, "%s/a", dir);
    const char *a1[] = {"cache", "--dim", "64", "--positions", "0:100", "--base", "500000", "-o", out};
    CHECK(RUN(a1) == 0, "default run");
    rope_freq_config c = cfg0(ROPE_SCALING_DEFAULT, 500000, 64);
    c.seq_len = 100;
    expect_files("default", "a", &c, 0, 100, ROPE_CACHE_HALF, 0, ROPE_F32);
}

/* vllm: one [count, R] file of [cos | sin] rows, the HALF tables side by side. */
static void vllm_layout_bf16(void) {
    char out[128];
    snprintf(out, sizeof out, "%s/v", dir);
    const char *v1[] = {"cache", "--dim", "48", "--positions", "7:60", "--layout", "vllm", "--dtype", "bf16",
                        "--scaling", "linear:factor=2", "-o", out};
    CHECK(RUN(v1) == 0, "vllm run");
    rope_freq_config cv = cfg0(ROPE_SCALING_LINEAR, 10000, 48);
    cv.factor = 2, cv.seq_len = 60;
    expect_vllm_file("vllm", "v", &cv, 7, 53, ROPE_BF16);
    snprintf(out, sizeof out, "%s/v/cos_sin_cache.pb", dir);
    remove(out);
    snprintf(out, sizeof out, "%s/v", dir);
    rmdir(out);
}

/* yarn, ATB coeff 4 table, bf16, at far positions; seq-len default END is unused by yarn. */
static void yarn_full_bf16_far_positions(void) {
    char out[128];
    snprintf(out, sizeof out, "%s/b", dir);
    const char *a2[] = {"cache", "--dim", "32", "--positions", "1000000:1000050",
                        "--scaling", "yarn:factor=4,original_max_position_embeddings=4096,beta_fast=16,truncate=false",
                        "--layout", "coeff4", "--dtype", "bf16", "-o", out};
    CHECK(RUN(a2) == 0, "yarn run");
    rope_freq_config c = cfg0(ROPE_SCALING_YARN, 10000, 32);
    c.factor = 4, c.original_max_position_embeddings = 4096, c.beta_fast = 16, c.no_truncate = 1;
    expect_files("yarn", "b", &c, 1000000, 50, ROPE_CACHE_FULL, 4, ROPE_BF16);
}

/* longrope with lists; seq-len defaults to END = 300 > orig 256: long factors. */
static void longrope_lists_long_factors(void) {
    char out[128];
    snprintf(out, sizeof out, "%s/c", dir);
    const char *a3[] = {"cache", "--dim", "8", "--positions", "300",
                        "--scaling",
                        "longrope:short_factor=1/1.5/2/2.5,long_factor=4/5/6/7.25,factor=16,"
                        "original_max_position_embeddings=256",
                        "-o", out};
    CHECK(RUN(a3) == 0, "longrope run");
    double sf[4] = {1, 1.5, 2, 2.5}, lf[4] = {4, 5, 6, 7.25};
    rope_freq_config c = cfg0(ROPE_SCALING_LONGROPE, 10000, 8);
    c.short_factor = sf, c.long_factor = lf, c.factor = 16, c.original_max_position_embeddings = 256, c.seq_len = 300;
    expect_files("longrope", "c", &c, 0, 300, ROPE_CACHE_HALF, 0, ROPE_F32);
}

/* llama3, f16, ATB coeff R table (adjacent pairs), written with --opt=value. */
static void llama3_full_f16(void) {
    char out[128];
    snprintf(out, sizeof out, "%s/d", dir);
    const char *a4[] = {"cache", "--dim", "16", "--positions", "5:69",
                        "--scaling",
                        "llama3:factor=8,original_max_position_embeddings=64,low_freq_factor=1,high_freq_factor=4",
                        "--layout=coeffD", "--dtype=f16", "-o", out};
    CHECK(RUN(a4) == 0, "llama3 run");
    rope_freq_config c = cfg0(ROPE_SCALING_LLAMA3, 10000, 16);
    c.factor = 8, c.original_max_position_embeddings = 64, c.low_freq_factor = 1, c.high_freq_factor = 4;
    expect_files("llama3", "d", &c, 5, 64, ROPE_CACHE_FULL, 16, ROPE_F16);
}

/* dynamic with an explicit --seq-len. */
static void dynamic_explicit_seq_len(void) {
    char out[128];
    snprintf(out, sizeof out, "%s/e", dir);
    const char *a5[] = {"cache", "--dim", "16", "--positions", "0:40", "--seq-len", "9000",
                        "--scaling", "dynamic:factor=2,original_max_position_embeddings=2048", "-o", out};
    CHECK(RUN(a5) == 0, "dynamic run");
    rope_freq_config c = cfg0(ROPE_SCALING_DYNAMIC, 10000, 16);
    c.factor = 2, c.original_max_position_embeddings = 2048, c.seq_len = 9000;
    expect_files("dynamic", "e", &c, 0, 40, ROPE_CACHE_HALF, 0, ROPE_F32);
}

/* proportional: a head of 16 with 2 of its 8 pairs rotating (the other 6 columns cos 1, sin 0), and
 * "mrope" read as the default method, through the library's table of names. */
static void proportional_and_alias(void) {
    char out[128];
    snprintf(out, sizeof out, "%s/g", dir);
    const char *a6[] = {"cache", "--dim", "16", "--positions", "0:30", "--scaling",
                        "proportional:rotated_pairs=2,factor=4", "-o", out};
    CHECK(RUN(a6) == 0, "proportional run");
    rope_freq_config c = cfg0(ROPE_SCALING_PROPORTIONAL, 10000, 16);
    c.rotated_pairs = 2, c.factor = 4, c.seq_len = 30;
    expect_files("proportional", "g", &c, 0, 30, ROPE_CACHE_HALF, 0, ROPE_F32);
    snprintf(out, sizeof out, "%s/h", dir);
    const char *a7[] = {"cache", "--dim", "16", "--positions", "0:30", "--scaling", "mrope", "-o", out};
    CHECK(RUN(a7) == 0, "mrope run");
    rope_freq_config d = cfg0(ROPE_SCALING_DEFAULT, 10000, 16);
    d.seq_len = 30;
    expect_files("mrope", "h", &d, 0, 30, ROPE_CACHE_HALF, 0, ROPE_F32);
}

/* --help, usage errors (exit 2) and library rejections (exit 1): nothing written. */
static void help_usage_errors_and_rejections(void) {
    char out[128];
    const char *h[] = {"cache", "--help"};
    CHECK(RUN(h) == 0, "--help");
    snprintf(out, sizeof out, "%s/x", dir);
    const char *bad_usage[][12] = {
        {"cache", "--positions", "0:4", "-o", out},                                  /* no --dim */
        {"cache", "--dim", "8", "-o", out},                                          /* no --positions */
        {"cache", "--dim", "8", "--positions", "0:4"},                               /* no -o */
        {"cache", "--dim", "8", "--positions", "4:2", "-o", out},                    /* END < START */
        {"cache", "--dim", "8x", "--positions", "0:4", "-o", out},                   /* not a number */
        {"cache", "--dim", "8", "--positions", "0:4", "--dtype", "f64", "-o", out},  /* dtype */
        {"cache", "--dim", "8", "--positions", "0:4", "--layout", "full", "-o", out}, /* not a layout word */
        {"cache", "--dim", "8", "--positions", "0:4", "--layout", "neox", "-o", out}, /* vLLM's: halves */
        {"cache", "--dim", "8", "--positions", "0:4", "--coeff", "4", "-o", out},    /* coefficient: a layout */
        {"cache", "--dim", "8", "--positions", "0:4", "--base", "0", "-o", out},     /* 0 is not 10000 */
        {"cache", "--dim", "4294967424", "--positions", "0:4", "-o", out},          /* past 65536 */
        {"cache", "--dim", "8", "--positions", "0:99999999999999999999", "-o", out}, /* overflows */
        {"cache", "--dim", "8", "--positions", "0:4", "--scaling", "linear:factor=2,beta_fast=3", "-o", out},
        {"cache", "--dim", "8", "--positions", "0:4", "--dtype=", "-o", out},        /* empty value */
        {"cache", "--dim", "8", "--positions", "0:4", "--scaling", "ntk:factor=2", "-o", out},
        {"cache", "--dim", "8", "--positions", "0:4", "--scaling", "yarn:speed=2", "-o", out},
        {"cache", "--dim", "8", "--positions", "0:4", "--scaling", "yarn:factor=2,factor=3", "-o", out},
        {"cache", "--dim", "8", "--positions", "0:4", "--scaling", "longrope:short_factor=1/2", "-o", out},
        {"cache", "--dim", "8", "--positions", "0:4", "--scaling", "yarn:rotated_pairs=2", "-o", out},
        {"cache", "--dim", "8", "--positions", "0:4", "--scaling", "su", "-o", out}, /* Phi-3's own alias */
        {"cache", "--dim", "8", "--positions", "0:4", "--frobnicate", "1", "-o", out}};
    enum { N_BAD = sizeof bad_usage / sizeof *bad_usage, N_BAD_ARGS = sizeof *bad_usage / sizeof **bad_usage };
    for (int i = 0; i < N_BAD; i++) {
        int r = run(argc_of(bad_usage[i], N_BAD_ARGS), bad_usage[i]);
        CHECK(r == 2 && !exists("x"), "usage error %d: exit %d", i, r);
    }
    const char *rejected[][12] = {
        {"cache", "--dim", "7", "--positions", "0:4", "-o", out},
        {"cache", "--dim", "8", "--positions", "0:4", "--base", "1", "-o", out},
        {"cache", "--dim", "8", "--positions", "0:4", "--scaling", "llama3:factor=8", "-o", out},
        {"cache", "--dim", "8", "--positions", "0:4", "--scaling", "longrope:factor=2", "-o", out},
        {"cache", "--dim", "6", "--positions", "0:4", "--layout", "coeff4", "-o", out},
        {"cache", "--dim", "8", "--positions", "0:4", "--scaling", "proportional:rotated_pairs=5", "-o", out}};
    enum { N_REJ = sizeof rejected / sizeof *rejected, N_REJ_ARGS = sizeof *rejected / sizeof **rejected };
    for (int i = 0; i < N_REJ; i++) {
        int r = run(argc_of(rejected[i], N_REJ_ARGS), rejected[i]);
        CHECK(r == 1 && !exists("x"), "rejected %d: exit %d", i, r);
    }
}

/* Loads DIR/sub/file and compares it with `want` (dtype, dims, name, bytes). */
static void expect_file(const char *what, const char *sub, const char *file, const char *name, const rope_tensor *want) {
    char path[300];
    snprintf(path, sizeof path, "%s/%s/%s", dir, sub, file);
    tensor_proto tp;
    diag err;
    int r = tensor_proto_load(path, &tp, &err);
    CHECK(r == 0, "%s: %s", what, err.text);
    if (r) return;
    int same = tp.t.dtype == want->dtype && tp.t.rank == want->rank;
    for (int d = 0; same && d < want->rank; d++) same = tp.t.dims[d] == want->dims[d];
    CHECK(same, "%s: %s is %s rank %d", what, file, rope_dtype_name(tp.t.dtype), tp.t.rank);
    CHECK(!strcmp(tp.name, name), "%s: name %s", what, tp.name);
    size_t bytes = (size_t)rope_tensor_numel(want) * rope_dtype_size(want->dtype);
    CHECK(same && !memcmp(tp.t.data, want->data, bytes), "%s: %s differs from rope_cache_fill_axes", what, file);
    remove(path);
    tensor_proto_free(&tp);
}

/* --axes / --grid: the grid's tokens row major, each file bitwise rope_cache_fill_axes on those
 * coordinates (built here); a few values against cos/sin in float64 written here. */
static void axes_grid(void) {
    enum { T0 = 2, T1 = 3, T2 = 5, T = T0 * T1 * T2, R = 128 };
    static int64_t pos[T * 3];
    static float cw[T * R], sw[T * R];
    char out[128];
    snprintf(out, sizeof out, "%s/m", dir);
    for (int t = 0; t < T; t++) /* with --grid-start 4,0,-2 */
        pos[3 * t] = 4 + t / (T1 * T2), pos[3 * t + 1] = (t / T2) % T1, pos[3 * t + 2] = -2 + t % T2;
    rope_axes_config c = ROPE_AXES_CONFIG_INIT;
    c.n_axes = 3, c.axes_dims[0] = 16, c.axes_dims[1] = 56, c.axes_dims[2] = 56;
    c.theta[0] = 256, c.theta[1] = 256, c.theta[2] = 256;
    rope_tensor P = {pos, ROPE_I64, 2, {T, 3}, 0};

    const char *a1[] = {"cache", "--axes", "16,56,56", "--grid", "2x3x5", "--grid-start", "4,0,-2", "--theta", "256",
                        "-o", out};
    CHECK(RUN(a1) == 0, "axes halves run");
    rope_tensor C = {cw, ROPE_F32, 2, {T, R / 2}, 0}, S = {sw, ROPE_F32, 2, {T, R / 2}, 0};
    CHECK(rope_cache_fill_axes(&c, &P, ROPE_CACHE_HALF, 0, &C, &S) == ROPE_OK, "%s", rope_last_error());
    double worst = 0;
    for (int t = 0; t < T; t++) /* pair j of axis 1 (h), the 8 + j-th of the row */
        for (int j = 0; j < 28; j++) {
            double ang = (double)pos[3 * t + 1] / pow(256.0, 2.0 * j / 56.0);
            worst = fmax(worst, fabs(cw[t * 64 + 8 + j] - cos(ang)) / ref_ulp(ROPE_F32, cos(ang)));
        }
    CHECK(worst <= 1.0, "axes: h values %.3f ulp from float64", worst);
    rope_tensor C3 = C, S3 = S; /* written as ONNX's per-token [1, tokens, R/2] */
    C3.rank = S3.rank = 3, C3.dims[0] = S3.dims[0] = 1, C3.dims[1] = S3.dims[1] = T, C3.dims[2] = S3.dims[2] = R / 2;
    expect_file("axes halves", "m", "cos.pb", "cos_cache", &C3);
    expect_file("axes halves", "m", "sin.pb", "sin_cache", &S3);

    /* per-axis thetas, ATB rows (coeffD), bf16 */
    static uint16_t cb[T * R], sb[T * R];
    const char *a2[] = {"cache", "--axes", "16,56,56", "--grid", "2x3x5", "--grid-start", "4,0,-2", "--theta",
                        "10000,500,256", "--layout", "coeffD", "--dtype", "bf16", "-o", out};
    CHECK(RUN(a2) == 0, "axes coeffD run");
    c.theta[0] = 10000, c.theta[1] = 500;
    rope_tensor CB = {cb, ROPE_BF16, 2, {T, R}, 0}, SB = {sb, ROPE_BF16, 2, {T, R}, 0};
    CHECK(rope_cache_fill_axes(&c, &P, ROPE_CACHE_FULL, R, &CB, &SB) == ROPE_OK, "%s", rope_last_error());
    expect_file("axes coeffD", "m", "cos.pb", "cos", &CB);
    expect_file("axes coeffD", "m", "sin.pb", "sin", &SB);

    /* Pixtral's alternating frequencies, vLLM's [cos | sin] rows */
    enum { H = 4, W = 6 };
    static int64_t p2[H * W * 2];
    for (int t = 0; t < H * W; t++) p2[2 * t] = t / W, p2[2 * t + 1] = t % W;
    rope_axes_config px = ROPE_AXES_CONFIG_INIT;
    px.n_axes = 2, px.axes_dims[0] = px.axes_dims[1] = 32, px.freq = ROPE_AXES_FREQ_ALTERNATING;
    const char *a3[] = {"cache", "--axes", "32,32", "--grid", "4x6", "--axes-freq", "alternating", "--layout", "vllm",
                        "-o", out};
    CHECK(RUN(a3) == 0, "axes alternating run");
    rope_tensor P2 = {p2, ROPE_I64, 2, {H * W, 2}, 0}, CV = {cw, ROPE_F32, 2, {H * W, 64}, 0};
    CHECK(rope_cache_fill_axes(&px, &P2, ROPE_CACHE_VLLM, 0, &CV, NULL) == ROPE_OK, "%s", rope_last_error());
    expect_file("axes vllm", "m", "cos_sin_cache.pb", "cos_sin_cache", &CV);
    rmdir(out);

    /* usage errors (exit 2) and library rejections (exit 1) write nothing */
    snprintf(out, sizeof out, "%s/x", dir);
    const char *bad[][12] = {
        {"cache", "--axes", "16,56,56", "-o", out},                                   /* no --grid */
        {"cache", "--axes", "16,56,56", "--grid", "2x3x4"},                           /* no -o */
        {"cache", "--axes", "16,56,56", "--grid", "2x3", "-o", out},                  /* extents */
        {"cache", "--axes", "16,56,56", "--grid", "2x0x4", "-o", out},                /* empty axis */
        {"cache", "--axes", "16,56,56", "--grid", "2x3x", "-o", out},                 /* empty extent */
        {"cache", "--axes", "16,,56", "--grid", "2x3x4", "-o", out},                  /* empty width */
        {"cache", "--axes", "2,2,2,2,2,2,2,2,2", "--grid", "2", "-o", out},           /* 9 axes */
        {"cache", "--axes", "16,56,56", "--grid", "2x3x4", "--theta", "1,2", "-o", out},
        {"cache", "--axes", "16,56,56", "--grid", "2x3x4", "--theta", "0", "-o", out},
        {"cache", "--axes", "16,56,56", "--grid", "2x3x4", "--grid-start", "1", "-o", out},
        {"cache", "--axes", "16,56,56", "--grid", "2x3x4", "--axes-freq", "pixtral", "-o", out},
        {"cache", "--axes", "16,56,56", "--grid", "2x3x4", "--dim", "128", "-o", out}, /* the other form */
        {"cache", "--axes", "16,56,56", "--grid", "2x3x4", "--base", "256", "-o", out},
        {"cache", "--axes", "16,56,56", "--grid", "65536x65536x2", "-o", out},         /* 2^33 tokens */
        {"cache", "--dim", "8", "--positions", "0:4", "--grid", "2x3", "-o", out},     /* --grid without --axes */
        {"cache", "--dim", "8", "--positions", "0:4", "--theta", "256", "-o", out}};
    enum { N_BAD = sizeof bad / sizeof *bad, N_ARGS = sizeof *bad / sizeof **bad };
    for (int i = 0; i < N_BAD; i++) {
        int r = run(argc_of(bad[i], N_ARGS), bad[i]);
        CHECK(r == 2 && !exists("x"), "axes usage error %d: exit %d", i, r);
    }
    const char *rejected[][12] = {
        {"cache", "--axes", "16,55,56", "--grid", "2x3x4", "-o", out},
        {"cache", "--axes", "16,56,56", "--grid", "2x3x4", "--theta", "1", "-o", out},
        {"cache", "--axes", "16,56,56", "--grid", "2x3x4", "--axes-freq", "alternating", "-o", out},
        {"cache", "--axes", "16,56", "--grid", "2x3", "--grid-start", "0,9007199254740992", "-o", out},
        {"cache", "--axes", "16,56,56", "--grid", "2x3x4", "--layout", "coeff4", "--theta", "1e4,1e4,-3", "-o", out}};
    enum { N_REJ = sizeof rejected / sizeof *rejected, N_REJ_ARGS = sizeof *rejected / sizeof **rejected };
    for (int i = 0; i < N_REJ; i++) {
        int r = run(argc_of(rejected[i], N_REJ_ARGS), rejected[i]);
        CHECK(r == 1 && !exists("x"), "axes rejected %d: exit %d", i, r);
    }
}

/* The binary, through main's command table, when built next to this test (build/tests/..). */
static void rope_binary(void) {
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 16);
    if (n <= 0) return;
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (slash) {
        *slash = '\0';
        slash = strrchr(self, '/');
    }
    if (!slash) return;
    strcpy(slash, "/rope");
    if (access(self, X_OK) != 0) {
        printf("(no rope binary at %s: binary check skipped)\n", self);
        return;
    }
    char cmd[8192];
    const char *emu = getenv("ROPE_EMULATOR"); /* a cross build's qemu */
    snprintf(cmd, sizeof cmd, "%s '%s' cache --dim 64 --positions 0:100 --base 500000 -o '%s/f' >/dev/null",
             emu ? emu : "", self, dir);
    CHECK(system(cmd) == 0, "%s", cmd);
    rope_freq_config c = cfg0(ROPE_SCALING_DEFAULT, 500000, 64);
    expect_files("binary", "f", &c, 0, 100, ROPE_CACHE_HALF, 0, ROPE_F32);
    remove_outputs("f");
}

int main(void) {
    strcpy(dir, "/tmp/rope_cache_cli_XXXXXX");
    if (!mkdtemp(dir)) {
        fprintf(stderr, "cannot create a temporary directory\n");
        return 77;
    }
    default_half_f32();
    vllm_layout_bf16();
    yarn_full_bf16_far_positions();
    longrope_lists_long_factors();
    llama3_full_f16();
    dynamic_explicit_seq_len();
    proportional_and_alias();
    help_usage_errors_and_rejections();
    axes_grid();
    rope_binary();

    const char *subs[] = {"a", "b", "c", "d", "e", "g", "h"};
    for (int i = 0; i < 7; i++) remove_outputs(subs[i]);
    rmdir(dir);
    return tu_finish();
}
