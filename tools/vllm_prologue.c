/* SPDX-License-Identifier: MIT */
/* vllm::FusedQKNormRope and vllm::RotaryEmbeddingAndCache run through rope.h's fused prologue
 * (vllm_prologue.h says how): attributes read here, everything else checked by the library. */
#include "vllm_prologue.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

const char *vllm_prologue_name(vllm_prologue_op op) {
    switch (op) {
    case VLLM_FUSED_QK_NORM_ROPE:
        return "vllm::FusedQKNormRope";
    case VLLM_ROTARY_EMBEDDING_AND_CACHE:
        return "vllm::RotaryEmbeddingAndCache";
    }
    return "vllm::(unknown op)";
}

int vllm_prologue_op_of(const char *op_type) {
    if (!strcmp(op_type, "FusedQKNormRope")) return VLLM_FUSED_QK_NORM_ROPE;
    if (!strcmp(op_type, "RotaryEmbeddingAndCache")) return VLLM_ROTARY_EMBEDDING_AND_CACHE;
    return -1;
}

int vllm_prologue_required_inputs(vllm_prologue_op op) {
    return op == VLLM_FUSED_QK_NORM_ROPE ? 5 : 8;
}

int vllm_prologue_max_inputs(vllm_prologue_op op) {
    return op == VLLM_FUSED_QK_NORM_ROPE ? 5 : 10;
}

int vllm_prologue_outputs(vllm_prologue_op op) {
    return op == VLLM_FUSED_QK_NORM_ROPE ? 1 : 4;
}

/* ---- attributes --------------------------------------------------------------------------------- */

/* 1 when attribute `a` has type `type`, or no type but the field of that type (older writers). */
static int attribute_is(const onnx_attribute *a, int32_t type) {
    if (a->type == type) return 1;
    if (a->type != ONNX_ATTR_UNDEFINED) return 0;
    return (type == ONNX_ATTR_INT && a->has_i) || (type == ONNX_ATTR_FLOAT && a->has_f) ||
           (type == ONNX_ATTR_STRING && a->has_s);
}

static int wrong_type(const char *model_path, vllm_prologue_op op, size_t i, const onnx_attribute *a,
                      const char *want, diag *why) {
    return diag_set(why, "%s: graph.node[0].attribute[%zu] '%s' of %s: type %" PRId32 ", expected %s", model_path, i,
                    a->name, vllm_prologue_name(op), a->type, want);
}

/* An INT attribute that must fit int32 (is_neox, mrope_interleaved). */
static int int32_value(const char *model_path, vllm_prologue_op op, size_t i, const onnx_attribute *a, int32_t *dst,
                       diag *why) {
    if (!attribute_is(a, ONNX_ATTR_INT)) return wrong_type(model_path, op, i, a, "INT (2)", why);
    if (a->i < INT32_MIN || a->i > INT32_MAX)
        return diag_set(why, "%s: graph.node[0].attribute[%zu] '%s': %" PRId64 " does not fit int32", model_path, i,
                        a->name, a->i);
    *dst = (int32_t)a->i;
    return 0;
}

/* A STRING attribute equal to one of `names` (n of them): its index, or -1 with the diag set. */
static int string_choice(const char *model_path, vllm_prologue_op op, size_t i, const onnx_attribute *a,
                         const char *const *names, int n, const char *expected, diag *why) {
    if (!attribute_is(a, ONNX_ATTR_STRING)) {
        wrong_type(model_path, op, i, a, "STRING (3)", why);
        return -1;
    }
    for (int k = 0; k < n; k++)
        if (a->s_len == strlen(names[k]) && !memcmp(a->s, names[k], a->s_len)) return k;
    diag_set(why, "%s: graph.node[0].attribute[%zu] '%s' of %s: '%.*s', expected %s", model_path, i, a->name,
             vllm_prologue_name(op), (int)(a->s_len > 64 ? 64 : a->s_len), (const char *)a->s, expected);
    return -1;
}

/* The rotation's attributes both nodes share; 1 when `a` is one of them (read into r), 0 when not,
 * -1 on a wrong type. */
static int rotation_attribute(const char *model_path, vllm_prologue_op op, size_t i, const onnx_attribute *a,
                              const char *head_name, rope_vllm_attrs *r, diag *why) {
    if (!strcmp(a->name, head_name)) {
        if (!attribute_is(a, ONNX_ATTR_INT)) return wrong_type(model_path, op, i, a, "INT (2)", why), -1;
        r->head_size = a->i;
        return 1;
    }
    if (!strcmp(a->name, "is_neox")) return int32_value(model_path, op, i, a, &r->is_neox, why) ? -1 : 1;
    if (!strcmp(a->name, "mrope_interleaved"))
        return int32_value(model_path, op, i, a, &r->mrope_interleaved, why) ? -1 : 1;
    if (!strcmp(a->name, "mrope_section")) {
        if (a->type != ONNX_ATTR_INTS || a->n_ints > 4) {
            diag_set(why, "%s: graph.node[0].attribute[%zu] 'mrope_section' of %s: expected INTS (7) of at most 4 "
                     "entries, found type %" PRId32 " with %zu", model_path, i, vllm_prologue_name(op), a->type,
                     a->n_ints);
            return -1;
        }
        r->n_mrope_section = (int32_t)a->n_ints;
        for (size_t k = 0; k < a->n_ints; k++) r->mrope_section[k] = a->ints[k];
        return 1;
    }
    return 0;
}

static int float_value(const char *model_path, vllm_prologue_op op, size_t i, const onnx_attribute *a, double *dst,
                       diag *why) {
    if (!attribute_is(a, ONNX_ATTR_FLOAT)) return wrong_type(model_path, op, i, a, "FLOAT (1)", why);
    *dst = a->f;
    return 0;
}

static int qk_attribute(const char *model_path, size_t i, const onnx_attribute *a, vllm_prologue_attrs *p,
                        diag *why) {
    const vllm_prologue_op op = VLLM_FUSED_QK_NORM_ROPE;
    int64_t *heads = !strcmp(a->name, "num_heads_q")   ? &p->qk.num_heads_q
                     : !strcmp(a->name, "num_heads_k") ? &p->qk.num_heads_k
                     : !strcmp(a->name, "num_heads_v") ? &p->qk.num_heads_v
                                                       : NULL;
    if (heads) {
        if (!attribute_is(a, ONNX_ATTR_INT)) return wrong_type(model_path, op, i, a, "INT (2)", why);
        *heads = a->i;
        return 0;
    }
    if (!strcmp(a->name, "eps")) return float_value(model_path, op, i, a, &p->qk.eps, why);
    return diag_set(why, "%s: graph.node[0].attribute[%zu]: %s has no attribute '%s'", model_path, i,
                    vllm_prologue_name(op), a->name);
}

static int kv_attribute(const char *model_path, size_t i, const onnx_attribute *a, vllm_prologue_attrs *p,
                        diag *why) {
    const vllm_prologue_op op = VLLM_ROTARY_EMBEDDING_AND_CACHE;
    double v = 0.0;
    if (!strcmp(a->name, "kv_layout")) {
        static const char *const layouts[] = {"NHD", "HND"};
        int k = string_choice(model_path, op, i, a, layouts, 2, "'NHD' or 'HND'", why);
        if (k < 0) return -1;
        p->kv.kv_layout = k == 0 ? ROPE_KV_NHD : ROPE_KV_HND;
        return 0;
    }
    if (!strcmp(a->name, "kv_cache_dtype")) {
        static const char *const kinds[] = {"auto", "fp8", "fp8_e4m3", "fp8_e5m2"};
        int k = string_choice(model_path, op, i, a, kinds, 4, "'auto', 'fp8', 'fp8_e4m3' or 'fp8_e5m2'", why);
        if (k < 0) return -1;
        p->has_kv_cache_dtype = 1;
        p->kv_cache_dtype = k == 0 ? ROPE_DTYPE_INVALID : k == 3 ? ROPE_FP8_E5M2 : ROPE_FP8_E4M3;
        return 0;
    }
    if (!strcmp(a->name, "k_scale") || !strcmp(a->name, "v_scale")) {
        if (float_value(model_path, op, i, a, &v, why)) return -1;
        *(a->name[0] == 'k' ? &p->kv.k_scale : &p->kv.v_scale) = (float)v;
        return 0;
    }
    if (!strcmp(a->name, "eps")) return float_value(model_path, op, i, a, &p->kv.eps, why);
    if (!strcmp(a->name, "inverse")) /* rotary_embedding's; the library checks the value */
        return int32_value(model_path, op, i, a, &p->kv.rope.inverse, why);
    return diag_set(why, "%s: graph.node[0].attribute[%zu]: %s has no attribute '%s'", model_path, i,
                    vllm_prologue_name(op), a->name);
}

int vllm_prologue_attributes(const char *model_path, const onnx_node *node, vllm_prologue_op op,
                             vllm_prologue_attrs *a, diag *why) {
    const rope_vllm_attrs rope_defaults = ROPE_VLLM_ATTRS_INIT;
    memset(a, 0, sizeof *a);
    a->op = op;
    a->qk.rope = rope_defaults;
    a->qk.eps = 1e-6;
    a->kv.rope = rope_defaults;
    a->kv.kv_layout = ROPE_KV_NHD;
    a->kv.k_scale = a->kv.v_scale = 1.0f;
    a->kv.eps = 1e-6;
    const int qk = op == VLLM_FUSED_QK_NORM_ROPE;
    const char *head_name = qk ? "head_dim" : "head_size";
    rope_vllm_attrs *rope = qk ? &a->qk.rope : &a->kv.rope;
    for (size_t i = 0; i < node->n_attrs; i++) {
        const onnx_attribute *at = &node->attrs[i];
        int r = rotation_attribute(model_path, op, i, at, head_name, rope, why);
        if (r < 0) return -1;
        if (r == 1) continue;
        if (qk ? qk_attribute(model_path, i, at, a, why) : kv_attribute(model_path, i, at, a, why)) return -1;
    }
    static const char *const qk_required[] = {"head_dim", "num_heads_q", "num_heads_k", "num_heads_v"};
    static const char *const kv_required[] = {"head_size"};
    const char *const *required = qk ? qk_required : kv_required;
    for (int k = 0; k < (qk ? 4 : 1); k++)
        if (!onnx_node_attribute(node, required[k]))
            return diag_set(why, "%s: %s: attribute '%s' is required", model_path, vllm_prologue_name(op),
                            required[k]);
    return 0;
}

/* ---- running ------------------------------------------------------------------------------------- */

/* out = a dense malloc'd copy of `in` (the in-place operators write their outputs there). */
static int copy_of(const rope_tensor *in, rope_tensor *out, diag *err) {
    int64_t n = rope_tensor_numel(in);
    size_t bytes = n > 0 ? (size_t)n * rope_dtype_size(in->dtype) : 0;
    *out = *in;
    out->row_stride = 0;
    out->data = malloc(bytes ? bytes : 1);
    if (!out->data) return diag_set(err, "out of memory for a %zu-byte output", bytes);
    if (bytes) memcpy(out->data, in->data, bytes);
    return 0;
}

static void free_outputs(rope_tensor *out, int n) {
    for (int k = 0; k < n; k++) {
        free(out[k].data);
        out[k].data = NULL;
    }
}

static int library_error(diag *err) {
    const char *msg = rope_last_error();
    return diag_set(err, "%s", msg[0] ? msg : "the library refused the inputs");
}

static int run_qk(const vllm_prologue_attrs *a, const rope_tensor *in, rope_tensor *out, diag *err) {
    /* positions, qkv, q_weight, k_weight, cos_sin_cache */
    if (rope_vllm_fused_qk_norm_rope_check(&a->qk, &in[0], &in[1], &in[2], &in[3], &in[4]) != ROPE_OK)
        return library_error(err);
    if (copy_of(&in[1], &out[0], err)) return -1;
    if (rope_vllm_fused_qk_norm_rope(NULL, &a->qk, &in[0], &out[0], &in[2], &in[3], &in[4]) == ROPE_OK) return 0;
    library_error(err);
    free_outputs(out, 1);
    return -1;
}

/* kv_cache_dtype, when given, against the caches' dtype (the library takes the caches' as the truth). */
static int check_kv_cache_dtype(const vllm_prologue_attrs *a, const rope_tensor *key_cache, diag *err) {
    if (!a->has_kv_cache_dtype) return 0;
    int is_fp8 = key_cache->dtype == ROPE_FP8_E4M3 || key_cache->dtype == ROPE_FP8_E5M2;
    if (a->kv_cache_dtype == ROPE_DTYPE_INVALID ? !is_fp8 : key_cache->dtype == a->kv_cache_dtype) return 0;
    return diag_set(err, "%s: key_cache has dtype %s, but attribute kv_cache_dtype says %s",
                    vllm_prologue_name(a->op), rope_dtype_name(key_cache->dtype),
                    a->kv_cache_dtype == ROPE_DTYPE_INVALID ? "'auto' (the key's dtype)"
                                                            : rope_dtype_name(a->kv_cache_dtype));
}

static int run_kv(const vllm_prologue_attrs *a, const rope_tensor *in, int n_in, rope_tensor *out, diag *err) {
    /* positions, query, key, value, cos_sin_cache, key_cache, value_cache, slot_mapping[, q_weight, k_weight] */
    const rope_tensor *qw = n_in > 8 && in[8].data ? &in[8] : NULL;
    const rope_tensor *kw = n_in > 9 && in[9].data ? &in[9] : NULL;
    if (rope_vllm_rotary_embedding_and_cache_check(&a->kv, &in[0], &in[1], &in[2], &in[3], &in[4], &in[5], &in[6],
                                                   &in[7], qw, kw) != ROPE_OK)
        return library_error(err);
    if (check_kv_cache_dtype(a, &in[5], err)) return -1;
    static const int written[4] = {1, 2, 5, 6}; /* query, key, key_cache, value_cache */
    for (int k = 0; k < 4; k++)
        if (copy_of(&in[written[k]], &out[k], err)) {
            free_outputs(out, k);
            return -1;
        }
    if (rope_vllm_rotary_embedding_and_cache(NULL, &a->kv, &in[0], &out[0], &out[1], &in[3], &in[4], &out[2],
                                             &out[3], &in[7], qw, kw) == ROPE_OK)
        return 0;
    library_error(err);
    free_outputs(out, 4);
    return -1;
}

int vllm_prologue_run(const vllm_prologue_attrs *a, const rope_tensor *in, int n_in, rope_tensor *out, diag *err) {
    switch (a->op) {
    case VLLM_FUSED_QK_NORM_ROPE:
        return run_qk(a, in, out, err);
    case VLLM_ROTARY_EMBEDDING_AND_CACHE:
        return run_kv(a, in, n_in, out, err);
    }
    return diag_set(err, "unknown vllm prologue op %d", (int)a->op);
}
