/* SPDX-License-Identifier: MIT */
/* `rope bench`'s command line, parsed without printing or exiting (tests/fuzz/fuzz_cli_args.c calls
 * it on arbitrary arguments). */
#ifndef ROPE_TOOL_BENCH_ARGS_H
#define ROPE_TOOL_BENCH_ARGS_H

#include "bench_run.h"
#include "diag.h"

/* Who runs the threads (--pool, bit set): the library's own pool, a host's parallel-for, or split
 * contexts called by every host worker. */
enum { BENCH_POOL_OWN = 1, BENCH_POOL_HOST = 2, BENCH_POOL_SPLIT = 4 };

typedef struct bench_opts {
    int csv, quick, single, reps, threads, pools;
    bench_case c;
    const char *dtype, *layout, *plot;
    const char *kernel; /* --kernel NAME or list: one kernel timed directly (bench_kernel.h) */
    long heads_k;
    int axes, grid, n_grid; /* --axes / --grid given; the grid's extents */
    double theta;           /* --theta: every axis's base (10000) */
    int usage;              /* on failure: the usage text belongs after the message */
} bench_opts;

/* Parses argv[1..argc) into *o (reset first). Returns 0 when complete, 1 for --help, -1 with the
 * message in *err (without the "rope bench: " prefix). Options take --opt VALUE or --opt=VALUE;
 * --layout takes the words of cli_args.h (vLLM's is_neox True/False are halves/interleaved). With
 * --kernel, the options that pick an operator's case are refused (the kernel's name fixes them);
 * --dtype and --kv-dtype are kept for bench_kernel_run to check. */
int bench_args_parse(bench_opts *o, int argc, char **argv, diag *err);

#endif
