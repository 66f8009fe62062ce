/* SPDX-License-Identifier: MIT */
/*
 * The ops fuzzer's multi-axis rows (fuzz_ops_rows.h): rope_cache_fill_axes and the operators on the
 * fly from multi-axis positions, built and called as fuzz_ops_table.c builds and calls the others.
 */
#include <math.h>
#include <string.h>

#include "fuzz_ops_rows.h"
#include "harness.h"

/* ---- rope_cache_fill_axes: slots positions | cos, sin; the attributes are its config and scalar
 * arguments. Four rows: integer (i64, i32) or float (f32, f64) coordinates, each frequency mode. -- */


/* A coordinate: mostly small, at times one the library must refuse or take at its limits. */
static int64_t axes_int(void) {
    static const int64_t edge[] = {
        0,         -1,        (int64_t)1 << 53, -((int64_t)1 << 53), ((int64_t)1 << 53) + 1, (int64_t)1 << 46,
        INT32_MAX, INT32_MIN, INT64_MIN};
    if (tu_int(0, 7)) return tu_int(-300, 300);
    return edge[tu_int(0, (int64_t)(sizeof edge / sizeof edge[0]) - 1)];
}
static double axes_float(void) {
    static const double edge[] = {0.0, -0.0, 0.5, -1.25, 1e-310, 9007199254740993.0, 7e13, 1e300, -1e300};
    switch (tu_int(0, 11)) {
    case 0: return NAN;
    case 1: return tu_int(0, 1) ? INFINITY : -INFINITY;
    case 2: return edge[tu_int(0, (int64_t)(sizeof edge / sizeof edge[0]) - 1)];
    case 3: return (double)tu_int(-300, 300);
    default: return tu_uniform(-300, 300);
    }
}

/* A valid call with A = 1 .. ROPE_MAX_AXES coordinates, or (as the mutations would not) A = 0 or
 * ROPE_MAX_AXES + 1, an odd axis width, unequal widths when alternating. */
static void b_axes(fz_call *c, int float_pos, rope_axes_freq mode) {
    axes_attrs a;
    memset(&a, 0, sizeof a);
    a.cfg = (rope_axes_config)ROPE_AXES_CONFIG_INIT;
    int n = (int)tu_int(0, ROPE_MAX_AXES + 1), kept = n < ROPE_MAX_AXES ? n : ROPE_MAX_AXES;
    int64_t width = 2 * tu_int(1, 4), rot = 0;
    a.cfg.n_axes = n;
    a.cfg.freq = mode;
    for (int k = 0; k < kept; k++) {
        a.cfg.axes_dims[k] = mode == ROPE_AXES_FREQ_ALTERNATING ? width : 2 * tu_int(1, 4);
        a.cfg.theta[k] = tu_int(0, 2) == 0 ? 0.0 : tu_int(0, 1) ? (double)tu_int(2, 20000) : tu_uniform(1.01, 1e6);
    }
    if (kept && tu_int(0, 7) == 0) a.cfg.axes_dims[tu_int(0, kept - 1)] += tu_int(0, 1) ? 1 : -1; /* odd (1 or 3..9) */
    for (int k = 0; k < kept; k++) rot += a.cfg.axes_dims[k];
    if (tu_int(0, 3) == 0) a.cfg.attention = tu_uniform(0.125, 4);
    a.layout = (int32_t)tu_int(0, 2);
    if (a.layout == ROPE_CACHE_FULL) a.coeff = (int32_t)(tu_int(0, 1) ? rot : rot % 4 == 0 && tu_int(0, 1) ? 4 : 2);
    memcpy(c->attrs, &a, sizeof a);

    int64_t T = tu_int(0, 6);
    rope_dtype pdt = float_pos ? (tu_int(0, 1) ? ROPE_F64 : ROPE_F32) : (tu_int(0, 1) ? ROPE_I64 : ROPE_I32);
    fz_tensor(c, 0, pdt, 2, T, n, 0, 0);
    c->float_vals[0] = 1;
    c->n_vals[0] = T * n != 0 ? (int)(T * n) : 1;
    for (int k = 0; k < c->n_vals[0]; k++) {
        c->vals[0][k] = axes_int();
        c->fvals[0][k] = axes_float();
    }
    fz_tensor(c, 1, fz_float_dtype(), 2, T, a.layout == ROPE_CACHE_HALF ? rot / 2 : rot, 0, 0);
    c->t[2] = c->t[1];
    if (a.layout == ROPE_CACHE_VLLM && tu_int(0, 3)) c->null_t[2] = 1; /* sin unused: NULL, as rope.h asks */
}
void b_axes_int(fz_call *c) { b_axes(c, 0, ROPE_AXES_FREQ_PER_AXIS); }
void b_axes_float(fz_call *c) { b_axes(c, 1, ROPE_AXES_FREQ_PER_AXIS); }
void b_axes_int_alt(fz_call *c) { b_axes(c, 0, ROPE_AXES_FREQ_ALTERNATING); }
void b_axes_float_alt(fz_call *c) { b_axes(c, 1, ROPE_AXES_FREQ_ALTERNATING); }

rope_status c_axes(rope_context *x, const fz_call *c, const rope_tensor *const *in, const rope_tensor *const *out) {
    (void)x;
    const axes_attrs *a = (const axes_attrs *)(const void *)c->attrs;
    return rope_cache_fill_axes(c->attrs_null ? NULL : &a->cfg, in[0], (rope_cache_layout)a->layout, a->coeff, out[0],
                                out[1]);
}

/* ---- on the fly from multi-axis positions (rope_*_fly_axes): the operator's slots with the
 * coordinates [tokens, A] in the positions slot; the attributes are the operator's, then the axes
 * configuration and rope_fly_axes' struct_size, all mutated as bytes. --------------------------- */


/* An axes configuration of rotated width rot (even, >= 2): A = 1 .. min(rot/2, ROPE_MAX_AXES) even
 * widths, per-axis or (equal widths) alternating; at times one that does not add up to rot. */
static void axes_config_of(rope_axes_config *cfg, int64_t rot) {
    *cfg = (rope_axes_config)ROPE_AXES_CONFIG_INIT;
    int64_t pairs = rot / 2, most = pairs < ROPE_MAX_AXES ? pairs : ROPE_MAX_AXES;
    int n = (int)tu_int(1, most);
    if (pairs % n == 0 && tu_int(0, 2) == 0) {
        cfg->freq = ROPE_AXES_FREQ_ALTERNATING;
        for (int a = 0; a < n; a++) cfg->axes_dims[a] = rot / n;
    } else {
        int64_t left = pairs;
        for (int a = 0; a < n - 1; a++) {
            cfg->axes_dims[a] = 2 * tu_int(1, left - (n - 1 - a));
            left -= cfg->axes_dims[a] / 2;
        }
        cfg->axes_dims[n - 1] = 2 * left;
    }
    cfg->n_axes = n;
    for (int a = 0; a < n; a++) cfg->theta[a] = tu_int(0, 2) == 0 ? 0.0 : tu_int(0, 1) ? 256.0 : tu_uniform(1.5, 1e6);
    if (tu_int(0, 3) == 0) cfg->attention = tu_uniform(0.125, 4);
    if (tu_int(0, 7) == 0) cfg->axes_dims[tu_int(0, n - 1)] += 2; /* the widths miss the operator's rot */
}

/* Slot p: the coordinates of `rank - 1` token dims (d0, d1) and A, of a random position dtype, values
 * mostly small and at times ones the library refuses (axes_int, axes_float). */
static void axes_positions(fz_call *c, int p, int rank, int64_t d0, int64_t d1, int A) {
    static const rope_dtype types[] = {ROPE_I64, ROPE_I32, ROPE_F32, ROPE_F64};
    rope_dtype dt = types[tu_int(0, 3)];
    if (rank == 2) fz_tensor(c, p, dt, 2, d0, A, 0, 0);
    else fz_tensor(c, p, dt, 3, d0, d1, A, 0);
    c->float_vals[p] = 1;
    c->n_vals[p] = (int)tu_int(1, FZ_MAX_VALS);
    for (int k = 0; k < c->n_vals[p]; k++) {
        c->vals[p][k] = tu_int(0, 3) ? tu_int(-40, 40) : axes_int();
        c->fvals[p][k] = tu_int(0, 3) ? (double)tu_int(-40, 40) : axes_float();
    }
}

void b_onnx_fly_axes(fz_call *c) {
    int64_t B, S, r = fz_onnx_x(c, 2, &B, &S);
    fly_axes_attrs a;
    memset(&a, 0, sizeof a);
    memcpy(&a.op.onnx, c->attrs, sizeof a.op.onnx);
    axes_config_of(&a.cfg, r);
    a.fly_size = sizeof(rope_fly_axes);
    memcpy(c->attrs, &a, sizeof a);
    int form = (int)tu_int(0, 2); /* [B*S, A], [B, S, A], [S, A] shared by the batch rows */
    if (form == 1) axes_positions(c, 1, 3, B, S, a.cfg.n_axes);
    else axes_positions(c, 1, 2, form == 2 ? S : B * S, 0, a.cfg.n_axes);
    c->pos_slot = 1;
    c->cs_dtype = tu_int(0, 1) ? c->t[0].dtype : ROPE_DTYPE_INVALID;
}

void b_atb_fly_axes(fz_call *c) {
    int64_t n, nb, mx, d = fz_atb_qk(c, 2, 4, &n, &nb, &mx);
    fly_axes_attrs a;
    memset(&a, 0, sizeof a);
    memcpy(&a.op.atb, c->attrs, sizeof a.op.atb);
    axes_config_of(&a.cfg, d);
    a.fly_size = sizeof(rope_fly_axes);
    memcpy(c->attrs, &a, sizeof a);
    axes_positions(c, 3, 2, n, 0, a.cfg.n_axes);
    c->pos_slot = 3;
    c->cs_dtype = c->t[0].dtype == ROPE_F16 && tu_int(0, 1) ? ROPE_F32 : ROPE_DTYPE_INVALID;
}

void b_vllm_fly_axes(fz_call *c) {
    int64_t rot = fz_vllm_qk(c, 2, 0, 3, 0);
    fly_axes_attrs a;
    memset(&a, 0, sizeof a);
    memcpy(&a.op.vllm, c->attrs, sizeof a.op.vllm);
    int m = a.op.vllm.n_mrope_section;
    if (tu_int(0, 7)) { /* plain: the axes place the pairs (MRoPE sections are refused) */
        a.op.vllm.n_mrope_section = 0;
        a.op.vllm.mrope_interleaved = 0;
        memset(a.op.vllm.mrope_section, 0, sizeof a.op.vllm.mrope_section);
    }
    axes_config_of(&a.cfg, rot);
    a.fly_size = sizeof(rope_fly_axes);
    memcpy(c->attrs, &a, sizeof a);
    /* The coordinates over the token dims fz_vllm_qk gave the positions; [T, H, hs] rows become
     * [T, H*hs] (the harness's row rule for 3-D vLLM tensors follows 1-D positions). */
    const rope_tensor *pt = &c->t[2];
    int tok_rank = pt->rank - (m ? 1 : 0);
    int64_t d0 = pt->dims[m ? 1 : 0], d1 = tok_rank == 2 ? pt->dims[m ? 2 : 1] : 0;
    for (int s = 0; s < 5; s++) {
        if (s == 2 || tok_rank != 1 || c->t[s].rank != 3) continue;
        c->t[s].rank = 2;
        c->t[s].dims[1] *= c->t[s].dims[2];
        c->t[s].dims[2] = 0;
    }
    c->vllm_pos = 0;
    c->lo[2] = c->hi[2] = 0;
    axes_positions(c, 2, tok_rank + 1, d0, d1, a.cfg.n_axes);
    c->pos_slot = 2;
    c->cs_dtype = c->t[0].dtype != ROPE_F32 && tu_int(0, 1) ? ROPE_F32 : ROPE_DTYPE_INVALID;
}

/* The rope_fly_axes of a row: the attributes' config and struct_size, the positions slot. */
static rope_fly_axes fz_fly_axes(const fz_call *c, const rope_tensor *const *in) {
    const fly_axes_attrs *a = (const fly_axes_attrs *)(const void *)c->attrs;
    rope_fly_axes f = ROPE_FLY_AXES_INIT;
    f.struct_size = a->fly_size;
    f.axes = c->freq_null ? NULL : &a->cfg;
    if (in[c->pos_slot]) f.positions = *in[c->pos_slot];
    f.cs_dtype = c->cs_dtype;
    return f;
}

rope_status c_onnx_fly_axes(rope_context *x, const fz_call *c, const rope_tensor *const *in,
                            const rope_tensor *const *out) {
    rope_fly_axes f = fz_fly_axes(c, in);
    return rope_onnx_rotary_embedding_fly_axes(x, ONNX_ATTRS(c), in[0], c->fly_null ? NULL : &f, out[0]);
}
rope_status c_onnx_fly_axes_bwd(rope_context *x, const fz_call *c, const rope_tensor *const *in,
                                const rope_tensor *const *out) {
    rope_fly_axes f = fz_fly_axes(c, in);
    return rope_onnx_rotary_embedding_fly_axes_backward(x, ONNX_ATTRS(c), in[0], c->fly_null ? NULL : &f, out[0]);
}
rope_status c_atb_fly_axes(rope_context *x, const fz_call *c, const rope_tensor *const *in,
                           const rope_tensor *const *out) {
    rope_fly_axes f = fz_fly_axes(c, in);
    return rope_atb_rope_fly_axes(x, ATB_PARAM(c), in[0], in[1], c->fly_null ? NULL : &f, in[2], out[0], out[1]);
}
rope_status c_atb_fly_axes_bwd(rope_context *x, const fz_call *c, const rope_tensor *const *in,
                               const rope_tensor *const *out) {
    rope_fly_axes f = fz_fly_axes(c, in);
    return rope_atb_rope_fly_axes_backward(x, ATB_PARAM(c), in[0], in[1], c->fly_null ? NULL : &f, in[2], out[0],
                                           out[1]);
}
rope_status c_vllm_fly_axes(rope_context *x, const fz_call *c, const rope_tensor *const *in,
                            const rope_tensor *const *out) {
    rope_fly_axes f = fz_fly_axes(c, in);
    return rope_vllm_rotary_embedding_fly_axes(x, VLLM_ATTRS(c), in[0], in[1], c->fly_null ? NULL : &f, out[0], out[1]);
}
rope_status c_vllm_fly_axes_bwd(rope_context *x, const fz_call *c, const rope_tensor *const *in,
                                const rope_tensor *const *out) {
    rope_fly_axes f = fz_fly_axes(c, in);
    return rope_vllm_rotary_embedding_fly_axes_backward(x, VLLM_ATTRS(c), in[0], in[1], c->fly_null ? NULL : &f, out[0],
                                                        out[1]);
}
