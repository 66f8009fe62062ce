/* SPDX-License-Identifier: MIT */
/* ONNX RotaryEmbedding on hundreds of random cases against the float64 reference: every dtype,
 * 3-D and 4-D X, halves and interleaved, partial rotation, with and without position ids, in place,
 * strided rows, empty tensors. Each case runs on several contexts (scalar first, then every
 * available instruction set and thread count) that must agree bit for bit. Y sits between canary
 * bytes, its row gaps too, and X must be left as it was. */
#include <stdlib.h>
#include <string.h>

#include "contexts.h"
#include "harness.h"
#include "reference.h"
#include "rope.h"

enum { CANARY = 64, MAX_CTX = TU_MAX_CONTEXTS + 1 };
static const unsigned char CANARY_BYTE = 0xa5;

static rope_context *ctxs[MAX_CTX];
static const char *ctx_names[MAX_CTX];
static int n_ctx;

typedef struct onnx_case {
    ref_onnx_case rc;
    rope_dtype dt;
    int use_ids, in_place, null_data;
    int64_t x_gap, y_gap; /* row_stride - row, in elements; 0 with row_stride 0 (dense) */
} onnx_case;

static const char *case_str(const onnx_case *c, char *buf, size_t n) {
    snprintf(buf, n, "%s %d-D B%lld S%lld N%lld H%lld r%lld il%d ids%d(max_pos %lld) in_place%d gaps %lld/%lld%s",
             rope_dtype_name(c->dt), c->rc.rank, (long long)c->rc.batch, (long long)c->rc.seq, (long long)c->rc.heads,
             (long long)c->rc.head_size, (long long)c->rc.rot, c->rc.interleaved, c->use_ids, (long long)c->rc.max_pos,
             c->in_place, (long long)c->x_gap, (long long)c->y_gap, c->rc.backward ? " backward" : "");
    return buf;
}

/* The whole of one case. */
static void run_case(const onnx_case *c) {
    char name[200], rep_buf[200];
    case_str(c, name, sizeof name);
    const ref_onnx_case *rc = &c->rc;
    rope_dtype dt = c->dt;
    size_t es = rope_dtype_size(dt);
    int64_t B = rc->batch, S = rc->seq, N = rc->heads, H = rc->head_size, r = rc->rot ? rc->rot : H;
    size_t numel = ref_onnx_numel(rc);
    size_t row = (size_t)(rc->rank == 4 ? H : N * H), rows = row ? numel / row : 0;
    size_t xs = row + (size_t)c->x_gap, ys = c->in_place ? xs : row + (size_t)c->y_gap;
    /* Extents end at the last element: a read past it is an ASan error. */
    size_t x_elems = rows ? (rows - 1) * xs + row : 0, y_elems = rows ? (rows - 1) * ys + row : 0;
    size_t cs_rows = (size_t)(c->use_ids ? rc->max_pos : B * S), cw = (size_t)r / 2;

    /* Inputs: X's row gaps hold random bytes too, which the result must not depend on. */
    unsigned char *x_orig = tu_xmalloc(x_elems * es);
    for (size_t i = 0; i < x_elems * es; i++) x_orig[i] = (unsigned char)tu_u64();
    double *xd = tu_xmalloc(numel * sizeof(double)), *want = tu_xmalloc(numel * sizeof(double));
    double *perr = tu_xmalloc(numel * sizeof(double));
    void *dense = tu_xmalloc(numel * es);
    ref_fill(dt, dense, xd, numel);
    for (size_t i = 0; i < rows; i++) memcpy(x_orig + i * xs * es, (char *)dense + i * row * es, row * es);
    void *cosb = tu_xmalloc(cs_rows * cw * es), *sinb = tu_xmalloc(cs_rows * cw * es);
    double *cd = tu_xmalloc(cs_rows * cw * sizeof(double)), *sd = tu_xmalloc(cs_rows * cw * sizeof(double));
    ref_fill(dt, cosb, cd, cs_rows * cw);
    ref_fill(dt, sinb, sd, cs_rows * cw);
    int64_t *ids = tu_xmalloc((size_t)(B * S) * sizeof(int64_t));
    int same_id = tu_int(0, 9) == 0; /* sometimes every token reads one row */
    int64_t one = rc->max_pos > 0 ? tu_int(0, rc->max_pos - 1) : 0;
    for (int64_t i = 0; c->use_ids && i < B * S; i++) ids[i] = same_id ? one : tu_int(0, rc->max_pos - 1);
    CHECK(ref_onnx_rotary(rc, xd, cd, sd, c->use_ids ? ids : NULL, want, perr) == 0, "reference refused %s", name);

    rope_onnx_attrs attrs = {rc->interleaved, rc->rot, rc->rank == 3 ? N : 0};
    rope_tensor X = {NULL, dt, rc->rank, {B, N, S, H}, c->x_gap ? (int64_t)xs : 0};
    if (rc->rank == 3) X.dims[1] = S, X.dims[2] = N * H;
    rope_tensor Y = X;
    Y.row_stride = c->in_place ? X.row_stride : c->y_gap ? (int64_t)ys : 0;
    rope_tensor C = {cosb, dt, c->use_ids ? 2 : 3, {B, S, (int64_t)cw}, 0};
    if (c->use_ids) C.dims[0] = rc->max_pos, C.dims[1] = (int64_t)cw;
    rope_tensor Sn = C;
    Sn.data = sinb;
    rope_tensor I = {ids, ROPE_I64, 2, {B, S}, 0};

    size_t y_bytes = (c->in_place ? x_elems : y_elems) * es, total = y_bytes + 2 * CANARY;
    unsigned char *first = NULL, *work = tu_xmalloc(total), *x_copy = NULL;
    if (!c->in_place) {
        x_copy = tu_xmalloc(x_elems * es);
        memcpy(x_copy, x_orig, x_elems * es);
    }
    for (int k = 0; k < n_ctx; k++) {
        memset(work, CANARY_BYTE, total);
        unsigned char *yb = work + CANARY;
        if (c->in_place) memcpy(yb, x_orig, y_bytes);
        X.data = c->in_place ? (void *)yb : (void *)x_copy;
        Y.data = yb;
        if (c->null_data) { /* legal for every tensor without elements */
            X.data = Y.data = NULL;
            if (rope_tensor_numel(&I) == 0) I.data = NULL;
            if (rope_tensor_numel(&C) == 0) C.data = Sn.data = NULL;
        }
        rope_status st = (rc->backward ? rope_onnx_rotary_embedding_backward : rope_onnx_rotary_embedding)(
            ctxs[k], &attrs, &X, &C, &Sn, c->use_ids ? &I : NULL, &Y);
        CHECK(st == ROPE_OK, "%s on %s: %s", name, ctx_names[k], rope_last_error());
        if (st != ROPE_OK) continue;

        /* Nothing outside Y's elements changed: the canaries, Y's row gaps, and X itself. */
        size_t outside = 0;
        for (size_t i = 0; i < total; i++) {
            int in_y = i >= CANARY && i < CANARY + y_bytes;
            size_t e = in_y ? (i - CANARY) / es : 0;
            int element = in_y && e % ys < row;
            unsigned char before = !in_y ? CANARY_BYTE : c->in_place ? x_orig[i - CANARY] : CANARY_BYTE;
            if (!element && work[i] != before) outside++;
        }
        CHECK(outside == 0, "%s on %s: %zu bytes outside Y's elements written", name, ctx_names[k], outside);
        if (!c->in_place)
            CHECK(memcmp(x_copy, x_orig, x_elems * es) == 0, "%s on %s: X was written", name, ctx_names[k]);

        if (k == 0) { /* the scalar context against the reference */
            ref_report rep;
            size_t bad = ref_compare(dt, yb, rows, row, ys, want, perr, &rep);
            CHECK(bad == 0, "%s: %s", name, ref_report_str(&rep, rep_buf, sizeof rep_buf));
            /* The copied elements (the tail [r, head_size), or what the split layout leaves) are X's bits. */
            size_t tail_bad = 0;
            for (size_t i = 0; i < rows; i++)
                for (size_t j = 0; j < row; j++)
                    if (perr[i * row + j] < 0)
                        tail_bad += memcmp(yb + (i * ys + j) * es, x_orig + (i * xs + j) * es, es) != 0;
            CHECK(tail_bad == 0, "%s: %zu copied elements differ from X", name, tail_bad);
            first = tu_xmalloc(total);
            memcpy(first, work, total);
        } else {
            CHECK(first && memcmp(first, work, total) == 0, "%s: %s differs from %s", name, ctx_names[k], ctx_names[0]);
        }
    }
    free(first), free(work), free(x_copy), free(x_orig), free(xd), free(want), free(perr), free(dense);
    free(cosb), free(sinb), free(cd), free(sd), free(ids);
}

/* ---- the cases ------------------------------------------------------------------------------------ */

static const rope_dtype dtypes[] = {ROPE_F32, ROPE_F16, ROPE_BF16};

static onnx_case base_case(int rank, int64_t B, int64_t S, int64_t N, int64_t H) {
    onnx_case c;
    memset(&c, 0, sizeof c);
    c.rc.rank = rank, c.rc.batch = B, c.rc.seq = S, c.rc.heads = N, c.rc.head_size = H;
    c.dt = ROPE_F32;
    return c;
}

static onnx_case random_case(void) {
    static const int64_t sizes[] = {2, 4, 6, 8, 10, 16, 34, 64, 98, 128, 130, 254, 256};
    int64_t H = tu_int(0, 3) ? sizes[tu_int(0, 12)] : 2 * tu_int(1, 128);
    int rank = (int)tu_int(3, 4);
    int64_t B = tu_int(0, 24) ? tu_int(1, 3) : 0, S = tu_int(0, 24) ? tu_int(1, 12) : 0;
    int64_t N = rank == 3 ? tu_int(1, 4) : tu_int(0, 24) ? tu_int(1, 4) : 0;
    while (B * S * N * H > 12000 && S > 1) S /= 2;
    onnx_case c = base_case(rank, B, S, N, H);
    c.dt = dtypes[tu_int(0, 2)];
    int64_t pick = tu_int(0, 3);
    c.rc.rot = pick == 0 ? 0 : pick == 1 ? H : 2 * tu_int(1, H / 2); /* 0 and H: both mean all of it */
    c.rc.interleaved = (int)tu_int(0, 3); /* ONNX's 0 and 1, librope's pairs-to-halves and split halves */
    c.rc.backward = tu_int(0, 3) == 0;
    c.use_ids = tu_int(0, 4) < 3;
    /* Few rows make repeated ids and seq > max_pos; many make positions far apart. */
    c.rc.max_pos = tu_int(0, 3) == 0 ? tu_int(1, 3) : tu_int(1, 600);
    if (c.rc.max_pos * H > 16384) c.rc.max_pos = 16384 / H; /* bounds the cache: time goes to filling it */
    c.in_place = tu_int(0, 3) == 0;
    c.x_gap = tu_int(0, 3) == 0 ? tu_int(1, 9) : 0;
    c.y_gap = tu_int(0, 3) == 0 ? tu_int(1, 9) : 0;
    return c;
}

/* Every even r for a few head sizes, both layouts, the dtypes taking turns. */
static void rotation_sweep(void) {
    static const int64_t sizes[] = {2, 6, 10, 34, 98, 130, 254};
    int turn = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        for (int64_t r = 2; r <= sizes[i]; r += 2)
            for (int il = 0; il < 2; il++) {
                onnx_case c = base_case(turn % 2 ? 3 : 4, 1, 2, 2, sizes[i]);
                c.rc.rot = r, c.rc.interleaved = il, c.dt = dtypes[turn++ % 3];
                c.use_ids = turn % 5 != 0, c.rc.max_pos = 7;
                run_case(&c);
            }
}

/* Empty tensors (batch, seq, heads or head_size 0): nothing to do, nothing written, even with NULL
 * data. */
static void empty_cases(void) {
    const int64_t shapes[][4] = {{0, 3, 2, 8}, {2, 0, 2, 8}, {2, 3, 0, 8}, {0, 0, 0, 8}, {2, 3, 2, 0}};
    for (int s = 0; s < 5; s++)
        for (int rank = 3; rank <= 4; rank++)
            for (int null_data = 0; null_data < 2; null_data++)
                for (int ids = 0; ids < 2; ids++) {
                    if (rank == 3 && shapes[s][2] == 0) continue; /* 3-D needs num_heads > 0 */
                    onnx_case c = base_case(rank, shapes[s][0], shapes[s][1], shapes[s][2], shapes[s][3]);
                    c.null_data = null_data, c.use_ids = ids, c.rc.max_pos = 4, c.dt = dtypes[s % 3];
                    run_case(&c);
                }
}

/* Strided rows, spelled out: X and Y with row_stride > row (one or both), 3-D and 4-D, in place
 * and not. The random cases meet them too, but not every combination for sure. */
static void strided_cases(void) {
    static const int64_t gaps[][2] = {{3, 0}, {0, 5}, {8, 8}, {1, 13}};
    int turn = 0;
    for (int rank = 3; rank <= 4; rank++)
        for (int in_place = 0; in_place < 2; in_place++)
            for (int g = 0; g < 4; g++)
                for (int d = 0; d < 3; d++) {
                    if (in_place && gaps[g][0] == 0) continue; /* in place, Y's stride is X's */
                    onnx_case c = base_case(rank, 2, 5, 3, 10);
                    c.dt = dtypes[d], c.in_place = in_place, c.x_gap = gaps[g][0], c.y_gap = gaps[g][1];
                    c.rc.rot = turn % 3 ? 6 : 0, c.rc.interleaved = turn % 2, c.use_ids = turn++ % 4 != 0;
                    c.rc.max_pos = 9;
                    run_case(&c);
                }
}

/* Long sequences reading a long cache at random places. */
static void many_positions(void) {
    for (int i = 0; i < 6; i++) {
        onnx_case c = base_case(3 + i % 2, 2, 300, 1, 8 + 16 * i);
        c.dt = dtypes[i % 3], c.use_ids = 1, c.rc.max_pos = 4096, c.rc.interleaved = i % 2;
        run_case(&c);
    }
    onnx_case c = base_case(4, 1, 500, 2, 6); /* seq far beyond max_pos */
    c.use_ids = 1, c.rc.max_pos = 5, c.dt = ROPE_BF16;
    run_case(&c);
    /* Large enough (several hundred KiB) for a context to split the work between its threads. */
    c = base_case(4, 2, 8, 96, 64); /* heads 24 KiB apart */
    c.use_ids = 1, c.rc.max_pos = 200, c.rc.rot = 48;
    run_case(&c);
    c = base_case(3, 4, 160, 8, 64);
    c.dt = ROPE_F16, c.rc.interleaved = 1, c.x_gap = 8, c.y_gap = 3;
    run_case(&c);
    c = base_case(4, 1, 16, 128, 80);
    c.dt = ROPE_BF16, c.in_place = 1, c.use_ids = 1, c.rc.max_pos = 128;
    run_case(&c);
}

static tu_contexts tcs;
static void make_contexts(void) { /* the scalar single-thread context first: the reference */
    tu_contexts_make(&tcs);
    for (int i = 0; i < tcs.n; i++) ctxs[n_ctx] = tcs.ctx[i], ctx_names[n_ctx++] = tcs.name[i];
    ctxs[n_ctx] = NULL;
    ctx_names[n_ctx++] = "the default context";
}

int main(void) {
    tu_seed(2024);
    make_contexts();
    rotation_sweep();
    empty_cases();
    many_positions();
    strided_cases();
    for (int i = 0; i < 600; i++) {
        onnx_case c = random_case();
        run_case(&c);
    }
    tu_contexts_free(&tcs);
    return tu_finish();
}
