/* SPDX-License-Identifier: MIT */
/* `rope bench` end to end, as a user runs it: the CSV header, the shape of every row (not the
 * timings; the floor loop's columns filled exactly on the rows it covers), the single-case options (with --fly and --backward), the table form and usage errors. The `rope` binary is found
 * beside the tests directory of the build (exit 77, skipped, when it is not there). */
#define _POSIX_C_SOURCE 200809L /* strtok_r */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "rope_cli.h"

static const char header[] =
    "op,dtype,layout,tokens,heads_q,heads_k,head_size,rot,threads,pool,median_us,gbps,copy_gbps,ratio,loop,loop_us,"
    "ratio_loop";

/* A number as printed: digits with at most one '.', and > 0 when `positive`. */
static int is_number(const char *s, int positive) {
    char *end;
    double v = strtod(s, &end);
    return *s && !*end && strspn(s, "0123456789.") == strlen(s) && (!positive || v > 0);
}

/* Splits a CSV row in place; returns the number of fields. */
static int split(char *line, char **f, int max) {
    int n = 0;
    for (char *p = line; n < max; p++) {
        f[n++] = p;
        p = strchr(p, ',');
        if (!p) break;
        *p = '\0';
    }
    return n;
}

/* The floor loop's columns: a loop's name and two positive numbers, or "-" three times. */
static int loop_columns_ok(char *const f[3], int want_loop) {
    if (!want_loop) return !strcmp(f[0], "-") && !strcmp(f[1], "-") && !strcmp(f[2], "-");
    int named = !strcmp(f[0], "c") || !strcmp(f[0], "avx2") || !strcmp(f[0], "avx512") || !strcmp(f[0], "avx512bf16");
    return named && is_number(f[1], 1) && is_number(f[2], 0);
}

/* Checks the CSV output: the header, then `rows` rows whose fixed columns are `fixed` (the first
 * nine, "*" for any integer), whose pool column is "own", whose next four are positive numbers, and
 * whose last three name the floor loop and its time and ratio (want_loop), or are "-". */
static void check_csv_loop(const char *what, char *out, int rows, const char *const fixed[9], int want_loop) {
    char *save = NULL, *line = strtok_r(out, "\n", &save);
    CHECK(line && !strcmp(line, header), "%s: header line '%s'", what, line ? line : "(none)");
    int n = 0;
    for (line = strtok_r(NULL, "\n", &save); line; line = strtok_r(NULL, "\n", &save), n++) {
        char copy[512], *f[20];
        snprintf(copy, sizeof copy, "%s", line);
        int k = split(copy, f, 20);
        CHECK(k == 17, "%s: row %d has %d fields: %s", what, n, k, line);
        if (k != 17) continue;
        CHECK(!strcmp(f[9], "own"), "%s: row %d pool '%s'", what, n, f[9]);
        for (int i = 0; i < 9; i++) {
            int ok = !strcmp(fixed[i], "*") ? strspn(f[i], "0123456789") == strlen(f[i]) && *f[i]
                                            : !strcmp(fixed[i], f[i]);
            CHECK(ok, "%s: row %d column %d: '%s', expected '%s'", what, n, i, f[i], fixed[i]);
        }
        /* median_us is positive; the rates and the ratio print with two or three decimals, so a tiny
         * case timed once on a loaded machine may show 0.00 (seen under parallel ctest) */
        for (int i = 10; i < 14; i++) CHECK(is_number(f[i], i == 10), "%s: row %d column %d: '%s'", what, n, i, f[i]);
        CHECK(loop_columns_ok(&f[14], want_loop), "%s: row %d loop columns '%s' '%s' '%s' (a loop expected: %d)", what,
              n, f[14], f[15], f[16], want_loop);
    }
    CHECK(n == rows, "%s: %d rows, expected %d", what, n, rows);
}

/* Rows of the rotations the floor loop covers: ONNX, ATB coefficient 2 and vLLM tables, forward (not on
 * the fly, from positions or multi-axis coordinates). */
static void check_csv(const char *what, char *out, int rows, const char *const fixed[9]) {
    int loop = (!strcmp(fixed[0], "onnx") || !strcmp(fixed[0], "vllm") || !strcmp(fixed[2], "coeff2")) &&
               !strstr(fixed[2], "fly") && !strstr(fixed[2], "axes") && !strstr(fixed[2], "bwd") &&
               !strstr(fixed[2], "mrope");
    check_csv_loop(what, out, rows, fixed, loop);
}

/* The CSV output (shared by the sections; large enough for every run). */
static char out[1 << 16];

/* `--quick --op onnx --tokens 4`: the header, then two rows with the expected fixed columns. */
static void quick_onnx_sweep(void) {
    CHECK(rope_cli_bench("--quick --csv --op onnx --tokens 4", out, sizeof out) == 0, "onnx 4 tokens: exit status");
    static const char *const onnx_cols[9] = {"onnx", "f32", "halves", "4", "32", "0", "128", "128", "*"};
    check_csv("--op onnx --tokens 4", out, 2, onnx_cols);
}

/* One case chosen by every option: ATB with f32 cos and coeff 4, and ONNX interleaved bf16. */
static void single_cases(void) {
    CHECK(rope_cli_bench("--csv --op atb --dtype f16-f32cos --layout coeff4 --tokens 3 --heads 8 --heads-k 2 --head-size 64 "
              "--threads 3 --reps 2",
              out, sizeof out) == 0,
          "atb case: exit status");
    static const char *const atb_cols[9] = {"atb", "f16-f32cos", "coeff4", "3", "8", "2", "64", "64", "3"};
    check_csv("atb single case", out, 1, atb_cols);

    CHECK(rope_cli_bench("--csv --layout interleaved --dtype bf16 --tokens 2 --heads 4 --head-size 16 --threads 1 --reps 1", out,
              sizeof out) == 0,
          "onnx interleaved: exit status");
    static const char *const il_cols[9] = {"onnx", "bf16", "interleaved", "2", "4", "0", "16", "16", "1"};
    check_csv("onnx interleaved", out, 1, il_cols);
}

/* On-the-fly and backward rows: the mode is marked in the layout column. */
static void fly_and_backward_rows(void) {
    CHECK(rope_cli_bench("--csv --op onnx --tokens 5 --heads 2 --head-size 32 --threads 1 --reps 1 --fly", out, sizeof out) == 0,
          "onnx fly: exit status");
    static const char *const fly_cols[9] = {"onnx", "f32", "halves+fly", "5", "2", "0", "32", "32", "1"};
    check_csv("onnx --fly", out, 1, fly_cols);
    CHECK(rope_cli_bench("--csv --op atb --dtype bf16 --tokens 40 --heads 4 --head-size 64 --threads 2 --reps 1 --backward", out,
              sizeof out) == 0,
          "atb backward: exit status");
    static const char *const bwd_cols[9] = {"atb", "bf16", "coeff2+bwd", "40", "4", "1", "64", "64", "2"};
    check_csv("atb --backward", out, 1, bwd_cols);
    CHECK(rope_cli_bench("--csv --op atb --dtype f16-f32cos --layout coeff4 --tokens 33 --heads 2 --head-size 16 --threads 1 "
              "--reps 1 --fly --backward",
              out, sizeof out) == 0,
          "atb fly backward: exit status");
    static const char *const fb_cols[9] = {"atb", "f16-f32cos", "coeff4+fly+bwd", "33", "2", "1", "16", "16", "1"};
    check_csv("atb --fly --backward", out, 1, fb_cols);
}

/* Multi-axis rows (--axes, --grid): the grid's size is the token count, +axes marks the layout column;
 * and the errors of the options. */
static void axes_rows(void) {
    CHECK(rope_cli_bench("--csv --op onnx --axes 4,6,6 --grid 2x3x5 --heads 2 --head-size 16 --threads 1 --reps 1", out,
              sizeof out) == 0,
          "onnx axes: exit status");
    static const char *const oa_cols[9] = {"onnx", "f32", "halves+axes", "30", "2", "0", "16", "16", "1"};
    check_csv("onnx --axes", out, 1, oa_cols);
    CHECK(rope_cli_bench("--csv --op atb --dtype f16-f32cos --layout coeffD --axes 8,8 --grid 7x9 --heads 2 --head-size 16 "
              "--threads 2 --reps 1 --backward --theta 256",
              out, sizeof out) == 0,
          "atb axes backward: exit status");
    static const char *const aa_cols[9] = {"atb", "f16-f32cos", "coeffD+axes+bwd", "63", "2", "1", "16", "16", "2"};
    check_csv("atb --axes --backward", out, 1, aa_cols);
    CHECK(rope_cli_bench("--csv --op vllm --dtype bf16 --layout interleaved --axes 16,56,56 --grid 1x4x10 --heads 2 --heads-k 1 "
              "--threads 2 --reps 1",
              out, sizeof out) == 0,
          "vllm axes: exit status");
    static const char *const va_cols[9] = {"vllm", "bf16", "interleaved+axes", "40", "2", "1", "128", "128", "2"};
    check_csv("vllm --axes", out, 1, va_cols);
    CHECK(rope_cli_bench("--op onnx --axes 16,56,56 --head-size 128", out, sizeof out) == 2, "--axes without --grid accepted");
    CHECK(rope_cli_bench("--op onnx --axes 16,56,56 --grid 4x4 --head-size 128", out, sizeof out) == 2, "2 extents for 3 axes");
    CHECK(rope_cli_bench("--op onnx --axes 16,56,50 --grid 1x4x4 --head-size 128", out, sizeof out) == 2, "widths not 128");
    CHECK(rope_cli_bench("--op vllm --axes 8,8 --grid 2x2 --head-size 16 --mrope contiguous", out, sizeof out) == 2,
          "--axes with --mrope accepted");
    CHECK(rope_cli_bench("--op onnx --axes 8,,8 --grid 2x2 --head-size 16", out, sizeof out) == 2, "empty width accepted");
    CHECK(rope_cli_bench("--op onnx --axes 8,8 --grid 2x0 --head-size 16", out, sizeof out) == 2, "0 extent accepted");
    CHECK(rope_cli_bench("--op onnx --axes 8,8 --grid 2x2 --head-size 16 --theta 1", out, sizeof out) == 2, "theta 1 accepted");
}

/* vLLM rows: batched decode at scattered positions, GPT-J (is_neox=False: the interleaved layout)
 * backward on the fly, and their usage errors. */
static void vllm_rows(void) {
    CHECK(rope_cli_bench("--csv --op vllm --dtype bf16-f32cos --tokens 6 --heads 4 --heads-k 2 --head-size 32 --threads 1 "
              "--reps 1 --scatter",
              out, sizeof out) == 0,
          "vllm scatter: exit status");
    static const char *const vs_cols[9] = {"vllm", "bf16-f32cos", "halves+scatter", "6", "4", "2", "32", "32", "1"};
    check_csv("vllm --scatter", out, 1, vs_cols);
    CHECK(rope_cli_bench("--csv --op vllm --dtype f32 --layout interleaved --tokens 9 --heads 2 --head-size 16 --threads 2 --reps 1 "
              "--fly --backward",
              out, sizeof out) == 0,
          "vllm fly backward: exit status");
    static const char *const vf_cols[9] = {"vllm", "f32", "interleaved+fly+bwd", "9", "2", "1", "16", "16", "2"};
    check_csv("vllm --fly --backward", out, 1, vf_cols);
    CHECK(rope_cli_bench("--csv --op vllm --dtype f16 --tokens 5 --heads 2 --head-size 32 --threads 1 --reps 1 --scatter "
              "--mrope interleaved",
              out, sizeof out) == 0,
          "vllm mrope: exit status");
    static const char *const vm_cols[9] = {"vllm", "f16", "halves+scatter+mrope-i", "5", "2", "1", "32", "32", "1"};
    check_csv("vllm --mrope", out, 1, vm_cols);
    CHECK(rope_cli_bench("--csv --op qknorm --dtype bf16 --tokens 7 --heads 4 --heads-k 2 --head-size 64 --threads 1 --reps 1 "
              "--scatter",
              out, sizeof out) == 0,
          "qknorm: exit status");
    static const char *const qn_cols[9] = {"qknorm", "bf16", "halves+scatter", "7", "4", "2", "64", "64", "1"};
    check_csv("qknorm", out, 1, qn_cols);
    CHECK(rope_cli_bench("--csv --op kvcache --dtype f16-f32cos --tokens 9 --heads 4 --heads-k 2 --head-size 32 --threads 2 "
              "--reps 1 --scatter --kv-dtype fp8_e5m2 --norm",
              out, sizeof out) == 0,
          "kvcache: exit status");
    static const char *const kv_cols[9] = {"kvcache", "f16-f32cos", "halves+scatter+fp8_e5m2+norm", "9", "4", "2",
                                           "32", "32", "2"};
    check_csv("kvcache", out, 1, kv_cols);
    CHECK(rope_cli_bench("--csv --op kvcache --dtype bf16 --tokens 5 --heads 2 --heads-k 1 --head-size 16 --threads 1 --reps 1 "
              "--kv-dtype fp8_e4m3 --separate",
              out, sizeof out) == 0,
          "kvcache --separate: exit status");
    static const char *const ks_cols[9] = {"kvcache", "bf16", "halves+fp8_e4m3+separate", "5", "2", "1", "16", "16",
                                           "1"};
    check_csv("kvcache --separate", out, 1, ks_cols);
    CHECK(rope_cli_bench("--op kvcache --separate --norm", out, sizeof out) == 2, "--separate with --norm accepted");
    CHECK(rope_cli_bench("--op vllm --kv-dtype fp8", out, sizeof out) == 2, "--kv-dtype accepted for vllm");
    CHECK(rope_cli_bench("--op qknorm --fly", out, sizeof out) == 2, "--fly accepted for qknorm");
    CHECK(rope_cli_bench("--op kvcache --kv-dtype fp4", out, sizeof out) == 2, "--kv-dtype fp4 accepted");
    CHECK(rope_cli_bench("--op vllm --mrope sideways", out, sizeof out) == 2, "--mrope sideways accepted");
    CHECK(rope_cli_bench("--op onnx --mrope contiguous", out, sizeof out) == 2, "--mrope accepted for onnx");
    CHECK(rope_cli_bench("--op vllm --layout coeff2", out, sizeof out) == 2, "coeff2 accepted for vllm");
    CHECK(rope_cli_bench("--op vllm --layout neox", out, sizeof out) == 2, "vLLM's own word neox accepted (one vocabulary)");
    CHECK(rope_cli_bench("--op vllm --layout vllm", out, sizeof out) == 2, "the cache word vllm accepted as a pairing");
    CHECK(rope_cli_bench("--op atb --scatter", out, sizeof out) == 2, "--scatter accepted for atb");
}

/* The table: a title line, then the same column names, space-aligned, then one row. */
static void table_form(void) {
    CHECK(rope_cli_bench("--op atb --layout coeffD --tokens 1 --heads 2 --head-size 8 --threads 1 --reps 1", out, sizeof out) == 0,
          "table: exit status");
    CHECK(strstr(out, "op   dtype") && strstr(out, "copy_gbps") && strstr(out, "coeffD") && !strchr(out, ','),
          "table output:\n%s", out);
    CHECK(strstr(out, "loop_us") && strstr(out, "ratio_loop"), "table output without the loop's columns:\n%s", out);
}

/* Usage errors exit 2; --help exits 0 with the usage text. */
static void usage_errors_and_help(void) {
    CHECK(rope_cli_bench("--op nope", out, sizeof out) == 2, "unknown op accepted");
    CHECK(rope_cli_bench("--op onnx --dtype f16-f32cos", out, sizeof out) == 2, "f16-f32cos accepted for onnx");
    CHECK(rope_cli_bench("--tokens 0", out, sizeof out) == 2, "0 tokens accepted");
    CHECK(rope_cli_bench("--frobnicate", out, sizeof out) == 2, "unknown option accepted");
    CHECK(rope_cli_bench("--help", out, sizeof out) == 0 && strstr(out, "usage: rope bench"), "--help");
}

int main(int argc, char **argv) {
    (void)argc;
    if (!rope_cli_find(argv[0])) {
        printf("skipped: %s is not built\n", rope_cli_path());
        return 77;
    }
    quick_onnx_sweep();
    single_cases();
    fly_and_backward_rows();
    axes_rows();
    vllm_rows();
    table_form();
    usage_errors_and_help();
    return tu_finish();
}
