/* SPDX-License-Identifier: MIT */
/* test_api_mutations: valid random calls with small shapes, of every entry point: ONNX (tables or on the
 * fly, one position or multi-axis coordinates per token), ATB and vLLM (likewise), rope_cache_fill,
 * rope_freq_compute, rope_cache_fill_axes and the fused prologue (QK-norm + RoPE, RoPE + KV-cache write). */
#include <string.h>

#include "fly_configs.h"
#include "mutations.h"

static int64_t small(int64_t hi) { return tu_int(0, 11) == 0 ? 0 : tu_int(1, hi); }
static rope_dtype float_dt(void) { return (rope_dtype)PICK(ROPE_F32, ROPE_F16, ROPE_BF16); }

static void set_cfg(gcase *g, int64_t d) {
    int i;
    const char *name;
    do i = (int)tu_int(0, FLY_N_CONFIGS - 1);
    while (i == 3 && d < 4); /* dynamic NTK needs d >= 4 */
    g->fc = fly_config(i, d, &name);
    if (g->fc.short_factor) {
        memcpy(g->sf, g->fc.short_factor, (size_t)(d / 2) * sizeof(double));
        memcpy(g->lf, g->fc.long_factor, (size_t)(d / 2) * sizeof(double));
        g->fc.short_factor = g->sf, g->fc.long_factor = g->lf;
    }
    note(g, "cfg %s d %lld", name, (long long)d);
}

/* The multi-axis on-the-fly argument: 1..4 axes whose widths add up to rot (per-axis frequencies,
 * or alternating ones over equal widths), each theta the default or another base, attention 1 or
 * another, coordinates [tok..., A] of any of the four dtypes (filled as rope_cache_fill_axes'),
 * cs_dtype from `cs` (the ones the operator takes). */
static void set_axes(gcase *g, int64_t rot, int tok_rank, const int64_t *tok, rope_dtype cs) {
    rope_axes_config a = ROPE_AXES_CONFIG_INIT;
    int64_t half = rot / 2, left;
    a.n_axes = (int32_t)tu_int(1, half < 4 ? half : 4);
    a.freq = half % a.n_axes == 0 && tu_int(0, 2) == 0 ? ROPE_AXES_FREQ_ALTERNATING : ROPE_AXES_FREQ_PER_AXIS;
    left = half - a.n_axes;
    for (int i = 0; i < a.n_axes; i++) {
        int64_t extra = i + 1 == a.n_axes ? left : tu_int(0, left);
        if (a.freq == ROPE_AXES_FREQ_ALTERNATING) extra = half / a.n_axes - 1;
        a.axes_dims[i] = 2 * (1 + extra), left -= extra;
        a.theta[i] = tu_int(0, 1) ? 0.0 : (double)PICK(256, 10000, 3, 1000000);
    }
    a.attention = tu_int(0, 1) ? 0.0 : 0.5 + tu_uniform(0, 1);
    g->ax = a;
    rope_fly_axes f = ROPE_FLY_AXES_INIT;
    f.cs_dtype = cs;
    g->fa = f;
    int64_t dims[4];
    for (int i = 0; i < tok_rank; i++) dims[i] = tok[i];
    dims[tok_rank] = a.n_axes;
    rope_dtype pt = (rope_dtype)PICK(ROPE_I64, ROPE_I32, ROPE_F32, ROPE_F64);
    put(g, T_POS, pt, tok_rank + 1, dims, a.n_axes, 0, 0);
    note(g, "axes %d [%lld %lld %lld %lld] freq %d pos %s rank %d cs %s", (int)a.n_axes, (long long)a.axes_dims[0],
         (long long)a.axes_dims[1], (long long)a.axes_dims[2], (long long)a.axes_dims[3], (int)a.freq,
         rope_dtype_name(pt), tok_rank + 1, rope_dtype_name(cs));
}

int64_t onnx_seq(const gcase *g) { return g->s[T_X].t.dims[g->s[T_X].t.rank == 4 ? 2 : 1]; }

static void gen_onnx(gcase *g) {
    rope_dtype dt = float_dt();
    int64_t B = small(3), S = small(4), N = tu_int(1, 3), H = 2 * tu_int(1, 8);
    int rank = (int)tu_int(3, 4);
    int64_t rot = tu_int(0, 1) ? 0 : 2 * tu_int(1, H / 2), r = rot ? rot : H;
    g->oa.interleaved = tu_int(0, 1), g->oa.rotary_embedding_dim = rot;
    g->oa.num_heads = rank == 3 ? N : tu_int(0, 1) * tu_int(1, 4);
    int64_t x4[4] = {B, N, S, H}, x3[3] = {B, S, N * H}, bs[2] = {B, S};
    put(g, T_X, dt, rank, rank == 4 ? x4 : x3, rank == 4 ? H : N * H, 0, 1);
    copy_slot(g, T_Y, T_X, 1);
    note(g, "%s X [%lld,%lld,%lld,%lld] rank %d rot %lld inter %d", rope_dtype_name(dt), (long long)B, (long long)N,
         (long long)S, (long long)H, rank, (long long)rot, (int)g->oa.interleaved);
    if (axf_e(g->e)) { /* coordinates [batch*seq, A], [batch, seq, A] or [seq, A] (every batch row's) */
        int v = (int)tu_int(0, 2);
        if (v == 2 && B <= 1) v = 0; /* [seq, A] is the shared form with more than one batch row */
        int64_t bs1 = B * S;
        set_axes(g, r, v == 1 ? 2 : 1, v == 1 ? bs : v == 2 ? &S : &bs1,
                 (rope_dtype)PICK(ROPE_DTYPE_INVALID, dt));
    } else if (!fly_e(g->e)) {
        int ids = (int)tu_int(0, 1);
        g->maxpos = tu_int(1, 8);
        int64_t c2[2] = {g->maxpos, r / 2}, c3[3] = {B, S, r / 2};
        put(g, T_COS, dt, ids ? 2 : 3, ids ? c2 : c3, r / 2, 0, 0);
        copy_slot(g, T_SIN, T_COS, 0);
        if (ids) put(g, T_SEQ, ROPE_I64, 2, bs, S, 0, 0);
        g->n_in = ids ? 4 : (int)tu_int(3, 4);
        note(g, ids ? "ids, max_pos %lld" : "no ids (%lld)", (long long)g->maxpos);
    } else {
        set_cfg(g, r);
        g->fly.kind = g->pkind = (int)tu_int(0, 1);
        put(g, T_POS, ROPE_I64, g->fly.kind ? 1 : 2, bs, g->fly.kind ? B : S, 0, 0);
        g->fly.cs_dtype = tu_int(0, 1) ? ROPE_DTYPE_INVALID : dt;
        note(g, "kind %d", g->fly.kind);
    }
}

static void gen_atb(gcase *g) {
    const int fly = fly_e(g->e);
    rope_dtype dt = float_dt(), ct = dt == ROPE_F16 && tu_int(0, 1) ? ROPE_F32 : dt;
    int64_t D = 2 * tu_int(1, 8), T, hq, hk;
    rope_atb_param p = ROPE_ATB_PARAM_INIT;
    g->ap = p;
    g->ap.rotary_coeff = (int32_t)PICK(2, D % 4 == 0 ? 4 : 2, D);
    g->ap.cos_format = (int32_t)tu_int(0, 1);
    if (tu_int(0, 1)) {
        T = small(6), hk = D * tu_int(1, 2), hq = hk * tu_int(1, 3);
        int64_t q2[2] = {T, hq}, k2[2] = {T, hk};
        put(g, T_X, dt, 2, q2, hq, 0, 1);
        put(g, T_K, dt, 2, k2, hk, 0, 1);
    } else {
        int64_t b = small(2), s = small(3), hs = D * tu_int(1, 2), nk = tu_int(1, 2), nq = nk * tu_int(1, 2);
        int64_t q4[4] = {b, s, nq, hs}, k4[4] = {b, s, nk, hs};
        T = b * s, hq = nq * hs, hk = nk * hs;
        put(g, T_X, dt, 4, q4, hq, 0, 1);
        put(g, T_K, dt, 4, k4, hk, 0, 1);
    }
    copy_slot(g, T_Y, T_X, 1);
    copy_slot(g, T_RK, T_K, 1);
    g->ntok = T;
    if (fly) g->fly.kind = g->pkind = (int)tu_int(0, 1);
    const int read = seq_read(g);
    g->nseq = read ? tu_int(T ? 1 : 0, 3) : tu_int(0, 3);
    int64_t left = T, longest = 0;
    for (int64_t i = 0; i < g->nseq; i++) {
        g->seql[i] = i + 1 == g->nseq ? left : tu_int(0, left);
        left -= g->seql[i];
        if (g->seql[i] > longest) longest = g->seql[i];
    }
    slot *l = put(g, T_SEQ, tu_int(0, 1) ? ROPE_I32 : ROPE_U32, 1, &g->nseq, g->nseq, 0, 0);
    l->nodata = !read && tu_int(0, 3) == 0;
    note(g, "%s/%s q [%lld,%lld] k %lld rank %d D %lld coeff %d cf %d nseq %lld%s", rope_dtype_name(dt),
         rope_dtype_name(ct), (long long)T, (long long)hq, (long long)hk, g->s[T_X].t.rank, (long long)D,
         (int)g->ap.rotary_coeff, (int)g->ap.cos_format, (long long)g->nseq, l->nodata ? " (NULL)" : "");
    if (axf_e(g->e)) {
        set_axes(g, D, 1, &T, (rope_dtype)PICK(ROPE_DTYPE_INVALID, dt, dt == ROPE_F16 ? ROPE_F32 : dt));
    } else if (!fly) {
        g->maxpos = (g->ap.cos_format ? longest : T) + tu_int(0, 2);
        int64_t c2[2] = {g->maxpos, D};
        put(g, T_COS, ct, 2, c2, D, 0, 0);
        copy_slot(g, T_SIN, T_COS, 0);
    } else {
        set_cfg(g, D);
        int64_t n = g->fly.kind ? g->nseq : T;
        put(g, T_POS, ROPE_I64, 1, &n, n, 0, 0);
        g->fly.cs_dtype = (rope_dtype)PICK(ROPE_DTYPE_INVALID, dt, dt == ROPE_F16 ? ROPE_F32 : dt);
        note(g, "kind %d cs %s", g->fly.kind, rope_dtype_name(g->fly.cs_dtype));
    }
}

/* vLLM: positions [T] / [B, S] (or [m, ...] with MRoPE, i64 or i32), query [T, H*hs], [T, H, hs] or
 * [B, S, H*hs], key likewise or absent, cache [P, rot] in the query's dtype or f32. */
static void gen_vllm(gcase *g) {
    rope_dtype dt = float_dt(), ct = tu_int(0, 1) ? ROPE_F32 : dt;
    int64_t hs = tu_int(2, 10), rot = 2 * tu_int(1, hs / 2);
    rope_vllm_attrs a = ROPE_VLLM_ATTRS_INIT;
    a.head_size = hs, a.is_neox = (int32_t)tu_int(0, 1);
    int m = rot / 2 >= 3 && !axf_e(g->e) && tu_int(0, 2) == 0 ? (int)tu_int(3, rot / 2 >= 4 ? 4 : 3) : 0;
    if (m) {
        a.n_mrope_section = m, a.mrope_interleaved = m == 3 ? (int32_t)tu_int(0, 1) : 0;
        int64_t left = rot / 2 - m;
        for (int i = 0; i < m; i++) {
            int64_t extra = i + 1 == m ? left : tu_int(0, left);
            a.mrope_section[i] = 1 + extra, left -= extra;
        }
    }
    g->va = a;
    int bs = (int)tu_int(0, 1), r3 = !bs && tu_int(0, 1);
    /* at least one head each: the row-stride mutations assume rows of at least one element */
    int64_t B = small(2), S = small(3), T = bs ? B * S : small(5);
    int64_t hq = tu_int(1, 3), hk = tu_int(0, 3) ? tu_int(1, 2) : -1;
    int64_t pd[3], np = 0;
    if (m) pd[np++] = m;
    if (bs) pd[np++] = B, pd[np++] = S;
    else pd[np++] = T;
    for (int k = 0; k < 2; k++) {
        int64_t h = k ? hk : hq;
        if (h < 0) continue;
        int64_t d2[2] = {T, h * hs}, d3[3] = {T, h, hs}, b3[3] = {B, S, h * hs};
        put(g, k ? T_K : T_X, dt, bs || r3 ? 3 : 2, bs ? b3 : r3 ? d3 : d2, h * hs, 0, 1);
        copy_slot(g, k ? T_RK : T_Y, k ? T_K : T_X, 1);
    }
    rope_dtype pt = tu_int(0, 1) ? ROPE_I64 : ROPE_I32;
    g->ntok = T;
    g->n_in = hk >= 0 ? 4 : (int)tu_int(3, 4);
    note(g, "%s/%s T %lld%s%s hq %lld hk %lld hs %lld rot %lld neox %d mrope %d%s %s", rope_dtype_name(dt),
         rope_dtype_name(ct), (long long)T, bs ? " [B,S]" : "", r3 ? " [T,H,hs]" : "", (long long)hq, (long long)hk,
         (long long)hs, (long long)rot, (int)a.is_neox, m, a.mrope_interleaved ? "i" : "", rope_dtype_name(pt));
    if (axf_e(g->e)) { /* coordinates [T, A] or [B, S, A]: the token dims the positions would have */
        set_axes(g, rot, (int)np, pd, (rope_dtype)PICK(ROPE_DTYPE_INVALID, dt, ROPE_F32));
        /* the rotated part anywhere in the head, either direction (the later attributes apply) */
        g->va.rope_dim_offset = tu_int(0, 2) ? 0 : tu_int(0, hs - rot);
        g->va.inverse = (int32_t)tu_int(0, 1);
        note(g, "offset %lld inverse %d", (long long)g->va.rope_dim_offset, (int)g->va.inverse);
    } else if (!fly_e(g->e)) {
        g->maxpos = tu_int(1, 8);
        int64_t c2[2] = {g->maxpos, rot};
        put(g, T_COS, ct, 2, c2, rot, 0, 0);
        put(g, T_SEQ, pt, (int)np, pd, pd[np - 1], 0, 0);
        note(g, "P %lld", (long long)g->maxpos);
    } else {
        set_cfg(g, rot);
        g->fly.kind = g->pkind = ROPE_POSITIONS_PER_TOKEN;
        put(g, T_POS, pt, (int)np, pd, pd[np - 1], 0, 0);
        g->fly.cs_dtype = (rope_dtype)PICK(ROPE_DTYPE_INVALID, dt, ROPE_F32);
        note(g, "cs %s", rope_dtype_name(g->fly.cs_dtype));
    }
}

/* rope_cache_fill_axes: 1..4 axes (per-axis or alternating frequencies), positions [T, A] of any of
 * its four dtypes, tables in each layout. */
static void gen_axes(gcase *g) {
    rope_axes_config a = ROPE_AXES_CONFIG_INIT;
    a.n_axes = (int32_t)tu_int(1, 4);
    a.freq = tu_int(0, 2) ? ROPE_AXES_FREQ_PER_AXIS : ROPE_AXES_FREQ_ALTERNATING;
    int64_t same = 2 * tu_int(1, 3), rot = 0;
    for (int i = 0; i < a.n_axes; i++) {
        a.axes_dims[i] = a.freq == ROPE_AXES_FREQ_ALTERNATING ? same : 2 * tu_int(1, 3);
        a.theta[i] = tu_int(0, 1) ? 0.0 : (double)PICK(256, 10000, 3, 1000000);
        rot += a.axes_dims[i];
    }
    a.attention = tu_int(0, 1) ? 0.0 : 0.5 + tu_uniform(0, 1);
    g->ax = a;
    int64_t T = small(5), A = a.n_axes, pd[2] = {T, A};
    rope_dtype pt = (rope_dtype)PICK(ROPE_I64, ROPE_I32, ROPE_F32, ROPE_F64);
    put(g, T_POS, pt, 2, pd, A, 0, 0);
    g->layout = (int)tu_int(0, 2);
    g->coeff = g->layout == ROPE_CACHE_FULL ? (int32_t)PICK(2, rot % 4 == 0 ? 4 : 2, rot) : (int32_t)tu_u64();
    int64_t w = g->layout != ROPE_CACHE_HALF ? rot : rot / 2, dims[2] = {T, w};
    rope_dtype dt = float_dt();
    put(g, T_COS, dt, 2, dims, w, 1, 0);
    if (g->layout != ROPE_CACHE_VLLM) copy_slot(g, T_SIN, T_COS, 1);
    note(g, "%s axes %d freq %d rot %lld pos %s T %lld layout %d coeff %d", rope_dtype_name(dt), (int)A, (int)a.freq,
         (long long)rot, rope_dtype_name(pt), (long long)T, g->layout, (int)g->coeff);
}

/* The rotation attributes of the fused prologue: head_dim, pairing, MRoPE (the later fields 0, but
 * the cache write's inverse sometimes), and the cache [P, rot] and positions [T] (or [m, T]). */
static rope_vllm_attrs prologue_rope(gcase *g, rope_dtype dt, int64_t T) {
    int64_t hd = tu_int(1, 6) * 2, rot = 2 * tu_int(1, hd / 2);
    rope_vllm_attrs a = ROPE_VLLM_ATTRS_INIT;
    a.head_size = hd, a.is_neox = (int32_t)tu_int(0, 1);
    int m = rot / 2 >= 3 && tu_int(0, 2) == 0 ? 3 : 0;
    if (m) {
        a.n_mrope_section = m, a.mrope_interleaved = (int32_t)tu_int(0, 1);
        int64_t left = rot / 2 - m;
        for (int i = 0; i < m; i++) {
            int64_t extra = i + 1 == m ? left : tu_int(0, left);
            a.mrope_section[i] = 1 + extra, left -= extra;
        }
    }
    if (kv_e(g->e)) a.inverse = (int32_t)tu_int(0, 1);
    g->hd = hd;
    g->maxpos = tu_int(1, 8);
    int64_t c2[2] = {g->maxpos, rot}, pd[2] = {m ? m : T, T};
    put(g, T_COS, tu_int(0, 1) ? ROPE_F32 : dt, 2, c2, rot, 0, 0);
    put(g, T_SEQ, tu_int(0, 1) ? ROPE_I64 : ROPE_I32, m ? 2 : 1, m ? pd : pd + 1, T, 0, 0);
    note(g, "hd %lld rot %lld neox %d mrope %d%s P %lld", (long long)hd, (long long)rot, (int)a.is_neox, m,
         a.mrope_interleaved ? "i" : "", (long long)g->maxpos);
    return a;
}

/* rope_vllm_fused_qk_norm_rope: qkv [T, (Hq + Hk + Hv) * hd], strided rows, in place. */
static void gen_qkn(gcase *g) {
    rope_dtype dt = float_dt();
    int64_t T = small(5);
    rope_qk_norm_attrs a;
    memset(&a, 0, sizeof a);
    a.rope = prologue_rope(g, dt, T);
    a.num_heads_q = tu_int(0, 3), a.num_heads_k = tu_int(0, 2), a.num_heads_v = tu_int(0, 2);
    if (a.num_heads_q + a.num_heads_k + a.num_heads_v == 0) a.num_heads_q = 1; /* rows of at least one element */
    a.eps = tu_int(0, 1) ? 1e-6 : 0.0;
    g->qn = a;
    g->hq = a.num_heads_q, g->hk = a.num_heads_k, g->hv = a.num_heads_v;
    int64_t row = (g->hq + g->hk + g->hv) * g->hd, x2[2] = {T, row}, w1[1] = {g->hd};
    slot *x = put(g, T_X, dt, 2, x2, row, 0, 1);
    x->io = 1;
    put(g, T_QW, tu_int(0, 1) ? ROPE_F32 : dt, 1, w1, g->hd, 0, 0);
    put(g, T_KW, tu_int(0, 1) ? ROPE_F32 : dt, 1, w1, g->hd, 0, 0);
    note(g, "%s qkv T %lld heads %lld %lld %lld eps %g", rope_dtype_name(dt), (long long)T, (long long)g->hq,
         (long long)g->hk, (long long)g->hv, a.eps);
}

/* rope_vllm_rotary_embedding_and_cache: query [T, Hq*hd] or [T, Hq, hd], key and value like it (Hk,
 * Hk >= 1), the paged caches [blocks, bs, Hk, hd] (NHD) or [blocks, Hk, bs, hd] (HND) of the key's
 * dtype or fp8, slot_mapping [T] (distinct slots, some padded), the weights or not. */
static void gen_kv(gcase *g) {
    rope_dtype dt = float_dt();
    int64_t T = small(5);
    rope_kv_cache_attrs a;
    memset(&a, 0, sizeof a);
    a.rope = prologue_rope(g, dt, T);
    a.kv_layout = tu_int(0, 1) ? ROPE_KV_NHD : ROPE_KV_HND;
    a.k_scale = (float)tu_uniform(0.25, 4), a.v_scale = (float)tu_uniform(0.25, 4);
    a.eps = 1e-6;
    g->hq = tu_int(1, 3), g->hk = tu_int(1, 2);
    int r3 = (int)tu_int(0, 1);
    int64_t hd = g->hd, q2[2] = {T, g->hq * hd}, k2[2] = {T, g->hk * hd}, q3[3] = {T, g->hq, hd},
            k3[3] = {T, g->hk, hd};
    slot *q = put(g, T_X, dt, r3 ? 3 : 2, r3 ? q3 : q2, g->hq * hd, 0, 1);
    slot *k = put(g, T_K, dt, r3 ? 3 : 2, r3 ? k3 : k2, g->hk * hd, 0, 1);
    q->io = k->io = 1;
    put(g, T_V, dt, r3 ? 3 : 2, r3 ? k3 : k2, g->hk * hd, 0, 1);
    int64_t bs = tu_int(1, 4), blocks = T / bs + tu_int(1, 2);
    int64_t c4[4] = {blocks, a.kv_layout == ROPE_KV_NHD ? bs : g->hk, a.kv_layout == ROPE_KV_NHD ? g->hk : bs, hd};
    rope_dtype ct = (rope_dtype)PICK(dt, ROPE_FP8_E4M3, ROPE_FP8_E5M2);
    slot *kc = put(g, T_KC, ct, 4, c4, hd, 1, 0);
    kc->sparse = 1;
    copy_slot(g, T_VC, T_KC, 1);
    put(g, T_SLOT, tu_int(0, 1) ? ROPE_I64 : ROPE_I32, 1, &T, T, 0, 0);
    int normed = (int)tu_int(0, 1);
    if (normed) {
        int64_t w1[1] = {hd};
        put(g, T_QW, tu_int(0, 1) ? ROPE_F32 : dt, 1, w1, hd, 0, 0);
        put(g, T_KW, tu_int(0, 1) ? ROPE_F32 : dt, 1, w1, hd, 0, 0);
    }
    g->kv = a;
    g->n_in = normed ? 10 : (int)PICK(8, 10);
    note(g, "%s T %lld hq %lld hk %lld%s cache %s %s blocks %lld bs %lld inverse %d%s", rope_dtype_name(dt),
         (long long)T, (long long)g->hq, (long long)g->hk, r3 ? " [T,H,hd]" : "", rope_dtype_name(ct),
         a.kv_layout == ROPE_KV_NHD ? "NHD" : "HND", (long long)blocks, (long long)bs, (int)a.rope.inverse,
         normed ? " normed" : "");
}

void generate(gcase *g) {
    g->ok = 1;
    if (g->e == E_AXES) {
        gen_axes(g);
        return;
    }
    if (prologue_e(g->e)) {
        if (qkn_e(g->e)) gen_qkn(g);
        else gen_kv(g);
        return;
    }
    if (onnx_e(g->e) || atb_e(g->e) || vllm_e(g->e)) {
        if (onnx_e(g->e)) gen_onnx(g);
        else if (atb_e(g->e)) gen_atb(g);
        else gen_vllm(g);
        return;
    }
    int64_t d = 2 * tu_int(1, 8), half = d / 2;
    set_cfg(g, d);
    if (g->e == E_FREQ) {
        put(g, T_Y, ROPE_I64, 1, &half, half, 1, 0); /* inv_freq: doubles, 8 bytes like i64 */
        int64_t one = 1;
        if (tu_int(0, 1)) put(g, T_RK, ROPE_I64, 1, &one, 1, 1, 0);
        return;
    }
    g->layout = (int)tu_int(0, 2);
    g->coeff = g->layout == ROPE_CACHE_FULL ? (int32_t)PICK(2, d % 4 == 0 ? 4 : 2, d) : (int32_t)tu_u64(); /* ignored */
    g->count = small(5), g->pos_start = tu_int(0, 1000);
    int64_t w = g->layout != ROPE_CACHE_HALF ? d : half, dims[2] = {g->count, w};
    rope_dtype dt = float_dt();
    put(g, T_COS, dt, 2, dims, w, 1, 0);
    if (g->layout != ROPE_CACHE_VLLM) copy_slot(g, T_SIN, T_COS, 1); /* VLLM: one [cos | sin] table, sin NULL */
    note(g, "%s layout %d coeff %d pos %lld count %lld", rope_dtype_name(dt), g->layout, (int)g->coeff,
         (long long)g->pos_start, (long long)g->count);
}
