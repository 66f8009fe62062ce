/* SPDX-License-Identifier: MIT */
/*
 * Inverse frequencies of a rope_freq_config, split into a validating step (the plan) and a per-pair
 * evaluation, so the cache builder and rope_freq_compute share one implementation of every scaling
 * method and one set of error messages.
 */
#ifndef ROPE_CACHE_FREQ_H
#define ROPE_CACHE_FREQ_H

#include <stdint.h>

#include "rope.h"

/* A validated configuration with its defaults applied and its per-configuration scalars computed. */
typedef struct rope_freq_plan {
    rope_scaling scaling;
    int64_t dim; /* d = rotary_dim, even and > 0 */
    double base; /* DYNAMIC: already rescaled for seq_len */
    double factor;
    double orig;             /* original_max_position_embeddings */
    double low_freq_factor;  /* LLAMA3 */
    double high_freq_factor; /* LLAMA3 */
    double ramp_low;         /* YARN: the correction range, clamped, never equal */
    double ramp_high;
    const double *ext; /* LONGROPE: the chosen short or long factors */
    int64_t rotated;   /* pairs [0, rotated) rotate; PROPORTIONAL's later pairs have frequency 0 */
    double attention;  /* multiplies cos and sin */
} rope_freq_plan;

/* Validates `cfg` (NULL_ARGUMENT when NULL, ATTRIBUTE with a message naming the field otherwise),
 * the messages prefixed by `where`, and fills *plan. */
rope_status rope_freq_plan_make(const char *where, const rope_freq_config *cfg, rope_freq_plan *plan);

/* inv_freq[i] of a plan, 0 <= i < dim/2. */
double rope_freq_plan_at(const rope_freq_plan *plan, int64_t i);

/* Writes the dim/2 inverse frequencies to out (unless out is NULL: check only), checking that every
 * one of them is finite and positive (ATTRIBUTE otherwise, with out partly written: pass NULL first
 * where out is the caller's). *max_out, when not NULL, gets the largest. */
rope_status rope_freq_plan_fill(const char *where, const rope_freq_plan *plan, double *out, double *max_out);

#endif
