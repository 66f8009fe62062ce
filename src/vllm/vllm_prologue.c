/* SPDX-License-Identifier: MIT */
/* What the two prologue operators (vllm_qk_norm.c, vllm_kv_cache.c) run alike: the rotation job of
 * their q and k with the norm weights as float32 parts of its streams, MRoPE rows when planned, run
 * on the engine; the KV-cache write adds its store parts in between. */
#include <string.h>

#include "../core/alloc.h"
#include "../core/convert.h"
#include "vllm_prologue.h"

static const float *widen_weight(const rope_tensor *w, int64_t n, float *dst) {
    if (w->dtype == ROPE_F32) return (const float *)w->data;
    const uint16_t *h = (const uint16_t *)w->data;
    for (int64_t i = 0; i < n; i++)
        dst[i] = w->dtype == ROPE_F16 ? rope_f16_to_f32_inline(h[i]) : rope_bf16_to_f32_inline(h[i]);
    return dst;
}

rope_status rope_vllm_weights_make(const char *where, const rope_tensor *qw, const rope_tensor *kw, int64_t head_size,
                                   float *buf, rope_vllm_weights *out) {
    memset(out, 0, sizeof *out);
    if (qw->dtype != ROPE_F32 || kw->dtype != ROPE_F32) {
        if (head_size > ROPE_VLLM_WEIGHT_STACK) {
            out->owned = rope_malloc(2 * (size_t)head_size * sizeof(float));
            if (!out->owned)
                return rope_fail(ROPE_ERROR_OUT_OF_MEMORY, where, "float32 copy of the norm weights (%lld bytes)",
                                 (long long)(2 * head_size * (int64_t)sizeof(float)));
            buf = out->owned;
        }
    }
    out->q = widen_weight(qw, head_size, buf);
    out->k = widen_weight(kw, head_size, buf + head_size);
    return ROPE_OK;
}

void rope_vllm_weights_free(rope_vllm_weights *w) { rope_free(w->owned); }

rope_status rope_vllm_prologue_begin(const char *where, const rope_vllm_plan *p, const rope_tensor *pos,
                                     const rope_tensor *q, const rope_tensor *k, const rope_tensor *cache,
                                     const rope_tensor *qw, const rope_tensor *kw, double eps,
                                     rope_vllm_prologue_call *call) {
    memset(&call->w, 0, sizeof call->w);
    if (qw) {
        rope_status st = rope_vllm_weights_make(where, qw, kw, p->head_size, call->buf, &call->w);
        if (st != ROPE_OK) return st;
    }
    rope_vllm_job(p, pos, q, k, cache, q, k, &call->job);
    call->job.streams[0].norm_weight = call->w.q;
    call->job.streams[1].norm_weight = call->w.k;
    call->job.eps = (float)eps;
    if (p->axes) {
        rope_vllm_mrope(p, pos, &call->mrope);
        call->job.cossin.mrope = &call->mrope;
    }
    call->job.cossin.where = where;
    return ROPE_OK;
}

rope_status rope_vllm_prologue_run(rope_context *ctx, rope_vllm_prologue_call *call) {
    rope_status st = rope_engine_run(rope_context_resolve(ctx), &call->job);
    rope_vllm_weights_free(&call->w);
    return st;
}
