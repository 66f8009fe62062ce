/* SPDX-License-Identifier: MIT */
/* The scratch of the sources that write their rows (source.h), and the walk over a chunk's tokens. */
#include "source.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "../core/alloc.h"
#include "fly.h"
#include "slot.h"

struct rope_cossin_scratch {
    size_t chunk, row_bytes, n_slots;
    rope_cossin_slot *slots;
    atomic_int *busy;
    void *mem;
};

static size_t round64(size_t n) { return (n + 63) / 64 * 64; }

rope_status rope_cossin_scratch_create(const rope_cossin_source *src, const rope_kernel_shape *shape, size_t chunk,
                                       size_t slots, rope_isa isa, rope_cossin_scratch **out) {
    size_t row_bytes = rope_cos_width(shape) * rope_dtype_bytes(shape->cs_dtype);
    size_t half = 0;
    double att = 1.0;
    if (src->kind == ROPE_COSSIN_FLY && src->axes) {
        half = (size_t)src->axes->half;
        att = src->axes->attention;
    } else if (src->kind == ROPE_COSSIN_FLY) {
        half = (size_t)src->fly->half;
        att = src->fly->attention;
    }
    if (chunk > SIZE_MAX / 4 / (row_bytes ? row_bytes : 1)) goto oom;
    size_t table = round64(chunk * row_bytes);
    size_t per_pos = round64(2 * half * sizeof(double)) + round64(6 * half * sizeof(float)) +
                     round64(2 * half * sizeof(uint16_t)) + round64(half * sizeof(uint32_t));
    size_t per_slot = 2 * table + per_pos;
    size_t head = round64(sizeof(rope_cossin_scratch)) + round64(slots * sizeof(rope_cossin_slot)) +
                  round64(slots * sizeof(atomic_int));
    if (slots == 0 || per_slot > (SIZE_MAX - head) / slots) goto oom;
    char *mem = rope_malloc(head + slots * per_slot);
    if (!mem) goto oom;
    rope_cossin_scratch *sc = (rope_cossin_scratch *)mem;
    sc->mem = mem;
    sc->chunk = chunk;
    sc->row_bytes = row_bytes;
    sc->n_slots = slots;
    sc->slots = (rope_cossin_slot *)(mem + round64(sizeof *sc));
    sc->busy = (atomic_int *)((char *)sc->slots + round64(slots * sizeof(rope_cossin_slot)));
    rope_fly_values_fn values = rope_fly_values_for(isa);
    char *p = mem + head;
    for (size_t i = 0; i < slots; i++, p += per_slot) {
        rope_cossin_slot *s = &sc->slots[i];
        atomic_init(&sc->busy[i], 0);
        s->cos = p;
        s->sin = p + table;
        char *q = p + 2 * table;
        s->ca = (double *)q, s->sa = s->ca + half;
        q += round64(2 * half * sizeof(double));
        rope_fly_block *b = &s->block;
        b->half = half;
        b->att = att;
        b->slack_abs = ROPE_FLY_SLACK_ABS;
        b->ca = s->ca, b->sa = s->sa, b->ct = b->st = NULL;
        b->lc = (float *)q, b->hc = b->lc + half, b->ls = b->hc + half, b->hs = b->ls + half;
        b->cf = b->hs + half, b->sf = b->cf + half;
        q += round64(6 * half * sizeof(float));
        b->ch = (uint16_t *)q, b->sh = b->ch + half;
        q += round64(2 * half * sizeof(uint16_t));
        b->bad = (uint32_t *)q;
        s->anchor = -1;
        memset(s->axis_anchor, 0, sizeof s->axis_anchor);
        memset(s->axis_anchored, 0, sizeof s->axis_anchored);
        s->values = values;
    }
    *out = sc;
    return ROPE_OK;
oom:
    return rope_fail(ROPE_ERROR_OUT_OF_MEMORY, src->where, "cannot allocate the cos/sin rows of %zu threads", slots);
}

void rope_cossin_scratch_free(rope_cossin_scratch *sc) {
    if (sc) rope_free(sc->mem);
}

size_t rope_cossin_chunk_tokens(const rope_cossin_scratch *sc) { return sc->chunk; }

rope_cossin_slot *rope_cossin_claim(rope_cossin_scratch *sc) {
    for (size_t i = 0;; i = (i + 1) % sc->n_slots)
        if (!atomic_exchange_explicit(&sc->busy[i], 1, memory_order_acquire)) return &sc->slots[i];
}

void rope_cossin_release(rope_cossin_scratch *sc, rope_cossin_slot *slot) {
    atomic_store_explicit(&sc->busy[slot - sc->slots], 0, memory_order_release);
}

void rope_cossin_fill(const rope_cossin_source *src, const rope_kernel_shape *shape, size_t seq,
                      rope_cossin_slot *slot, size_t token, size_t n, rope_cossin_view *v) {
    size_t row_bytes = rope_cos_width(shape) * rope_dtype_bytes(shape->cs_dtype);
    rope_position_cursor at;
    rope_cursor_start(&at, &src->positions, seq, token);
    int assembled = src->mrope || src->axes;
    if (src->axes) rope_fly_axes_rows_fill(src, shape, slot, token, n);
    else if (src->mrope) rope_mrope_rows(src, shape, seq, slot, token, n);
    for (size_t i = 0; i < n && !assembled; i++) {
        size_t p = rope_cursor_next(&at);
        void *oc = (char *)slot->cos + i * row_bytes, *os = (char *)slot->sin + i * row_bytes;
        if (src->kind == ROPE_COSSIN_FLY) rope_fly_row(src, shape, slot, (int64_t)p, oc, os);
        else rope_backward_row(src, shape, p, oc, os);
    }
    v->cos = (const char *)slot->cos;
    v->sin = (const char *)slot->sin;
    v->row_bytes = row_bytes;
    v->chunk = (rope_positions){ROPE_POS_TOKEN, NULL, ROPE_DTYPE_INVALID, NULL, token};
    rope_cursor_start(&v->rows, &v->chunk, seq, token);
}
