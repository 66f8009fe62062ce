/* SPDX-License-Identifier: MIT */
/*
 * The rows of the table-driven API fuzzer (fuzz_ops.h): each public entry point that takes
 * tensors, with a builder of a valid call and thin wrappers. A builder draws its choices with
 * tu_int (the fuzz input's bytes) and keeps shapes small; the harness mutates what it built.
 */
#include <math.h>
#include <string.h>

#include "fuzz_ops_rows.h"
#include "harness.h"

void fz_tensor(fz_call *c, int i, rope_dtype dt, int rank, int64_t d0, int64_t d1, int64_t d2, int64_t d3) {
    rope_tensor t = {NULL, dt, rank, {d0, d1, d2, d3}, 0};
    c->t[i] = t;
}

rope_fly fz_fly(const fz_call *c, const rope_tensor *const *in) {
    rope_fly f;
    memset(&f, 0, sizeof f);
    f.freq = c->freq_null ? NULL : &c->freq;
    f.kind = c->kind;
    if (in[c->pos_slot]) f.positions = *in[c->pos_slot];
    f.cs_dtype = c->cs_dtype;
    return f;
}

rope_dtype fz_float_dtype(void) { return (rope_dtype)tu_int(ROPE_F32, ROPE_BF16); }

/* A frequency configuration of rotary dim d: plain, linear or YaRN. */
static void freq_of(fz_call *c, int64_t d) {
    c->freq = (rope_freq_config)ROPE_FREQ_CONFIG_INIT;
    c->freq.rotary_dim = d;
    switch (tu_int(0, 2)) {
    case 1: c->freq.scaling = ROPE_SCALING_LINEAR, c->freq.factor = 2; break;
    case 2:
        c->freq.scaling = ROPE_SCALING_YARN, c->freq.factor = 8, c->freq.original_max_position_embeddings = 256;
        break;
    default: break;
    }
}

/* ---- ONNX: slots X, cos_cache, sin_cache, position_ids | Y; on the fly X, positions | Y ---------- */

/* X and Y (slot y) of a valid ONNX call; returns r and sets batch and seq. */
int64_t fz_onnx_x(fz_call *c, int y, int64_t *batch, int64_t *seq) {
    rope_dtype dt = fz_float_dtype();
    int64_t B = tu_int(1, 3), S = tu_int(1, 6), N = tu_int(1, 4), H = 2 * tu_int(1, 8);
    rope_onnx_attrs a = {tu_int(0, 3), tu_int(0, 1) ? 2 * tu_int(1, H / 2) : 0, 0}; /* librope's layouts 2, 3 too */
    if (tu_int(0, 1)) {
        fz_tensor(c, 0, dt, 4, B, N, S, H);
    } else {
        a.num_heads = N;
        fz_tensor(c, 0, dt, 3, B, S, N * H, 0);
    }
    c->t[y] = c->t[0];
    memcpy(c->attrs, &a, sizeof a);
    *batch = B, *seq = S;
    return a.rotary_embedding_dim ? a.rotary_embedding_dim : H;
}

static void b_onnx(fz_call *c) {
    int64_t B, S, r = fz_onnx_x(c, 4, &B, &S), P = S + tu_int(0, 8);
    rope_dtype dt = c->t[0].dtype;
    if (tu_int(0, 1)) {
        fz_tensor(c, 1, dt, 2, P, r / 2, 0, 0);
        fz_tensor(c, 3, ROPE_I64, 2, B, S, 0, 0);
        c->lo[3] = 0, c->hi[3] = P - 1;
    } else {
        fz_tensor(c, 1, dt, 3, B, S, r / 2, 0);
        c->null_t[3] = 1;
    }
    c->t[2] = c->t[1];
}

static void b_onnx_fly(fz_call *c) {
    int64_t B, S, r = fz_onnx_x(c, 2, &B, &S);
    freq_of(c, r);
    c->pos_slot = 1;
    c->kind = (rope_positions_kind)tu_int(0, 1);
    if (c->kind == ROPE_POSITIONS_PER_TOKEN) fz_tensor(c, 1, ROPE_I64, 2, B, S, 0, 0);
    else fz_tensor(c, 1, ROPE_I64, 1, B, 0, 0, 0);
    c->lo[1] = 0, c->hi[1] = 5000;
}


static rope_status c_onnx(rope_context *x, const fz_call *c, const rope_tensor *const *in, const rope_tensor *const *out) {
    return rope_onnx_rotary_embedding(x, ONNX_ATTRS(c), in[0], in[1], in[2], in[3], out[0]);
}
static rope_status c_onnx_bwd(rope_context *x, const fz_call *c, const rope_tensor *const *in,
                              const rope_tensor *const *out) {
    return rope_onnx_rotary_embedding_backward(x, ONNX_ATTRS(c), in[0], in[1], in[2], in[3], out[0]);
}
static rope_status i_onnx(const fz_call *c, const rope_tensor *const *in, rope_tensor *out) {
    return rope_onnx_infer(ONNX_ATTRS(c), in[0], in[1], in[2], in[3], &out[0]);
}
static rope_status c_onnx_fly(rope_context *x, const fz_call *c, const rope_tensor *const *in,
                              const rope_tensor *const *out) {
    rope_fly f = fz_fly(c, in);
    return rope_onnx_rotary_embedding_fly(x, ONNX_ATTRS(c), in[0], c->fly_null ? NULL : &f, out[0]);
}
static rope_status c_onnx_fly_bwd(rope_context *x, const fz_call *c, const rope_tensor *const *in,
                                  const rope_tensor *const *out) {
    rope_fly f = fz_fly(c, in);
    return rope_onnx_rotary_embedding_fly_backward(x, ONNX_ATTRS(c), in[0], c->fly_null ? NULL : &f, out[0]);
}

/* The lifecycle as one call: create, setup, execute, destroy (the first failure is the result). A
 * NULL argument cannot be put in a pack: slot `omittable` (ONNX's position_ids) is then left out,
 * another input is zeroed (rank 0: rejected, or vLLM's key absent as rope.h says). */
static rope_status lifecycle(rope_context *x, rope_operation *op, rope_status st, int n_in, int n_out,
                             const rope_tensor *const *in, const rope_tensor *const *out, int infer_only,
                             rope_tensor *inferred, int omittable) {
    if (st != ROPE_OK) return st;
    rope_tensor ins[FZ_MAX_T], outs[2];
    memset(ins, 0, sizeof ins), memset(outs, 0, sizeof outs);
    int n = 0;
    for (int i = 0; i < n_in; i++)
        if (in[i]) ins[n++] = *in[i];
        else if (i != omittable) n++; /* a zeroed descriptor: rejected, or (vLLM's key) absent */
    for (int i = 0; i < n_out; i++)
        if (out[i]) outs[i] = *out[i];
    if (infer_only) st = rope_operation_infer_shape(op, ins, (size_t)n, inferred, (size_t)n_out);
    else {
        rope_variant_pack pack = {ins, (size_t)n, outs, (size_t)n_out};
        size_t ws = 0;
        st = rope_operation_setup(op, &pack, &ws);
        if (st == ROPE_OK) st = rope_operation_execute(op, &pack, NULL, ws, x);
    }
    rope_operation_destroy(op);
    return st;
}
static rope_status c_op_onnx(rope_context *x, const fz_call *c, const rope_tensor *const *in,
                             const rope_tensor *const *out) {
    rope_operation *op = NULL;
    rope_status st = rope_operation_create_onnx(ONNX_ATTRS(c), &op);
    return lifecycle(x, op, st, 4, 1, in, out, 0, NULL, 3);
}
static rope_status i_op_onnx(const fz_call *c, const rope_tensor *const *in, rope_tensor *out) {
    rope_operation *op = NULL;
    rope_status st = rope_operation_create_onnx(ONNX_ATTRS(c), &op);
    const rope_tensor *none[1] = {NULL};
    return lifecycle(NULL, op, st, 4, 1, in, none, 1, out, 3);
}

/* ---- ATB: slots query, key, cos, sin, seqlen | ropeQ, ropeK; on the fly query, key, seqlen,
 * positions | ropeQ, ropeK ------------------------------------------------------------------------ */

/* query, key, seqlen (slot l) and outputs (slots o, o+1) of a valid ATB call; returns D and sets
 * the token count, batch and longest sequence. */
int64_t fz_atb_qk(fz_call *c, int l, int o, int64_t *ntok, int64_t *batch, int64_t *longest) {
    rope_dtype dt = fz_float_dtype();
    int64_t d = 2 * tu_int(1, 8), hk = d * tu_int(1, 2), hq = hk * tu_int(1, 3), nb = tu_int(1, 3);
    int32_t coeff = (int32_t)(tu_int(0, 2) == 0 ? d : d % 4 == 0 && tu_int(0, 1) ? 4 : 2);
    rope_atb_param p = {coeff, (int32_t)tu_int(0, 1), 0, {0}, 0};
    if (tu_int(0, 3) == 0) { /* librope's split partial layout: heads of head_size >= D, rotate-half rows */
        int64_t hs = d + 2 * tu_int(0, 4);
        p.rotary_coeff = 2, p.partial = ROPE_PARTIAL_SPLIT, p.head_size = (int32_t)hs;
        hk = hs * tu_int(1, 2), hq = hk * tu_int(1, 3);
    }
    memcpy(c->attrs, &p, sizeof p);
    int64_t n = 0, mx = 0;
    c->n_vals[l] = (int)nb;
    if (tu_int(0, 3) == 0) { /* 4-D [batch, seq, heads, head_size]: equal sequences */
        int64_t S = tu_int(1, 4);
        int64_t unit = p.head_size ? p.head_size : d; /* the head vector: a split head or a D-wide chunk */
        fz_tensor(c, 0, dt, 4, nb, S, hq / unit, unit);
        fz_tensor(c, 1, dt, 4, nb, S, hk / unit, unit);
        c->head_rows[0] = c->head_rows[1] = c->head_rows[o] = c->head_rows[o + 1] = 1;
        for (int64_t b = 0; b < nb; b++) c->vals[l][b] = S;
        n = nb * S, mx = S;
    } else {
        for (int64_t b = 0; b < nb; b++) {
            c->vals[l][b] = tu_int(0, 4);
            n += c->vals[l][b];
            if (c->vals[l][b] > mx) mx = c->vals[l][b];
        }
        fz_tensor(c, 0, dt, 2, n, hq, 0, 0);
        fz_tensor(c, 1, dt, 2, n, hk, 0, 0);
    }
    fz_tensor(c, l, tu_int(0, 1) ? ROPE_I32 : ROPE_U32, 1, nb, 0, 0, 0);
    c->t[o] = c->t[0], c->t[o + 1] = c->t[1];
    *ntok = n, *batch = nb, *longest = mx;
    return d;
}

static void b_atb(fz_call *c) {
    int64_t n, nb, mx, d = fz_atb_qk(c, 4, 5, &n, &nb, &mx);
    const rope_atb_param *p = (const rope_atb_param *)(const void *)c->attrs;
    rope_dtype cs = c->t[0].dtype == ROPE_F16 && tu_int(0, 1) ? ROPE_F32 : c->t[0].dtype;
    fz_tensor(c, 2, cs, 2, (p->cos_format ? mx : n) + tu_int(0, 3), d, 0, 0);
    c->t[3] = c->t[2];
}

static void b_atb_fly(fz_call *c) {
    int64_t n, nb, mx, d = fz_atb_qk(c, 2, 4, &n, &nb, &mx);
    freq_of(c, d);
    c->pos_slot = 3;
    c->kind = (rope_positions_kind)tu_int(0, 1);
    fz_tensor(c, 3, ROPE_I64, 1, c->kind == ROPE_POSITIONS_PER_TOKEN ? n : nb, 0, 0, 0);
    c->lo[3] = 0, c->hi[3] = 5000;
    c->cs_dtype = c->t[0].dtype == ROPE_F16 && tu_int(0, 1) ? ROPE_F32 : ROPE_DTYPE_INVALID;
}


static rope_status c_atb(rope_context *x, const fz_call *c, const rope_tensor *const *in, const rope_tensor *const *out) {
    return rope_atb_rope(x, ATB_PARAM(c), in[0], in[1], in[2], in[3], in[4], out[0], out[1]);
}
static rope_status c_atb_bwd(rope_context *x, const fz_call *c, const rope_tensor *const *in,
                             const rope_tensor *const *out) {
    return rope_atb_rope_backward(x, ATB_PARAM(c), in[0], in[1], in[2], in[3], in[4], out[0], out[1]);
}
static rope_status i_atb(const fz_call *c, const rope_tensor *const *in, rope_tensor *out) {
    return rope_atb_infer(ATB_PARAM(c), in[0], in[1], in[2], in[3], in[4], &out[0], &out[1]);
}
static rope_status c_atb_fly(rope_context *x, const fz_call *c, const rope_tensor *const *in,
                             const rope_tensor *const *out) {
    rope_fly f = fz_fly(c, in);
    return rope_atb_rope_fly(x, ATB_PARAM(c), in[0], in[1], c->fly_null ? NULL : &f, in[2], out[0], out[1]);
}
static rope_status c_atb_fly_bwd(rope_context *x, const fz_call *c, const rope_tensor *const *in,
                                 const rope_tensor *const *out) {
    rope_fly f = fz_fly(c, in);
    return rope_atb_rope_fly_backward(x, ATB_PARAM(c), in[0], in[1], c->fly_null ? NULL : &f, in[2], out[0], out[1]);
}
static rope_status c_op_atb(rope_context *x, const fz_call *c, const rope_tensor *const *in,
                            const rope_tensor *const *out) {
    rope_operation *op = NULL;
    rope_status st = rope_operation_create_atb(ATB_PARAM(c), &op);
    return lifecycle(x, op, st, 5, 2, in, out, 0, NULL, -1);
}
static rope_status i_op_atb(const fz_call *c, const rope_tensor *const *in, rope_tensor *out) {
    rope_operation *op = NULL;
    rope_status st = rope_operation_create_atb(ATB_PARAM(c), &op);
    const rope_tensor *none[2] = {NULL, NULL};
    return lifecycle(NULL, op, st, 5, 2, in, none, 1, out, -1);
}

/* ---- vLLM: slots positions, query, key, cos_sin_cache | query_out, key_out; on the fly query, key,
 * positions | query_out, key_out ---------------------------------------------------------------- */

/* Positions (slot p, values in [0, hi]), query and key (slots q, q+1; key absent at times) and the
 * outputs (slots o, o+1) of a valid vLLM call, plain or MRoPE; returns rot. */
int64_t fz_vllm_qk(fz_call *c, int p, int q, int o, int64_t hi) {
    rope_dtype dt = fz_float_dtype();
    int64_t hs = tu_int(2, 17), rot = 2 * tu_int(1, hs / 2), half = rot / 2;
    int64_t hq = tu_int(0, 3), hk = tu_int(0, 2), B = tu_int(1, 3), S = tu_int(0, 4), T = B * S;
    rope_vllm_attrs a = ROPE_VLLM_ATTRS_INIT;
    a.head_size = hs;
    a.is_neox = (int32_t)tu_int(0, 1);
    if (half >= 3 && tu_int(0, 2) == 0) { /* MRoPE: m positive sections summing to rot/2 */
        a.n_mrope_section = half >= 4 && tu_int(0, 1) ? 4 : 3;
        a.mrope_interleaved = a.n_mrope_section == 3 && tu_int(0, 1);
        int64_t left = half;
        for (int i = 0; i < a.n_mrope_section - 1; i++) {
            a.mrope_section[i] = tu_int(1, left - (a.n_mrope_section - 1 - i));
            left -= a.mrope_section[i];
        }
        a.mrope_section[a.n_mrope_section - 1] = left;
    }
    if (tu_int(0, 3) == 0) { /* the later attributes: inverse, rope_dim_offset, split halves, pairs to halves */
        a.inverse = (int32_t)tu_int(0, 1);
        int w = (int)tu_int(0, 2);
        if (w == 0 && rot < hs) a.rope_dim_offset = tu_int(0, hs - rot);
        if (w == 1 && a.is_neox && hs % 2 == 0) a.partial = ROPE_PARTIAL_SPLIT;
        if (w == 2 && !a.is_neox) a.pairs_to_halves = 1;
    }
    memcpy(c->attrs, &a, sizeof a);
    int m = a.n_mrope_section, form = (int)tu_int(0, 2); /* [T, H*hs], [B, S, H*hs], [T, H, hs] */
    rope_dtype pdt = tu_int(0, 3) == 0 ? ROPE_I32 : ROPE_I64;
    if (form == 1) {
        if (m) fz_tensor(c, p, pdt, 3, m, B, S, 0);
        else fz_tensor(c, p, pdt, 2, B, S, 0, 0);
        fz_tensor(c, q, dt, 3, B, S, hq * hs, 0);
        fz_tensor(c, q + 1, dt, 3, B, S, hk * hs, 0);
    } else {
        if (m) fz_tensor(c, p, pdt, 2, m, T, 0, 0);
        else fz_tensor(c, p, pdt, 1, T, 0, 0, 0);
        if (form == 2) {
            fz_tensor(c, q, dt, 3, T, hq, hs, 0);
            fz_tensor(c, q + 1, dt, 3, T, hk, hs, 0);
        } else {
            fz_tensor(c, q, dt, 2, T, hq * hs, 0, 0);
            fz_tensor(c, q + 1, dt, 2, T, hk * hs, 0, 0);
        }
    }
    c->lo[p] = 0, c->hi[p] = hi;
    c->vllm_pos = p + 1;
    c->head_rows[q] = c->head_rows[q + 1] = c->head_rows[o] = c->head_rows[o + 1] = 2;
    c->t[o] = c->t[q], c->t[o + 1] = c->t[q + 1];
    if (tu_int(0, 3) == 0) c->null_t[q + 1] = c->null_t[o + 1] = 1; /* query only */
    return rot;
}

static void b_vllm(fz_call *c) {
    int64_t P = tu_int(1, 8), rot = fz_vllm_qk(c, 0, 1, 4, P - 1);
    fz_tensor(c, 3, c->t[1].dtype != ROPE_F32 && tu_int(0, 2) == 0 ? ROPE_F32 : c->t[1].dtype, 2, P, rot, 0, 0);
}

static void b_vllm_fly(fz_call *c) {
    int64_t rot = fz_vllm_qk(c, 2, 0, 3, 5000);
    freq_of(c, rot);
    c->pos_slot = 2;
    c->kind = ROPE_POSITIONS_PER_TOKEN;
    c->cs_dtype = c->t[0].dtype != ROPE_F32 && tu_int(0, 1) ? ROPE_F32 : ROPE_DTYPE_INVALID;
}


static rope_status c_vllm(rope_context *x, const fz_call *c, const rope_tensor *const *in, const rope_tensor *const *out) {
    return rope_vllm_rotary_embedding(x, VLLM_ATTRS(c), in[0], in[1], in[2], in[3], out[0], out[1]);
}
static rope_status c_vllm_bwd(rope_context *x, const fz_call *c, const rope_tensor *const *in,
                              const rope_tensor *const *out) {
    return rope_vllm_rotary_embedding_backward(x, VLLM_ATTRS(c), in[0], in[1], in[2], in[3], out[0], out[1]);
}
static rope_status i_vllm(const fz_call *c, const rope_tensor *const *in, rope_tensor *out) {
    return rope_vllm_infer(VLLM_ATTRS(c), in[0], in[1], in[2], in[3], &out[0], &out[1]);
}
static rope_status c_vllm_fly(rope_context *x, const fz_call *c, const rope_tensor *const *in,
                              const rope_tensor *const *out) {
    rope_fly f = fz_fly(c, in);
    return rope_vllm_rotary_embedding_fly(x, VLLM_ATTRS(c), in[0], in[1], c->fly_null ? NULL : &f, out[0], out[1]);
}
static rope_status c_vllm_fly_bwd(rope_context *x, const fz_call *c, const rope_tensor *const *in,
                                  const rope_tensor *const *out) {
    rope_fly f = fz_fly(c, in);
    return rope_vllm_rotary_embedding_fly_backward(x, VLLM_ATTRS(c), in[0], in[1], c->fly_null ? NULL : &f, out[0],
                                                   out[1]);
}
static rope_status c_op_vllm(rope_context *x, const fz_call *c, const rope_tensor *const *in,
                             const rope_tensor *const *out) {
    rope_operation *op = NULL;
    rope_status st = rope_operation_create_vllm(VLLM_ATTRS(c), &op);
    return lifecycle(x, op, st, 4, 2, in, out, 0, NULL, -1);
}
static rope_status i_op_vllm(const fz_call *c, const rope_tensor *const *in, rope_tensor *out) {
    rope_operation *op = NULL;
    rope_status st = rope_operation_create_vllm(VLLM_ATTRS(c), &op);
    const rope_tensor *none[2] = {NULL, NULL};
    st = lifecycle(NULL, op, st, 4, 2, in, none, 1, out, -1);
    /* A key of rank 0 (or NULL, zeroed in the pack) is absent for the operation (rope.h): it then
     * ignores key_out and infers it as absent (rank 0), which is checked here in place of the
     * descriptor given (the reproducer crash-64ce88e3... has a rank-0 key). */
    if (st == ROPE_OK && (!in[2] || in[2]->rank == 0) && out[1].rank == 0) out[1] = c->t[5];
    return st;
}

/* ---- rope_cache_fill: no inputs | cos, sin; the attributes are its scalar arguments ----------- */

typedef struct cache_attrs {
    int64_t pos_start, count;
    int32_t layout, coeff;
} cache_attrs;

static void b_cache(fz_call *c) {
    int64_t d = 2 * tu_int(1, 8);
    cache_attrs a = {tu_int(0, 1000), tu_int(0, 6), (int32_t)tu_int(0, 1), 0};
    if (a.layout == ROPE_CACHE_FULL) a.coeff = (int32_t)(tu_int(0, 1) ? d : d % 4 == 0 && tu_int(0, 1) ? 4 : 2);
    memcpy(c->attrs, &a, sizeof a);
    freq_of(c, d);
    fz_tensor(c, 0, fz_float_dtype(), 2, a.count, a.layout == ROPE_CACHE_FULL ? d : d / 2, 0, 0);
    c->t[1] = c->t[0];
}
static rope_status c_cache(rope_context *x, const fz_call *c, const rope_tensor *const *in,
                           const rope_tensor *const *out) {
    (void)x, (void)in;
    const cache_attrs *a = (const cache_attrs *)(const void *)c->attrs;
    return rope_cache_fill(c->freq_null ? NULL : &c->freq, a->pos_start, a->count, (rope_cache_layout)a->layout,
                           a->coeff, out[0], out[1]);
}

/* ---- The fused prologue (vLLM). QK-norm + RoPE: slots positions, q_weight, k_weight,
 * cos_sin_cache | qkv (in place: an output the call reads). RoPE + KV-cache write: slots positions,
 * value, cos_sin_cache, slot_mapping, q_weight, k_weight | query, key, key_cache, value_cache. ---- */

/* Positions (slot p, values in [0, P)) of T tokens, plain or MRoPE of rot/2 pairs, into *a. */
static void prologue_positions(fz_call *c, rope_vllm_attrs *a, int p, int64_t T, int64_t P, int64_t rot) {
    int64_t half = rot / 2;
    if (half >= 3 && tu_int(0, 2) == 0) {
        a->n_mrope_section = half >= 4 && tu_int(0, 1) ? 4 : 3;
        a->mrope_interleaved = a->n_mrope_section == 3 && tu_int(0, 1);
        int64_t left = half;
        for (int i = 0; i < a->n_mrope_section - 1; i++) {
            a->mrope_section[i] = tu_int(1, left - (a->n_mrope_section - 1 - i));
            left -= a->mrope_section[i];
        }
        a->mrope_section[a->n_mrope_section - 1] = left;
    }
    rope_dtype pdt = tu_int(0, 3) == 0 ? ROPE_I32 : ROPE_I64;
    if (a->n_mrope_section) fz_tensor(c, p, pdt, 2, a->n_mrope_section, T, 0, 0);
    else fz_tensor(c, p, pdt, 1, T, 0, 0, 0);
    c->lo[p] = 0, c->hi[p] = P - 1;
    c->vllm_pos = p + 1;
}

static rope_dtype weight_dtype(rope_dtype dt) { return dt != ROPE_F32 && tu_int(0, 1) ? ROPE_F32 : dt; }

static void b_qk_norm(fz_call *c) {
    rope_dtype dt = fz_float_dtype();
    int64_t hs = tu_int(2, 17), rot = 2 * tu_int(1, hs / 2), T = tu_int(0, 6), P = tu_int(1, 8);
    rope_qk_norm_attrs a;
    memset(&a, 0, sizeof a);
    a.rope.head_size = hs;
    a.rope.is_neox = (int32_t)tu_int(0, 1);
    a.num_heads_q = tu_int(0, 3), a.num_heads_k = tu_int(0, 2), a.num_heads_v = tu_int(0, 2);
    a.eps = tu_int(0, 1) ? 1e-6 : 0.5;
    prologue_positions(c, &a.rope, 0, T, P, rot);
    memcpy(c->attrs, &a, sizeof a);
    fz_tensor(c, 1, weight_dtype(dt), 1, hs, 0, 0, 0);
    fz_tensor(c, 2, c->t[1].dtype, 1, hs, 0, 0, 0);
    fz_tensor(c, 3, weight_dtype(dt), 2, P, rot, 0, 0);
    fz_tensor(c, 4, dt, 2, T, (a.num_heads_q + a.num_heads_k + a.num_heads_v) * hs, 0, 0);
    if (tu_int(0, 1)) c->t[4].row_stride = c->t[4].dims[1] + tu_int(1, 3);
}

#define QKN_ATTRS(c) ((c)->attrs_null ? NULL : (const rope_qk_norm_attrs *)(const void *)(c)->attrs)

static rope_status c_qk_norm(rope_context *x, const fz_call *c, const rope_tensor *const *in,
                             const rope_tensor *const *out) {
    return rope_vllm_fused_qk_norm_rope(x, QKN_ATTRS(c), in[0], out[0], in[1], in[2], in[3]);
}
static rope_status i_qk_norm(const fz_call *c, const rope_tensor *const *in, rope_tensor *out) {
    rope_status st = rope_vllm_fused_qk_norm_rope_check(QKN_ATTRS(c), in[0], &c->t[4], in[1], in[2], in[3]);
    if (st == ROPE_OK) out[0] = c->t[4];
    return st;
}
/* The lifecycle: inputs positions, qkv, q_weight, k_weight, cos_sin_cache; output qkv itself. */
static rope_status c_op_qk_norm(rope_context *x, const fz_call *c, const rope_tensor *const *in,
                                const rope_tensor *const *out) {
    rope_operation *op = NULL;
    rope_status st = rope_operation_create_vllm_qk_norm_rope(QKN_ATTRS(c), &op);
    if (st != ROPE_OK) return st;
    rope_tensor ins[5], outs[1];
    const rope_tensor *order[5] = {in[0], out[0], in[1], in[2], in[3]};
    for (int i = 0; i < 5; i++) {
        if (order[i]) ins[i] = *order[i];
        else memset(&ins[i], 0, sizeof ins[i]); /* a zeroed descriptor: rejected */
    }
    outs[0] = ins[1];
    rope_variant_pack pack = {ins, 5, outs, 1};
    size_t ws = 0;
    st = rope_operation_setup(op, &pack, &ws);
    if (st == ROPE_OK) st = rope_operation_execute(op, &pack, NULL, ws, x);
    rope_operation_destroy(op);
    return st;
}

static void b_kv_cache(fz_call *c) {
    rope_dtype dt = fz_float_dtype();
    int64_t hs = tu_int(2, 17), rot = 2 * tu_int(1, hs / 2), T = tu_int(0, 6), P = tu_int(1, 8);
    int64_t hq = tu_int(0, 3), hk = tu_int(0, 2), bs = tu_int(1, 4), blocks = tu_int(0, 3) + (T + bs - 1) / bs;
    rope_kv_cache_attrs a;
    memset(&a, 0, sizeof a);
    a.rope.head_size = hs;
    a.rope.is_neox = (int32_t)tu_int(0, 1);
    a.kv_layout = tu_int(0, 1) ? ROPE_KV_HND : ROPE_KV_NHD;
    a.k_scale = 0.5f, a.v_scale = 2.0f, a.eps = 1e-6;
    prologue_positions(c, &a.rope, 0, T, P, rot);
    memcpy(c->attrs, &a, sizeof a);
    int rank3 = (int)tu_int(0, 1);
    fz_tensor(c, 6, dt, rank3 ? 3 : 2, T, rank3 ? hq : hq * hs, rank3 ? hs : 0, 0);
    fz_tensor(c, 7, dt, rank3 ? 3 : 2, T, rank3 ? hk : hk * hs, rank3 ? hs : 0, 0);
    c->t[1] = c->t[7]; /* value */
    c->head_rows[1] = c->head_rows[6] = c->head_rows[7] = 2;
    fz_tensor(c, 2, weight_dtype(dt), 2, P, rot, 0, 0);
    /* slots: distinct, from a shuffled range, the last token at times padded */
    fz_tensor(c, 3, tu_int(0, 1) ? ROPE_I64 : ROPE_I32, 1, T, 0, 0, 0);
    int64_t cap = blocks * bs;
    for (int64_t t = 0; t < T; t++) c->vals[3][t] = t;
    for (int64_t t = T - 1; t > 0; t--) {
        int64_t j = tu_int(0, t), v = c->vals[3][t];
        c->vals[3][t] = c->vals[3][j], c->vals[3][j] = v;
    }
    if (T && tu_int(0, 2) == 0) c->vals[3][T - 1] = -1;
    if (T && cap > T && tu_int(0, 1)) c->vals[3][0] = cap - 1;
    c->n_vals[3] = (int)(T ? T : 1);
    fz_tensor(c, 4, weight_dtype(dt), 1, hs, 0, 0, 0);
    fz_tensor(c, 5, c->t[4].dtype, 1, hs, 0, 0, 0);
    if (tu_int(0, 1)) c->null_t[4] = c->null_t[5] = 1; /* no norm */
    rope_dtype kvdt = tu_int(0, 2) == 0 ? ROPE_FP8_E4M3 : tu_int(0, 1) ? ROPE_FP8_E5M2 : dt;
    int nhd = a.kv_layout == ROPE_KV_NHD;
    fz_tensor(c, 8, kvdt, 4, blocks, nhd ? bs : hk, nhd ? hk : bs, hs);
    c->t[9] = c->t[8];
}

#define KVC_ATTRS(c) ((c)->attrs_null ? NULL : (const rope_kv_cache_attrs *)(const void *)(c)->attrs)

static rope_status i_kv_cache(const fz_call *c, const rope_tensor *const *in, rope_tensor *out) {
    const rope_tensor *o[4] = {&c->t[6], &c->t[7], &c->t[8], &c->t[9]};
    rope_status st = rope_vllm_rotary_embedding_and_cache_check(KVC_ATTRS(c), in[0], o[0], o[1], in[1], in[2], o[2],
                                                                o[3], in[3], in[4], in[5]);
    for (int i = 0; st == ROPE_OK && i < 4; i++) out[i] = *o[i];
    return st;
}
/* The lifecycle: inputs positions, query, key, value, cos_sin_cache, key_cache, value_cache,
 * slot_mapping, q_weight, k_weight (rank 0 when absent); outputs the in-place four. */
static rope_status c_op_kv_cache(rope_context *x, const fz_call *c, const rope_tensor *const *in,
                                 const rope_tensor *const *out) {
    rope_operation *op = NULL;
    rope_status st = rope_operation_create_vllm_rope_and_cache(KVC_ATTRS(c), &op);
    if (st != ROPE_OK) return st;
    const rope_tensor *order[10] = {in[0], out[0], out[1], in[1], in[2], out[2], out[3], in[3], in[4], in[5]};
    rope_tensor ins[10], outs[4];
    for (int i = 0; i < 10; i++) {
        if (order[i]) ins[i] = *order[i];
        else memset(&ins[i], 0, sizeof ins[i]); /* rejected, or (a weight) absent */
    }
    outs[0] = ins[1], outs[1] = ins[2], outs[2] = ins[5], outs[3] = ins[6];
    rope_variant_pack pack = {ins, 10, outs, 4};
    size_t ws = 0;
    st = rope_operation_setup(op, &pack, &ws);
    if (st == ROPE_OK) st = rope_operation_execute(op, &pack, NULL, ws, x);
    rope_operation_destroy(op);
    return st;
}

/* The whole Qwen3 prologue: always with the norm weights. */
static void b_kv_cache_norm(fz_call *c) {
    b_kv_cache(c);
    c->null_t[4] = c->null_t[5] = 0;
}

static rope_status c_kv_cache(rope_context *x, const fz_call *c, const rope_tensor *const *in,
                              const rope_tensor *const *out) {
    return rope_vllm_rotary_embedding_and_cache(x, KVC_ATTRS(c), in[0], out[0], out[1], in[1], in[2], out[2], out[3],
                                                in[3], in[4], in[5]);
}

/*
 * One row per entry point: name, inputs, outputs, attribute bytes, builder, call, inference. New
 * rows go at the end: byte 0 of a corpus file picks its row (modulo the count), so appending keeps
 * the committed seeds and reproducers on the rows they were made for, as long as the count keeps
 * 255 % count at 15 (reproducers crash-19000e32 and crash-2d7fa11e start with 0xff and were made
 * for row 15): 16 rows, then 20, then 24 (the four rope_cache_fill_axes rows), then 30 (the six
 * rope_*_fly_axes rows). At 30, crash-1d1245b7 (byte 0 0xeb, made for row 19) reaches row 25; its
 * copy crash-1d1245b7...-row19 (byte 0 19) keeps it on row 19.
 */
const fz_entry ops_table[] = {
    {"rope_onnx_rotary_embedding", 4, 1, sizeof(rope_onnx_attrs), b_onnx, c_onnx, i_onnx},
    {"rope_onnx_rotary_embedding_backward", 4, 1, sizeof(rope_onnx_attrs), b_onnx, c_onnx_bwd, NULL},
    {"rope_onnx_rotary_embedding_fly", 2, 1, sizeof(rope_onnx_attrs), b_onnx_fly, c_onnx_fly, NULL},
    {"rope_onnx_rotary_embedding_fly_backward", 2, 1, sizeof(rope_onnx_attrs), b_onnx_fly, c_onnx_fly_bwd, NULL},
    {"rope_operation_", 4, 1, sizeof(rope_onnx_attrs), b_onnx, c_op_onnx, i_op_onnx},
    {"rope_atb_rope", 5, 2, sizeof(rope_atb_param), b_atb, c_atb, i_atb},
    {"rope_atb_rope_backward", 5, 2, sizeof(rope_atb_param), b_atb, c_atb_bwd, NULL},
    {"rope_atb_rope_fly", 4, 2, sizeof(rope_atb_param), b_atb_fly, c_atb_fly, NULL},
    {"rope_atb_rope_fly_backward", 4, 2, sizeof(rope_atb_param), b_atb_fly, c_atb_fly_bwd, NULL},
    {"rope_operation_", 5, 2, sizeof(rope_atb_param), b_atb, c_op_atb, i_op_atb},
    {"rope_cache_fill", 0, 2, sizeof(cache_attrs), b_cache, c_cache, NULL},
    {"rope_vllm_rotary_embedding", 4, 2, sizeof(rope_vllm_attrs), b_vllm, c_vllm, i_vllm},
    {"rope_vllm_rotary_embedding_backward", 4, 2, sizeof(rope_vllm_attrs), b_vllm, c_vllm_bwd, NULL},
    {"rope_vllm_rotary_embedding_fly", 3, 2, sizeof(rope_vllm_attrs), b_vllm_fly, c_vllm_fly, NULL},
    {"rope_vllm_rotary_embedding_fly_backward", 3, 2, sizeof(rope_vllm_attrs), b_vllm_fly, c_vllm_fly_bwd, NULL},
    {"rope_operation_", 4, 2, sizeof(rope_vllm_attrs), b_vllm, c_op_vllm, i_op_vllm},
    {"rope_vllm_fused_qk_norm_rope", 4, 1, sizeof(rope_qk_norm_attrs), b_qk_norm, c_qk_norm, i_qk_norm},
    {"rope_operation_", 4, 1, sizeof(rope_qk_norm_attrs), b_qk_norm, c_op_qk_norm, NULL},
    {"rope_vllm_rotary_embedding_and_cache", 6, 4, sizeof(rope_kv_cache_attrs), b_kv_cache, c_kv_cache, i_kv_cache},
    {"rope_operation_", 6, 4, sizeof(rope_kv_cache_attrs), b_kv_cache_norm, c_op_kv_cache, NULL},
    {"rope_cache_fill_axes", 1, 2, sizeof(axes_attrs), b_axes_int, c_axes, NULL},
    {"rope_cache_fill_axes", 1, 2, sizeof(axes_attrs), b_axes_float, c_axes, NULL},
    {"rope_cache_fill_axes", 1, 2, sizeof(axes_attrs), b_axes_int_alt, c_axes, NULL},
    {"rope_cache_fill_axes", 1, 2, sizeof(axes_attrs), b_axes_float_alt, c_axes, NULL},
    {"rope_onnx_rotary_embedding_fly_axes", 2, 1, sizeof(fly_axes_attrs), b_onnx_fly_axes, c_onnx_fly_axes, NULL},
    {"rope_onnx_rotary_embedding_fly_axes_backward", 2, 1, sizeof(fly_axes_attrs), b_onnx_fly_axes,
     c_onnx_fly_axes_bwd, NULL},
    {"rope_atb_rope_fly_axes", 4, 2, sizeof(fly_axes_attrs), b_atb_fly_axes, c_atb_fly_axes, NULL},
    {"rope_atb_rope_fly_axes_backward", 4, 2, sizeof(fly_axes_attrs), b_atb_fly_axes, c_atb_fly_axes_bwd, NULL},
    {"rope_vllm_rotary_embedding_fly_axes", 3, 2, sizeof(fly_axes_attrs), b_vllm_fly_axes, c_vllm_fly_axes, NULL},
    {"rope_vllm_rotary_embedding_fly_axes_backward", 3, 2, sizeof(fly_axes_attrs), b_vllm_fly_axes,
     c_vllm_fly_axes_bwd, NULL},
};
const size_t ops_table_size = sizeof ops_table / sizeof ops_table[0];
_Static_assert(sizeof(axes_attrs) <= FZ_ATTR_BYTES, "the axes row's attributes fit fz_call's bytes");
_Static_assert(sizeof(fly_axes_attrs) <= FZ_ATTR_BYTES, "the fly_axes rows' attributes fit fz_call's bytes");
_Static_assert(255 % (sizeof ops_table / sizeof ops_table[0]) == 15,
               "the 0xff reproducers must stay on row 15 (see the comment above ops_table[])");
