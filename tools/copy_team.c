/* SPDX-License-Identifier: MIT */
/* The copy baseline's threads (copy_team.h): workers wait on a barrier, run their part (a slice of
 * the copy, or of the floor loop), and meet again, so a round costs two barrier crossings, as a
 * compute call's pool dispatch does. */
#define _POSIX_C_SOURCE 200809L /* pthread barriers */
#include "copy_team.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct copy_team {
    int threads;
    pthread_t *workers;
    pthread_barrier_t start, done;
    /* The round's task, written by the caller before `start`. */
    copy_team_fn fn;
    void *arg;
    int parts; /* 0: stop */
};

typedef struct copy_args {
    void *dst;
    const void *src;
    size_t bytes;
} copy_args;

static void copy_part(void *arg, size_t part, size_t parts) {
    copy_args *c = arg;
    copy_slice(c->dst, c->src, c->bytes, part, parts);
}

typedef struct worker_arg {
    copy_team *t;
    int index;
} worker_arg;

void copy_slice(void *dst, const void *src, size_t bytes, size_t part, size_t parts) {
    size_t lines = bytes / 64;
    size_t lo = (size_t)((uint64_t)lines * part / parts) * 64;
    size_t hi = part + 1 == parts ? bytes : (size_t)((uint64_t)lines * (part + 1) / parts) * 64;
    memcpy((char *)dst + lo, (const char *)src + lo, hi - lo);
}

static void *worker(void *p) {
    worker_arg *a = p;
    copy_team *t = a->t;
    for (;;) {
        pthread_barrier_wait(&t->start);
        if (t->parts == 0) break;
        if (a->index < t->parts) t->fn(t->arg, (size_t)a->index, (size_t)t->parts);
        pthread_barrier_wait(&t->done);
    }
    free(a);
    return NULL;
}

copy_team *copy_team_create(int threads) {
    copy_team *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->threads = threads < 1 ? 1 : threads;
    if (t->threads == 1) return t;
    t->workers = calloc((size_t)t->threads - 1, sizeof *t->workers);
    if (!t->workers || pthread_barrier_init(&t->start, NULL, (unsigned)t->threads) ||
        pthread_barrier_init(&t->done, NULL, (unsigned)t->threads)) {
        free(t->workers), free(t);
        return NULL;
    }
    for (int i = 1; i < t->threads; i++) {
        worker_arg *a = malloc(sizeof *a);
        if (!a) abort(); /* a tool's few bytes at start-up */
        a->t = t, a->index = i;
        if (pthread_create(&t->workers[i - 1], NULL, worker, a)) abort();
    }
    return t;
}

void copy_team_free(copy_team *t) {
    if (!t) return;
    if (t->threads > 1) {
        t->parts = 0;
        pthread_barrier_wait(&t->start);
        for (int i = 1; i < t->threads; i++) pthread_join(t->workers[i - 1], NULL);
        pthread_barrier_destroy(&t->start);
        pthread_barrier_destroy(&t->done);
    }
    free(t->workers);
    free(t);
}

size_t copy_split_parts(int threads, size_t bytes, size_t moved) {
    const size_t min_moved = (size_t)4 << 20, share = ((size_t)2 << 20) + 1;
    size_t k = moved < min_moved ? 1 : moved / share;
    if (k > (size_t)(threads < 1 ? 1 : threads)) k = (size_t)(threads < 1 ? 1 : threads);
    if (k > bytes / 64) k = bytes / 64 ? bytes / 64 : 1;
    return k;
}

void copy_team_run_parts(copy_team *t, size_t parts, copy_team_fn fn, void *arg) {
    if (parts <= 1 || t->threads == 1) {
        fn(arg, 0, 1);
        return;
    }
    t->fn = fn;
    t->arg = arg;
    t->parts = (int)(parts < (size_t)t->threads ? parts : (size_t)t->threads);
    pthread_barrier_wait(&t->start);
    fn(arg, 0, (size_t)t->parts);
    pthread_barrier_wait(&t->done);
}

int copy_team_threads(const copy_team *t) { return t->threads; }

void copy_team_run(copy_team *t, void *dst, const void *src, size_t bytes, size_t moved) {
    size_t k = copy_split_parts(t->threads, bytes, moved);
    if (k <= 1) {
        memcpy(dst, src, bytes);
        return;
    }
    copy_args c = {dst, src, bytes};
    copy_team_run_parts(t, k, copy_part, &c);
}
