/* SPDX-License-Identifier: MIT */
/* test_api_mutations (and tests/fuzz/fuzz_api.c): one case built, called and checked (see test_api_mutations.c's
 * comment for what is checked). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mutations.h"

/* Statuses seen per mutation kind, cases run per entry point and kind. */
long mutations_seen[N_KIND][ROPE_STATUS_COUNT_ + 1], mutations_cover[N_ENTRY][N_KIND];

static void tally(gcase *g, rope_status st) {
    int col = st >= 0 && st < ROPE_STATUS_COUNT_ ? (int)st : ROPE_STATUS_COUNT_;
    if (g->nk == 0) mutations_seen[K_VALID][col]++;
    for (int i = 0; i < g->nk; i++) mutations_seen[g->kinds[i]][col]++, mutations_cover[g->e][g->kinds[i]]++;
    if (g->nk == 0) mutations_cover[g->e][K_VALID]++;
}

/* Slot i as a tensor argument: NULL when unused or mutated to a NULL pointer. */
static const rope_tensor *P(const gcase *g, int i) {
    return g->s[i].used && !g->s[i].null_ptr ? &g->s[i].t : NULL;
}

/* Calls the case's entry point (all but the lifecycles); io gets shape inference's outputs. */
static rope_status call(gcase *g, rope_context *ctx, rope_tensor io[2]) {
    const rope_tensor *x = P(g, T_X), *k = P(g, T_K), *c = P(g, T_COS), *s = P(g, T_SIN), *l = P(g, T_SEQ),
                      *y = P(g, T_Y), *rk = P(g, T_RK);
    const rope_onnx_attrs *oa = g->attrs_null ? NULL : &g->oa;
    const rope_atb_param *ap = g->attrs_null ? NULL : &g->ap;
    const rope_vllm_attrs *va = g->attrs_null ? NULL : &g->va;
    const rope_freq_config *cfg = g->cfg_null ? NULL : &g->fc;
    g->fly.freq = cfg;
    g->fly.positions = g->s[T_POS].t;
    const rope_fly *fly = g->fly_null ? NULL : &g->fly;
    g->fa.axes = g->cfg_null ? NULL : &g->ax;
    g->fa.positions = g->s[T_POS].t;
    const rope_fly_axes *fa = g->fly_null ? NULL : &g->fa;
    switch (g->e) {
    case E_ONNX: return rope_onnx_rotary_embedding(ctx, oa, x, c, s, l, y);
    case E_ONNX_BWD: return rope_onnx_rotary_embedding_backward(ctx, oa, x, c, s, l, y);
    case E_ONNX_INFER: return rope_onnx_infer(oa, x, c, s, l, g->s[T_Y].null_ptr ? NULL : &io[0]);
    case E_ONNX_FLY: return rope_onnx_rotary_embedding_fly(ctx, oa, x, fly, y);
    case E_ONNX_FLY_BWD: return rope_onnx_rotary_embedding_fly_backward(ctx, oa, x, fly, y);
    case E_ONNX_AXF: return rope_onnx_rotary_embedding_fly_axes(ctx, oa, x, fa, y);
    case E_ONNX_AXF_BWD: return rope_onnx_rotary_embedding_fly_axes_backward(ctx, oa, x, fa, y);
    case E_ATB: return rope_atb_rope(ctx, ap, x, k, c, s, l, y, rk);
    case E_ATB_BWD: return rope_atb_rope_backward(ctx, ap, x, k, c, s, l, y, rk);
    case E_ATB_INFER:
        return rope_atb_infer(ap, x, k, c, s, l, g->s[T_Y].null_ptr ? NULL : &io[0],
                              g->s[T_RK].null_ptr ? NULL : &io[1]);
    case E_ATB_FLY: return rope_atb_rope_fly(ctx, ap, x, k, fly, l, y, rk);
    case E_ATB_FLY_BWD: return rope_atb_rope_fly_backward(ctx, ap, x, k, fly, l, y, rk);
    case E_ATB_AXF: return rope_atb_rope_fly_axes(ctx, ap, x, k, fa, l, y, rk);
    case E_ATB_AXF_BWD: return rope_atb_rope_fly_axes_backward(ctx, ap, x, k, fa, l, y, rk);
    case E_VLLM: return rope_vllm_rotary_embedding(ctx, va, l, x, k, c, y, rk);
    case E_VLLM_BWD: return rope_vllm_rotary_embedding_backward(ctx, va, l, x, k, c, y, rk);
    case E_VLLM_INFER:
        return rope_vllm_infer(va, l, x, k, c, g->s[T_Y].null_ptr ? NULL : &io[0],
                               g->s[T_RK].used && !g->s[T_RK].null_ptr ? &io[1] : NULL);
    case E_VLLM_FLY: return rope_vllm_rotary_embedding_fly(ctx, va, x, k, fly, y, rk);
    case E_VLLM_FLY_BWD: return rope_vllm_rotary_embedding_fly_backward(ctx, va, x, k, fly, y, rk);
    case E_VLLM_AXF: return rope_vllm_rotary_embedding_fly_axes(ctx, va, x, k, fa, y, rk);
    case E_VLLM_AXF_BWD: return rope_vllm_rotary_embedding_fly_axes_backward(ctx, va, x, k, fa, y, rk);
    case E_CACHE: return rope_cache_fill(cfg, g->pos_start, g->count, (rope_cache_layout)g->layout, g->coeff, c, s);
    case E_FREQ:
        return rope_freq_compute(cfg, g->s[T_Y].null_ptr ? NULL : (double *)g->s[T_Y].t.data,
                                 g->s[T_RK].used ? (double *)g->s[T_RK].t.data : NULL);
    case E_AXES:
        return rope_cache_fill_axes(g->cfg_null ? NULL : &g->ax, P(g, T_POS), (rope_cache_layout)g->layout, g->coeff, c,
                                    s);
    case E_QKN:
        return rope_vllm_fused_qk_norm_rope(ctx, g->attrs_null ? NULL : &g->qn, l, x, P(g, T_QW), P(g, T_KW), c);
    case E_QKN_CHECK:
        return rope_vllm_fused_qk_norm_rope_check(g->attrs_null ? NULL : &g->qn, l, x, P(g, T_QW), P(g, T_KW), c);
    case E_KV:
        return rope_vllm_rotary_embedding_and_cache(ctx, g->attrs_null ? NULL : &g->kv, l, x, k, P(g, T_V), c,
                                                    P(g, T_KC), P(g, T_VC), P(g, T_SLOT), P(g, T_QW), P(g, T_KW));
    case E_KV_CHECK:
        return rope_vllm_rotary_embedding_and_cache_check(g->attrs_null ? NULL : &g->kv, l, x, k, P(g, T_V), c,
                                                          P(g, T_KC), P(g, T_VC), P(g, T_SLOT), P(g, T_QW),
                                                          P(g, T_KW));
    }
    return ROPE_STATUS_COUNT_;
}

/* The message after "<function>: ". */
static const char *tail(const char *m) {
    const char *p = strstr(m, ": ");
    return p ? p + 2 : m;
}

/* Shape inference on the descriptors of a forward table call that returned `st` (outputs given):
 * rope.h says it reports exactly the call's errors that need no data, and both check in one order,
 * so when inference fails the call failed with the same status and message; when the call
 * succeeded, inference does too. */
static void agree_with_check(gcase *g, rope_status st);

static void agree_with_infer(gcase *g, rope_status st) {
    if (g->e == E_QKN || g->e == E_KV) {
        agree_with_check(g, st);
        return;
    }
    if ((g->e != E_ONNX && g->e != E_ATB) || !P(g, T_Y) || (g->e == E_ATB && !P(g, T_RK))) return;
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", st == ROPE_OK ? "" : rope_last_error());
    const rope_tensor *x = P(g, T_X), *k = P(g, T_K), *c = P(g, T_COS), *s = P(g, T_SIN), *l = P(g, T_SEQ);
    rope_tensor out[2];
    rope_status si = g->e == E_ONNX ? rope_onnx_infer(g->attrs_null ? NULL : &g->oa, x, c, s, l, &out[0])
                                    : rope_atb_infer(g->attrs_null ? NULL : &g->ap, x, k, c, s, l, &out[0], &out[1]);
    if (st == ROPE_OK) check(g, si == ROPE_OK, "the call succeeded, shape inference failed with %s", status_name(si));
    else if (si != ROPE_OK)
        check(g, si == st && strcmp(tail(rope_last_error()), tail(msg)) == 0,
              "the call failed with %s \"%s\", shape inference with %s", status_name(st), msg, status_name(si));
}

/* The fused prologue's descriptors-only check on the descriptors of a call that returned `st`: the
 * same agreement as shape inference's (it reports the call's errors that need no data, in the same
 * order: the same status and message; a call that succeeded passes it). */
static void agree_with_check(gcase *g, rope_status st) {
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", st == ROPE_OK ? "" : rope_last_error());
    const rope_tensor *x = P(g, T_X), *k = P(g, T_K), *c = P(g, T_COS), *l = P(g, T_SEQ);
    rope_status sc = g->e == E_QKN ? rope_vllm_fused_qk_norm_rope_check(g->attrs_null ? NULL : &g->qn, l, x, P(g, T_QW),
                                                                         P(g, T_KW), c)
                                   : rope_vllm_rotary_embedding_and_cache_check(
                                         g->attrs_null ? NULL : &g->kv, l, x, k, P(g, T_V), c, P(g, T_KC), P(g, T_VC),
                                         P(g, T_SLOT), P(g, T_QW), P(g, T_KW));
    if (st == ROPE_OK) check(g, sc == ROPE_OK, "the call succeeded, its check failed with %s", status_name(sc));
    else if (sc != ROPE_OK)
        check(g, sc == st && strcmp(tail(rope_last_error()), tail(msg)) == 0,
              "the call failed with %s \"%s\", its check with %s \"%s\"", status_name(st), msg, status_name(sc),
              rope_last_error());
}

/* Builds, runs and checks one case. */
void mutations_one(int it, int e, rope_context *ctx) {
    gcase *g = calloc(1, sizeof *g);
    g->it = it;
    g->e = e;
    generate(g);
    mutate_and_place(g);

    static int trace = -1;
    if (trace < 0) trace = getenv("GARBAGE_TRACE") != NULL;
    if (trace) fprintf(stderr, "iteration %d, %s [%s]\n", it, entry_name[g->e], g->desc), fflush(stderr);

    rope_tensor io[2], io0[2];
    memset(io, 0x5a, sizeof io);
    memcpy(io0, io, sizeof io);
    rope_status shown, st;
    if (op_e(g->e)) {
        st = run_op(g, ctx, &shown);
    } else {
        st = shown = call(g, ctx, io);
        if (st != ROPE_OK) failed_step(g, entry_name[g->e], st);
        if (st != ROPE_OK && g->names && g->nk == 1)
            check(g, strstr(rope_last_error(), g->names) != NULL, "the message does not name %s", g->names);
        agree_with_infer(g, st);
    }
    tally(g, shown);
    unsigned want = allowed(g);
    check(g, in_mask(want, st), "status %s, expected %s", status_name(st), mask_str(want));
    if (st != ROPE_OK) {
        check(g, memcmp(io, io0, sizeof io) == 0, "failed but wrote an inferred descriptor");
    } else if (want & BIT(ROPE_OK)) {
        if (g->e == E_ONNX_INFER) check(g, same_desc(&io[0], &g->s[T_X].t), "y_out is not X's descriptor");
        if (g->e == E_ATB_INFER)
            check(g, same_desc(&io[0], &g->s[T_X].t) && same_desc(&io[1], &g->s[T_K].t),
                  "rope_q_out / rope_k_out are not query's / key's descriptors");
        if (g->e == E_VLLM_INFER) {
            check(g, same_desc(&io[0], &g->s[T_X].t), "query_out is not query's descriptor");
            if (g->s[T_K].used && !g->s[T_K].null_ptr)
                check(g, same_desc(&io[1], &g->s[T_K].t), "key_out is not key's descriptor");
            else check(g, memcmp(&io[1], &io0[1], sizeof io[1]) == 0, "key_out written without a key");
        }
        if (infer_e(g->e) || check_e(g->e)) check(g, unchanged(g), "shape inference wrote to a buffer");
        else verify_written(g);
    }
    release(g);
    free(g);
}

