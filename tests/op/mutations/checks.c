/* SPDX-License-Identifier: MIT */
/* test_api_mutations: the checks of a call's effects: a failure leaves every buffer alone and names the
 * function, a success writes every output element and nothing else. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mutations.h"

static int printed;
int mutations_fatal;

/* Records one check; prints the first failures with the iteration's description. */
void check(gcase *g, int cond, const char *fmt, ...) {
    if (cond) {
        tu_passed++;
        return;
    }
    tu_failed++;
    if (++printed > 40 && !mutations_fatal) return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "iteration %d, %s [%s]: ", g->it, entry_name[g->e], g->desc);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (last error: \"%s\")\n", rope_last_error());
    va_end(ap);
    if (mutations_fatal) abort();
}

/* A failing step: a known status, the function's name first in the message, nothing written. */
void failed_step(gcase *g, const char *fn, rope_status st) {
    const char *m = rope_last_error();
    size_t n = strlen(fn);
    check(g, st > ROPE_OK && st < ROPE_STATUS_COUNT_, "%s returned the unknown status %d", fn, (int)st);
    check(g, strncmp(m, fn, n) == 0 && m[n] == ':' && m[n + 1] == ' ' && m[n + 2] != '\0',
          "%s failed with %s; the message does not start with \"%s: \"", fn, status_name(st), fn);
    check(g, unchanged(g), "%s failed with %s but wrote to a buffer", fn, status_name(st));
}

/* The entries of a KV cache (slot i) that slot_mapping maps tokens to: every one may change, and
 * (caches of the key's dtype: a canary there is a NaN no finite key or value gives) must have. */
static void cache_entries(gcase *g, int i, unsigned char *may, size_t *unwritten, size_t *stray) {
    const slot *s = &g->s[i], *m = &g->s[T_SLOT];
    const int64_t *d = s->t.dims;
    int nhd = g->kv.kv_layout == ROPE_KV_NHD;
    int64_t bs = nhd ? d[1] : d[2], hk = nhd ? d[2] : d[1], hd = d[3], n = numel(&m->t);
    size_t es = rope_dtype_size(s->t.dtype), b = (size_t)s->home;
    int exact = s->t.dtype != ROPE_FP8_E4M3 && s->t.dtype != ROPE_FP8_E5M2;
    for (int64_t t = 0; t < n; t++) {
        int64_t v;
        if (m->t.dtype == ROPE_I64) memcpy(&v, (const char *)m->t.data + 8 * t, 8);
        else {
            int32_t w;
            memcpy(&w, (const char *)m->t.data + 4 * t, 4);
            v = w;
        }
        if (v < 0) continue;
        for (int64_t h = 0; h < hk; h++) {
            int64_t e0 = nhd ? ((v / bs * bs + v % bs) * hk + h) * hd : ((v / bs * hk + h) * bs + v % bs) * hd;
            for (int64_t e = 0; e < hd; e++) {
                size_t o = s->off + (size_t)(e0 + e) * es;
                if (o + es > g->size[b]) {
                    (*stray)++;
                    continue;
                }
                memset(may + o, 1, es);
                if (exact && is_canary(g->snap[b] + o, o, es) && is_canary(g->mem[b] + o, o, es)) (*unwritten)++;
            }
        }
    }
}

/* The elements of a row an output or in-place slot may change: the row, or for qkv the q and k
 * heads (v is only skipped). */
static size_t written_cols(const gcase *g, int i) {
    if (qkn_e(g->e) && i == T_X) {
        int64_t cols = (g->qn.num_heads_q + g->qn.num_heads_k) * g->qn.rope.head_size;
        return (size_t)(cols >= 0 && cols < g->s[i].row ? cols : g->s[i].row);
    }
    return (size_t)g->s[i].row;
}

/* After a success: output elements that held the canary were written, nothing else changed (in
 * place tensors: nothing outside their rows; KV caches: nothing outside the mapped slots). */
void verify_written(gcase *g) {
    for (int b = 0; b < N_T; b++) {
        if (!g->mem[b]) continue;
        unsigned char *may = calloc(g->size[b] ? g->size[b] : 1, 1);
        size_t unwritten = 0, stray = 0;
        for (int i = 0; i < N_T; i++) {
            const slot *s = &g->s[i];
            if (!s->used || !(s->out || s->io) || s->home != b || !s->t.data || s->null_ptr) continue;
            if (s->sparse) {
                cache_entries(g, i, may, &unwritten, &stray);
                continue;
            }
            int64_t n = numel(&s->t);
            size_t es = rope_dtype_size(s->t.dtype);
            if (n <= 0 || s->row <= 0 || es == 0) continue;
            size_t rows = (size_t)(n / s->row), st = (size_t)(s->t.row_stride ? s->t.row_stride : s->row);
            for (size_t r = 0; r < rows; r++)
                for (size_t e = 0; e < written_cols(g, i); e++) {
                    size_t o = s->off + (r * st + e) * es;
                    if (o + es > g->size[b]) {
                        stray++;
                        continue;
                    }
                    memset(may + o, 1, es);
                    if (is_canary(g->snap[b] + o, o, es) && is_canary(g->mem[b] + o, o, es)) unwritten++;
                }
        }
        for (size_t o = 0; o < g->size[b]; o++) stray += !may[o] && g->mem[b][o] != g->snap[b][o];
        free(may);
        check(g, unwritten == 0, "succeeded but left %zu output elements of block %s unwritten", unwritten,
              slot_name[b]);
        check(g, stray == 0, "succeeded but changed %zu bytes of block %s outside the outputs' rows", stray,
              slot_name[b]);
    }
    if (g->e == E_FREQ && !g->s[T_Y].null_ptr) {
        const double *inv = (const double *)g->s[T_Y].t.data;
        /* proportional scaling's pairs past rotated_pairs stand still: exactly 0, and only those */
        const int prop = g->fc.scaling == ROPE_SCALING_PROPORTIONAL;
        const int64_t rotated = prop && g->fc.rotated_pairs ? g->fc.rotated_pairs : g->s[T_Y].t.dims[0];
        int good = 1;
        for (int64_t i = 0; i < g->s[T_Y].t.dims[0]; i++)
            good &= i < rotated ? inv[i] > 0 && inv[i] <= 1e300 : inv[i] == 0.0;
        check(g, good, "inv_freq has a value that is not finite and positive (or, proportional, not 0 past "
                       "rotated_pairs)");
    }
}

int same_desc(const rope_tensor *a, const rope_tensor *want) {
    if (a->data || a->row_stride || a->dtype != want->dtype || a->rank != want->rank) return 0;
    for (int i = 0; i < want->rank && i < ROPE_MAX_RANK; i++)
        if (a->dims[i] != want->dims[i]) return 0;
    return 1;
}
