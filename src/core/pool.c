/* SPDX-License-Identifier: MIT */
/* The context's worker threads: sleeping on a condition variable, woken per job (see pool.h). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "pool.h"

/* The claim counter gets a cache line of its own: every thread hits it once per part, and sharing a
 * line with the fields the workers only read would make each claim invalidate them too. */
#define ROPE_LINE 64

struct rope_pool {
    _Alignas(ROPE_LINE) atomic_size_t next; /* the next part to claim */
    _Alignas(ROPE_LINE) pthread_mutex_t use; /* held by the one caller owning the pool (try-lock) */
    pthread_mutex_t m;                        /* guards everything below */
    pthread_cond_t wake;                      /* workers: a new job, or stop */
    pthread_cond_t idle;                      /* the caller: inside dropped to 0 */
    unsigned long long gen;                   /* job number: a worker runs each job at most once */
    int seats;                                /* workers that may still join the current job; 0 = closed */
    int inside;                               /* workers running parts of the current job */
    int stop;
    rope_pool_fn fn;
    void *arg;
    size_t parts;
    atomic_ullong dispatches;
    int n_workers; /* threads started */
    pthread_t *threads;
};

int rope_pool_fail_start = -1;

static void claim_parts(rope_pool *pool, rope_pool_fn fn, void *arg, size_t parts) {
    for (;;) {
        size_t i = atomic_fetch_add_explicit(&pool->next, 1, memory_order_relaxed);
        if (i >= parts) return;
        fn(arg, i, parts);
    }
}

static void *worker_main(void *p) {
    rope_pool *pool = p;
    pthread_mutex_lock(&pool->m);
    unsigned long long seen = pool->gen;
    for (;;) {
        while (!pool->stop && (pool->gen == seen || pool->seats == 0)) pthread_cond_wait(&pool->wake, &pool->m);
        if (pool->stop) break;
        seen = pool->gen;
        pool->seats--;
        pool->inside++;
        rope_pool_fn fn = pool->fn;
        void *arg = pool->arg;
        size_t parts = pool->parts;
        pthread_mutex_unlock(&pool->m);
        claim_parts(pool, fn, arg, parts);
        pthread_mutex_lock(&pool->m);
        /* Signalling with nobody waiting is cheap (no system call), so no need to know whether the
         * caller is already waiting. */
        if (--pool->inside == 0) pthread_cond_signal(&pool->idle);
    }
    pthread_mutex_unlock(&pool->m);
    return NULL;
}

/* Joins the started workers and frees everything; `sync` says the mutexes and condvars exist. */
static void teardown(rope_pool *pool, int sync) {
    if (sync) {
        pthread_mutex_lock(&pool->m);
        pool->stop = 1;
        pthread_cond_broadcast(&pool->wake);
        pthread_mutex_unlock(&pool->m);
        for (int i = 0; i < pool->n_workers; i++) pthread_join(pool->threads[i], NULL);
        pthread_cond_destroy(&pool->idle);
        pthread_cond_destroy(&pool->wake);
        pthread_mutex_destroy(&pool->m);
        pthread_mutex_destroy(&pool->use);
    }
    rope_free(pool->threads);
    rope_free(pool);
}

/* Creates the four synchronisation objects, undoing the ones made if one fails. */
static int init_sync(rope_pool *pool) {
    if (pthread_mutex_init(&pool->use, NULL) != 0) return 0;
    if (pthread_mutex_init(&pool->m, NULL) != 0) goto no_m;
    if (pthread_cond_init(&pool->wake, NULL) != 0) goto no_wake;
    if (pthread_cond_init(&pool->idle, NULL) != 0) goto no_idle;
    return 1;
no_idle:
    pthread_cond_destroy(&pool->wake);
no_wake:
    pthread_mutex_destroy(&pool->m);
no_m:
    pthread_mutex_destroy(&pool->use);
    return 0;
}

rope_status rope_pool_create(int workers, rope_pool **out) {
    static const char where[] = "rope_context_create";
    if (workers < 1) return rope_fail(ROPE_ERROR_ATTRIBUTE, where, "pool of %d workers", workers);
    size_t size = (sizeof(rope_pool) + ROPE_LINE - 1) / ROPE_LINE * ROPE_LINE;
    rope_pool *pool = rope_aligned_alloc(ROPE_LINE, size);
    if (!pool) return rope_fail(ROPE_ERROR_OUT_OF_MEMORY, where, "thread pool of %zu bytes", size);
    memset(pool, 0, size);
    atomic_init(&pool->next, 0);
    atomic_init(&pool->dispatches, 0);
    pool->threads = rope_calloc((size_t)workers, sizeof *pool->threads);
    if (!pool->threads) {
        rope_free(pool);
        return rope_fail(ROPE_ERROR_OUT_OF_MEMORY, where, "%d thread handles", workers);
    }
    if (!init_sync(pool)) {
        teardown(pool, 0);
        return rope_fail(ROPE_ERROR_UNSUPPORTED, where, "could not create a mutex or condition variable");
    }
    /* Workers block every signal, so a process-directed signal goes to a user thread, never to a
     * thread the user does not know about. The new threads inherit the mask set here. */
    sigset_t all, old;
    sigfillset(&all);
    int masked = pthread_sigmask(SIG_SETMASK, &all, &old) == 0;
    int err = 0;
    for (; pool->n_workers < workers; pool->n_workers++) {
        err = pool->n_workers == rope_pool_fail_start ? EAGAIN
                                                      : rope_thread_create(&pool->threads[pool->n_workers], worker_main, pool);
        if (err != 0) break;
    }
    if (masked) pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (err != 0) {
        int made = pool->n_workers;
        teardown(pool, 1);
        return rope_fail(ROPE_ERROR_OUT_OF_MEMORY, where, "could not start worker thread %d of %d (error %d)",
                         made + 1, workers, err);
    }
    *out = pool;
    return ROPE_OK;
}

void rope_pool_free(rope_pool *pool) {
    if (pool) teardown(pool, 1);
}

int rope_pool_workers(const rope_pool *pool) { return pool ? pool->n_workers : 0; }

int rope_pool_run(rope_pool *pool, rope_pool_fn fn, void *arg, size_t parts, int helpers) {
    if (!pool || parts < 2 || helpers < 1) return 0;
    if (pthread_mutex_trylock(&pool->use) != 0) return 0; /* another caller has it: run inline */
    int k = helpers < pool->n_workers ? helpers : pool->n_workers;
    if ((size_t)k > parts - 1) k = (int)(parts - 1);

    pthread_mutex_lock(&pool->m);
    pool->fn = fn;
    pool->arg = arg;
    pool->parts = parts;
    atomic_store_explicit(&pool->next, 0, memory_order_relaxed); /* published by the unlock */
    pool->gen++;
    pool->seats = k;
    pthread_mutex_unlock(&pool->m);
    for (int i = 0; i < k; i++) pthread_cond_signal(&pool->wake);
    atomic_fetch_add_explicit(&pool->dispatches, 1, memory_order_relaxed);

    claim_parts(pool, fn, arg, parts);

    /* Every part is claimed. Close the job so late wakers skip it, and wait only for the workers
     * still running a part (their writes become visible to us through the mutex). */
    pthread_mutex_lock(&pool->m);
    pool->seats = 0;
    while (pool->inside > 0) pthread_cond_wait(&pool->idle, &pool->m);
    pthread_mutex_unlock(&pool->m);
    pthread_mutex_unlock(&pool->use);
    return 1;
}

unsigned long long rope_pool_dispatches(rope_pool *pool) {
    return pool ? atomic_load_explicit(&pool->dispatches, memory_order_relaxed) : 0;
}
