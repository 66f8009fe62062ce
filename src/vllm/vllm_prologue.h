/* SPDX-License-Identifier: MIT */
/* The fused attention prologue's front end (issue 16): QK-norm + RoPE on a packed qkv
 * (vllm_qk_norm.c) and RoPE + KV-cache write (vllm_kv_cache.c). Both plan the rotation with the
 * rotary_embedding front end (vllm_rope.h) and add parts to its job: a norm weight on the q and k
 * streams, a cache slot store on k, a store-only value stream. */
#ifndef ROPE_VLLM_PROLOGUE_H
#define ROPE_VLLM_PROLOGUE_H

#include "vllm_rope.h"

/* eps: finite and >= 0. */
rope_status rope_vllm_check_eps(const char *where, const char *name, double eps);

/* A norm weight: [head_size], dtype x_dtype or f32, dense. */
rope_status rope_vllm_check_weight(const char *where, const char *name, const rope_tensor *w, int64_t head_size,
                                   rope_dtype x_dtype);

/* The float32 weights of a checked pair of weights (q, k): pointers into the tensors when f32, else
 * widened into `buf` (2 * head_size floats) or, when head_size > ROPE_VLLM_WEIGHT_STACK, into an
 * allocation freed by rope_vllm_weights_free. Errors: OUT_OF_MEMORY. */
enum { ROPE_VLLM_WEIGHT_STACK = 512 };
typedef struct rope_vllm_weights {
    const float *q, *k;
    float *owned;
} rope_vllm_weights;
rope_status rope_vllm_weights_make(const char *where, const rope_tensor *qw, const rope_tensor *kw, int64_t head_size,
                                   float *buf, rope_vllm_weights *out);
void rope_vllm_weights_free(rope_vllm_weights *w);

/* A prologue call (vllm_prologue.c): begin makes the rotation job of q and k (in place) with the
 * float32 norm weights on their streams when qw and kw are given (both or neither), eps, and the
 * MRoPE rows when planned; the caller may add parts to call->job (the cache write's stores), then
 * rope_vllm_prologue_run runs it and frees what begin made. The job points into `call`, which must
 * not move in between. Errors: begin OUT_OF_MEMORY (the weights), run those of rope_engine_run. */
typedef struct rope_vllm_prologue_call {
    rope_job job;
    rope_mrope mrope;
    rope_vllm_weights w;
    float buf[2 * ROPE_VLLM_WEIGHT_STACK];
} rope_vllm_prologue_call;

rope_status rope_vllm_prologue_begin(const char *where, const rope_vllm_plan *p, const rope_tensor *pos,
                                     const rope_tensor *q, const rope_tensor *k, const rope_tensor *cache,
                                     const rope_tensor *qw, const rope_tensor *kw, double eps,
                                     rope_vllm_prologue_call *call);
rope_status rope_vllm_prologue_run(rope_context *ctx, rope_vllm_prologue_call *call);

/* Checked QK-norm + RoPE call, for the one-shot call and the lifecycle. */
typedef struct rope_qk_norm_plan {
    rope_vllm_plan rope;          /* q and k as the two streams of the rotation */
    rope_tensor q_view, k_view;   /* the q and k columns of qkv */
} rope_qk_norm_plan;

rope_status rope_vllm_qk_norm_check_attrs(const char *where, const rope_qk_norm_attrs *a);
rope_status rope_vllm_qk_norm_plan_shapes(const char *where, const rope_qk_norm_attrs *a, const rope_tensor *pos,
                                          const rope_tensor *qkv, const rope_tensor *qw, const rope_tensor *kw,
                                          const rope_tensor *cache, rope_qk_norm_plan *p);
rope_status rope_vllm_qk_norm_check_data(const char *where, rope_qk_norm_plan *p, const rope_tensor *pos,
                                         const rope_tensor *qkv, const rope_tensor *qw, const rope_tensor *kw,
                                         const rope_tensor *cache);
rope_status rope_vllm_qk_norm_run(const char *where, rope_context *ctx, const rope_qk_norm_attrs *a,
                                  const rope_qk_norm_plan *p, const rope_tensor *pos, const rope_tensor *qw,
                                  const rope_tensor *kw, const rope_tensor *cache);

/* Checked RoPE + KV-cache write call (vllm_kv_cache.c), for the one-shot call and the lifecycle. */
typedef struct rope_kv_plan {
    rope_vllm_plan rope;        /* q and k in place */
    int64_t v_stride;
    int64_t blocks, block_size; /* of the caches */
    int normed;                 /* q_weight and k_weight given */
} rope_kv_plan;

rope_status rope_vllm_kv_check_attrs(const char *where, const rope_kv_cache_attrs *a);
rope_status rope_vllm_kv_plan_shapes(const char *where, const rope_kv_cache_attrs *a, const rope_tensor *pos,
                                     const rope_tensor *q, const rope_tensor *k, const rope_tensor *v,
                                     const rope_tensor *cs, const rope_tensor *kc, const rope_tensor *vc,
                                     const rope_tensor *slots, const rope_tensor *qw, const rope_tensor *kw,
                                     rope_kv_plan *p);
/* Data pointers, aliasing, every position and every slot (range, none twice). */
rope_status rope_vllm_kv_check_data(const char *where, rope_kv_plan *p, const rope_tensor *pos, const rope_tensor *q,
                                    const rope_tensor *k, const rope_tensor *v, const rope_tensor *cs,
                                    const rope_tensor *kc, const rope_tensor *vc, const rope_tensor *slots,
                                    const rope_tensor *qw, const rope_tensor *kw);
rope_status rope_vllm_kv_run(const char *where, rope_context *ctx, const rope_kv_cache_attrs *attrs,
                             const rope_kv_plan *p, const rope_tensor *pos, const rope_tensor *q, const rope_tensor *k,
                             const rope_tensor *v, const rope_tensor *cs, const rope_tensor *kc, const rope_tensor *vc,
                             const rope_tensor *slots, const rope_tensor *qw, const rope_tensor *kw);

#endif
