/* SPDX-License-Identifier: MIT */
/* `rope bench` internals: buffers of one case and its timing against a memory copy of the same bytes. */
#define _DEFAULT_SOURCE /* madvise(MADV_HUGEPAGE) */
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "bench_clock.h"
#include "bench_run.h"
#include "copy_team.h"
#include "engine/engine.h"
#include "kernels/kernel.h"
#include "host_pool.h"

/* Values in a cos/sin row: ATB D (each pair's value in both places), ONNX and vLLM r/2 (vLLM's cache
 * row holds the r/2 cos then the r/2 sin). */
static size_t cs_width(const bench_case *c) { return c->op == BENCH_ATB ? c->rot : c->rot / 2; }

/* Rows of the vLLM cache: the scattered positions' range, or one per token. */
static size_t cache_rows(const bench_case *c) { return c->scatter ? BENCH_SCATTER_POSITIONS : c->tokens; }

struct bench_data {
    bench_case c;
    void *x[2], *y[2]; /* ONNX: X, Y; ATB: query/key, ropeQ/ropeK */
    size_t x_bytes[2];
    void *cos, *sin;
    int64_t *ids;
    float *coords; /* fly with axes: [tokens, n_axes] grid coordinates */
    int32_t seqlen;
    void *copy_src, *copy_dst;
    size_t copy_bytes;
    void *w[2], *kc, *vc; /* QK_NORM / KV_CACHE: norm weights (f32, ones); KV_CACHE: the caches */
    int64_t *slots;       /* KV_CACHE: one slot per token (scattered with --scatter) */
    copy_team *team; /* the copy's (and the loop's) threads, while bench_measure runs (own pool) */
    bench_loop_job loop; /* the floor, while bench_measure runs: its job and which loop runs it */
    bench_loop_kind loop_kind;
    size_t loop_parts; /* the parts of the loop's current round */
    /* --pool host: the copy runs on `host` too; --pool split: the host's workers each call with
     * their part's context (bench_set_split). */
    rope_context **split;
    int n_split;
    host_pool *host;
};

void bench_set_split(bench_data *d, rope_context **parts, int n, host_pool *host) {
    d->split = parts, d->n_split = n, d->host = host;
}

/* KV_CACHE: the caches' dtype. */
static rope_dtype kv_dtype(const bench_case *c) { return c->kv_dtype ? c->kv_dtype : c->x_dtype; }

/* KV_CACHE: blocks of 16 slots, enough for every token (scattered slots: over twice as many). */
enum { BENCH_BLOCK = 16 };
static size_t kv_blocks(const bench_case *c) { return (c->tokens * (c->scatter ? 2 : 1) + BENCH_BLOCK - 1) / BENCH_BLOCK; }

size_t bench_bytes(const bench_case *c) {
    size_t es = rope_dtype_size(c->x_dtype), cs = rope_dtype_size(c->cs_dtype);
    if (c->op == BENCH_QK_NORM || c->op == BENCH_KV_CACHE) { /* q and k read and written, the cache rows */
        size_t b = 2 * (c->heads_q + c->heads_k) * c->head_size * es + 2 * cs_width(c) * cs;
        if (c->op == BENCH_KV_CACHE) /* the value read, a key and a value written to the caches */
            b += c->heads_k * c->head_size * (es + 2 * rope_dtype_size(kv_dtype(c)));
        return c->tokens * b;
    }
    size_t heads = c->heads_q + (c->op == BENCH_ATB || c->op == BENCH_VLLM ? c->heads_k : 0); /* vLLM rotates key too */
    size_t cs_len = cs_width(c);
    return c->tokens * (2 * heads * c->head_size * es + 2 * cs_len * cs);
}

/* Large buffers are 2 MiB aligned and asked for transparent huge pages, as an inference engine's
 * arena would be; the copy baseline gets the same treatment, so the comparison stays fair. */
static void *big_alloc(size_t size) {
    size_t align = size >= (4u << 20) ? (2u << 20) : 64;
    size_t rounded = (size + align - 1) / align * align;
    void *p = aligned_alloc(align, rounded ? rounded : align);
#ifdef MADV_HUGEPAGE
    if (p && align > 64) madvise(p, rounded, MADV_HUGEPAGE);
#endif
    return p;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static float rnd(void) { /* uniform in [-1, 1) */
    rng_state ^= rng_state << 13, rng_state ^= rng_state >> 7, rng_state ^= rng_state << 17;
    return (float)(rng_state >> 40) * (2.0f / 16777216.0f) - 1.0f;
}

static void fill(void *p, rope_dtype t, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float v = rnd();
        if (t == ROPE_F32) ((float *)p)[i] = v;
        else if (t == ROPE_F16) ((uint16_t *)p)[i] = rope_f32_to_f16(v);
        else ((uint16_t *)p)[i] = rope_f32_to_bf16(v);
    }
}

void bench_data_free(bench_data *d) {
    if (!d) return;
    for (int i = 0; i < 2; i++) free(d->x[i]), free(d->y[i]);
    free(d->cos), free(d->sin), free(d->ids), free(d->coords), free(d->copy_src), free(d->copy_dst);
    free(d->w[0]), free(d->w[1]), free(d->kc), free(d->vc), free(d->slots);
    free(d);
}

bench_data *bench_data_create(const bench_case *c) {
    bench_data *d = calloc(1, sizeof *d);
    if (!d) goto oom;
    d->c = *c;
    size_t es = rope_dtype_size(c->x_dtype);
    size_t streams = c->op == BENCH_ONNX || c->op == BENCH_QK_NORM ? 1 : 2;
    size_t cs_len = cs_width(c);
    for (size_t i = 0; i < streams; i++) {
        /* QK_NORM: x[0] is qkv; KV_CACHE: y[0] is the value (y[1] unused) */
        size_t heads = c->op == BENCH_QK_NORM ? c->heads_q + 2 * c->heads_k : i ? c->heads_k : c->heads_q;
        if (c->op == BENCH_KV_CACHE && i == 0) heads = c->heads_q > c->heads_k ? c->heads_q : c->heads_k;
        size_t n = c->tokens * heads * c->head_size;
        d->x_bytes[i] = n * es;
        d->x[i] = big_alloc(n * es);
        d->y[i] = big_alloc(n * es);
        if (!d->x[i] || !d->y[i]) goto oom;
        fill(d->x[i], c->x_dtype, n);
        memset(d->y[i], 0, n * es);
    }
    int vllm_like = c->op == BENCH_VLLM || c->op == BENCH_QK_NORM || c->op == BENCH_KV_CACHE;
    size_t cs_rows = vllm_like ? cache_rows(c) : c->tokens; /* vLLM: cos = the [P, rot] cache */
    size_t cs_bytes = cs_rows * cs_len * rope_dtype_size(c->cs_dtype) * (vllm_like ? 2 : 1);
    if (c->op == BENCH_QK_NORM || c->op == BENCH_KV_CACHE) {
        for (int i = 0; i < 2; i++) {
            d->w[i] = malloc(c->head_size * sizeof(float));
            if (!d->w[i]) goto oom;
            for (size_t j = 0; j < c->head_size; j++) ((float *)d->w[i])[j] = 1.0f;
        }
    }
    if (c->op == BENCH_KV_CACHE) {
        size_t slots = kv_blocks(c) * BENCH_BLOCK, cn = slots * c->heads_k * c->head_size * rope_dtype_size(kv_dtype(c));
        d->kc = big_alloc(cn ? cn : 1);
        d->vc = big_alloc(cn ? cn : 1);
        d->slots = malloc((c->tokens + 1) * sizeof *d->slots);
        if (!d->kc || !d->vc || !d->slots) goto oom;
        memset(d->kc, 0, cn), memset(d->vc, 0, cn);
        for (size_t t = 0; t < c->tokens; t++) d->slots[t] = (int64_t)(c->scatter ? 2 * t + (t % 3 == 0) : t);
        for (size_t t = c->tokens; c->scatter && t > 1; t--) { /* distinct slots in a random order */
            rng_state ^= rng_state << 13, rng_state ^= rng_state >> 7, rng_state ^= rng_state << 17;
            size_t j = (size_t)(rng_state % t);
            int64_t v = d->slots[t - 1];
            d->slots[t - 1] = d->slots[j], d->slots[j] = v;
        }
        if (c->scatter && c->tokens) d->slots[c->tokens - 1] = -1; /* one padded token */
    }
    d->cos = big_alloc(cs_bytes);
    d->sin = big_alloc(cs_bytes);
    if (!d->cos || !d->sin) goto oom;
    fill(d->cos, c->cs_dtype, cs_bytes / rope_dtype_size(c->cs_dtype));
    fill(d->sin, c->cs_dtype, cs_bytes / rope_dtype_size(c->cs_dtype));
    if (c->op == BENCH_QK_NORM || c->op == BENCH_KV_CACHE) { /* in place, call after call: true rotations */
        /* Random cos and sin values shrink a pair by 0.77 on average; repeated in place, the data
         * decays into subnormals, whose arithmetic is far slower (measured 1.6 -> 4.9 ms at prefill). */
        size_t half = cs_len, rows = cs_rows;
        for (size_t r = 0; r < rows; r++)
            for (size_t j = 0; j < half; j++) {
                float a = 3.14159265f * rnd(), cv = cosf(a), sv = sinf(a);
                size_t ic = r * 2 * half + j, is = ic + half;
                if (c->cs_dtype == ROPE_F32) {
                    ((float *)d->cos)[ic] = cv;
                    ((float *)d->cos)[is] = sv;
                } else if (c->cs_dtype == ROPE_F16) {
                    ((uint16_t *)d->cos)[ic] = rope_f32_to_f16(cv);
                    ((uint16_t *)d->cos)[is] = rope_f32_to_f16(sv);
                } else {
                    ((uint16_t *)d->cos)[ic] = rope_f32_to_bf16(cv);
                    ((uint16_t *)d->cos)[is] = rope_f32_to_bf16(sv);
                }
            }
    }
    if (c->op != BENCH_ATB || c->fly) { /* position_ids (or positions) 0..seq-1, or scattered */
        size_t axes = c->mrope ? 3 : 1; /* MRoPE: height and width positions below the time one */
        d->ids = malloc(axes * c->tokens * sizeof *d->ids);
        if (!d->ids) goto oom;
        for (size_t t = 0; t < axes * c->tokens; t++) d->ids[t] = (int64_t)((t % c->tokens) / (1 + t / c->tokens));
        for (size_t t = 0; c->scatter && t < c->tokens; t++) {
            rng_state ^= rng_state << 13, rng_state ^= rng_state >> 7, rng_state ^= rng_state << 17;
            d->ids[t] = (int64_t)(rng_state % BENCH_SCATTER_POSITIONS);
            for (size_t a = 1; a < axes; a++) d->ids[a * c->tokens + t] = d->ids[t] / (int64_t)(1 + a);
        }
    }
    if (c->axes.n_axes) { /* the grid's coordinates, token by token */
        size_t A = (size_t)c->axes.n_axes;
        d->coords = malloc((c->tokens * A + 1) * sizeof *d->coords);
        if (!d->coords) goto oom;
        for (size_t t = 0; t < c->tokens; t++)
            for (size_t a = A, rest = t; a-- > 0; rest /= (size_t)c->grid[a])
                d->coords[t * A + a] = (float)(rest % (size_t)c->grid[a]);
    }
    d->seqlen = (int32_t)c->tokens;
    d->copy_bytes = bench_bytes(c) / 2;
    d->copy_src = big_alloc(d->copy_bytes);
    d->copy_dst = big_alloc(d->copy_bytes);
    if (!d->copy_src || !d->copy_dst) goto oom;
    memset(d->copy_src, 1, d->copy_bytes);
    memset(d->copy_dst, 0, d->copy_bytes);
    return d;
oom:
    fprintf(stderr, "rope bench: out of memory for %zu tokens\n", c->tokens);
    bench_data_free(d);
    return NULL;
}

static rope_tensor tensor2(void *data, rope_dtype t, size_t d0, size_t d1) {
    rope_tensor x = {data, t, 2, {(int64_t)d0, (int64_t)d1}, 0};
    return x;
}

/* The rotation attributes of a vLLM-style case: head size, pairing, MRoPE (sections as --mrope says),
 * and the positions tensor. */
static void vllm_attrs_of(const bench_case *c, bench_data *d, rope_vllm_attrs *attrs, rope_tensor *pos) {
    rope_vllm_attrs a = ROPE_VLLM_ATTRS_INIT;
    a.head_size = (int64_t)c->head_size;
    a.is_neox = c->layout == 0;
    rope_tensor p = {d->ids, ROPE_I64, 1, {(int64_t)c->tokens}, 0};
    if (c->mrope) {
        int64_t s0 = (int64_t)c->rot / 8, s1 = 3 * (int64_t)c->rot / 16;
        a.n_mrope_section = 3, a.mrope_interleaved = c->mrope == 2;
        a.mrope_section[0] = s0, a.mrope_section[1] = s1;
        a.mrope_section[2] = (int64_t)c->rot / 2 - s0 - s1;
        p.rank = 2, p.dims[0] = 3, p.dims[1] = (int64_t)c->tokens;
    }
    *attrs = a;
    *pos = p;
}

/* KV_CACHE --separate: the rotation, then the cache write as its own pass (NHD, scales 1), written
 * with the library's own store piece for the context's instruction set (kernels/store_body.h: the
 * copy, or the vectorised fp8 conversion) and the same streaming rule as the fused call (engine.c,
 * cache_bytes), so the two differ only in the fusion. */
static rope_status call_separate(bench_data *d, rope_context *ctx, const rope_vllm_attrs *ra, const rope_tensor *pos,
                                 const rope_tensor *cache) {
    const bench_case *c = &d->c;
    size_t hs = c->head_size, es = rope_dtype_size(c->x_dtype);
    rope_tensor q = tensor2(d->x[0], c->x_dtype, c->tokens, c->heads_q * hs);
    rope_tensor k = tensor2(d->x[1], c->x_dtype, c->tokens, c->heads_k * hs);
    rope_status st = rope_vllm_rotary_embedding(ctx, ra, pos, &q, &k, cache, &q, &k);
    if (st != ROPE_OK) return st;
    rope_dtype kvt = kv_dtype(c);
    size_t row = c->heads_k * hs, kes = rope_dtype_size(kvt);
    const rope_kernel_set *set = rope_kernels_for(rope_context_isa(ctx));
    rope_store_fn store = rope_kernels_store(set);
    int nt = set && set->fence && 2 * c->tokens * row * kes >= rope_engine_tune.cache_stream_min_bytes;
    for (size_t t = 0; t < c->tokens; t++) {
        int64_t slot = d->slots[t];
        if (slot < 0) continue;
        const char *src[2] = {(const char *)d->x[1] + t * row * es, (const char *)d->y[0] + t * row * es};
        char *dst[2] = {(char *)d->kc + (size_t)slot * row * kes, (char *)d->vc + (size_t)slot * row * kes};
        for (int s = 0; s < 2; s++)
            store(c->x_dtype, src[s], (ptrdiff_t)hs, kvt, dst[s], (ptrdiff_t)hs, c->heads_k, hs, 1.0f, nt);
    }
    if (nt) set->fence();
    return ROPE_OK;
}

/* The fused prologue's operators (QK_NORM, KV_CACHE), in place on the case's buffers. */
static rope_status call_prologue(bench_data *d, rope_context *ctx) {
    const bench_case *c = &d->c;
    rope_vllm_attrs ra;
    rope_tensor pos;
    vllm_attrs_of(c, d, &ra, &pos);
    rope_tensor cache = tensor2(d->cos, c->cs_dtype, cache_rows(c), c->rot);
    rope_tensor qw = {d->w[0], ROPE_F32, 1, {(int64_t)c->head_size}, 0}, kw = qw;
    kw.data = d->w[1];
    size_t hs = c->head_size;
    if (c->op == BENCH_QK_NORM) {
        rope_qk_norm_attrs a;
        memset(&a, 0, sizeof a);
        a.rope = ra;
        a.num_heads_q = (int64_t)c->heads_q, a.num_heads_k = a.num_heads_v = (int64_t)c->heads_k;
        a.eps = 1e-6;
        rope_tensor qkv = tensor2(d->x[0], c->x_dtype, c->tokens, (c->heads_q + 2 * c->heads_k) * hs);
        return rope_vllm_fused_qk_norm_rope(ctx, &a, &pos, &qkv, &qw, &kw, &cache);
    }
    if (c->separate) return call_separate(d, ctx, &ra, &pos, &cache);
    rope_kv_cache_attrs a;
    memset(&a, 0, sizeof a);
    a.rope = ra;
    a.kv_layout = ROPE_KV_NHD;
    a.k_scale = a.v_scale = 1.0f;
    a.eps = 1e-6;
    rope_tensor q = tensor2(d->x[0], c->x_dtype, c->tokens, c->heads_q * hs);
    rope_tensor k = tensor2(d->x[1], c->x_dtype, c->tokens, c->heads_k * hs);
    rope_tensor v = tensor2(d->y[0], c->x_dtype, c->tokens, c->heads_k * hs);
    rope_tensor kc = {d->kc, kv_dtype(c), 4, {(int64_t)kv_blocks(c), BENCH_BLOCK, (int64_t)c->heads_k, (int64_t)hs}, 0};
    rope_tensor vc = kc;
    vc.data = d->vc;
    rope_tensor slots = {d->slots, ROPE_I64, 1, {(int64_t)c->tokens}, 0};
    return rope_vllm_rotary_embedding_and_cache(ctx, &a, &pos, &q, &k, &v, &cache, &kc, &vc, &slots,
                                                c->norm ? &qw : NULL, c->norm ? &kw : NULL);
}

/* The on-the-fly arguments of a fly case (built only there: a decode row's time is a few hundred
 * nanoseconds, and a table call needs none of them). */
static void fly_args(const bench_case *c, rope_freq_config *freq, rope_fly *fly, const rope_tensor *positions) {
    *freq = (rope_freq_config)ROPE_FREQ_CONFIG_INIT;
    freq->rotary_dim = (int64_t)c->rot;
    memset(fly, 0, sizeof *fly);
    fly->freq = freq;
    fly->kind = ROPE_POSITIONS_PER_TOKEN;
    fly->cs_dtype = c->cs_dtype;
    fly->positions = *positions;
}

static rope_status call_kernel(bench_data *d, rope_context *ctx) {
    const bench_case *c = &d->c;
    rope_freq_config freq;
    rope_fly fly;
    rope_fly_axes fa = ROPE_FLY_AXES_INIT;
    const int axes = c->fly && c->axes.n_axes;
    if (axes) { /* the multi-axis positions: built only for those calls, as fly_args for the others */
        fa.axes = &c->axes;
        fa.positions = tensor2(d->coords, ROPE_F32, c->tokens, (size_t)c->axes.n_axes);
        fa.cs_dtype = c->cs_dtype;
    }
    rope_tensor cos = tensor2(d->cos, c->cs_dtype, c->tokens, cs_width(c));
    rope_tensor sin = cos;
    sin.data = d->sin;
    if (c->op == BENCH_ONNX) {
        rope_onnx_attrs attrs = {c->layout, 0, 0};
        rope_tensor x = {d->x[0], c->x_dtype, 4, {1, (int64_t)c->heads_q, (int64_t)c->tokens, (int64_t)c->head_size}, 0};
        rope_tensor y = x;
        y.data = d->y[0];
        rope_tensor ids = tensor2(d->ids, ROPE_I64, 1, c->tokens);
        if (axes)
            return c->backward ? rope_onnx_rotary_embedding_fly_axes_backward(ctx, &attrs, &x, &fa, &y)
                               : rope_onnx_rotary_embedding_fly_axes(ctx, &attrs, &x, &fa, &y);
        if (c->fly) {
            fly_args(c, &freq, &fly, &ids);
            return c->backward ? rope_onnx_rotary_embedding_fly_backward(ctx, &attrs, &x, &fly, &y)
                               : rope_onnx_rotary_embedding_fly(ctx, &attrs, &x, &fly, &y);
        }
        if (c->backward) return rope_onnx_rotary_embedding_backward(ctx, &attrs, &x, &cos, &sin, &ids, &y);
        return rope_onnx_rotary_embedding(ctx, &attrs, &x, &cos, &sin, &ids, &y);
    }
    if (c->op == BENCH_VLLM) {
        rope_vllm_attrs attrs = ROPE_VLLM_ATTRS_INIT;
        attrs.head_size = (int64_t)c->head_size;
        attrs.is_neox = c->layout == 0;
        rope_tensor q = tensor2(d->x[0], c->x_dtype, c->tokens, c->heads_q * c->head_size);
        rope_tensor k = tensor2(d->x[1], c->x_dtype, c->tokens, c->heads_k * c->head_size);
        rope_tensor qo = q, ko = k;
        qo.data = d->y[0];
        ko.data = d->y[1];
        rope_tensor pos = {d->ids, ROPE_I64, 1, {(int64_t)c->tokens}, 0};
        if (c->mrope) {
            int64_t s0 = (int64_t)c->rot / 8, s1 = 3 * (int64_t)c->rot / 16;
            attrs.n_mrope_section = 3, attrs.mrope_interleaved = c->mrope == 2;
            attrs.mrope_section[0] = s0, attrs.mrope_section[1] = s1;
            attrs.mrope_section[2] = (int64_t)c->rot / 2 - s0 - s1;
            pos.rank = 2, pos.dims[0] = 3, pos.dims[1] = (int64_t)c->tokens;
        }
        if (axes)
            return c->backward ? rope_vllm_rotary_embedding_fly_axes_backward(ctx, &attrs, &q, &k, &fa, &qo, &ko)
                               : rope_vllm_rotary_embedding_fly_axes(ctx, &attrs, &q, &k, &fa, &qo, &ko);
        if (c->fly) {
            fly_args(c, &freq, &fly, &pos);
            return c->backward ? rope_vllm_rotary_embedding_fly_backward(ctx, &attrs, &q, &k, &fly, &qo, &ko)
                               : rope_vllm_rotary_embedding_fly(ctx, &attrs, &q, &k, &fly, &qo, &ko);
        }
        rope_tensor cache = tensor2(d->cos, c->cs_dtype, cache_rows(c), c->rot);
        if (c->backward) return rope_vllm_rotary_embedding_backward(ctx, &attrs, &pos, &q, &k, &cache, &qo, &ko);
        return rope_vllm_rotary_embedding(ctx, &attrs, &pos, &q, &k, &cache, &qo, &ko);
    }
    if (c->op == BENCH_QK_NORM || c->op == BENCH_KV_CACHE) return call_prologue(d, ctx);
    rope_atb_param param = ROPE_ATB_PARAM_INIT;
    param.rotary_coeff = c->layout;
    rope_tensor q = tensor2(d->x[0], c->x_dtype, c->tokens, c->heads_q * c->head_size);
    rope_tensor k = tensor2(d->x[1], c->x_dtype, c->tokens, c->heads_k * c->head_size);
    rope_tensor rq = q, rk = k;
    rq.data = d->y[0];
    rk.data = d->y[1];
    rope_tensor seqlen = {&d->seqlen, ROPE_I32, 1, {1}, 0};
    if (axes)
        return c->backward ? rope_atb_rope_fly_axes_backward(ctx, &param, &q, &k, &fa, &seqlen, &rq, &rk)
                           : rope_atb_rope_fly_axes(ctx, &param, &q, &k, &fa, &seqlen, &rq, &rk);
    if (c->fly) {
        rope_tensor pos = {d->ids, ROPE_I64, 1, {(int64_t)c->tokens}, 0};
        fly_args(c, &freq, &fly, &pos);
        return c->backward ? rope_atb_rope_fly_backward(ctx, &param, &q, &k, &fly, &seqlen, &rq, &rk)
                           : rope_atb_rope_fly(ctx, &param, &q, &k, &fly, &seqlen, &rq, &rk);
    }
    if (c->backward) return rope_atb_rope_backward(ctx, &param, &q, &k, &cos, &sin, &seqlen, &rq, &rk);
    return rope_atb_rope(ctx, &param, &q, &k, &cos, &sin, &seqlen, &rq, &rk);
}

rope_status bench_call(bench_data *d, rope_context *ctx) { return call_kernel(d, ctx); }

void *bench_output(bench_data *d, int i, size_t *bytes) {
    *bytes = i >= 0 && i < 2 && d->y[i] ? d->x_bytes[i] : 0;
    return *bytes ? d->y[i] : NULL;
}

/* The streams of an ATB or vLLM case: query and key [T, heads * hs], read from x, written to y. */
static void token_major_streams(const bench_data *d, bench_loop_job *j) {
    const bench_case *c = &d->c;
    size_t heads[2] = {c->heads_q, c->heads_k};
    j->n_streams = 2;
    for (int i = 0; i < 2; i++) {
        bench_loop_stream st = {d->x[i], d->y[i], heads[i], (ptrdiff_t)c->head_size,
                                (ptrdiff_t)(heads[i] * c->head_size)};
        j->s[i] = st;
    }
}

int bench_loop_job_of(const bench_data *d, bench_loop_job *j) {
    const bench_case *c = &d->c;
    memset(j, 0, sizeof *j);
    if (c->fly || c->backward || c->mrope || c->rot != c->head_size) return -1;
    j->x_dtype = c->x_dtype;
    j->cs_dtype = c->cs_dtype;
    j->head_size = c->head_size;
    j->tokens = c->tokens;
    j->cos = d->cos;
    j->sin = d->sin;
    switch (c->op) {
    case BENCH_ONNX: /* X [1, heads, seq, hs]: a head's tokens adjacent, rows at the position ids */
        j->pair_stride = c->layout ? 1 : c->head_size / 2;
        j->positions = d->ids;
        j->cs_row_stride = c->rot / 2;
        j->heads_outer = 1;
        j->n_streams = 1;
        bench_loop_stream st = {d->x[0], d->y[0], c->heads_q, (ptrdiff_t)(c->tokens * c->head_size),
                                (ptrdiff_t)c->head_size};
        j->s[0] = st;
        return 0;
    case BENCH_ATB: /* one sequence: row t for token t, a value per element; coefficient 2 only */
        if (c->layout != 2) return -1;
        j->pair_stride = c->head_size / 2;
        j->cos_full = 1;
        j->cs_row_stride = c->rot;
        token_major_streams(d, j);
        return 0;
    case BENCH_VLLM: /* the cache row at each position: rot/2 cos, then rot/2 sin */
        j->pair_stride = c->layout ? 1 : c->head_size / 2;
        j->positions = d->ids;
        j->cs_row_stride = c->rot;
        j->sin = (const char *)d->cos + c->rot / 2 * rope_dtype_size(c->cs_dtype);
        token_major_streams(d, j);
        return 0;
    case BENCH_QK_NORM:
    case BENCH_KV_CACHE: return -1;
    }
    return -1;
}

typedef struct host_copy {
    bench_data *d;
    size_t parts;
} host_copy;

static void host_copy_task(void *arg, int64_t i) {
    host_copy *h = arg;
    copy_slice(h->d->copy_dst, h->d->copy_src, h->d->copy_bytes, (size_t)i, h->parts);
}

/* The copy runs on the threads a kernel call of these bytes gets (rope.h, rope_context_options), so
 * the cost of waking threads is part of both sides of the ratio: the tool's own team for the
 * library's pool, the host's parallel-for (split by the same rule) for --pool host. */
static rope_status call_copy(bench_data *d, rope_context *ctx) {
    if (d->host) {
        host_copy h = {d, copy_split_parts(rope_context_threads(ctx), d->copy_bytes, 2 * d->copy_bytes)};
        if (h.parts <= 1) memcpy(d->copy_dst, d->copy_src, d->copy_bytes);
        else host_pool_for(d->host, (int64_t)h.parts, host_copy_task, &h);
        return ROPE_OK;
    }
    copy_team_run(d->team, d->copy_dst, d->copy_src, d->copy_bytes, 2 * d->copy_bytes);
    return ROPE_OK;
}

/* Split: every host worker calls with the same arguments and its own part's context, as a ggml
 * engine does; the host's barrier (host_pool_for returning) ends the call. */
typedef struct split_call {
    bench_data *d;
    atomic_int failed;
} split_call;

static void split_task(void *arg, int64_t i) {
    split_call *s = arg;
    if (call_kernel(s->d, s->d->split[i]) != ROPE_OK) atomic_store(&s->failed, 1);
}

static rope_status call_kernel_split(bench_data *d, rope_context *ctx) {
    (void)ctx;
    split_call s = {d, 0};
    atomic_init(&s.failed, 0);
    host_pool_for(d->host, d->n_split, split_task, &s);
    return atomic_load(&s.failed) ? ROPE_ERROR_STATE : ROPE_OK;
}

/* The copy on the same workers: worker i copies part i of n. */
static void copy_task(void *arg, int64_t i) {
    bench_data *d = arg;
    copy_slice(d->copy_dst, d->copy_src, d->copy_bytes, (size_t)i, (size_t)d->n_split);
}

static rope_status call_copy_split(bench_data *d, rope_context *ctx) {
    (void)ctx;
    host_pool_for(d->host, d->n_split, copy_task, d);
    return ROPE_OK;
}

/* The floor loop on the copy's threads: the team's (own pool), the host's, or the split workers. */
static void loop_part(void *arg, size_t part, size_t parts) {
    bench_data *d = arg;
    bench_loop_run(d->loop_kind, &d->loop, part, parts);
}

static void loop_task(void *arg, int64_t i) {
    bench_data *d = arg;
    bench_loop_run(d->loop_kind, &d->loop, (size_t)i, d->loop_parts);
}

/* Split as the copy is: the split workers' parts, or rope.h's rule for a call moving these bytes. */
static rope_status call_loop(bench_data *d, rope_context *ctx) {
    size_t parts = copy_split_parts(rope_context_threads(ctx), d->copy_bytes, 2 * d->copy_bytes);
    if (d->n_split) parts = (size_t)d->n_split;
    if (parts <= 1) {
        bench_loop_run(d->loop_kind, &d->loop, 0, 1);
    } else if (d->host) {
        d->loop_parts = parts;
        host_pool_for(d->host, (int64_t)parts, loop_task, d);
    } else {
        copy_team_run_parts(d->team, parts, loop_part, d);
    }
    return ROPE_OK;
}

typedef rope_status (*bench_fn)(bench_data *d, rope_context *ctx);

/* Microseconds per call over a batch of `inner` calls, or a negative value on failure. */
static double time_batch(bench_fn fn, bench_data *d, rope_context *ctx, int inner) {
    double t0 = bench_now_us();
    for (int i = 0; i < inner; i++)
        if (fn(d, ctx) != ROPE_OK) return -1;
    return (bench_now_us() - t0) / inner;
}

/* Enough calls per batch for about 200 us (bench_batch_calls), or -1 when a call fails. */
static int calibrate(bench_fn fn, bench_data *d, rope_context *ctx) {
    double t = time_batch(fn, d, ctx, 1); /* the first call warms caches and pages */
    if (t < 0) return -1;
    t = time_batch(fn, d, ctx, 1);
    if (t < 0) return -1;
    return bench_batch_calls(t);
}

static int measure(bench_data *d, rope_context *ctx, int reps, bench_result *out);

int bench_measure(bench_data *d, rope_context *ctx, int reps, bench_result *out) {
    int team = !d->host; /* the host's workers run the copy for --pool host and split */
    d->team = team ? copy_team_create(rope_context_threads(ctx)) : NULL;
    if (team && !d->team) {
        fprintf(stderr, "rope bench: cannot start the copy's threads\n");
        return -1;
    }
    int r = measure(d, ctx, reps, out);
    copy_team_free(d->team);
    d->team = NULL;
    return r;
}

static int measure(bench_data *d, rope_context *ctx, int reps, bench_result *out) {
    bench_fn kernel = d->n_split ? call_kernel_split : call_kernel, copy = d->n_split ? call_copy_split : call_copy;
    d->loop_kind = BENCH_LOOP_NONE;
    if (bench_loop_job_of(d, &d->loop) == 0)
        d->loop_kind = bench_loop_pick(&d->loop, rope_context_isa(ctx), bench_loop_cpu_has_bf16());
    int has_loop = d->loop_kind != BENCH_LOOP_NONE;
    int nk = calibrate(kernel, d, ctx), nc = calibrate(copy, d, ctx), nl = has_loop ? calibrate(call_loop, d, ctx) : 0;
    if (nk < 0 || nc < 0 || nl < 0) goto fail;
    double *t = malloc(3 * (size_t)reps * sizeof *t);
    if (!t) {
        fprintf(stderr, "rope bench: out of memory\n");
        return -1;
    }
    double *tk = t, *tc = t + reps, *tl = t + 2 * reps;
    /* Alternating kernel, copy and loop batches exposes all three to the same moments of a noisy
     * machine. */
    for (int r = 0; r < reps; r++) {
        tk[r] = time_batch(kernel, d, ctx, nk);
        tc[r] = time_batch(copy, d, ctx, nc);
        tl[r] = has_loop ? time_batch(call_loop, d, ctx, nl) : 0;
        if (tk[r] < 0) {
            free(t);
            goto fail;
        }
    }
    out->bytes = bench_bytes(&d->c);
    out->median_us = bench_median(tk, reps);
    double copy_us = bench_median(tc, reps);
    out->loop = (int)d->loop_kind;
    out->loop_us = has_loop ? bench_median(tl, reps) : 0;
    out->ratio_loop = has_loop ? out->loop_us / out->median_us : 0;
    free(t);
    out->gbps = (double)out->bytes / (out->median_us * 1e3);
    out->copy_gbps = (double)out->bytes / (copy_us * 1e3);
    out->ratio = out->gbps / out->copy_gbps;
    return 0;
fail:
    fprintf(stderr, "rope bench: %s\n", rope_last_error());
    return -1;
}
