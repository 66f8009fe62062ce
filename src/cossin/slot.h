/* SPDX-License-Identifier: MIT */
/* One running walk's memory inside a source's scratch (source.c allocates, the row makers fill). */
#ifndef ROPE_COSSIN_SLOT_H
#define ROPE_COSSIN_SLOT_H

#include <stdint.h>

#include "fly_values.h"
#include "source.h"

struct rope_cossin_slot {
    void *cos, *sin;            /* the chunk's rows: chunk x width values of the cos dtype */
    /* On the fly: */
    double *ca, *sa;            /* cos/sin(anchor * inv[i]) */
    int64_t anchor;             /* the position ca/sa hold; -1: none */
    rope_fly_block block;       /* one position's values (fly_values.h), pointing into this slot */
    rope_fly_values_fn values;  /* the value block, built for the context's instruction set */
    /* Multi-axis on the fly: each axis's anchor, its cos/sin in ca/sa at the axis's offset. */
    int64_t axis_anchor[ROPE_MAX_AXES];
    int axis_anchored[ROPE_MAX_AXES]; /* 0: ca/sa hold no anchor of that axis yet */
};

/* One row of a slot's chunk, written to out_cos / out_sin: rope_fly_row computes the row of `position`
 * (fly_rows.c); rope_backward_row transforms table row `row` for the backward pass (backward_rows.c). */
void rope_fly_row(const struct rope_cossin_source *src, const rope_kernel_shape *shape, struct rope_cossin_slot *sl,
                  int64_t position, void *out_cos, void *out_sin);
void rope_backward_row(const struct rope_cossin_source *src, const rope_kernel_shape *shape, size_t row,
                       void *out_cos, void *out_sin);

/* Position p's row, laid out as the kernel reads it, from the `half` values in the block's cf / sf
 * (f32) or ch / sh (f16, bf16): half width (value i at i) or full width (pair i = g*ps + j owns
 * elements g*2*ps + j and that + ps, both with the pair's values). `neg` negates sin (the backward
 * pass; for computed rows also the partner swap: both elements of a pair share it). */
void rope_fly_place_row(const rope_fly_block *b, size_t half, const rope_kernel_shape *shape, int neg, void *out_cos,
                        void *out_sin);

/* The slot's chunk rows of tokens [token, token + n) of a multi-axis source (fly_axes.c). */
void rope_fly_axes_rows_fill(const struct rope_cossin_source *src, const rope_kernel_shape *shape,
                             struct rope_cossin_slot *sl, size_t token, size_t n);

/* The slot's chunk rows of tokens [token, token + n) of an MRoPE source (mrope_rows.c). */
void rope_mrope_rows(const struct rope_cossin_source *src, const rope_kernel_shape *shape, size_t seq,
                     struct rope_cossin_slot *sl, size_t token, size_t n);
/* The rounded cos/sin of every pair at `position` into the slot's block (fly_rows.c): block.cf / sf
 * (f32) or block.ch / sh (f16, bf16 patterns). */
void rope_fly_values_at(const struct rope_cossin_source *src, struct rope_cossin_slot *sl, int64_t position,
                        rope_dtype dt);

#endif
