/* SPDX-License-Identifier: MIT */
/* The frequency tables of one on-the-fly call, from which fly_rows.c computes each position's row. */
#ifndef ROPE_COSSIN_FLY_H
#define ROPE_COSSIN_FLY_H

#include <stddef.h>
#include <stdint.h>

#include "../cache/freq.h"
#include "fly_values.h"

typedef struct rope_fly_freqs {
    int64_t half;      /* pairs: rotary_dim / 2 */
    const double *inv; /* [half] inverse frequencies */
    double attention;  /* multiplies cos and sin */
    /* Positions per anchor block, and the table of cos/sin(j * inv[i]) for j < block: [j][i] cos,
     * [j][half + i] sin. block 0: no table, every value comes from rope_angle_sincos directly. */
    size_t block;
    const double *step;
    /* Anchors of scattered positions: anchor P = block * n with n's base-`block` digits d_1 .. d_L
     * (d_1 the lowest), and level[k-1] the table of cos/sin(d * block^k * inv[i]) for d < block
     * ([k-1][d][i] cos, [k-1][d][half + i] sin). An anchor is then one table entry (one nonzero digit:
     * exact, as rope_angle_sincos) or the complex product of its digits' entries, instead of an
     * angle block per token. levels 0: anchors from the angle block. */
    size_t levels;
    const double *level;
    double *mem;       /* owns inv, step and level */
    rope_fly_sincos_fn sincos; /* exact cos/sin of a position's angles, built for the call's set */
    rope_fly_cmul_fn cmul;     /* complex products of digit table entries, built for the call's set */
} rope_fly_freqs;

/* Makes the tables for a call of `tokens` tokens whose positions reach max_pos (-1: no token), with
 * the angle block of instruction set `isa` (the context's).
 * Errors: ATTRIBUTE (frequencies not finite and positive, as rope_freq_compute), INDEX (max_pos *
 * max inv_freq reaching 2^46 rad, the limit of the accurate reduction), OUT_OF_MEMORY. */
rope_status rope_fly_freqs_make(const char *where, const rope_freq_plan *plan, int64_t max_pos, size_t tokens,
                                rope_isa isa, rope_fly_freqs *out);
void rope_fly_freqs_free(rope_fly_freqs *f);

#endif
