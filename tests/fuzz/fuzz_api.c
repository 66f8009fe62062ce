/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: every public entry point that takes tensors (compute, backward, on the fly, shape
 * inference, the operation lifecycle, rope_cache_fill, rope_freq_compute), through test_api_mutations's
 * cases (the files of tests/op/mutations): a valid call with small random shapes, up to two mutations (dtypes,
 * ranks, negative and huge dims, strides, NULLs, aliasing, out-of-range ids / seqlen / positions,
 * attributes, frequency configurations, lifecycle order), every buffer in an exactly sized heap
 * block, outputs and stride gaps filled with a canary. Here the input's bytes make those random
 * choices (tu_source), so libFuzzer steers them by coverage. Every check of test_api_mutations holds, and
 * a violated one aborts: a known status the mutations allow, the function's name in the message,
 * nothing written on failure, every output element and nothing outside the outputs' rows written on
 * success, and shape inference agreeing with the forward call (status and message).
 *
 * Input: byte 0 picks the entry point (enum entry in mutations.h), byte 1 bit 0 the context (the
 * default one, or an own context of 2 threads); the rest drives the case.
 */
#include "fuzz.h"
#include "mutations.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static rope_context *two;
    static int it;
    if (!two) {
        mutations_fatal = 1;
        rope_context_options o = ROPE_CONTEXT_OPTIONS_INIT;
        o.isa = ROPE_ISA_AUTO, o.threads = 2;
        FUZZ_ASSERT(rope_context_create(&o, &two) == ROPE_OK, "%s", rope_last_error());
    }
    if (size < 2) return 0;
    uint64_t h = 0xcbf29ce484222325ull; /* the seeded sequence after the bytes: from all of them */
    for (size_t i = 0; i < size; i++) h = (h ^ data[i]) * 0x100000001b3ull;
    tu_seed(h);
    tu_source(data + 2, size - 2);
    mutations_one(it++, data[0] % N_ENTRY, data[1] & 1 ? two : NULL);
    tu_source(NULL, 0);
    return 0;
}
