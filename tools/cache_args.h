/* SPDX-License-Identifier: MIT */
/* `rope cache`'s command line: parsed into a rope_freq_config and the table's shape (or, with --axes,
 * a rope_axes_config and a grid of tokens) without printing or exiting (tests/fuzz/fuzz_cli_args.c
 * calls it on arbitrary arguments). */
#ifndef ROPE_TOOL_CACHE_ARGS_H
#define ROPE_TOOL_CACHE_ARGS_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "rope.h"

typedef struct cache_args {
    rope_freq_config cfg;
    int64_t start, end, seq_len;
    int have_dim, have_positions, have_seq_len;
    int usage; /* on failure: the usage text belongs after the message */
    rope_dtype dtype;
    rope_cache_layout layout;
    int32_t coeff; /* the ATB rotaryCoeff of the coeff2|coeff4|coeffD layouts; 0 otherwise */
    const char *out_dir;
    double *list[2]; /* short_factor, long_factor */
    size_t list_len[2];
    unsigned keys; /* bit k: key k given */
    /* The multi-axis form (--axes): the configuration, and the grid whose tokens it tabulates (row
     * major, the last axis fastest; token coordinates grid_start[a] + index). */
    int have_axes, have_grid, n_theta, n_grid_start;
    rope_axes_config axes;
    int64_t grid[ROPE_MAX_AXES], grid_start[ROPE_MAX_AXES];
    int64_t tokens; /* the product of the grid */
} cache_args;

/* Parses argv[1..argc) into *a (reset first). Returns 0 when complete, 1 for --help, -1 with the
 * message in *err (without the "rope cache: " prefix). argv strings are read, never modified.
 * A complete line has --dim, --positions and -o, or --axes, --grid (one extent per axis, at most
 * 2^31 tokens) and -o; options of the other form are refused.
 * A --scaling key the method does not use is refused (not ignored). Free with cache_args_free
 * whatever the result. */
int cache_args_parse(cache_args *a, int argc, char **argv, diag *err);
void cache_args_free(cache_args *a);

#endif
