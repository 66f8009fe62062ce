/* SPDX-License-Identifier: MIT */
/* The operation lifecycle (create, infer shape, setup, execute, destroy) over every front end (ONNX,
 * ATB, vLLM and its fused prologue). The one-shot functions (oneshot.c) call the same front-end steps
 * directly. */
#include <stdlib.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/check.h"
#include "../core/try.h"
#include "../atb/atb_rope.h"
#include "../onnx/onnx_rotary.h"
#include "../vllm/vllm_prologue.h"

/* Every function below switches on the kind with no default: a value outside the enum (memory that
 * is no operation, or a freed one) fails with ROPE_ERROR_STATE instead of running some front end. */
typedef enum rope_op_kind {
    ROPE_OP_ONNX = 1,
    ROPE_OP_ATB = 2,
    ROPE_OP_VLLM = 3,
    ROPE_OP_VLLM_QK_NORM = 4,
    ROPE_OP_VLLM_KV_CACHE = 5
} rope_op_kind;
enum { ROPE_OP_MAX_INPUTS = 10, ROPE_OP_MAX_OUTPUTS = 4 };

struct rope_operation {
    rope_op_kind kind;
    rope_onnx_attrs onnx;
    rope_atb_param atb;
    rope_vllm_attrs vllm;
    rope_qk_norm_attrs qk_norm;
    rope_kv_cache_attrs kv_cache;
    int ready; /* setup succeeded; in/out/plan describe that pack */
    rope_tensor in[ROPE_OP_MAX_INPUTS];
    size_t n_in;
    rope_tensor out[ROPE_OP_MAX_OUTPUTS];
    size_t n_out;
    union {
        rope_onnx_plan onnx;
        rope_atb_plan atb;
        rope_vllm_plan vllm;
        rope_qk_norm_plan qk_norm;
        rope_kv_plan kv_cache;
    } plan;
};

static rope_status op_init_onnx(const char *where, rope_operation *op, const rope_onnx_attrs *attrs) {
    memset(op, 0, sizeof *op);
    op->kind = ROPE_OP_ONNX;
    if (attrs) op->onnx = *attrs;
    return rope_onnx_check_attrs(where, &op->onnx);
}

static rope_status op_init_atb(const char *where, rope_operation *op, const rope_atb_param *param) {
    static const rope_atb_param defaults = ROPE_ATB_PARAM_INIT;
    memset(op, 0, sizeof *op);
    op->kind = ROPE_OP_ATB;
    op->atb = param ? *param : defaults;
    return rope_atb_check_param(where, &op->atb);
}

static rope_status create(rope_operation *tmp, rope_operation **out) {
    rope_operation *op = rope_malloc(sizeof *op);
    if (!op) return rope_fail(ROPE_ERROR_OUT_OF_MEMORY, "rope_operation_create", "operation of %zu bytes", sizeof *op);
    *op = *tmp;
    *out = op;
    return ROPE_OK;
}

rope_status rope_operation_create_onnx(const rope_onnx_attrs *attrs, rope_operation **out) {
    static const char where[] = "rope_operation_create_onnx";
    if (!out) return rope_fail(ROPE_ERROR_NULL_ARGUMENT, where, "out is NULL");
    rope_operation tmp;
    ROPE_TRY(op_init_onnx(where, &tmp, attrs));
    return create(&tmp, out);
}

rope_status rope_operation_create_atb(const rope_atb_param *param, rope_operation **out) {
    static const char where[] = "rope_operation_create_atb";
    if (!out) return rope_fail(ROPE_ERROR_NULL_ARGUMENT, where, "out is NULL");
    rope_operation tmp;
    ROPE_TRY(op_init_atb(where, &tmp, param));
    return create(&tmp, out);
}

rope_status rope_operation_create_vllm(const rope_vllm_attrs *attrs, rope_operation **out) {
    static const char where[] = "rope_operation_create_vllm";
    if (!out) return rope_fail(ROPE_ERROR_NULL_ARGUMENT, where, "out is NULL");
    rope_vllm_attrs loaded;
    ROPE_TRY(rope_vllm_attrs_load(where, attrs, &loaded));
    rope_operation tmp;
    memset(&tmp, 0, sizeof tmp);
    tmp.kind = ROPE_OP_VLLM;
    tmp.vllm = loaded;
    return create(&tmp, out);
}

rope_status rope_operation_create_vllm_qk_norm_rope(const rope_qk_norm_attrs *attrs, rope_operation **out) {
    static const char where[] = "rope_operation_create_vllm_qk_norm_rope";
    if (!out) return rope_fail(ROPE_ERROR_NULL_ARGUMENT, where, "out is NULL");
    ROPE_TRY(rope_vllm_qk_norm_check_attrs(where, attrs));
    rope_operation tmp;
    memset(&tmp, 0, sizeof tmp);
    tmp.kind = ROPE_OP_VLLM_QK_NORM;
    tmp.qk_norm = *attrs;
    return create(&tmp, out);
}

rope_status rope_operation_create_vllm_rope_and_cache(const rope_kv_cache_attrs *attrs, rope_operation **out) {
    static const char where[] = "rope_operation_create_vllm_rope_and_cache";
    if (!out) return rope_fail(ROPE_ERROR_NULL_ARGUMENT, where, "out is NULL");
    ROPE_TRY(rope_vllm_kv_check_attrs(where, attrs));
    rope_operation tmp;
    memset(&tmp, 0, sizeof tmp);
    tmp.kind = ROPE_OP_VLLM_KV_CACHE;
    tmp.kv_cache = *attrs;
    return create(&tmp, out);
}

void rope_operation_destroy(rope_operation *op) { rope_free(op); }

/* The message of an operation whose kind is none of the enum's. */
static rope_status unknown_kind(const char *where, const rope_operation *op) {
    return rope_fail(ROPE_ERROR_STATE, where, "op is not an operation made by rope_operation_create_* (kind %d)",
                     (int)op->kind);
}

size_t rope_operation_input_count(const rope_operation *op) {
    if (!op) return 0;
    switch (op->kind) {
    case ROPE_OP_ONNX: return 4;
    case ROPE_OP_ATB: return 5;
    case ROPE_OP_VLLM: return 4;
    case ROPE_OP_VLLM_QK_NORM: return 5;
    case ROPE_OP_VLLM_KV_CACHE: return 10;
    }
    return 0; /* not an operation: no count (its calls fail with ROPE_ERROR_STATE) */
}

size_t rope_operation_output_count(const rope_operation *op) {
    if (!op) return 0;
    switch (op->kind) {
    case ROPE_OP_ONNX: return 1;
    case ROPE_OP_ATB: return 2;
    case ROPE_OP_VLLM: return 2;
    case ROPE_OP_VLLM_QK_NORM: return 1;
    case ROPE_OP_VLLM_KV_CACHE: return 4;
    }
    return 0;
}

/* The RoPE + KV-cache inputs: positions, query, key, value, cos_sin_cache, key_cache, value_cache,
 * slot_mapping, then q_weight and k_weight (absent when left out, n 8, or given with rank 0). */
typedef struct kv_inputs {
    const rope_tensor *pos, *q, *k, *v, *cs, *kc, *vc, *slots, *qw, *kw;
} kv_inputs;

static kv_inputs kv_in(const rope_tensor *in, size_t n) {
    kv_inputs v = {&in[0], &in[1], &in[2], &in[3], &in[4], &in[5], &in[6], &in[7], NULL, NULL};
    if (n >= 10) {
        v.qw = in[8].rank != 0 ? &in[8] : NULL;
        v.kw = in[9].rank != 0 ? &in[9] : NULL;
    }
    return v;
}

/* The vLLM inputs: positions, query, key (absent: rank 0, or left out with n 3), cos_sin_cache. */
typedef struct vllm_inputs {
    const rope_tensor *pos, *q, *k, *cache;
} vllm_inputs;

static vllm_inputs vllm_in(const rope_tensor *in, size_t n) {
    vllm_inputs v = {&in[0], &in[1], NULL, &in[2]};
    if (n >= 4) {
        v.k = in[2].rank != 0 ? &in[2] : NULL;
        v.cache = &in[3];
    }
    return v;
}

/* ONNX's optional 4th input is absent when left out or given with rank 0. */
static const rope_tensor *onnx_ids(const rope_tensor *in, size_t n) {
    return n >= 4 && in[3].rank != 0 ? &in[3] : NULL;
}

/* The fewest inputs a kind takes (its optional ones left out); 0 for no kind. */
static size_t min_inputs(const rope_operation *op) {
    switch (op->kind) {
    case ROPE_OP_ONNX: return 3;
    case ROPE_OP_ATB: return 5;
    case ROPE_OP_VLLM: return 3;
    case ROPE_OP_VLLM_QK_NORM: return 5;
    case ROPE_OP_VLLM_KV_CACHE: return 8;
    }
    return 0;
}

static rope_status check_counts(const char *where, const rope_operation *op, const rope_tensor *in, size_t n_in,
                                size_t n_out) {
    size_t lo = min_inputs(op), hi = rope_operation_input_count(op);
    if (lo == 0) return unknown_kind(where, op);
    if (!in) return rope_fail(ROPE_ERROR_NULL_ARGUMENT, where, "inputs is NULL");
    if (n_in < lo || n_in > hi || (op->kind == ROPE_OP_VLLM_KV_CACHE && n_in == 9))
        return rope_fail(ROPE_ERROR_SHAPE, where, "number of inputs: expected %zu%s, found %zu", lo,
                         lo == hi ? "" : op->kind == ROPE_OP_VLLM_KV_CACHE ? " or 10" : " or 4", n_in);
    if (op->kind == ROPE_OP_VLLM && n_out == 1 && vllm_in(in, n_in).k == NULL) return ROPE_OK; /* no key_out */
    if (n_out != rope_operation_output_count(op))
        return rope_fail(ROPE_ERROR_SHAPE, where, "number of outputs: expected %zu, found %zu",
                         rope_operation_output_count(op), n_out);
    return ROPE_OK;
}

rope_status rope_operation_infer_shape(const rope_operation *op, const rope_tensor *inputs, size_t n_inputs,
                                       rope_tensor *outputs, size_t n_outputs) {
    static const char where[] = "rope_operation_infer_shape";
    if (!op) return rope_fail(ROPE_ERROR_NULL_ARGUMENT, where, "op is NULL");
    ROPE_TRY(check_counts(where, op, inputs, n_inputs, n_outputs));
    if (!outputs) return rope_fail(ROPE_ERROR_NULL_ARGUMENT, where, "outputs is NULL");
    switch (op->kind) {
    case ROPE_OP_ONNX: {
        rope_onnx_plan p;
        ROPE_TRY(rope_onnx_plan_shapes(where, &op->onnx, &inputs[0], &inputs[1], &inputs[2],
                                       onnx_ids(inputs, n_inputs), &p));
        outputs[0] = inputs[0];
        outputs[0].data = NULL;
        outputs[0].row_stride = 0;
        return ROPE_OK;
    }
    case ROPE_OP_VLLM_KV_CACHE: { /* in place: query, key and the caches */
        kv_inputs v = kv_in(inputs, n_inputs);
        rope_kv_plan p;
        ROPE_TRY(rope_vllm_kv_plan_shapes(where, &op->kv_cache, v.pos, v.q, v.k, v.v, v.cs, v.kc, v.vc, v.slots, v.qw,
                                          v.kw, &p));
        const rope_tensor *same[4] = {v.q, v.k, v.kc, v.vc};
        for (int i = 0; i < 4; i++) {
            outputs[i] = *same[i];
            outputs[i].data = NULL;
        }
        return ROPE_OK;
    }
    case ROPE_OP_VLLM_QK_NORM: { /* in place: the output is qkv */
        rope_qk_norm_plan p;
        ROPE_TRY(rope_vllm_qk_norm_plan_shapes(where, &op->qk_norm, &inputs[0], &inputs[1], &inputs[2], &inputs[3],
                                               &inputs[4], &p));
        outputs[0] = inputs[1];
        outputs[0].data = NULL;
        return ROPE_OK;
    }
    case ROPE_OP_VLLM: {
        vllm_inputs v = vllm_in(inputs, n_inputs);
        rope_vllm_plan p;
        ROPE_TRY(rope_vllm_plan_shapes(where, &op->vllm, v.pos, v.q, v.k, v.cache, 0, NULL, &p));
        for (size_t i = 0; i < n_outputs; i++) {
            outputs[i] = i == 0 ? *v.q : v.k ? *v.k : (rope_tensor){0};
            outputs[i].data = NULL;
            outputs[i].row_stride = 0;
        }
        return ROPE_OK;
    }
    case ROPE_OP_ATB: {
        rope_atb_plan p;
        ROPE_TRY(
            rope_atb_plan_shapes(where, &op->atb, &inputs[0], &inputs[1], &inputs[2], &inputs[3], &inputs[4], &p));
        for (int i = 0; i < 2; i++) {
            outputs[i] = inputs[i];
            outputs[i].data = NULL;
            outputs[i].row_stride = 0;
        }
        return ROPE_OK;
    }
    }
    return unknown_kind(where, op);
}

static int same_tensor(const rope_tensor *a, const rope_tensor *b) {
    if (a->data != b->data || a->dtype != b->dtype || a->rank != b->rank || a->row_stride != b->row_stride) return 0;
    for (int i = 0; i < a->rank && i < ROPE_MAX_RANK; i++)
        if (a->dims[i] != b->dims[i]) return 0;
    return 1;
}

/* Validates the pack completely; on success fills the plan. */
static rope_status validate(const char *where, rope_operation *op, const rope_variant_pack *pack) {
    if (!pack) return rope_fail(ROPE_ERROR_NULL_ARGUMENT, where, "pack is NULL");
    ROPE_TRY(check_counts(where, op, pack->inputs, pack->n_inputs, pack->n_outputs));
    if (!pack->outputs) return rope_fail(ROPE_ERROR_NULL_ARGUMENT, where, "outputs is NULL");
    const rope_tensor *in = pack->inputs, *out = pack->outputs;
    switch (op->kind) {
    case ROPE_OP_ONNX: {
        const rope_tensor *ids = onnx_ids(in, pack->n_inputs);
        rope_onnx_plan p;
        ROPE_TRY(rope_onnx_plan_shapes(where, &op->onnx, &in[0], &in[1], &in[2], ids, &p));
        return rope_onnx_check_data(where, &p, &in[0], &in[1], &in[2], ids, &out[0], &op->plan.onnx);
    }
    case ROPE_OP_VLLM_KV_CACHE: {
        kv_inputs v = kv_in(in, pack->n_inputs);
        rope_kv_plan *p = &op->plan.kv_cache;
        ROPE_TRY(rope_vllm_kv_plan_shapes(where, &op->kv_cache, v.pos, v.q, v.k, v.v, v.cs, v.kc, v.vc, v.slots, v.qw,
                                          v.kw, p));
        static const char *const names[4] = {"query", "key", "key_cache", "value_cache"};
        static const int inputs_of[4] = {1, 2, 5, 6};
        for (int i = 0; i < 4; i++)
            if (!same_tensor(&out[i], &in[inputs_of[i]]))
                return rope_fail(ROPE_ERROR_SHAPE, where,
                                 "output %d: expected %s itself (input %d: same data, dtype, dims and row_stride; the "
                                 "operator works in place)",
                                 i, names[i], inputs_of[i]);
        return rope_vllm_kv_check_data(where, p, v.pos, v.q, v.k, v.v, v.cs, v.kc, v.vc, v.slots, v.qw, v.kw);
    }
    case ROPE_OP_VLLM_QK_NORM: {
        rope_qk_norm_plan *p = &op->plan.qk_norm;
        ROPE_TRY(rope_vllm_qk_norm_plan_shapes(where, &op->qk_norm, &in[0], &in[1], &in[2], &in[3], &in[4], p));
        if (!same_tensor(&out[0], &in[1]))
            return rope_fail(ROPE_ERROR_SHAPE, where,
                             "output 0: expected qkv itself (input 1: same data, dtype, dims and row_stride; the "
                             "operator works in place)");
        return rope_vllm_qk_norm_check_data(where, p, &in[0], &in[1], &in[2], &in[3], &in[4]);
    }
    case ROPE_OP_VLLM: {
        vllm_inputs v = vllm_in(in, pack->n_inputs);
        rope_vllm_plan p;
        ROPE_TRY(rope_vllm_plan_shapes(where, &op->vllm, v.pos, v.q, v.k, v.cache, 0, NULL, &p));
        return rope_vllm_check_data(where, &p, v.pos, v.q, v.k, v.cache, &out[0], v.k ? &out[1] : NULL,
                                    &op->plan.vllm);
    }
    case ROPE_OP_ATB: {
        rope_atb_plan p;
        ROPE_TRY(rope_atb_plan_shapes(where, &op->atb, &in[0], &in[1], &in[2], &in[3], &in[4], &p));
        return rope_atb_check_data(where, &p, &in[0], &in[1], &in[2], &in[3], &in[4], &out[0], &out[1],
                                   &op->plan.atb);
    }
    }
    return unknown_kind(where, op);
}

static rope_status op_setup(const char *where, rope_operation *op, const rope_variant_pack *pack) {
    op->ready = 0;
    ROPE_TRY(validate(where, op, pack));
    op->n_in = pack->n_inputs;
    op->n_out = pack->n_outputs;
    memcpy(op->in, pack->inputs, op->n_in * sizeof *op->in);
    memcpy(op->out, pack->outputs, op->n_out * sizeof *op->out);
    op->ready = 1;
    return ROPE_OK;
}

rope_status rope_operation_setup(rope_operation *op, const rope_variant_pack *pack, size_t *workspace_size) {
    static const char where[] = "rope_operation_setup";
    if (!op) return rope_fail(ROPE_ERROR_NULL_ARGUMENT, where, "op is NULL");
    if (!workspace_size) return rope_fail(ROPE_ERROR_NULL_ARGUMENT, where, "workspace_size is NULL");
    ROPE_TRY(op_setup(where, op, pack));
    *workspace_size = 0;
    return ROPE_OK;
}

static rope_status check_same_pack(const char *where, const rope_operation *op, const rope_variant_pack *pack) {
    if (!pack) return rope_fail(ROPE_ERROR_NULL_ARGUMENT, where, "pack is NULL");
    if (!pack->inputs || !pack->outputs) return rope_fail(ROPE_ERROR_NULL_ARGUMENT, where, "pack tensors are NULL");
    if (pack->n_inputs != op->n_in || pack->n_outputs != op->n_out)
        return rope_fail(ROPE_ERROR_STATE, where, "pack has %zu inputs and %zu outputs; setup was given %zu and %zu",
                         pack->n_inputs, pack->n_outputs, op->n_in, op->n_out);
    for (size_t i = 0; i < op->n_in; i++)
        if (!same_tensor(&op->in[i], &pack->inputs[i]))
            return rope_fail(ROPE_ERROR_STATE, where, "input %zu differs from the one given to setup", i);
    for (size_t i = 0; i < op->n_out; i++)
        if (!same_tensor(&op->out[i], &pack->outputs[i]))
            return rope_fail(ROPE_ERROR_STATE, where, "output %zu differs from the one given to setup", i);
    return ROPE_OK;
}

/* Runs the pack of the last successful setup. Position ids and seqlen are data: they may have
 * changed since setup, so their values are checked again. */
static rope_status op_execute(const char *where, rope_operation *op, rope_context *ctx) {
    const rope_tensor *in = op->in, *out = op->out;
    switch (op->kind) {
    case ROPE_OP_ONNX: {
        const rope_tensor *ids = onnx_ids(in, op->n_in);
        ROPE_TRY(rope_onnx_check_data(where, &op->plan.onnx, &in[0], &in[1], &in[2], ids, &out[0], &op->plan.onnx));
        return rope_onnx_run(ctx, &op->plan.onnx, &in[0], &in[1], &in[2], ids, &out[0], where, 0);
    }
    case ROPE_OP_VLLM_KV_CACHE: {
        kv_inputs v = kv_in(in, op->n_in);
        rope_kv_plan *p = &op->plan.kv_cache;
        ROPE_TRY(rope_vllm_kv_check_data(where, p, v.pos, v.q, v.k, v.v, v.cs, v.kc, v.vc, v.slots, v.qw, v.kw));
        return rope_vllm_kv_run(where, ctx, &op->kv_cache, p, v.pos, v.q, v.k, v.v, v.cs, v.kc, v.vc, v.slots, v.qw,
                                v.kw);
    }
    case ROPE_OP_VLLM_QK_NORM: {
        rope_qk_norm_plan *p = &op->plan.qk_norm;
        ROPE_TRY(rope_vllm_qk_norm_check_data(where, p, &in[0], &in[1], &in[2], &in[3], &in[4]));
        return rope_vllm_qk_norm_run(where, ctx, &op->qk_norm, p, &in[0], &in[2], &in[3], &in[4]);
    }
    case ROPE_OP_VLLM: {
        vllm_inputs v = vllm_in(in, op->n_in);
        const rope_tensor *ko = v.k ? &out[1] : NULL;
        ROPE_TRY(rope_vllm_check_data(where, &op->plan.vllm, v.pos, v.q, v.k, v.cache, &out[0], ko, &op->plan.vllm));
        return rope_vllm_run(where, ctx, &op->plan.vllm, v.pos, v.q, v.k, v.cache, &out[0], ko, 0);
    }
    case ROPE_OP_ATB:
        ROPE_TRY(rope_atb_check_data(where, &op->plan.atb, &in[0], &in[1], &in[2], &in[3], &in[4], &out[0], &out[1],
                                     &op->plan.atb));
        return rope_atb_run(ctx, &op->plan.atb, &in[0], &in[1], &in[2], &in[3], &in[4], &out[0], &out[1], where, 0);
    }
    return unknown_kind(where, op);
}

rope_status rope_operation_execute(rope_operation *op, const rope_variant_pack *pack, void *workspace,
                                   size_t workspace_size, rope_context *ctx) {
    static const char where[] = "rope_operation_execute";
    (void)workspace; /* these operators need none: setup reports 0 */
    (void)workspace_size;
    if (!op) return rope_fail(ROPE_ERROR_NULL_ARGUMENT, where, "op is NULL");
    if (!op->ready) return rope_fail(ROPE_ERROR_STATE, where, "execute before a successful setup");
    ROPE_TRY(check_same_pack(where, op, pack));
    return op_execute(where, op, ctx);
}
