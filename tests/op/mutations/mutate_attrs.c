/* SPDX-License-Identifier: MIT */
/* test_api_mutations mutations of the attributes (ONNX attributes, ATB parameters, positions kind, cache
 * layout and coefficient), out of their domains or changed within them, and of the frequency
 * configuration. */
#include <math.h>

#include "mutations.h"

/* ONNX head_size as the attributes currently split X (at least 2). */
static int64_t onnx_head(const gcase *g) {
    const rope_tensor *x = &g->s[T_X].t;
    int64_t h = x->rank == 4 ? x->dims[3] : g->oa.num_heads > 0 ? x->dims[2] / g->oa.num_heads : 0;
    return h >= 2 ? h : 2;
}

static int64_t atb_d(const gcase *g) { return fly_e(g->e) ? g->fc.rotary_dim : g->s[T_COS].t.dims[1]; }

int m_attr(gcase *g) {
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
            int fine = g->layout != ROPE_CACHE_FULL || coeff_valid(g->coeff, g->fc.rotary_dim);
            expect(g, fine ? 0 : BIT(ROPE_ERROR_ATTRIBUTE), fine);
        }
        note(g, "layout %d coeff %d", g->layout, (int)g->coeff);
    }
    return 1;
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
