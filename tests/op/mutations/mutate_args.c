/* SPDX-License-Identifier: MIT */
/* test_api_mutations mutations of the arguments themselves: NULL pointers (tensors, attributes,
 * configurations, the lifecycle's arguments), NULL data, another dtype, another rank. */
#include <limits.h>

#include "mutations.h"

int m_null_ptr(gcase *g) {
    if (op_e(g->e)) {
        g->life = (int)tu_int(L_CREATE_NULL, L_EXEC_PACK_NULL);
        int final = g->life == L_CREATE_NULL || (g->life >= L_SETUP_OP_NULL && g->life <= L_SETUP_OUTS_NULL);
        expect(g, final ? BIT(ROPE_ERROR_NULL_ARGUMENT) : 0, !final);
        note(g, "lifecycle NULL %d", g->life);
        return 1;
    }
    int c[N_T + 2], n = 0;
    for (int i = 0; i < N_T; i++)
        if (g->s[i].used && !g->s[i].null_ptr && not_ids(g, i) && (i != T_POS || g->e == E_AXES) &&
            !(g->e == E_FREQ && i == T_RK))
            c[n++] = i;
    if (fly_e(g->e) || axf_e(g->e)) c[n++] = N_T;
    if (cfg_e(g->e) || coords_e(g->e)) c[n++] = N_T + 1;
    int i = c[tu_int(0, n - 1)];
    if (i < N_T) g->s[i].null_ptr = 1;
    else if (i == N_T) g->fly_null = 1;
    else g->cfg_null = 1;
    if (axf_e(g->e) && i >= N_T) g->names = i == N_T ? "fly is NULL" : "fly->axes is NULL";
    note(g, "NULL %s", i < N_T ? slot_name[i] : i == N_T ? "fly" : "cfg");
    if (g->e == E_VLLM_INFER && i == T_K) { /* key NULL: absent, key_out then not touched */
        expect(g, 0, 1);
        if (g->nk == 2) g->wild = 1; /* the other mutation may have been the key's, now moot */
        return 1;
    }
    expect(g, BIT(ROPE_ERROR_NULL_ARGUMENT), 0);
    return 1;
}

int m_null_data(gcase *g) {
    int i = pick_slot(g, has_data);
    if (i < 0) return 0;
    g->s[i].t.data = NULL;
    note(g, "data NULL %s", slot_name[i]);
    if (axf_e(g->e) && i == T_POS) g->names = "fly->positions";
    if (infer_e(g->e) || check_e(g->e) || (is_atb_seq(g, i) && !seq_read(g))) {
        expect(g, 0, 1);
        if (shares(g, i)) g->wild = 1; /* without data it overlaps nothing */
    } else {
        expect(g, BIT(ROPE_ERROR_NULL_ARGUMENT), numel(&g->s[i].t) == 0); /* empty: data may be NULL */
    }
    return 1;
}

int m_null_attrs(gcase *g) {
    int same;
    if (vllm_e(g->e) || prologue_e(g->e)) { /* head_size is required: no defaults */
        g->attrs_null = 1;
        note(g, "attrs NULL");
        expect(g, BIT(ROPE_ERROR_NULL_ARGUMENT), 0);
        return 1;
    }
    if (onnx_e(g->e)) {
        int64_t h = g->s[T_X].t.dims[3], r = g->oa.rotary_embedding_dim;
        same = g->s[T_X].t.rank == 4 && g->oa.interleaved == 0 && (r == 0 || r == h);
    } else {
        same = g->ap.rotary_coeff == 4 && (fly_e(g->e) || axf_e(g->e) || g->ap.cos_format == 0);
    }
    g->attrs_null = 1;
    note(g, "attrs NULL (%s defaults)", same ? "same as" : "not");
    if (same) expect(g, 0, 1);
    else g->wild = 1;
    return 1;
}

int m_dtype(gcase *g) {
    int i = pick_slot(g, NULL), fly = fly_e(g->e) || axf_e(g->e);
    if (fly && tu_int(0, 3) == 0) i = -1;
    if (i < 0 && !fly) return 0;
    rope_dtype d;
    do d = (rope_dtype)PICK(0, ROPE_F32, ROPE_F16, ROPE_BF16, ROPE_I32, ROPE_U32, ROPE_I64, 7, 42, -1, INT_MAX);
    while (dtype_accepted(g, i, d));
    if (i < 0) *(axf_e(g->e) ? &g->fa.cs_dtype : &g->fly.cs_dtype) = d;
    else g->s[i].t.dtype = d;
    if (axf_e(g->e) && (i < 0 || i == T_POS)) g->names = i < 0 ? "fly->cs_dtype" : "fly->positions";
    note(g, "dtype %s = %d", i < 0 ? "cs_dtype" : slot_name[i], (int)d);
    expect(g, BIT(ROPE_ERROR_DTYPE), 0);
    return 1;
}

int m_rank(gcase *g) {
    int i = pick_slot(g, NULL), r;
    if (i < 0) return 0;
    do r = (int)PICK(INT_MIN, -7, -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 64, INT_MAX);
    while (rank_accepted(g, i, r) || (g->e == E_VLLM_OP && i == T_K && r == 0) || /* rank 0: key absent */
           (g->e == E_KV_OP && (i == T_QW || i == T_KW) && r == 0));              /* and the weights */
    rope_tensor *t = &g->s[i].t;
    for (int d = t->rank < 0 ? 0 : t->rank; d < r && d < ROPE_MAX_RANK; d++) t->dims[d] = tu_int(1, 3);
    t->rank = r;
    note(g, "rank %s = %d", slot_name[i], r);
    if (axf_e(g->e) && i == T_POS) g->names = "fly->positions";
    expect(g, BIT(ROPE_ERROR_RANK) | (partner(g, i) ? BIT(ROPE_ERROR_SHAPE) : 0), 0);
    return 1;
}
