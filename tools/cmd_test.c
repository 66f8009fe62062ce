/* SPDX-License-Identifier: MIT */
/* `rope test DIR...`: runs conformance directories and compares with their expected outputs. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_args.h"
#include "commands.h"
#include "file_io.h"
#include "node_case.h"
#include "tensor_compare.h"
#include "tensor_util.h"

static void print_test_usage(FILE *f) {
    fprintf(f,
            "usage: rope test [--rtol X] [--atol X] [--max-input BYTES] DIR...\n\n"
            "Runs each conformance directory (model.onnx + test_data_set_N/ with input_K.pb and output_K.pb, as\n"
            "in ONNX backend node tests) whose graph is one ONNX RotaryEmbedding, atb Rope, vllm\n"
            "RotaryEmbedding / FusedQKNormRope / RotaryEmbeddingAndCache or com.microsoft RotaryEmbedding /\n"
            "MRotaryEmbedding node, and compares every output with |got - expected| <= atol +\n"
            "rtol*|expected| (fp8 caches: one step of the format, rtol 1/8 e4m3, 1/4 e5m2).\n\n"
            "  --rtol X   relative tolerance for every dtype (default f32 1e-5, f16 1e-3, bf16 8e-3)\n"
            "  --atol X   absolute tolerance for every dtype (default f32 1e-6, f16 1e-3, bf16 8e-3)\n"
            "  --max-input BYTES  largest input file read (default 4G; suffixes K, M, G, T); files past it,\n"
            "             and files that are not regular files, are refused before being read\n\n"
            "Prints PASS, FAIL or SKIP per directory, then \"N passed, N failed[, N skipped]\". Plain files\n"
            "among the arguments (a suite's MANIFEST.md caught by a glob) are ignored.\n"
            "Exit status: 0 all passed or skipped, 1 a test failed, 2 bad usage or unreadable input.\n");
}

typedef struct options {
    int has_rtol, has_atol;
    double rtol, atol;
} options;

typedef struct tally {
    int passed, failed, skipped, unreadable;
} tally;

/* Parses "--rtol X" / "--atol X" (text is X, NULL when missing) into the options. */
static int set_tolerance(options *o, const char *opt, const char *text) {
    char *end;
    double v = text ? strtod(text, &end) : 0.0;
    if (!text || !text[0] || *end || !isfinite(v) || v < 0) {
        fprintf(stderr, "rope test: %s needs a finite number >= 0, got '%s'\n", opt, text ? text : "");
        return -1;
    }
    if (!strcmp(opt, "--rtol")) {
        o->rtol = v;
        o->has_rtol = 1;
    } else {
        o->atol = v;
        o->has_atol = 1;
    }
    return 0;
}

static tolerance tolerance_of(const options *o, rope_dtype dtype) {
    tolerance t = tolerance_for(dtype);
    if (o->has_rtol) t.rtol = o->rtol;
    if (o->has_atol) t.atol = o->atol;
    return t;
}

/* What running one data set found: 0 matched, 1 a test failure (in `why`), 2 unreadable (in `why`). */
static int run_data_set(const node_case *c, const options *o, const char *set_dir, const char *label,
                        double *max_err, diag *why) {
    tensor_proto in[CASE_MAX_SLOTS];
    rope_tensor out[CASE_MAX_OUTPUTS];
    if (case_read_inputs(c, set_dir, in, why)) return 2;
    int result = 0;
    if (case_run(c, in, out, why)) {
        diag tmp = *why;
        diag_set(why, "%s%s", label, tmp.text);
        case_free_inputs(in);
        return 1;
    }
    for (int k = 0; k < c->n_outputs && result == 0; k++) {
        char path[CASE_PATH_MAX], leaf[32], at[128];
        tensor_proto exp;
        snprintf(leaf, sizeof leaf, "output_%d.pb", k);
        if (path_join(path, sizeof path, set_dir, leaf)) {
            diag_set(why, "%s: path too long", set_dir);
            result = 2;
        } else if (tensor_proto_load(path, &exp, why)) {
            result = 2;
        } else {
            compare_result r;
            tensor_compare(&out[k], &exp.t, tolerance_of(o, exp.t.dtype), &r);
            if (r.max_abs_err > *max_err) *max_err = r.max_abs_err;
            if (r.mismatch[0]) {
                diag_set(why, "%soutput_%d: %s", label, k, r.mismatch);
                result = 1;
            } else if (!r.ok) {
                diag_set(why,
                         "%soutput_%d element %s: got %.9g expected %.9g (|diff| %.3g > %.3g; %zu of %lld elements "
                         "differ)",
                         label, k, tensor_index_str(&exp.t, r.first_bad, at, sizeof at), r.got, r.expected,
                         fabs(r.got - r.expected), r.limit, r.n_bad, (long long)rope_tensor_numel(&exp.t));
                result = 1;
            }
            tensor_proto_free(&exp);
        }
    }
    for (int k = 0; k < c->n_outputs; k++) free(out[k].data);
    case_free_inputs(in);
    return result;
}

static void run_dir(const char *dir, const options *o, tally *t) {
    /* A glob over a suite (`rope test suite/<star>`) also names the suite's own files (a MANIFEST.md,
     * a README): they are not tests, so they are neither run nor counted. A path that does not exist
     * is still an error. */
    if (is_regular_file(dir)) {
        fprintf(stderr, "rope test: %s: a file, not a test directory: ignored\n", dir);
        return;
    }
    node_case *c = malloc(sizeof *c); /* large (paths): keep it off the stack */
    diag why;
    if (!c) {
        fprintf(stderr, "rope test: %s: out of memory\n", dir);
        t->failed++;
        t->unreadable = 1;
        return;
    }
    case_status st = case_load(dir, c, &why);
    if (st == CASE_SKIP) {
        printf("SKIP %s: %s\n", c->name, why.text);
        t->skipped++;
    } else if (st == CASE_ERROR) {
        fprintf(stderr, "rope test: %s\n", why.text);
        t->failed++;
        t->unreadable = 1;
    } else {
        int sets = case_count_data_sets(c), result = 0;
        double max_err = 0.0;
        if (sets == 0) {
            diag_set(&why, "%s: no test_data_set_0 directory", dir);
            result = 2;
        }
        for (int n = 0; n < sets && result == 0; n++) {
            char set_dir[CASE_PATH_MAX], leaf[64], label[80] = "";
            snprintf(leaf, sizeof leaf, "test_data_set_%d", n);
            if (sets > 1) snprintf(label, sizeof label, "%s/", leaf);
            path_join(set_dir, sizeof set_dir, dir, leaf); /* fits: counting the sets built the same path */
            result = run_data_set(c, o, set_dir, label, &max_err, &why);
        }
        if (result == 0) {
            printf("PASS %s (%d data set%s, max abs err %.3g)\n", c->name, sets, sets == 1 ? "" : "s", max_err);
            t->passed++;
        } else if (result == 1) {
            printf("FAIL %s: %s\n", c->name, why.text);
            t->failed++;
        } else {
            fprintf(stderr, "rope test: %s\n", why.text);
            t->failed++;
        t->unreadable = 1;
        }
    }
    fflush(stdout);
    free(c);
}

int rope_cmd_test(int argc, char **argv) {
    options o = {0, 0, 0.0, 0.0};
    tally t = {0, 0, 0, 0};
    int options_done = 0;
    /* Options may come before or after the directories; "--" ends them. */
    char **dirs = calloc((size_t)argc + 1, sizeof *dirs);
    int n_dirs = 0;
    if (!dirs) return 2;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (options_done || a[0] != '-') {
            dirs[n_dirs++] = argv[i];
        } else if (!strcmp(a, "--")) {
            options_done = 1;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            print_test_usage(stdout);
            free(dirs);
            return 0;
        } else if (!strcmp(a, "--rtol") || !strcmp(a, "--atol")) {
            if (set_tolerance(&o, a, i + 1 < argc ? argv[i + 1] : NULL)) {
                free(dirs);
                return 2;
            }
            i++;
        } else if (!strncmp(a, "--rtol=", 7) || !strncmp(a, "--atol=", 7)) {
            char opt[7];
            memcpy(opt, a, 6);
            opt[6] = '\0';
            if (set_tolerance(&o, opt, a + 7)) {
                free(dirs);
                return 2;
            }
        } else if (!strncmp(a, "--max-input", 11) && (a[11] == '=' || a[11] == '\0')) {
            const char *v = NULL;
            diag err;
            if (cli_value(argc, argv, &i, "--max-input", &v, &err) < 0 ||
                cli_bytes("--max-input", v, &file_max_bytes, &err)) {
                fprintf(stderr, "rope test: %s\n", err.text);
                free(dirs);
                return 2;
            }
        } else {
            fprintf(stderr, "rope test: unknown option '%s'\n", a);
            print_test_usage(stderr);
            free(dirs);
            return 2;
        }
    }
    if (n_dirs == 0) {
        fprintf(stderr, "rope test: no directory given\n");
        print_test_usage(stderr);
        free(dirs);
        return 2;
    }
    for (int i = 0; i < n_dirs; i++) run_dir(dirs[i], &o, &t);
    free(dirs);
    printf("%d passed, %d failed", t.passed, t.failed);
    if (t.skipped) printf(", %d skipped", t.skipped);
    printf("\n");
    fflush(stdout);
    return t.unreadable ? 2 : t.failed ? 1 : 0;
}
