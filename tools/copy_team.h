/* SPDX-License-Identifier: MIT */
/* `rope bench`'s copy baseline (and its floor loop) on the threads a compute call moving the same
 * bytes gets. */
#ifndef ROPE_TOOL_COPY_TEAM_H
#define ROPE_TOOL_COPY_TEAM_H

#include <stddef.h>

typedef struct copy_team copy_team;

/* A team of `threads` (>= 1): the caller and threads - 1 workers, started now. NULL when threads
 * could not be started. */
copy_team *copy_team_create(int threads);
void copy_team_free(copy_team *t);

/* Copies `bytes` from src to dst, split as rope.h says a compute call moving `moved` bytes is: on the
 * calling thread below 4 MiB, else on up to the team's threads with at least 2 MiB moved each, in
 * 64-byte aligned slices. */
void copy_team_run(copy_team *t, void *dst, const void *src, size_t bytes, size_t moved);

/* Runs fn(arg, i, n) for i in [0, n), n = min(parts, the team's threads): part 0 on the caller, the
 * others on the workers; returns when all are done. */
typedef void (*copy_team_fn)(void *arg, size_t part, size_t parts);
void copy_team_run_parts(copy_team *t, size_t parts, copy_team_fn fn, void *arg);
int copy_team_threads(const copy_team *t);

/* The number of parts copy_team_run splits `bytes` into on `threads` threads (the rule above), for a
 * copy run on other threads (a host's parallel-for). */
size_t copy_split_parts(int threads, size_t bytes, size_t moved);

/* Copies part `part` of `parts` of the bytes: a 64-byte aligned slice, so threads never share a
 * cache line. */
void copy_slice(void *dst, const void *src, size_t bytes, size_t part, size_t parts);

#endif
