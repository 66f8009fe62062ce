/* SPDX-License-Identifier: MIT */
/* Float64 references from the specs' text; see reference.h for the tolerance argument. */
#include "reference.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* ---- scalar formats ------------------------------------------------------------------------------ */

/* v rounded to float32. The volatile store makes the rounding happen: GCC 12 at -O3 lets its SLP
 * vectorizer drop the pair of conversions in (double)(float)p - p, which then reads 0. */
static double to_f32(double v) {
    volatile float f = (float)v;
    return f;
}

/* The magnitude of a pattern without its sign, reading the all-ones exponent as one more normal
 * binade, so the first pattern past the largest finite value is the next power of two. */
static double f16_mag(uint16_t h) {
    int e = (h >> 10) & 0x1f, m = h & 0x3ff;
    return e == 0 ? ldexp(m, -24) : ldexp(1024 + m, e - 25);
}

static double bf16_mag(uint16_t b) {
    int e = (b >> 7) & 0xff, m = b & 0x7f;
    return e == 0 ? ldexp(m, -133) : ldexp(128 + m, e - 134);
}

/* The magnitudes of the patterns [0, inf_pattern], computed once: ldexp on every call would
 * dominate the tests' running time. */
static double f16_table[0x7c01], bf16_table[0x7f81];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void fill_tables(void) {
    for (uint32_t p = 0; p <= 0x7c00; p++) f16_table[p] = f16_mag((uint16_t)p);
    for (uint32_t p = 0; p <= 0x7f80; p++) bf16_table[p] = bf16_mag((uint16_t)p);
}

static const double *table_of(uint16_t inf_pattern) {
    pthread_once(&tables_once, fill_tables);
    return inf_pattern == 0x7c00 ? f16_table : bf16_table;
}

double ref_f16_value(uint16_t h) {
    double sign = (h & 0x8000) ? -1.0 : 1.0;
    if ((h & 0x7c00) == 0x7c00) return (h & 0x3ff) ? NAN : sign * INFINITY;
    return copysign(table_of(0x7c00)[h & 0x7fff], sign);
}

double ref_bf16_value(uint16_t b) {
    double sign = (b & 0x8000) ? -1.0 : 1.0;
    if ((b & 0x7f80) == 0x7f80) return (b & 0x7f) ? NAN : sign * INFINITY;
    return copysign(table_of(0x7f80)[b & 0x7fff], sign);
}

/* The nearest of the patterns [0, inf_pattern] to a = |v| (finite or not), ties to the even one. */
static uint16_t nearest(double a, uint16_t inf_pattern) {
    const double *mag = table_of(inf_pattern);
    if (a >= mag[inf_pattern]) return inf_pattern;
    uint16_t lo = 0, hi = inf_pattern; /* invariant: mag(lo) <= a < mag(hi) */
    while (hi - lo > 1) {
        uint16_t mid = (uint16_t)(lo + (hi - lo) / 2);
        if (mag[mid] <= a) lo = mid;
        else hi = mid;
    }
    /* The midpoint of two neighbours has one bit more than the format: exact in double. */
    double half = (mag[lo] + mag[hi]) / 2;
    if (a < half) return lo;
    if (a > half) return hi;
    return (lo & 1) ? hi : lo;
}

uint16_t ref_f16_round(double v) {
    uint16_t sign = signbit(v) ? 0x8000 : 0;
    if (isnan(v)) return (uint16_t)(sign | 0x7e00);
    return (uint16_t)(sign | nearest(fabs(v), 0x7c00));
}

uint16_t ref_bf16_round(double v) {
    uint16_t sign = signbit(v) ? 0x8000 : 0;
    if (isnan(v)) return (uint16_t)(sign | 0x7fc0);
    return (uint16_t)(sign | nearest(fabs(v), 0x7f80));
}

double ref_round(rope_dtype dt, double v) {
    switch (dt) {
    case ROPE_F16: return ref_f16_value(ref_f16_round(v));
    case ROPE_BF16: return ref_bf16_value(ref_bf16_round(v));
    default: return to_f32(v);
    }
}

double ref_ulp(rope_dtype dt, double v) {
    int mant = dt == ROPE_F16 ? 10 : dt == ROPE_BF16 ? 7 : 23;
    int emin = dt == ROPE_F16 ? -14 : -126;
    double a = fabs(v);
    if (a < ldexp(1.0, emin)) return ldexp(1.0, emin - mant);
    int e;
    frexp(a, &e); /* a = f * 2^e, f in [0.5, 1): floor(log2 a) = e - 1 */
    return ldexp(1.0, e - 1 - mant);
}

double ref_load(rope_dtype dt, const void *p, size_t i) {
    if (dt == ROPE_F32) {
        float f;
        memcpy(&f, (const char *)p + 4 * i, 4);
        return f;
    }
    uint16_t h;
    memcpy(&h, (const char *)p + 2 * i, 2);
    return dt == ROPE_F16 ? ref_f16_value(h) : ref_bf16_value(h);
}

void ref_store(rope_dtype dt, void *p, size_t i, double v) {
    if (dt == ROPE_F32) {
        float f = (float)v;
        memcpy((char *)p + 4 * i, &f, 4);
        return;
    }
    uint16_t h = dt == ROPE_F16 ? ref_f16_round(v) : ref_bf16_round(v);
    memcpy((char *)p + 2 * i, &h, 2);
}

/* ---- random data --------------------------------------------------------------------------------- */

void ref_fill(rope_dtype dt, void *buf, double *vals, size_t n) {
    for (size_t i = 0; i < n; i++) {
        double r;
        if (dt == ROPE_F32) {
            do r = to_f32(tu_uniform(-2.0, 2.0));
            while (r == 0.0);
            ref_store(dt, buf, i, r); /* exact: r is a float32 */
        } else { /* round once, store the pattern found */
            uint16_t h;
            do {
                double v = tu_uniform(-2.0, 2.0);
                h = dt == ROPE_F16 ? ref_f16_round(v) : ref_bf16_round(v);
            } while ((h & 0x7fff) == 0);
            memcpy((char *)buf + 2 * i, &h, 2);
            r = dt == ROPE_F16 ? ref_f16_value(h) : ref_bf16_value(h);
        }
        if (vals) vals[i] = r;
    }
}

/* ---- shared arithmetic ---------------------------------------------------------------------------- */

/* The rounding error of the float32 product of two values read from f32/f16/bf16 data: their
 * double product is exact (at most 48 significant bits), so the cast rounds it once, as float32
 * arithmetic does. */
static double product_error(double a, double b) {
    double p = a * b;
    return fabs(to_f32(p) - p);
}

/* ---- ONNX RotaryEmbedding-23 ------------------------------------------------------------------- */

size_t ref_onnx_numel(const ref_onnx_case *c) {
    return (size_t)(c->batch * c->seq * c->heads * c->head_size);
}

int ref_onnx_rotary(const ref_onnx_case *c, const double *x, const double *cos, const double *sin,
                    const int64_t *ids, double *want, double *perr) {
    int64_t B = c->batch, S = c->seq, N = c->heads, H = c->head_size;
    int64_t r = c->rot ? c->rot : H;
    if (B < 0 || S < 0 || N < 0 || H < 0 || r < 0 || r > H || r % 2 || (c->rank != 3 && c->rank != 4) ||
        c->interleaved < 0 || c->interleaved > 3 || (c->interleaved == 3 && H % 2))
        return -1;
    if (ids)
        for (int64_t i = 0; i < B * S; i++)
            if (ids[i] < 0 || ids[i] >= c->max_pos) return -1;
    int64_t half = r / 2;
    for (int64_t b = 0; b < B; b++)
        for (int64_t s = 0; s < S; s++) {
            /* The cache row: position_ids[b][s] of the 2-D cache, or row [b][s] of the 3-D one. */
            int64_t row = ids ? ids[b * S + s] : b * S + s;
            const double *cr = cos + row * half, *sr = sin + row * half;
            for (int64_t n = 0; n < N; n++) {
                int64_t base = c->rank == 4 ? ((b * N + n) * S + s) * H : ((b * S + s) * N + n) * H;
                const double *xv = x + base;
                for (int64_t i = 0; i < H; i++) { /* what no pair writes is copied unchanged */
                    want[base + i] = xv[i];
                    perr[base + i] = -1;
                }
                for (int64_t j = 0; j < half; j++) {
                    int pairs = c->interleaved == 1 || c->interleaved == 2;
                    int64_t i1 = pairs ? 2 * j : j, i2 = pairs ? 2 * j + 1 : j + half; /* read */
                    if (c->interleaved == 3) i2 = H / 2 + j;
                    int64_t o1 = i1, o2 = i2; /* written */
                    if (c->interleaved == 2) o1 = j, o2 = half + j;
                    double cj = cr[j], sj = sr[j];
                    if (c->backward) { /* the transpose: by -angle, from the outputs' places to the inputs' */
                        int64_t t1 = i1, t2 = i2;
                        i1 = o1, i2 = o2, o1 = t1, o2 = t2;
                        sj = -sj;
                    }
                    double x1 = xv[i1], x2 = xv[i2];
                    want[base + o1] = cj * x1 - sj * x2;
                    want[base + o2] = sj * x1 + cj * x2;
                    perr[base + o1] = product_error(cj, x1) + product_error(sj, x2);
                    perr[base + o2] = product_error(sj, x1) + product_error(cj, x2);
                }
            }
        }
    return 0;
}

/* ---- ATB RopeOperation ---------------------------------------------------------------------------- */

/* pos(t) for every token (R3), or -1 when the rules are broken. */
static int atb_positions(const ref_atb_case *c, int64_t *pos) {
    if (c->cos_format == 0) {
        if (c->cos_rows < c->ntokens) return -1;
        for (int64_t t = 0; t < c->ntokens; t++) pos[t] = t;
        return 0;
    }
    if (c->cos_format != 1 || c->batch < 0 || (c->batch > 0 && !c->seqlen)) return -1;
    int64_t t = 0;
    for (int64_t b = 0; b < c->batch; b++) {
        if (c->seqlen[b] < 0 || c->seqlen[b] > c->cos_rows || c->seqlen[b] > c->ntokens - t) return -1;
        for (int64_t i = 0; i < c->seqlen[b]; i++) pos[t++] = i; /* each sequence restarts at row 0 */
    }
    return t == c->ntokens ? 0 : -1;
}

int ref_atb_rotate(const ref_atb_case *c, int64_t hidden, const double *x, const double *cos, const double *sin,
                   double *want, double *perr) {
    int64_t D = c->d, rc = c->rotary_coeff, hs = c->head_size;
    if (hs && (hs % 2 || hs < D || hidden % hs || rc != 2)) return -1;
    if (D <= 0 || D % 2 || hidden < 0 || (!hs && hidden % D) || c->ntokens < 0) return -1;
    if ((rc != 2 && rc != 4 && rc != D) || D % rc) return -1;
    int64_t rs = D / rc; /* the rotation stride */
    int64_t pos_small[64];
    int64_t *pos = c->ntokens <= 64 ? pos_small : malloc((size_t)c->ntokens * sizeof *pos);
    if (!pos) return -1;
    int ok = atb_positions(c, pos) == 0;
    for (int64_t t = 0; ok && t < c->ntokens; t++) {
        const double *xr = x + t * hidden, *cr = cos + pos[t] * D, *sr = sin + pos[t] * D;
        if (hs) { /* split: per head, (j, hs/2 + j) for j < D/2; every other element copied */
            for (int64_t i = 0; i < hidden; i++) want[t * hidden + i] = xr[i], perr[t * hidden + i] = -1;
            for (int64_t h0 = 0; h0 < hidden; h0 += hs)
                for (int64_t j = 0; j < D / 2; j++) {
                    int64_t a = h0 + j, b = h0 + hs / 2 + j, cb = D / 2 + j;
                    want[t * hidden + a] = xr[a] * cr[j] - xr[b] * sr[j];
                    want[t * hidden + b] = xr[b] * cr[cb] + xr[a] * sr[cb];
                    perr[t * hidden + a] = product_error(xr[a], cr[j]) + product_error(xr[b], sr[j]);
                    perr[t * hidden + b] = product_error(xr[b], cr[cb]) + product_error(xr[a], sr[cb]);
                }
            continue;
        }
        for (int64_t i = 0; i < hidden; i++) {
            int64_t d = i % D, o = d % (2 * rs);
            int64_t partner = o < rs ? i + rs : i - rs;
            double sign = o < rs ? -1.0 : 1.0;
            want[t * hidden + i] = xr[i] * cr[d] + sign * xr[partner] * sr[d];
            perr[t * hidden + i] = product_error(xr[i], cr[d]) + product_error(xr[partner], sr[d]);
        }
    }
    if (pos != pos_small) free(pos);
    return ok ? 0 : -1;
}

int ref_atb_rope(const ref_atb_case *c, const double *q, const double *k, const double *cos, const double *sin,
                 double *want_q, double *perr_q, double *want_k, double *perr_k) {
    if (c->hidden_k <= 0 || c->hidden_q % c->hidden_k) return -1;
    int64_t unit = c->head_size ? c->head_size : c->d;
    if (c->hidden_q % unit || c->hidden_k % unit) return -1; /* checked before anything is written */
    if (ref_atb_rotate(c, c->hidden_q, q, cos, sin, want_q, perr_q)) return -1;
    return ref_atb_rotate(c, c->hidden_k, k, cos, sin, want_k, perr_k);
}

/* ---- comparison ---------------------------------------------------------------------------------- */

double ref_tolerance(rope_dtype dt, double want, double perr) {
    if (perr < 0) return 0;
    double a = fabs(want), tol;
    if (dt == ROPE_F32) tol = perr + 0.5 * ref_ulp(ROPE_F32, a + perr);
    else tol = ref_ulp(dt, a) + perr;
    return tol + a * 0x1p-40;
}

size_t ref_compare(rope_dtype dt, const void *out, size_t rows, size_t row_len, size_t stride, const double *want,
                   const double *perr, ref_report *rep) {
    ref_report r = {0, 0, 0, 0, 0, -1};
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < row_len; j++) {
            size_t k = i * row_len + j;
            double got = ref_load(dt, out, i * stride + j);
            double tol = ref_tolerance(dt, want[k], perr[k]);
            double err = fabs(got - want[k]);
            double ratio;
            if (err <= tol) {
                ratio = tol > 0 ? err / tol : 0;
            } else { /* NaN lands here too */
                r.bad++;
                ratio = tol > 0 && !isnan(err) ? err / tol : INFINITY;
            }
            if (ratio > r.ratio) r.worst = k, r.got = got, r.want = want[k], r.ratio = ratio;
            r.checked++;
        }
    if (r.ratio < 0) r.ratio = 0;
    if (rep) *rep = r;
    return r.bad;
}

const char *ref_report_str(const ref_report *rep, char *buf, size_t size) {
    snprintf(buf, size, "%zu of %zu beyond tolerance; worst [%zu]: got %.9g, want %.9g, %.3g x tolerance",
             rep->bad, rep->checked, rep->worst, rep->got, rep->want, rep->ratio);
    return buf;
}
