/* SPDX-License-Identifier: MIT */
/* TensorProto reading (raw_data and typed fields for every dtype, size checks, hostile bytes) and
 * writing (exact bytes, round trips, and the shared conformance files re-encoded byte for byte). */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <string.h>

#include "harness.h"
#include "file_io.h"
#include "tensor_proto.h"
#include "tensor_util.h"
#include "onnx_builder.h"

static diag err;

static int decode(const msg *b, tensor_proto *tp) { return tensor_proto_decode("t.pb", b->b, b->n, tp, &err); }

/* Decodes b and checks it is `dtype` [2,3] named "x" holding exactly `expect`. */
static void expect_tensor(const char *what, const msg *b, rope_dtype dtype, const void *expect) {
    tensor_proto tp;
    int r = decode(b, &tp);
    CHECK(r == 0, "%s: %s", what, err.text);
    if (r) return;
    CHECK(tp.t.dtype == dtype && tp.t.rank == 2 && tp.t.dims[0] == 2 && tp.t.dims[1] == 3 && tp.t.row_stride == 0,
          "%s: dtype %d rank %d", what, (int)tp.t.dtype, tp.t.rank);
    CHECK(!strcmp(tp.name, "x"), "%s: name '%s'", what, tp.name);
    CHECK(!memcmp(tp.t.data, expect, 6 * rope_dtype_size(dtype)), "%s: values differ", what);
    tensor_proto_free(&tp);
}

static void expect_error(const char *what, const msg *b, const char *needle) {
    tensor_proto tp;
    int r = decode(b, &tp);
    CHECK(r == -1 && strstr(err.text, needle), "%s: expected an error with '%s', got '%s'", what, needle,
          r ? err.text : "success");
    if (r == 0) tensor_proto_free(&tp);
    CHECK(tp.name == NULL && tp.t.data == NULL, "%s: failure left data behind", what);
}

static void put_le(uint8_t *dst, uint64_t v, size_t bytes) {
    for (size_t i = 0; i < bytes; i++) dst[i] = (uint8_t)(v >> (8 * i));
}

/* Element i of an array of es-byte elements, as an unsigned integer in host order. */
static uint64_t element_bits(const void *values, int i, size_t es) {
    const uint8_t *p = (const uint8_t *)values + (size_t)i * es;
    uint16_t a;
    uint32_t b;
    uint64_t c;
    if (es == 2) return memcpy(&a, p, 2), a;
    if (es == 4) return memcpy(&b, p, 4), b;
    return memcpy(&c, p, 8), c;
}

/* Builds [2,3] "x" of ONNX type `code` with n typed values in `field` (packed or not). */
static msg typed_n(int32_t code, uint32_t field, const uint64_t *v, int n, int packed, int fixed32) {
    msg t = {0}, payload = {0};
    msg_int(&t, 1, 2);
    msg_int(&t, 1, 3);
    msg_int(&t, 2, (uint64_t)(int64_t)code);
    msg_str(&t, 8, "x");
    for (int i = 0; i < n; i++) {
        if (packed) {
            if (fixed32) msg_le(&payload, v[i], 4);
            else msg_varint(&payload, v[i]);
        } else if (fixed32) {
            msg_fixed32(&t, field, (uint32_t)v[i]);
        } else {
            msg_int(&t, field, v[i]);
        }
    }
    if (packed) msg_bytes(&t, field, payload.b, payload.n);
    msg_free(&payload);
    return t;
}

static msg typed(int32_t code, uint32_t field, const uint64_t *v, int packed, int fixed32) {
    return typed_n(code, field, v, 6, packed, fixed32);
}

static void test_each_dtype(void) {
    const float f[6] = {1.5f, -2.25f, 0.0f, 3e-8f, -1e30f, 7.0f};
    const uint16_t h[6] = {0x3c00, 0xbc00, 0x0001, 0x7bff, 0x8000, 0x7e00};
    const int32_t i32[6] = {0, -1, 2147483647, -2147483647 - 1, 42, -42};
    const uint32_t u32[6] = {0, 1, 4294967295u, 2, 65536, 7};
    const int64_t i64[6] = {0, -1, INT64_MAX, INT64_MIN, 1ll << 40, -5};
    const int64_t dims[2] = {2, 3};
    const struct {
        int32_t code;
        rope_dtype dtype;
        const void *values;
        uint32_t field;
    } cases[] = {{1, ROPE_F32, f, 4},    {10, ROPE_F16, h, 5}, {16, ROPE_BF16, h, 5},
                 {6, ROPE_I32, i32, 5}, {12, ROPE_U32, u32, 11}, {7, ROPE_I64, i64, 7}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        size_t es = rope_dtype_size(cases[c].dtype);
        uint8_t raw[48];
        uint64_t wire[6];
        for (int i = 0; i < 6; i++) {
            wire[i] = element_bits(cases[c].values, i, es);
            put_le(raw + i * es, wire[i], es);
            if (cases[c].dtype == ROPE_I32) wire[i] = (uint64_t)(int64_t)i32[i]; /* int32 varints sign-extend */
        }
        char what[64];
        msg r = tensor_raw("x", cases[c].code, dims, 2, raw, 6 * es);
        snprintf(what, sizeof what, "raw %s", rope_dtype_name(cases[c].dtype));
        expect_tensor(what, &r, cases[c].dtype, cases[c].values);
        msg_free(&r);
        for (int packed = 0; packed < 2; packed++) {
            msg t = typed(cases[c].code, cases[c].field, wire, packed, cases[c].field == 4);
            snprintf(what, sizeof what, "%s typed %s", packed ? "packed" : "unpacked", rope_dtype_name(cases[c].dtype));
            expect_tensor(what, &t, cases[c].dtype, cases[c].values);
            msg_free(&t);
        }
    }
}

static void test_shapes_and_sizes(void) {
    const int64_t dims[2] = {2, 3}, zero[2] = {0, 3};
    float v[16] = {0};
    tensor_proto tp;
    msg scalar = tensor_raw("s", 1, NULL, 0, v, 4);
    CHECK(decode(&scalar, &tp) == 0 && tp.t.rank == 0, "scalar: %s", err.text);
    tensor_proto_free(&tp);
    msg empty = tensor_raw(NULL, 1, zero, 2, v, 0);
    CHECK(decode(&empty, &tp) == 0 && tp.t.dims[0] == 0 && tp.t.data && !strcmp(tp.name, ""), "empty: %s",
          err.text);
    tensor_proto_free(&tp);
    msg short_raw = tensor_raw("x", 1, dims, 2, v, 20), long_raw = tensor_raw("x", 1, dims, 2, v, 28);
    expect_error("short raw", &short_raw, "raw_data: has 20 bytes; dims [2,3] of FLOAT need 24");
    expect_error("long raw", &long_raw, "has 28 bytes");
    msg_free(&scalar);
    msg_free(&empty);
    msg_free(&short_raw);
    msg_free(&long_raw);

    uint64_t w[6] = {1, 2, 3, 4, 5, 6};
    msg few = typed_n(1, 4, w, 5, 1, 1), many = typed_n(7, 7, w, 6, 0, 0);
    msg_int(&many, 7, 9);
    expect_error("5 floats for 6", &few, "float_data has 5 values; dims [2,3] need 6");
    expect_error("7 int64 for 6", &many, "int64_data has 7 values; dims [2,3] need 6");
    msg_free(&few);
    msg_free(&many);

    msg both = typed(1, 4, w, 0, 1);
    msg_bytes(&both, 9, v, 24);
    expect_error("raw and typed", &both, "both raw_data and float_data");
    msg wrong_field = typed(1, 7, w, 0, 0);
    expect_error("int64_data on FLOAT", &wrong_field, "int64_data holds 6 values, but FLOAT tensors keep");
    uint64_t big[6] = {1, 2, 70000, 4, 5, 6};
    msg f16_big = typed(10, 5, big, 1, 0);
    expect_error("f16 pattern > 0xffff", &f16_big, "70000 is not a 16-bit pattern");
    uint64_t neg[6] = {1, (uint64_t)-1, 3, 4, 5, 6};
    msg f16_neg = typed(16, 5, neg, 0, 0);
    expect_error("negative bf16 pattern", &f16_neg, "-1 is not a 16-bit pattern");
    uint64_t huge[6] = {1, 2, 3, 1ull << 32, 5, 6};
    msg u32_big = typed(12, 11, huge, 0, 0);
    expect_error("u32 > 2^32-1", &u32_big, "4294967296 is not a uint32");
    msg i32_big = typed(6, 5, huge, 0, 0);
    expect_error("i32 > 2^31-1", &i32_big, "4294967296 is not an int32");
    msg_free(&both);
    msg_free(&wrong_field);
    msg_free(&f16_big);
    msg_free(&f16_neg);
    msg_free(&u32_big);
    msg_free(&i32_big);

    const int64_t neg_dim[2] = {2, -3}, rank9[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    msg nd = tensor_raw("x", 1, neg_dim, 2, v, 0), r9 = tensor_raw("x", 1, rank9, 9, v, 4);
    expect_error("negative dim", &nd, "dims[1] is -3");
    expect_error("rank 9", &r9, "more than 8 dims");
    const int64_t overflow[3] = {1ll << 40, 1ll << 40, 1ll << 40};
    msg of = tensor_raw("x", 1, overflow, 3, v, 4);
    expect_error("element count overflow", &of, "more elements than fit");
    msg_free(&nd);
    msg_free(&r9);
    msg_free(&of);

    const int32_t unsupported[] = {11, 2, 3, 4, 5, 8, 9, 13, 999};
    for (size_t i = 0; i < sizeof unsupported / sizeof unsupported[0]; i++) {
        msg u = tensor_raw("x", unsupported[i], dims, 2, v, 48);
        expect_error("unsupported dtype", &u, "unsupported data_type");
        msg_free(&u);
    }
    msg dbl = tensor_raw("x", 11, dims, 2, v, 48);
    expect_error("double", &dbl, "unsupported data_type DOUBLE (11)");
    msg_free(&dbl);
    msg none = {0};
    msg_int(&none, 1, 2);
    expect_error("no data_type", &none, "data_type is missing");
    msg_int(&none, 2, 1);
    expect_error("no payload", &none, "float_data has 0 values; dims [2] need 2");
    msg_fixed32(&none, 4, 0);
    msg_fixed32(&none, 4, 0);
    msg_int(&none, 14, 0); /* DEFAULT: fine */
    CHECK(decode(&none, &tp) == 0, "data_location 0: %s", err.text);
    tensor_proto_free(&tp);
    msg_int(&none, 14, 1);
    expect_error("external data", &none, "data_location 1: only data stored in the file is supported");
    msg_free(&none);
}

static int random_dims(int64_t *dims) {
    int rank = (int)tu_int(0, 4);
    for (int d = 0; d < rank; d++) dims[d] = tu_int(0, 5);
    return rank;
}

static void test_writer(void) {
    /* Exact bytes: dims unpacked, data_type, name, raw_data, as ONNX's own test data. */
    uint16_t h[2] = {0x3c00, 0xc000};
    rope_tensor t = {h, ROPE_F16, 1, {2}, 0};
    pb_buf out = {0};
    const uint8_t expect[] = {0x08, 0x02, 0x10, 0x0a, 0x42, 0x01, 'y', 0x4a, 0x04, 0x00, 0x3c, 0x00, 0xc0};
    CHECK(tensor_proto_encode(&t, "y", &out, &err) == 0 && out.len == sizeof expect &&
              !memcmp(out.data, expect, out.len),
          "encoded bytes differ (%zu bytes)", out.len);
    pb_buf_free(&out);
    rope_tensor strided = {h, ROPE_F16, 2, {1, 1}, 2};
    CHECK(tensor_proto_encode(&strided, "y", &out, &err) == -1 && strstr(err.text, "not dense"), "%s", err.text);
    pb_buf_free(&out);

    /* Round trips of random tensors of every dtype. */
    const rope_dtype dtypes[] = {ROPE_F32, ROPE_F16, ROPE_BF16, ROPE_I32, ROPE_U32, ROPE_I64};
    tu_seed(11);
    for (int iter = 0; iter < 300; iter++) {
        rope_tensor r = {0};
        r.dtype = dtypes[iter % 6];
        r.rank = random_dims(r.dims);
        size_t bytes = (size_t)rope_tensor_numel(&r) * rope_dtype_size(r.dtype);
        uint8_t *data = malloc(bytes + 1);
        for (size_t i = 0; i < bytes; i++) data[i] = (uint8_t)tu_u64();
        r.data = data;
        char name[32];
        snprintf(name, sizeof name, "t%d", iter);
        tensor_proto tp;
        pb_buf b = {0};
        int ok = tensor_proto_encode(&r, name, &b, &err) == 0 &&
                 tensor_proto_decode("rt.pb", b.data, b.len, &tp, &err) == 0;
        CHECK(ok, "round trip %d: %s", iter, err.text);
        if (ok) {
            CHECK(tp.t.dtype == r.dtype && tensor_same_shape(&tp.t, &r) && !memcmp(tp.t.data, data, bytes) &&
                      !strcmp(tp.name, name),
                  "round trip %d differs", iter);
            tensor_proto_free(&tp);
        }
        pb_buf_free(&b);
        free(data);
    }
}

/* Every strict prefix of a valid tensor is an error; random mutations never crash. */
static void test_hostile(void) {
    const int64_t dims[3] = {2, 3, 4};
    float v[24];
    for (int i = 0; i < 24; i++) v[i] = (float)i;
    msg good = tensor_raw("input", 1, dims, 3, v, sizeof v);
    uint64_t w[6] = {1, 2, 3, 4, 5, 6};
    msg typed_good = typed(6, 5, w, 1, 0);
    const msg *bases[2] = {&good, &typed_good};
    for (int b = 0; b < 2; b++)
        for (size_t cut = 0; cut < bases[b]->n; cut++) {
            uint8_t *p = msg_prefix_copy(bases[b], cut);
            tensor_proto tp;
            CHECK(tensor_proto_decode("cut.pb", p, cut, &tp, &err) == -1, "prefix %zu of %zu decoded", cut,
                  bases[b]->n);
            CHECK(strncmp(err.text, "cut.pb: ", 8) == 0, "message lacks the source: %s", err.text);
            free(p);
        }
    tu_seed(3);
    int rejected = 0;
    for (int iter = 0; iter < 20000; iter++) {
        const msg *base = bases[iter % 2];
        size_t n = base->n;
        uint8_t *p = msg_prefix_copy(base, n);
        for (int k = (int)tu_int(1, 3); k > 0; k--) p[tu_int(0, (int64_t)n - 1)] = (uint8_t)tu_u64();
        size_t len = iter % 5 == 0 ? (size_t)tu_int(0, (int64_t)n) : n;
        tensor_proto tp;
        if (tensor_proto_decode("mut.pb", p, len, &tp, &err) == 0) {
            int64_t numel = rope_tensor_numel(&tp.t);
            CHECK(numel >= 0 && tp.t.data && tp.name, "accepted tensor is inconsistent");
            tensor_proto_free(&tp);
        } else {
            rejected++;
        }
        free(p);
    }
    CHECK(rejected > 1000, "only %d mutations rejected", rejected);
    msg_free(&good);
    msg_free(&typed_good);
}

/* Each shared .pb file decodes, and re-encoding it gives the same bytes (absent ../shared: skipped). */
static int reencode_dir(const char *suite) {
    char sets[1024];
    int files = 0;
    DIR *d = opendir(suite);
    if (!d) return 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        for (int k = 0; k < 10; k++) {
            const char *kinds[2] = {"input", "output"};
            for (int kind = 0; kind < 2; kind++) {
                snprintf(sets, sizeof sets, "%s/%s/test_data_set_0/%s_%d.pb", suite, e->d_name, kinds[kind], k);
                uint8_t *bytes = NULL;
                size_t size = 0;
                if (file_read_all(sets, &bytes, &size, &err)) continue;
                tensor_proto tp;
                pb_buf b = {0};
                int ok = tensor_proto_decode(sets, bytes, size, &tp, &err) == 0;
                CHECK(ok, "%s", err.text);
                if (ok) {
                    CHECK(tensor_proto_encode(&tp.t, tp.name, &b, &err) == 0 && b.len == size &&
                              !memcmp(b.data, bytes, size),
                          "%s: re-encoded bytes differ", sets);
                    tensor_proto_free(&tp);
                }
                pb_buf_free(&b);
                free(bytes);
                files++;
            }
        }
    }
    closedir(d);
    return files;
}

static int test_shared(void) {
    const char *shared = tu_shared_dir();
    if (!shared) return 0;
    char suite[1024];
    snprintf(suite, sizeof suite, "%s/onnx-node-tests", shared);
    int n = reencode_dir(suite);
    snprintf(suite, sizeof suite, "%s/atb-tests", shared);
    n += reencode_dir(suite);
    CHECK(n > 100, "only %d shared files found", n);
    return 1;
}

int main(void) {
    test_each_dtype();
    test_shapes_and_sizes();
    test_writer();
    test_hostile();
    if (!test_shared()) printf("note: ../shared absent, shared-file checks skipped\n");
    return tu_finish();
}
