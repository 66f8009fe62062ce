/* SPDX-License-Identifier: MIT */
/* rope_vllm_fused_qk_norm_rope (vLLM fused_qk_norm_rope) on random cases against the float64
 * reference of prologue_ref.h: every qkv dtype with weights and caches of its dtype or f32, head_dim
 * from 2 to 512 (odd ones with partial rotation), full and partial rotation, both pairings, 0 heads
 * of a kind, dense and strided qkv rows, i64 and i32 positions, MRoPE (3 and 4 contiguous sections,
 * interleaved). Each case runs on every instruction set with 1 and 2 threads (small jobs split too),
 * the default context and the operation lifecycle: the first against the reference, v and the row
 * padding untouched; the others bit for bit the first. Then bad input: refused with its status, a
 * message naming the argument, and nothing written. */
#include <stdlib.h>
#include <string.h>

#include "contexts.h"
#include "harness.h"
#include "prologue_ref.h"

static tu_contexts ctxs;

typedef struct qk_case {
    rope_qk_norm_attrs a;
    rope_dtype dt, wdt, cdt, pdt;
    int64_t T, P, rot, stride; /* stride: qkv row stride in elements (>= hidden) */
    rope_tensor pos, qkv, qw, kw, cache;
    void *qkv_mem;
    size_t qkv_bytes;
    double *x, *w_q, *w_k, *cs; /* the values the library reads */
    int64_t *posv;              /* [axes or 1][T] */
} qk_case;

static rope_dtype pick_dtype(void) {
    static const rope_dtype d[3] = {ROPE_F32, ROPE_F16, ROPE_BF16};
    return d[tu_int(0, 2)];
}

static void draw(qk_case *c, int index) {
    memset(c, 0, sizeof *c);
    static const int64_t hds[] = {2, 4, 6, 7, 8, 10, 16, 18, 32, 34, 40, 64, 80, 96, 100, 128, 130, 256, 512};
    int64_t hd = hds[tu_int(0, (int64_t)(sizeof hds / sizeof hds[0]) - 1)];
    if (index % 50 == 7) hd = index % 100 == 7 ? 1024 : 514; /* past the weights' stack copy (512): allocated */
    c->dt = pick_dtype();
    c->wdt = tu_int(0, 1) ? c->dt : ROPE_F32;
    c->cdt = tu_int(0, 1) ? c->dt : ROPE_F32;
    c->pdt = tu_int(0, 1) ? ROPE_I64 : ROPE_I32;
    c->a.rope.head_size = hd;
    c->a.rope.is_neox = (int32_t)tu_int(0, 1);
    c->a.num_heads_q = tu_int(0, 6);
    c->a.num_heads_k = tu_int(0, 3);
    c->a.num_heads_v = tu_int(0, 3);
    if (index % 7 == 0) c->a.num_heads_q = 0;
    static const double epss[] = {1e-6, 1e-5, 0.25, 0.0};
    c->a.eps = epss[tu_int(0, 3)];
    int64_t max_rot = hd % 2 ? hd - 1 : hd;
    c->rot = tu_int(0, 2) ? max_rot : 2 * tu_int(1, max_rot / 2);
    int64_t half = c->rot / 2;
    if (index % 5 == 1 && half >= 3) { /* MRoPE */
        int interleaved = tu_int(0, 1) && 1;
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
    c->T = tu_int(0, 3) == 0 ? tu_int(40, 130) : tu_int(0, 9);
    c->P = tu_int(1, 300);
    int64_t hidden = (c->a.num_heads_q + c->a.num_heads_k + c->a.num_heads_v) * hd;
    c->stride = tu_int(0, 1) ? hidden : hidden + tu_int(1, 9);
}

static void build(qk_case *c) {
    int64_t hd = c->a.rope.head_size, hidden = (c->a.num_heads_q + c->a.num_heads_k + c->a.num_heads_v) * hd;
    int axes = c->a.rope.n_mrope_section;
    int64_t np = (axes ? axes : 1) * c->T;
    c->posv = tu_xmalloc((size_t)np * sizeof(int64_t));
    void *pmem = tu_xmalloc((size_t)np * 8);
    for (int64_t i = 0; i < np; i++) {
        c->posv[i] = tu_int(0, c->P - 1);
        if (c->pdt == ROPE_I64) ((int64_t *)pmem)[i] = c->posv[i];
        else ((int32_t *)pmem)[i] = (int32_t)c->posv[i];
    }
    c->pos = (rope_tensor){pmem, c->pdt, axes ? 2 : 1, {0}, 0};
    if (axes) c->pos.dims[0] = axes, c->pos.dims[1] = c->T;
    else c->pos.dims[0] = c->T;
    /* qkv: T rows of `stride` elements; the padding past `hidden` is random too and must survive */
    size_t n = (size_t)(c->T * c->stride);
    c->qkv_bytes = n * rope_dtype_size(c->dt);
    c->qkv_mem = tu_xmalloc(c->qkv_bytes);
    c->x = tu_xmalloc(n * sizeof(double) + 8);
    ref_fill(c->dt, c->qkv_mem, c->x, n);
    c->qkv = (rope_tensor){c->qkv_mem, c->dt, 2, {c->T, hidden}, c->stride == hidden ? 0 : c->stride};
    c->w_q = tu_xmalloc((size_t)hd * sizeof(double));
    c->w_k = tu_xmalloc((size_t)hd * sizeof(double));
    void *wq = tu_xmalloc((size_t)hd * 4), *wk = tu_xmalloc((size_t)hd * 4);
    for (int64_t i = 0; i < hd; i++) { /* weights around 1, as trained norms are */
        ref_store(c->wdt, wq, (size_t)i, tu_uniform(0.25, 2.0));
        ref_store(c->wdt, wk, (size_t)i, tu_uniform(0.25, 2.0));
        c->w_q[i] = ref_load(c->wdt, wq, (size_t)i);
        c->w_k[i] = ref_load(c->wdt, wk, (size_t)i);
    }
    c->qw = (rope_tensor){wq, c->wdt, 1, {hd}, 0};
    c->kw = (rope_tensor){wk, c->wdt, 1, {hd}, 0};
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
    c->cache = (rope_tensor){cm, c->cdt, 2, {c->P, c->rot}, 0};
}

static void release(qk_case *c) {
    free(c->pos.data), free(c->posv), free(c->qkv_mem), free(c->x), free(c->w_q), free(c->w_k);
    free(c->qw.data), free(c->kw.data), free(c->cache.data), free(c->cs);
}

static void restore(qk_case *c) {
    size_t n = (size_t)(c->T * c->stride);
    for (size_t i = 0; i < n; i++) ref_store(c->dt, c->qkv_mem, i, c->x[i]);
}

static void describe(const qk_case *c, char *buf, size_t size) {
    snprintf(buf, size, "T %lld hd %lld rot %lld Hq %lld Hk %lld Hv %lld neox %d %s w %s cache %s pos %s stride %lld "
             "mrope %d/%d eps %g",
             (long long)c->T, (long long)c->a.rope.head_size, (long long)c->rot, (long long)c->a.num_heads_q,
             (long long)c->a.num_heads_k, (long long)c->a.num_heads_v, c->a.rope.is_neox, rope_dtype_name(c->dt),
             rope_dtype_name(c->wdt), rope_dtype_name(c->cdt), rope_dtype_name(c->pdt), (long long)c->stride,
             c->a.rope.n_mrope_section, c->a.rope.mrope_interleaved, c->a.eps);
}

/* The result in qkv against the reference: q and k heads normalised and rotated, v and padding as
 * they were (bit for bit). */
static int verify(const qk_case *c, char *msg, size_t size) {
    int64_t hd = c->a.rope.head_size, hq = c->a.num_heads_q, hk = c->a.num_heads_k;
    int64_t hidden = c->qkv.dims[1], half = c->rot / 2;
    int axes = c->a.rope.n_mrope_section;
    double want[4096], mag[4096];
    int64_t pp[2048];
    for (int64_t t = 0; t < c->T; t++) {
        for (int64_t j = 0; j < half; j++) {
            int ax = pr_axis(axes, c->a.rope.mrope_interleaved, c->a.rope.mrope_section, j);
            pp[j] = c->posv[ax * c->T + t];
        }
        for (int64_t h = 0; h < hq + hk; h++) {
            const double *x = c->x + t * c->stride + h * hd;
            pr_head(x, hd, h < hq ? c->w_q : c->w_k, c->a.eps, c->cs, c->rot, c->a.rope.is_neox, pp, want, mag);
            for (int64_t i = 0; i < hd; i++) {
                double got = ref_load(c->dt, c->qkv_mem, (size_t)(t * c->stride + h * hd + i));
                double tol = pr_tol(c->dt, want[i], mag[i], hd, 1);
                if (!(fabs(got - want[i]) <= tol)) {
                    snprintf(msg, size, "token %lld head %lld elem %lld: got %.9g want %.9g (tol %.3g)", (long long)t,
                             (long long)h, (long long)i, got, want[i], tol);
                    return 1;
                }
            }
        }
        for (int64_t i = (hq + hk) * hd; i < c->stride; i++) { /* v and the padding */
            double got = ref_load(c->dt, c->qkv_mem, (size_t)(t * c->stride + i));
            if (memcmp(&got, &c->x[t * c->stride + i], sizeof got) != 0) {
                snprintf(msg, size, "token %lld element %lld (%s) changed", (long long)t, (long long)i,
                         i < hidden ? "v" : "row padding");
                return 1;
            }
        }
    }
    return 0;
}

static rope_status run_lifecycle(qk_case *c) {
    rope_operation *op = NULL;
    rope_status st = rope_operation_create_vllm_qk_norm_rope(&c->a, &op);
    if (st != ROPE_OK) return st;
    rope_tensor in[5] = {c->pos, c->qkv, c->qw, c->kw, c->cache}, out[1] = {c->qkv}, inferred[1];
    st = rope_operation_infer_shape(op, in, 5, inferred, 1);
    CHECK(st != ROPE_OK || (inferred[0].dtype == c->dt && inferred[0].dims[1] == c->qkv.dims[1] && !inferred[0].data),
          "inferred output is not qkv's descriptor");
    rope_variant_pack pack = {in, 5, out, 1};
    size_t ws = 1;
    if (st == ROPE_OK) st = rope_operation_setup(op, &pack, &ws);
    if (st == ROPE_OK) st = rope_operation_execute(op, &pack, NULL, ws, NULL);
    rope_operation_destroy(op);
    return st;
}

static void one_case(int index) {
    qk_case c;
    char desc[400], msg[300];
    draw(&c, index);
    build(&c);
    describe(&c, desc, sizeof desc);
    unsigned char *first = tu_xmalloc(c.qkv_bytes);
    for (int x = 0; x <= ctxs.n + 1; x++) {
        restore(&c);
        rope_status st;
        const char *how = x < ctxs.n ? ctxs.name[x] : x == ctxs.n ? "default context" : "lifecycle";
        if (x == ctxs.n + 1) st = run_lifecycle(&c);
        else st = rope_vllm_fused_qk_norm_rope(x < ctxs.n ? ctxs.ctx[x] : NULL, &c.a, &c.pos, &c.qkv, &c.qw, &c.kw,
                                               &c.cache);
        CHECK(st == ROPE_OK, "%s on %s: %s", how, desc, rope_last_error());
        if (st != ROPE_OK) continue;
        if (x == 0) {
            CHECK(verify(&c, msg, sizeof msg) == 0, "%s on %s: %s", how, desc, msg);
            memcpy(first, c.qkv_mem, c.qkv_bytes);
        } else {
            CHECK(memcmp(first, c.qkv_mem, c.qkv_bytes) == 0, "%s on %s: not bitwise the scalar result", how, desc);
        }
    }
    free(first);
    release(&c);
}

/* ---- bad input: refused, nothing written ---------------------------------------------------- */

static void expect_refused(qk_case *c, const char *what, rope_status want, const char *needle,
                           const rope_tensor *pos, const rope_tensor *qkv, const rope_tensor *qw,
                           const rope_tensor *kw, const rope_tensor *cache, const rope_qk_norm_attrs *a) {
    unsigned char *before = tu_xmalloc(c->qkv_bytes);
    memcpy(before, c->qkv_mem, c->qkv_bytes);
    rope_status st = rope_vllm_fused_qk_norm_rope(NULL, a, pos, qkv, qw, kw, cache);
    CHECK(st == want, "%s: status %d, expected %d (%s)", what, (int)st, (int)want, rope_last_error());
    CHECK(strstr(rope_last_error(), needle) != NULL, "%s: message \"%s\" lacks \"%s\"", what, rope_last_error(),
          needle);
    CHECK(memcmp(before, c->qkv_mem, c->qkv_bytes) == 0, "%s: qkv written on error", what);
    if (st != ROPE_ERROR_INDEX && st != ROPE_ERROR_ALIASING && st != ROPE_ERROR_NULL_ARGUMENT) {
        rope_status si = rope_vllm_fused_qk_norm_rope_check(a, pos, qkv, qw, kw, cache);
        CHECK(si == want, "%s: the check gives %d, the call %d", what, (int)si, (int)want);
    }
    free(before);
}

static void bad_inputs(void) {
    qk_case c;
    memset(&c, 0, sizeof c);
    c.a.rope.head_size = 8;
    c.a.rope.is_neox = 1;
    c.a.num_heads_q = 2, c.a.num_heads_k = 1, c.a.num_heads_v = 1;
    c.a.eps = 1e-6;
    c.dt = ROPE_BF16, c.wdt = ROPE_F32, c.cdt = ROPE_F32, c.pdt = ROPE_I64;
    c.T = 5, c.P = 16, c.rot = 8, c.stride = 40;
    build(&c);
    rope_tensor t;
    rope_qk_norm_attrs a = c.a;
    expect_refused(&c, "NULL k_weight", ROPE_ERROR_NULL_ARGUMENT, "k_weight", &c.pos, &c.qkv, &c.qw, NULL, &c.cache, &a);
    t = c.qw, t.dims[0] = 7;
    expect_refused(&c, "q_weight [7]", ROPE_ERROR_SHAPE, "q_weight", &c.pos, &c.qkv, &t, &c.kw, &c.cache, &a);
    t = c.kw, t.dtype = ROPE_F16;
    expect_refused(&c, "k_weight f16 with bf16 qkv", ROPE_ERROR_DTYPE, "k_weight", &c.pos, &c.qkv, &c.qw, &t, &c.cache,
                   &a);
    t = c.kw, t.rank = 2, t.dims[1] = 1;
    expect_refused(&c, "k_weight rank 2", ROPE_ERROR_RANK, "k_weight", &c.pos, &c.qkv, &c.qw, &t, &c.cache, &a);
    t = c.qkv, t.dims[1] = 24;
    expect_refused(&c, "qkv hidden 24", ROPE_ERROR_SHAPE, "qkv dim 1", &c.pos, &t, &c.qw, &c.kw, &c.cache, &a);
    t = c.qkv, t.dims[0] = 4;
    expect_refused(&c, "qkv T 4", ROPE_ERROR_SHAPE, "qkv dim 0", &c.pos, &t, &c.qw, &c.kw, &c.cache, &a);
    t = c.qkv, t.row_stride = 30;
    expect_refused(&c, "qkv row_stride 30", ROPE_ERROR_STRIDE, "qkv", &c.pos, &t, &c.qw, &c.kw, &c.cache, &a);
    t = c.qkv, t.dtype = ROPE_I32;
    expect_refused(&c, "qkv i32", ROPE_ERROR_DTYPE, "qkv", &c.pos, &t, &c.qw, &c.kw, &c.cache, &a);
    t = c.cache, t.dims[1] = 10;
    expect_refused(&c, "rot 10 > head_dim", ROPE_ERROR_SHAPE, "rot", &c.pos, &c.qkv, &c.qw, &c.kw, &t, &a);
    a = c.a, a.eps = -1.0;
    expect_refused(&c, "eps -1", ROPE_ERROR_ATTRIBUTE, "eps", &c.pos, &c.qkv, &c.qw, &c.kw, &c.cache, &a);
    a = c.a, a.eps = NAN;
    expect_refused(&c, "eps NaN", ROPE_ERROR_ATTRIBUTE, "eps", &c.pos, &c.qkv, &c.qw, &c.kw, &c.cache, &a);
    a = c.a, a.eps = 1e39;
    expect_refused(&c, "eps 1e39 (infinite in float32)", ROPE_ERROR_ATTRIBUTE, "eps", &c.pos, &c.qkv, &c.qw, &c.kw,
                   &c.cache, &a);
    a = c.a, a.num_heads_v = -1;
    expect_refused(&c, "num_heads_v -1", ROPE_ERROR_ATTRIBUTE, "num_heads_v", &c.pos, &c.qkv, &c.qw, &c.kw, &c.cache,
                   &a);
    a = c.a, a.rope.is_neox = 2;
    expect_refused(&c, "is_neox 2", ROPE_ERROR_ATTRIBUTE, "is_neox", &c.pos, &c.qkv, &c.qw, &c.kw, &c.cache, &a);
    a = c.a;
    /* the last token's position past the cache: nothing written, the first tokens included */
    ((int64_t *)c.pos.data)[4] = c.P;
    expect_refused(&c, "position P", ROPE_ERROR_INDEX, "positions[4] = 16", &c.pos, &c.qkv, &c.qw, &c.kw, &c.cache,
                   &a);
    ((int64_t *)c.pos.data)[4] = -1;
    expect_refused(&c, "position -1", ROPE_ERROR_INDEX, "positions[4] = -1", &c.pos, &c.qkv, &c.qw, &c.kw, &c.cache,
                   &a);
    ((int64_t *)c.pos.data)[4] = 0;
    /* the weight inside qkv's rows: written by the call */
    t = c.qw, t.data = (char *)c.qkv_mem + 2 * 8 * 2;
    t.dtype = ROPE_BF16;
    expect_refused(&c, "q_weight inside qkv", ROPE_ERROR_ALIASING, "q_weight", &c.pos, &c.qkv, &t, &c.kw, &c.cache,
                   &a);
    /* the lifecycle: an output that is not qkv */
    rope_operation *op = NULL;
    CHECK(rope_operation_create_vllm_qk_norm_rope(&a, &op) == ROPE_OK, "create: %s", rope_last_error());
    rope_tensor in[5] = {c.pos, c.qkv, c.qw, c.kw, c.cache}, out[1] = {c.qkv};
    out[0].row_stride = 0;
    rope_variant_pack pack = {in, 5, out, 1};
    size_t ws;
    rope_status st = rope_operation_setup(op, &pack, &ws);
    CHECK(st == ROPE_ERROR_SHAPE && strstr(rope_last_error(), "qkv itself"), "lifecycle output not qkv: %d %s",
          (int)st, rope_last_error());
    rope_operation_destroy(op);
    a.eps = -2;
    CHECK(rope_operation_create_vllm_qk_norm_rope(&a, &op) == ROPE_ERROR_ATTRIBUTE, "create with eps -2");
    release(&c);
}

int main(void) {
    tu_seed(1616);
    tu_contexts_make(&ctxs);
    tu_split_everything(0);
    for (int i = 0; i < 400; i++) one_case(i);
    bad_inputs();
    tu_contexts_free(&ctxs);
    return tu_finish();
}
