/* SPDX-License-Identifier: MIT */
/* test_api_mutations mutations of shapes and strides: negative, huge and off-by-one dims, empty tensors
 * with huge dims, bad and huge row strides. */
#include "mutations.h"

/* The dims of an unread seqlen are checked against nothing: a new length may end an overlap, or
 * outgrow an explicit row_stride. */
static void expect_free_seqlen(gcase *g, int i) {
    if (shares(g, i)) g->wild = 1;
    expect(g, BIT(ROPE_ERROR_ALIASING) | (g->s[i].t.row_stride ? BIT(ROPE_ERROR_STRIDE) : 0), 1);
}

/* What a changed dim of slot i may give (beyond what the kind itself says): with a row_stride, the
 * row may have outgrown it. */
static void expect_dim(gcase *g, int i) {
    if (g->s[i].t.row_stride) expect(g, BIT(ROPE_ERROR_STRIDE), 1);
    if (infer_e(g->e) && (i == T_X || i == T_K)) expect(g, BIT(ROPE_ERROR_SHAPE) | BIT(ROPE_ERROR_ATTRIBUTE), 1);
    else if (onnx_e(g->e) && i == T_X) expect(g, BIT(ROPE_ERROR_SHAPE) | BIT(ROPE_ERROR_ATTRIBUTE), 0);
    else expect(g, BIT(ROPE_ERROR_SHAPE), 0);
}

/* The cache write's query is in place with no partner: its head count is the call's to choose, so a
 * larger one would be a consistent call claiming more than its block holds. Its token dim instead. */
static int free_dim(const gcase *g, int i, int d) { return kv_e(g->e) && i == T_X ? 0 : d; }

int m_dim_neg(gcase *g) {
    int64_t v = PICK(-1, -2, -P2(40), INT64_MIN);
    if (g->e == E_CACHE && tu_int(0, 1)) {
        g->count = v;
        note(g, "count %lld", (long long)v);
    } else {
        int i = pick_slot(g, has_dims);
        if (i < 0) return 0;
        int d = (int)tu_int(0, g->s[i].t.rank - 1);
        g->s[i].t.dims[d] = v;
        note(g, "%s dim %d = %lld", slot_name[i], d, (long long)v);
        if (axf_e(g->e) && i == T_POS) g->names = "fly->positions";
    }
    expect(g, BIT(ROPE_ERROR_SHAPE), 0);
    return 1;
}

int m_dim_huge(gcase *g) {
    int i = pick_slot(g, not_vllm_cache);
    if (i < 0) return 0;
    rope_tensor *t = &g->s[i].t;
    int d = free_dim(g, i, (int)tu_int(0, t->rank - 1)), both = t->rank >= 2 && tu_int(0, 2) == 0;
    int64_t v = PICK(P2(31), P2(32) + 2, P2(40), P2(61), INT64_MAX);
    if (is_atb_seq(g, i) && seq_read(g) && v < P2(61)) v = INT64_MAX; /* only sizes that cannot be real */
    t->dims[d] = both ? P2(32) : v;
    if (both) t->dims[(d + 1) % t->rank] = P2(32) + 6; /* the product overflows int64 */
    g->shaped = 1;
    note(g, "%s dim %d = %lld%s", slot_name[i], d, (long long)t->dims[d], both ? " and the next 2^32+6" : "");
    if (axf_e(g->e) && i == T_POS) g->names = "fly->positions";
    if (is_atb_seq(g, i) && !seq_read(g) && numel(t) >= 0 && numel(t) < P2(40) + 1)
        expect(g, BIT(ROPE_ERROR_SHAPE), 1), expect_free_seqlen(g, i); /* unread: a large claim is legal */
    else expect_dim(g, i);
    return 1;
}

int m_dim_off(gcase *g) {
    if (g->e == E_CACHE && tu_int(0, 2) == 0) {
        g->count += g->count ? PICK(-1, 1) : 1;
        note(g, "count %lld", (long long)g->count);
        expect(g, BIT(ROPE_ERROR_SHAPE) | BIT(ROPE_ERROR_INDEX), 0); /* positions are checked first */
        return 1;
    }
    int i = pick_slot(g, not_vllm_cache);
    if (i < 0) return 0;
    rope_tensor *t = &g->s[i].t;
    int d = free_dim(g, i, (int)tu_int(0, t->rank - 1));
    int64_t delta = t->dims[d] ? PICK(-1, 1, 2) : PICK(1, 2);
    if (is_atb_seq(g, i) && seq_read(g)) { /* growing would read past the values: shrink only */
        if (!t->dims[0]) return 0;
        delta = -1;
    }
    int other = 0; /* ONNX coordinates [batch*seq, A] become [seq, A] or the reverse: another valid form */
    if (onnx_e(g->e) && axf_e(g->e) && i == T_POS && t->rank == 2 && d == 0) {
        int64_t B = g->s[T_X].t.dims[0], S = onnx_seq(g), n = t->dims[0] + delta;
        other = n == B * S || (B > 1 && n == S);
        if (other && delta > 0) return 0; /* more rows than its block holds */
    }
    t->dims[d] += delta, g->shaped = 1;
    note(g, "%s dim %d %+lld%s", slot_name[i], d, (long long)delta, other ? " (another valid form)" : "");
    if (axf_e(g->e) && i == T_POS && !other) g->names = "fly->positions";
    if (other) {
        expect(g, 0, 1);
        if (shares(g, i)) g->wild = 1; /* fewer rows may end an overlap */
    } else if (is_atb_seq(g, i)) {
        if (!seq_read(g)) expect_free_seqlen(g, i);
        else if (fly_e(g->e)) expect(g, BIT(ROPE_ERROR_SHAPE) | (t->row_stride ? BIT(ROPE_ERROR_STRIDE) : 0), 0);
        else g->wild = 1; /* fewer sequences: the sum may still match */
    } else {
        expect_dim(g, i);
    }
    return 1;
}

/* Consistent shapes with no element but a huge dim: "batch, seq or heads of 0 is valid". The other
 * dims may multiply past INT64_MAX (batch * heads, or ATB's batch * seq) though the count is 0. */
int m_empty_huge(gcase *g) {
    int64_t h = PICK(P2(40), P2(62), INT64_MAX);
    if (onnx_e(g->e)) {
        int per_seq = fly_e(g->e) && g->pkind, v = (int)tu_int(0, 2), r4 = g->s[T_X].t.rank == 4;
        if (per_seq) v = 0;
        int64_t B = v ? h : 0, S = v ? 0 : h, N = v == 2 && r4 ? h : g->s[T_X].t.dims[1];
        for (int i = T_X; i <= T_Y; i += T_Y - T_X) {
            int64_t *dm = g->s[i].t.dims;
            dm[0] = B;
            if (r4) dm[1] = N, dm[2] = S;
            else dm[1] = S;
        }
        if (g->s[T_SEQ].used) g->s[T_SEQ].t.dims[0] = B, g->s[T_SEQ].t.dims[1] = S;
        if (g->s[T_COS].used && g->s[T_COS].t.rank == 3)
            for (int i = T_COS; i <= T_SIN; i++) g->s[i].t.dims[0] = B, g->s[i].t.dims[1] = S;
        if (g->s[T_POS].used && axf_e(g->e)) { /* coordinates [batch, seq, A], or batch*seq (or seq) rows */
            g->s[T_POS].t.dims[0] = g->s[T_POS].t.rank == 3 ? B : 0;
            if (g->s[T_POS].t.rank == 3) g->s[T_POS].t.dims[1] = S;
        } else if (g->s[T_POS].used) {
            g->s[T_POS].t.dims[0] = B, g->s[T_POS].t.dims[1] = S;
        }
        note(g, "empty: batch %lld seq %lld heads %lld", (long long)B, (long long)S, (long long)N);
        expect(g, 0, 1);
        return 1;
    }
    const int slots[4] = {T_X, T_K, T_Y, T_RK};
    int v = (int)tu_int(0, 2);
    if (g->s[T_X].t.rank == 2) {
        for (int j = 0; j < 4; j++) g->s[slots[j]].t.dims[0] = 0;
        int64_t wide = g->s[T_K].t.dims[1] * P2(40);
        g->s[T_X].t.dims[1] = g->s[T_Y].t.dims[1] = wide;
        note(g, "empty: ntokens 0, hiddenQ %lld", (long long)wide);
    } else {
        for (int j = 0; j < 4; j++) {
            int64_t *dm = g->s[slots[j]].t.dims;
            if (v == 2) dm[0] = dm[1] = P2(32) + 2, dm[2] = 0;
            else dm[v] = 0, dm[1 - v] = h;
        }
        if (v == 2) note(g, "empty heads, batch = seq = 2^32+2");
        else note(g, "empty: dim %d 0, dim %d %lld", v, 1 - v, (long long)h);
    }
    if (g->s[T_POS].used && !g->pkind) g->s[T_POS].t.dims[0] = 0;
    if (v == 2 && g->s[T_X].t.rank == 4) expect(g, BIT(ROPE_ERROR_SHAPE), 0); /* hiddenK 0 */
    else if (seq_read(g) && g->ntok > 0 && !infer_e(g->e)) expect(g, BIT(ROPE_ERROR_INDEX), 0);
    else expect(g, 0, 1);
    return 1;
}

int m_stride_bad(gcase *g) {
    int i = pick_slot(g, has_dims);
    if (i < 0) return 0;
    slot *s = &g->s[i];
    int64_t last = s->t.dims[s->t.rank - 1], v;
    if (s->strided) v = tu_int(0, 1) ? PICK(-1, -s->row, INT64_MIN) : tu_int(1, s->row - 1);
    else do v = last < P2(40) ? PICK(-1, INT64_MIN, 1, 2, last + 1, last + 7) : PICK(-1, 1, 2);
        while (v == 0 || v == last);
    s->t.row_stride = v;
    note(g, "%s row_stride %lld", slot_name[i], (long long)v);
    if (axf_e(g->e) && i == T_POS) g->names = "fly->positions";
    expect(g, BIT(ROPE_ERROR_STRIDE), infer_e(g->e)); /* inference "reads only dtype, rank and dims" */
    return 1;
}

int m_stride_huge(gcase *g) {
    int i = pick_slot(g, has_dims);
    if (i < 0) return 0;
    slot *s = &g->s[i];
    int64_t n = numel(&s->t), rows = s->row > 0 && n > 0 ? n / s->row : 0;
    int64_t v = rows >= 2 || !s->strided ? PICK(P2(61), P2(62), INT64_MAX) : PICK(P2(40), P2(62), INT64_MAX);
    s->t.row_stride = v;
    note(g, "%s row_stride %lld (%lld rows)", slot_name[i], (long long)v, (long long)rows);
    if (shares(g, i)) expect(g, BIT(ROPE_ERROR_ALIASING), 1); /* in place with another stride is not */
    if (g->shaped) expect(g, BIT(ROPE_ERROR_STRIDE), 1);
    if (s->strided && rows <= 1) expect(g, v == P2(40) ? 0 : BIT(ROPE_ERROR_STRIDE), 1);
    else expect(g, BIT(ROPE_ERROR_STRIDE), infer_e(g->e));
    return 1;
}
