/* SPDX-License-Identifier: MIT */
/* test_api_mutations mutations of where the tensors live, applied before the blocks are allocated: legal
 * row strides, in place, inputs sharing memory, overlapping tensors. */
#include "mutations.h"

/* A legal row_stride: gaps after the rows of a strided tensor, the dense one of a dense-only one. */
int m_stride_ok(gcase *g) {
    int i = pick_slot(g, has_dims);
    if (i < 0) return 0;
    slot *s = &g->s[i];
    s->t.row_stride = s->strided ? s->row + tu_int(0, 3) : s->t.dims[s->t.rank - 1];
    note(g, "%s row_stride %lld (legal)", slot_name[i], (long long)s->t.row_stride);
    expect(g, 0, 1);
    return 1;
}

static void share(gcase *g, int out, int in) {
    g->s[out].t.row_stride = g->s[in].t.row_stride;
    g->s[out].home = in, g->s[out].off = 0;
}

int m_in_place(gcase *g) {
    int which = atb_e(g->e) || (vllm_e(g->e) && g->s[T_K].used) ? (int)tu_int(1, 3) : 1;
    if (tu_int(0, 1)) g->s[T_X].t.row_stride = g->s[T_X].row + tu_int(1, 2);
    if (which & 1) share(g, T_Y, T_X);
    if (which & 2) share(g, T_RK, T_K);
    note(g, "in place (%d), stride %lld", which, (long long)g->s[T_X].t.row_stride);
    expect(g, 0, 1);
    return 1;
}

int m_shared_in(gcase *g) {
    if (vllm_e(g->e)) { /* key on query's memory: inputs may overlap (outputs are apart) */
        const rope_tensor *q = &g->s[T_X].t, *k = &g->s[T_K].t;
        int same = g->s[T_K].used && q->rank == k->rank && q->row_stride == k->row_stride;
        for (int d = 0; same && d < q->rank; d++) same = q->dims[d] == k->dims[d];
        if (!same) return 0;
        g->s[T_K].home = T_X;
        note(g, "key shares query's memory");
        expect(g, 0, 1);
        return 1;
    }
    int qk = atb_e(g->e) && g->s[T_X].t.rank == 2 && g->s[T_X].t.dims[1] == g->s[T_K].t.dims[1] && tu_int(0, 1);
    if (qk) g->s[T_K].home = T_X;
    else g->s[T_SIN].home = T_COS;
    note(g, qk ? "key shares query's memory" : "sin shares cos's memory");
    expect(g, 0, 1);
    return 1;
}

int m_overlap(gcase *g) {
    int pairs[40][2], n = 0;
#define PAIR(a, b) (g->s[a].used && g->s[b].used && !g->s[b].nodata ? (pairs[n][0] = (a), pairs[n][1] = (b), n++) : 0)
    if (g->e == E_CACHE || g->e == E_AXES) PAIR(T_SIN, T_COS);
    if (g->e == E_AXES) PAIR(T_COS, T_POS), PAIR(T_SIN, T_POS);
    if (prologue_e(g->e)) { /* what is written (qkv; query, key and the caches) against every other tensor */
        static const int written[4] = {T_X, T_K, T_KC, T_VC};
        static const int others[10] = {T_X, T_K, T_KC, T_VC, T_V, T_SEQ, T_COS, T_SLOT, T_QW, T_KW};
        for (int w = 0; w < 4; w++)
            for (int o = w + 1; o < 10; o++) PAIR(written[w], others[o]);
    }
    PAIR(T_Y, T_X), PAIR(T_Y, T_COS), PAIR(T_Y, T_SIN), PAIR(T_Y, T_SEQ), PAIR(T_Y, T_POS);
    if (atb_e(g->e) || vllm_e(g->e)) {
        PAIR(T_RK, T_K), PAIR(T_Y, T_K), PAIR(T_RK, T_X), PAIR(T_RK, T_Y);
        PAIR(T_RK, T_COS), PAIR(T_RK, T_SIN), PAIR(T_RK, T_SEQ), PAIR(T_RK, T_POS);
    }
#undef PAIR
    if (n == 0) return 0; /* rope_cache_fill's VLLM layout: a single output */
    int j = (int)tu_int(0, n - 1), a = pairs[j][0], v = pairs[j][1];
    int twin = (a == T_Y && v == T_X) || (a == T_RK && v == T_K); /* exactly equal is in place */
    slot *sa = &g->s[a], *sv = &g->s[v];
    sa->t.row_stride = sv->t.row_stride = 0;
    size_t ea = extent(sa), ev = extent(sv), ua = rope_dtype_size(sa->t.dtype), uv = rope_dtype_size(sv->t.dtype);
    size_t unit = ua > uv ? ua : uv;
    if (!ea || !ev) return 0;
    int64_t rows = numel(&sa->t) / sa->row;
    if (twin && rows >= 2 && tu_int(0, 2) == 0) { /* same start, another stride */
        sa->t.row_stride = sa->row + 1;
        sa->home = v, sa->off = 0;
        note(g, "%s at %s with stride %lld", slot_name[a], slot_name[v], (long long)sa->t.row_stride);
        expect(g, BIT(ROPE_ERROR_ALIASING), 0);
        return 1;
    }
    int first = tu_int(0, 1) ? a : v, second = first == a ? v : a;
    size_t ef = first == a ? ea : ev;
    if (twin && ef <= unit) return 0;
    size_t off = unit * (size_t)tu_int(twin ? 1 : 0, (int64_t)((ef - 1) / unit));
    g->s[second].home = first, g->s[second].off = off;
    note(g, "%s at byte %zu of %s", slot_name[second], off, slot_name[first]);
    expect(g, BIT(ROPE_ERROR_ALIASING), 0);
    return 1;
}
