/* SPDX-License-Identifier: MIT */
/* `rope`: the command-line front of librope. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "rope.h"

static const rope_command commands[] = {
    {"test", "run conformance directories (model.onnx + test_data_set_N) and compare outputs", rope_cmd_test},
    {"run", "run a conformance directory's node on test_data_set_0 and write output_K.pb", rope_cmd_run},
    {"bench", "measure throughput against a memory copy of the same bytes (--help for cases)", rope_cmd_bench},
    {"cache", "write the cos/sin cache of a RoPE configuration (HF rope_scaling) as cos.pb, sin.pb", rope_cmd_cache},
};

static void usage(FILE *f) {
    fprintf(f, "rope %s: rotary position embedding on CPUs\n\nusage: rope COMMAND [ARGS]\n\n", rope_version_string());
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n`rope COMMAND --help` describes a command's arguments.\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("rope %s\n", rope_version_string());
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "rope: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
