/* SPDX-License-Identifier: MIT */
/* ONNX Runtime's contrib ops as `rope test` / `rope run` run them (tools/ort_contrib.c), against a
 * float64 reference written here from the operators' documented semantics, on random inputs at many
 * shapes, in every dtype: including what ONNX Runtime 1.30.0's CPU kernels do not run (bfloat16,
 * `scale` on RotaryEmbedding, a sequence longer than the cache without is_packed_batching, a
 * [max_pos, head_size/2] cache with partial rotation). MRotaryEmbedding is also checked bit for bit
 * against the library's vLLM MRoPE operator, an independent path to the same arithmetic. Then every
 * bad attribute, section, shape and position: a precise message and no output; and the same through
 * `rope run` / `rope test` on a conformance directory. */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "file_io.h"
#include "harness.h"
#include "onnx_builder.h"
#include "onnx_model.h"
#include "ort_contrib.h"
#include "tensor_util.h"

/* ---- one case ------------------------------------------------------------------------------------ */

enum { FORM_IDS, FORM_OFFSET, FORM_SCALAR };

typedef struct tcase {
    ort_contrib_op op;
    rope_dtype dtype;
    int rank; /* 3: [B, S, N*H]; 4: [B, N, S, H] */
    int64_t B, S, N, H, M;
    ort_contrib_attrs a;
    int form;   /* RotaryEmbedding's position_ids */
    int wide;   /* RotaryEmbedding: caches [M, H/2] with rotary_embedding_dim < H */
} tcase;

typedef struct tdata {
    rope_tensor x, ids, cos, sin;
    double *xd, *cd, *sd; /* the dtype-rounded values, widened */
    int64_t *pos;         /* every token's position per axis: [axes][B*S] */
} tdata;

static double round_to(rope_dtype dt, double v) {
    if (dt == ROPE_F16) return rope_f16_to_f32(rope_f32_to_f16((float)v));
    if (dt == ROPE_BF16) return rope_bf16_to_f32(rope_f32_to_bf16((float)v));
    return (float)v;
}

static void put(rope_dtype dt, void *base, int64_t i, double v) {
    if (dt == ROPE_F32) ((float *)base)[i] = (float)v;
    else if (dt == ROPE_F16) ((uint16_t *)base)[i] = rope_f32_to_f16((float)v);
    else ((uint16_t *)base)[i] = rope_f32_to_bf16((float)v);
}

static double get(rope_dtype dt, const void *base, int64_t i) {
    if (dt == ROPE_F32) return ((const float *)base)[i];
    if (dt == ROPE_F16) return rope_f16_to_f32(((const uint16_t *)base)[i]);
    return rope_bf16_to_f32(((const uint16_t *)base)[i]);
}

/* The runner's own tensor_new (tools/tensor_util.c); a failed allocation ends the test. */
static rope_tensor make(rope_dtype dt, int rank, const int64_t *dims) {
    rope_tensor t = tensor_new(dt, rank, dims);
    if (!t.data) abort(); /* as tu_xmalloc does */
    return t;
}

static void fill(rope_tensor *t, double **widened, double lo, double hi) {
    int64_t n = rope_tensor_numel(t);
    *widened = tu_xmalloc((size_t)(n ? n : 1) * sizeof(double));
    for (int64_t i = 0; i < n; i++) {
        double v = round_to(t->dtype, tu_uniform(lo, hi));
        put(t->dtype, t->data, i, v);
        (*widened)[i] = v;
    }
}

static int64_t half_width(const tcase *c) { return (c->a.rotary_embedding_dim ? c->a.rotary_embedding_dim : c->H) / 2; }

static void make_data(const tcase *c, tdata *d) {
    int64_t T = c->B * c->S, width = c->wide ? c->H / 2 : half_width(c);
    const int64_t x3[3] = {c->B, c->S, c->N * c->H}, x4[4] = {c->B, c->N, c->S, c->H}, cd[2] = {c->M, width};
    d->x = make(c->dtype, c->rank, c->rank == 3 ? x3 : x4);
    d->cos = make(c->dtype, 2, cd);
    d->sin = make(c->dtype, 2, cd);
    fill(&d->x, &d->xd, -2, 2);
    fill(&d->cos, &d->cd, -1, 1);
    fill(&d->sin, &d->sd, -1, 1);
    int axes = c->op == ORT_MROTARY_EMBEDDING ? 3 : 1;
    d->pos = tu_xmalloc((size_t)(3 * T + 1) * sizeof(int64_t));
    if (c->op == ORT_MROTARY_EMBEDDING || c->form == FORM_IDS) {
        const int64_t p3[3] = {3, c->B, c->S}, p2[2] = {c->B, c->S};
        d->ids = axes == 3 ? make(ROPE_I64, 3, p3) : make(ROPE_I64, 2, p2);
        for (int64_t i = 0; i < axes * T; i++) ((int64_t *)d->ids.data)[i] = d->pos[i] = tu_int(0, c->M - 1);
    } else {
        const int64_t one[1] = {1};
        int64_t off = tu_int(0, c->M - c->S);
        d->ids = make(ROPE_I64, c->form == FORM_OFFSET ? 1 : 0, one);
        ((int64_t *)d->ids.data)[0] = off;
        for (int64_t t = 0; t < T; t++) d->pos[t] = off + t % c->S;
    }
}

static void free_data(tdata *d) {
    free(d->x.data), free(d->ids.data), free(d->cos.data), free(d->sin.data);
    free(d->xd), free(d->cd), free(d->sd), free(d->pos);
}

/* The MRoPE axis of pair j, from the schema's words: sectioned, [t]*s0 + [h]*s1 + [w]*s2; interleaved,
 * t everywhere, then h at every third pair from 1 for the first 3*s1 pairs, w from 2 for 3*s2. */
static int axis_of(const ort_contrib_attrs *a, int64_t j) {
    int axis = 0;
    if (a->mrope_layout == 0) {
        int64_t end = 0;
        for (int k = 0; k < 3; k++) {
            end += a->mrope_section[k];
            if (j < end) return k;
        }
        return -1;
    }
    for (int k = 1; k < 3; k++)
        for (int64_t i = k; i < 3 * a->mrope_section[k]; i += 3)
            if (i == j) axis = k;
    return axis;
}

/* y[b, s, n, :] in float64: pairs (j, j + rot/2) or (2j, 2j + 1) turned by cos*scale, sin*scale of
 * the token's row (per pair its axis's row for MRoPE); [rot, H) copied. */
static double reference(const tcase *c, const tdata *d, int64_t b, int64_t s, int64_t n, int64_t e) {
    int64_t T = c->B * c->S, t = b * c->S + s, half = half_width(c), width = c->wide ? c->H / 2 : half;
    int64_t base = c->rank == 3 ? (t * c->N + n) * c->H : ((b * c->N + n) * c->S + s) * c->H;
    const double *x = d->xd + base;
    if (e >= 2 * half) return x[e];
    int64_t j = c->a.interleaved ? e / 2 : e % half;
    int64_t i1 = c->a.interleaved ? 2 * j : j, i2 = c->a.interleaved ? 2 * j + 1 : j + half;
    int64_t row = c->op == ORT_MROTARY_EMBEDDING ? d->pos[axis_of(&c->a, j) * T + t] : d->pos[t];
    double cs = d->cd[row * width + j] * c->a.scale, sn = d->sd[row * width + j] * c->a.scale;
    return e == i1 ? x[i1] * cs - x[i2] * sn : x[i2] * cs + x[i1] * sn;
}

static double tolerance(rope_dtype dt) { return dt == ROPE_F32 ? 2e-6 : dt == ROPE_F16 ? 1.2e-2 : 8e-2; }

static void check_case(const tcase *c, const char *label) {
    tdata d;
    rope_tensor y;
    diag err;
    make_data(c, &d);
    int rc = ort_contrib_run(&c->a, &d.x, &d.ids, &d.cos, &d.sin, &y, &err);
    CHECK(rc == 0, "%s: %s", label, err.text);
    if (rc == 0) {
        double worst = 0, bound = tolerance(c->dtype);
        int64_t at = -1;
        for (int64_t b = 0; b < c->B; b++)
            for (int64_t s = 0; s < c->S; s++)
                for (int64_t n = 0; n < c->N; n++)
                    for (int64_t e = 0; e < c->H; e++) {
                        int64_t flat = c->rank == 3 ? ((b * c->S + s) * c->N + n) * c->H + e
                                                    : ((b * c->N + n) * c->S + s) * c->H + e;
                        double diff = fabs(get(c->dtype, y.data, flat) - reference(c, &d, b, s, n, e));
                        if (!(diff <= worst)) worst = diff, at = flat;
                    }
        CHECK(worst <= bound, "%s: element %lld differs from the float64 reference by %g (> %g)", label,
              (long long)at, worst, bound);
        CHECK(y.dtype == c->dtype && y.rank == c->rank, "%s: output descriptor", label);
        free(y.data);
    }
    free_data(&d);
}

static const rope_dtype DTYPES[3] = {ROPE_F32, ROPE_F16, ROPE_BF16};

static void base_case(tcase *c, ort_contrib_op op, rope_dtype dt) {
    memset(c, 0, sizeof *c);
    c->op = op;
    c->a.op = op;
    c->a.scale = 1.0f;
    c->dtype = dt;
}

/* Random RotaryEmbedding cases: ranks, pair layouts, partial rotation with either cache width, the
 * three position_ids forms, num_heads left out, scale, sequences longer than the cache. */
static void test_rotary_random(void) {
    static const float scales[4] = {1.0f, 0.5f, -1.25f, 3.0f};
    for (int k = 0; k < 240; k++) {
        tcase c;
        char label[160];
        base_case(&c, ORT_ROTARY_EMBEDDING, DTYPES[k % 3]);
        c.rank = tu_int(3, 4);
        c.B = tu_int(1, 3), c.S = tu_int(1, 9), c.N = tu_int(1, 4), c.H = 2 * tu_int(1, 12);
        c.a.interleaved = tu_int(0, 1);
        c.a.is_packed_batching = tu_int(0, 1);
        c.form = (int)tu_int(0, 2);
        int partial = tu_int(0, 2) == 0 && c.H > 2;
        if (partial) c.a.rotary_embedding_dim = 2 * tu_int(1, c.H / 2 - 1), c.wide = (int)tu_int(0, 1);
        /* num_heads: needed with rotary_embedding_dim; otherwise sometimes left to the cache width */
        c.a.num_heads = partial || tu_int(0, 1) ? c.N : 0;
        c.a.scale = scales[tu_int(0, 3)];
        /* [B, S] ids may index a cache shorter than the sequence (ONNX Runtime refuses that unpacked) */
        c.M = c.form == FORM_IDS ? tu_int(1, 12) : c.S + tu_int(0, 6);
        snprintf(label, sizeof label, "RotaryEmbedding #%d %s rank %d B%lld S%lld N%lld H%lld rot %lld%s form %d scale %g",
                 k, rope_dtype_name(c.dtype), c.rank, (long long)c.B, (long long)c.S, (long long)c.N, (long long)c.H,
                 (long long)c.a.rotary_embedding_dim, c.wide ? " wide" : "", c.form, (double)c.a.scale);
        check_case(&c, label);
    }
}

/* Random MRotaryEmbedding cases: both layouts, sections with zeros, ranks, partial rotation, scale. */
static void test_mrotary_random(void) {
    for (int k = 0; k < 240; k++) {
        tcase c;
        char label[200];
        base_case(&c, ORT_MROTARY_EMBEDDING, DTYPES[k % 3]);
        c.rank = tu_int(3, 4);
        c.B = tu_int(1, 3), c.S = tu_int(1, 9), c.N = tu_int(1, 3), c.H = 2 * tu_int(1, 16);
        c.M = tu_int(1, 12);
        c.a.interleaved = tu_int(0, 1);
        c.a.mrope_layout = tu_int(0, 1);
        if (tu_int(0, 2) == 0 && c.H > 2) c.a.rotary_embedding_dim = 2 * tu_int(1, c.H / 2 - 1);
        c.a.num_heads = c.rank == 3 || c.a.rotary_embedding_dim ? c.N : 0;
        int64_t half = half_width(&c), cut1 = tu_int(0, half), cut2 = tu_int(0, half);
        if (cut1 > cut2) {
            int64_t t = cut1;
            cut1 = cut2, cut2 = t;
        }
        c.a.has_mrope_section = 1;
        c.a.n_mrope_section = 3;
        c.a.mrope_section[0] = cut1, c.a.mrope_section[1] = cut2 - cut1, c.a.mrope_section[2] = half - cut2;
        c.a.scale = tu_int(0, 1) ? 1.0f : (float)tu_uniform(-2, 2);
        snprintf(label, sizeof label, "MRotaryEmbedding #%d %s rank %d B%lld S%lld N%lld H%lld rot %lld sections "
                 "[%lld,%lld,%lld] layout %lld scale %g", k, rope_dtype_name(c.dtype), c.rank, (long long)c.B,
                 (long long)c.S, (long long)c.N, (long long)c.H, (long long)c.a.rotary_embedding_dim,
                 (long long)c.a.mrope_section[0], (long long)c.a.mrope_section[1], (long long)c.a.mrope_section[2],
                 (long long)c.a.mrope_layout, (double)c.a.scale);
        check_case(&c, label);
    }
}

/* MRotaryEmbedding (3-D input, every section > 0, scale 1) is bitwise the library's vLLM MRoPE on the
 * same positions and a [M, rot] = [cos | sin] cache: the same rounding recipe reached another way. */
static void test_mrotary_matches_vllm(void) {
    for (int k = 0; k < 60; k++) {
        tcase c;
        tdata d;
        rope_tensor y;
        diag err;
        base_case(&c, ORT_MROTARY_EMBEDDING, k % 2 ? ROPE_F16 : ROPE_F32);
        c.rank = 3;
        c.B = tu_int(1, 3), c.S = tu_int(1, 7), c.N = tu_int(1, 3), c.H = 2 * tu_int(3, 16), c.M = tu_int(2, 10);
        c.a.interleaved = tu_int(0, 1);
        c.a.mrope_layout = tu_int(0, 1);
        c.a.num_heads = c.N;
        int64_t half = c.H / 2, s1 = tu_int(1, half - 2), s2 = tu_int(1, half - 1 - s1);
        c.a.has_mrope_section = 1;
        c.a.n_mrope_section = 3;
        c.a.mrope_section[0] = half - s1 - s2, c.a.mrope_section[1] = s1, c.a.mrope_section[2] = s2;
        make_data(&c, &d);
        int rc = ort_contrib_run(&c.a, &d.x, &d.ids, &d.cos, &d.sin, &y, &err);
        CHECK(rc == 0, "MRotaryEmbedding vs vLLM #%d: %s", k, err.text);
        const int64_t cache_dims[2] = {c.M, c.H};
        rope_tensor cache = make(c.dtype, 2, cache_dims), q_out = d.x;
        size_t es = rope_dtype_size(c.dtype);
        for (int64_t r = 0; r < c.M; r++) {
            memcpy((char *)cache.data + (size_t)(r * c.H) * es, (char *)d.cos.data + (size_t)(r * half) * es, (size_t)half * es);
            memcpy((char *)cache.data + (size_t)(r * c.H + half) * es, (char *)d.sin.data + (size_t)(r * half) * es,
                   (size_t)half * es);
        }
        size_t bytes = (size_t)rope_tensor_numel(&d.x) * es;
        q_out.data = tu_xmalloc(bytes);
        rope_vllm_attrs va = ROPE_VLLM_ATTRS_INIT;
        va.head_size = c.H;
        va.is_neox = c.a.interleaved ? 0 : 1;
        va.mrope_interleaved = (int32_t)c.a.mrope_layout;
        va.n_mrope_section = 3;
        for (int i = 0; i < 3; i++) va.mrope_section[i] = c.a.mrope_section[i];
        rope_status st = rope_vllm_rotary_embedding(NULL, &va, &d.ids, &d.x, NULL, &cache, &q_out, NULL);
        CHECK(st == ROPE_OK, "vLLM MRoPE #%d: %s", k, rope_last_error());
        if (rc == 0 && st == ROPE_OK)
            CHECK(!memcmp(y.data, q_out.data, bytes), "MRotaryEmbedding #%d (%s, layout %lld) differs from vLLM MRoPE", k,
                  rope_dtype_name(c.dtype), (long long)c.a.mrope_layout);
        if (rc == 0) free(y.data);
        free(q_out.data), free(cache.data);
        free_data(&d);
    }
}

/* ---- errors: a message naming the fault, and no output --------------------------------------------- */

typedef void (*mutation)(tcase *c, tdata *d);

static void m_interleaved(tcase *c, tdata *d) { (void)d, c->a.interleaved = 2; }
static void m_packed(tcase *c, tdata *d) { (void)d, c->a.is_packed_batching = -1; }
static void m_heads_negative(tcase *c, tdata *d) { (void)d, c->a.num_heads = -2; }
static void m_rot_odd(tcase *c, tdata *d) { (void)d, c->a.rotary_embedding_dim = 3; }
static void m_rot_without_heads(tcase *c, tdata *d) { (void)d, c->a.rotary_embedding_dim = 4, c->a.num_heads = 0; }
static void m_rot_too_wide(tcase *c, tdata *d) { (void)d, c->a.rotary_embedding_dim = 2 * c->H; }
static void m_scale_nan(tcase *c, tdata *d) { (void)d, c->a.scale = (float)NAN; }
static void m_scale_inf(tcase *c, tdata *d) { (void)d, c->a.scale = (float)INFINITY; }
static void m_no_section(tcase *c, tdata *d) { (void)d, c->a.has_mrope_section = 0; }
static void m_two_sections(tcase *c, tdata *d) { (void)d, c->a.n_mrope_section = 2; }
static void m_section_negative(tcase *c, tdata *d) { (void)d, c->a.mrope_section[1] = -1, c->a.mrope_section[0] += 2; }
static void m_section_sum(tcase *c, tdata *d) { (void)d, c->a.mrope_section[2] += 1; }
static void m_section_huge(tcase *c, tdata *d) { (void)d, c->a.mrope_section[2] = INT64_MAX; }
static void m_layout(tcase *c, tdata *d) { (void)d, c->a.mrope_layout = 2; }
static void m_input_rank(tcase *c, tdata *d) { (void)c, d->x.rank = 2; }
static void m_input_dtype(tcase *c, tdata *d) { (void)c, d->x.dtype = ROPE_I32; }
static void m_cos_rank(tcase *c, tdata *d) { (void)c, d->cos.rank = 1; }
static void m_sin_dims(tcase *c, tdata *d) { (void)c, d->sin.dims[0] -= 1; }
static void m_cos_dtype(tcase *c, tdata *d) { (void)c, d->cos.dtype = ROPE_BF16; }
static void m_hidden(tcase *c, tdata *d) { (void)d, c->a.num_heads = 3; }
static void m_heads_4d(tcase *c, tdata *d) { (void)d, c->a.num_heads = c->N + 1; }
static void m_cos_width(tcase *c, tdata *d) { (void)c, d->cos.dims[1] -= 1, d->sin.dims[1] -= 1; }
static void m_ids_dtype(tcase *c, tdata *d) { (void)c, d->ids.dtype = ROPE_I32; }
static void m_ids_rank(tcase *c, tdata *d) { (void)c, d->ids.rank = 1, d->ids.dims[0] = 2; }
static void m_offset_negative(tcase *c, tdata *d) { (void)c, ((int64_t *)d->ids.data)[0] = -1; }
static void m_offset_past(tcase *c, tdata *d) { ((int64_t *)d->ids.data)[0] = c->M - c->S + 1; }
static void m_id_past(tcase *c, tdata *d) { ((int64_t *)d->ids.data)[rope_tensor_numel(&d->ids) - 1] = c->M; }
static void m_id_negative(tcase *c, tdata *d) { (void)c, ((int64_t *)d->ids.data)[1] = -3; }
static void m_ids_axes(tcase *c, tdata *d) { (void)c, d->ids.dims[0] = 2; }
static void m_null_cos(tcase *c, tdata *d) { (void)c, d->cos.data = NULL; }

typedef struct bad {
    ort_contrib_op op;
    int rank, form;
    mutation apply;
    const char *want; /* a piece of the message */
} bad;

static const bad BAD[] = {
    {ORT_ROTARY_EMBEDDING, 3, FORM_IDS, m_interleaved, "attribute 'interleaved': expected 0 or 1, found 2"},
    {ORT_MROTARY_EMBEDDING, 3, FORM_IDS, m_packed, "attribute 'is_packed_batching': expected 0 or 1, found -1"},
    {ORT_ROTARY_EMBEDDING, 3, FORM_IDS, m_heads_negative, "attribute 'num_heads': expected >= 0, found -2"},
    {ORT_ROTARY_EMBEDDING, 3, FORM_IDS, m_rot_odd, "attribute 'rotary_embedding_dim': expected an even number, found 3"},
    {ORT_ROTARY_EMBEDDING, 4, FORM_IDS, m_rot_without_heads, "'rotary_embedding_dim' (4) needs 'num_heads' (> 0), found 0"},
    {ORT_ROTARY_EMBEDDING, 3, FORM_IDS, m_rot_too_wide, "attribute 'rotary_embedding_dim' (16) exceeds head_size 8"},
    {ORT_ROTARY_EMBEDDING, 3, FORM_IDS, m_scale_nan, "attribute 'scale': expected a finite number, found nan"},
    {ORT_MROTARY_EMBEDDING, 4, FORM_IDS, m_scale_inf, "attribute 'scale': expected a finite number, found inf"},
    {ORT_MROTARY_EMBEDDING, 3, FORM_IDS, m_no_section, "com.microsoft::MRotaryEmbedding: attribute 'mrope_section' is required"},
    {ORT_MROTARY_EMBEDDING, 3, FORM_IDS, m_two_sections, "attribute 'mrope_section': expected 3 entries [t, h, w], found 2"},
    {ORT_MROTARY_EMBEDDING, 3, FORM_IDS, m_section_negative, "attribute 'mrope_section'[1]: expected >= 0, found -1"},
    {ORT_MROTARY_EMBEDDING, 4, FORM_IDS, m_section_sum, "'mrope_section' [2, 1, 2]: sums to 5, expected 4 (rotary_embedding_dim/2)"},
    {ORT_MROTARY_EMBEDDING, 3, FORM_IDS, m_section_huge, "[2, 1, 9223372036854775807]: sums to more than 4, expected 4"},
    {ORT_MROTARY_EMBEDDING, 3, FORM_IDS, m_layout, "attribute 'mrope_layout': expected 0 (sections contiguous) or 1 (interleaved), found 2"},
    {ORT_ROTARY_EMBEDDING, 3, FORM_IDS, m_input_rank, "input: expected rank 3 [batch, sequence, hidden] or 4"},
    {ORT_MROTARY_EMBEDDING, 3, FORM_IDS, m_input_dtype, "input: dtype i32, expected f32, f16 or bf16"},
    {ORT_ROTARY_EMBEDDING, 4, FORM_IDS, m_cos_rank, "cos_cache: expected rank 2 [max_position, rotary_embedding_dim/2], found rank 1"},
    {ORT_ROTARY_EMBEDDING, 3, FORM_OFFSET, m_sin_dims, "sin_cache: dims [5,4] differ from cos_cache's [6,4]"},
    {ORT_MROTARY_EMBEDDING, 3, FORM_IDS, m_cos_dtype, "cos_cache: dtype bf16, expected the input's f32"},
    {ORT_ROTARY_EMBEDDING, 3, FORM_IDS, m_hidden, "input dim 2 (hidden 16) is not a multiple of num_heads 3"},
    {ORT_MROTARY_EMBEDDING, 4, FORM_IDS, m_heads_4d, "attribute 'num_heads' (3) disagrees with input dim 1 (2 heads of the 4-D input)"},
    {ORT_ROTARY_EMBEDDING, 3, FORM_IDS, m_cos_width, "cos_cache dim 1: expected 4 (head_size/2), found 3"},
    {ORT_MROTARY_EMBEDDING, 3, FORM_IDS, m_cos_width, "cos_cache dim 1: expected 4 (head_size/2), found 3"},
    {ORT_ROTARY_EMBEDDING, 3, FORM_IDS, m_ids_dtype, "position_ids: dtype i32, expected i64"},
    {ORT_ROTARY_EMBEDDING, 3, FORM_IDS, m_ids_rank, "position_ids: expected one element (an offset added to each token's index) or [batch, sequence] = [2, 3], found [2]"},
    {ORT_ROTARY_EMBEDDING, 3, FORM_SCALAR, m_offset_negative, "position_ids: the offset -1 is negative"},
    {ORT_ROTARY_EMBEDDING, 4, FORM_OFFSET, m_offset_past, "position_ids: offset 4 puts token 2 of each sequence at position 4 + 2, outside the cos_cache rows [0, 6)"},
    {ORT_ROTARY_EMBEDDING, 3, FORM_IDS, m_id_past, "position_ids"},
    {ORT_MROTARY_EMBEDDING, 3, FORM_IDS, m_id_past, "position_ids[2][1][2] = 6 is outside the cos_cache rows [0, 6)"},
    {ORT_MROTARY_EMBEDDING, 4, FORM_IDS, m_id_negative, "position_ids[0][0][1] = -3 is outside the cos_cache rows [0, 6)"},
    {ORT_MROTARY_EMBEDDING, 3, FORM_IDS, m_ids_axes, "position_ids: expected [3, batch, sequence] = [3, 2, 3], found [2,2,3]"},
    {ORT_ROTARY_EMBEDDING, 3, FORM_IDS, m_null_cos, "a NULL input"},
};

static void test_errors(void) {
    for (size_t k = 0; k < sizeof BAD / sizeof BAD[0]; k++) {
        const bad *b = &BAD[k];
        tcase c;
        tdata d;
        rope_tensor y;
        diag err;
        base_case(&c, b->op, ROPE_F32);
        c.rank = b->rank, c.form = b->form;
        c.B = 2, c.S = 3, c.N = 2, c.H = 8, c.M = 6;
        c.a.num_heads = c.rank == 3 ? c.N : 0;
        if (b->op == ORT_MROTARY_EMBEDDING) {
            c.a.has_mrope_section = 1, c.a.n_mrope_section = 3;
            c.a.mrope_section[0] = 2, c.a.mrope_section[1] = 1, c.a.mrope_section[2] = 1;
        }
        make_data(&c, &d);
        void *cos_data = d.cos.data;
        b->apply(&c, &d);
        memset(&y, 0x5a, sizeof y);
        err.text[0] = '\0';
        int rc = ort_contrib_run(&c.a, &d.x, &d.ids, &d.cos, &d.sin, &y, &err);
        CHECK(rc != 0, "bad case %zu (%s) was accepted", k, b->want);
        CHECK(strstr(err.text, b->want) != NULL, "bad case %zu: message '%s' lacks '%s'", k, err.text, b->want);
        CHECK(!strncmp(err.text, ort_contrib_name(b->op), strlen(ort_contrib_name(b->op))),
              "bad case %zu: message '%s' does not start with the op's name", k, err.text);
        CHECK(y.data == NULL, "bad case %zu: an output was made", k);
        d.cos.data = cos_data;
        free_data(&d);
    }
}

/* ---- attributes as the runner reads them ----------------------------------------------------------- */

/* A model of one com.microsoft node `op` with attribute `a` (NULL: none), decoded, then read. */
static int read_attributes(const char *op, msg *a, ort_contrib_attrs *out, diag *why) {
    const char *in[4] = {"input", "position_ids", "cos_cache", "sin_cache"}, *outs[1] = {"output"};
    msg node = node_proto(op, "com.microsoft", in, 4, outs, 1), g = {0};
    if (a) msg_sub(&node, 5, a);
    msg_sub(&g, 1, &node);
    msg m = model_proto(&g, "com.microsoft", 1);
    onnx_model model;
    diag err;
    int rc = -2;
    if (onnx_model_decode("model.onnx", m.b, m.n, &model, &err) == 0) {
        ort_contrib_op which = op[0] == 'M' ? ORT_MROTARY_EMBEDDING : ORT_ROTARY_EMBEDDING;
        rc = ort_contrib_attributes("model.onnx", &model.graph.nodes[0], which, out, why);
        onnx_model_free(&model);
    }
    msg_free(&m);
    return rc;
}

static void test_attributes(void) {
    ort_contrib_attrs a;
    diag why;
    msg at = {0};
    CHECK(read_attributes("MRotaryEmbedding", NULL, &a, &why) == 0 && a.scale == 1.0f && !a.has_mrope_section &&
              a.op == ORT_MROTARY_EMBEDDING, "defaults");
    msg_str(&at, 1, "scale"); /* an INT where FLOAT belongs */
    msg_int(&at, 3, 2);
    msg_int(&at, 20, 2);
    CHECK(read_attributes("RotaryEmbedding", &at, &a, &why) < 0 &&
              strstr(why.text, "attribute[0] 'scale' of com.microsoft::RotaryEmbedding: type 2, expected FLOAT (1)"),
          "scale as INT: %s", why.text);
    msg_str(&at, 1, "mrope_section"); /* not an attribute of RotaryEmbedding */
    msg_int(&at, 8, 2);
    msg_int(&at, 20, 7);
    CHECK(read_attributes("RotaryEmbedding", &at, &a, &why) < 0 &&
              strstr(why.text, "com.microsoft::RotaryEmbedding has no attribute 'mrope_section'"),
          "mrope_section on RotaryEmbedding: %s", why.text);
    msg_str(&at, 1, "mrope_section"); /* an INT where INTS belongs */
    msg_int(&at, 3, 2);
    msg_int(&at, 20, 2);
    CHECK(read_attributes("MRotaryEmbedding", &at, &a, &why) < 0 && strstr(why.text, "expected INTS (7)"),
          "mrope_section as INT: %s", why.text);
    msg_str(&at, 1, "num_heads"); /* FLOAT where INT belongs */
    msg_float(&at, 2, 2.0f);
    msg_int(&at, 20, 1);
    CHECK(read_attributes("MRotaryEmbedding", &at, &a, &why) < 0 && strstr(why.text, "'num_heads'") &&
              strstr(why.text, "expected INT (2)"), "num_heads as FLOAT: %s", why.text);
    msg_str(&at, 1, "mrope_section");
    for (int k = 0; k < 4; k++) msg_int(&at, 8, (uint64_t)(k + 1));
    msg_int(&at, 20, 7);
    CHECK(read_attributes("MRotaryEmbedding", &at, &a, &why) == 0 && a.has_mrope_section && a.n_mrope_section == 4 &&
              a.mrope_section[2] == 3, "four sections are read, and refused when run");
    msg_str(&at, 1, "scale"); /* no type, the float field: older writers */
    msg_float(&at, 2, 0.25f);
    CHECK(read_attributes("RotaryEmbedding", &at, &a, &why) == 0 && a.scale == 0.25f, "untyped scale: %s", why.text);
}

/* ---- through the CLI: a conformance directory with a bad node ------------------------------------ */

static void write_file(const char *path, msg *m) {
    diag err;
    CHECK(file_write_all(path, m->b, m->n, &err) == 0, "%s", err.text);
    msg_free(m);
}

static void write_input(const char *set, int k, const char *name, int32_t code, const int64_t *dims, int rank,
                        const void *data, size_t bytes) {
    char path[512];
    snprintf(path, sizeof path, "%s/input_%d.pb", set, k);
    msg t = tensor_raw(name, code, dims, rank, data, bytes);
    write_file(path, &t);
}

/* MRotaryEmbedding, input [1, 2, 8] f32 (one head), sections `s1 s2 s3`, positions all 0; the output
 * with every position 0 and cos 1, sin 0 is the input itself. */
static void write_mrotary_dir(const char *dir, int64_t s1, int64_t s2, int64_t s3) {
    char path[600], set[512];
    const char *in[4] = {"input", "position_ids", "cos_cache", "sin_cache"}, *out[1] = {"output"};
    float x[16], ones[8], zeros[8];
    int64_t pos[6] = {0};
    const int64_t xd[3] = {1, 2, 8}, pd[3] = {3, 1, 2}, cd[2] = {2, 4};
    for (int i = 0; i < 16; i++) x[i] = (float)tu_uniform(-2, 2);
    for (int i = 0; i < 8; i++) ones[i] = 1.0f, zeros[i] = 0.0f;
    mkdir(dir, 0777);
    snprintf(set, sizeof set, "%s/test_data_set_0", dir);
    mkdir(set, 0777);
    msg node = node_proto("MRotaryEmbedding", "com.microsoft", in, 4, out, 1), g = {0}, a = {0}, sc = {0};
    node_int_attr(&node, "num_heads", 1);
    msg_str(&a, 1, "mrope_section"); /* INTS: name=1, ints=8, type=20 (7) */
    msg_int(&a, 8, (uint64_t)s1);
    msg_int(&a, 8, (uint64_t)s2);
    msg_int(&a, 8, (uint64_t)s3);
    msg_int(&a, 20, 7);
    msg_sub(&node, 5, &a);
    msg_str(&sc, 1, "scale"); /* FLOAT: name=1, f=2, type=20 (1) */
    msg_float(&sc, 2, 1.0f);
    msg_int(&sc, 20, 1);
    msg_sub(&node, 5, &sc);
    msg_sub(&g, 1, &node);
    graph_value_info(&g, 12, "output");
    msg m = model_proto(&g, "com.microsoft", 1);
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    write_file(path, &m);
    write_input(set, 0, "input", 1, xd, 3, x, sizeof x);
    write_input(set, 1, "position_ids", 7, pd, 3, pos, sizeof pos);
    write_input(set, 2, "cos_cache", 1, cd, 2, ones, sizeof ones);
    write_input(set, 3, "sin_cache", 1, cd, 2, zeros, sizeof zeros);
    snprintf(path, sizeof path, "%s/output_0.pb", set);
    msg o = tensor_raw("output", 1, xd, 3, x, sizeof x);
    write_file(path, &o);
}

static int quiet_cmd(int (*cmd)(int, char **), int argc, char **argv) {
    fflush(stdout);
    fflush(stderr);
    FILE *sink = tmpfile();
    int so = dup(1), se = dup(2);
    dup2(fileno(sink), 1);
    dup2(fileno(sink), 2);
    int rc = cmd(argc, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(so, 1), dup2(se, 2);
    close(so), close(se);
    fclose(sink);
    return rc;
}

static void test_cli(void) {
    char root[64] = "/tmp/rope_ort_contrib_XXXXXX", good[128], badd[128], outdir[160], outfile[200];
    CHECK(mkdtemp(root) != NULL, "mkdtemp");
    snprintf(good, sizeof good, "%s/good", root);
    snprintf(badd, sizeof badd, "%s/bad", root);
    snprintf(outdir, sizeof outdir, "%s/out", root);
    write_mrotary_dir(good, 2, 1, 1);
    write_mrotary_dir(badd, 2, 2, 1);
    char *t_good[] = {"test", good}, *t_bad[] = {"test", badd};
    CHECK(quiet_cmd(rope_cmd_test, 2, t_good) == 0, "rope test on a good MRotaryEmbedding directory failed");
    CHECK(quiet_cmd(rope_cmd_test, 2, t_bad) == 1, "rope test on bad sections did not fail the case");
    char *r_bad[] = {"run", badd, "-o", outdir};
    CHECK(quiet_cmd(rope_cmd_run, 4, r_bad) == 1, "rope run on bad sections did not exit 1");
    struct stat st;
    CHECK(stat(outdir, &st) != 0, "rope run wrote %s on a refused case", outdir);
    char *r_good[] = {"run", good, "-o", outdir};
    CHECK(quiet_cmd(rope_cmd_run, 4, r_good) == 0, "rope run on a good directory failed");
    snprintf(outfile, sizeof outfile, "%s/output_0.pb", outdir);
    CHECK(stat(outfile, &st) == 0, "rope run did not write %s", outfile);
    unlink(outfile);
    rmdir(outdir);
    const char *leaves[] = {"input_0.pb", "input_1.pb", "input_2.pb", "input_3.pb", "output_0.pb"};
    for (int w = 0; w < 2; w++) {
        char path[320];
        const char *dir = w ? badd : good;
        for (int i = 0; i < 5; i++) {
            snprintf(path, sizeof path, "%s/test_data_set_0/%s", dir, leaves[i]);
            unlink(path);
        }
        snprintf(path, sizeof path, "%s/test_data_set_0", dir);
        rmdir(path);
        snprintf(path, sizeof path, "%s/model.onnx", dir);
        unlink(path);
        rmdir(dir);
    }
    rmdir(root);
}

int main(void) {
    tu_seed(0x0a7c0417);
    test_rotary_random();
    test_mrotary_random();
    test_mrotary_matches_vllm();
    test_errors();
    test_attributes();
    test_cli();
    return tu_finish();
}
