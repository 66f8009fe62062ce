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
};

/* One row of a slot's chunk, written to out_cos / out_sin: rope_fly_row computes the row of `position`
 * (fly_rows.c); rope_backward_row transforms table row `row` for the backward pass (backward_rows.c). */
void rope_fly_row(const struct rope_cossin_source *src, const rope_kernel_shape *shape, struct rope_cossin_slot *sl,
                  int64_t position, void *out_cos, void *out_sin);
void rope_backward_row(const struct rope_cossin_source *src, const rope_kernel_shape *shape, size_t row,
                       void *out_cos, void *out_sin);

/* The slot's chunk rows of tokens [token, token + n) of an MRoPE source (mrope_rows.c). */
void rope_mrope_rows(const struct rope_cossin_source *src, const rope_kernel_shape *shape, size_t seq,
                     struct rope_cossin_slot *sl, size_t token, size_t n);
/* The rounded cos/sin of every pair at `position` into the slot's block (fly_rows.c): block.cf / sf
 * (f32) or block.ch / sh (f16, bf16 patterns). */
void rope_fly_values_at(const struct rope_cossin_source *src, struct rope_cossin_slot *sl, int64_t position,
                        rope_dtype dt);

#endif
