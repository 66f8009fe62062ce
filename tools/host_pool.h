/* SPDX-License-Identifier: MIT */
/* A plain persistent pthread pool playing "the host's threads" for `rope bench --pool host|split`:
 * what an engine that owns its threads would hand librope (rope_context_options.parallel_for), so
 * the benchmark can show what going through it costs against the library's own pool. */
#ifndef ROPE_TOOL_HOST_POOL_H
#define ROPE_TOOL_HOST_POOL_H

#include <stdint.h>

#include "rope.h"

typedef struct host_pool host_pool;

/* Starts threads - 1 workers (the caller of host_pool_for is the last thread). NULL on failure. */
host_pool *host_pool_create(int threads);
void host_pool_free(host_pool *p);

/* The parallel-for (rope_parallel_for_fn, user = the pool): task(arg, i) for i in [0, n), on the
 * workers and the caller, returning when all are done. */
void host_pool_for(void *pool, int64_t n, rope_task_fn task, void *arg);

#endif
