/* SPDX-License-Identifier: MIT */
/*
 * Garbage in: a randomized robustness test of every public entry point that takes tensors (the
 * one-shots of src/op/oneshot.c, the on-the-fly forms, shape inference, the operation lifecycle of
 * src/op/operation.c, rope_cache_fill and rope_freq_compute). Each iteration builds a valid random
 * call with small shapes (garbage_gen.c), applies zero, one or two random mutations
 * (garbage_mutate.c, garbage_mut_*.c) and runs it:
 *   (a) the call returns: every tensor sits in its own exactly sized heap block (or in one block
 *       with the tensor it is made to overlap), so ASan / UBSan see any stray access;
 *   (b) on failure: the status is a known one, one the contract allows for the mutations, the
 *       message starts with the function's name, and not a byte of any buffer (or output argument)
 *       changed: outputs are filled with a canary first (garbage_buffers.c);
 *   (c) on success (legal mutations only): every output element that held the canary was written,
 *       and no byte outside the outputs' rows changed (gaps of strided rows, inputs);
 *   (d) where rope.h names the status of a mutation, exactly that status (else the set it allows,
 *       garbage_expect.c).
 * It prints the statuses seen per mutation kind and the cases run per entry point and kind, then
 * "N passed, M failed".
 *
 * Usage: test_garbage [iterations] [seed]. GARBAGE_TRACE=1 prints every case before its call (the
 * last one printed is the one a sanitizer stopped in).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "garbage.h"

/* Statuses seen per mutation kind, cases run per entry point and kind. */
static long seen[N_KIND][ROPE_STATUS_COUNT_ + 1], cover[N_ENTRY][N_KIND];

static void tally(gcase *g, rope_status st) {
    int col = st >= 0 && st < ROPE_STATUS_COUNT_ ? (int)st : ROPE_STATUS_COUNT_;
    if (g->nk == 0) seen[K_VALID][col]++;
    for (int i = 0; i < g->nk; i++) seen[g->kinds[i]][col]++, cover[g->e][g->kinds[i]]++;
    if (g->nk == 0) cover[g->e][K_VALID]++;
}

/* Slot i as a tensor argument: NULL when unused or mutated to a NULL pointer. */
static const rope_tensor *P(const gcase *g, int i) {
    return g->s[i].used && !g->s[i].null_ptr ? &g->s[i].t : NULL;
}

/* Calls the case's entry point (all but the lifecycles); io gets shape inference's outputs. */
static rope_status call(gcase *g, rope_context *ctx, rope_tensor io[2]) {
    const rope_tensor *x = P(g, T_X), *k = P(g, T_K), *c = P(g, T_COS), *s = P(g, T_SIN), *l = P(g, T_SEQ),
                      *y = P(g, T_Y), *rk = P(g, T_RK);
    const rope_onnx_attrs *oa = g->attrs_null ? NULL : &g->oa;
    const rope_atb_param *ap = g->attrs_null ? NULL : &g->ap;
    const rope_freq_config *cfg = g->cfg_null ? NULL : &g->fc;
    g->fly.freq = cfg;
    g->fly.positions = g->s[T_POS].t;
    const rope_fly *fly = g->fly_null ? NULL : &g->fly;
    switch (g->e) {
    case E_ONNX: return rope_onnx_rotary_embedding(ctx, oa, x, c, s, l, y);
    case E_ONNX_BWD: return rope_onnx_rotary_embedding_backward(ctx, oa, x, c, s, l, y);
    case E_ONNX_INFER: return rope_onnx_infer(oa, x, c, s, l, g->s[T_Y].null_ptr ? NULL : &io[0]);
    case E_ONNX_FLY: return rope_onnx_rotary_embedding_fly(ctx, oa, x, fly, y);
    case E_ONNX_FLY_BWD: return rope_onnx_rotary_embedding_fly_backward(ctx, oa, x, fly, y);
    case E_ATB: return rope_atb_rope(ctx, ap, x, k, c, s, l, y, rk);
    case E_ATB_BWD: return rope_atb_rope_backward(ctx, ap, x, k, c, s, l, y, rk);
    case E_ATB_INFER:
        return rope_atb_infer(ap, x, k, c, s, l, g->s[T_Y].null_ptr ? NULL : &io[0],
                              g->s[T_RK].null_ptr ? NULL : &io[1]);
    case E_ATB_FLY: return rope_atb_rope_fly(ctx, ap, x, k, fly, l, y, rk);
    case E_ATB_FLY_BWD: return rope_atb_rope_fly_backward(ctx, ap, x, k, fly, l, y, rk);
    case E_CACHE: return rope_cache_fill(cfg, g->pos_start, g->count, (rope_cache_layout)g->layout, g->coeff, c, s);
    case E_FREQ:
        return rope_freq_compute(cfg, g->s[T_Y].null_ptr ? NULL : (double *)g->s[T_Y].t.data,
                                 g->s[T_RK].used ? (double *)g->s[T_RK].t.data : NULL);
    }
    return ROPE_STATUS_COUNT_;
}

/* Builds, runs and checks one case. */
static void one(int it, rope_context *ctx) {
    gcase *g = calloc(1, sizeof *g);
    g->it = it;
    g->e = it % N_ENTRY;
    generate(g);
    mutate_and_place(g);

    static int trace = -1;
    if (trace < 0) trace = getenv("GARBAGE_TRACE") != NULL;
    if (trace) fprintf(stderr, "iteration %d, %s [%s]\n", it, entry_name[g->e], g->desc), fflush(stderr);

    rope_tensor io[2], io0[2];
    memset(io, 0x5a, sizeof io);
    memcpy(io0, io, sizeof io);
    rope_status shown, st;
    if (op_e(g->e)) {
        st = run_op(g, ctx, &shown);
    } else {
        st = shown = call(g, ctx, io);
        if (st != ROPE_OK) failed_step(g, entry_name[g->e], st);
    }
    tally(g, shown);
    unsigned want = allowed(g);
    check(g, in_mask(want, st), "status %s, expected %s", status_name(st), mask_str(want));
    if (st != ROPE_OK) {
        check(g, memcmp(io, io0, sizeof io) == 0, "failed but wrote an inferred descriptor");
    } else if (want & BIT(ROPE_OK)) {
        if (g->e == E_ONNX_INFER) check(g, same_desc(&io[0], &g->s[T_X].t), "y_out is not X's descriptor");
        if (g->e == E_ATB_INFER)
            check(g, same_desc(&io[0], &g->s[T_X].t) && same_desc(&io[1], &g->s[T_K].t),
                  "rope_q_out / rope_k_out are not query's / key's descriptors");
        if (infer_e(g->e)) check(g, unchanged(g), "shape inference wrote to a buffer");
        else verify_written(g);
    }
    release(g);
    free(g);
}

int main(int argc, char **argv) {
    int iters = argc > 1 ? atoi(argv[1]) : 42000;
    tu_seed(argc > 2 ? strtoull(argv[2], NULL, 0) : 0x6a5bu);
    rope_context_options o = {sizeof(rope_context_options), ROPE_ISA_AUTO, 2, NULL, NULL, 0, 0};
    rope_context *ctx2 = NULL;
    CHECK(rope_context_create(&o, &ctx2) == ROPE_OK, "%s", rope_last_error());
    for (int it = 0; it < iters; it++) one(it, (it / N_ENTRY) % 2 ? ctx2 : NULL);
    rope_context_free(ctx2);

    printf("   %-14s", "kind \\ status");
    for (int s = 0; s <= ROPE_STATUS_COUNT_; s++) printf("%7s", s < ROPE_STATUS_COUNT_ ? short_status[s] : "?");
    printf("\n");
    for (int k = 0; k < N_KIND; k++) {
        printf("%2d %-14s", k, kind_name[k]);
        for (int s = 0; s <= ROPE_STATUS_COUNT_; s++) printf("%7ld", seen[k][s]);
        printf("\n");
    }
    printf("\nentry \\ kind (cases)");
    for (int k = 0; k < N_KIND; k++) printf(" %2d", k);
    printf("\n");
    for (int e = 0; e < N_ENTRY; e++) {
        printf("%-21.21s", entry_name[e]);
        for (int k = 0; k < N_KIND; k++)
            if (applicable_kind(e, k)) printf(" %2ld", cover[e][k] > 99 ? 99 : cover[e][k]);
            else printf("  -");
        printf("\n");
    }
    int holes = 0;
    for (int e = 0; e < N_ENTRY; e++)
        for (int k = 0; k < N_KIND; k++) holes += applicable_kind(e, k) && cover[e][k] == 0;
    CHECK(holes == 0 || iters < 1000, "%d (entry point, mutation kind) pairs never ran", holes);
    printf("%d iterations over %d entry points\n", iters, N_ENTRY);
    return tu_finish();
}
