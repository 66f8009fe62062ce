/* SPDX-License-Identifier: MIT */
/* Validation of rope_fly's positions (check_positions.h). */
#include "check_positions.h"

#include "check.h"
#include "try.h"

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
