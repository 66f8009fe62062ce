/* SPDX-License-Identifier: MIT */
/*
 * The multi-axis configuration's steps (axes.c), shared by rope_cache_fill_axes and the operators'
 * multi-axis on-the-fly form (cossin/fly_axes.c), so that both read the same rope_axes_config, make
 * the same frequencies, read coordinates the same way and refuse the same input with the same
 * messages (each prefixed by the caller's names: "cfg->" and "positions" for the table,
 * "fly->axes->" and "fly->positions" on the fly).
 */
#ifndef ROPE_CACHE_AXES_H
#define ROPE_CACHE_AXES_H

#include <stddef.h>
#include <stdint.h>

#include "rope.h"

/* Reads the caller's configuration (only what its struct_size covers), checks every field and
 * applies the defaults (theta 0: 10000, attention 0: 1) into *out; *rot gets the rotated width, the
 * sum of the axes' widths. `prefix` names the struct in messages ("cfg->"). */
rope_status rope_axes_config_load(const char *where, const char *prefix, const rope_axes_config *in,
                                  rope_axes_config *out, int64_t *rot);

/* The rot/2 inverse frequencies of a loaded configuration, axis 0's first, and each axis's largest
 * (max_inv[a], a < n_axes). */
rope_status rope_axes_make_freqs(const char *where, const rope_axes_config *c, int64_t rot, double *inv,
                                 double *max_inv);

/* 1 for the coordinate dtypes (i64, i32, f32, f64), and the allowed list for rope_check_dtype. */
extern const rope_dtype rope_axes_position_types[4];

/* Element i of a coordinate array of one of those dtypes, as a float64 (exact for every value the
 * checks accept). */
static inline double rope_axes_coordinate(const void *data, rope_dtype dt, size_t i) {
    switch (dt) {
    case ROPE_I64: return (double)((const int64_t *)data)[i];
    case ROPE_I32: return (double)((const int32_t *)data)[i];
    case ROPE_F32: return (double)((const float *)data)[i];
    case ROPE_F64: return ((const double *)data)[i];
    case ROPE_DTYPE_INVALID:
    case ROPE_F16:
    case ROPE_BF16:
    case ROPE_U32:
    case ROPE_FP8_E4M3:
    case ROPE_FP8_E5M2: break;
    }
    return 0.0; /* not reached: the dtype was checked */
}

/* Every coordinate of the `tokens` x n_axes values at data: finite, an i64 one within 2^53 (exact in
 * float64), its angles |v| * max_inv[a] below 2^46 rad. The message names `name`[t, a]. */
rope_status rope_axes_check_coordinates(const char *where, const char *name, const void *data, rope_dtype dt,
                                        int64_t tokens, int n_axes, const double *max_inv);

/* ---- the operators' multi-axis on-the-fly argument (rope_fly_axes, axes_fly.c) ----------------- */

typedef struct rope_fly_axes_plan {
    rope_fly_axes fly;     /* the caller's struct, the fields past its struct_size 0 */
    rope_axes_config axes; /* loaded: checked, defaults applied */
    int64_t rot;           /* the rotated width, the sum of the axes' widths */
    int64_t rows;          /* rows of coordinates (set by rope_fly_axes_check_positions) */
} rope_fly_axes_plan;

/* Reads `in` (NULL_ARGUMENT for it or its axes; ATTRIBUTE for its struct_size) and loads its axes
 * configuration (messages naming fly->axes->...). */
rope_status rope_fly_axes_load(const char *where, const rope_fly_axes *in, rope_fly_axes_plan *out);

/* The positions descriptor: a coordinate dtype, rank tok_rank + 1, dims tok_dims (each explained by
 * whys[i]) then n_axes, dense. Data is not read. Sets out->rows. */
rope_status rope_fly_axes_check_positions(const char *where, rope_fly_axes_plan *p, int tok_rank,
                                          const int64_t *tok_dims, const char *const *whys);

/* Reads the coordinates (data checked non-NULL here) after the frequencies are made: every one as
 * rope_axes_check_coordinates checks it (INDEX). On success *inv holds the rot/2 frequencies (free
 * with rope_free). Errors: NULL_ARGUMENT, INDEX, OUT_OF_MEMORY; nothing kept on error. */
rope_status rope_fly_axes_freqs(const char *where, const rope_fly_axes_plan *p, double **inv);

#endif
