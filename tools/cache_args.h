/* `rope cache`'s command line: parsed into a rope_freq_config and the table's shape without
 * printing or exiting (tests/fuzz/fuzz_cli_args.c calls it on arbitrary arguments). */
#ifndef ROPE_TOOL_CACHE_ARGS_H
#define ROPE_TOOL_CACHE_ARGS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "diag.h"
#include "rope.h"

typedef struct cache_args {
    rope_freq_config cfg;
    int64_t start, end, seq_len;
    int have_dim, have_positions, have_seq_len, have_coeff;
    int usage; /* on failure: the usage text belongs after the message */
    rope_dtype dtype;
    rope_cache_layout layout;
    int32_t coeff;
    const char *out_dir;
    double *list[2]; /* short_factor, long_factor */
    size_t list_len[2];
    unsigned keys; /* bit k: key k given */
} cache_args;

/* Parses argv[1..argc) into *a (reset first). Returns 0 when complete, 1 for --help, -1 with the
 * message in *err (without the "rope cache: " prefix). argv strings are read, never modified.
 * Free with cache_args_free whatever the result. */
int cache_args_parse(cache_args *a, int argc, char **argv, diag *err);
/* Prints a warning for each --scaling key the chosen method does not use. */
void cache_args_warn(const cache_args *a, FILE *f);
void cache_args_free(cache_args *a);

#endif
