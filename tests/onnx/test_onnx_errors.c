/* SPDX-License-Identifier: MIT */
/* One test per rejection of the ONNX operator: the distinct status, a message naming the argument,
 * the dimension, what was expected and what was found, and not one byte of memory written. Shape
 * inference must reject the same descriptors (data NULL) with the same status. */
#include <string.h>

#include "harness.h"
#include "rope.h"

enum { B = 2, N = 3, S = 4, H = 8, MAXPOS = 16, NX = B * N * S * H };

/* Every tensor lives in one arena, so outputs can be placed over inputs; offsets in bytes. */
enum { X_AT = 0, Y_AT = 1024, COS_AT = 2048, SIN_AT = 2560, IDS_AT = 3072, ARENA = 8192 };
static int64_t arena_storage[ARENA / 8];
static char *const arena = (char *)arena_storage;
static char snapshot[ARENA];

typedef struct call {
    rope_onnx_attrs a;
    rope_tensor x, c, s, i, y;
    int null_x, null_c, null_s, null_i, null_y;
} call;

static call valid(void) {
    call k;
    memset(&k, 0, sizeof k);
    k.x = (rope_tensor){arena + X_AT, ROPE_F32, 4, {B, N, S, H}, 0};
    k.y = (rope_tensor){arena + Y_AT, ROPE_F32, 4, {B, N, S, H}, 0};
    k.c = (rope_tensor){arena + COS_AT, ROPE_F32, 2, {MAXPOS, H / 2}, 0};
    k.s = (rope_tensor){arena + SIN_AT, ROPE_F32, 2, {MAXPOS, H / 2}, 0};
    k.i = (rope_tensor){arena + IDS_AT, ROPE_I64, 2, {B, S}, 0};
    return k;
}

/* The valid call without position ids: a 3-D cache [batch, seq, r/2]. */
static call valid_no_ids(void) {
    call k = valid();
    k.null_i = 1;
    k.c.rank = k.s.rank = 3;
    k.c.dims[0] = k.s.dims[0] = B, k.c.dims[1] = k.s.dims[1] = S, k.c.dims[2] = k.s.dims[2] = H / 2;
    return k;
}

/* The valid call with a 3-D X [batch, seq, heads * head_size]. */
static call valid_3d(void) {
    call k = valid();
    k.a.num_heads = N;
    k.x.rank = k.y.rank = 3;
    k.x.dims[1] = k.y.dims[1] = S, k.x.dims[2] = k.y.dims[2] = N * H;
    return k;
}

static void fill_arena(void) {
    float *f = (float *)arena;
    for (int i = 0; i < ARENA / 4; i++) f[i] = 0.25f * (float)(i % 13) - 1.0f;
    int64_t *ids = (int64_t *)(arena + IDS_AT);
    for (int i = 0; i < B * S; i++) ids[i] = (i * 5) % MAXPOS;
}

static rope_status run(const call *k) {
    return rope_onnx_rotary_embedding(NULL, &k->a, k->null_x ? NULL : &k->x, k->null_c ? NULL : &k->c,
                                      k->null_s ? NULL : &k->s, k->null_i ? NULL : &k->i, k->null_y ? NULL : &k->y);
}

/* rope_onnx_infer on the same descriptors with every data pointer NULL. */
static rope_status infer(const call *k, rope_tensor *out) {
    call d = *k;
    d.x.data = d.c.data = d.s.data = d.i.data = NULL;
    return rope_onnx_infer(&d.a, d.null_x ? NULL : &d.x, d.null_c ? NULL : &d.c, d.null_s ? NULL : &d.s,
                           d.null_i ? NULL : &d.i, out);
}

enum { ONE_SHOT = 0, ALSO_INFER = 1 };

/* Runs `k`: expects `want`, the message "rope_onnx_rotary_embedding: ..." holding every given
 * substring, and the arena unchanged. With ALSO_INFER, inference must give the same status, name
 * the same argument (n1) and leave its output alone. */
static void expect(const char *what, const call *k, rope_status want, int also_infer, const char *n1,
                   const char *n2, const char *n3) {
    fill_arena();
    memcpy(snapshot, arena, ARENA);
    rope_status st = run(k);
    const char *m = rope_last_error();
    CHECK(st == want, "%s: status %d, expected %d (%s)", what, (int)st, (int)want, m);
    CHECK(strstr(m, "rope_onnx_rotary_embedding: ") == m, "%s: message lacks the function: %s", what, m);
    const char *needles[3] = {n1, n2, n3};
    for (int i = 0; i < 3; i++)
        if (needles[i]) CHECK(strstr(m, needles[i]) != NULL, "%s: message lacks '%s': %s", what, needles[i], m);
    CHECK(memcmp(snapshot, arena, ARENA) == 0, "%s: memory was written", what);
    if (!also_infer) return;
    rope_tensor out, before;
    memset(&out, 0x5a, sizeof out);
    before = out;
    st = infer(k, &out);
    m = rope_last_error();
    CHECK(st == want, "%s: rope_onnx_infer gave %d, expected %d (%s)", what, (int)st, (int)want, m);
    CHECK(strstr(m, "rope_onnx_infer: ") == m && (!n1 || strstr(m, n1)), "%s: infer message: %s", what, m);
    CHECK(memcmp(&out, &before, sizeof out) == 0, "%s: infer wrote y_out on failure", what);
}

static void baseline(void) {
    call k = valid();
    fill_arena();
    CHECK(run(&k) == ROPE_OK, "the valid call: %s", rope_last_error());
    k = valid_no_ids();
    CHECK(run(&k) == ROPE_OK, "the valid call without ids: %s", rope_last_error());
    k = valid_3d();
    CHECK(run(&k) == ROPE_OK, "the valid 3-D call: %s", rope_last_error());
    k = valid(), k.y = k.x; /* in place */
    CHECK(run(&k) == ROPE_OK, "in place: %s", rope_last_error());
}

static void null_arguments(void) {
    call k = valid();
    k.null_x = 1;
    expect("X NULL", &k, ROPE_ERROR_NULL_ARGUMENT, ALSO_INFER, "X is NULL", NULL, NULL);
    k = valid(), k.null_c = 1;
    expect("cos NULL", &k, ROPE_ERROR_NULL_ARGUMENT, ALSO_INFER, "cos_cache is NULL", NULL, NULL);
    k = valid(), k.null_s = 1;
    expect("sin NULL", &k, ROPE_ERROR_NULL_ARGUMENT, ALSO_INFER, "sin_cache is NULL", NULL, NULL);
    k = valid(), k.null_y = 1;
    expect("Y NULL", &k, ROPE_ERROR_NULL_ARGUMENT, ONE_SHOT, "Y is NULL", NULL, NULL);
    k = valid(), k.null_i = 1; /* absent ids need the 3-D cache */
    expect("ids NULL with a 2-D cache", &k, ROPE_ERROR_RANK, ALSO_INFER, "cos_cache rank", "expected 3", "found 2");
    k = valid(), k.x.data = NULL;
    expect("X data NULL", &k, ROPE_ERROR_NULL_ARGUMENT, ONE_SHOT, "X data is NULL", NULL, NULL);
    k = valid(), k.c.data = NULL;
    expect("cos data NULL", &k, ROPE_ERROR_NULL_ARGUMENT, ONE_SHOT, "cos_cache data is NULL", NULL, NULL);
    k = valid(), k.s.data = NULL;
    expect("sin data NULL", &k, ROPE_ERROR_NULL_ARGUMENT, ONE_SHOT, "sin_cache data is NULL", NULL, NULL);
    k = valid(), k.i.data = NULL;
    expect("ids data NULL", &k, ROPE_ERROR_NULL_ARGUMENT, ONE_SHOT, "position_ids data is NULL", NULL, NULL);
    k = valid(), k.y.data = NULL;
    expect("Y data NULL", &k, ROPE_ERROR_NULL_ARGUMENT, ONE_SHOT, "Y data is NULL", NULL, NULL);
    k = valid();
    CHECK(rope_onnx_infer(&k.a, &k.x, &k.c, &k.s, &k.i, NULL) == ROPE_ERROR_NULL_ARGUMENT &&
              strstr(rope_last_error(), "y_out"),
          "infer with y_out NULL: %s", rope_last_error());
}

static void x_errors(void) {
    const rope_dtype bad[] = {ROPE_I64, ROPE_I32, ROPE_U32};
    for (int i = 0; i < 3; i++) {
        call k = valid();
        k.x.dtype = k.y.dtype = bad[i];
        char found[32];
        snprintf(found, sizeof found, "found %s", rope_dtype_name(bad[i]));
        expect("X dtype", &k, ROPE_ERROR_DTYPE, ALSO_INFER, "X dtype", "expected f32, f16 or bf16", found);
    }
    call k = valid();
    k.x.dtype = (rope_dtype)42;
    expect("X dtype 42", &k, ROPE_ERROR_DTYPE, ALSO_INFER, "X dtype", "found invalid", NULL);
    k = valid(), k.x.rank = k.y.rank = 2;
    expect("X rank 2", &k, ROPE_ERROR_RANK, ALSO_INFER, "X rank", "expected 4 or 3", "found 2");
    k = valid(), k.x.rank = k.y.rank = 5, k.x.dims[4] = k.y.dims[4] = 1;
    expect("X rank 5", &k, ROPE_ERROR_RANK, ALSO_INFER, "X rank", "expected 4 or 3", "found 5");
    k = valid(), k.x.rank = 9;
    expect("X rank 9", &k, ROPE_ERROR_RANK, ALSO_INFER, "X rank", "found 9", NULL);
    k = valid(), k.x.dims[2] = k.y.dims[2] = -1;
    expect("X negative dim", &k, ROPE_ERROR_SHAPE, ALSO_INFER, "X dim 2", "expected >= 0", "found -1");
    k = valid(), k.c.dims[0] = -4;
    expect("cos negative dim", &k, ROPE_ERROR_SHAPE, ALSO_INFER, "cos_cache dim 0", "expected >= 0", "found -4");
    k = valid(), k.x.dims[0] = k.y.dims[0] = INT64_MAX / 4;
    expect("X element count overflows", &k, ROPE_ERROR_SHAPE, ALSO_INFER, "X shape", "overflows", NULL);
    k = valid(), k.x.dims[3] = k.y.dims[3] = 7;
    expect("odd head_size (4-D)", &k, ROPE_ERROR_SHAPE, ALSO_INFER, "head_size", "even", "found 7");
    k = valid_3d(), k.x.dims[2] = k.y.dims[2] = 21;
    expect("odd head_size (3-D, 21 / 3)", &k, ROPE_ERROR_SHAPE, ALSO_INFER, "head_size", "even", "found 7");
    k = valid(), k.x.row_stride = 5;
    expect("X row_stride 5 < 8", &k, ROPE_ERROR_STRIDE, ALSO_INFER, "X row_stride", ">= 8", "found 5");
    k = valid_3d(), k.x.row_stride = 20;
    expect("3-D X row_stride 20 < 24", &k, ROPE_ERROR_STRIDE, ALSO_INFER, "X row_stride", ">= 24", "found 20");
    k = valid(), k.x.row_stride = -8;
    expect("X row_stride -8", &k, ROPE_ERROR_STRIDE, ALSO_INFER, "X row_stride", "found -8", NULL);
    k = valid(), k.x.row_stride = INT64_MAX / 2;
    expect("X row_stride overflowing the extent", &k, ROPE_ERROR_STRIDE, ALSO_INFER, "X row_stride", "overflows",
           NULL);
}

static void attribute_errors(void) {
    call k = valid();
    k.a.interleaved = 4;
    expect("interleaved 4", &k, ROPE_ERROR_ATTRIBUTE, ALSO_INFER, "interleaved", "expected 0 or 1", "found 4");
    k.a.interleaved = 3, k.a.rotary_embedding_dim = 4, k.x.dims[3] = 5; /* split halves: an odd head is refused */
    expect("split with odd head_size", &k, ROPE_ERROR_SHAPE, ALSO_INFER, "head_size", "even", NULL);
    k = valid();
    k.a.interleaved = -1;
    expect("interleaved -1", &k, ROPE_ERROR_ATTRIBUTE, ALSO_INFER, "interleaved", "expected 0 or 1", "found -1");
    k = valid_3d(), k.a.num_heads = 0;
    expect("3-D without num_heads", &k, ROPE_ERROR_ATTRIBUTE, ALSO_INFER, "num_heads", "3-D", "found 0");
    k = valid_3d(), k.a.num_heads = -2;
    expect("3-D num_heads -2", &k, ROPE_ERROR_ATTRIBUTE, ALSO_INFER, "num_heads", "found -2", NULL);
    k = valid_3d(), k.a.num_heads = 5;
    expect("hidden 24 % num_heads 5", &k, ROPE_ERROR_SHAPE, ALSO_INFER, "X dim 2", "multiple of num_heads 5",
           "found 24");
    /* 4-D X ignores num_heads, but a negative one is outside the attribute's domain: whatever the
     * verdict, inference and the call must agree (rope.h: "Errors are exactly those ..."). */
    k = valid(), k.a.num_heads = -2;
    fill_arena();
    rope_status one = run(&k);
    rope_tensor out;
    rope_status inf = infer(&k, &out);
    CHECK(one == inf, "4-D X, num_heads -2: rope_onnx_rotary_embedding gives %d, rope_onnx_infer %d", (int)one,
          (int)inf);
    /* The attributes are checked before any tensor, by inference as by the call. */
    k = valid(), k.a.interleaved = 4, k.x.rank = 9;
    expect("interleaved 4 with X rank 9", &k, ROPE_ERROR_ATTRIBUTE, ALSO_INFER, "interleaved", "found 4", NULL);
    k = valid(), k.a.rotary_embedding_dim = 3;
    expect("r odd", &k, ROPE_ERROR_ATTRIBUTE, ALSO_INFER, "rotary_embedding_dim", "found 3", NULL);
    k = valid(), k.a.rotary_embedding_dim = 10;
    expect("r > head_size", &k, ROPE_ERROR_ATTRIBUTE, ALSO_INFER, "rotary_embedding_dim", "8", "found 10");
    k = valid(), k.a.rotary_embedding_dim = -2;
    expect("r negative", &k, ROPE_ERROR_ATTRIBUTE, ALSO_INFER, "rotary_embedding_dim", "found -2", NULL);
}

static void cache_errors(void) {
    call k = valid();
    k.c.dtype = ROPE_F16;
    expect("cos dtype", &k, ROPE_ERROR_DTYPE, ALSO_INFER, "cos_cache dtype", "expected f32", "found f16");
    k = valid(), k.s.dtype = ROPE_BF16;
    expect("sin dtype", &k, ROPE_ERROR_DTYPE, ALSO_INFER, "sin_cache dtype", "expected f32", "found bf16");
    k = valid(), k.s.dims[1] = 3;
    expect("sin shape", &k, ROPE_ERROR_SHAPE, ALSO_INFER, "sin_cache shape", "expected [16,4]", "found [16,3]");
    k = valid(), k.s.rank = 3, k.s.dims[2] = 1;
    expect("sin rank", &k, ROPE_ERROR_SHAPE, ALSO_INFER, "sin_cache shape", "found [16,4,1]", NULL);
    k = valid(), k.c.rank = k.s.rank = 3, k.c.dims[2] = k.s.dims[2] = 4;
    expect("3-D cache with ids", &k, ROPE_ERROR_RANK, ALSO_INFER, "cos_cache rank", "expected 2", "found 3");
    k = valid_no_ids(), k.c.rank = k.s.rank = 2;
    expect("2-D cache without ids", &k, ROPE_ERROR_RANK, ALSO_INFER, "cos_cache rank", "expected 3", "found 2");
    k = valid(), k.c.dims[1] = k.s.dims[1] = 3;
    expect("cache width with ids", &k, ROPE_ERROR_SHAPE, ALSO_INFER, "cos_cache dim 1", "expected 4", "found 3");
    k = valid(), k.a.rotary_embedding_dim = 4;
    expect("cache width with partial r", &k, ROPE_ERROR_SHAPE, ALSO_INFER, "cos_cache dim 1", "expected 2",
           "found 4");
    k = valid_no_ids(), k.c.dims[2] = k.s.dims[2] = 5;
    expect("cache width without ids", &k, ROPE_ERROR_SHAPE, ALSO_INFER, "cos_cache dim 2", "expected 4", "found 5");
    k = valid_no_ids(), k.c.dims[0] = k.s.dims[0] = 1;
    expect("cache batch without ids", &k, ROPE_ERROR_SHAPE, ALSO_INFER, "cos_cache dim 0", "expected 2", "found 1");
    k = valid_no_ids(), k.c.dims[1] = k.s.dims[1] = 5;
    expect("cache seq without ids", &k, ROPE_ERROR_SHAPE, ALSO_INFER, "cos_cache dim 1", "expected 4", "found 5");
    k = valid(), k.c.row_stride = 8;
    expect("cos not dense", &k, ROPE_ERROR_STRIDE, ALSO_INFER, "cos_cache row_stride", "dense", "found 8");
    k = valid(), k.s.row_stride = 6;
    expect("sin not dense", &k, ROPE_ERROR_STRIDE, ALSO_INFER, "sin_cache row_stride", "dense", "found 6");
}

static void ids_errors(void) {
    call k = valid();
    k.i.dtype = ROPE_I32;
    expect("ids i32", &k, ROPE_ERROR_DTYPE, ALSO_INFER, "position_ids dtype", "expected i64", "found i32");
    k = valid(), k.i.rank = 1, k.i.dims[0] = B * S;
    expect("ids rank 1", &k, ROPE_ERROR_RANK, ALSO_INFER, "position_ids rank", "expected 2", "found 1");
    k = valid(), k.i.rank = 3, k.i.dims[2] = 1;
    expect("ids rank 3", &k, ROPE_ERROR_RANK, ALSO_INFER, "position_ids rank", "expected 2", "found 3");
    k = valid(), k.i.rank = 0;
    expect("ids rank 0", &k, ROPE_ERROR_RANK, ONE_SHOT, "position_ids rank", "expected 2", "found 0");
    k = valid(), k.i.dims[0] = 3;
    expect("ids batch", &k, ROPE_ERROR_SHAPE, ALSO_INFER, "position_ids dim 0", "expected 2", "found 3");
    k = valid(), k.i.dims[1] = 5;
    expect("ids seq", &k, ROPE_ERROR_SHAPE, ALSO_INFER, "position_ids dim 1", "expected 4", "found 5");
    k = valid(), k.i.row_stride = 8;
    expect("ids not dense", &k, ROPE_ERROR_STRIDE, ALSO_INFER, "position_ids row_stride", "found 8", NULL);
    /* Values: the message names the index and the value. expect() refills the arena, so the bad
     * id is planted by a wrapper around it. */
    static const struct {
        int at;
        int64_t value;
        const char *where, *val;
    } bad[] = {{1 * S + 2, -1, "position_ids[1][2]", "= -1"},
               {0 * S + 3, MAXPOS, "position_ids[0][3]", "= 16"},
               {1 * S + 0, INT64_MIN, "position_ids[1][0]", "= -9223372036854775808"},
               {0 * S + 0, INT64_MAX, "position_ids[0][0]", "= 9223372036854775807"}};
    for (int i = 0; i < 4; i++) {
        fill_arena();
        ((int64_t *)(arena + IDS_AT))[bad[i].at] = bad[i].value;
        memcpy(snapshot, arena, ARENA);
        k = valid();
        rope_status st = run(&k);
        const char *m = rope_last_error();
        CHECK(st == ROPE_ERROR_INDEX && strstr(m, bad[i].where) && strstr(m, bad[i].val) && strstr(m, "[0, 16)"),
              "bad id %lld: status %d: %s", (long long)bad[i].value, (int)st, m);
        CHECK(memcmp(snapshot, arena, ARENA) == 0, "bad id %lld: memory was written", (long long)bad[i].value);
        rope_tensor out;
        CHECK(infer(&k, &out) == ROPE_OK, "infer does not read ids: %s", rope_last_error());
    }
}

static void y_errors(void) {
    call k = valid();
    k.y.dtype = ROPE_F16;
    expect("Y dtype", &k, ROPE_ERROR_DTYPE, ONE_SHOT, "Y dtype", "expected f32", "found f16");
    k = valid(), k.y.dims[3] = 6;
    expect("Y shape", &k, ROPE_ERROR_SHAPE, ONE_SHOT, "Y shape", "expected [2,3,4,8]", "found [2,3,4,6]");
    k = valid(), k.y.rank = 3;
    expect("Y rank", &k, ROPE_ERROR_SHAPE, ONE_SHOT, "Y shape", "found [2,3,4]", NULL);
    k = valid(), k.y.row_stride = 7;
    expect("Y row_stride 7 < 8", &k, ROPE_ERROR_STRIDE, ONE_SHOT, "Y row_stride", ">= 8", "found 7");
    k = valid(), k.y.data = arena + X_AT + 32;
    expect("Y partially over X", &k, ROPE_ERROR_ALIASING, ONE_SHOT, "Y partially overlaps X", NULL, NULL);
    k = valid(), k.y.data = arena + X_AT + 4 * NX - 4; /* one shared element */
    expect("Y sharing X's last element", &k, ROPE_ERROR_ALIASING, ONE_SHOT, "Y partially overlaps X", NULL, NULL);
    k = valid(), k.y.data = k.x.data, k.y.row_stride = 12;
    expect("Y at X with another stride", &k, ROPE_ERROR_ALIASING, ONE_SHOT, "Y partially overlaps X", NULL, NULL);
    k = valid(), k.y.data = arena + COS_AT - 400;
    expect("Y over cos", &k, ROPE_ERROR_ALIASING, ONE_SHOT, "Y overlaps cos_cache", NULL, NULL);
    k = valid(), k.y.data = arena + 2400;
    expect("Y over sin", &k, ROPE_ERROR_ALIASING, ONE_SHOT, "Y overlaps sin_cache", NULL, NULL);
    k = valid(), k.y.data = arena + 2816;
    expect("Y over position_ids", &k, ROPE_ERROR_ALIASING, ONE_SHOT, "Y overlaps position_ids", NULL, NULL);
    /* Y in X's row gaps is disjoint from X: fine. */
    k = valid(), k.x.row_stride = k.y.row_stride = 16, k.y.data = arena + X_AT + 32;
    fill_arena();
    CHECK(run(&k) == ROPE_OK, "Y between X's rows: %s", rope_last_error());
}

static void inference(void) {
    call k = valid();
    k.x.row_stride = 12; /* the inferred Y is dense whatever X's layout */
    rope_tensor out;
    memset(&out, 0x5a, sizeof out);
    CHECK(infer(&k, &out) == ROPE_OK, "%s", rope_last_error());
    CHECK(out.data == NULL && out.dtype == ROPE_F32 && out.rank == 4 && out.row_stride == 0, "inferred Y descriptor");
    CHECK(out.dims[0] == B && out.dims[1] == N && out.dims[2] == S && out.dims[3] == H, "inferred Y dims");
    const rope_dtype dts[] = {ROPE_F16, ROPE_BF16};
    for (int i = 0; i < 2; i++) {
        k = valid_3d();
        k.x.dtype = k.c.dtype = k.s.dtype = dts[i];
        CHECK(infer(&k, &out) == ROPE_OK && out.dtype == dts[i] && out.rank == 3 && out.dims[2] == N * H,
              "3-D %s: %s", rope_dtype_name(dts[i]), rope_last_error());
    }
    k = valid_no_ids();
    CHECK(rope_onnx_infer(NULL, &k.x, &k.c, &k.s, NULL, &out) == ROPE_OK, "NULL attributes: %s", rope_last_error());
}

int main(void) {
    baseline();
    null_arguments();
    x_errors();
    attribute_errors();
    cache_errors();
    ids_errors();
    y_errors();
    inference();
    return tu_finish();
}
