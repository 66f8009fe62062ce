/* SPDX-License-Identifier: MIT */
/* `rope run DIR -o OUTDIR`: runs a conformance directory's node on test_data_set_0 and writes its
 * outputs as TensorProto files, e.g. to produce expected outputs or to inspect a failure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_args.h"
#include "commands.h"
#include "file_io.h"
#include "node_case.h"
#include "tensor_util.h"

static void print_run_usage(FILE *f) {
    fprintf(f,
            "usage: rope run DIR -o OUTDIR [--max-input BYTES]\n\n"
            "Runs the single ONNX RotaryEmbedding, atb Rope, vllm RotaryEmbedding / FusedQKNormRope /\n"
            "RotaryEmbeddingAndCache or com.microsoft RotaryEmbedding / MRotaryEmbedding node of\n"
            "DIR/model.onnx on the inputs in\n"
            "DIR/test_data_set_0/input_K.pb and writes output_K.pb (TensorProto, raw_data, named after the\n"
            "graph outputs) into OUTDIR, which is required (created if missing): nothing is written anywhere\n"
            "else. Inputs that are not regular files, or larger than --max-input (default 4G; suffixes K, M,\n"
            "G, T), are refused before being read. Options take --opt VALUE or --opt=VALUE.\n\n"
            "Exit status: 0 written, 1 the library rejected the inputs, 2 bad usage, unreadable input or\n"
            "an unsupported model.\n");
}

static int write_outputs(const node_case *c, const rope_tensor out[CASE_MAX_OUTPUTS], const char *out_dir) {
    const rope_tensor *ts[CASE_MAX_OUTPUTS];
    const char *leaves[CASE_MAX_OUTPUTS], *names[CASE_MAX_OUTPUTS];
    static const char *const output_leaves[CASE_MAX_OUTPUTS] = {"output_0.pb", "output_1.pb", "output_2.pb",
                                                                         "output_3.pb"};
    for (int k = 0; k < c->n_outputs; k++) ts[k] = &out[k], leaves[k] = output_leaves[k], names[k] = c->output_names[k];
    return tensor_files_save("run", out_dir, c->n_outputs, ts, leaves, names);
}

static int run_case_dir(const char *dir, const char *out_dir) {
    node_case *c = malloc(sizeof *c);
    diag why;
    char set_dir[CASE_PATH_MAX];
    tensor_proto in[CASE_MAX_SLOTS];
    rope_tensor out[CASE_MAX_OUTPUTS];
    int status = 2;
    if (!c) {
        fprintf(stderr, "rope run: out of memory\n");
        return 2;
    }
    case_status st = case_load(dir, c, &why);
    if (st != CASE_READY) {
        fprintf(stderr, "rope run: %s%s\n", st == CASE_SKIP ? "cannot run: " : "", why.text);
    } else if (path_join(set_dir, sizeof set_dir, dir, "test_data_set_0") || !is_directory(set_dir)) {
        fprintf(stderr, "rope run: %s: no test_data_set_0 directory\n", dir);
    } else if (case_read_inputs(c, set_dir, in, &why)) {
        fprintf(stderr, "rope run: %s\n", why.text);
    } else {
        if (case_run(c, in, out, &why)) {
            fprintf(stderr, "rope run: %s: %s\n", c->name, why.text);
            status = 1;
        } else {
            status = write_outputs(c, out, out_dir);
            for (int k = 0; k < c->n_outputs; k++) free(out[k].data);
        }
        case_free_inputs(in);
    }
    free(c);
    return status;
}

int rope_cmd_run(int argc, char **argv) {
    const char *dir = NULL, *out_dir = NULL, *v = NULL;
    int options_done = 0;
    diag err;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int m = 0;
        if (!options_done && (!strcmp(a, "-h") || !strcmp(a, "--help"))) {
            print_run_usage(stdout);
            return 0;
        }
        if (!options_done && !strcmp(a, "--")) {
            options_done = 1;
        } else if (!options_done && ((m = cli_value(argc, argv, &i, "-o", &v, &err)) != 0 ||
                                     (m = cli_value(argc, argv, &i, "--output", &v, &err)) != 0)) {
            if (m < 0) return fprintf(stderr, "rope run: %s\n", err.text), 2;
            out_dir = v;
        } else if (!options_done && (m = cli_value(argc, argv, &i, "--max-input", &v, &err)) != 0) {
            if (m < 0 || cli_bytes("--max-input", v, &file_max_bytes, &err))
                return fprintf(stderr, "rope run: %s\n", err.text), 2;
        } else if (!options_done && a[0] == '-') {
            fprintf(stderr, "rope run: unknown option '%s'\n", a);
            print_run_usage(stderr);
            return 2;
        } else if (dir) {
            fprintf(stderr, "rope run: one DIR only (got '%s' and '%s')\n", dir, a);
            return 2;
        } else {
            dir = a;
        }
    }
    if (!dir || !out_dir) {
        fprintf(stderr, "rope run: %s\n", !dir ? "no directory given" : "-o OUTDIR is required (rope run writes only there)");
        print_run_usage(stderr);
        return 2;
    }
    return run_case_dir(dir, out_dir);
}
