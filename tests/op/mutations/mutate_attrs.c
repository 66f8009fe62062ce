/* SPDX-License-Identifier: MIT */
/* test_api_mutations mutations of the attributes (ONNX attributes, ATB parameters, positions kind, cache
 * layout and coefficient), out of their domains or changed within them, and of the frequency
 * configuration. */
#include <math.h>
#include <stdint.h>

#include "mutations.h"

/* ONNX head_size as the attributes currently split X (at least 2). */
static int64_t onnx_head(const gcase *g) {
    const rope_tensor *x = &g->s[T_X].t;
    int64_t h = x->rank == 4 ? x->dims[3] : g->oa.num_heads > 0 ? x->dims[2] / g->oa.num_heads : 0;
    return h >= 2 ? h : 2;
}

/* The multi-axis configuration's rotated width: the sum of its axes' widths. */
static int64_t axes_rot(const rope_axes_config *c) {
    int64_t d = 0;
    for (int a = 0; a < c->n_axes; a++) d += c->axes_dims[a];
    return d;
}

static int64_t atb_d(const gcase *g) {
    if (axf_e(g->e)) return axes_rot(&g->ax);
    return fly_e(g->e) ? g->fc.rotary_dim : g->s[T_COS].t.dims[1];
}

/* The rotation fields of the fused prologue's embedded rope_vllm_attrs out of their domain (MRoPE
 * too), or rope_dim_offset, partial, pairs_to_halves (and QK-norm's inverse) set: all refused. */
static void prologue_rope_attr(gcase *g, rope_vllm_attrs *a) {
    int v = (int)tu_int(0, 4);
    if (v == 0) a->head_size = PICK(0, -1, INT64_MIN);
    if (v == 1) *(tu_int(0, 1) ? &a->is_neox : &a->mrope_interleaved) = (int32_t)PICK(2, -1, INT32_MIN);
    if (v == 2) {
        int w = (int)tu_int(0, 3);
        if (w == 0) a->rope_dim_offset = PICK(1, 2, -1, INT64_MAX);
        if (w == 1) a->inverse = (int32_t)(kv_e(g->e) ? PICK(2, -1, INT32_MIN) : PICK(1, 2, -1));
        if (w == 2) a->partial = (int32_t)PICK(ROPE_PARTIAL_SPLIT, 2, -1);
        if (w == 3) a->pairs_to_halves = (int32_t)PICK(1, 2, -1);
    }
    if (v >= 3) {
        int n = a->n_mrope_section, w = (int)tu_int(0, 3);
        if (n == 0 && w < 2) a->n_mrope_section = (int32_t)PICK(1, 2, 5, -1);
        else if (w < 3 && n > 0) a->mrope_section[tu_int(0, n - 1)] = PICK(0, -1, INT64_MIN, INT64_MAX);
        else if (n < 4) a->mrope_section[tu_int(n, 3)] = PICK(1, -1, 9);
        else a->n_mrope_section = 2;
    }
    note(g, "rope hs %lld neox %d inter %d n %d [%lld,%lld,%lld,%lld] offset %lld inverse %d partial %d p2h %d",
         (long long)a->head_size, (int)a->is_neox, (int)a->mrope_interleaved, (int)a->n_mrope_section,
         (long long)a->mrope_section[0], (long long)a->mrope_section[1], (long long)a->mrope_section[2],
         (long long)a->mrope_section[3], (long long)a->rope_dim_offset, (int)a->inverse, (int)a->partial,
         (int)a->pairs_to_halves);
}

/* The fused prologue's attributes: the rotation's, head counts, eps, the cache layout and scales.
 * Fields a call does not read (struct_size of the embedded struct; the scales with caches of the
 * key's dtype; eps without weights) may hold anything; the cache write takes inverse 1. */
static void prologue_attr(gcase *g) {
    double bad_eps = (double)PICK(0, 1, 2, 3), eps_values[4] = {-1.0, NAN, INFINITY, 1e39};
    int v = (int)tu_int(0, 5), normed = g->s[T_QW].used, fp8 = g->s[T_KC].t.dtype != g->s[T_K].t.dtype;
    rope_vllm_attrs *a = qkn_e(g->e) ? &g->qn.rope : &g->kv.rope;
    if (v <= 1) {
        prologue_rope_attr(g, a);
        expect(g, BIT(ROPE_ERROR_ATTRIBUTE), 0);
    } else if (v == 2) {
        a->struct_size = (size_t)PICK(0, 8, 1 << 20);
        note(g, "rope.struct_size %zu (not read)", a->struct_size);
        expect(g, 0, 1);
    } else if (qkn_e(g->e)) {
        int64_t *h = v == 3 ? &g->qn.num_heads_q : v == 4 ? &g->qn.num_heads_k : &g->qn.num_heads_v;
        if (tu_int(0, 1)) *h = PICK(-1, INT64_MIN, P2(31) + 1, INT64_MAX);
        else g->qn.eps = eps_values[(int)bad_eps];
        note(g, "heads %lld %lld %lld eps %g", (long long)g->qn.num_heads_q, (long long)g->qn.num_heads_k,
             (long long)g->qn.num_heads_v, g->qn.eps);
        expect(g, BIT(ROPE_ERROR_ATTRIBUTE), 0);
    } else if (v == 3) {
        g->kv.kv_layout = (rope_kv_layout)PICK(2, -1, 7);
        note(g, "kv_layout %d", (int)g->kv.kv_layout);
        expect(g, BIT(ROPE_ERROR_ATTRIBUTE), 0);
    } else if (v == 4) {
        float bad[4] = {0.0f, -1.0f, NAN, INFINITY};
        *(tu_int(0, 1) ? &g->kv.k_scale : &g->kv.v_scale) = bad[tu_int(0, 3)];
        note(g, "scales %g %g%s", (double)g->kv.k_scale, (double)g->kv.v_scale, fp8 ? "" : " (not read)");
        expect(g, fp8 ? BIT(ROPE_ERROR_ATTRIBUTE) : 0, !fp8);
    } else if (tu_int(0, 1)) {
        g->kv.eps = eps_values[(int)bad_eps];
        note(g, "eps %g%s", g->kv.eps, normed ? "" : " (not read)");
        expect(g, normed ? BIT(ROPE_ERROR_ATTRIBUTE) : 0, !normed);
    } else {
        g->kv.rope.inverse = !g->kv.rope.inverse; /* rotary_embedding's inverse: another valid call */
        note(g, "inverse %d (legal)", (int)g->kv.rope.inverse);
        expect(g, 0, 1);
    }
}

/* The multi-axis on-the-fly forms: rope_fly_axes' own struct_size (any but sizeof refused), or a
 * valid configuration whose width no longer is the operator's: ONNX r (ATTRIBUTE); ATB D, legal
 * when it still divides both hidden sizes and takes rotary_coeff (else SHAPE or ATTRIBUTE); vLLM
 * rot, legal up to head_size - rope_dim_offset (past head_size SHAPE, else ATTRIBUTE for the offset). */
static void fly_axes_attr(gcase *g) {
    if (tu_int(0, 1)) {
        g->fa.struct_size = (size_t)PICK(0, 8, sizeof(rope_fly_axes) - 8, sizeof(rope_fly_axes) + 8, SIZE_MAX);
        note(g, "fly struct_size %zu", g->fa.struct_size);
        g->names = "fly->struct_size";
        expect(g, BIT(ROPE_ERROR_ATTRIBUTE), 0);
        return;
    }
    rope_axes_config *c = &g->ax;
    int n = c->n_axes;
    for (int a = 0; a < n; a++) /* alternating frequencies keep equal widths */
        if (a == 0 || c->freq == ROPE_AXES_FREQ_ALTERNATING) c->axes_dims[a] += 2;
    int64_t rot = axes_rot(c);
    note(g, "axes widths sum %lld", (long long)rot);
    if (onnx_e(g->e)) {
        g->names = "fly->axes->axes_dims";
        expect(g, BIT(ROPE_ERROR_ATTRIBUTE), 0);
    } else if (atb_e(g->e)) {
        const rope_tensor *q = &g->s[T_X].t, *k = &g->s[T_K].t;
        int64_t hq = q->rank == 2 ? q->dims[1] : q->dims[2] * q->dims[3];
        int64_t hk = k->rank == 2 ? k->dims[1] : k->dims[2] * k->dims[3];
        int legal = hq % rot == 0 && hk % rot == 0 && coeff_valid(g->ap.rotary_coeff, rot);
        if (!legal) g->names = hq % rot || hk % rot ? "fly->axes->axes_dims' sum" : "rotaryCoeff";
        expect(g, legal ? 0 : BIT(ROPE_ERROR_SHAPE) | BIT(ROPE_ERROR_ATTRIBUTE), legal);
    } else {
        int64_t hs = g->va.head_size, off = g->va.rope_dim_offset;
        int legal = rot <= hs - off;
        if (!legal) g->names = "fly->axes->axes_dims' sum";
        expect(g, legal ? 0 : rot > hs ? BIT(ROPE_ERROR_SHAPE) : BIT(ROPE_ERROR_ATTRIBUTE), legal);
    }
}

/* rope_cache_fill_axes' configuration (the on-the-fly forms' fly->axes): a field out of its domain
 * (each refused as ATTRIBUTE, the on-the-fly message naming fly->axes->...). */
static void axes_attr(gcase *g) {
    rope_axes_config *c = &g->ax;
    int n = c->n_axes, v = (int)tu_int(0, axf_e(g->e) ? 7 : 6), a = (int)tu_int(0, n - 1);
    if (v == 7) {
        fly_axes_attr(g);
        return;
    }
    static const char *const field[7] = {"fly->axes->", "fly->axes->axes_dims", "fly->axes->", "fly->axes->theta",
                                         "fly->axes->freq", "fly->axes->attention", "fly->axes->"};
    if (axf_e(g->e)) g->names = field[v];
    switch (v) {
    case 0: c->n_axes = (int32_t)(tu_int(0, 1) ? PICK(0, -1, ROPE_MAX_AXES + 1, INT32_MIN) : n == 1 ? 2 : n - 1); break;
    case 1: c->axes_dims[a] = PICK(0, -2, 1, 3, INT64_MIN, 2 * (int64_t)ROPE_MAX_ROTARY_DIM); break;
    case 2:
        if (n < ROPE_MAX_AXES && tu_int(0, 1)) c->axes_dims[tu_int(n, ROPE_MAX_AXES - 1)] = 2;
        else c->theta[n < ROPE_MAX_AXES ? tu_int(n, ROPE_MAX_AXES - 1) : a] = n < ROPE_MAX_AXES ? 10000.0 : 1.0;
        break;
    case 3: {
        const double bad[] = {1.0, 0.5, -2.0, NAN, INFINITY, -INFINITY};
        c->theta[a] = bad[tu_int(0, 5)];
        break;
    }
    case 4: c->freq = (rope_axes_freq)PICK(2, -1, 9); break;
    case 5: {
        const double bad[] = {-1.0, NAN, INFINITY, 65505.0, 1e300};
        c->attention = bad[tu_int(0, 4)];
        break;
    }
    default:
        if (n > 1 && tu_int(0, 1)) /* alternating frequencies over axes of unequal widths */
            c->freq = ROPE_AXES_FREQ_ALTERNATING, c->axes_dims[a] = c->axes_dims[(a + 1) % n] + 2;
        else c->struct_size = (size_t)PICK(0, 8, sizeof(rope_axes_config) + 8);
        break;
    }
    note(g, "axes n %d dims [%lld %lld %lld %lld] theta[%d] %g freq %d attention %g size %zu", (int)c->n_axes,
         (long long)c->axes_dims[0], (long long)c->axes_dims[1], (long long)c->axes_dims[2],
         (long long)c->axes_dims[3], a, c->theta[a], (int)c->freq, c->attention, c->struct_size);
    expect(g, BIT(ROPE_ERROR_ATTRIBUTE), 0);
}

int m_attr(gcase *g) {
    if (prologue_e(g->e)) {
        prologue_attr(g);
        return 1;
    }
    if (coords_e(g->e) && tu_int(0, 1)) {
        axes_attr(g);
        return 1;
    }
    int v = (int)tu_int(0, 3);
    if (fly_e(g->e) && v == 3) {
        g->fly.kind = (rope_positions_kind)PICK(2, -1, 7);
        note(g, "fly kind %d", (int)g->fly.kind);
        expect(g, BIT(ROPE_ERROR_ATTRIBUTE), 0);
    } else if (vllm_e(g->e)) {
        rope_vllm_attrs *a = &g->va;
        if (v == 0) a->head_size = PICK(0, -1, INT64_MIN);
        if (v == 1) *(tu_int(0, 1) ? &a->is_neox : &a->mrope_interleaved) = (int32_t)PICK(2, -1, INT32_MIN);
        if (v >= 2 && tu_int(0, 2) == 0) { /* the versioned struct's later fields and struct_size itself */
            int w = (int)tu_int(0, 5);
            if (w == 0) a->struct_size = (size_t)PICK(0, 8, sizeof(rope_vllm_attrs) + 8);
            if (w == 1) a->rope_dim_offset = PICK(-1, INT64_MIN, INT64_MAX);
            if (w == 2) a->inverse = (int32_t)PICK(2, -1, INT32_MIN);
            if (w == 3) a->partial = (int32_t)PICK(2, -1, INT32_MAX);
            if (w == 4) a->pairs_to_halves = (int32_t)PICK(2, -1);
            if (w == 5) a->partial = a->is_neox ? ROPE_PARTIAL_LEADING : ROPE_PARTIAL_SPLIT, a->pairs_to_halves = a->is_neox;
        } else if (v >= 2) {
            int n = a->n_mrope_section, w = (int)tu_int(0, 3);
            if (n == 0 && w < 2) a->n_mrope_section = (int32_t)PICK(1, 2, 5, -1);
            else if (w < 3 && n > 0) a->mrope_section[tu_int(0, n - 1)] = PICK(0, -1, INT64_MIN, INT64_MAX);
            else if (n < 4) a->mrope_section[tu_int(n, 3)] = PICK(1, -1, 9);
            else a->n_mrope_section = 2;
        }
        note(g, "attrs hs %lld neox %d inter %d n %d [%lld,%lld,%lld,%lld]", (long long)a->head_size, (int)a->is_neox,
             (int)a->mrope_interleaved, (int)a->n_mrope_section, (long long)a->mrope_section[0],
             (long long)a->mrope_section[1], (long long)a->mrope_section[2], (long long)a->mrope_section[3]);
        expect(g, BIT(ROPE_ERROR_ATTRIBUTE), 0);
    } else if (onnx_e(g->e)) {
        int64_t h = onnx_head(g);
        if (v == 0) g->oa.interleaved = PICK(4, -1, INT64_MAX, INT64_MIN);
        if (v == 1) g->oa.rotary_embedding_dim = PICK(1, 3, h - 1, -2, INT64_MIN, h + 2, P2(62), INT64_MAX);
        if (v >= 2) g->oa.num_heads = PICK(-1, -4, INT64_MIN);
        note(g, "attrs %lld %lld %lld", (long long)g->oa.interleaved, (long long)g->oa.rotary_embedding_dim,
             (long long)g->oa.num_heads);
        expect(g, BIT(ROPE_ERROR_ATTRIBUTE), v >= 2 && g->s[T_X].t.rank == 4); /* 4-D: "ignored" */
    } else if (atb_e(g->e)) {
        if (v == 0) {
            int64_t rc = PICK(0, 1, 3, -2, -4, 6, 8, 16, 32, INT32_MIN, INT32_MAX);
            g->ap.rotary_coeff = (int32_t)rc;
            expect(g, coeff_valid(rc, atb_d(g)) ? 0 : BIT(ROPE_ERROR_ATTRIBUTE), coeff_valid(rc, atb_d(g)));
        } else {
            if (v == 1) g->ap.cos_format = (int32_t)PICK(2, 7, -1, INT32_MIN);
            else g->ap.rsv[tu_int(0, 2)] = (uint8_t)tu_int(1, 255);
            expect(g, BIT(ROPE_ERROR_ATTRIBUTE), 0);
        }
        note(g, "param coeff %d format %d", (int)g->ap.rotary_coeff, (int)g->ap.cos_format);
    } else {
        if (v == 0) {
            g->layout = (int)PICK(3, -1, 7);
            expect(g, BIT(ROPE_ERROR_ATTRIBUTE), 0);
        } else {
            g->coeff = (int32_t)PICK(0, 3, 6, -2, 1 << 20, INT32_MIN);
            int64_t d = g->fc.rotary_dim;
            if (g->e == E_AXES) /* the rotated width: the axes' */
                for (int a = 0; a < g->ax.n_axes; a++) d += g->ax.axes_dims[a];
            int fine = g->layout != ROPE_CACHE_FULL || coeff_valid(g->coeff, d);
            expect(g, fine ? 0 : BIT(ROPE_ERROR_ATTRIBUTE), fine);
        }
        note(g, "layout %d coeff %d", g->layout, (int)g->coeff);
    }
    return 1;
}

/* rope_fly_axes changed within its domain, the width kept: a pair moved between two axes of
 * per-axis frequencies, another base, another attention, the other cos/sin dtype the operator
 * takes. Each a valid call. */
static void fly_axes_sem(gcase *g) {
    rope_axes_config *c = &g->ax;
    int n = c->n_axes, a = (int)tu_int(0, n - 1), b = (a + 1) % n, v = (int)tu_int(0, 3);
    if (v == 0 && n > 1 && c->freq == ROPE_AXES_FREQ_PER_AXIS && c->axes_dims[a] > 2)
        c->axes_dims[a] -= 2, c->axes_dims[b] += 2;
    else if (v <= 1) c->theta[a] = (double)PICK(0, 2, 100, 1e4, 1e6);
    else if (v == 2) c->attention = c->attention == 0 ? 0.75 : 0.0;
    else {
        rope_dtype x = g->s[T_X].t.dtype;
        int f32 = vllm_e(g->e) || (atb_e(g->e) && x == ROPE_F16);
        g->fa.cs_dtype = (rope_dtype)(g->fa.cs_dtype == ROPE_DTYPE_INVALID ? x : f32 && tu_int(0, 1) ? ROPE_F32 : 0);
    }
    note(g, "legal axes change %d: [%lld %lld %lld %lld] theta[%d] %g attention %g cs %s", v,
         (long long)c->axes_dims[0], (long long)c->axes_dims[1], (long long)c->axes_dims[2],
         (long long)c->axes_dims[3], a, c->theta[a], c->attention, rope_dtype_name(g->fa.cs_dtype));
    g->wild = 0;
    expect(g, 0, 1);
}

/* Attributes changed within their domains: a different valid call, or a mismatch anywhere. */
int m_attr_sem(gcase *g) {
    int v = (int)tu_int(0, 2);
    g->wild = 1;
    if (fly_e(g->e) && v == 2) {
        g->fly.kind = (rope_positions_kind)!g->fly.kind;
    } else if (vllm_e(g->e)) {
        if (v == 0) g->va.is_neox = !g->va.is_neox;
        else g->va.head_size = tu_int(1, 12);
    } else if (prologue_e(g->e)) {
        rope_vllm_attrs *a = qkn_e(g->e) ? &g->qn.rope : &g->kv.rope;
        if (v == 0) a->is_neox = !a->is_neox;
        else if (v == 1) a->head_size = tu_int(1, 12);
        else if (qkn_e(g->e)) g->qn.num_heads_v = tu_int(0, 3), g->qn.num_heads_q = tu_int(0, 3);
        else g->kv.kv_layout = g->kv.kv_layout == ROPE_KV_NHD ? ROPE_KV_HND : ROPE_KV_NHD;
    } else if (g->e == E_AXES && v == 2) {
        g->ax.freq = !g->ax.freq;
        g->ax.theta[0] = (double)PICK(2, 100, 1e6);
    } else if (axf_e(g->e) && v == 2) {
        fly_axes_sem(g);
        return 1;
    } else if (onnx_e(g->e)) {
        int64_t h = onnx_head(g);
        if (v == 0) g->oa.num_heads = tu_int(1, 6);
        else g->oa.rotary_embedding_dim = 2 * tu_int(0, h / 2);
    } else if (atb_e(g->e)) {
        if (v == 0) g->ap.cos_format = !g->ap.cos_format;
        else g->ap.rotary_coeff = (int32_t)PICK(2, 4, atb_d(g));
    } else {
        g->layout = g->layout == ROPE_CACHE_VLLM ? ROPE_CACHE_VLLM : !g->layout; /* VLLM has no sin table */
    }
    note(g, "legal attribute change %d", v);
    return 1;
}

/* A field of the frequency configuration out of its domain; only the methods that read the field
 * must reject it. */
int m_freq(gcase *g) {
    rope_freq_config *c = &g->fc;
    const int m = (int)c->scaling, lin = m == ROPE_SCALING_LINEAR, dyn = m == ROPE_SCALING_DYNAMIC;
    const int yarn = m == ROPE_SCALING_YARN, l3 = m == ROPE_SCALING_LLAMA3, lr = m == ROPE_SCALING_LONGROPE;
    const int prop = m == ROPE_SCALING_PROPORTIONAL;
    const double bad[] = {NAN, INFINITY, -INFINITY, -1.0, -1e-300};
    double b = bad[tu_int(0, 4)];
    int used = 1, v = (int)tu_int(0, 13);
    switch (v) {
    case 0: c->base = tu_int(0, 1) ? b : (double)PICK(1, 0) + 0.5; break; /* 1.5 is legal */
    case 1: c->rotary_dim = PICK(1, 3, -2, INT64_MIN, c->rotary_dim + 1, -c->rotary_dim); break;
    case 2: c->scaling = (rope_scaling)PICK(7, -1, 99); break;
    case 3: c->seq_len = PICK(-1, INT64_MIN); break;
    case 4: {
        int tiny = tu_int(0, 2) == 0;
        c->factor = tiny ? 5e-324 : b;
        used = lin || dyn || yarn || l3 || prop || (lr && c->attention_factor == 0); /* tiny: inv_freq inf */
        break;
    }
    case 5: c->original_max_position_embeddings = PICK(0, -1, INT64_MIN), used = dyn || yarn || l3 || lr; break;
    case 6: c->low_freq_factor = b, used = l3; break;
    case 7: c->high_freq_factor = tu_int(0, 1) ? b : 0.5, used = l3; break;
    case 8:
        if (tu_int(0, 1)) c->beta_fast = tu_int(0, 1) ? b : 0.5; /* below beta_slow 1 */
        else c->beta_slow = b;
        used = yarn;
        break;
    case 9: *(tu_int(0, 1) ? &c->mscale : &c->mscale_all_dim) = b, used = yarn; break;
    case 10: c->no_truncate = (int32_t)PICK(2, -1), used = yarn; break;
    case 11: c->attention_factor = b, used = yarn || lr; break;
    case 12: {
        const double **f = tu_int(0, 1) ? &c->short_factor : &c->long_factor;
        double *copy = f == &c->short_factor ? g->sf : g->lf;
        if (tu_int(0, 2) == 0) *f = NULL;
        else copy[tu_int(0, c->rotary_dim / 2 - 1)] = tu_int(0, 1) ? b : 0.0, *f = copy;
        used = lr;
        break;
    }
    default: /* legal but far: a huge base (dynamic scaling may overflow it), a huge seq_len */
        if (tu_int(0, 1)) c->base = 1e300;
        else c->seq_len = INT64_MAX;
        g->wild = 1;
        break;
    }
    if (v == 0 && c->base == 1.5) used = 0;
    note(g, "freq field %d%s", v, used ? "" : " (ignored)");
    if (v < 13) expect(g, used ? BIT(ROPE_ERROR_ATTRIBUTE) : 0, !used);
    return 1;
}
