/* SPDX-License-Identifier: MIT */
/* com.microsoft::RotaryEmbedding and MRotaryEmbedding mapped onto rope_onnx_rotary_embedding
 * (ort_contrib.h says how). Semantics read in ONNX Runtime 1.30.0's operator schemas and its CPU
 * kernels (contrib_ops/cpu/bert/rotary_embedding.cc, mrotary_embedding.cc and their helpers) and
 * checked against that package's CPU results (tests/conformance/gen_ort_contrib.py). */
#include "ort_contrib.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tensor_util.h"

const char *ort_contrib_name(ort_contrib_op op) {
    switch (op) {
    case ORT_ROTARY_EMBEDDING:
        return "com.microsoft::RotaryEmbedding";
    case ORT_MROTARY_EMBEDDING:
        return "com.microsoft::MRotaryEmbedding";
    }
    return "com.microsoft::(unknown op)";
}

/* ---- attributes --------------------------------------------------------------------------------- */

/* 1 when attribute `a` has type `type`, or no type but the field of that type (older writers). */
static int attribute_is(const onnx_attribute *a, int32_t type) {
    if (a->type == type) return 1;
    if (a->type != ONNX_ATTR_UNDEFINED) return 0;
    return (type == ONNX_ATTR_INT && a->has_i) || (type == ONNX_ATTR_FLOAT && a->has_f);
}

static int wrong_type(const char *model_path, const char *op, size_t i, const onnx_attribute *a, const char *want,
                      diag *why) {
    return diag_set(why, "%s: graph.node[0].attribute[%zu] '%s' of %s: type %" PRId32 ", expected %s", model_path, i,
                    a->name, op, a->type, want);
}

int ort_contrib_attributes(const char *model_path, const onnx_node *node, ort_contrib_op op, ort_contrib_attrs *a,
                           diag *why) {
    const char *name = ort_contrib_name(op);
    memset(a, 0, sizeof *a);
    a->op = op;
    a->scale = 1.0f;
    for (size_t i = 0; i < node->n_attrs; i++) {
        const onnx_attribute *at = &node->attrs[i];
        int64_t *dst = !strcmp(at->name, "interleaved")            ? &a->interleaved
                       : !strcmp(at->name, "num_heads")            ? &a->num_heads
                       : !strcmp(at->name, "rotary_embedding_dim") ? &a->rotary_embedding_dim
                       : !strcmp(at->name, "is_packed_batching")   ? &a->is_packed_batching
                       : NULL;
        if (op == ORT_MROTARY_EMBEDDING && !strcmp(at->name, "mrope_layout")) dst = &a->mrope_layout;
        if (dst) {
            if (!attribute_is(at, ONNX_ATTR_INT)) return wrong_type(model_path, name, i, at, "INT (2)", why);
            *dst = at->i;
        } else if (!strcmp(at->name, "scale")) {
            if (!attribute_is(at, ONNX_ATTR_FLOAT)) return wrong_type(model_path, name, i, at, "FLOAT (1)", why);
            a->scale = at->f;
        } else if (op == ORT_MROTARY_EMBEDDING && !strcmp(at->name, "mrope_section")) {
            if (at->type != ONNX_ATTR_INTS) return wrong_type(model_path, name, i, at, "INTS (7)", why);
            a->has_mrope_section = 1;
            a->n_mrope_section = (int64_t)at->n_ints;
            for (size_t k = 0; k < at->n_ints && k < 3; k++) a->mrope_section[k] = at->ints[k];
        } else {
            return diag_set(why, "%s: graph.node[0].attribute[%zu]: %s has no attribute '%s'", model_path, i, name,
                            at->name);
        }
    }
    return 0;
}

/* ---- checks --------------------------------------------------------------------------------------- */

/* What the tensors and attributes say, once checked. */
typedef struct plan {
    const char *op;
    int64_t batch, seq, heads, head_size;
    int64_t rot;      /* the rotated width: rotary_embedding_dim, or head_size when that is 0 */
    int64_t max_pos;  /* cos_cache rows */
    int64_t offset;   /* RotaryEmbedding with a one-element position_ids: its value */
    int offset_form;  /* 1: position_ids is that one element */
    int wide_cache;   /* 1: the caches are [max_pos, head_size/2] and only their first rot/2 columns rotate */
} plan;

static int check_flag(const char *op, const char *attr, int64_t v, diag *err) {
    if (v == 0 || v == 1) return 0;
    return diag_set(err, "%s: attribute '%s': expected 0 or 1, found %" PRId64, op, attr, v);
}

static int check_attributes(const ort_contrib_attrs *a, const char *op, diag *err) {
    if (check_flag(op, "interleaved", a->interleaved, err) ||
        check_flag(op, "is_packed_batching", a->is_packed_batching, err))
        return -1;
    if (a->num_heads < 0) return diag_set(err, "%s: attribute 'num_heads': expected >= 0, found %" PRId64, op, a->num_heads);
    if (a->rotary_embedding_dim < 0)
        return diag_set(err, "%s: attribute 'rotary_embedding_dim': expected >= 0, found %" PRId64, op,
                        a->rotary_embedding_dim);
    if (a->rotary_embedding_dim % 2)
        return diag_set(err, "%s: attribute 'rotary_embedding_dim': expected an even number, found %" PRId64, op,
                        a->rotary_embedding_dim);
    if (a->rotary_embedding_dim > 0 && a->num_heads == 0)
        return diag_set(err, "%s: attribute 'rotary_embedding_dim' (%" PRId64 ") needs 'num_heads' (> 0), found 0",
                        op, a->rotary_embedding_dim);
    if (!isfinite(a->scale)) return diag_set(err, "%s: attribute 'scale': expected a finite number, found %g", op, (double)a->scale);
    if (a->op != ORT_MROTARY_EMBEDDING) return 0;
    if (!a->has_mrope_section) return diag_set(err, "%s: attribute 'mrope_section' is required", op);
    if (a->n_mrope_section != 3)
        return diag_set(err, "%s: attribute 'mrope_section': expected 3 entries [t, h, w], found %" PRId64, op,
                        a->n_mrope_section);
    for (int k = 0; k < 3; k++)
        if (a->mrope_section[k] < 0)
            return diag_set(err, "%s: attribute 'mrope_section'[%d]: expected >= 0, found %" PRId64, op, k,
                            a->mrope_section[k]);
    if (a->mrope_layout != 0 && a->mrope_layout != 1)
        return diag_set(err, "%s: attribute 'mrope_layout': expected 0 (sections contiguous) or 1 (interleaved), found %" PRId64,
                        op, a->mrope_layout);
    return 0;
}

static int is_float_dtype(rope_dtype d) { return d == ROPE_F32 || d == ROPE_F16 || d == ROPE_BF16; }

/* input, cos_cache and sin_cache: ranks, dtypes, the head layout and the rotated width. */
static int plan_input(const ort_contrib_attrs *a, const rope_tensor *x, const rope_tensor *cos, const rope_tensor *sin,
                      plan *p, diag *err) {
    char s1[96], s2[96];
    const char *op = p->op;
    if (x->rank != 3 && x->rank != 4)
        return diag_set(err, "%s: input: expected rank 3 [batch, sequence, hidden] or 4 [batch, num_heads, sequence, "
                        "head_size], found rank %d", op, x->rank);
    if (!is_float_dtype(x->dtype))
        return diag_set(err, "%s: input: dtype %s, expected f32, f16 or bf16", op, rope_dtype_name(x->dtype));
    if (cos->rank != 2)
        return diag_set(err, "%s: cos_cache: expected rank 2 [max_position, rotary_embedding_dim/2], found rank %d %s",
                        op, cos->rank, tensor_shape_str(cos, s1, sizeof s1));
    if (!tensor_same_shape(cos, sin))
        return diag_set(err, "%s: sin_cache: dims %s differ from cos_cache's %s", op, tensor_shape_str(sin, s1, sizeof s1),
                        tensor_shape_str(cos, s2, sizeof s2));
    if (cos->dtype != x->dtype || sin->dtype != x->dtype)
        return diag_set(err, "%s: %s: dtype %s, expected the input's %s", op, cos->dtype != x->dtype ? "cos_cache" : "sin_cache",
                        rope_dtype_name(cos->dtype != x->dtype ? cos->dtype : sin->dtype), rope_dtype_name(x->dtype));
    p->batch = x->dims[0];
    p->max_pos = cos->dims[0];
    if (x->rank == 4) {
        p->heads = x->dims[1];
        p->seq = x->dims[2];
        p->head_size = x->dims[3];
        if (a->num_heads != 0 && a->num_heads != p->heads)
            return diag_set(err, "%s: attribute 'num_heads' (%" PRId64 ") disagrees with input dim 1 (%" PRId64
                            " heads of the 4-D input)", op, a->num_heads, p->heads);
    } else {
        int64_t hidden = x->dims[2];
        p->seq = x->dims[1];
        if (a->num_heads > 0) {
            if (hidden % a->num_heads)
                return diag_set(err, "%s: input dim 2 (hidden %" PRId64 ") is not a multiple of num_heads %" PRId64, op,
                                hidden, a->num_heads);
            p->head_size = hidden / a->num_heads;
        } else if (a->op == ORT_MROTARY_EMBEDDING) {
            return diag_set(err, "%s: attribute 'num_heads': expected > 0 for a 3-D input, found 0", op);
        } else if (cos->dims[1] == 0 || cos->dims[1] > hidden / 2) {
            return diag_set(err, "%s: attribute 'num_heads' is 0 and cos_cache dim 1 is %" PRId64 ": no head size "
                            "2 * %" PRId64 " divides input dim 2 (hidden %" PRId64 ")", op, cos->dims[1], cos->dims[1], hidden);
        } else {
            p->head_size = 2 * cos->dims[1]; /* no num_heads: the cache is as wide as half a head */
        }
        if (a->num_heads > 0) {
            p->heads = a->num_heads;
        } else if (hidden % p->head_size) {
            return diag_set(err, "%s: input dim 2 (hidden %" PRId64 ") is not a multiple of the head size %" PRId64
                            " (2 * cos_cache dim 1; num_heads is 0)", op, hidden, p->head_size);
        } else {
            p->heads = hidden / p->head_size;
        }
    }
    p->rot = a->rotary_embedding_dim ? a->rotary_embedding_dim : p->head_size;
    if (p->rot > p->head_size)
        return diag_set(err, "%s: attribute 'rotary_embedding_dim' (%" PRId64 ") exceeds head_size %" PRId64, op,
                        p->rot, p->head_size);
    if (cos->dims[1] == p->rot / 2) return 0;
    if (a->op == ORT_ROTARY_EMBEDDING && p->rot < p->head_size && cos->dims[1] == p->head_size / 2) {
        p->wide_cache = 1;
        return 0;
    }
    if (a->op == ORT_ROTARY_EMBEDDING && p->rot < p->head_size)
        return diag_set(err, "%s: cos_cache dim 1: expected %" PRId64 " (rotary_embedding_dim/2) or %" PRId64
                        " (head_size/2), found %" PRId64, op, p->rot / 2, p->head_size / 2, cos->dims[1]);
    return diag_set(err, "%s: cos_cache dim 1: expected %" PRId64 " (%s/2), found %" PRId64, op, p->rot / 2,
                    a->rotary_embedding_dim ? "rotary_embedding_dim" : "head_size", cos->dims[1]);
}

static int check_sections(const ort_contrib_attrs *a, const plan *p, diag *err) {
    int64_t want = p->rot / 2, sum = 0;
    int over = 0; /* an entry (each >= 0) past INT32_MAX: not summed, so nothing overflows */
    for (int k = 0; k < 3; k++) {
        if (a->mrope_section[k] > INT32_MAX) over = 1;
        else sum += a->mrope_section[k];
    }
    if (!over && sum == want) return 0;
    char total[48];
    if (over) snprintf(total, sizeof total, "more than %" PRId64, want);
    else snprintf(total, sizeof total, "%" PRId64, sum);
    return diag_set(err, "%s: attribute 'mrope_section' [%" PRId64 ", %" PRId64 ", %" PRId64 "]: sums to %s, expected %"
                    PRId64 " (rotary_embedding_dim/2)", p->op, a->mrope_section[0], a->mrope_section[1],
                    a->mrope_section[2], total, want);
}

/* RotaryEmbedding: one element (the offset; rank 0 or [1]) or [batch, sequence], whose values the
 * library checks. MRotaryEmbedding: [3, batch, sequence], every value inside the cache. */
static int check_positions(const ort_contrib_attrs *a, const rope_tensor *ids, plan *p, diag *err) {
    char s1[96];
    if (ids->dtype != ROPE_I64)
        return diag_set(err, "%s: position_ids: dtype %s, expected i64", p->op, rope_dtype_name(ids->dtype));
    if (a->op == ORT_ROTARY_EMBEDDING) {
        if (ids->rank == 2) return 0;
        if (ids->rank > 1 || rope_tensor_numel(ids) != 1)
            return diag_set(err, "%s: position_ids: expected one element (an offset added to each token's index) or "
                            "[batch, sequence] = [%" PRId64 ", %" PRId64 "], found %s", p->op, p->batch, p->seq,
                            tensor_shape_str(ids, s1, sizeof s1));
        p->offset_form = 1;
        p->offset = ((const int64_t *)ids->data)[0];
        if (p->offset < 0) return diag_set(err, "%s: position_ids: the offset %" PRId64 " is negative", p->op, p->offset);
        if (p->seq > 0 && p->offset > p->max_pos - p->seq)
            return diag_set(err, "%s: position_ids: offset %" PRId64 " puts token %" PRId64 " of each sequence at "
                            "position %" PRId64 " + %" PRId64 ", outside the cos_cache rows [0, %" PRId64 ")", p->op,
                            p->offset, p->seq - 1, p->offset, p->seq - 1, p->max_pos);
        return 0;
    }
    if (ids->rank != 3 || ids->dims[0] != 3 || ids->dims[1] != p->batch || ids->dims[2] != p->seq)
        return diag_set(err, "%s: position_ids: expected [3, batch, sequence] = [3, %" PRId64 ", %" PRId64 "], found %s",
                        p->op, p->batch, p->seq, tensor_shape_str(ids, s1, sizeof s1));
    const int64_t *v = ids->data;
    int64_t tokens = p->batch * p->seq;
    for (int64_t i = 0; i < 3 * tokens; i++)
        if (v[i] < 0 || v[i] >= p->max_pos)
            return diag_set(err, "%s: position_ids[%" PRId64 "][%" PRId64 "][%" PRId64 "] = %" PRId64
                            " is outside the cos_cache rows [0, %" PRId64 ")", p->op, i / tokens, i % tokens / p->seq,
                            i % p->seq, v[i], p->max_pos);
    return 0;
}

/* ---- the tensors handed to the library ------------------------------------------------------------- */

/* dst[di] = src[si] * scale, the product in float32 and rounded once to the dtype (ONNX Runtime's
 * MRotaryEmbedding recipe); scale 1 copies the element's bits. */
static void put_scaled(void *dst, int64_t di, const void *src, int64_t si, rope_dtype dtype, float scale) {
    size_t es = rope_dtype_size(dtype);
    if (scale == 1.0f) {
        memcpy((char *)dst + (size_t)di * es, (const char *)src + (size_t)si * es, es);
        return;
    }
    switch (dtype) {
    case ROPE_F32:
        ((float *)dst)[di] = ((const float *)src)[si] * scale;
        return;
    case ROPE_F16:
        ((uint16_t *)dst)[di] = rope_f32_to_f16(rope_f16_to_f32(((const uint16_t *)src)[si]) * scale);
        return;
    case ROPE_BF16:
        ((uint16_t *)dst)[di] = rope_f32_to_bf16(rope_bf16_to_f32(((const uint16_t *)src)[si]) * scale);
        return;
    case ROPE_DTYPE_INVALID:
    case ROPE_I32:
    case ROPE_U32:
    case ROPE_I64:
    case ROPE_F64:
    case ROPE_FP8_E4M3:
    case ROPE_FP8_E5M2:
        return; /* not reached: plan_input admits float dtypes only */
    }
}

/* The caches the ONNX operator reads: [max_pos, rot/2] columns of a wide cache and / or scaled. */
static int table_for_onnx(const plan *p, const rope_tensor *src, float scale, rope_tensor *dst, diag *err) {
    int64_t half = p->rot / 2, width = src->dims[1];
    const int64_t dims[2] = {p->max_pos, half};
    *dst = tensor_new(src->dtype, 2, dims);
    if (!dst->data) return diag_set(err, "%s: out of memory for a [%" PRId64 ", %" PRId64 "] cache", p->op, dims[0], dims[1]);
    for (int64_t r = 0; r < p->max_pos; r++)
        for (int64_t j = 0; j < half; j++) put_scaled(dst->data, r * half + j, src->data, r * width + j, src->dtype, scale);
    return 0;
}

/* The axis (0 t, 1 h, 2 w) whose position gives pair j its cos/sin value. */
static int mrope_axis(const ort_contrib_attrs *a, int64_t j) {
    if (a->mrope_layout == 1) {
        /* interleaved: h takes j = 1, 4, 7, ... below 3*section[1], w j = 2, 5, ... below 3*section[2] */
        if (j % 3 == 1 && j < 3 * a->mrope_section[1]) return 1;
        if (j % 3 == 2 && j < 3 * a->mrope_section[2]) return 2;
        return 0;
    }
    if (j < a->mrope_section[0]) return 0;
    return j < a->mrope_section[0] + a->mrope_section[1] ? 1 : 2;
}

/* MRotaryEmbedding's per-token rows: cs[b][s][j] = src[position_ids[axis(j)][b][s]][j] * scale. */
static int mrope_rows(const ort_contrib_attrs *a, const plan *p, const rope_tensor *ids, const rope_tensor *src,
                      rope_tensor *dst, diag *err) {
    int64_t half = p->rot / 2, tokens = p->batch * p->seq;
    const int64_t dims[3] = {p->batch, p->seq, half};
    const int64_t *pos = ids->data;
    *dst = tensor_new(src->dtype, 3, dims);
    if (!dst->data) return diag_set(err, "%s: out of memory for the [%" PRId64 ", %" PRId64 ", %" PRId64 "] per-token cache",
                                    p->op, dims[0], dims[1], dims[2]);
    for (int64_t t = 0; t < tokens; t++)
        for (int64_t j = 0; j < half; j++) {
            int64_t row = pos[mrope_axis(a, j) * tokens + t];
            put_scaled(dst->data, t * half + j, src->data, row * half + j, src->dtype, a->scale);
        }
    return 0;
}

/* The offset form's [batch, sequence] ids: token s of every sequence at offset + s. */
static int offset_ids(const plan *p, rope_tensor *ids, diag *err) {
    const int64_t dims[2] = {p->batch, p->seq};
    *ids = tensor_new(ROPE_I64, 2, dims);
    if (!ids->data) return diag_set(err, "%s: out of memory for [%" PRId64 ", %" PRId64 "] position ids", p->op, dims[0], dims[1]);
    int64_t *v = ids->data;
    for (int64_t b = 0; b < p->batch; b++)
        for (int64_t s = 0; s < p->seq; s++) v[b * p->seq + s] = p->offset + s;
    return 0;
}

static int call_onnx(const plan *p, const rope_onnx_attrs *attrs, const rope_tensor *x, const rope_tensor *cos,
                     const rope_tensor *sin, const rope_tensor *ids, rope_tensor *y, diag *err) {
    rope_tensor out;
    if (rope_onnx_infer(attrs, x, cos, sin, ids, &out) != ROPE_OK)
        return diag_set(err, "%s: %s", p->op, rope_last_error());
    int64_t n = rope_tensor_numel(&out);
    out.data = calloc(n > 0 ? (size_t)n : 1, rope_dtype_size(out.dtype));
    if (!out.data) return diag_set(err, "%s: out of memory for the output", p->op);
    if (rope_onnx_rotary_embedding(NULL, attrs, x, cos, sin, ids, &out) != ROPE_OK) {
        free(out.data);
        return diag_set(err, "%s: %s", p->op, rope_last_error());
    }
    *y = out;
    return 0;
}

int ort_contrib_run(const ort_contrib_attrs *a, const rope_tensor *input, const rope_tensor *position_ids,
                    const rope_tensor *cos_cache, const rope_tensor *sin_cache, rope_tensor *y, diag *err) {
    plan p;
    memset(&p, 0, sizeof p);
    memset(y, 0, sizeof *y);
    p.op = ort_contrib_name(a->op);
    if (check_attributes(a, p.op, err)) return -1;
    if (!input || !position_ids || !cos_cache || !sin_cache || !input->data || !position_ids->data ||
        !cos_cache->data || !sin_cache->data)
        return diag_set(err, "%s: a NULL input (input, position_ids, cos_cache and sin_cache are all required)", p.op);
    if (plan_input(a, input, cos_cache, sin_cache, &p, err)) return -1;
    if (a->op == ORT_MROTARY_EMBEDDING && check_sections(a, &p, err)) return -1;
    if (check_positions(a, position_ids, &p, err)) return -1;

    rope_onnx_attrs attrs = {a->interleaved, p.rot, input->rank == 3 ? p.heads : 0};
    rope_tensor cos, sin, ids;
    memset(&ids, 0, sizeof ids);
    const rope_tensor *use_cos = cos_cache, *use_sin = sin_cache, *use_ids = position_ids;
    int rc = 0;
    if (a->op == ORT_MROTARY_EMBEDDING) {
        if ((rc = mrope_rows(a, &p, position_ids, cos_cache, &cos, err)) == 0 &&
            (rc = mrope_rows(a, &p, position_ids, sin_cache, &sin, err)) != 0)
            free(cos.data);
        use_ids = NULL; /* per-token 3-D caches: no ids */
    } else if (p.wide_cache || a->scale != 1.0f) {
        if ((rc = table_for_onnx(&p, cos_cache, a->scale, &cos, err)) == 0 &&
            (rc = table_for_onnx(&p, sin_cache, a->scale, &sin, err)) != 0)
            free(cos.data);
    } else {
        cos = *cos_cache;
        sin = *sin_cache;
    }
    if (rc) return -1;
    int own_tables = cos.data != cos_cache->data;
    use_cos = &cos;
    use_sin = &sin;
    if (p.offset_form) {
        rc = offset_ids(&p, &ids, err);
        use_ids = &ids;
    }
    if (rc == 0) rc = call_onnx(&p, &attrs, input, use_cos, use_sin, use_ids, y, err);
    free(ids.data);
    if (own_tables) {
        free(cos.data);
        free(sin.data);
    }
    return rc;
}
