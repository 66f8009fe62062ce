/* SPDX-License-Identifier: MIT */
/*
 * The execution context's internals, shared by the context functions and the engine.
 *
 * Threads. A context for T threads owns a pool of T - 1 worker threads (core/pool.h), started by
 * rope_context_create and joined by rope_context_free; the thread making a compute call is always
 * the T-th. The default context (ctx NULL) starts its pool lazily, at its first call large enough
 * to be split, and keeps it for the life of the process.
 *
 * Concurrent calls on one context: the pool serves one call at a time, taken with a try-lock. A
 * call that finds the pool busy does not wait for it: it runs on its own (calling) thread. Every
 * call therefore makes progress at once, the machine is never oversubscribed by one context (at
 * most T threads of it run, plus the extra callers, which are the user's own threads), and results
 * do not depend on who got the pool, since every thread count gives bitwise the same output.
 *
 * Small calls never touch the pool at all (no lock, no wake-up): below 4 MiB moved a call runs on
 * the calling thread, because on the target machine two threads only win once the data comes from
 * DRAM (rope_engine_tune and its measurements in engine/engine.c).
 */
#ifndef ROPE_CONTEXT_H
#define ROPE_CONTEXT_H

#include "../core/pool.h"
#include "../kernels/kernel.h"
#include "../core/internal.h"

/* More threads than this is certainly a mistake (and would be refused by the system anyway). */
#define ROPE_MAX_THREADS 1024

struct rope_context {
    rope_isa isa; /* resolved: never ROPE_ISA_AUTO */
    const rope_kernel_set *kernels;
    int threads;     /* >= 1: the caller plus the pool's workers */
    rope_pool *pool; /* threads - 1 workers; NULL when threads is 1 (or, for the default context,
                        until rope_context_pool first needs it), and with the host's threads */
    rope_parallel_for_fn parallel_for; /* the host's parallel-for, or NULL */
    void *parallel_user;
    int split_part, split_parts; /* split_parts > 0: this context does part split_part of each call */
    char isa_reason[96];         /* rope_context_isa_reason */
};

/* The context a compute call uses: `ctx`, or the default one when NULL. Cannot fail (an invalid
 * ROPE_ISA leaves the automatic choice, and the default context exists once asked for). */
rope_context *rope_context_resolve(rope_context *ctx);

/* The pool of a resolved context, starting the default context's on first use. NULL when the
 * context has a single thread, or when the default context could not start its threads (its calls
 * then run on the calling thread: a compute call never fails for want of threads). */
rope_pool *rope_context_pool(rope_context *ctx);

/*
 * The one place that decides who runs a call's blocks: fn(arg, i, parts) for i in [0, parts), with
 * `helpers` threads besides the caller at most (the engine's plan for ctx->threads). Own pool: its
 * workers and the caller (or the caller alone, as one block, when the pool is busy). Host
 * parallel-for: helpers + 1 tasks, each claiming blocks. Split context: only part split_part's share
 * of the blocks (part 0 runs a job planned for one thread whole). A plan for one thread runs on the
 * calling thread in every mode. Blocks never overlap and every thread count gives bitwise the same
 * output, so all three give the same result.
 */
void rope_context_run_parts(rope_context *ctx, rope_pool_fn fn, void *arg, size_t parts, int helpers);

#endif
