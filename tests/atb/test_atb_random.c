/* SPDX-License-Identifier: MIT */
/* ATB RopeOperation on about a thousand random cases against the float64 reference (atb-rope.md):
 * every cos width D from 2 to 256 with every coefficient (2, 4, D), 2-D and 4-D query/key (a head
 * of D, of 2D as with cos [.., head_size/2], or of D/2 so that a chunk spans two heads), GQA and
 * MQA ratios, both cos formats with random packed sequences (empty, one, many), i32 and u32 seqlen,
 * the four dtype combinations, in place, strided rows and q/k inside one fused QKV buffer. Each case
 * runs on every available instruction set with 1 and 2 threads (the engine's threshold lowered so
 * that 2 threads really split small jobs) and on the default context; every result is compared with
 * the reference and, bit for bit, with the first (scalar, 1 thread), and every other case also runs
 * through the operation lifecycle. Bytes outside the output elements must keep their values. */
#include <stdlib.h>
#include <string.h>

#include "contexts.h"
#include "engine/engine.h"
#include "harness.h"
#include "reference.h"
#include "rope.h"

enum { CANARY = 32, MAX_CTX = TU_MAX_CONTEXTS + 1, MAX_BATCH = 40, LIMIT = 8000 /* q + k elements of a case */ };

static rope_context *ctxs[MAX_CTX];
static char ctx_names[MAX_CTX][32];
static int n_ctx;

typedef struct atb_case {
    int rank;                    /* 2: [T, hidden]; 4: [b4, s4, heads, hs] */
    int64_t b4, s4, nq, nk, hs;  /* the 4-D shape */
    ref_atb_case rc;             /* T, hidden q/k, D, cos rows, coefficient, format, seqlen, batch */
    int64_t seqlen[MAX_BATCH];
    rope_dtype xt, ct, lt;       /* query/key, cos/sin, seqlen */
    int null_seqlen;             /* cosFormat 0: seqlen data NULL (allowed, never read) */
    int null_param;              /* rotaryCoeff 4, cosFormat 0 given as NULL (ATB's defaults) */
    int fused, in_place[2];      /* fused: q | k | pad rows of one buffer, both in place */
    int64_t gap[4];              /* row_stride - row of query, key, ropeQ, ropeK; -1: row_stride 0 */
} atb_case;

static const char *case_str(const atb_case *c, char *buf, size_t n) {
    const ref_atb_case *r = &c->rc;
    int len = snprintf(buf, n, "%d-D T%lld", c->rank, (long long)r->ntokens);
    if (c->rank == 4)
        len += snprintf(buf + len, n - (size_t)len, " [%lld,%lld,%lld|%lld,%lld]", (long long)c->b4, (long long)c->s4,
                        (long long)c->nq, (long long)c->nk, (long long)c->hs);
    if (r->head_size) len += snprintf(buf + len, n - (size_t)len, " split head_size %lld", (long long)r->head_size);
    len += snprintf(buf + len, n - (size_t)len, " hq%lld hk%lld D%lld rc%d fmt%d rows%lld %s/%s seqlen %s%s[%lld]={",
                    (long long)r->hidden_q, (long long)r->hidden_k, (long long)r->d, r->rotary_coeff, r->cos_format,
                    (long long)r->cos_rows, rope_dtype_name(c->xt), rope_dtype_name(c->ct), rope_dtype_name(c->lt),
                    c->null_seqlen ? "(NULL)" : "", (long long)r->batch);
    for (int64_t b = 0; b < r->batch && b < 12 && len < (int)n - 40; b++)
        len += snprintf(buf + len, n - (size_t)len, b ? ",%lld" : "%lld", (long long)c->seqlen[b]);
    snprintf(buf + len, n - (size_t)len, "%s}%s%s in_place %d/%d gaps %lld/%lld/%lld/%lld", r->batch > 12 ? ",..." : "",
             c->null_param ? " param NULL" : "", c->fused ? " fused" : "", c->in_place[0], c->in_place[1],
             (long long)c->gap[0], (long long)c->gap[1], (long long)c->gap[2], (long long)c->gap[3]);
    return buf;
}

/* ---- one case ------------------------------------------------------------------------------------- */

typedef struct buf {
    size_t bytes;
    unsigned char *pristine, *work, *first, *mask; /* mask: 1 on the bytes of output elements */
} buf;

/* Query, key, ropeQ, ropeK (j = 0..3) sit in buffer bi[j] at element off[j], rows str[j] apart. */
typedef struct state {
    buf b[4];
    int bi[4];
    int64_t off[4], str[4], row[4];
    double *want[2], *perr[2];
    rope_tensor t[7]; /* query, key, cos, sin, seqlen, ropeQ, ropeK: inputs then outputs */
    int have_first;   /* `first` holds the first successful run's bytes */
} state;

static void restore(state *s) {
    for (int i = 0; i < 4; i++)
        if (s->b[i].bytes) memcpy(s->b[i].work, s->b[i].pristine, s->b[i].bytes);
}

/* The first run: bytes outside the output elements untouched, outputs within tolerance of the
 * reference. A later run: the first run's bits everywhere, which implies both (checked again only
 * when the bits differ, to say how). */
static void verify(state *s, const atb_case *c, const char *name, const char *how) {
    int first = !s->have_first;
    char r1[200], r2[200];
    size_t outside = 0, es = rope_dtype_size(c->xt);
    int same = 1;
    for (int i = 0; i < 4 && !first; i++)
        same &= !s->b[i].bytes || memcmp(s->b[i].first, s->b[i].work, s->b[i].bytes) == 0;
    CHECK(same, "%s on %s: differs bitwise from the first run", name, how);
    if (same && !first) return;
    for (int i = 0; i < 4; i++)
        for (size_t j = 0; j < s->b[i].bytes; j++)
            outside += !s->b[i].mask[j] && s->b[i].work[j] != s->b[i].pristine[j];
    CHECK(outside == 0, "%s on %s: %zu bytes outside ropeQ/ropeK elements changed", name, how, outside);
    ref_report rep[2];
    for (int o = 0; o < 2; o++) {
        int j = 2 + o;
        ref_compare(c->xt, s->b[s->bi[j]].work + CANARY + s->off[j] * (int64_t)es, (size_t)c->rc.ntokens,
                    (size_t)s->row[j], (size_t)s->str[j], s->want[o], s->perr[o], &rep[o]);
    }
    CHECK(rep[0].bad == 0 && rep[1].bad == 0, "%s on %s: ropeQ %s; ropeK %s", name, how,
          ref_report_str(&rep[0], r1, sizeof r1), ref_report_str(&rep[1], r2, sizeof r2));
    for (int i = 0; i < 4 && first; i++)
        if (s->b[i].bytes) memcpy(s->b[i].first, s->b[i].work, s->b[i].bytes);
    s->have_first = 1;
}

/* create / infer_shape / setup / execute, twice (the in-place inputs restored in between). */
static void lifecycle(state *s, const atb_case *c, const rope_atb_param *p, int k, const char *name) {
    char how[64];
    snprintf(how, sizeof how, "lifecycle, %s", ctx_names[k]);
    rope_operation *op = NULL;
    rope_tensor inferred[2];
    size_t ws = 1;
    rope_variant_pack pack = {s->t, 5, s->t + 5, 2};
    rope_status st = rope_operation_create_atb(p, &op);
    if (st == ROPE_OK) st = rope_operation_infer_shape(op, s->t, 5, inferred, 2);
    CHECK(st == ROPE_OK, "%s on %s: %s", name, how, rope_last_error());
    for (int o = 0; o < 2 && st == ROPE_OK; o++) {
        const rope_tensor *want = &s->t[5 + o], *got = &inferred[o];
        CHECK(got->dtype == want->dtype && got->rank == want->rank && !got->data && got->row_stride == 0 &&
                  memcmp(got->dims, want->dims, (size_t)want->rank * sizeof want->dims[0]) == 0,
              "%s: inferred output %d", name, o);
    }
    restore(s);
    if (st == ROPE_OK) st = rope_operation_setup(op, &pack, &ws);
    CHECK(st == ROPE_OK && ws == 0, "%s on %s: setup: %s", name, how, rope_last_error());
    for (int rep = 0; rep < 2 && st == ROPE_OK; rep++) {
        if (rep) restore(s); /* same pack, changed data */
        st = rope_operation_execute(op, &pack, NULL, 0, ctxs[k]);
        CHECK(st == ROPE_OK, "%s on %s: execute %d: %s", name, how, rep, rope_last_error());
        if (st == ROPE_OK) verify(s, c, name, how);
    }
    rope_operation_destroy(op);
}

static rope_tensor qk_tensor(const atb_case *c, int key, void *data, int64_t row, int64_t gap) {
    rope_tensor t = {data, c->xt, 2, {c->rc.ntokens, row}, gap < 0 ? 0 : row + gap};
    if (c->rank == 4)
        t.rank = 4, t.dims[0] = c->b4, t.dims[1] = c->s4, t.dims[2] = key ? c->nk : c->nq, t.dims[3] = c->hs;
    return t;
}

static void run_case(const atb_case *c, int life) {
    char name[400];
    case_str(c, name, sizeof name);
    ref_atb_case rcase = c->rc;
    const ref_atb_case *rc = &rcase;
    rcase.seqlen = c->seqlen;
    int64_t T = rc->ntokens, hq = rc->hidden_q, hk = rc->hidden_k, D = rc->d, rows = rc->cos_rows;
    size_t es = rope_dtype_size(c->xt), cs = rope_dtype_size(c->ct);
    state s;
    memset(&s, 0, sizeof s);
    int64_t ext[4] = {0, 0, 0, 0};
    for (int j = 0; j < 4; j++) {
        s.row[j] = j % 2 ? hk : hq;
        s.str[j] = s.row[j] + (c->gap[j] > 0 ? c->gap[j] : 0);
        s.bi[j] = c->fused ? 0 : j < 2 || c->in_place[j - 2] ? j % 2 : j;
        s.off[j] = c->fused && j % 2 ? hq : 0;
        int64_t end = T ? s.off[j] + (T - 1) * s.str[j] + s.row[j] : 0;
        if (end > ext[s.bi[j]]) ext[s.bi[j]] = end;
    }
    for (int i = 0; i < 4; i++) { /* random bytes everywhere, values where the inputs' elements are */
        if (i >= 2 && s.bi[i] != i) continue;
        buf *b = &s.b[i];
        b->bytes = (size_t)ext[i] * es + 2 * CANARY;
        b->pristine = tu_xmalloc(b->bytes), b->work = tu_xmalloc(b->bytes), b->first = tu_xmalloc(b->bytes);
        b->mask = calloc(b->bytes, 1);
        if (!b->mask) abort();
        for (size_t j = 0; j < b->bytes; j += 8) {
            uint64_t r = tu_u64();
            memcpy(b->pristine + j, &r, b->bytes - j < 8 ? b->bytes - j : 8);
        }
    }
    double *xd[2];
    for (int j = 0; j < 4; j++) {
        unsigned char *base = s.b[s.bi[j]].pristine + CANARY + s.off[j] * (int64_t)es;
        size_t rb = (size_t)s.row[j] * es, n = (size_t)(T * s.row[j]);
        if (j >= 2) {
            unsigned char *mask = s.b[s.bi[j]].mask + (base - s.b[s.bi[j]].pristine);
            for (int64_t t = 0; t < T; t++) memset(mask + t * s.str[j] * (int64_t)es, 1, rb);
            s.want[j - 2] = tu_xmalloc(n * sizeof(double)), s.perr[j - 2] = tu_xmalloc(n * sizeof(double));
            continue;
        }
        unsigned char *dense = tu_xmalloc(n * es);
        xd[j] = tu_xmalloc(n * sizeof(double));
        ref_fill(c->xt, dense, xd[j], n);
        for (int64_t t = 0; t < T; t++) memcpy(base + t * s.str[j] * (int64_t)es, dense + (size_t)t * rb, rb);
        free(dense);
    }
    size_t ncs = (size_t)(rows * D);
    void *cosb = tu_xmalloc(ncs * cs), *sinb = tu_xmalloc(ncs * cs);
    double *cd = tu_xmalloc(ncs * sizeof(double)), *sd = tu_xmalloc(ncs * sizeof(double));
    ref_fill(c->ct, cosb, cd, ncs);
    ref_fill(c->ct, sinb, sd, ncs);
    uint32_t seq[MAX_BATCH]; /* i32 and u32 alike: the same bits for the values used */
    for (int64_t b = 0; b < rc->batch; b++) seq[b] = (uint32_t)c->seqlen[b];
    CHECK(ref_atb_rope(rc, xd[0], xd[1], cd, sd, s.want[0], s.perr[0], s.want[1], s.perr[1]) == 0,
          "reference refused %s", name);

    for (int j = 0; j < 4; j++) {
        void *data = s.b[s.bi[j]].work + CANARY + s.off[j] * (int64_t)es;
        s.t[j < 2 ? j : j + 3] = qk_tensor(c, j % 2, data, s.row[j], c->gap[j]);
    }
    s.t[2] = (rope_tensor){cosb, c->ct, 2, {rows, D}, 0};
    s.t[3] = (rope_tensor){sinb, c->ct, 2, {rows, D}, 0};
    s.t[4] = (rope_tensor){c->null_seqlen ? NULL : seq, c->lt, 1, {rc->batch}, 0};
    rope_atb_param param = {rc->rotary_coeff, rc->cos_format, rc->head_size ? ROPE_PARTIAL_SPLIT : ROPE_PARTIAL_LEADING,
                            {0}, (int32_t)rc->head_size};
    const rope_atb_param *p = c->null_param ? NULL : &param;
    for (int k = 0; k < n_ctx; k++) {
        restore(&s);
        rope_status st = rope_atb_rope(ctxs[k], p, &s.t[0], &s.t[1], &s.t[2], &s.t[3], &s.t[4], &s.t[5], &s.t[6]);
        CHECK(st == ROPE_OK, "%s on %s: %s", name, ctx_names[k], rope_last_error());
        if (st == ROPE_OK) verify(&s, c, name, ctx_names[k]);
    }
    if (life >= 0) lifecycle(&s, c, p, life % n_ctx, name);
    for (int i = 0; i < 4; i++) free(s.b[i].pristine), free(s.b[i].work), free(s.b[i].first), free(s.b[i].mask);
    for (int o = 0; o < 2; o++) free(s.want[o]), free(s.perr[o]), free(xd[o]);
    free(cosb), free(sinb), free(cd), free(sd);
}

/* ---- the cases ------------------------------------------------------------------------------------ */

static const rope_dtype combos[4][2] = {
    {ROPE_F16, ROPE_F16}, {ROPE_F16, ROPE_F32}, {ROPE_BF16, ROPE_BF16}, {ROPE_F32, ROPE_F32}};

/* A random case; each argument >= 0 forces a choice: D (0: random), coefficient (0: 2, 1: 4, 2: D),
 * rank, cosFormat, dtype combination, placement (0: separate buffers, 1: both in place, 2: fused QKV
 * buffer, 3: one of q, k in place). */
static atb_case make_case(int64_t D, int ck, int rank, int fmt, int combo, int place) {
    static const int64_t ds[] = {2, 4, 6, 8, 12, 16, 20, 24, 36, 44, 64, 100, 128, 200, 256};
    static const int64_t ratios[] = {1, 1, 2, 3, 4, 8};
    atb_case c;
    memset(&c, 0, sizeof c);
    ref_atb_case *r = &c.rc;
    if (!D) D = tu_int(0, 1) ? ds[tu_int(0, 14)] : 2 * tu_int(1, 128);
    if (ck < 0) ck = (int)tu_int(0, 2);
    if (ck == 1 && D % 4) D += 2;
    r->d = D, r->rotary_coeff = ck == 0 ? 2 : ck == 1 ? 4 : (int)D;
    c.rank = rank >= 0 ? rank : tu_int(0, 1) ? 2 : 4;
    int64_t g = ratios[tu_int(0, 5)], T;
    /* 1 in 4 (rotate-half only): librope's split partial layout, heads of head_size >= D */
    if (ck == 0 && tu_int(0, 3) == 0) r->head_size = D + 2 * tu_int(0, 9);
    if (c.rank == 4) {
        int mode = (int)tu_int(0, 2); /* head D; head 2D (cos [.., head_size/2]); head D/2 */
        c.hs = mode == 0 ? D : mode == 1 ? 2 * D : D / 2;
        if (r->head_size) c.hs = r->head_size;
        c.nk = mode == 2 ? 2 * tu_int(1, 2) : tu_int(1, 3), c.nq = g * c.nk;
        c.b4 = tu_int(0, 19) ? tu_int(1, 3) : 0, c.s4 = tu_int(0, 19) ? tu_int(1, 12) : 0;
        r->hidden_q = c.nq * c.hs, r->hidden_k = c.nk * c.hs;
        while (c.b4 * c.s4 * (r->hidden_q + r->hidden_k) > LIMIT && c.b4 * c.s4 > 1) {
            if (c.s4 > 1) c.s4 /= 2;
            else c.b4 = 1;
        }
        T = c.b4 * c.s4;
    } else {
        r->hidden_k = (r->head_size ? r->head_size : D) * tu_int(1, 3), r->hidden_q = g * r->hidden_k;
        T = tu_int(0, 19) ? tu_int(1, 24) : tu_int(0, 2) ? tu_int(25, 300) : 0;
        if (T * (r->hidden_q + r->hidden_k) > LIMIT) T = LIMIT / (r->hidden_q + r->hidden_k) + 1;
    }
    r->ntokens = T;
    r->cos_format = fmt >= 0 ? fmt : (int)tu_int(0, 1);
    c.lt = tu_int(0, 1) ? ROPE_I32 : ROPE_U32;
    if (r->cos_format == 0) { /* seqlen's values are not read: anything, even NULL data */
        r->batch = tu_int(0, 4);
        for (int64_t b = 0; b < r->batch; b++) c.seqlen[b] = tu_int(-5, 999);
        c.null_seqlen = tu_int(0, 3) == 0;
        r->cos_rows = T + (tu_int(0, 1) ? 0 : tu_int(1, 5));
    } else { /* one sequence, a few, many (most of them empty or short), or one token each */
        int kind = (int)tu_int(0, 3);
        int64_t nb = kind == 0   ? 1
                     : kind == 1 ? tu_int(2, 5)
                     : kind == 2 ? tu_int(6, MAX_BATCH)
                                 : (T < MAX_BATCH ? T : MAX_BATCH);
        int64_t cut[MAX_BATCH + 1], longest = 0;
        cut[0] = 0, cut[nb] = T;
        for (int64_t b = 1; b < nb; b++) { /* kept sorted; ends repeated now and then: empty sequences */
            int64_t v = kind == 3 ? b * T / nb : tu_int(0, 4) ? tu_int(0, T) : tu_int(0, 1) ? 0 : T, i = b;
            for (; i > 1 && cut[i - 1] > v; i--) cut[i] = cut[i - 1];
            cut[i] = v;
        }
        for (int64_t b = 0; b < nb; b++) {
            c.seqlen[b] = cut[b + 1] - cut[b];
            if (c.seqlen[b] > longest) longest = c.seqlen[b];
        }
        r->batch = nb; /* r->seqlen is set where the case stays put */
        r->cos_rows = longest + (tu_int(0, 1) ? 0 : tu_int(1, 4));
    }
    if (combo < 0) combo = (int)tu_int(0, 3);
    c.xt = combos[combo][0], c.ct = combos[combo][1];
    c.null_param = r->rotary_coeff == 4 && r->cos_format == 0 && !r->head_size && tu_int(0, 1);
    if (place < 0) place = (int)(tu_int(0, 1) ? 0 : tu_int(1, 3));
    for (int j = 0; j < 4; j++) c.gap[j] = tu_int(0, 2) ? -1 : tu_int(0, 9);
    c.fused = place == 2;
    c.in_place[0] = place == 1 || place == 2 || (place == 3 && tu_int(0, 1));
    c.in_place[1] = place == 1 || place == 2 || (place == 3 && !c.in_place[0]);
    if (c.fused) {
        int64_t w = r->hidden_q + r->hidden_k + tu_int(0, 9);
        c.gap[0] = c.gap[2] = w - r->hidden_q, c.gap[1] = c.gap[3] = w - r->hidden_k;
    }
    for (int j = 0; j < 2; j++) /* in place: the same rows; dense as row_stride 0 or the row length */
        if (c.in_place[j]) c.gap[2 + j] = c.gap[j] > 0 ? c.gap[j] : tu_int(-1, 0);
    return c;
}

static tu_contexts tcs;
static void make_contexts(void) {
    tu_contexts_make(&tcs);
    for (int i = 0; i < tcs.n; i++) { /* each context is the set and thread count its name says */
        const char *isa = rope_isa_name(rope_context_isa(tcs.ctx[i])), *slash = strchr(tcs.name[i], '/');
        CHECK(slash && strncmp(tcs.name[i], isa, (size_t)(slash - tcs.name[i])) == 0 && isa[slash - tcs.name[i]] == 0,
              "context %s: instruction set %s", tcs.name[i], isa);
        CHECK(slash && atoi(slash + 1) == rope_context_threads(tcs.ctx[i]), "context %s: %d threads", tcs.name[i],
              rope_context_threads(tcs.ctx[i]));
        ctxs[n_ctx] = tcs.ctx[i];
        snprintf(ctx_names[n_ctx++], sizeof ctx_names[0], "%s", tcs.name[i]);
    }
    ctxs[n_ctx] = NULL;
    snprintf(ctx_names[n_ctx++], sizeof ctx_names[0], "the default context");
}

/* Every other case also goes through the lifecycle, on each context in turn. */
static int n_cases;
static void run(const atb_case *c) {
    run_case(c, n_cases % 2 ? -1 : n_cases / 2);
    n_cases++;
}

int main(void) {
    tu_seed(20250611);
    /* Two threads split every job (blocks of 64 bytes and up): block edges fall inside sequences,
     * tokens and heads. */
    rope_engine_tune.parallel_min_bytes = 1;
    rope_engine_tune.part_min_bytes = 64;
    make_contexts();
    /* Every combination of dtypes, format, rank, coefficient and placement. */
    for (int combo = 0; combo < 4; combo++)
        for (int fmt = 0; fmt < 2; fmt++)
            for (int rank = 2; rank <= 4; rank += 2)
                for (int ck = 0; ck < 3; ck++)
                    for (int place = 0; place < 4; place++) {
                        atb_case c = make_case(0, ck, rank, fmt, combo, place);
                        run(&c);
                    }
    /* Every even D with every coefficient it takes. */
    for (int64_t D = 2; D <= 256; D += 2)
        for (int ck = 0; ck < 3; ck++) {
            if ((ck == 1 && D % 4) || (ck == 2 && D <= 4)) continue; /* 4 or D: a coefficient listed already */
            atb_case c = make_case(D, ck, -1, -1, -1, -1);
            run(&c);
        }
    for (int i = 0; i < 400; i++) {
        atb_case c = make_case(0, -1, -1, -1, -1, -1);
        run(&c);
    }
    printf("%d cases on %d contexts\n", n_cases, n_ctx);
    tu_contexts_free(&tcs);
    return tu_finish();
}
