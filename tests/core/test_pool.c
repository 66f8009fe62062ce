/* SPDX-License-Identifier: MIT */
/* The thread pool on its own: every part runs exactly once, the caller sees every write, a busy pool
 * refuses (so nested and concurrent callers run inline), dispatches are counted, bad sizes fail. */
#include <stdatomic.h>
#include <string.h>

#include "core/pool.h"
#include "harness.h"

enum { MAX_PARTS = 200 };

typedef struct job {
    atomic_int runs[MAX_PARTS];
    int plain[MAX_PARTS]; /* written without atomics: visible to the caller only through the pool */
    size_t parts_seen;
    rope_pool *pool;
    int nested; /* result of a run started from inside a part */
} job;

static void count_part(void *arg, size_t part, size_t parts) {
    job *j = arg;
    atomic_fetch_add(&j->runs[part], 1);
    j->plain[part] = (int)part + 1;
    if (part == 0) j->parts_seen = parts;
}

static void nested_part(void *arg, size_t part, size_t parts) {
    job *j = arg;
    count_part(arg, part, parts);
    if (part == 0) j->nested = rope_pool_run(j->pool, count_part, arg, 2, 1);
}

static void reset(job *j) {
    for (int i = 0; i < MAX_PARTS; i++) atomic_init(&j->runs[i], 0);
    memset(j->plain, 0, sizeof j->plain);
    j->parts_seen = 0;
}

static int each_once(const job *j, size_t parts) {
    for (size_t i = 0; i < MAX_PARTS; i++) {
        int want = i < parts ? 1 : 0;
        if (atomic_load(&j->runs[i]) != want || j->plain[i] != (want ? (int)i + 1 : 0)) return 0;
    }
    return j->parts_seen == parts;
}

static job j;

static void parts_and_helpers(void) {
    static const int sizes[] = {1, 2, 3, 7};
    for (int s = 0; s < 4; s++) {
        rope_pool *pool = NULL;
        CHECK(rope_pool_create(sizes[s], &pool) == ROPE_OK && pool, "%d workers: %s", sizes[s], rope_last_error());
        if (!pool) continue;
        CHECK(rope_pool_workers(pool) == sizes[s], "%d workers: reports %d", sizes[s], rope_pool_workers(pool));
        unsigned long long before = rope_pool_dispatches(pool);
        int runs = 0;
        for (size_t parts = 2; parts <= MAX_PARTS; parts += parts < 20 ? 1 : 17)
            for (int helpers = 1; helpers <= sizes[s] + 1; helpers++) {
                reset(&j);
                int used = rope_pool_run(pool, count_part, &j, parts, helpers);
                runs += used;
                CHECK(used == 1 && each_once(&j, parts), "%d workers, %zu parts, %d helpers: used %d", sizes[s], parts,
                      helpers, used);
            }
        CHECK(rope_pool_dispatches(pool) - before == (unsigned long long)runs, "dispatch count %llu, runs %d",
              rope_pool_dispatches(pool) - before, runs);
        /* Nothing to share: refused without a dispatch, the caller runs it. */
        before = rope_pool_dispatches(pool);
        CHECK(rope_pool_run(pool, count_part, &j, 1, 3) == 0, "one part: pool used");
        CHECK(rope_pool_run(pool, count_part, &j, 5, 0) == 0, "no helpers: pool used");
        CHECK(rope_pool_dispatches(pool) == before, "refused runs counted");
        /* A run from inside a part finds the pool busy. */
        reset(&j);
        j.pool = pool;
        j.nested = -1;
        CHECK(rope_pool_run(pool, nested_part, &j, 4, sizes[s]) == 1, "outer run refused");
        CHECK(j.nested == 0, "nested run: expected refusal, got %d", j.nested);
        rope_pool_free(pool);
    }
}

/* Many tiny jobs back to back: a worker waking late must skip a closed job, never run a stale one. */
static void back_to_back(void) {
    rope_pool *pool = NULL;
    CHECK(rope_pool_create(3, &pool) == ROPE_OK, "%s", rope_last_error());
    int bad = 0;
    for (int i = 0; i < 20000 && pool; i++) {
        size_t parts = 2 + (size_t)(i % 6);
        reset(&j);
        if (rope_pool_run(pool, count_part, &j, parts, 3) != 1 || !each_once(&j, parts)) bad++;
    }
    CHECK(bad == 0, "%d of 20000 back-to-back runs wrong", bad);
    rope_pool_free(pool);
}

static void bad_arguments(void) {
    rope_pool *pool = (rope_pool *)&j;
    CHECK(rope_pool_create(0, &pool) == ROPE_ERROR_ATTRIBUTE && pool == (rope_pool *)&j, "0 workers accepted");
    CHECK(rope_pool_run(NULL, count_part, &j, 4, 1) == 0, "NULL pool used");
    CHECK(rope_pool_workers(NULL) == 0 && rope_pool_dispatches(NULL) == 0, "NULL pool counts");
    rope_pool_free(NULL);
}

int main(void) {
    parts_and_helpers();
    back_to_back();
    bad_arguments();
    return tu_finish();
}
