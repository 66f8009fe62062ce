/* SPDX-License-Identifier: MIT */
/*
 * Garbage in: a randomized robustness test of every public entry point that takes tensors (the
 * one-shots of src/op/oneshot.c and src/vllm/vllm_calls.c, the on-the-fly forms (rope_fly and the multi-axis
 * rope_fly_axes), shape inference, the operation lifecycle of
 * src/op/operation.c, rope_cache_fill, rope_cache_fill_axes, rope_freq_compute, and the fused
 * prologue: rope_vllm_fused_qk_norm_rope and rope_vllm_rotary_embedding_and_cache, their _check
 * forms and operations, whose paged KV caches start as canary too: on failure not a byte of them
 * changes, on success only the entries of the mapped slots do). Each iteration builds a valid random
 * call with small shapes (valid_calls.c), applies zero, one or two random mutations
 * (mutate.c, mutate_*.c) and runs it:
 *   (a) the call returns: every tensor sits in its own exactly sized heap block (or in one block
 *       with the tensor it is made to overlap), so ASan / UBSan see any stray access;
 *   (b) on failure: the status is a known one, one the contract allows for the mutations, the
 *       message starts with the function's name, and not a byte of any buffer (or output argument)
 *       changed: outputs are filled with a canary first (buffers.c);
 *   (c) on success (legal mutations only): every output element that held the canary was written,
 *       and no byte outside the outputs' rows changed (gaps of strided rows, inputs);
 *   (d) where rope.h names the status of a mutation, exactly that status (else the set it allows,
 *       expected_status.c).
 * It prints the statuses seen per mutation kind and the cases run per entry point and kind, then
 * "N passed, M failed".
 *
 * Usage: test_api_mutations [iterations] [seed]. GARBAGE_TRACE=1 prints every case before its call (the
 * last one printed is the one a sanitizer stopped in).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mutations/mutations.h"

int main(int argc, char **argv) {
    int iters = argc > 1 ? atoi(argv[1]) : 42000;
    tu_seed(argc > 2 ? strtoull(argv[2], NULL, 0) : 0x6a5bu);
    rope_context_options o = {sizeof(rope_context_options), ROPE_ISA_AUTO, 2, NULL, NULL, 0, 0};
    rope_context *ctx2 = NULL;
    CHECK(rope_context_create(&o, &ctx2) == ROPE_OK, "%s", rope_last_error());
    for (int it = 0; it < iters; it++) mutations_one(it, it % N_ENTRY, (it / N_ENTRY) % 2 ? ctx2 : NULL);
    rope_context_free(ctx2);

    printf("   %-14s", "kind \\ status");
    for (int s = 0; s <= ROPE_STATUS_COUNT_; s++) printf("%7s", s < ROPE_STATUS_COUNT_ ? short_status[s] : "?");
    printf("\n");
    for (int k = 0; k < N_KIND; k++) {
        printf("%2d %-14s", k, kind_name[k]);
        for (int s = 0; s <= ROPE_STATUS_COUNT_; s++) printf("%7ld", mutations_seen[k][s]);
        printf("\n");
    }
    printf("\n%-44s", "entry \\ kind (cases)");
    for (int k = 0; k < N_KIND; k++) printf(" %2d", k);
    printf("\n");
    for (int e = 0; e < N_ENTRY; e++) {
        printf("%-44.44s", entry_name[e]);
        for (int k = 0; k < N_KIND; k++)
            if (applicable_kind(e, k)) printf(" %2ld", mutations_cover[e][k] > 99 ? 99 : mutations_cover[e][k]);
            else printf("  -");
        printf("\n");
    }
    int holes = 0;
    for (int e = 0; e < N_ENTRY; e++)
        for (int k = 0; k < N_KIND; k++) holes += applicable_kind(e, k) && mutations_cover[e][k] == 0;
    CHECK(holes == 0 || iters < 1000, "%d (entry point, mutation kind) pairs never ran", holes);
    printf("%d iterations over %d entry points\n", iters, N_ENTRY);
    return tu_finish();
}
