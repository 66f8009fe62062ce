/* SPDX-License-Identifier: MIT */
/* `rope test` and `rope run` end to end, on conformance directories the test writes itself:
 * PASS / FAIL / SKIP lines, the closing line, exit statuses, options, and written outputs. */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "commands.h"
#include "file_io.h"
#include "tensor_proto.h"
#include "onnx_builder.h"
#include "reference_vllm.h"

static char root[64];
static diag err;

/* ---- running a command with its output captured --------------------------------------------- */

typedef struct captured {
    int status;
    char out[8192], err[8192];
    const char *last_line;
} captured;

static void slurp(FILE *f, char *buf, size_t size) {
    rewind(f);
    size_t n = fread(buf, 1, size - 1, f);
    buf[n] = '\0';
    fclose(f);
}

static captured run_cmd(int (*cmd)(int, char **), int argc, char **argv) {
    static captured c;
    FILE *o = tmpfile(), *e = tmpfile();
    fflush(stdout);
    fflush(stderr);
    int so = dup(1), se = dup(2);
    dup2(fileno(o), 1);
    dup2(fileno(e), 2);
    c.status = cmd(argc, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(so, 1);
    dup2(se, 2);
    close(so);
    close(se);
    slurp(o, c.out, sizeof c.out);
    slurp(e, c.err, sizeof c.err);
    /* The last complete line of stdout. */
    size_t n = strlen(c.out);
    if (n && c.out[n - 1] == '\n') n--;
    while (n && c.out[n - 1] != '\n') n--;
    c.last_line = c.out + n;
    return c;
}

/* Runs `rope NAME ARGS...`: cmd with argv {name, ARGS...}, the arguments up to a NULL (at most 14). */
static captured run_args(int (*cmd)(int, char **), char *name, ...) {
    char *argv[16] = {name};
    int argc = 1;
    va_list ap;
    va_start(ap, name);
    for (const char *a = va_arg(ap, const char *); a && argc < 15; a = va_arg(ap, const char *))
        argv[argc++] = (char *)a;
    va_end(ap);
    return run_cmd(cmd, argc, argv);
}

/* `rope test ARGS...` and `rope run ARGS...` (NULL-terminated). */
#define rope_test(...) run_args(rope_cmd_test, "test", __VA_ARGS__)
#define rope_run(...) run_args(rope_cmd_run, "run", __VA_ARGS__)

static int last_is(const captured *c, const char *want) {
    size_t n = strlen(want);
    return !strncmp(c->last_line, want, n) && (c->last_line[n] == '\n' || c->last_line[n] == '\0');
}

/* ---- writing conformance directories ---------------------------------------------------------- */

/* The path of case `name`; a few buffers in rotation so that one call can take several. */
static const char *case_path(const char *name) {
    static char paths[8][256];
    static int next;
    char *path = paths[next++ % 8];
    snprintf(path, sizeof paths[0], "%s/%s", root, name);
    return path;
}

static void write_file(const char *dir, const char *leaf, msg *m) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, leaf);
    CHECK(file_write_all(path, m->b, m->n, &err) == 0, "%s", err.text);
    msg_free(m);
}

static void make_case_dir(const char *name, int sets) {
    char path[512];
    mkdir(case_path(name), 0777);
    for (int s = 0; s < sets; s++) {
        snprintf(path, sizeof path, "%s/test_data_set_%d", case_path(name), s);
        mkdir(path, 0777);
    }
}

static void write_tensor(const char *name, int set, const char *leaf, const char *tname, int32_t code,
                         const int64_t *dims, int rank, const void *data, size_t bytes) {
    char dir[512];
    snprintf(dir, sizeof dir, "%s/test_data_set_%d", case_path(name), set);
    msg t = tensor_raw(tname, code, dims, rank, data, bytes);
    write_file(dir, leaf, &t);
}

/* ONNX RotaryEmbedding, X [1,2,2,4] f32, caches [4,2], position_ids [1,2]; `bump` is added to the
 * expected element [0,1,1,3]. */
enum { B = 1, N = 2, S = 2, H = 4, MAXPOS = 4 };
static float X[B * N * S * H], COS[MAXPOS * H / 2], SIN[MAXPOS * H / 2], Y[B * N * S * H];
static const int64_t IDS[B * S] = {3, 1};

static void reference_onnx(void) {
    for (int i = 0; i < B * N * S * H; i++) X[i] = (float)tu_uniform(-2, 2);
    for (int i = 0; i < MAXPOS * H / 2; i++) COS[i] = (float)tu_uniform(-1, 1), SIN[i] = (float)tu_uniform(-1, 1);
    for (int n = 0; n < N; n++)
        for (int s = 0; s < S; s++) {
            const float *x = X + (n * S + s) * H, *c = COS + IDS[s] * H / 2, *sn = SIN + IDS[s] * H / 2;
            float *y = Y + (n * S + s) * H;
            for (int j = 0; j < H / 2; j++) {
                float a = c[j] * x[j], b = sn[j] * x[j + H / 2];
                float d = sn[j] * x[j], e = c[j] * x[j + H / 2];
                y[j] = a - b;
                y[j + H / 2] = d + e;
            }
        }
}

static void write_onnx_model(const char *name, int n_nodes, int64_t opset, const char *initializer) {
    const char *in[4] = {"X", "cos", "sin", "pos"}, *out[1] = {"Y"};
    msg g = {0};
    for (int i = 0; i < n_nodes; i++) {
        msg node = node_proto("RotaryEmbedding", "", in, 4, out, 1);
        node_int_attr(&node, "interleaved", 0);
        msg_sub(&g, 1, &node);
    }
    if (initializer) {
        const int64_t d[1] = {1};
        float v = 0;
        msg t = tensor_raw(initializer, 1, d, 1, &v, 4);
        msg_sub(&g, 5, &t);
    }
    for (int i = 0; i < 4; i++) graph_value_info(&g, 11, in[i]);
    graph_value_info(&g, 12, "Y");
    msg m = model_proto(&g, "", opset);
    write_file(case_path(name), "model.onnx", &m);
}

static void write_onnx_case(const char *name, int sets, float bump) {
    const int64_t xd[4] = {B, N, S, H}, cd[2] = {MAXPOS, H / 2}, pd[2] = {B, S};
    make_case_dir(name, sets);
    write_onnx_model(name, 1, 23, NULL);
    for (int s = 0; s < sets; s++) {
        float y[B * N * S * H];
        memcpy(y, Y, sizeof y);
        y[B * N * S * H - 1] += bump;
        write_tensor(name, s, "input_0.pb", "X", 1, xd, 4, X, sizeof X);
        write_tensor(name, s, "input_1.pb", "cos", 1, cd, 2, COS, sizeof COS);
        write_tensor(name, s, "input_2.pb", "sin", 1, cd, 2, SIN, sizeof SIN);
        write_tensor(name, s, "input_3.pb", "pos", 7, pd, 2, IDS, sizeof IDS);
        write_tensor(name, s, "output_0.pb", "Y", 1, xd, 4, y, sizeof y);
    }
}

/* ATB's demo: rotaryCoeff 4, f16 ones q/k [4,16], cos/sin [4,8]: every row reads 0 0 2 2 ... */
static void write_atb_case(const char *name) {
    const char *in[5] = {"query", "key", "cos", "sin", "seqlen"}, *out[2] = {"ropeQ", "ropeK"};
    const int64_t qd[2] = {4, 16}, cd[2] = {4, 8}, sd[1] = {1};
    uint16_t ones[64], expect[64];
    int32_t seqlen = 4;
    for (int i = 0; i < 64; i++) {
        ones[i] = 0x3c00;
        expect[i] = (i % 8) % 4 < 2 ? 0x0000 : 0x4000;
    }
    make_case_dir(name, 1);
    msg node = node_proto("Rope", "atb", in, 5, out, 2), g = {0};
    node_int_attr(&node, "rotaryCoeff", 4);
    node_int_attr(&node, "cosFormat", 0);
    msg_sub(&g, 1, &node);
    graph_value_info(&g, 12, "ropeQ");
    graph_value_info(&g, 12, "ropeK");
    msg m = model_proto(&g, "atb", 1);
    write_file(case_path(name), "model.onnx", &m);
    write_tensor(name, 0, "input_0.pb", "query", 10, qd, 2, ones, sizeof ones);
    write_tensor(name, 0, "input_1.pb", "key", 10, qd, 2, ones, sizeof ones);
    write_tensor(name, 0, "input_2.pb", "cos", 10, cd, 2, ones, 64);
    write_tensor(name, 0, "input_3.pb", "sin", 10, cd, 2, ones, 64);
    write_tensor(name, 0, "input_4.pb", "seqlen", 6, sd, 1, &seqlen, 4);
    write_tensor(name, 0, "output_0.pb", "ropeQ", 10, qd, 2, expect, sizeof expect);
    write_tensor(name, 0, "output_1.pb", "ropeK", 10, qd, 2, expect, sizeof expect);
}

/* vLLM RotaryEmbedding (domain "vllm"): interleaved MRoPE sections [2, 1, 1], GPT-J pairs, key absent
 * (input ""), query f32 [3, 2x8], cache [5, 8], positions [3, 3] i64; query_out from the float64
 * reference. `bad_pos` puts a position past the cache (the library rejects the call). */
enum { VT = 3, VH = 2, VHS = 8, VP = 5 };
static float VQ[VT * VH * VHS], VCACHE[VP * VHS], VOUT[VT * VH * VHS];

static void write_vllm_case(const char *name, int bad_pos) {
    const char *in[4] = {"positions", "query", "", "cos_sin_cache"}, *out[1] = {"query_out"};
    int64_t pos[3 * VT] = {4, 0, 2, /* h */ 1, 3, 2, /* w */ 0, 4, 2};
    const int64_t sections[3] = {2, 1, 1}, pd[2] = {3, VT}, qd[2] = {VT, VH * VHS}, cd[2] = {VP, VHS};
    double x[VT * VH * VHS], c[VP * VHS], want[VT * VH * VHS], perr[VT * VH * VHS];
    for (int i = 0; i < VT * VH * VHS; i++) x[i] = VQ[i] = (float)tu_uniform(-2, 2);
    for (int i = 0; i < VP * VHS; i++) c[i] = VCACHE[i] = (float)tu_uniform(-1, 1);
    ref_vllm_case rc = {VT, VH, VHS, VHS, VP, 0, 3, 1, {2, 1, 1, 0}, 0, 0, 0, 0, 0};
    CHECK(ref_vllm_rotate(&rc, x, c, pos, want, perr) == 0, "vllm reference refused the case");
    for (int i = 0; i < VT * VH * VHS; i++) VOUT[i] = (float)want[i];
    if (bad_pos) pos[0] = VP;
    make_case_dir(name, 1);
    msg node = node_proto("RotaryEmbedding", "vllm", in, 4, out, 1), g = {0}, a = {0};
    node_int_attr(&node, "head_size", VHS);
    node_int_attr(&node, "is_neox", 0);
    node_int_attr(&node, "mrope_interleaved", 1);
    msg_str(&a, 1, "mrope_section"); /* INTS: name=1, ints=8, type=20 (7) */
    for (int i = 0; i < 3; i++) msg_int(&a, 8, (uint64_t)sections[i]);
    msg_int(&a, 20, 7);
    msg_sub(&node, 5, &a);
    msg_sub(&g, 1, &node);
    graph_value_info(&g, 12, "query_out");
    msg m = model_proto(&g, "vllm", 1);
    write_file(case_path(name), "model.onnx", &m);
    write_tensor(name, 0, "input_0.pb", "positions", 7, pd, 2, pos, sizeof pos);
    write_tensor(name, 0, "input_1.pb", "query", 1, qd, 2, VQ, sizeof VQ);
    write_tensor(name, 0, "input_2.pb", "cos_sin_cache", 1, cd, 2, VCACHE, sizeof VCACHE);
    write_tensor(name, 0, "output_0.pb", "query_out", 1, qd, 2, VOUT, sizeof VOUT);
}

static void remove_tree(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0) return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d)) != NULL) {
            char child[1024];
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            snprintf(child, sizeof child, "%s/%s", path, e->d_name);
            remove_tree(child);
        }
        if (d) closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

/* ---- the tests --------------------------------------------------------------------------------- */

static void test_pass_fail_skip(void) {
    char slashed[300];
    snprintf(slashed, sizeof slashed, "%s/", case_path("ok"));
    captured c = rope_test(slashed, NULL);
    CHECK(c.status == 0 && strstr(c.out, "PASS ok (1 data set, max abs err 0)\n") && last_is(&c, "1 passed, 0 failed"),
          "status %d:\n%s%s", c.status, c.out, c.err);

    c = rope_test(case_path("bad"), NULL);
    CHECK(c.status == 1 && strstr(c.out, "FAIL bad: output_0 element [0,1,1,3]: got ") &&
              last_is(&c, "0 passed, 1 failed"),
          "status %d:\n%s%s", c.status, c.out, c.err);
    c = rope_test("--atol", "1", case_path("bad"), NULL);
    CHECK(c.status == 0 && strstr(c.out, "PASS bad (1 data set, max abs err 0.5)"), "--atol:\n%s%s", c.out, c.err);
    c = rope_test(case_path("bad"), "--rtol=2", NULL);
    CHECK(c.status == 0, "--rtol=2 after the directory:\n%s%s", c.out, c.err);

    c = rope_test(case_path("ok"), case_path("multi"), case_path("two_sets"), case_path("atb"), NULL);
    CHECK(c.status == 0 && strstr(c.out, "SKIP multi: graph has 2 nodes, not a single supported node\n") &&
              strstr(c.out, "PASS two_sets (2 data sets, max abs err 0)") &&
              strstr(c.out, "PASS atb (1 data set, max abs err 0)") && last_is(&c, "3 passed, 0 failed, 1 skipped"),
          "status %d:\n%s%s", c.status, c.out, c.err);

    c = rope_test(case_path("vllm"), NULL);
    CHECK(c.status == 0 && strstr(c.out, "PASS vllm (1 data set, max abs err ") && last_is(&c, "1 passed, 0 failed"),
          "vllm: status %d:\n%s%s", c.status, c.out, c.err);

    /* A suite's own files caught by a glob (MANIFEST.md) are ignored, not counted. */
    FILE *manifest = fopen(case_path("MANIFEST.md"), "w");
    if (manifest) fputs("# not a test\n", manifest), fclose(manifest);
    c = rope_test(case_path("MANIFEST.md"), case_path("ok"), NULL);
    CHECK(c.status == 0 && strstr(c.err, "MANIFEST.md: a file, not a test directory: ignored") &&
              last_is(&c, "1 passed, 0 failed"),
          "manifest:\n%s%s", c.out, c.err);
    remove(case_path("MANIFEST.md"));

    c = rope_test(case_path("old_opset"), case_path("initializer"), NULL);
    CHECK(c.status == 0 && strstr(c.out, "SKIP old_opset: RotaryEmbedding needs opset 23") &&
              strstr(c.out, "SKIP initializer: input 'cos' is an initializer") &&
              last_is(&c, "0 passed, 0 failed, 2 skipped"),
          "status %d:\n%s%s", c.status, c.out, c.err);
}

static void test_failures(void) {
    captured c = rope_test(case_path("rejected"), NULL);
    CHECK(c.status == 1 && strstr(c.out, "FAIL rejected: rope_onnx_") && strstr(c.out, "cos_cache"),
          "library error:\n%s%s", c.out, c.err);
    c = rope_test(case_path("wrong_dtype"), NULL);
    CHECK(c.status == 1 && strstr(c.out, "FAIL wrong_dtype: output_0: dtype f32, expected f16"), "dtype:\n%s%s",
          c.out, c.err);

    /* Unreadable input: exit 2, counted as failed, and the file named on stderr. */
    c = rope_test(case_path("garbage"), case_path("ok"), NULL);
    CHECK(c.status == 2 && strstr(c.err, "garbage/model.onnx: ") && last_is(&c, "1 passed, 1 failed"),
          "garbage:\n%s%s", c.out, c.err);
    c = rope_test(case_path("no_output"), NULL);
    CHECK(c.status == 2 && strstr(c.err, "no_output/test_data_set_0/output_0.pb: cannot open"), "missing:\n%s%s",
          c.out, c.err);
    c = rope_test(case_path("double"), NULL);
    CHECK(c.status == 2 && strstr(c.err, "input_0.pb: unsupported data_type DOUBLE (11)"), "double:\n%s%s", c.out,
          c.err);
    c = rope_test(case_path("float_attr"), NULL);
    CHECK(c.status == 2 && strstr(c.err, "attribute[0] 'interleaved': type FLOAT (1), expected INT (2)"),
          "float attribute:\n%s%s", c.out, c.err);
    c = rope_test(case_path("no_sets"), NULL);
    CHECK(c.status == 2 && strstr(c.err, "no test_data_set_0"), "no sets:\n%s%s", c.out, c.err);
    c = rope_test(case_path("absent"), NULL);
    CHECK(c.status == 2 && strstr(c.err, "absent: not a directory") && last_is(&c, "0 passed, 1 failed"),
          "absent:\n%s%s", c.out, c.err);
}

static void test_usage(void) {
    captured c = rope_test(NULL);
    CHECK(c.status == 2 && strstr(c.err, "usage: rope test"), "no args: %d", c.status);
    c = rope_test("--help", NULL);
    CHECK(c.status == 0 && strstr(c.out, "usage: rope test"), "--help: %d", c.status);
    c = rope_test("--rtol", NULL);
    CHECK(c.status == 2 && strstr(c.err, "--rtol needs a finite number"), "%s", c.err);
    c = rope_test("--atol", "-1", case_path("ok"), NULL);
    CHECK(c.status == 2, "negative atol accepted");
    c = rope_test("--rtol", "abc", case_path("ok"), NULL);
    CHECK(c.status == 2, "non-numeric rtol accepted");
    c = rope_test("--frobnicate", case_path("ok"), NULL);
    CHECK(c.status == 2 && strstr(c.err, "unknown option '--frobnicate'"), "%s", c.err);
    c = rope_run("--help", NULL);
    CHECK(c.status == 0 && strstr(c.out, "usage: rope run"), "run --help");
    c = rope_run(NULL);
    CHECK(c.status == 2 && strstr(c.err, "no directory given"), "run without DIR");
    c = rope_run(case_path("ok"), case_path("atb"), NULL);
    CHECK(c.status == 2 && strstr(c.err, "one DIR only"), "run with two DIRs");
    c = rope_run(case_path("ok"), "-o", NULL);
    CHECK(c.status == 2 && strstr(c.err, "-o needs a value"), "run -o without value");
}

static void expect_written(const char *path, const char *name, rope_dtype dtype, const void *data, size_t bytes) {
    tensor_proto tp;
    int r = tensor_proto_load(path, &tp, &err);
    CHECK(r == 0, "%s", err.text);
    if (r) return;
    CHECK(!strcmp(tp.name, name) && tp.t.dtype == dtype && !memcmp(tp.t.data, data, bytes), "%s differs", path);
    tensor_proto_free(&tp);
}

static void test_run(void) {
    char out[512], file[600];
    snprintf(out, sizeof out, "%s/out/nested", root);
    captured c = rope_run(case_path("ok"), "-o", out, NULL);
    CHECK(c.status == 0 && strstr(c.out, "output_0.pb (Y f32 [1,2,2,4])"), "run:\n%s%s", c.out, c.err);
    snprintf(file, sizeof file, "%s/output_0.pb", out);
    expect_written(file, "Y", ROPE_F32, Y, sizeof Y);

    snprintf(out, sizeof out, "%s/atb_out", root);
    c = rope_run("-o", out, case_path("atb"), NULL);
    CHECK(c.status == 0, "run atb:\n%s%s", c.out, c.err);
    uint16_t expect[64];
    for (int i = 0; i < 64; i++) expect[i] = (i % 8) % 4 < 2 ? 0x0000 : 0x4000;
    snprintf(file, sizeof file, "%s/output_1.pb", out);
    expect_written(file, "ropeK", ROPE_F16, expect, sizeof expect);

    snprintf(out, sizeof out, "%s/vllm_out", root);
    c = rope_run(case_path("vllm"), "-o", out, NULL);
    CHECK(c.status == 0 && strstr(c.out, "output_0.pb (query_out f32 [3,16])"), "run vllm:\n%s%s", c.out, c.err);
    snprintf(file, sizeof file, "%s/output_1.pb", out);
    CHECK(access(file, F_OK) != 0, "run vllm wrote a key_out without a key");
    c = rope_run(case_path("vllm_rejected"), "-o", out, NULL);
    CHECK(c.status == 1 && strstr(c.err, "rope_vllm_rotary_embedding: positions[0][0] = 5: expected in [0, 5)"),
          "run vllm rejected:\n%s", c.err);

    c = rope_run(case_path("multi"), "-o", out, NULL);
    CHECK(c.status == 2 && strstr(c.err, "cannot run: graph has 2 nodes"), "run multi:\n%s", c.err);
    c = rope_run(case_path("rejected"), "-o", out, NULL);
    CHECK(c.status == 1 && strstr(c.err, "rope_onnx_"), "run rejected:\n%s", c.err);
}

/* Nothing in a directory but "." and "..". */
static int dir_is_empty(const char *path) {
    DIR *d = opendir(path);
    if (!d) return 0;
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    return n == 0;
}

/* The CLI never surprises: no output without -o (never into the current directory), inputs that are
 * not regular files or are past the size limit refused before reading (a FIFO would hang, /dev/zero
 * never ends), overflowing numbers said to overflow, --opt=value everywhere. */
static void test_no_surprises(void) {
    char cwd[4096], here[600], out[600], path[700];
    CHECK(getcwd(cwd, sizeof cwd) != NULL, "getcwd");
    snprintf(here, sizeof here, "%s/cwd", root);
    mkdir(here, 0777);
    CHECK(chdir(here) == 0, "chdir");
    captured c = rope_run(case_path("ok"), NULL);
    CHECK(c.status == 2 && strstr(c.err, "-o OUTDIR is required"), "run without -o: %d %s", c.status, c.err);
    CHECK(dir_is_empty(here), "run without -o wrote into the current directory");
    CHECK(chdir(cwd) == 0, "chdir back");

    snprintf(out, sizeof out, "%s/eq_out", root);
    char opt[700];
    snprintf(opt, sizeof opt, "--output=%s", out);
    c = rope_run(case_path("ok"), opt, NULL);
    CHECK(c.status == 0, "run --output=DIR: %s", c.err);
    snprintf(opt, sizeof opt, "-o=%s", out);
    c = rope_run(case_path("ok"), opt, NULL);
    CHECK(c.status == 0, "run -o=DIR: %s", c.err);

    /* model.onnx a FIFO, then a link to /dev/zero: refused at once, nothing written. */
    make_case_dir("fifo", 1);
    snprintf(path, sizeof path, "%s/model.onnx", case_path("fifo"));
    CHECK(mkfifo(path, 0600) == 0, "mkfifo");
    snprintf(out, sizeof out, "%s/fifo_out", root);
    c = rope_run(case_path("fifo"), "-o", out, NULL);
    CHECK(c.status == 2 && strstr(c.err, "not a regular file") && !is_directory(out), "run on a FIFO: %d %s",
          c.status, c.err);
    c = rope_test(case_path("fifo"), NULL);
    CHECK(c.status == 2 && strstr(c.err, "not a regular file"), "test on a FIFO: %d %s", c.status, c.err);
    make_case_dir("zero", 1);
    snprintf(path, sizeof path, "%s/model.onnx", case_path("zero"));
    CHECK(symlink("/dev/zero", path) == 0, "symlink");
    c = rope_run(case_path("zero"), "-o", out, NULL);
    CHECK(c.status == 2 && strstr(c.err, "not a regular file") && !is_directory(out), "run on /dev/zero: %d %s",
          c.status, c.err);
    /* An input tensor that is a FIFO. */
    write_onnx_case("fifo_input", 1, 0.0f);
    snprintf(path, sizeof path, "%s/test_data_set_0/input_0.pb", case_path("fifo_input"));
    remove(path);
    CHECK(mkfifo(path, 0600) == 0, "mkfifo input");
    c = rope_run(case_path("fifo_input"), "-o", out, NULL);
    CHECK(c.status == 2 && strstr(c.err, "not a regular file") && !is_directory(out), "FIFO input: %d %s", c.status,
          c.err);

    /* The size limit, settable. */
    c = rope_run(case_path("ok"), "-o", out, "--max-input=16", NULL);
    CHECK(c.status == 2 && strstr(c.err, "past the input limit of 16 bytes") && !is_directory(out),
          "--max-input=16: %d %s", c.status, c.err);
    c = rope_test("--max-input", "16", case_path("ok"), NULL);
    CHECK(c.status == 2 && strstr(c.err, "past the input limit"), "test --max-input 16: %d %s", c.status, c.err);
    c = rope_test("--max-input=1M", case_path("ok"), NULL);
    CHECK(c.status == 0, "test --max-input=1M: %d %s %s", c.status, c.out, c.err);
    c = rope_run(case_path("ok"), "-o", out, "--max-input", "99999999999999999999", NULL);
    CHECK(c.status == 2 && strstr(c.err, "overflows"), "--max-input overflow: %s", c.err);
    c = rope_run(case_path("ok"), "-o", out, "--max-input", "17179869184T", NULL);
    CHECK(c.status == 2 && strstr(c.err, "overflows"), "--max-input 2^34 T: %s", c.err);
    c = rope_run(case_path("ok"), "-o", out, "--max-input=lots", NULL);
    CHECK(c.status == 2 && strstr(c.err, "expected"), "--max-input=lots: %s", c.err);
    CHECK(!is_directory(out), "a refused run created its output directory");
    c = rope_test("--rtol=0.5", case_path("ok"), NULL);
    CHECK(c.status == 0, "test --rtol=0.5: %s", c.err);
}

static void write_cases(void) {
    tu_seed(21);
    reference_onnx();
    write_onnx_case("ok", 1, 0.0f);
    write_onnx_case("bad", 1, 0.5f);
    write_onnx_case("two_sets", 2, 0.0f);
    write_atb_case("atb");
    write_vllm_case("vllm", 0);
    write_vllm_case("vllm_rejected", 1);

    make_case_dir("multi", 1);
    write_onnx_model("multi", 2, 23, NULL);
    make_case_dir("old_opset", 1);
    write_onnx_model("old_opset", 1, 22, NULL);
    make_case_dir("initializer", 1);
    write_onnx_model("initializer", 1, 23, "cos");
    make_case_dir("no_sets", 0);
    write_onnx_model("no_sets", 1, 23, NULL);

    /* cos/sin one column too narrow: the library rejects the call. */
    const int64_t xd[4] = {B, N, S, H}, narrow[2] = {MAXPOS * 2, 1}, pd[2] = {B, S};
    write_onnx_case("rejected", 1, 0.0f);
    write_tensor("rejected", 0, "input_1.pb", "cos", 1, narrow, 2, COS, sizeof COS);
    write_tensor("rejected", 0, "input_2.pb", "sin", 1, narrow, 2, SIN, sizeof SIN);
    write_onnx_case("wrong_dtype", 1, 0.0f);
    write_tensor("wrong_dtype", 0, "output_0.pb", "Y", 10, xd, 4, Y, sizeof Y / 2);
    write_onnx_case("double", 1, 0.0f);
    write_tensor("double", 0, "input_0.pb", "X", 11, pd, 2, IDS, sizeof IDS);
    write_onnx_case("no_output", 1, 0.0f);
    char path[600];
    snprintf(path, sizeof path, "%s/test_data_set_0/output_0.pb", case_path("no_output"));
    remove(path);

    make_case_dir("garbage", 1);
    msg junk = {0};
    msg_raw(&junk, "\x0a\xff\xff\x03garbage", 11);
    write_file(case_path("garbage"), "model.onnx", &junk);

    write_onnx_case("float_attr", 1, 0.0f);
    const char *in[3] = {"X", "cos", "sin"}, *out[1] = {"Y"};
    msg node = node_proto("RotaryEmbedding", "ai.onnx", in, 3, out, 1), a = {0}, g = {0};
    msg_str(&a, 1, "interleaved");
    msg_float(&a, 2, 1.0f);
    msg_int(&a, 20, 1);
    msg_sub(&node, 5, &a);
    msg_sub(&g, 1, &node);
    msg m = model_proto(&g, "", 23);
    write_file(case_path("float_attr"), "model.onnx", &m);
}

int main(void) {
    snprintf(root, sizeof root, "/tmp/rope_cmd_XXXXXX");
    if (!mkdtemp(root)) {
        perror("mkdtemp");
        return 1;
    }
    write_cases();
    test_pass_fail_skip();
    test_failures();
    test_usage();
    test_run();
    test_no_surprises();
    remove_tree(root);
    return tu_finish();
}
