/* SPDX-License-Identifier: MIT */
/* The benchmark's stand-in for a host's thread pool (host_pool.h): workers sleep on a condition
 * variable, a call publishes the job under the mutex and everyone claims task indices. */
#define _POSIX_C_SOURCE 200809L
#include "host_pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

struct host_pool {
    pthread_mutex_t m;
    pthread_cond_t wake, done;
    unsigned long gen;
    int stop, running, arrived, n_workers;
    int64_t n;
    rope_task_fn task;
    void *arg;
    atomic_llong next;
    pthread_t *threads;
};

static void claim(host_pool *p, int64_t n, rope_task_fn task, void *arg) {
    for (;;) {
        int64_t i = atomic_fetch_add(&p->next, 1);
        if (i >= n) return;
        task(arg, i);
    }
}

static void *worker(void *arg) {
    host_pool *p = arg;
    pthread_mutex_lock(&p->m);
    unsigned long seen = 0; /* not p->gen: the first job may be published before this thread runs */
    for (;;) {
        while (!p->stop && p->gen == seen) pthread_cond_wait(&p->wake, &p->m);
        if (p->stop) break;
        seen = p->gen;
        int64_t n = p->n;
        rope_task_fn task = p->task;
        void *targ = p->arg;
        p->running++, p->arrived++;
        pthread_mutex_unlock(&p->m);
        claim(p, n, task, targ);
        pthread_mutex_lock(&p->m);
        if (--p->running == 0 && p->arrived == p->n_workers) pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->m);
    return NULL;
}

host_pool *host_pool_create(int threads) {
    host_pool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->threads = calloc((size_t)(threads > 1 ? threads - 1 : 1), sizeof *p->threads);
    if (!p->threads) {
        free(p);
        return NULL;
    }
    pthread_mutex_init(&p->m, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done, NULL);
    atomic_init(&p->next, 0);
    for (; p->n_workers < threads - 1; p->n_workers++)
        if (pthread_create(&p->threads[p->n_workers], NULL, worker, p) != 0) break;
    return p;
}

void host_pool_free(host_pool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->m);
    p->stop = 1;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->m);
    for (int i = 0; i < p->n_workers; i++) pthread_join(p->threads[i], NULL);
    pthread_cond_destroy(&p->done);
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->m);
    free(p->threads);
    free(p);
}

void host_pool_for(void *pool, int64_t n, rope_task_fn task, void *arg) {
    host_pool *p = pool;
    pthread_mutex_lock(&p->m);
    p->n = n, p->task = task, p->arg = arg;
    atomic_store(&p->next, 0);
    p->gen++;
    p->arrived = 0;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->m);
    claim(p, n, task, arg);
    /* Every worker checks in to every job before the call returns, so none can wake later and run
     * this job's task with the next job's counter. Simple rather than fast: a host's real pool. */
    pthread_mutex_lock(&p->m);
    while (p->running > 0 || p->arrived < p->n_workers) pthread_cond_wait(&p->done, &p->m);
    pthread_mutex_unlock(&p->m);
}
