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
/* The same tables from `half` given inverse frequencies (copied; each finite and positive) and the
 * attention factor, for `tokens` tokens whose positions reach max_pos (-1: unknown or not integer
 * positions, so no digit tables). Errors: OUT_OF_MEMORY. */
rope_status rope_fly_freqs_of(const char *where, const double *inv, int64_t half, double attention,
                              int64_t max_pos, size_t tokens, rope_isa isa, rope_fly_freqs *out);
void rope_fly_freqs_free(rope_fly_freqs *f);

/* Multi-axis positions on the fly (fly_axes.c): token t's row is made of each axis's pairs, axis a's
 * half_a = axes_dims[a]/2 values at offset[a] computed at the coordinate pos[row(t)][a] with that
 * axis's frequencies, exactly as rope_cache_fill_axes computes them. row(t) = t % rows: rows is the
 * token count, or the tokens of one batch row when every batch row shares the coordinates. */
typedef struct rope_fly_axes_rows {
    int n_axes;
    int64_t half;                        /* rot/2, all axes */
    int64_t offset[ROPE_MAX_AXES];       /* axis a's first pair */
    rope_fly_freqs axis[ROPE_MAX_AXES];  /* axis a's frequencies (half = axes_dims[a]/2) and tables */
    double attention;
    const void *positions;               /* [rows, n_axes] coordinates */
    rope_dtype pos_dtype;                /* i64, i32, f32, f64 */
    size_t rows;
} rope_fly_axes_rows;

/* Makes the per-axis tables of a loaded, checked configuration (cache/axes.h) for `tokens` tokens;
 * inv is its rot/2 frequencies (rope_axes_make_freqs). Errors: OUT_OF_MEMORY (nothing kept). */
rope_status rope_fly_axes_rows_make(const char *where, const rope_axes_config *c, const double *inv, size_t tokens,
                                    rope_isa isa, rope_fly_axes_rows *out);
void rope_fly_axes_rows_free(rope_fly_axes_rows *r);

#endif
