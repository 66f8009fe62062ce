/* SPDX-License-Identifier: MIT */
/*
 * The checks of rope_fly_axes (rope.h, "On the fly"), shared by the three operators' multi-axis
 * on-the-fly forms: the struct, its configuration (rope_axes_config_load, as rope_cache_fill_axes
 * loads it), the positions descriptor and every coordinate (rope_axes_check_coordinates), so that a
 * coordinate the table refuses is refused on the fly with the same words.
 */
#include <stddef.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/check.h"
#include "../core/try.h"
#include "axes.h"

/* The first published layout is today's whole struct; later versions will end further on. */
#define FLY_AXES_V1_SIZE sizeof(rope_fly_axes)

static const char pos_name[] = "fly->positions";

rope_status rope_fly_axes_load(const char *where, const rope_fly_axes *in, rope_fly_axes_plan *out) {
    if (!in) return rope_fail(ROPE_ERROR_NULL_ARGUMENT, where, "fly is NULL");
    size_t n = in->struct_size;
    if (n < FLY_AXES_V1_SIZE || n > sizeof out->fly)
        return rope_fail(ROPE_ERROR_ATTRIBUTE, where,
                         "fly->struct_size: expected %zu (start from ROPE_FLY_AXES_INIT), found %zu", sizeof out->fly,
                         n);
    memset(out, 0, sizeof *out);
    memcpy(&out->fly, in, n);
    if (!out->fly.axes) return rope_fail(ROPE_ERROR_NULL_ARGUMENT, where, "fly->axes is NULL");
    return rope_axes_config_load(where, "fly->axes->", out->fly.axes, &out->axes, &out->rot);
}

rope_status rope_fly_axes_check_positions(const char *where, rope_fly_axes_plan *p, int tok_rank,
                                          const int64_t *tok_dims, const char *const *whys) {
    const rope_tensor *t = &p->fly.positions;
    ROPE_TRY(rope_check_tensor(where, pos_name, t));
    ROPE_TRY(rope_check_dtype(where, pos_name, t, rope_axes_position_types, 4));
    ROPE_TRY(rope_check_rank(where, pos_name, t, tok_rank + 1, 0,
                             tok_rank == 1 ? "[tokens, n_axes]" : "[batch, seq, n_axes]"));
    int64_t rows = 1;
    for (int i = 0; i < tok_rank; i++) {
        ROPE_TRY(rope_check_dim(where, pos_name, t, i, tok_dims[i], whys[i]));
        rows = rope_dims_product(rows, tok_dims[i]);
    }
    ROPE_TRY(rope_check_dim(where, pos_name, t, tok_rank, p->axes.n_axes, "fly->axes->n_axes"));
    ROPE_TRY(rope_check_dense(where, pos_name, t));
    p->rows = rows;
    return ROPE_OK;
}

rope_status rope_fly_axes_freqs(const char *where, const rope_fly_axes_plan *p, double **inv_out) {
    const rope_tensor *t = &p->fly.positions;
    ROPE_TRY(rope_check_data(where, pos_name, t));
    const int64_t half = p->rot / 2;
    double *inv = (double *)rope_malloc((size_t)half * sizeof(double)); /* rot <= ROPE_MAX_ROTARY_DIM */
    if (!inv)
        return rope_fail(ROPE_ERROR_OUT_OF_MEMORY, where, "cannot allocate %lld inverse frequencies", (long long)half);
    double max_inv[ROPE_MAX_AXES];
    rope_status st = rope_axes_make_freqs(where, &p->axes, p->rot, inv, max_inv);
    if (st == ROPE_OK)
        st = rope_axes_check_coordinates(where, pos_name, t->data, t->dtype, p->rows, p->axes.n_axes, max_inv);
    if (st != ROPE_OK) {
        rope_free(inv);
        return st;
    }
    *inv_out = inv;
    return ROPE_OK;
}
