/* SPDX-License-Identifier: MIT */
/* On-the-fly front ends' shared steps (fly.h). */
#include "fly.h"

#include <math.h>
#include <stdlib.h>

#include "../cache/angle.h"
#include "../core/check.h"
#include "../core/try.h"

/* 2^53: positions beyond it are not exact in float64 (as rope_cache_fill). */

rope_status rope_fly_check_positions(const char *where, const rope_fly *fly, int rank, const int64_t *dims,
                                     const char *const *whys) {
    if (fly->kind != ROPE_POSITIONS_PER_TOKEN && fly->kind != ROPE_POSITIONS_PER_SEQUENCE)
        return rope_fail(ROPE_ERROR_ATTRIBUTE, where,
                         "fly->kind: expected ROPE_POSITIONS_PER_TOKEN (0) or ROPE_POSITIONS_PER_SEQUENCE (1), found %d",
                         (int)fly->kind);
    const rope_tensor *t = &fly->positions;
    const char *name = "fly->positions";
    ROPE_TRY(rope_check_tensor(where, name, t));
    ROPE_TRY(rope_check_same_dtype(where, name, t, ROPE_I64, "positions are int64"));
    ROPE_TRY(rope_check_rank(where, name, t, rank, 0,
                             fly->kind == ROPE_POSITIONS_PER_TOKEN ? "one position per token"
                                                                   : "one start offset per sequence"));
    for (int i = 0; i < rank; i++) ROPE_TRY(rope_check_dim(where, name, t, i, dims[i], whys[i]));
    return rope_check_dense(where, name, t);
}

rope_status rope_fly_max_position(const char *where, const rope_fly *fly, int64_t len, const rope_tensor *seqlen,
                                  int64_t *max_pos) {
    const rope_tensor *t = &fly->positions;
    ROPE_TRY(rope_check_data(where, "fly->positions", t));
    int64_t n = rope_tensor_numel(t), best = -1;
    const int64_t *v = (const int64_t *)t->data;
    for (int64_t i = 0; i < n; i++) {
        if (v[i] < 0)
            return rope_fail(ROPE_ERROR_INDEX, where, "fly->positions[%lld] = %lld: expected >= 0", (long long)i,
                             (long long)v[i]);
        int64_t last = v[i]; /* the position of the last token it gives */
        if (fly->kind == ROPE_POSITIONS_PER_SEQUENCE) {
            int64_t m = len;
            if (seqlen) m = rope_seqlen_value(seqlen->data, seqlen->dtype, (size_t)i);
            if (m == 0) continue;
            if (v[i] > ROPE_POS_LIMIT - m)
                return rope_fail(ROPE_ERROR_INDEX, where,
                                 "fly->positions[%lld] = %lld: its sequence of %lld tokens ends past 2^53 (positions "
                                 "must be exact in float64)",
                                 (long long)i, (long long)v[i], (long long)m);
            last = v[i] + m - 1;
        } else if (v[i] >= ROPE_POS_LIMIT) {
            return rope_fail(ROPE_ERROR_INDEX, where,
                             "fly->positions[%lld] = %lld: expected below 2^53 (exact in float64)", (long long)i,
                             (long long)v[i]);
        }
        if (last > best) best = last;
    }
    *max_pos = best;
    return ROPE_OK;
}

/* Positions per anchor block: the square root of the token count balances the table (block angles
 * per pair, once per call) against the anchors (one per block of consecutive positions), at a power
 * of two in [16, 128]. Few tokens: no table, each value computed as the cache computes it. */
static size_t block_for(size_t tokens) {
    if (tokens < 32) return 0;
    size_t b = 16;
    while (b < 128 && b * b < tokens) b *= 2;
    return b;
}

rope_status rope_fly_setup_make(const char *where, const rope_freq_plan *plan, int64_t max_pos, size_t tokens,
                                rope_fly_setup *out) {
    size_t half = (size_t)(plan->dim / 2), block = block_for(tokens);
    if (half > SIZE_MAX / sizeof(double) / (2 * block + 1))
        return rope_fail(ROPE_ERROR_OUT_OF_MEMORY, where, "rotary_dim %lld: frequency tables too large",
                         (long long)plan->dim);
    double *mem = malloc(half * (2 * block + 1) * sizeof(double) + 1);
    if (!mem) return rope_fail(ROPE_ERROR_OUT_OF_MEMORY, where, "cannot allocate %zu frequency values", half);
    double max_inv = 0;
    rope_status st = rope_freq_plan_fill(where, plan, mem, &max_inv);
    if (st == ROPE_OK && max_pos >= 0) st = rope_angle_check(where, "fly->positions: ", max_pos, max_inv);
    if (st != ROPE_OK) {
        free(mem);
        return st;
    }
    double *step = mem + half;
    for (size_t j = 0; j < block; j++)
        for (size_t i = 0; i < half; i++)
            rope_angle_sincos((int64_t)j, mem[i], &step[j * 2 * half + i], &step[j * 2 * half + half + i]);
    out->mem = mem;
    out->freqs.half = (int64_t)half;
    out->freqs.inv = mem;
    out->freqs.attention = plan->attention;
    out->freqs.block = block;
    out->freqs.step = step;
    return ROPE_OK;
}

void rope_fly_setup_free(rope_fly_setup *s) {
    free(s->mem);
    s->mem = NULL;
}

rope_status rope_fly_run(const char *where, rope_context *ctx, const rope_freq_plan *plan, int64_t max_pos,
                         rope_job *job, int backward) {
    rope_fly_setup su;
    ROPE_TRY(rope_fly_setup_make(where, plan, max_pos, job ? job->batch * job->seq : 0, &su));
    rope_status st = ROPE_OK;
    if (job) {
        rope_cs_rows rows = {where, backward, &su.freqs};
        job->provider = &rows;
        st = rope_engine_run(ctx, job);
    }
    rope_fly_setup_free(&su);
    return st;
}
