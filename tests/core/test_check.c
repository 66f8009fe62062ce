/* SPDX-License-Identifier: MIT */
/* The validation helpers of src/core/check.h: the overlap test against a byte-marking oracle, the
 * in-place rule, and the exact wording of every message (the public errors are built from them). */
#include <string.h>

#include "core/check.h"
#include "harness.h"

/* ---- rope_regions_overlap against brute force ---------------------------------------------------- */

enum { ARENA = 1 << 16 };
static char arena[ARENA];
static unsigned char marks[ARENA];

static size_t span(const rope_region *r) { return r->rows ? (r->rows - 1) * r->stride_bytes + r->row_bytes : 0; }

/* 1 when a byte of `a` is a byte of `b`, by marking a's bytes. */
static int oracle(const rope_region *a, const rope_region *b) {
    if (!a->base || !b->base) return 0;
    memset(marks, 0, sizeof marks);
    for (size_t i = 0; i < a->rows; i++)
        for (size_t j = 0; j < a->row_bytes; j++) marks[(size_t)(a->base - arena) + i * a->stride_bytes + j] = 1;
    for (size_t i = 0; i < b->rows; i++)
        for (size_t j = 0; j < b->row_bytes; j++)
            if (marks[(size_t)(b->base - arena) + i * b->stride_bytes + j]) return 1;
    return 0;
}

/* 1 when the address ranges [base, base + span) meet (what the helper promises for unequal strides). */
static int spans_meet(const rope_region *a, const rope_region *b) {
    size_t sa = span(a), sb = span(b);
    if (!a->base || !b->base || sa == 0 || sb == 0 || a->row_bytes == 0 || b->row_bytes == 0) return 0;
    return a->base < b->base + sb && b->base < a->base + sa;
}

/* A random region of `rows` rows of at most `stride` bytes, placed anywhere it fits. */
static rope_region place(size_t rows, size_t row_bytes, size_t stride) {
    rope_region r = {NULL, rows, row_bytes, stride};
    size_t s = span(&r);
    r.base = arena + tu_int(0, (int64_t)(ARENA - s - 1));
    return r;
}

typedef struct tally {
    const char *what;
    long bad, total;
} tally;

static void judge(tally *t, const rope_region *a, const rope_region *b, int got, int want) {
    t->total++;
    if (got == want) return;
    if (t->bad++ < 5)
        fprintf(stderr,
                "  %s: a @%td rows %zu row %zu stride %zu, b @%td rows %zu row %zu stride %zu: got %d, want %d\n",
                t->what, a->base - arena, a->rows, a->row_bytes, a->stride_bytes, b->base - arena, b->rows,
                b->row_bytes, b->stride_bytes, got, want);
}

static void overlap_random(void) {
    tally eq = {"equal strides vs bytes", 0, 0}, sym = {"symmetry", 0, 0};
    tally ne = {"unequal strides vs spans", 0, 0}, miss = {"unequal strides: a real overlap missed", 0, 0};
    long hits = 0;
    tu_seed(11);
    for (int n = 0; n < 60000; n++) {
        /* Same stride, rows no wider than it (as every tensor region is), the two regions close
         * together so both signs of their distance and every phase within a stride occur. */
        size_t s = (size_t)tu_int(1, 64);
        size_t ra = (size_t)tu_int(0, 12), rb = (size_t)tu_int(0, 12);
        rope_region a = place(ra, (size_t)tu_int(0, (int64_t)s), s);
        rope_region b = a;
        b.rows = rb;
        b.row_bytes = (size_t)tu_int(0, (int64_t)s);
        int64_t lo = -(int64_t)(rb * s + s), hi = (int64_t)(ra * s + s);
        int64_t off = (a.base - arena) + tu_int(lo, hi);
        if (off < 0 || off + (int64_t)span(&b) >= ARENA) continue;
        b.base = arena + off;
        int want = oracle(&a, &b);
        hits += want;
        judge(&eq, &a, &b, rope_regions_overlap(&a, &b), want);
        judge(&sym, &b, &a, rope_regions_overlap(&b, &a), want);
    }
    for (int n = 0; n < 20000; n++) {
        size_t sa = (size_t)tu_int(1, 48), sb = (size_t)tu_int(1, 48);
        rope_region a = place((size_t)tu_int(0, 10), (size_t)tu_int(0, (int64_t)sa), sa);
        rope_region b = a;
        b.rows = (size_t)tu_int(0, 10), b.row_bytes = (size_t)tu_int(0, (int64_t)sb), b.stride_bytes = sb;
        int64_t off = (a.base - arena) + tu_int(-500, 500);
        if (off < 0 || off + (int64_t)span(&b) >= ARENA) continue;
        b.base = arena + off;
        int got = rope_regions_overlap(&a, &b);
        judge(&ne, &a, &b, got, sa == sb ? oracle(&a, &b) : spans_meet(&a, &b));
        judge(&miss, &a, &b, got || !oracle(&a, &b), 1);
    }
    /* Far apart with many rows: the row pairing must come from the distance, not a scan. */
    tally far = {"many rows, large distances", 0, 0};
    for (int n = 0; n < 300; n++) {
        size_t s = (size_t)tu_int(16, 64);
        rope_region a = place((size_t)tu_int(1, 400), (size_t)tu_int(1, (int64_t)s), s);
        rope_region b = a;
        b.rows = (size_t)tu_int(1, 400), b.row_bytes = (size_t)tu_int(1, (int64_t)s);
        int64_t off = tu_int(0, ARENA - 1 - (int64_t)span(&b));
        b.base = arena + off;
        judge(&far, &a, &b, rope_regions_overlap(&a, &b), oracle(&a, &b));
    }
    CHECK(eq.bad == 0, "%s: %ld of %ld wrong", eq.what, eq.bad, eq.total);
    CHECK(sym.bad == 0, "%s: %ld of %ld wrong", sym.what, sym.bad, sym.total);
    CHECK(ne.bad == 0, "%s: %ld of %ld wrong", ne.what, ne.bad, ne.total);
    CHECK(miss.bad == 0, "%s: %ld of %ld wrong", miss.what, miss.bad, miss.total);
    CHECK(far.bad == 0, "%s: %ld of %ld wrong", far.what, far.bad, far.total);
    /* The draw must produce both answers in quantity, or it proves little. */
    CHECK(eq.total > 40000 && hits > eq.total / 5 && hits < eq.total * 4 / 5, "%ld overlapping of %ld drawn", hits,
          eq.total);
}

/* The layouts the front ends meet: q, k, v rows interleaved in one fused buffer. */
static void overlap_fused(void) {
    enum { ROW = 64, STRIDE = 3 * ROW, ROWS = 10 };
    rope_region q = {arena, ROWS, ROW, STRIDE}, k = {arena + ROW, ROWS, ROW, STRIDE};
    rope_region v = {arena + 2 * ROW, ROWS, ROW, STRIDE};
    CHECK(!rope_regions_overlap(&q, &k) && !rope_regions_overlap(&k, &v) && !rope_regions_overlap(&q, &v),
          "q, k, v of a fused buffer are disjoint");
    rope_region k1 = {arena + ROW - 1, ROWS, ROW, STRIDE}, v1 = {arena + 2 * ROW + 1, ROWS, ROW, STRIDE};
    CHECK(rope_regions_overlap(&q, &k1) && rope_regions_overlap(&k1, &q), "one shared byte at a row's end");
    CHECK(rope_regions_overlap(&v1, &q), "v shifted by one byte reaches the next q row");
    rope_region none = {NULL, ROWS, ROW, STRIDE}, empty = {arena, 0, ROW, STRIDE}, thin = {arena, ROWS, 0, STRIDE};
    CHECK(!rope_regions_overlap(&none, &q) && !rope_regions_overlap(&q, &none), "NULL base overlaps nothing");
    CHECK(!rope_regions_overlap(&empty, &q) && !rope_regions_overlap(&thin, &q), "empty regions overlap nothing");
    CHECK(rope_regions_overlap(&q, &q), "a region overlaps itself");
}

/* ---- messages -------------------------------------------------------------------------------------- */

#define W "test_where"
#define MSG_IS(text) (strcmp(rope_last_error(), W ": " text) == 0)

static void in_place_rule(void) {
    rope_region x = {arena, 4, 32, 32}, y = x;
    CHECK(rope_check_in_place(W, "Y", &y, "X", &x) == ROPE_OK, "exactly X: in place");
    y.base = arena + 128;
    CHECK(rope_check_in_place(W, "Y", &y, "X", &x) == ROPE_OK, "disjoint: fine");
    y.base = arena + 16;
    CHECK(rope_check_in_place(W, "Y", &y, "X", &x) == ROPE_ERROR_ALIASING &&
              MSG_IS("Y partially overlaps X: it must be exactly X (in place, same row_stride) or disjoint"),
          "%s", rope_last_error());
    rope_region wide = {arena, 4, 32, 64}; /* same start, another stride */
    CHECK(rope_check_in_place(W, "Y", &wide, "X", &x) == ROPE_ERROR_ALIASING, "same base, other stride");
    rope_region fewer = {arena, 3, 32, 32}, shorter = {arena, 4, 30, 32};
    CHECK(rope_check_in_place(W, "Y", &fewer, "X", &x) == ROPE_ERROR_ALIASING, "same base, fewer rows");
    CHECK(rope_check_in_place(W, "Y", &shorter, "X", &x) == ROPE_ERROR_ALIASING, "same base, shorter rows");
    rope_region gap = {arena + 32, 4, 32, 64}, x2 = {arena, 4, 32, 64};
    CHECK(rope_check_in_place(W, "Y", &gap, "X", &x2) == ROPE_OK, "Y in X's row gaps is disjoint");
    CHECK(rope_check_disjoint(W, "Y", &x, "cos_cache", &x) == ROPE_ERROR_ALIASING &&
              MSG_IS("Y overlaps cos_cache: expected disjoint memory"),
          "%s", rope_last_error());
    CHECK(rope_check_disjoint(W, "Y", &gap, "cos_cache", &x2) == ROPE_OK, "disjoint");
}

static void tensor_messages(void) {
    static const rope_dtype three[] = {ROPE_F32, ROPE_F16, ROPE_BF16}, two[] = {ROPE_I32, ROPE_U32};
    rope_tensor t = {arena, ROPE_F16, 3, {2, 3, 5}, 0};
    char buf[200];
    CHECK(rope_check_tensor(W, "X", NULL) == ROPE_ERROR_NULL_ARGUMENT && MSG_IS("X is NULL"), "%s",
          rope_last_error());
    t.rank = 9;
    CHECK(rope_check_tensor(W, "X", &t) == ROPE_ERROR_RANK && MSG_IS("X rank: expected 0..8, found 9"), "%s",
          rope_last_error());
    t.rank = -1;
    CHECK(rope_check_tensor(W, "X", &t) == ROPE_ERROR_RANK, "%s", rope_last_error());
    t.rank = 3, t.dims[1] = -3;
    CHECK(rope_check_tensor(W, "X", &t) == ROPE_ERROR_SHAPE && MSG_IS("X dim 1: expected >= 0, found -3"), "%s",
          rope_last_error());
    t.dims[1] = INT64_MAX / 2;
    CHECK(rope_check_tensor(W, "X", &t) == ROPE_ERROR_SHAPE &&
              MSG_IS("X shape [2,4611686018427387903,5]: element count overflows"),
          "%s", rope_last_error());
    t.dims[1] = 3;
    CHECK(rope_check_tensor(W, "X", &t) == ROPE_OK, "valid tensor");
    /* A success leaves the last message alone. */
    CHECK(MSG_IS("X shape [2,4611686018427387903,5]: element count overflows"), "%s", rope_last_error());
    /* The limit: element counts below 2^59 (any byte count then fits a ptrdiff_t 16 times over). */
    rope_tensor big = {NULL, ROPE_F32, 2, {(int64_t)1 << 30, (int64_t)1 << 29}, 0};
    CHECK(rope_check_tensor(W, "B", &big) == ROPE_ERROR_SHAPE, "2^59 elements: %s", rope_last_error());
    big.dims[1] = ((int64_t)1 << 29) - 1;
    CHECK(rope_check_tensor(W, "B", &big) == ROPE_OK, "2^59 - 2^30 elements: %s", rope_last_error());
    big.dims[1] = 0, big.dims[0] = INT64_MAX; /* an empty tensor never overflows */
    CHECK(rope_check_tensor(W, "B", &big) == ROPE_OK, "[INT64_MAX, 0]: %s", rope_last_error());

    t.dtype = ROPE_I64;
    CHECK(rope_check_dtype(W, "X", &t, three, 3) == ROPE_ERROR_DTYPE &&
              MSG_IS("X dtype: expected f32, f16 or bf16, found i64"),
          "%s", rope_last_error());
    CHECK(rope_check_dtype(W, "seqlen", &t, two, 2) == ROPE_ERROR_DTYPE &&
              MSG_IS("seqlen dtype: expected i32 or u32, found i64"),
          "%s", rope_last_error());
    CHECK(rope_check_dtype(W, "ids", &t, two + 1, 1) == ROPE_ERROR_DTYPE &&
              MSG_IS("ids dtype: expected u32, found i64"),
          "%s", rope_last_error());
    t.dtype = (rope_dtype)77;
    CHECK(rope_check_dtype(W, "X", &t, three, 3) == ROPE_ERROR_DTYPE &&
              MSG_IS("X dtype: expected f32, f16 or bf16, found invalid"),
          "%s", rope_last_error());
    t.dtype = ROPE_BF16;
    CHECK(rope_check_dtype(W, "X", &t, three, 3) == ROPE_OK, "bf16 is listed");
    CHECK(rope_check_same_dtype(W, "sin", &t, ROPE_F32, "same as X") == ROPE_ERROR_DTYPE &&
              MSG_IS("sin dtype: expected f32 (same as X), found bf16"),
          "%s", rope_last_error());
    CHECK(rope_check_rank(W, "X", &t, 4, 2, "why") == ROPE_ERROR_RANK &&
              MSG_IS("X rank: expected 4 or 2 (why), found 3"),
          "%s", rope_last_error());
    CHECK(rope_check_rank(W, "X", &t, 2, 0, "[a, b]") == ROPE_ERROR_RANK &&
              MSG_IS("X rank: expected 2 ([a, b]), found 3"),
          "%s", rope_last_error());
    CHECK(rope_check_rank(W, "X", &t, 4, 3, "why") == ROPE_OK, "alt rank accepted");
    CHECK(rope_check_dim(W, "cos", &t, 2, 4, "r/2") == ROPE_ERROR_SHAPE &&
              MSG_IS("cos dim 2: expected 4 (r/2), found 5"),
          "%s", rope_last_error());
    CHECK(rope_check_dim(W, "cos", &t, 2, 5, "r/2") == ROPE_OK, "matching dim");
    rope_tensor u = t;
    u.dims[2] = 6;
    CHECK(rope_check_same_shape(W, "cos", &t, "sin", &u) == ROPE_ERROR_SHAPE &&
              MSG_IS("sin shape: expected [2,3,5] (same as cos), found [2,3,6]"),
          "%s", rope_last_error());
    u.dims[2] = 5, u.rank = 2;
    CHECK(rope_check_same_shape(W, "cos", &t, "sin", &u) == ROPE_ERROR_SHAPE, "rank differs: %s", rope_last_error());
    u.rank = 3;
    CHECK(rope_check_same_shape(W, "cos", &t, "sin", &u) == ROPE_OK, "same shape");

    int64_t st = -1;
    CHECK(rope_check_row_stride(W, "X", &t, 5, &st) == ROPE_OK && st == 5, "dense: stride %lld", (long long)st);
    t.row_stride = 5;
    CHECK(rope_check_row_stride(W, "X", &t, 5, &st) == ROPE_OK && st == 5, "explicit dense");
    t.row_stride = 9;
    CHECK(rope_check_row_stride(W, "X", &t, 5, &st) == ROPE_OK && st == 9, "wider stride");
    t.row_stride = 4;
    CHECK(rope_check_row_stride(W, "X", &t, 5, &st) == ROPE_ERROR_STRIDE &&
              MSG_IS("X row_stride: expected 0 (dense) or >= 5 (its row), found 4"),
          "%s", rope_last_error());
    t.row_stride = -7;
    CHECK(rope_check_row_stride(W, "X", &t, 5, &st) == ROPE_ERROR_STRIDE, "negative stride: %s", rope_last_error());
    t.row_stride = INT64_MAX / 4;
    CHECK(rope_check_row_stride(W, "X", &t, 5, &st) == ROPE_ERROR_STRIDE && strstr(rope_last_error(), "overflows"),
          "huge stride: %s", rope_last_error());
    t.row_stride = 6;
    CHECK(rope_check_dense(W, "cos", &t) == ROPE_ERROR_STRIDE &&
              MSG_IS("cos row_stride: expected 0 (only dense is accepted), found 6"),
          "%s", rope_last_error());
    t.row_stride = 5;
    CHECK(rope_check_dense(W, "cos", &t) == ROPE_OK, "stride equal to the last dim is dense");
    t.data = NULL;
    CHECK(rope_check_data(W, "X", &t) == ROPE_ERROR_NULL_ARGUMENT && MSG_IS("X data is NULL"), "%s",
          rope_last_error());
    t.dims[0] = 0;
    CHECK(rope_check_data(W, "X", &t) == ROPE_OK, "no elements: NULL data is fine");

    rope_tensor r8 = {NULL, ROPE_F32, 8, {1, 22, 333, 4444, 55555, 666666, 7777777, 88888888}, 0};
    const char *full = "[1,22,333,4444,55555,666666,7777777,88888888]";
    CHECK(strcmp(rope_shape_str(&r8, buf, sizeof buf), full) == 0, "%s", buf);
    int prefix_ok = 1;
    for (size_t n = 1; n < strlen(full) + 3; n++) { /* truncates, always terminated, never overruns */
        char small[64];
        memset(small, 'z', sizeof small);
        rope_shape_str(&r8, small, n);
        prefix_ok &= memchr(small, '\0', n) != NULL && strncmp(small, full, strlen(small)) == 0 && small[n] == 'z';
    }
    CHECK(prefix_ok, "rope_shape_str with a short buffer");
    rope_tensor r0 = {NULL, ROPE_F32, 0, {0}, 0};
    CHECK(strcmp(rope_shape_str(&r0, buf, sizeof buf), "[]") == 0, "rank 0: %s", buf);

    rope_tensor g = {arena, ROPE_F16, 3, {2, 3, 5}, 8};
    rope_region rg = rope_region_of(&g, 5, 8);
    CHECK(rg.base == arena && rg.rows == 6 && rg.row_bytes == 10 && rg.stride_bytes == 16, "region of f16 [2,3,5]");
}

int main(void) {
    overlap_random();
    overlap_fused();
    in_place_rule();
    tensor_messages();
    return tu_finish();
}
