/* SPDX-License-Identifier: MIT */
/* test_api_mutations: choosing a case's mutations and applying them in order around the allocation of its
 * blocks. */
#include "mutations.h"

/* The order mutations are applied in: layout (before allocation), attributes, values (written by
 * the valid shapes), shapes, then the rest (a bad stride is chosen for the final row). */
static int phase(int k) {
    if (k == K_STRIDE_OK || k == K_IN_PLACE || k == K_SHARED_IN || k == K_OVERLAP) return 0;
    if (k == K_FREQ || k == K_ATTR || k == K_ATTR_SEM || k == K_NULL_ATTRS) return 1;
    if (k == K_INDEX || k == K_POS_HUGE) return 2;
    if (k == K_RANK || (k >= K_DIM_NEG && k <= K_EMPTY_HUGE)) return 3;
    return 4;
}
/* Kinds of one group would undo or hide each other: at most one per case. */
static int group(int k) {
    if (phase(k) == 0) return 1;
    if (k == K_RANK || (k >= K_DIM_NEG && k <= K_EMPTY_HUGE)) return 2;
    if (k == K_NULL_ATTRS || k == K_ATTR || k == K_ATTR_SEM) return 3;
    if (k == K_STRIDE_BAD || k == K_STRIDE_HUGE) return 4;
    if (k == K_INDEX || k == K_POS_HUGE) return 5;
    return 0;
}

static int apply(gcase *g, int k) {
    switch (k) {
    case K_NULL_PTR: return m_null_ptr(g);
    case K_NULL_DATA: return m_null_data(g);
    case K_NULL_ATTRS: return m_null_attrs(g);
    case K_DTYPE: return m_dtype(g);
    case K_RANK: return m_rank(g);
    case K_DIM_NEG: return m_dim_neg(g);
    case K_DIM_HUGE: return m_dim_huge(g);
    case K_DIM_OFF: return m_dim_off(g);
    case K_EMPTY_HUGE: return m_empty_huge(g);
    case K_STRIDE_BAD: return m_stride_bad(g);
    case K_STRIDE_HUGE: return m_stride_huge(g);
    case K_STRIDE_OK: return m_stride_ok(g);
    case K_IN_PLACE: return m_in_place(g);
    case K_SHARED_IN: return m_shared_in(g);
    case K_OVERLAP: return m_overlap(g);
    case K_INDEX: return m_index(g);
    case K_POS_HUGE: return m_pos_huge(g);
    case K_ATTR: return m_attr(g);
    case K_ATTR_SEM: return m_attr_sem(g);
    case K_FREQ: return m_freq(g);
    case K_LIFECYCLE: return m_lifecycle(g);
    }
    return 0;
}

/* Picks up to two kinds that go together, the one of the earlier phase first. */
static void choose(gcase *g) {
    int want = tu_int(0, 9) == 0 ? 0 : tu_int(0, 2) ? 1 : 2, tries = 0;
    while (g->nk < want && tries++ < 100) {
        int k = (int)tu_int(1, N_KIND - 1), bad = !applicable_kind(g->e, k);
        for (int j = 0; j < g->nk; j++) {
            int o = g->kinds[j];
            bad |= o == k || (group(o) && group(o) == group(k));
            /* a legal change of what a shape means (positions kind, seqlen read) plus a new shape
             * can make a consistent call that claims more than the blocks hold */
            bad |= (o == K_ATTR_SEM && group(k) == 2) || (k == K_ATTR_SEM && group(o) == 2);
            bad |= o == K_EMPTY_HUGE || k == K_EMPTY_HUGE; /* its expectation holds alone */
            bad |= op_e(g->e) && (o == K_NULL_PTR || o == K_LIFECYCLE) && (k == K_NULL_PTR || k == K_LIFECYCLE);
        }
        if (!bad) g->kinds[g->nk++] = k;
    }
    if (g->nk == 2 && phase(g->kinds[1]) < phase(g->kinds[0])) {
        int t = g->kinds[0];
        g->kinds[0] = g->kinds[1], g->kinds[1] = t;
    }
}

/* Picks the mutations, applies the layout ones, allocates and fills the blocks (outputs: canary),
 * applies the rest and takes the snapshot the checks compare with. */
void mutate_and_place(gcase *g) {
    choose(g);
    int done[2] = {0, 0};
    for (int j = 0; j < g->nk; j++)
        if (phase(g->kinds[j]) == 0) done[j] = apply(g, g->kinds[j]) + 1;

    place(g);

    for (int ph = 1; ph <= 4; ph++)
        for (int j = 0; j < g->nk; j++)
            if (phase(g->kinds[j]) == ph) done[j] = apply(g, g->kinds[j]) + 1;
    for (int j = 0; j < g->nk; j++) /* a declined mutation is dropped */
        if (done[j] != 2) g->kinds[j] = g->kinds[g->nk - 1], done[j] = done[g->nk - 1], g->nk--, j--;
    take_snapshot(g);
}
