/* SPDX-License-Identifier: MIT */
/* rope_vllm_rotary_embedding_and_cache (vLLM rotary_embedding + reshape_and_cache_flash, optionally
 * with the QK-norm) on random cases against the float64 reference of prologue_ref.h: every data
 * dtype with caches of its dtype or fp8 e4m3 / e5m2 (random scales), NHD and HND layouts, padded
 * tokens (slot -1), i64 and i32 slots and positions, both pairings, partial rotation, MRoPE, q / k / v
 * inside one strided qkv buffer or as dense tensors of their own, with and without the norm. Checks:
 * query and key against the reference; each token's cache slot holding its key as the key tensor
 * stores it (bits, or the fp8 reference of key / scale) and its value likewise; every other slot and
 * byte untouched. Every instruction set x 1 / 2 threads (small jobs split too) and the default
 * context bit for bit the first. Then bad input, refused with nothing written (caches included). */
#include <stdlib.h>
#include <string.h>

#include "contexts.h"
#include "engine/engine.h"
#include "harness.h"
#include "prologue_ref.h"

static tu_contexts ctxs;
static pr_fp8 fp8[2];

typedef struct kv_case {
    rope_kv_cache_attrs a;
    rope_dtype dt, cdt, kvdt, pdt, sdt, wdt;
    int64_t T, P, rot, hq, hk, blocks, bs;
    int fused, normed;
    rope_tensor pos, q, k, v, cache, kc, vc, slots, qw, kw;
    unsigned char *mem[4];  /* data buffer(s) (1 fused, else 3), then the two caches in mem[3] */
    size_t bytes[4];
    unsigned char *init[4]; /* the initial bytes */
    unsigned char *kcm, *vcm;
    size_t cache_bytes;
    unsigned char *kc0, *vc0;
    double *cs, *cs_ref, *wq, *wk;
    int64_t *posv, *slotv;
} kv_case;

static rope_dtype pick(void) {
    static const rope_dtype d[3] = {ROPE_F32, ROPE_F16, ROPE_BF16};
    return d[tu_int(0, 2)];
}

static void *copy_of(const void *p, size_t n) {
    void *c = tu_xmalloc(n);
    memcpy(c, p, n);
    return c;
}

static void random_bytes(unsigned char *p, size_t n) {
    for (size_t i = 0; i < n; i++) p[i] = (unsigned char)tu_u64();
}

static void draw(kv_case *c, int index) {
    memset(c, 0, sizeof *c);
    static const int64_t hds[] = {2, 4, 8, 10, 16, 32, 40, 64, 96, 128, 130, 256};
    int64_t hs = hds[tu_int(0, (int64_t)(sizeof hds / sizeof hds[0]) - 1)];
    c->a.rope.head_size = hs;
    c->a.rope.is_neox = (int32_t)tu_int(0, 1);
    c->a.rope.inverse = tu_int(0, 3) == 0; /* rotary_embedding's inverse: the negated angle */
    c->a.kv_layout = tu_int(0, 1) ? ROPE_KV_NHD : ROPE_KV_HND;
    c->dt = pick();
    c->cdt = tu_int(0, 1) ? c->dt : ROPE_F32;
    int kind = (int)tu_int(0, 2);
    c->kvdt = kind == 0 ? c->dt : kind == 1 ? ROPE_FP8_E4M3 : ROPE_FP8_E5M2;
    c->a.k_scale = (float)tu_uniform(0.01, 4.0);
    c->a.v_scale = (float)tu_uniform(0.01, 4.0);
    if (index % 9 == 3) c->a.k_scale = 1e-3f; /* values far past the fp8 range: saturation */
    c->pdt = tu_int(0, 1) ? ROPE_I64 : ROPE_I32;
    c->sdt = tu_int(0, 1) ? ROPE_I64 : ROPE_I32;
    c->normed = (int)tu_int(0, 1);
    c->wdt = tu_int(0, 1) ? c->dt : ROPE_F32;
    c->a.eps = 1e-6;
    c->fused = (int)tu_int(0, 1);
    c->rot = tu_int(0, 2) ? hs : 2 * tu_int(1, hs / 2);
    int64_t half = c->rot / 2;
    if (index % 6 == 2 && half >= 3) {
        int interleaved = (int)tu_int(0, 1);
        int m = interleaved ? 3 : (int)tu_int(3, half >= 4 ? 4 : 3);
        c->a.rope.n_mrope_section = m;
        c->a.rope.mrope_interleaved = interleaved;
        int64_t left = half;
        for (int i = 0; i < m; i++) {
            int64_t s = i == m - 1 ? left : tu_int(1, left - (m - 1 - i));
            c->a.rope.mrope_section[i] = s;
            left -= s;
        }
    }
    c->hq = tu_int(0, 5);
    c->hk = tu_int(0, 3);
    c->T = tu_int(0, 3) == 0 ? tu_int(30, 90) : tu_int(0, 8);
    c->P = tu_int(1, 200);
    c->bs = tu_int(1, 16);
    c->blocks = (c->T + c->bs - 1) / c->bs + tu_int(0, 3);
}

static rope_tensor tensor2(void *data, rope_dtype dt, int64_t rows, int64_t cols, int64_t stride) {
    rope_tensor t = {data, dt, 2, {rows, cols}, stride == cols ? 0 : stride};
    return t;
}

static void build(kv_case *c) {
    int64_t hs = c->a.rope.head_size, T = c->T;
    int axes = c->a.rope.n_mrope_section;
    int64_t np = (axes ? axes : 1) * T;
    c->posv = tu_xmalloc((size_t)np * 8);
    void *pm = tu_xmalloc((size_t)np * 8);
    for (int64_t i = 0; i < np; i++) {
        c->posv[i] = tu_int(0, c->P - 1);
        if (c->pdt == ROPE_I64) ((int64_t *)pm)[i] = c->posv[i];
        else ((int32_t *)pm)[i] = (int32_t)c->posv[i];
    }
    c->pos = (rope_tensor){pm, c->pdt, axes ? 2 : 1, {axes ? axes : T, T}, 0};
    if (!axes) c->pos.dims[1] = 0;
    size_t es = rope_dtype_size(c->dt);
    if (c->fused) { /* q | k | v | padding in each row of one buffer */
        int64_t row = (c->hq + 2 * c->hk) * hs, stride = row + tu_int(0, 5);
        c->bytes[0] = (size_t)(T * stride) * es + 1;
        c->mem[0] = tu_xmalloc(c->bytes[0]);
        ref_fill(c->dt, c->mem[0], NULL, (size_t)(T * stride));
        c->q = tensor2(c->mem[0], c->dt, T, c->hq * hs, stride);
        c->k = tensor2(c->mem[0] + (size_t)(c->hq * hs) * es, c->dt, T, c->hk * hs, stride);
        c->v = tensor2(c->mem[0] + (size_t)((c->hq + c->hk) * hs) * es, c->dt, T, c->hk * hs, stride);
    } else {
        int64_t h[3] = {c->hq, c->hk, c->hk};
        rope_tensor *t[3] = {&c->q, &c->k, &c->v};
        int rank3 = (int)tu_int(0, 1); /* [T, H, hs] for all three, or [T, H*hs] */
        for (int i = 0; i < 3; i++) {
            c->bytes[i] = (size_t)(T * h[i] * hs) * es + 1;
            c->mem[i] = tu_xmalloc(c->bytes[i]);
            ref_fill(c->dt, c->mem[i], NULL, (size_t)(T * h[i] * hs));
            *t[i] = tensor2(c->mem[i], c->dt, T, h[i] * hs, h[i] * hs);
            if (rank3) t[i]->rank = 3, t[i]->dims[1] = h[i], t[i]->dims[2] = hs;
        }
    }
    for (int i = 0; i < 3; i++)
        if (c->mem[i]) c->init[i] = copy_of(c->mem[i], c->bytes[i]);
    /* the caches: random bytes everywhere, so that an untouched slot is seen to be untouched */
    int64_t per = c->blocks * c->bs * c->hk * hs;
    c->cache_bytes = (size_t)per * rope_dtype_size(c->kvdt);
    c->kcm = tu_xmalloc(c->cache_bytes + 1);
    c->vcm = tu_xmalloc(c->cache_bytes + 1);
    random_bytes(c->kcm, c->cache_bytes);
    random_bytes(c->vcm, c->cache_bytes);
    c->kc0 = copy_of(c->kcm, c->cache_bytes);
    c->vc0 = copy_of(c->vcm, c->cache_bytes);
    int nhd = c->a.kv_layout == ROPE_KV_NHD;
    c->kc = (rope_tensor){c->kcm, c->kvdt, 4, {c->blocks, nhd ? c->bs : c->hk, nhd ? c->hk : c->bs, hs}, 0};
    c->vc = c->kc;
    c->vc.data = c->vcm;
    /* slots: distinct, scattered, some tokens padded */
    int64_t cap = c->blocks * c->bs;
    int64_t *perm = tu_xmalloc((size_t)(cap + 1) * 8);
    for (int64_t i = 0; i < cap; i++) perm[i] = i;
    for (int64_t i = cap - 1; i > 0; i--) {
        int64_t j = tu_int(0, i), t = perm[i];
        perm[i] = perm[j], perm[j] = t;
    }
    c->slotv = tu_xmalloc((size_t)(T + 1) * 8);
    void *sm = tu_xmalloc((size_t)(T + 1) * 8);
    for (int64_t t = 0; t < T; t++) {
        c->slotv[t] = tu_int(0, 4) == 0 ? -1 - tu_int(0, 3) : perm[t];
        if (c->sdt == ROPE_I64) ((int64_t *)sm)[t] = c->slotv[t];
        else ((int32_t *)sm)[t] = (int32_t)c->slotv[t];
    }
    free(perm);
    c->slots = (rope_tensor){sm, c->sdt, 1, {T}, 0};
    /* cos_sin_cache */
    size_t cn = (size_t)(c->P * c->rot);
    void *cm = tu_xmalloc(cn * 4);
    c->cs = tu_xmalloc(cn * sizeof(double));
    int64_t half = c->rot / 2;
    for (int64_t p = 0; p < c->P; p++)
        for (int64_t j = 0; j < half; j++) {
            double ang = tu_uniform(-3.2, 3.2);
            ref_store(c->cdt, cm, (size_t)(p * c->rot + j), cos(ang));
            ref_store(c->cdt, cm, (size_t)(p * c->rot + half + j), sin(ang));
        }
    for (size_t i = 0; i < cn; i++) c->cs[i] = ref_load(c->cdt, cm, i);
    c->cs_ref = tu_xmalloc(cn * sizeof(double)); /* the rows the reference rotates with: sin negated for inverse */
    for (size_t i = 0; i < cn; i++)
        c->cs_ref[i] = c->a.rope.inverse && (int64_t)i % c->rot >= half ? -c->cs[i] : c->cs[i];
    c->cache = (rope_tensor){cm, c->cdt, 2, {c->P, c->rot}, 0};
    c->wq = tu_xmalloc((size_t)hs * 8), c->wk = tu_xmalloc((size_t)hs * 8);
    void *wq = tu_xmalloc((size_t)hs * 4), *wk = tu_xmalloc((size_t)hs * 4);
    for (int64_t i = 0; i < hs; i++) {
        ref_store(c->wdt, wq, (size_t)i, tu_uniform(0.25, 2.0));
        ref_store(c->wdt, wk, (size_t)i, tu_uniform(0.25, 2.0));
        c->wq[i] = ref_load(c->wdt, wq, (size_t)i), c->wk[i] = ref_load(c->wdt, wk, (size_t)i);
    }
    c->qw = (rope_tensor){wq, c->wdt, 1, {hs}, 0};
    c->kw = (rope_tensor){wk, c->wdt, 1, {hs}, 0};
}

static void restore(kv_case *c) {
    for (int i = 0; i < 3; i++)
        if (c->mem[i]) memcpy(c->mem[i], c->init[i], c->bytes[i]);
    memcpy(c->kcm, c->kc0, c->cache_bytes);
    memcpy(c->vcm, c->vc0, c->cache_bytes);
}

static void release(kv_case *c) {
    for (int i = 0; i < 3; i++) free(c->mem[i]), free(c->init[i]);
    free(c->kcm), free(c->vcm), free(c->kc0), free(c->vc0), free(c->cs), free(c->cs_ref), free(c->wq), free(c->wk);
    free(c->posv), free(c->slotv), free(c->pos.data), free(c->slots.data), free(c->cache.data);
    free(c->qw.data), free(c->kw.data);
}

static rope_status call(kv_case *c, rope_context *ctx) {
    return rope_vllm_rotary_embedding_and_cache(ctx, &c->a, &c->pos, &c->q, &c->k, &c->v, &c->cache, &c->kc, &c->vc,
                                                &c->slots, c->normed ? &c->qw : NULL, c->normed ? &c->kw : NULL);
}

/* The operation lifecycle on the same tensors: shape inference gives each in-place output's
 * descriptor, then setup and execute (weights left out, n_inputs 8, or given with rank 0 when absent). */
static rope_status call_lifecycle(kv_case *c, int index) {
    rope_operation *op = NULL;
    rope_status st = rope_operation_create_vllm_rope_and_cache(&c->a, &op);
    if (st != ROPE_OK) return st;
    rope_tensor none;
    memset(&none, 0, sizeof none);
    rope_tensor in[10] = {c->pos, c->q, c->k, c->v, c->cache, c->kc, c->vc, c->slots,
                          c->normed ? c->qw : none, c->normed ? c->kw : none};
    size_t n_in = !c->normed && index % 4 == 0 ? 8 : 10;
    rope_tensor out[4] = {c->q, c->k, c->kc, c->vc}, inferred[4];
    st = rope_operation_infer_shape(op, in, n_in, inferred, 4);
    for (int i = 0; st == ROPE_OK && i < 4; i++)
        CHECK(inferred[i].dtype == out[i].dtype && inferred[i].rank == out[i].rank &&
                  memcmp(inferred[i].dims, out[i].dims, sizeof out[i].dims) == 0 && !inferred[i].data,
              "inferred output %d is not its input's descriptor", i);
    rope_variant_pack pack = {in, n_in, out, 4};
    size_t ws = 1;
    if (st == ROPE_OK) st = rope_operation_setup(op, &pack, &ws);
    if (st == ROPE_OK) st = rope_operation_execute(op, &pack, NULL, ws, NULL);
    rope_operation_destroy(op);
    return st;
}

static int64_t stride_of(const rope_tensor *t, int64_t row) { return t->row_stride ? t->row_stride : row; }

/* Element i of the cache entry (slot, head h) in elements of the cache. */
static size_t cache_index(const kv_case *c, int64_t slot, int64_t h, int64_t i) {
    int64_t hs = c->a.rope.head_size, b = slot / c->bs, o = slot % c->bs;
    if (c->a.kv_layout == ROPE_KV_NHD) return (size_t)(((b * c->bs + o) * c->hk + h) * hs + i);
    return (size_t)(((b * c->hk + h) * c->bs + o) * hs + i);
}

/* The expected cache bytes of a stored element `bits_src` (the tensor element, es bytes) */
static int cache_ok(const kv_case *c, const unsigned char *cache, size_t idx, const unsigned char *elem, float scale) {
    if (c->kvdt == c->dt) {
        size_t es = rope_dtype_size(c->dt);
        return memcmp(cache + idx * es, elem, es) == 0;
    }
    double v = ref_load(c->dt, elem, 0);
    float q = (float)v / scale; /* the float32 division of rope.h */
    return cache[idx] == pr_fp8_round(&fp8[c->kvdt == ROPE_FP8_E5M2], (double)q);
}

static int verify(kv_case *c, char *msg, size_t size) {
    int64_t hs = c->a.rope.head_size, half = c->rot / 2;
    int axes = c->a.rope.n_mrope_section;
    size_t es = rope_dtype_size(c->dt);
    int64_t sq = stride_of(&c->q, c->hq * hs), sk = stride_of(&c->k, c->hk * hs), sv = stride_of(&c->v, c->hk * hs);
    unsigned char *q0 = c->init[0] + ((const unsigned char *)c->q.data - c->mem[0]);
    unsigned char *k0 = c->fused ? c->init[0] + ((const unsigned char *)c->k.data - c->mem[0]) : c->init[1];
    unsigned char *v0 = c->fused ? c->init[0] + ((const unsigned char *)c->v.data - c->mem[0]) : c->init[2];
    double x[512], want[512], mag[512];
    int64_t pp[256];
    unsigned char *kc_expect = tu_xmalloc(c->cache_bytes + 1), *vc_expect = tu_xmalloc(c->cache_bytes + 1);
    memcpy(kc_expect, c->kc0, c->cache_bytes), memcpy(vc_expect, c->vc0, c->cache_bytes);
    int bad = 0;
    for (int64_t t = 0; t < c->T && !bad; t++) {
        for (int64_t j = 0; j < half; j++)
            pp[j] = c->posv[pr_axis(axes, c->a.rope.mrope_interleaved, c->a.rope.mrope_section, j) * c->T + t];
        for (int64_t h = 0; h < c->hq + c->hk && !bad; h++) {
            int isq = h < c->hq;
            int64_t hh = isq ? h : h - c->hq;
            const unsigned char *in = isq ? q0 + (size_t)(t * sq + hh * hs) * es : k0 + (size_t)(t * sk + hh * hs) * es;
            const unsigned char *out = (const unsigned char *)(isq ? c->q.data : c->k.data) +
                                       (size_t)(t * (isq ? sq : sk) + hh * hs) * es;
            for (int64_t i = 0; i < hs; i++) x[i] = ref_load(c->dt, in, (size_t)i);
            pr_head(x, hs, c->normed ? (isq ? c->wq : c->wk) : NULL, c->a.eps, c->cs_ref, c->rot, c->a.rope.is_neox,
                    pp, want, mag);
            for (int64_t i = 0; i < hs && !bad; i++) {
                double got = ref_load(c->dt, out, (size_t)i), tol = pr_tol(c->dt, want[i], mag[i], hs, c->normed);
                if (!(fabs(got - want[i]) <= tol))
                    bad = 1, snprintf(msg, size, "%s token %lld head %lld elem %lld: got %.9g want %.9g tol %.3g",
                                      isq ? "query" : "key", (long long)t, (long long)hh, (long long)i, got, want[i],
                                      tol);
            }
            if (!isq && c->slotv[t] >= 0)
                for (int64_t i = 0; i < hs && !bad; i++) {
                    size_t idx = cache_index(c, c->slotv[t], hh, i);
                    if (!cache_ok(c, c->kcm, idx, out + (size_t)i * es, c->a.k_scale))
                        bad = 1, snprintf(msg, size, "key_cache token %lld head %lld elem %lld (slot %lld) wrong",
                                          (long long)t, (long long)hh, (long long)i, (long long)c->slotv[t]);
                    size_t ces = rope_dtype_size(c->kvdt);
                    memcpy(kc_expect + idx * ces, c->kcm + idx * ces, ces); /* checked: now expected */
                }
        }
        for (int64_t h = 0; h < c->hk && c->slotv[t] >= 0 && !bad; h++) /* the value */
            for (int64_t i = 0; i < hs && !bad; i++) {
                size_t idx = cache_index(c, c->slotv[t], h, i);
                if (!cache_ok(c, c->vcm, idx, v0 + (size_t)(t * sv + h * hs + i) * es, c->a.v_scale))
                    bad = 1, snprintf(msg, size, "value_cache token %lld head %lld elem %lld wrong", (long long)t,
                                      (long long)h, (long long)i);
                size_t ces = rope_dtype_size(c->kvdt);
                memcpy(vc_expect + idx * ces, c->vcm + idx * ces, ces);
            }
    }
    if (!bad && memcmp(kc_expect, c->kcm, c->cache_bytes) != 0)
        bad = 1, snprintf(msg, size, "key_cache written outside the mapped slots");
    if (!bad && memcmp(vc_expect, c->vcm, c->cache_bytes) != 0)
        bad = 1, snprintf(msg, size, "value_cache written outside the mapped slots");
    if (!bad) { /* value and every byte of the data buffers outside q and k: untouched */
        int64_t hq = c->hq * hs, hk = c->hk * hs;
        for (int64_t t = 0; t < c->T && !bad; t++) {
            if (c->fused) {
                int64_t st = stride_of(&c->q, hq);
                size_t from = (size_t)(t * st + hq + hk) * es, to = (size_t)((t + 1) * st) * es;
                if (memcmp(c->mem[0] + from, c->init[0] + from, to - from) != 0) bad = 1;
            } else if (memcmp(c->mem[2], c->init[2], c->bytes[2]) != 0) {
                bad = 1;
            }
        }
        if (bad) snprintf(msg, size, "value or row padding written");
    }
    free(kc_expect), free(vc_expect);
    return bad;
}

static void describe(const kv_case *c, char *b, size_t n) {
    snprintf(b, n, "T %lld hs %lld rot %lld Hq %lld Hk %lld neox %d %s cs %s kv %s %s blocks %lld bs %lld fused %d "
             "norm %d mrope %d/%d inverse %d scales %g %g",
             (long long)c->T, (long long)c->a.rope.head_size, (long long)c->rot, (long long)c->hq, (long long)c->hk,
             c->a.rope.is_neox, rope_dtype_name(c->dt), rope_dtype_name(c->cdt), rope_dtype_name(c->kvdt),
             c->a.kv_layout == ROPE_KV_NHD ? "NHD" : "HND", (long long)c->blocks, (long long)c->bs, c->fused,
             c->normed, c->a.rope.n_mrope_section, c->a.rope.mrope_interleaved, (int)c->a.rope.inverse,
             (double)c->a.k_scale,
             (double)c->a.v_scale);
}

static void snapshot(kv_case *c, unsigned char *out[6]) {
    for (int i = 0; i < 3; i++) out[i] = c->mem[i] ? copy_of(c->mem[i], c->bytes[i]) : NULL;
    out[3] = copy_of(c->kcm, c->cache_bytes), out[4] = copy_of(c->vcm, c->cache_bytes), out[5] = NULL;
}

static int same(kv_case *c, unsigned char *s[6]) {
    for (int i = 0; i < 3; i++)
        if (c->mem[i] && memcmp(s[i], c->mem[i], c->bytes[i]) != 0) return 0;
    return memcmp(s[3], c->kcm, c->cache_bytes) == 0 && memcmp(s[4], c->vcm, c->cache_bytes) == 0;
}

static void drop(unsigned char *s[6]) {
    for (int i = 0; i < 6; i++) free(s[i]);
}

static void one_case(int index) {
    kv_case c;
    char desc[400], msg[300];
    draw(&c, index);
    build(&c);
    describe(&c, desc, sizeof desc);
    unsigned char *first[6] = {0};
    for (int x = 0; x <= ctxs.n + 1; x++) {
        restore(&c);
        /* the cache stores through the cache and streaming (engine.c, cache_bytes), alternately */
        rope_engine_tune.cache_stream_min_bytes = (index + x) % 2 ? 1 : SIZE_MAX;
        const char *how = x < ctxs.n ? ctxs.name[x] : x == ctxs.n ? "default context" : "lifecycle";
        rope_status st = x == ctxs.n + 1 ? call_lifecycle(&c, index) : call(&c, x < ctxs.n ? ctxs.ctx[x] : NULL);
        CHECK(st == ROPE_OK, "%s on %s: %s", how, desc, rope_last_error());
        if (st != ROPE_OK) continue;
        if (x == 0) {
            CHECK(verify(&c, msg, sizeof msg) == 0, "%s on %s: %s", how, desc, msg);
            snapshot(&c, first);
        } else {
            CHECK(same(&c, first), "%s on %s: not bitwise the scalar result", how, desc);
        }
    }
    drop(first);
    release(&c);
}

/* ---- bad input: refused with its status and a message naming the argument; nothing written ---- */

static void refused(kv_case *c, const char *what, rope_status want, const char *needle) {
    unsigned char *s[6];
    restore(c);
    snapshot(c, s);
    rope_status st = call(c, NULL);
    CHECK(st == want, "%s: status %d, expected %d (%s)", what, (int)st, (int)want, rope_last_error());
    CHECK(strstr(rope_last_error(), needle) != NULL, "%s: message \"%s\" lacks \"%s\"", what, rope_last_error(),
          needle);
    CHECK(same(c, s), "%s: something was written on error", what);
    if (want != ROPE_ERROR_INDEX && want != ROPE_ERROR_ALIASING) { /* descriptors alone: the check agrees */
        rope_status sc = rope_vllm_rotary_embedding_and_cache_check(&c->a, &c->pos, &c->q, &c->k, &c->v, &c->cache,
                                                                    &c->kc, &c->vc, &c->slots, &c->qw, &c->kw);
        CHECK(sc == want, "%s: the check gives %d, the call %d", what, (int)sc, (int)want);
    }
    st = call_lifecycle(c, 1); /* setup refuses it too, nothing written */
    CHECK(st == want, "%s: the lifecycle gives %d, the call %d (%s)", what, (int)st, (int)want, rope_last_error());
    CHECK(same(c, s), "%s: the lifecycle wrote something on error", what);
    drop(s);
}

static void bad_inputs(void) {
    kv_case c;
    memset(&c, 0, sizeof c);
    c.a.rope.head_size = 8, c.a.rope.is_neox = 1, c.a.kv_layout = ROPE_KV_NHD;
    c.a.k_scale = 0.5f, c.a.v_scale = 2.0f, c.a.eps = 1e-6;
    c.dt = ROPE_BF16, c.cdt = ROPE_F32, c.kvdt = ROPE_FP8_E4M3, c.pdt = ROPE_I64, c.sdt = ROPE_I64, c.wdt = ROPE_F32;
    c.T = 6, c.P = 10, c.rot = 8, c.hq = 2, c.hk = 1, c.bs = 4, c.blocks = 2, c.fused = 1, c.normed = 1;
    build(&c);
    for (int64_t t = 0; t < c.T; t++) ((int64_t *)c.slots.data)[t] = t + 1, c.slotv[t] = t + 1;
    restore(&c);
    CHECK(call(&c, NULL) == ROPE_OK, "the valid base case: %s", rope_last_error());
    int64_t *sl = c.slots.data, *ps = c.pos.data;
    sl[5] = 8;
    refused(&c, "slot 8 of 8", ROPE_ERROR_INDEX, "slot_mapping[5] = 8");
    sl[5] = 2;
    refused(&c, "slot 2 twice", ROPE_ERROR_INDEX, "slot_mapping[1]");
    sl[5] = -1;
    ps[5] = 10;
    refused(&c, "position 10", ROPE_ERROR_INDEX, "positions[5] = 10");
    ps[5] = 0;
    rope_tensor keep;
    keep = c.kc, c.kc.dims[3] = 4;
    refused(&c, "key_cache head_size 4", ROPE_ERROR_SHAPE, "key_cache dim 3");
    c.kc = keep;
    keep = c.vc, c.vc.dtype = ROPE_FP8_E5M2;
    refused(&c, "value_cache e5m2 with e4m3 key_cache", ROPE_ERROR_DTYPE, "value_cache");
    c.vc = keep;
    keep = c.kc, c.kc.dtype = ROPE_F16;
    refused(&c, "key_cache f16 with bf16 key", ROPE_ERROR_DTYPE, "key_cache");
    c.kc = keep;
    keep = c.kc, c.kc.dims[2] = 2;
    refused(&c, "key_cache Hk 2", ROPE_ERROR_SHAPE, "Hk");
    c.kc = keep;
    c.a.k_scale = 0.0f;
    refused(&c, "k_scale 0", ROPE_ERROR_ATTRIBUTE, "k_scale");
    c.a.k_scale = 0.5f, c.a.v_scale = INFINITY;
    refused(&c, "v_scale inf", ROPE_ERROR_ATTRIBUTE, "v_scale");
    c.a.v_scale = 2.0f, c.a.kv_layout = (rope_kv_layout)2;
    refused(&c, "kv_layout 2", ROPE_ERROR_ATTRIBUTE, "kv_layout");
    c.a.kv_layout = ROPE_KV_NHD;
    /* rope_vllm_attrs' later fields: inverse is rotary_embedding's (0 or 1); the others are refused,
     * each naming the field, its value and why */
    c.a.rope.inverse = 2;
    refused(&c, "inverse 2", ROPE_ERROR_ATTRIBUTE, "inverse: expected 0 or 1, found 2");
    c.a.rope.inverse = 0, c.a.rope.rope_dim_offset = 2;
    refused(&c, "rope_dim_offset 2", ROPE_ERROR_ATTRIBUTE,
            "rope_dim_offset: expected 0, found 2 (not supported with the cache write");
    c.a.rope.rope_dim_offset = -1;
    refused(&c, "rope_dim_offset -1", ROPE_ERROR_ATTRIBUTE, "rope_dim_offset: expected 0, found -1");
    c.a.rope.rope_dim_offset = 0, c.a.rope.partial = ROPE_PARTIAL_SPLIT;
    refused(&c, "partial split", ROPE_ERROR_ATTRIBUTE,
            "partial: expected 0 (ROPE_PARTIAL_LEADING), found 1 (the split layout is librope's, not an argument of "
            "vLLM's rotary_embedding + reshape_and_cache_flash");
    c.a.rope.partial = 9;
    refused(&c, "partial 9", ROPE_ERROR_ATTRIBUTE, "partial: expected 0 (ROPE_PARTIAL_LEADING), found 9");
    c.a.rope.partial = ROPE_PARTIAL_LEADING, c.a.rope.is_neox = 0, c.a.rope.pairs_to_halves = 1;
    refused(&c, "pairs_to_halves", ROPE_ERROR_ATTRIBUTE, "pairs_to_halves: expected 0, found 1 (librope's layout");
    c.a.rope.pairs_to_halves = 0, c.a.rope.is_neox = 1;
    keep = c.slots, c.slots.dims[0] = 5;
    refused(&c, "slot_mapping [5]", ROPE_ERROR_SHAPE, "slot_mapping dim 0");
    c.slots = keep;
    keep = c.slots, c.slots.dtype = ROPE_F32;
    refused(&c, "slot_mapping f32", ROPE_ERROR_DTYPE, "slot_mapping");
    c.slots = keep;
    keep = c.v, c.v.dims[1] = 16;
    refused(&c, "value hidden 16", ROPE_ERROR_SHAPE, "value");
    c.v = keep;
    keep = c.kw, c.kw.dims[0] = 4;
    refused(&c, "k_weight [4]", ROPE_ERROR_SHAPE, "k_weight");
    c.kw = keep;
    keep = c.vc, c.vc.data = c.kcm;
    refused(&c, "value_cache is key_cache", ROPE_ERROR_ALIASING, "value_cache");
    c.vc = keep;
    keep = c.kc, c.kc.data = c.mem[0];
    refused(&c, "key_cache over qkv", ROPE_ERROR_ALIASING, "key_cache");
    c.kc = keep;
    { /* the lifecycle: an output that is not its input */
        rope_operation *op = NULL;
        CHECK(rope_operation_create_vllm_rope_and_cache(&c.a, &op) == ROPE_OK, "create: %s", rope_last_error());
        rope_tensor in[10] = {c.pos, c.q, c.k, c.v, c.cache, c.kc, c.vc, c.slots, c.qw, c.kw};
        rope_tensor out[4] = {c.q, c.k, c.kc, c.vc};
        out[3].data = c.kcm;
        rope_variant_pack pack = {in, 10, out, 4};
        size_t ws;
        rope_status sl = rope_operation_setup(op, &pack, &ws);
        CHECK(sl == ROPE_ERROR_SHAPE && strstr(rope_last_error(), "value_cache itself"), "lifecycle output 3: %d %s",
              (int)sl, rope_last_error());
        pack.n_inputs = 9;
        sl = rope_operation_setup(op, &pack, &ws);
        CHECK(sl == ROPE_ERROR_SHAPE && strstr(rope_last_error(), "number of inputs"), "9 inputs: %d %s", (int)sl,
              rope_last_error());
        rope_operation_destroy(op);
        rope_kv_cache_attrs bad = c.a;
        bad.kv_layout = (rope_kv_layout)7;
        CHECK(rope_operation_create_vllm_rope_and_cache(&bad, &op) == ROPE_ERROR_ATTRIBUTE, "create with layout 7");
    }
    /* one weight without the other */
    rope_status st = rope_vllm_rotary_embedding_and_cache(NULL, &c.a, &c.pos, &c.q, &c.k, &c.v, &c.cache, &c.kc,
                                                          &c.vc, &c.slots, &c.qw, NULL);
    CHECK(st == ROPE_ERROR_NULL_ARGUMENT && strstr(rope_last_error(), "k_weight"), "q_weight alone: %d %s", (int)st,
          rope_last_error());
    st = rope_vllm_rotary_embedding_and_cache(NULL, &c.a, &c.pos, &c.q, NULL, &c.v, &c.cache, &c.kc, &c.vc, &c.slots,
                                              NULL, NULL);
    CHECK(st == ROPE_ERROR_NULL_ARGUMENT && strstr(rope_last_error(), "key"), "key NULL: %d %s", (int)st,
          rope_last_error());
    release(&c);
}

int main(void) {
    tu_seed(1602);
    pr_fp8_init(&fp8[0], 0);
    pr_fp8_init(&fp8[1], 1);
    tu_contexts_make(&ctxs);
    tu_split_everything(0);
    for (int i = 0; i < 400; i++) one_case(i);
    bad_inputs();
    tu_contexts_free(&ctxs);
    return tu_finish();
}
