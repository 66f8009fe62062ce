/* SPDX-License-Identifier: MIT */
/* The execution contexts a test runs a case on: the portable kernel on one thread first (the
 * reference the others must match bit for bit), then every instruction set this build has and this
 * CPU executes (rope_isa_available), each with 1 and 2 threads. */
#ifndef ROPE_TEST_CONTEXTS_H
#define ROPE_TEST_CONTEXTS_H

#include "rope.h"

enum { TU_MAX_CONTEXTS = 10 };

typedef struct tu_contexts {
    rope_context *ctx[TU_MAX_CONTEXTS];
    char name[TU_MAX_CONTEXTS][32];
    int n;
} tu_contexts;

/* Creates the contexts (aborting the test run when one cannot be made); tu_contexts_free frees them. */
void tu_contexts_make(tu_contexts *c);
void tu_contexts_free(tu_contexts *c);

/* Makes the engine split even tiny jobs over the threads and walk them in small tiles, so block,
 * chunk and tile edges fall everywhere (an internal tuning; results never depend on it). */
void tu_split_everything(size_t tile_tokens);

#endif
