/* SPDX-License-Identifier: MIT */
/* test_api_mutations: what rope.h allows. The kinds of mutation an entry point takes, the statuses a case
 * allows (the mask its mutations built) and how they print, and what each entry point accepts of a
 * slot (rank, dtype, the tensor whose shape it must equal, rotary_coeff, whether seqlen is read). */
#include <string.h>

#include "mutations.h"

/* Which kinds an entry point can take at all (a case may still decline one). */
int applicable_kind(int e, int k) {
    switch (k) {
    case K_NULL_ATTRS: return onnx_e(e) || atb_e(e) || vllm_e(e) || prologue_e(e);
    case K_EMPTY_HUGE: return onnx_e(e) || atb_e(e);
    case K_IN_PLACE: return (onnx_e(e) || atb_e(e) || vllm_e(e)) && !infer_e(e);
    case K_SHARED_IN: return table_e(e);
    case K_OVERLAP: return !infer_e(e) && !check_e(e) && e != E_FREQ;
    case K_POS_HUGE: return fly_e(e) || e == E_CACHE || coords_e(e);
    case K_FREQ: return cfg_e(e);
    case K_LIFECYCLE: return op_e(e);
    case K_VALID: case K_NULL_PTR: return 1;
    default: return e != E_FREQ;
    }
}

unsigned allowed(const gcase *g) { return g->wild ? ANY_ERR | 1u : g->errs | (g->ok ? 1u : 0u); }
void expect(gcase *g, unsigned errs, int ok) { g->errs |= errs, g->ok &= ok; }
int in_mask(unsigned m, rope_status s) { return s >= 0 && s < ROPE_STATUS_COUNT_ && (m & BIT(s)); }

const char *status_name(rope_status s) {
    return s >= 0 && s < ROPE_STATUS_COUNT_ ? short_status[s] : "unknown";
}

const char *mask_str(unsigned m) {
    static char buf[128];
    buf[0] = '\0';
    for (int s = 0; s < ROPE_STATUS_COUNT_; s++)
        if (m & BIT(s)) strcat(buf, buf[0] ? "|" : ""), strcat(buf, short_status[s]);
    return buf;
}

/* Whether the seqlen values are read (and must add up to ntokens). */
int seq_read(const gcase *g) {
    if (axf_e(g->e)) return 0; /* one row of coordinates per token: checked as cosFormat 0 */
    return fly_e(g->e) ? g->fly.kind == ROPE_POSITIONS_PER_SEQUENCE : g->ap.cos_format == 1;
}

int coeff_valid(int64_t rc, int64_t d) { return (rc == 2 || rc == 4 || rc == d) && d % rc == 0; }

/* The tensor another one must equal in shape (so a rank change may read as SHAPE). ONNX compares
 * sin_cache with cos_cache before it checks cos_cache's rank, so a wrong cos rank reads as SHAPE. */
int partner(const gcase *g, int i) {
    if (kv_e(g->e)) return i == T_V || i == T_VC; /* the same dims as key / key_cache */
    return (i == T_Y || i == T_SIN || ((atb_e(g->e) || vllm_e(g->e)) && i == T_RK) || (onnx_e(g->e) && i == T_COS)) &&
           g->e != E_CACHE && g->e != E_AXES;
}

/* The fused prologue's ranks: positions [T] ([m, T] with MRoPE; the cache write also [B, S]), qkv
 * 2-D, query / key / value [T, H*hd] or [T, H, hd] (key and value query's), caches 4-D, the rest
 * as rope.h has them. */
static int prologue_rank(const gcase *g, int i, int r) {
    int m = (qkn_e(g->e) ? g->qn.rope.n_mrope_section : g->kv.rope.n_mrope_section) > 0;
    switch (i) {
    case T_SEQ: return qkn_e(g->e) ? r == 1 + m : r == 1 + m || r == 2 + m;
    case T_X: return qkn_e(g->e) ? r == 2 : (g->s[T_SEQ].t.rank - m == 1 ? r == 2 || r == 3 : r == 3);
    case T_K: return r == g->s[T_X].t.rank;
    case T_V: return r == g->s[T_K].t.rank;
    case T_COS: return r == 2;
    case T_KC: case T_VC: return r == 4;
    default: return r == 1; /* slot_mapping, the weights */
    }
}

int rank_accepted(const gcase *g, int i, int r) {
    if (g->e == E_CACHE || g->e == E_AXES) return r == 2;
    if (axf_e(g->e) && i == T_POS) return r == 2 || (r == 3 && !atb_e(g->e)); /* [T, A]; [B, S, A] */
    if (prologue_e(g->e)) return prologue_rank(g, i, r);
    if (vllm_e(g->e)) {
        int m = g->va.n_mrope_section > 0, pos = g->s[g->s[T_SEQ].used ? T_SEQ : T_POS].t.rank - m - axf_e(g->e);
        if (i == T_SEQ || i == T_POS) return r == 1 + m || r == 2 + m;
        if (i == T_X) return pos == 1 ? r == 2 || r == 3 : r == 3;
        if (i == T_K) return r == g->s[T_X].t.rank;
        if (i == T_COS) return r == 2;
    } else if (onnx_e(g->e)) {
        if (i == T_X) return r == 3 || r == 4;
        if (i == T_COS) return r == (g->s[T_SEQ].used ? 2 : 3);
        if (i == T_SEQ) return r == 2;
        if (i == T_POS) return r == (g->pkind ? 1 : 2);
    } else {
        if (i == T_X) return r == 2 || r == 4;
        if (i == T_K) return r == g->s[T_X].t.rank;
        if (i == T_COS) return r == 2;
        if (i == T_SEQ || i == T_POS) return r == 1;
    }
    return r == g->s[i].t.rank; /* partners */
}

static int is_float(rope_dtype d) { return d == ROPE_F32 || d == ROPE_F16 || d == ROPE_BF16; }

/* The fused prologue's dtypes: positions and slots i64 / i32; qkv or query f32 / f16 / bf16 (key and
 * value query's); cache and weights the data's or f32; key_cache the key's or fp8, value_cache
 * key_cache's. A change of one dtype that others must equal is refused. */
static int prologue_dtype(const gcase *g, int i, rope_dtype d) {
    rope_dtype x = g->s[T_X].t.dtype;
    int w = g->s[T_QW].used;
    switch (i) {
    case T_SEQ: case T_SLOT: return d == ROPE_I64 || d == ROPE_I32;
    case T_X:
        if (kv_e(g->e)) return d == x;
        return is_float(d) && (g->s[T_COS].t.dtype == d || g->s[T_COS].t.dtype == ROPE_F32) &&
               (!w || ((g->s[T_QW].t.dtype == d || g->s[T_QW].t.dtype == ROPE_F32) &&
                       (g->s[T_KW].t.dtype == d || g->s[T_KW].t.dtype == ROPE_F32)));
    case T_K: return d == x;
    case T_V: return d == g->s[T_K].t.dtype;
    case T_COS: case T_QW: case T_KW: return d == x || d == ROPE_F32;
    case T_KC: return d == g->s[T_VC].t.dtype && d == g->s[T_KC].t.dtype;
    case T_VC: return d == g->s[T_KC].t.dtype;
    }
    return 0;
}

int dtype_accepted(const gcase *g, int i, rope_dtype d) {
    rope_dtype x = g->s[T_X].t.dtype;
    if (prologue_e(g->e)) return prologue_dtype(g, i, d);
    if (coords_e(g->e) && i == T_POS) return d == ROPE_I64 || d == ROPE_I32 || d == ROPE_F32 || d == ROPE_F64;
    if ((g->e == E_CACHE || g->e == E_AXES) && g->layout == ROPE_CACHE_VLLM) return is_float(d);
    if (g->e == E_CACHE || g->e == E_AXES) return d == g->s[i == T_COS ? T_SIN : T_COS].t.dtype;
    if (vllm_e(g->e)) {
        if (i < 0) return d == ROPE_DTYPE_INVALID || d == x || d == ROPE_F32; /* fly->cs_dtype */
        if (i == T_SEQ || i == T_POS) return d == ROPE_I64 || d == ROPE_I32;
        if (i == T_X) return d == ROPE_F32 || d == ROPE_F16 || d == ROPE_BF16;
        if (i == T_COS) return d == x || d == ROPE_F32;
        if (i == T_RK) return d == g->s[T_K].t.dtype;
        return d == x;
    }
    if (i == T_POS) return d == ROPE_I64;
    if (i < 0) /* fly->cs_dtype */
        return d == ROPE_DTYPE_INVALID || d == x || (atb_e(g->e) && x == ROPE_F16 && d == ROPE_F32);
    if (onnx_e(g->e)) return i == T_SEQ ? d == ROPE_I64 : d == x;
    switch (i) {
    case T_COS: return d == x || (x == ROPE_F16 && d == ROPE_F32);
    case T_SIN: return d == g->s[T_COS].t.dtype;
    case T_SEQ: return d == ROPE_I32 || d == ROPE_U32;
    case T_RK: return d == g->s[T_K].t.dtype;
    default: return d == x;
    }
}
