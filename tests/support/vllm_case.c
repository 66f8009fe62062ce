/* SPDX-License-Identifier: MIT */
/* Random vLLM operator cases (vllm_case.h). */
#include "vllm_case.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

enum { TAIL = 64 /* bytes after every buffer that must stay untouched */ };

static int64_t pick(const int64_t *v, int n) { return v[tu_int(0, n - 1)]; }

/* m positive sections summing to half (half >= m). */
static void draw_sections(int64_t *s, int m, int64_t half) {
    int64_t left = half - m;
    for (int a = 0; a < m; a++) s[a] = 1;
    for (int a = 0; a < m - 1; a++) {
        int64_t extra = tu_int(0, left);
        s[a] += extra;
        left -= extra;
    }
    s[m - 1] += left;
}

void vc_draw(vllm_case *c, int mrope) {
    static const int64_t sizes[] = {2, 4, 6, 8, 10, 16, 32, 33, 48, 64, 80, 96, 128, 130, 256};
    static const rope_dtype xts[] = {ROPE_F32, ROPE_F16, ROPE_BF16};
    for (;;) {
        memset(c, 0, sizeof *c);
        c->attrs.struct_size = sizeof c->attrs;
        /* 1 in 16: heads of 4 KiB and more, which the engine walks in tiles (heads far apart) */
        int big = tu_int(0, 15) == 0;
        int64_t hs = big ? (tu_int(0, 1) ? 1024 : 2048) : pick(sizes, 15);
        c->rot = 2 * tu_int(1, hs / 2);
        if (tu_int(0, 2)) c->rot = hs - hs % 2; /* full rotation most often */
        c->attrs.head_size = hs;
        c->attrs.is_neox = (int32_t)tu_int(0, 1);
        int m = mrope < 0 ? (tu_int(0, 1) ? (int)tu_int(3, 4) : 0) : mrope ? (int)tu_int(3, 4) : 0;
        if (m && c->rot / 2 < m) continue;
        c->attrs.n_mrope_section = m;
        c->attrs.mrope_interleaved = m == 3 ? (int32_t)tu_int(0, 1) : 0;
        if (m) draw_sections(c->attrs.mrope_section, m, c->rot / 2);
        if (tu_int(0, 2) == 0) {
            c->batch = tu_int(1, 4), c->seq = tu_int(0, 9);
            c->tokens = c->batch * c->seq;
        } else {
            c->tokens = tu_int(0, 40);
            c->q_rank3 = (int)tu_int(0, 1);
        }
        c->hq = tu_int(0, 6);
        c->hk = tu_int(0, 3) == 0 ? -1 : tu_int(0, 4);
        int64_t heads = c->hq + (c->hk > 0 ? c->hk : 0);
        if (c->tokens * heads * hs > (big ? 24 * VC_LIMIT : VC_LIMIT)) continue;
        c->cache_rows = tu_int(1, 60);
        c->xt = xts[tu_int(0, 2)];
        c->ct = tu_int(0, 1) ? c->xt : ROPE_F32;
        c->pt = tu_int(0, 1) ? ROPE_I64 : ROPE_I32;
        c->mode = (int)tu_int(0, 3);
        c->gap = c->mode >= 2 ? tu_int(0, 9) : 0;
        return;
    }
}

void vc_layouts(vllm_case *c, int permute) {
    rope_vllm_attrs *a = &c->attrs;
    int64_t hs = a->head_size;
    if (tu_int(0, 1)) return;
    a->inverse = (int32_t)tu_int(0, 1);
    int w = (int)tu_int(0, 2);
    if (w == 1 && a->is_neox && hs % 2 == 0) {
        a->partial = ROPE_PARTIAL_SPLIT;
        if (!a->n_mrope_section && hs >= 4 && tu_int(0, 3)) c->rot = 2 * tu_int(1, hs / 2 - 1); /* a real split */
        return;
    }
    if (w == 2 && !a->is_neox && permute) a->pairs_to_halves = 1;
    if (w != 1 && c->rot < hs && tu_int(0, 2)) a->rope_dim_offset = tu_int(0, hs - c->rot);
}

const char *vc_str(const vllm_case *c, char *buf, size_t n) {
    const rope_vllm_attrs *a = &c->attrs;
    snprintf(buf, n,
             "T%lld%s%s hq%lld hk%lld hs%lld rot%lld neox%d mrope%d%s[%lld,%lld,%lld,%lld] P%lld %s/%s pos %s mode %d "
             "gap %lld",
             (long long)c->tokens, c->batch ? " [B,S]" : "", c->q_rank3 ? " [T,H,hs]" : "", (long long)c->hq,
             (long long)c->hk, (long long)a->head_size, (long long)c->rot, a->is_neox, a->n_mrope_section,
             a->mrope_interleaved ? "i" : "", (long long)a->mrope_section[0], (long long)a->mrope_section[1],
             (long long)a->mrope_section[2], (long long)a->mrope_section[3], (long long)c->cache_rows,
             rope_dtype_name(c->xt), rope_dtype_name(c->ct), rope_dtype_name(c->pt), c->mode, (long long)c->gap);
    size_t used = strlen(buf);
    if (used < n)
        snprintf(buf + used, n - used, " offset %lld inverse %d partial %d pairs_to_halves %d",
                 (long long)a->rope_dim_offset, (int)a->inverse, (int)a->partial, (int)a->pairs_to_halves);
    return buf;
}

/* The descriptor of query / key (heads h) in the case's layout. */
static rope_tensor qk_tensor(const vllm_case *c, int64_t h, void *data, int64_t stride) {
    rope_tensor t;
    memset(&t, 0, sizeof t);
    int64_t hs = c->attrs.head_size;
    t.data = data;
    t.dtype = c->xt;
    if (c->batch) {
        t.rank = 3, t.dims[0] = c->batch, t.dims[1] = c->seq, t.dims[2] = h * hs;
    } else if (c->q_rank3) {
        t.rank = 3, t.dims[0] = c->tokens, t.dims[1] = h, t.dims[2] = hs;
    } else {
        t.rank = 2, t.dims[0] = c->tokens, t.dims[1] = h * hs;
    }
    t.row_stride = stride;
    return t;
}

void vc_build(const vllm_case *c, vllm_bufs *b, int equal_axes) {
    memset(b, 0, sizeof *b);
    int64_t hs = c->attrs.head_size, T = c->tokens;
    int has_k = c->hk >= 0;
    int64_t row[4] = {c->hq * hs, has_k ? c->hk * hs : 0, c->hq * hs, has_k ? c->hk * hs : 0};
    size_t es = rope_dtype_size(c->xt);
    for (int j = 0; j < 4; j++) b->bi[j] = j, b->str[j] = row[j] + c->gap;
    if (c->mode == 1) b->bi[2] = 0, b->bi[3] = 1;
    if (c->mode == 3) { /* [q | k | v | gap] rows of one buffer, q and k in place */
        int64_t width = row[0] + row[1] + hs + c->gap;
        for (int j = 0; j < 4; j++) b->bi[j] = 0, b->str[j] = width;
        b->off[1] = b->off[3] = row[0];
    }
    for (int j = 0; j < 4; j++) {
        if (j == 1 || j == 3) {
            if (!has_k) continue;
        }
        int i = b->bi[j];
        size_t need = (size_t)((T ? (T - 1) * b->str[j] + row[j] : 0) + b->off[j]) * es;
        if (c->mode == 3) need = (size_t)(T * b->str[j]) * es;
        if (need > b->bytes[i]) b->bytes[i] = need;
    }
    for (int i = 0; i < 4; i++) {
        if (i != b->bi[0] && i != b->bi[1] && i != b->bi[2] && i != b->bi[3]) continue;
        if ((i == 1 || i == 3) && !has_k && c->mode != 3) continue;
        b->mem[i] = tu_xmalloc(b->bytes[i] + TAIL);
        b->pristine[i] = tu_xmalloc(b->bytes[i] + TAIL);
        size_t n = (b->bytes[i] + TAIL) / es;
        ref_fill(c->xt, b->mem[i], NULL, n); /* every byte random, gaps included */
        memcpy(b->pristine[i], b->mem[i], b->bytes[i] + TAIL);
    }
    /* Values the library reads, dense. */
    b->q_v = tu_xmalloc((size_t)(T * row[0]) * sizeof(double));
    b->k_v = tu_xmalloc((size_t)(T * row[1]) * sizeof(double));
    for (int64_t t = 0; t < T; t++) {
        for (int64_t e = 0; e < row[0]; e++)
            b->q_v[t * row[0] + e] = ref_load(c->xt, b->mem[b->bi[0]], (size_t)(b->off[0] + t * b->str[0] + e));
        for (int64_t e = 0; e < row[1]; e++)
            b->k_v[t * row[1] + e] = ref_load(c->xt, b->mem[b->bi[1]], (size_t)(b->off[1] + t * b->str[1] + e));
    }
    /* Cache and positions. */
    size_t nc = (size_t)(c->cache_rows * c->rot);
    b->cache = tu_xmalloc(nc * rope_dtype_size(c->ct));
    b->cache_v = tu_xmalloc(nc * sizeof(double));
    ref_fill(c->ct, b->cache, b->cache_v, nc);
    int m = c->attrs.n_mrope_section;
    size_t np = (size_t)(T * (m ? m : 1));
    b->pos_v = tu_xmalloc(np * sizeof(int64_t));
    b->pos = tu_xmalloc(np * 8);
    for (size_t i = 0; i < np; i++) {
        int64_t v = tu_int(0, c->cache_rows - 1);
        if (equal_axes && i >= (size_t)T) v = b->pos_v[i % (size_t)T];
        b->pos_v[i] = v;
        if (c->pt == ROPE_I64) ((int64_t *)b->pos)[i] = v;
        else ((int32_t *)b->pos)[i] = (int32_t)v;
    }
    rope_tensor *p = &b->positions;
    p->data = b->pos, p->dtype = c->pt;
    int r = 0;
    if (m) p->dims[r++] = m;
    if (c->batch) p->dims[r++] = c->batch, p->dims[r++] = c->seq;
    else p->dims[r++] = T;
    p->rank = r;
    b->cache_t.data = b->cache, b->cache_t.dtype = c->ct, b->cache_t.rank = 2;
    b->cache_t.dims[0] = c->cache_rows, b->cache_t.dims[1] = c->rot;
    int64_t dense_q = c->mode == 0 || c->mode == 1;
    for (int j = 0; j < 4; j++) {
        if ((j == 1 || j == 3) && !has_k) continue;
        rope_tensor t = qk_tensor(c, j % 2 ? c->hk : c->hq, b->mem[b->bi[j]] + (size_t)b->off[j] * es,
                                  dense_q ? 0 : b->str[j]);
        if (j == 0) b->query = t;
        if (j == 1) b->key = t;
        if (j == 2) b->query_out = t;
        if (j == 3) b->key_out = t;
    }
}

void vc_restore(vllm_bufs *b) {
    for (int i = 0; i < 4; i++)
        if (b->mem[i]) memcpy(b->mem[i], b->pristine[i], b->bytes[i] + TAIL);
}

void vc_free(vllm_bufs *b) {
    for (int i = 0; i < 4; i++) free(b->mem[i]), free(b->pristine[i]);
    free(b->cache), free(b->cache_v), free(b->q_v), free(b->k_v), free(b->pos_v), free(b->pos);
    memset(b, 0, sizeof *b);
}

static int reference(const vllm_case *c, const vllm_bufs *b, int which, int backward, double *want, double *perr) {
    const rope_vllm_attrs *a = &c->attrs;
    ref_vllm_case r;
    memset(&r, 0, sizeof r);
    r.tokens = c->tokens, r.heads = which ? c->hk : c->hq, r.head_size = a->head_size, r.rot = c->rot;
    r.cache_rows = c->cache_rows, r.is_neox = a->is_neox, r.axes = a->n_mrope_section;
    r.interleaved = a->mrope_interleaved;
    for (int i = 0; i < 4; i++) r.section[i] = a->mrope_section[i];
    r.offset = a->rope_dim_offset, r.inverse = a->inverse, r.split = a->partial == ROPE_PARTIAL_SPLIT;
    r.pairs_to_halves = a->pairs_to_halves, r.backward = backward;
    return ref_vllm_rotate(&r, which ? b->k_v : b->q_v, b->cache_v, b->pos_v, want, perr);
}

int vc_reference(const vllm_case *c, const vllm_bufs *b, int which, double *want, double *perr) {
    return reference(c, b, which, 0, want, perr);
}

int vc_reference_backward(const vllm_case *c, const vllm_bufs *b, int which, double *want, double *perr) {
    return reference(c, b, which, 1, want, perr);
}

/* 1 when byte `at` of buffer i lies in an output element. */
static int in_output(const vllm_case *c, const vllm_bufs *b, int i, size_t at) {
    size_t es = rope_dtype_size(c->xt);
    int64_t e = (int64_t)(at / es), hs = c->attrs.head_size;
    for (int j = 2; j < 4; j++) {
        if (b->bi[j] != i || (j == 3 && c->hk < 0)) continue;
        int64_t row = (j == 2 ? c->hq : c->hk) * hs, rel = e - b->off[j];
        if (rel < 0 || row == 0) continue;
        int64_t t = rel / b->str[j];
        if (t < c->tokens && rel - t * b->str[j] < row) return 1;
    }
    return 0;
}

int vc_verify(const vllm_case *c, const vllm_bufs *b, int which, const double *want, const double *perr, char *msg,
              size_t n) {
    int j = which ? 3 : 2;
    int64_t row = (which ? c->hk : c->hq) * c->attrs.head_size;
    size_t es = rope_dtype_size(c->xt);
    ref_report rep;
    const unsigned char *out = b->mem[b->bi[j]] + (size_t)b->off[j] * es;
    if (ref_compare(c->xt, out, (size_t)c->tokens, (size_t)row, (size_t)b->str[j], want, perr, &rep)) {
        char r[160];
        snprintf(msg, n, "%s: %s", which ? "key_out" : "query_out", ref_report_str(&rep, r, sizeof r));
        return 1;
    }
    for (int i = 0; i < 4; i++) {
        if (!b->mem[i]) continue;
        for (size_t at = 0; at < b->bytes[i] + TAIL; at++)
            if (b->mem[i][at] != b->pristine[i][at] && (at >= b->bytes[i] || !in_output(c, b, i, at))) {
                snprintf(msg, n, "buffer %d byte %zu outside the outputs changed", i, at);
                return 1;
            }
    }
    return 0;
}
