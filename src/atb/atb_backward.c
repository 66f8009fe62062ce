/* rope_atb_rope_backward: the forward's validation and job, with the cos/sin rows transformed per
 * chunk (engine/rows.h: each element takes its partner's sin, negated). */
#include "../core/context.h"
#include "../core/try.h"
#include "../engine/rows.h"
#include "atb_rope.h"

static rope_status need(const char *where, const char *name, const void *t) {
    return t ? ROPE_OK : rope_fail(ROPE_ERROR_NULL_ARGUMENT, where, "%s is NULL", name);
}

rope_status rope_atb_rope_backward(rope_context *ctx, const rope_atb_param *param, const rope_tensor *grad_q,
                                   const rope_tensor *grad_k, const rope_tensor *cos, const rope_tensor *sin,
                                   const rope_tensor *seqlen, const rope_tensor *dq, const rope_tensor *dk) {
    static const char where[] = "rope_atb_rope_backward";
    static const rope_atb_param defaults = ROPE_ATB_PARAM_INIT;
    if (!param) param = &defaults;
    ROPE_TRY(rope_atb_check_param(where, param));
    ROPE_TRY(need(where, "query (grad_q)", grad_q));
    ROPE_TRY(need(where, "key (grad_k)", grad_k));
    ROPE_TRY(need(where, "cos", cos));
    ROPE_TRY(need(where, "sin", sin));
    ROPE_TRY(need(where, "seqlen", seqlen));
    ROPE_TRY(need(where, "ropeQ (dq)", dq));
    ROPE_TRY(need(where, "ropeK (dk)", dk));
    rope_atb_plan p;
    rope_context *c;
    ROPE_TRY(rope_atb_plan_shapes(where, param, grad_q, grad_k, cos, sin, seqlen, &p));
    ROPE_TRY(rope_atb_check_data(where, &p, grad_q, grad_k, cos, sin, seqlen, dq, dk, &p));
    ROPE_TRY(rope_context_resolve(ctx, where, &c));
    if (p.ntokens == 0 || p.hidden_q == 0) return ROPE_OK;
    rope_job job;
    rope_atb_job(&p, grad_q, grad_k, cos, sin, seqlen, dq, dk, &job);
    rope_cs_rows rows = {where, 1, NULL, ROPE_POS_TOKEN, NULL, NULL, NULL, ROPE_DTYPE_INVALID};
    job.provider = &rows;
    return rope_engine_run(c, &job);
}
