/* SPDX-License-Identifier: MIT */
/* rope_tensor_from_dlpack: dtypes, dense and strided layouts (a slice of a fused QKV buffer), and every
 * refusal with its status, *out untouched. The expected row strides are worked out here from the
 * shapes, independently of the function. */
#include <string.h>

#include "harness.h"
#include "rope_dlpack.h"

static DLTensor make(void *data, int ndim, int64_t *shape, int64_t *strides, uint8_t code, uint8_t bits) {
    DLTensor t;
    memset(&t, 0, sizeof t);
    t.data = data;
    t.device.device_type = kDLCPU;
    t.ndim = ndim;
    t.dtype.code = code;
    t.dtype.bits = bits;
    t.dtype.lanes = 1;
    t.shape = shape;
    t.strides = strides;
    return t;
}

/* Fails with `want`, names the argument in the message, leaves *out as it was. */
static void refused(const DLTensor *t, int row_rank, rope_status want, const char *what) {
    rope_tensor out;
    memset(&out, 0xAB, sizeof out);
    rope_tensor before = out;
    rope_status st = rope_tensor_from_dlpack(t, "query", row_rank, &out);
    CHECK(st == want, "%s: status %d, expected %d (%s)", what, st, want, rope_last_error());
    CHECK(memcmp(&out, &before, sizeof out) == 0, "%s: out written on failure", what);
    CHECK(strstr(rope_last_error(), "query") != NULL, "%s: message without the name: %s", what, rope_last_error());
}

static void dtypes(void) {
    static const struct { uint8_t code, bits; rope_dtype want; } cases[] = {
        {kDLFloat, 32, ROPE_F32}, {kDLFloat, 16, ROPE_F16}, {kDLBfloat, 16, ROPE_BF16}, {kDLInt, 32, ROPE_I32},
        {kDLUInt, 32, ROPE_U32},  {kDLInt, 64, ROPE_I64},   {kDLFloat, 64, ROPE_F64}, {kDLFloat, 8, ROPE_DTYPE_INVALID},
        {kDLInt, 8, ROPE_DTYPE_INVALID}, {kDLUInt, 64, ROPE_DTYPE_INVALID}, {kDLComplex, 64, ROPE_DTYPE_INVALID},
        /* DLPack 1.1's float8 codes by value (the header here may predate them): 10 kDLFloat8_e4m3fn,
         * 12 kDLFloat8_e5m2; their neighbours (8 e4m3, 9 e4m3b11fnuz, 11 e4m3fnuz, 13 e5m2fnuz) and
         * other widths are refused, and so is uint8 (fp8 bits the binding reads as a named format) */
        {10, 8, ROPE_FP8_E4M3}, {12, 8, ROPE_FP8_E5M2}, {10, 16, ROPE_DTYPE_INVALID}, {12, 32, ROPE_DTYPE_INVALID},
        {8, 8, ROPE_DTYPE_INVALID}, {9, 8, ROPE_DTYPE_INVALID}, {11, 8, ROPE_DTYPE_INVALID},
        {13, 8, ROPE_DTYPE_INVALID}, {kDLUInt, 8, ROPE_DTYPE_INVALID}};
    float buf[4];
    int64_t shape[1] = {4};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        DLTensor t = make(buf, 1, shape, NULL, cases[i].code, cases[i].bits);
        if (cases[i].want == ROPE_DTYPE_INVALID) {
            refused(&t, 1, ROPE_ERROR_DTYPE, "unsupported dtype");
            continue;
        }
        rope_tensor out;
        CHECK(rope_tensor_from_dlpack(&t, "x", 1, &out) == ROPE_OK, "case %zu: %s", i, rope_last_error());
        CHECK(out.dtype == cases[i].want && out.rank == 1 && out.dims[0] == 4 && out.row_stride == 0 && out.data == buf,
              "case %zu: dtype %d rank %d", i, out.dtype, out.rank);
    }
    /* an fp8 slice: strides count elements, whatever their size */
    unsigned char bytes[64];
    int64_t shape8[2] = {4, 8}, strides8[2] = {16, 1};
    DLTensor f8 = make(bytes, 2, shape8, strides8, 12, 8);
    rope_tensor o8;
    CHECK(rope_tensor_from_dlpack(&f8, "key_cache", 1, &o8) == ROPE_OK, "%s", rope_last_error());
    CHECK(o8.dtype == ROPE_FP8_E5M2 && o8.row_stride == 16 && o8.data == bytes, "fp8 slice: stride %lld",
          (long long)o8.row_stride);
    DLTensor t = make(buf, 1, shape, NULL, kDLFloat, 32);
    t.dtype.lanes = 2;
    refused(&t, 1, ROPE_ERROR_DTYPE, "vector lanes");
}

/* [T, 3*H*D] fused QKV; q, k, v sliced out of the last dim at random sizes: row stride 3HD, data at the
 * slice's offset (byte_offset or a moved pointer), both ways. */
static void fused_slices(void) {
    for (int trial = 0; trial < 50; trial++) {
        int64_t T = tu_int(2, 9), hd = 2 * tu_int(1, 16), kd = 2 * tu_int(1, 8);
        int64_t width = hd + 2 * kd;
        static float qkv[9 * 64];
        int64_t shape[2] = {T, kd}, strides[2] = {width, 1};
        DLTensor k = make(qkv, 2, shape, strides, kDLFloat, 32);
        k.byte_offset = (uint64_t)hd * sizeof(float);
        rope_tensor out;
        CHECK(rope_tensor_from_dlpack(&k, "key", 1, &out) == ROPE_OK, "%s", rope_last_error());
        CHECK(out.data == qkv + hd && out.row_stride == width && out.dims[0] == T && out.dims[1] == kd,
              "key slice: stride %lld", (long long)out.row_stride);
        /* 3-D [B, S, hidden] slice: leading dims step S*width and width: one row stride. */
        int64_t B = tu_int(1, 3), S = tu_int(1, 3);
        int64_t shape3[3] = {B, S, hd}, strides3[3] = {S * width, width, 1};
        DLTensor q = make(qkv, 3, shape3, strides3, kDLFloat, 32);
        CHECK(rope_tensor_from_dlpack(&q, "query", 1, &out) == ROPE_OK, "%s", rope_last_error());
        CHECK(out.row_stride == ((B * S > 1 && width != hd) ? width : 0), "3-D slice: stride %lld",
              (long long)out.row_stride);
        /* 4-D ATB [B, S, H, D] with row_rank 2: the row is H*D. */
        int64_t H = 2, D = hd / 2 > 0 ? hd / 2 : 1;
        int64_t shape4[4] = {B, S, H, D}, strides4[4] = {S * width, width, D, 1};
        DLTensor q4 = make(qkv, 4, shape4, strides4, kDLFloat, 32);
        CHECK(rope_tensor_from_dlpack(&q4, "query", 2, &out) == ROPE_OK, "%s", rope_last_error());
        CHECK(out.rank == 4 && out.row_stride == ((B * S > 1 && width != H * D) ? width : 0), "4-D: %lld",
              (long long)out.row_stride);
        /* the same asked to be dense (row_rank >= ndim) is refused when strided */
        if (B * S > 1 && width != H * D) refused(&q4, 8, ROPE_ERROR_STRIDE, "dense asked of a strided view");
    }
}

static void layouts(void) {
    float buf[64];
    rope_tensor out;
    /* size-1 dims take any stride; a dense tensor with explicit strides gives row_stride 0 */
    int64_t shape[3] = {1, 4, 8}, strides[3] = {999, 8, 1};
    DLTensor t = make(buf, 3, shape, strides, kDLFloat, 32);
    CHECK(rope_tensor_from_dlpack(&t, "x", 1, &out) == ROPE_OK && out.row_stride == 0, "dense: %s", rope_last_error());
    CHECK(rope_tensor_from_dlpack(&t, "x", 8, &out) == ROPE_OK && out.row_stride == 0, "dense whole: %s",
          rope_last_error());
    /* rank 0 */
    DLTensor s = make(buf, 0, NULL, NULL, kDLInt, 64);
    CHECK(rope_tensor_from_dlpack(&s, "x", 1, &out) == ROPE_OK && out.rank == 0, "rank 0: %s", rope_last_error());
    /* an empty tensor takes any strides */
    int64_t eshape[2] = {0, 8}, estrides[2] = {-5, 3};
    DLTensor e = make(buf, 2, eshape, estrides, kDLFloat, 32);
    CHECK(rope_tensor_from_dlpack(&e, "x", 1, &out) == ROPE_OK && out.dims[0] == 0, "empty: %s", rope_last_error());

    /* refusals: the last dim not contiguous (a transposed view), uneven row spacing (a transposed
     * [B, H, S, D] view of [B, S, H, D]), rows overlapping, negative strides */
    int64_t s2[2] = {4, 8}, tr[2] = {1, 4};
    DLTensor a = make(buf, 2, s2, tr, kDLFloat, 32);
    refused(&a, 1, ROPE_ERROR_STRIDE, "transposed");
    int64_t s4[4] = {1, 2, 3, 4}, st4[4] = {24, 4, 8, 1};
    DLTensor b = make(buf, 4, s4, st4, kDLFloat, 32);
    refused(&b, 1, ROPE_ERROR_STRIDE, "heads transposed with seq");
    int64_t ov[2] = {4, 4};
    DLTensor c = make(buf, 2, s2, ov, kDLFloat, 32);
    refused(&c, 1, ROPE_ERROR_STRIDE, "overlapping rows");
    int64_t neg[2] = {-8, 1};
    DLTensor d = make(buf, 2, s2, neg, kDLFloat, 32);
    refused(&d, 1, ROPE_ERROR_STRIDE, "negative row stride");
    int64_t negl[2] = {8, -1};
    DLTensor f = make(buf, 2, s2, negl, kDLFloat, 32);
    refused(&f, 1, ROPE_ERROR_STRIDE, "reversed row");

    /* the other refusals */
    DLTensor g = make(buf, 2, s2, NULL, kDLFloat, 32);
    g.device.device_type = kDLCUDA;
    refused(&g, 1, ROPE_ERROR_UNSUPPORTED, "CUDA device");
    DLTensor h = make(buf, ROPE_MAX_RANK + 1, s4, NULL, kDLFloat, 32);
    refused(&h, 1, ROPE_ERROR_RANK, "rank 9");
    DLTensor h2 = make(buf, 2, NULL, NULL, kDLFloat, 32);
    refused(&h2, 1, ROPE_ERROR_RANK, "NULL shape");
    int64_t bad[2] = {4, -1};
    DLTensor i = make(buf, 2, bad, NULL, kDLFloat, 32);
    refused(&i, 1, ROPE_ERROR_SHAPE, "negative dim");
    DLTensor j = make(buf, 2, s2, NULL, kDLFloat, 32);
    refused(&j, 0, ROPE_ERROR_ATTRIBUTE, "row_rank 0");
    CHECK(rope_tensor_from_dlpack(NULL, "query", 1, &out) == ROPE_ERROR_NULL_ARGUMENT, "NULL src");
    CHECK(rope_tensor_from_dlpack(&j, "query", 1, NULL) == ROPE_ERROR_NULL_ARGUMENT, "NULL out");
}

int main(void) {
    tu_seed(10);
    dtypes();
    fused_slices();
    layouts();
    return tu_finish();
}
