/* SPDX-License-Identifier: MIT */
/*
 * Rows made per chunk of tokens (rows.h): table rows transformed for the backward pass, or rows
 * computed from positions.
 *
 * On-the-fly values, fast and still bitwise the cache's. rope_cache_fill rounds
 * w = rope_angle_sincos(p, inv) (about 30 ns each) once to the cs dtype. Evaluating that per (token,
 * pair) would cost a prefill more than the rotation itself, so positions are split p = P + j with P
 * a multiple of `block`: cos/sin(P * inv) (the anchor) comes from rope_angle_sincos once per block,
 * cos/sin(j * inv) from a per-call table, and one complex product gives
 *     v = ca*ct - sa*st   (cos),   sa*ct + ca*st   (sin).
 * Both factors are within a few float64 ulps of the exact values, so |v - w| <= K * 2^-53 * T with
 * T = |ca*ct| + |sa*st| (the size of the terms, which bounds the cancellation's absolute error) and
 * K around 20 (3k + 2 for factors within k ulps; tests/engine measure |v - w| / T below 2^-50).
 * The rounding is monotone, so when v - SLACK*T and v + SLACK*T (SLACK = 2^-44, 16 times that bound)
 * round to the same value, w rounds to it too: that value is the cache's, bit for bit. Otherwise (a
 * value within 2^-44 relative of a float32 rounding boundary, a few in a million; for float16 /
 * bfloat16 also a float32 result next to a narrow rounding decision, about 1 in 1,600 / 13,000, and
 * float16 subnormals) the value is computed as the cache computes it: each costs one more
 * rope_angle_sincos. For j = 0, v is the anchor itself, rope_angle_sincos(P) exactly.
 */
#include "rows.h"
#include "cursor.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "../cache/angle.h"
#include "../cache/round.h"
#include "../core/convert.h"

#include "../kernels/fly_values.h"

/* One running walk's memory: the chunk's rows and, on the fly, the current anchor. */
typedef struct slot {
    void *cos, *sin;             /* chunk x width values of the cs dtype */
    double *ca, *sa;             /* cos/sin(anchor * inv[i]) */
    int64_t anchor;              /* the position ca/sa hold; -1: none */
    float *lc, *hc, *ls, *hs;    /* one position's brackets, [half] each (see fly_values) */
    float *cf, *sf;              /* its f32 values */
    uint16_t *ch, *sh;           /* its f16 / bf16 values */
    uint32_t *bad;               /* pairs whose bracket did not decide the value */
    rope_fly_values_fn values;   /* the value block, vectorized for the context's instruction set */
} slot;

struct rope_rows_scratch {
    size_t chunk, width, n_slots;
    slot *slots;
    atomic_int *busy;
    void *mem;
};

static size_t round64(size_t n) { return (n + 63) / 64 * 64; }

/* The portable build of the value block. */
ROPE_FLY_VALUES_FN(portable_values)

rope_status rope_rows_begin(const rope_job *job, size_t slots, rope_fly_values_fn values, rope_rows_scratch **out) {
    const rope_cs_rows *pr = job->provider;
    size_t cs = rope_dtype_bytes(job->shape.cs_dtype);
    size_t width = rope_cs_width(&job->shape);
    size_t tile = rope_engine_tile_tokens(job);
    size_t chunk = tile ? tile : ROPE_ROWS_CHUNK;
    if (chunk > job->seq) chunk = job->seq; /* chunks never cross a batch row */
    size_t half = pr->fly ? (size_t)pr->fly->half : 0;
    size_t table = round64(chunk * width * cs);
    size_t per_pos = round64(2 * half * sizeof(double)) + round64(6 * half * sizeof(float)) +
                     round64(2 * half * sizeof(uint16_t)) + round64(half * sizeof(uint32_t));
    size_t per_slot = 2 * table + per_pos;
    size_t head = round64(sizeof(rope_rows_scratch)) + round64(slots * sizeof(slot)) +
                  round64(slots * sizeof(atomic_int));
    if (slots == 0 || per_slot > (SIZE_MAX - head) / slots) goto oom;
    char *mem = malloc(head + slots * per_slot);
    if (!mem) goto oom;
    rope_rows_scratch *sc = (rope_rows_scratch *)mem;
    sc->mem = mem;
    sc->chunk = chunk;
    sc->width = width;
    sc->n_slots = slots;
    sc->slots = (slot *)(mem + round64(sizeof *sc));
    sc->busy = (atomic_int *)((char *)sc->slots + round64(slots * sizeof(slot)));
    char *p = mem + head;
    for (size_t i = 0; i < slots; i++, p += per_slot) {
        slot *s = &sc->slots[i];
        atomic_init(&sc->busy[i], 0);
        s->cos = p;
        s->sin = p + table;
        char *q = p + 2 * table;
        s->ca = (double *)q, s->sa = s->ca + half;
        q += round64(2 * half * sizeof(double));
        s->lc = (float *)q, s->hc = s->lc + half, s->ls = s->hc + half, s->hs = s->ls + half;
        s->cf = s->hs + half, s->sf = s->cf + half;
        q += round64(6 * half * sizeof(float));
        s->ch = (uint16_t *)q, s->sh = s->ch + half;
        q += round64(2 * half * sizeof(uint16_t));
        s->bad = (uint32_t *)q;
        s->anchor = -1;
        s->values = values ? values : portable_values;
    }
    *out = sc;
    return ROPE_OK;
oom:
    return rope_fail(ROPE_ERROR_OUT_OF_MEMORY, pr->where, "cannot allocate the cos/sin rows of %zu threads", slots);
}

void rope_rows_end(rope_rows_scratch *sc) {
    if (sc) free(sc->mem);
}

/* A free slot. At most n_slots walks run at once (one per thread of the run), so one is free. */
static slot *claim(rope_rows_scratch *sc, size_t *idx) {
    for (size_t i = 0;; i = (i + 1) % sc->n_slots)
        if (!atomic_exchange_explicit(&sc->busy[i], 1, memory_order_acquire)) {
            *idx = i;
            return &sc->slots[i];
        }
}

/* ---- one row ------------------------------------------------------------------------------------- */

static uint32_t sign_bit(rope_dtype dt) { return dt == ROPE_F32 ? 0x80000000u : 0x8000u; }

static uint32_t load_bits(const void *p, rope_dtype dt, size_t i) {
    if (dt == ROPE_F32) {
        uint32_t u;
        memcpy(&u, (const char *)p + 4 * i, 4);
        return u;
    }
    uint16_t h;
    memcpy(&h, (const char *)p + 2 * i, 2);
    return h;
}

static void store_bits(void *p, rope_dtype dt, size_t i, uint32_t u) {
    if (dt == ROPE_F32) memcpy((char *)p + 4 * i, &u, 4);
    else {
        uint16_t h = (uint16_t)u;
        memcpy((char *)p + 2 * i, &h, 2);
    }
}

/* Table row r, backward-transformed, into out_c / out_s. */
static void table_row(const rope_job *job, size_t r, void *out_c, void *out_s, size_t width) {
    rope_dtype dt = job->shape.cs_dtype;
    size_t cs = rope_dtype_bytes(dt);
    size_t off = r * (size_t)job->cs_row_stride * cs;
    const char *c = (const char *)job->cos + off, *s = (const char *)job->sin + off;
    memcpy(out_c, c, width * cs);
    uint32_t neg = job->provider->backward ? sign_bit(dt) : 0;
    if (!job->shape.cos_full || !job->provider->backward) {
        for (size_t i = 0; i < width; i++) store_bits(out_s, dt, i, load_bits(s, dt, i) ^ neg);
        return;
    }
    size_t rs = job->shape.rs; /* full width: each element takes its partner's sin, negated */
    for (size_t g = 0; g < width; g += 2 * rs)
        for (size_t j = g; j < g + rs; j++) {
            store_bits(out_s, dt, j, load_bits(s, dt, j + rs) ^ neg);
            store_bits(out_s, dt, j + rs, load_bits(s, dt, j) ^ neg);
        }
}

/*
 * The cos/sin of every pair at position p, rounded as rope_cache_fill rounds them, into sl->cf / sf
 * (f32) or sl->ch / sh (f16, bf16 patterns).
 *
 * The check, in passes the compiler vectorizes. lo = fl(fl(v - d) * att) and hi = fl(fl(v + d) * att)
 * bracket the cache's u = fl(w * att) (rounding is monotone, and d exceeds both |v - w| and the
 * rounding of v -+ d by far). When lo and hi round to the same float32 g (same bit pattern, so zeros
 * of both signs are told apart), float32 rounding of u gives g: that is the f32 result. The f16 /
 * bf16 path first rounds u to odd in float32 (round.h), which then gives g or a neighbour of g
 * (pattern g - 1 or g + 1: u lies within g's rounding interval); when g's low bits are not within
 * one unit of a rounding decision of the narrow format (a tie, or a carry into the kept bits), all
 * three round to the same narrow value, which is then the cache's. Anything else (rare) is computed
 * as the cache computes it.
 */
static void fly_values(const rope_fly_freqs *f, slot *sl, int64_t p, rope_dtype dt) {
    const size_t half = (size_t)f->half;
    const double att = f->attention;
    uint32_t any = 1;
    if (!f->block) { /* no table: every value as the cache computes it */
        for (size_t i = 0; i < half; i++) sl->bad[i] = 1;
    } else {
        int64_t j = p % (int64_t)f->block, anchor = p - j;
        if (anchor != sl->anchor) {
            for (size_t i = 0; i < half; i++) rope_angle_sincos(anchor, f->inv[i], &sl->ca[i], &sl->sa[i]);
            sl->anchor = anchor;
        }
        const double *ct = f->step + (size_t)j * 2 * half;
        any = sl->values(half, att, sl->ca, sl->sa, ct, ct + half, dt, sl->lc, sl->hc, sl->ls, sl->hs, sl->cf, sl->sf,
                        sl->ch, sl->sh, sl->bad);
    }
    for (size_t i = 0; any && i < half; i++) {
        if (!sl->bad[i]) continue;
        double c, s;
        rope_angle_sincos(p, f->inv[i], &c, &s);
        uint32_t bc = rope_round_cs(dt, c * att), bs = rope_round_cs(dt, s * att);
        if (dt == ROPE_F32) sl->cf[i] = rope_float_of(bc), sl->sf[i] = rope_float_of(bs);
        else sl->ch[i] = (uint16_t)bc, sl->sh[i] = (uint16_t)bs;
    }
}

/* Position p's row, laid out as the job's kernel reads it: half width (value i at i) or full width
 * (pair i = g*rs + j owns elements g*2*rs + j and that + rs, both with the pair's values). Backward
 * negates sin, which for computed rows is also the partner swap: both elements of a pair share it. */
static void fly_row(const rope_job *job, slot *sl, int64_t p, void *out_c, void *out_s) {
    const rope_fly_freqs *f = job->provider->fly;
    rope_dtype dt = job->shape.cs_dtype;
    fly_values(f, sl, p, dt);
    int neg = job->provider->backward, full = job->shape.cos_full;
    size_t half = (size_t)f->half, rs = job->shape.rs;
    if (!full) rs = half; /* half width: one group, values in pair order, stored once */
    /* Pair g*rs + j goes to element g*2*rs + j (and + rs when full): contiguous runs of rs. */
    if (dt == ROPE_F32) {
        float *oc = out_c, *os = out_s;
        for (size_t g = 0; g < half; g += rs) {
            float *c0 = oc + (full ? 2 * g : g), *s0 = os + (full ? 2 * g : g);
            const float *cf = sl->cf + g, *sf = sl->sf + g;
            for (size_t j = 0; j < rs; j++) c0[j] = cf[j], s0[j] = neg ? -sf[j] : sf[j];
            if (full)
                for (size_t j = 0; j < rs; j++) c0[rs + j] = c0[j], s0[rs + j] = s0[j];
        }
    } else {
        uint16_t *oc = out_c, *os = out_s, sign = neg ? 0x8000u : 0u;
        for (size_t g = 0; g < half; g += rs) {
            uint16_t *c0 = oc + (full ? 2 * g : g), *s0 = os + (full ? 2 * g : g);
            const uint16_t *ch = sl->ch + g, *sh = sl->sh + g;
            for (size_t j = 0; j < rs; j++) c0[j] = ch[j], s0[j] = (uint16_t)(sh[j] ^ sign);
            if (full)
                for (size_t j = 0; j < rs; j++) c0[rs + j] = c0[j], s0[rs + j] = s0[j];
        }
    }
}

/* ---- the walk ------------------------------------------------------------------------------------ */

void rope_rows_walk(rope_rows_scratch *sc, const rope_job *job, rope_rows_fn fn, size_t H, size_t u0, size_t u1) {
    if (u0 >= u1) return;
    size_t idx;
    slot *sl = claim(sc, &idx);
    size_t cs = rope_dtype_bytes(job->shape.cs_dtype), row_bytes = sc->width * cs;
    ptrdiff_t es = (ptrdiff_t)rope_dtype_bytes(job->shape.x_dtype);
    size_t t = u0 / H, t_end = (u1 - 1) / H + 1;
    rope_row_cursor rows; /* table rows, or positions on the fly */
    rope_cursor_start(&rows, job, t);
    while (t < t_end) {
        size_t b = t / job->seq, s = t % job->seq;
        size_t n = t_end - t;
        if (n > sc->chunk) n = sc->chunk;
        if (n > job->seq - s) n = job->seq - s;
        for (size_t i = 0; i < n; i++) {
            size_t r = rope_cursor_next(&rows);
            void *oc = (char *)sl->cos + i * row_bytes, *os = (char *)sl->sin + i * row_bytes;
            if (job->provider->fly) fly_row(job, sl, (int64_t)r, oc, os);
            else table_row(job, r, oc, os, sc->width);
        }
        /* The chunk as a table job of its own: one batch row of n tokens, rows 0..n-1 of the scratch. */
        rope_job sub = *job;
        sub.provider = NULL;
        sub.cos = sl->cos, sub.sin = sl->sin;
        sub.cs_row_stride = (ptrdiff_t)sc->width;
        sub.rows = ROPE_ROW_IS_TOKEN, sub.row_data = NULL, sub.row_starts = NULL;
        sub.batch = 1, sub.seq = n;
        for (size_t k = 0; k < job->n_streams; k++) {
            rope_stream *st = &sub.streams[k];
            st->x = (const char *)st->x + ((ptrdiff_t)b * st->x_batch + (ptrdiff_t)s * st->x_seq) * es;
            st->y = (char *)st->y + ((ptrdiff_t)b * st->y_batch + (ptrdiff_t)s * st->y_seq) * es;
        }
        size_t base = t * H;
        rope_engine_walk(&sub, fn, H, u0 > base ? u0 - base : 0, u1 < base + n * H ? u1 - base : n * H);
        t += n;
    }
    atomic_store_explicit(&sc->busy[idx], 0, memory_order_release);
}
