/* The execution context's internals, shared by the context functions and the engine. */
#ifndef ROPE_CONTEXT_H
#define ROPE_CONTEXT_H

#include "../kernels/kernel.h"
#include "internal.h"

struct rope_context {
    rope_isa isa; /* resolved: never ROPE_ISA_AUTO */
    const rope_kernel_set *kernels;
    int threads;
};

/* The context a compute call uses: `ctx`, or the default one when NULL. Fails (with the message
 * prefixed by `where`) only when the default context could not honour the ROPE_ISA variable. */
rope_status rope_context_resolve(rope_context *ctx, const char *where, rope_context **out);

#endif
