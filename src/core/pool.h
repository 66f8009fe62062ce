/* SPDX-License-Identifier: MIT */
/*
 * A persistent pool of worker threads owned by an execution context.
 *
 * The caller of rope_pool_run is always one of the workers: a pool for T threads holds T - 1 of
 * them. Idle workers sleep on a condition variable (nothing spins while there is no work), and a
 * dispatch costs one mutex round trip and a few condition-variable signals: the job is published
 * under the mutex with a new generation number, the parts are claimed through one atomic counter.
 *
 * One caller at a time: rope_pool_run takes the pool with a try-lock and returns 0 without doing
 * anything when another thread holds it, so concurrent callers never queue behind each other (the
 * loser runs its job on its own thread, which on a machine whose cores are all busy is as fast).
 *
 * The caller never waits for a worker that has not woken up yet: when it has claimed the last part
 * it closes the job, and a worker waking later skips it. It only waits for workers already running
 * a part, so a slow wake-up (a descheduled vCPU) costs the caller nothing.
 */
#ifndef ROPE_POOL_H
#define ROPE_POOL_H

#include <stddef.h>

#include "internal.h"

typedef struct rope_pool rope_pool;

/* Runs part `part` of `parts`; parts of one job may run concurrently on different threads. */
typedef void (*rope_pool_fn)(void *arg, size_t part, size_t parts);

/* Starts `workers` (>= 1) threads. Errors: ROPE_ERROR_OUT_OF_MEMORY (allocation, or the system
 * refused a thread), ROPE_ERROR_UNSUPPORTED (a mutex or condition variable could not be made).
 * On failure every thread already started is joined and nothing is left allocated. */
rope_status rope_pool_create(int workers, rope_pool **out);

/* Stops and joins the workers, then frees the pool. NULL is a no-op. No run may be in progress. */
void rope_pool_free(rope_pool *pool);

/* Number of worker threads (the caller not counted). */
int rope_pool_workers(const rope_pool *pool);

/*
 * Calls fn(arg, i, parts) once for every i in [0, parts), on the calling thread and at most
 * `helpers` woken workers, and returns when all calls have returned. Returns 1 when it did so, 0
 * (having called nothing) when the pool is NULL or busy with another caller's job: the caller then
 * runs the parts itself.
 */
int rope_pool_run(rope_pool *pool, rope_pool_fn fn, void *arg, size_t parts, int helpers);

/* Test hook: when >= 0, starting worker number rope_pool_fail_start (0-based) fails as if the system
 * had refused the thread, so the clean-up of a half-made pool can be tested. -1 (default): never. */
extern int rope_pool_fail_start;

/* Test hook: how many jobs were dispatched to the workers since the pool was made. A call the
 * engine runs inline leaves it unchanged. */
unsigned long long rope_pool_dispatches(rope_pool *pool);

#endif
