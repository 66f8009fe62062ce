/* SPDX-License-Identifier: MIT */
/* The vLLM operator's public calls: shape inference and the one-shot forward and backward with a
 * cos_sin_cache (the on-the-fly forms are vllm_fly.c's). Each is the lifecycle's steps (check
 * attributes, plan shapes, check data, run) called directly. */
#include "../core/check.h"
#include "../core/memo.h"
#include "../core/try.h"
#include "vllm_rope.h"

rope_status rope_vllm_infer(const rope_vllm_attrs *attrs, const rope_tensor *positions, const rope_tensor *query,
                            const rope_tensor *key, const rope_tensor *cos_sin_cache, rope_tensor *query_out,
                            rope_tensor *key_out) {
    static const char where[] = "rope_vllm_infer";
    rope_vllm_attrs loaded;
    ROPE_TRY(rope_vllm_attrs_load(where, attrs, &loaded));
    attrs = &loaded;
    static const char *const names[4] = {"positions", "query", "cos_sin_cache", "query_out"};
    const void *const args[4] = {positions, query, cos_sin_cache, query_out};
    ROPE_TRY(rope_check_args(where, 4, names, args));
    if (key && !key_out) return rope_fail(ROPE_ERROR_NULL_ARGUMENT, where, "key_out is NULL (key is given)");
    rope_vllm_plan p;
    ROPE_TRY(rope_vllm_plan_shapes(where, attrs, positions, query, key, cos_sin_cache, 0, NULL, &p));
    rope_tensor qo = *query;
    qo.data = NULL;
    qo.row_stride = 0;
    *query_out = qo;
    if (key) {
        rope_tensor ko = *key;
        ko.data = NULL;
        ko.row_stride = 0;
        *key_out = ko;
    }
    return ROPE_OK;
}

/* The last table call on this thread whose descriptors passed (core/memo.h). */
static _Thread_local struct {
    rope_memo_key key;
    rope_vllm_plan plan; /* before its positions were checked */
} last_table_call;

/* The memo key of a table call: the attribute bytes the caller's struct_size covers (none when
 * attrs is NULL or struct_size out of range: such a call fails its checks, and is never remembered),
 * then the six tensor arguments. */
static void table_key(rope_memo_key *key, const char *where, const rope_vllm_attrs *attrs, const rope_tensor *pos,
                      const rope_tensor *q, const rope_tensor *k, const rope_tensor *cache, const rope_tensor *qo,
                      const rope_tensor *ko) {
    rope_memo_start(key, where);
    if (!attrs || attrs->struct_size > sizeof *attrs) {
        key->full = 1;
        return;
    }
    rope_memo_add(key, attrs, attrs->struct_size);
    rope_memo_add_tensor(key, pos);
    rope_memo_add_tensor(key, q);
    rope_memo_add_tensor(key, k);
    rope_memo_add_tensor(key, cache);
    rope_memo_add_tensor(key, qo);
    rope_memo_add_tensor(key, ko);
}

/* With a cache; names[]: positions, query, key, cos_sin_cache as the messages call them. */
static rope_status table_call(const char *where, const char *const names[4], int backward, rope_context *ctx,
                              const rope_vllm_attrs *attrs, const rope_tensor *pos, const rope_tensor *q,
                              const rope_tensor *k, const rope_tensor *cache, const rope_tensor *qo,
                              const rope_tensor *ko) {
    rope_memo_key key;
    table_key(&key, where, attrs, pos, q, k, cache, qo, ko);
    if (rope_memo_same(&key, &last_table_call.key)) { /* the descriptors of the last call: only data is new */
        rope_vllm_plan *m = &last_table_call.plan;
        ROPE_TRY(rope_vllm_check_values(where, m, pos, q, k, cache, qo, ko, &m->max_pos));
        return rope_vllm_run(where, ctx, m, pos, q, k, cache, qo, ko, backward);
    }
    rope_vllm_plan p;
    rope_vllm_attrs loaded;
    ROPE_TRY(rope_vllm_attrs_load(where, attrs, &loaded));
    attrs = &loaded;
    const void *const args[4] = {pos, q, cache, qo};
    const char *const arg_names[4] = {names[0], names[1], names[3], "query_out"};
    ROPE_TRY(rope_check_args(where, 4, arg_names, args));
    ROPE_TRY(rope_vllm_plan_shapes(where, attrs, pos, q, k, cache, 0, NULL, &p));
    rope_vllm_plan checked; /* the descriptors' part of check_data passed when its values are reached */
    ROPE_TRY(rope_vllm_check_data(where, &p, pos, q, k, cache, qo, ko, &checked));
    last_table_call.key = key; /* a key that is `full` never matches */
    last_table_call.plan = checked;
    return rope_vllm_run(where, ctx, &checked, pos, q, k, cache, qo, ko, backward);
}

static const char *const fwd_names[4] = {"positions", "query", "key", "cos_sin_cache"};

rope_status rope_vllm_rotary_embedding(rope_context *ctx, const rope_vllm_attrs *attrs, const rope_tensor *positions,
                                       const rope_tensor *query, const rope_tensor *key,
                                       const rope_tensor *cos_sin_cache, const rope_tensor *query_out,
                                       const rope_tensor *key_out) {
    return table_call("rope_vllm_rotary_embedding", fwd_names, 0, ctx, attrs, positions, query, key, cos_sin_cache,
                      query_out, key_out);
}

rope_status rope_vllm_rotary_embedding_backward(rope_context *ctx, const rope_vllm_attrs *attrs,
                                                const rope_tensor *positions, const rope_tensor *grad_query,
                                                const rope_tensor *grad_key, const rope_tensor *cos_sin_cache,
                                                const rope_tensor *dquery, const rope_tensor *dkey) {
    return table_call("rope_vllm_rotary_embedding_backward", fwd_names, 1, ctx, attrs, positions, grad_query,
                      grad_key, cos_sin_cache, dquery, dkey);
}
