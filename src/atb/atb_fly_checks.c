/* SPDX-License-Identifier: MIT */
/* The steps rope_atb_rope_fly and _fly_axes share (atb_fly.c, atb_fly_axes.c), written once so that
 * both forms check, and word their errors, alike. */
#include "../core/check.h"
#include "../core/try.h"
#include "atb_rope.h"

rope_status rope_atb_fly_args(const char *where, const rope_atb_param **param, const rope_tensor *q,
                              const rope_tensor *k, const void *fly, const rope_tensor *seqlen, const rope_tensor *rq,
                              const rope_tensor *rk) {
    static const rope_atb_param defaults = ROPE_ATB_PARAM_INIT;
    if (!*param) *param = &defaults;
    ROPE_TRY(rope_atb_check_param(where, *param));
    static const char *const names[6] = {"query", "key", "fly", "seqlen", "ropeQ", "ropeK"};
    const void *const args[6] = {q, k, fly, seqlen, rq, rk};
    return rope_check_args(where, 6, names, args);
}

rope_status rope_atb_fly_cs_dtype(const char *where, const rope_tensor *q, rope_dtype requested, rope_dtype *cs_dtype) {
    *cs_dtype = requested ? requested : q->dtype;
    return rope_atb_check_cos_dtype(where, "fly->cs_dtype", "0, ", q->dtype, *cs_dtype);
}

rope_status rope_atb_fly_disjoint(const char *where, const rope_atb_plan *p, const rope_tensor *rq,
                                  const rope_tensor *rk, const rope_tensor *positions, int64_t width) {
    rope_region rp = rope_region_of(positions, width, width);
    rope_region r_rq = rope_region_of(rq, p->hidden_q, p->rq_stride);
    rope_region r_rk = rope_region_of(rk, p->hidden_k, p->rk_stride);
    ROPE_TRY(rope_check_disjoint(where, "ropeQ", &r_rq, "fly->positions", &rp));
    return rope_check_disjoint(where, "ropeK", &r_rk, "fly->positions", &rp);
}
