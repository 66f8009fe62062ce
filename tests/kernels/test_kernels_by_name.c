/* SPDX-License-Identifier: MIT */
/*
 * Every kernel of every set, by name and on its own (kernel.h, "Kernels by name"), not only the ones
 * selection reaches: each kernel the CPU can run is called directly on shapes it serves (its path's
 * pair strides, small ones for the blocked path too; several head sizes, partial rotation, 1..5
 * heads, strides wider than a head, a cos/sin row per head or one for all, a lead, streaming stores,
 * in place and out of place), and its output is compared
 *   - with the portable kernel's, bit for bit over the whole buffer (data with special values too;
 *     where two NaNs meet only NaN-ness must agree, kernel.h), and
 *   - with a float64 reference computed here (ordinary random data), within the rounding kernel.h
 *     documents: f32 products rounded, one add rounded, one rounding to the data's dtype (the
 *     normalised kernels: the float32 sum of squares and scale as well), copied elements exact.
 * The store pieces are compared with the portable one and, element by element, with value / scale
 * rounded to fp8 here.
 * The list itself: every name follows the scheme and is rebuilt here from the entry's fields, is
 * unique and found by rope_kernel_named, and selection returns, for every shape tried, a kernel of
 * the set's list that serves the shape, of the layout its name says.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "kernel_data.h"
#include "kernel_words.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
/* Weak: a build without avx512.c leaves it NULL (tests/kernels/kernel_sets.h). */
extern const rope_kernel_set rope_kernels_avx512_intbf16 __attribute__((weak));
#endif

enum { SENTINEL = 0xa5 };

/* The name kernel.h's scheme gives the entry's fields; the ISA word is taken from the name (after
 * "__"), and must start with the set's ISA name (avx512bf16 kernels are listed by avx512). */
static void expected_name(const rope_kernel_info *k, const char *isa_word, char *buf, size_t n) {
    if (k->kind == ROPE_KERNEL_STORE) {
        snprintf(buf, n, "rope_kernel_store__%s", isa_word);
        return;
    }
    char ps[16] = "";
    if (k->path == ROPE_PATH_PAIRS) snprintf(ps, sizeof ps, "_ps%zu", k->pair_stride);
    snprintf(buf, n, "rope_kernel_%s_%s_cos%s_%s_%s%s__%s", k->kind == ROPE_KERNEL_ROT ? "rot" : "norm",
             rope_dtype_name(k->x_dtype), rope_dtype_name(k->cs_dtype), kernel_path_word(k->path),
             k->cos_full ? "full" : "half", ps, isa_word);
}

static void check_entry(const rope_kernel_set *set, const rope_kernel_info *k) {
    const char *isa = rope_isa_name(set->isa), *under = strstr(k->name, "__");
    CHECK(under != NULL && strncmp(under + 2, isa, strlen(isa)) == 0, "%s: the ISA after '__' is not %s's", k->name,
          isa);
    char want[160];
    expected_name(k, under ? under + 2 : "?", want, sizeof want);
    CHECK(strcmp(want, k->name) == 0, "%s: the entry's fields make the name %s", k->name, want);
    CHECK(k->isa == set->isa, "%s: listed by %s but says isa %s", k->name, isa, rope_isa_name(k->isa));
    CHECK(rope_kernel_named(k->name) == k, "%s: rope_kernel_named does not find this entry", k->name);
    int fns = (k->rot != NULL) + (k->norm != NULL) + (k->store != NULL);
    int right = k->kind == ROPE_KERNEL_ROT    ? k->rot != NULL
                : k->kind == ROPE_KERNEL_NORM ? k->norm != NULL
                                              : k->store != NULL;
    CHECK(fns == 1 && right, "%s: not exactly its kind's function", k->name);
    CHECK((k->path == ROPE_PATH_PAIRS) == (k->pair_stride != 0), "%s: pair_stride %zu", k->name, k->pair_stride);
}

/* ---- data and buffers ------------------------------------------------------------------------- */

static double widen(rope_dtype t, const void *p, size_t i) {
    switch (t) {
    case ROPE_F16: return rope_f16_to_f32(((const uint16_t *)p)[i]);
    case ROPE_BF16: return rope_bf16_to_f32(((const uint16_t *)p)[i]);
    default: return ((const float *)p)[i];
    }
}

static uint32_t bits(size_t es, const unsigned char *p, size_t i) {
    uint32_t u = 0;
    if (es == 4) memcpy(&u, p + 4 * i, 4);
    else {
        uint16_t h;
        memcpy(&h, p + 2 * i, 2);
        u = h;
    }
    return u;
}

static int is_nan(rope_dtype t, uint32_t u) {
    if (t == ROPE_F32) return (u & 0x7fffffffu) > 0x7f800000u;
    return t == ROPE_F16 ? (u & 0x7fffu) > 0x7c00u : (u & 0x7fffu) > 0x7f80u;
}

/* One call of a rotation or normalised kernel: shape, heads and strides, in place or not. */
typedef struct bn_case {
    rope_kernel_shape sh;
    size_t heads, xs, ys, shift; /* strides in elements; shift: elements from a 64-byte boundary */
    int in_place;
} bn_case;

typedef struct bn_data {
    void *x, *cs, *sn;
    float *w;
    size_t xn, yn, cn; /* elements of x (and of y in place), of y out of place, of each cos/sin buffer */
} bn_data;

static void data_make(const bn_case *c, double special, bn_data *d) {
    const rope_kernel_shape *sh = &c->sh;
    d->xn = c->shift + (c->heads - 1) * c->xs + sh->head_size;
    d->yn = c->shift + (c->heads - 1) * c->ys + sh->head_size + 16;
    d->cn = rope_cos_width(sh) + (c->heads - 1) * (size_t)sh->cs_step;
    d->x = tu_xmalloc(d->xn * tk_es(sh->x_dtype));
    d->cs = tu_xmalloc(d->cn * tk_es(sh->cs_dtype));
    d->sn = tu_xmalloc(d->cn * tk_es(sh->cs_dtype));
    d->w = tu_xmalloc(sh->head_size * sizeof(float));
    tk_fill(sh->x_dtype, d->x, d->xn, special);
    tk_fill(sh->cs_dtype, d->cs, d->cn, special);
    tk_fill(sh->cs_dtype, d->sn, d->cn, special);
    for (size_t i = 0; i < sh->head_size; i++) d->w[i] = (float)tu_uniform(0.5, 1.5);
}

static void data_free(bn_data *d) {
    free(d->x);
    free(d->cs);
    free(d->sn);
    free(d->w);
}

/* Runs kernel k (rot or norm) on the case; returns the output buffer (*n elements): x's copy in place,
 * else y, with SENTINEL bytes wherever the kernel must not write. */
static unsigned char *run(const rope_kernel_info *k, const bn_case *c, const bn_data *d, size_t *n) {
    size_t es = tk_es(c->sh.x_dtype);
    unsigned char *xb = aligned_alloc(64, (d->xn * es + 63) / 64 * 64);
    memcpy(xb, d->x, d->xn * es);
    unsigned char *out = xb, *xh = xb + c->shift * es, *yh = xh;
    ptrdiff_t ys = (ptrdiff_t)c->xs;
    *n = d->xn;
    if (!c->in_place) {
        out = aligned_alloc(64, (d->yn * es + 63) / 64 * 64);
        memset(out, SENTINEL, d->yn * es);
        yh = out + c->shift * es;
        ys = (ptrdiff_t)c->ys;
        *n = d->yn;
    }
    if (k->kind == ROPE_KERNEL_ROT) k->rot(&c->sh, xh, (ptrdiff_t)c->xs, yh, ys, c->heads, d->cs, d->sn);
    else k->norm(&c->sh, xh, (ptrdiff_t)c->xs, yh, ys, c->heads, d->cs, d->sn, d->w, 1e-6f);
    const rope_kernel_set *set = rope_kernels_for(k->isa);
    if (c->sh.nontemporal && set && set->fence) set->fence(); /* as the engine does after streaming */
    if (!c->in_place) free(xb);
    return out;
}

static void describe(const rope_kernel_info *k, const bn_case *c, char *buf, size_t n) {
    snprintf(buf, n,
             "%s: head_size %zu rot %zu ps %zu split %d lead %zu heads %zu strides %zu/%zu cs_step %td nt %d %s",
             k->name, c->sh.head_size, c->sh.rot, c->sh.pair_stride, c->sh.split, c->sh.lead, c->heads, c->xs, c->ys,
             c->sh.cs_step, c->sh.nontemporal, c->in_place ? "in place" : "out of place");
}

/* ---- the float64 reference -------------------------------------------------------------------- */

/* Half the spacing of dtype t's values near magnitude v: the final rounding's error bound. */
static double half_ulp(rope_dtype t, double v) {
    switch (t) {
    case ROPE_F16: return fmax(v * 0x1p-11, 0x1p-25);
    case ROPE_BF16: return fmax(v * 0x1p-8, 0x1p-134);
    default: return 0.0; /* f32 output: the add's rounding is in the operation bound */
    }
}

/* The rotated pairs of a head: pair q's elements a, b and their cos/sin indices. Returns the count. */
static size_t pairs_of(const rope_kernel_shape *sh, size_t q, size_t *a, size_t *b, size_t *ca, size_t *cb) {
    size_t ps = sh->pair_stride, half = sh->rot / 2;
    if (sh->split) {
        *a = q;
        *b = ps + q;
        *ca = q;
        *cb = sh->cos_full ? half + q : q;
        return half;
    }
    size_t g = q / ps * 2 * ps, j = q % ps;
    *a = g + j;
    *b = g + j + ps;
    *ca = sh->cos_full ? *a : g / 2 + j;
    *cb = sh->cos_full ? *b : g / 2 + j;
    return half;
}

/* The normalised kernels' factor r of a head in float64, and the relative error bound of the
 * kernel's float32 scaled value x * (r * w): the sum of squares over 16 partials (head_size / 16
 * adds each, then 4 for the tree), the mean, + eps, sqrt and the division, then two products. */
static double norm_factor(rope_dtype t, const void *xh, size_t hs, double *rel) {
    double s = 0;
    for (size_t i = 0; i < hs; i++) s += widen(t, xh, i) * widen(t, xh, i);
    *rel = (0.5 * ((double)hs / 16 + 8) + 6) * 0x1p-24;
    return 1.0 / sqrt(s / (double)hs + 1e-6);
}

/* Checks the kernel's output `out` (plain data) against float64; returns the worst element's excess
 * over its bound (<= 0: within) and its index in *at. */
static double against_f64(const bn_case *c, const bn_data *d, const unsigned char *out, size_t *at, int norm) {
    const rope_kernel_shape *sh = &c->sh;
    rope_dtype t = sh->x_dtype, ct = sh->cs_dtype;
    size_t es = tk_es(t), ys = c->in_place ? c->xs : c->ys;
    double worst = -1;
    for (size_t h = 0; h < c->heads; h++) {
        const unsigned char *xh = (const unsigned char *)d->x + (c->shift + h * c->xs) * es;
        const unsigned char *yh = out + (c->shift + h * ys) * es;
        const unsigned char *cs = (const unsigned char *)d->cs + h * (size_t)sh->cs_step * tk_es(ct);
        const unsigned char *sn = (const unsigned char *)d->sn + h * (size_t)sh->cs_step * tk_es(ct);
        double rel = 0, r = norm ? norm_factor(t, xh, sh->head_size, &rel) : 1.0;
        double *want = malloc(sh->head_size * sizeof *want), *bound = malloc(sh->head_size * sizeof *bound);
        char *exact = calloc(sh->head_size, 1);
        for (size_t i = 0; i < sh->head_size; i++) { /* not rotated: copied (or scaled, normalised) */
            double v = widen(t, xh, i) * (norm ? r * d->w[i] : 1.0);
            want[i] = v;
            bound[i] = fabs(v) * rel + half_ulp(t, fabs(v) * (1 + rel));
            exact[i] = !norm;
        }
        size_t a, b, ca, cb;
        for (size_t q = 0, n = 1; q < n; q++) {
            n = pairs_of(sh, q, &a, &b, &ca, &cb);
            if (n == 0) break;
            double xa = widen(t, xh, a) * (norm ? r * d->w[a] : 1.0), xb = widen(t, xh, b) * (norm ? r * d->w[b] : 1.0);
            double c_a = widen(ct, cs, ca), s_a = widen(ct, sn, ca), c_b = widen(ct, cs, cb), s_b = widen(ct, sn, cb);
            double ma = fabs(xa * c_a) + fabs(xb * s_a), mb = fabs(xa * s_b) + fabs(xb * c_b);
            double e = 2.01 * 0x1p-24 + 1.01 * rel; /* two products and the add, on scaled values */
            want[a] = xa * c_a - xb * s_a;
            bound[a] = ma * e + half_ulp(t, fabs(want[a]) + ma * e);
            want[b] = xa * s_b + xb * c_b;
            bound[b] = mb * e + half_ulp(t, fabs(want[b]) + mb * e);
            exact[a] = exact[b] = 0;
        }
        for (size_t i = 0; i < sh->head_size; i++) {
            double got = widen(t, yh, i), excess;
            if (exact[i]) excess = bits(es, yh, i) == bits(es, xh, i) ? -1 : 1;
            else excess = fabs(got - want[i]) - 2 * bound[i]; /* x2: slack over the first-order bound */
            if (!(excess <= worst)) {
                worst = excess;
                *at = (c->shift + h * ys) + i;
            }
        }
        for (size_t i = 1; i <= sh->lead; i++) /* the lead: copied (out of place), or left (in place) */
            if (bits(es, yh - i * es, 0) != bits(es, xh - i * es, 0)) {
                worst = 1;
                *at = (c->shift + h * ys) - i;
            }
        free(want);
        free(bound);
        free(exact);
    }
    return worst;
}

/* ---- one case --------------------------------------------------------------------------------- */

static long calls;

/* The case on kernel k: bitwise against the portable kernel (special data, then plain data), and
 * against float64 (plain data). */
static void check_case(const rope_kernel_info *k, const bn_case *c) {
    const rope_kernel_shape *sh = &c->sh;
    char what[400];
    describe(k, c, what, sizeof what);
    CHECK(rope_kernel_serves(k, sh), "%s: the test made a shape the kernel does not serve", what);
    rope_kernel_info ref = {0};
    ref.kind = k->kind;
    if (k->kind == ROPE_KERNEL_ROT) ref.rot = rope_kernels_select(&rope_kernels_scalar, sh);
    else ref.norm = rope_kernels_select_norm(&rope_kernels_scalar, sh);
    size_t es = tk_es(sh->x_dtype);
    for (int plain = 0; plain < 2; plain++) {
        bn_data d;
        data_make(c, plain ? 0.0 : 0.05, &d);
        size_t n, n_ref;
        unsigned char *got = run(k, c, &d, &n), *want = run(&ref, c, &d, &n_ref);
        calls++;
        size_t bad = n;
        for (size_t i = 0; i < n && bad == n; i++) {
            uint32_t u = bits(es, got, i), v = bits(es, want, i);
            if (u != v && !(is_nan(sh->x_dtype, u) && is_nan(sh->x_dtype, v))) bad = i;
        }
        CHECK(bad == n, "%s, %s data: element %zu is 0x%x, the portable kernel's 0x%x", what,
              plain ? "plain" : "special", bad, bad < n ? bits(es, got, bad) : 0, bad < n ? bits(es, want, bad) : 0);
        if (plain) {
            size_t at = 0;
            double excess = against_f64(c, &d, got, &at, k->kind == ROPE_KERNEL_NORM);
            CHECK(excess <= 0, "%s: element %zu is %.9g, outside the documented rounding of the float64 value", what,
                  at, widen(sh->x_dtype, got, at));
        }
        free(got);
        free(want);
        data_free(&d);
    }
}

/* A random case of head size hs, rotated width rot and pair stride ps for kernel k's dtypes and
 * cos width; `split` for the split layout (then ps = hs / 2). */
static bn_case make_case(const rope_kernel_info *k, size_t hs, size_t rot, size_t ps, int split) {
    bn_case c;
    memset(&c, 0, sizeof c);
    int norm = k->kind == ROPE_KERNEL_NORM;
    c.sh.x_dtype = k->x_dtype;
    c.sh.cs_dtype = k->cs_dtype;
    c.sh.head_size = hs;
    c.sh.rot = rot;
    c.sh.pair_stride = ps;
    c.sh.split = split;
    c.sh.cos_full = k->cos_full;
    c.heads = (size_t)tu_int(1, 5);
    c.in_place = tu_int(0, 2) == 0;
    if (tu_int(0, 1)) c.sh.cs_step = (ptrdiff_t)(rope_cos_width(&c.sh) + (size_t)tu_int(0, 5));
    if (!norm && tu_int(0, 3) == 0) c.sh.lead = (size_t)tu_int(1, 6);
    c.xs = hs + c.sh.lead + (tu_int(0, 1) ? (size_t)tu_int(0, 24) : 0);
    c.ys = c.in_place ? c.xs : hs + c.sh.lead + (tu_int(0, 1) ? (size_t)tu_int(0, 24) : 0);
    c.shift = c.sh.lead + (tu_int(0, 1) ? 0 : (size_t)tu_int(0, 15));
    c.sh.nontemporal = !c.in_place && !norm && tu_int(0, 2) == 0;
    return c;
}

/* A random even rotated width in [2, hs] that is a multiple of 2 * ps (hs itself on some draws). */
static size_t rot_for(size_t hs, size_t ps) {
    size_t groups = hs / (2 * ps);
    if (groups == 0) return 0;
    return tu_int(0, 1) ? groups * 2 * ps : (size_t)tu_int(1, (int64_t)groups) * 2 * ps;
}

/* A random divisor of n (n >= 1). */
static size_t divisor_of(size_t n) {
    size_t d;
    do d = (size_t)tu_int(1, (int64_t)n);
    while (n % d != 0);
    return d;
}

/* The blocked path's shapes: halves, small power-of-two strides, any divisor of rot / 2. */
static void blocked_shape(size_t hs, int rep, size_t *rot, size_t *ps) {
    *rot = rep == 0 || tu_int(0, 1) ? hs : 2 * (size_t)tu_int(1, (int64_t)hs / 2);
    *ps = rep == 0 ? *rot / 2 : rep == 1 ? (size_t)1 << tu_int(0, 3) : divisor_of(*rot / 2);
    if ((*rot / 2) % *ps != 0) *ps = *rot / 2;
}

static const size_t head_sizes[] = {2, 8, 16, 24, 30, 64, 80, 96, 128, 130, 192, 256, 288};

/* Shapes kernel k serves, several per head size. */
static void run_kernel(const rope_kernel_info *k) {
    for (size_t s = 0; s < sizeof head_sizes / sizeof head_sizes[0]; s++) {
        size_t hs = head_sizes[s];
        for (int rep = 0; rep < 3; rep++) {
            size_t ps = 0, rot = 0;
            int split = 0;
            switch (k->path) {
            case ROPE_PATH_PAIRS:
                ps = k->pair_stride;
                rot = rot_for(hs, ps);
                if (rot == 0) continue;
                break;
            case ROPE_PATH_SPLIT:
                if (hs < 4) continue;
                split = 1;
                ps = hs / 2;
                rot = 2 * (size_t)tu_int(1, (int64_t)hs / 2 - 1);
                break;
            case ROPE_PATH_ANY:
                if (k->kind == ROPE_KERNEL_ROT && hs >= 4 && rep == 2) { /* the split layout too */
                    split = 1;
                    ps = hs / 2;
                    rot = 2 * (size_t)tu_int(1, (int64_t)hs / 2 - 1);
                    break;
                }
                blocked_shape(hs, rep, &rot, &ps);
                break;
            case ROPE_PATH_BLOCKED: blocked_shape(hs, rep, &rot, &ps); break;
            }
            bn_case c = make_case(k, hs, rot, ps, split);
            check_case(k, &c);
        }
    }
}

/* ---- the store pieces ------------------------------------------------------------------------- */

/* fp8 bits to float64 (E4M3: bias 7, 3 mantissa bits, 0x7f / 0xff NaN; E5M2: bias 15, 2 bits). */
static double fp8_value(uint8_t b, rope_dtype t) {
    int mant = t == ROPE_FP8_E4M3 ? 3 : 2, bias = t == ROPE_FP8_E4M3 ? 7 : 15;
    int e = (b & 0x7f) >> mant, m = b & ((1 << mant) - 1);
    double v = e == 0 ? ldexp(m, 1 - bias - mant) : ldexp((1 << mant) + m, e - bias - mant);
    return b & 0x80 ? -v : v;
}

static void run_store(const rope_kernel_info *k) {
    static const rope_dtype srcs[] = {ROPE_F32, ROPE_F16, ROPE_BF16};
    static const rope_dtype dsts[] = {ROPE_DTYPE_INVALID, ROPE_FP8_E4M3, ROPE_FP8_E5M2};
    static const float scales[] = {1.0f, 0.5f, 3.0f};
    for (int si = 0; si < 3; si++)
        for (int di = 0; di < 3; di++)
            for (int rep = 0; rep < 4; rep++) {
                rope_dtype st = srcs[si], dt = dsts[di] ? dsts[di] : st;
                size_t hs = head_sizes[tu_int(1, sizeof head_sizes / sizeof head_sizes[0] - 1)];
                size_t heads = (size_t)tu_int(1, 5), ss = hs + (rep & 1 ? (size_t)tu_int(0, 9) : 0);
                size_t ds = hs + (rep & 2 ? (size_t)tu_int(0, 9) : 0);
                float scale = scales[tu_int(0, 2)];
                size_t ses = tk_es(st), des = rope_dtype_size(dt), sn = (heads - 1) * ss + hs,
                       dn = (heads - 1) * ds + hs;
                unsigned char *src = tu_xmalloc(sn * ses), *got = tu_xmalloc(dn * des), *want = tu_xmalloc(dn * des);
                tk_fill(st, src, sn, rep == 3 ? 0.05 : 0.0);
                memset(got, SENTINEL, dn * des);
                memset(want, SENTINEL, dn * des);
                int nontemporal = rep == 1; /* streaming stores: the same bytes */
                k->store(st, src, (ptrdiff_t)ss, dt, got, (ptrdiff_t)ds, heads, hs, scale, nontemporal);
                const rope_kernel_set *set = rope_kernels_for(k->isa);
                if (nontemporal && set && set->fence) set->fence();
                rope_kernel_store__scalar(st, src, (ptrdiff_t)ss, dt, want, (ptrdiff_t)ds, heads, hs, scale, 0);
                calls++;
                CHECK(memcmp(got, want, dn * des) == 0,
                      "%s: %s -> %s, %zu heads of %zu, strides %zu/%zu, scale %g: "
                      "not the portable piece's bytes",
                      k->name, rope_dtype_name(st), rope_dtype_name(dt), heads, hs, ss, ds, (double)scale);
                if (rep == 3) goto next; /* special values: the portable comparison only */
                for (size_t h = 0; h < heads; h++)
                    for (size_t i = 0; i < hs; i++) {
                        size_t si_ = h * ss + i, di_ = h * ds + i;
                        int ok;
                        if (dt == st) {
                            ok = memcmp(got + di_ * des, src + si_ * ses, ses) == 0;
                        } else {
                            double v = widen(st, src, si_) / scale, g = fp8_value(got[di_], dt);
                            int mant = dt == ROPE_FP8_E4M3 ? 3 : 2, e;
                            frexp(v, &e);
                            double half =
                                fmax(ldexp(1, e - 1 - mant - 1), ldexp(1, (dt == ROPE_FP8_E4M3 ? -6 : -14) - mant - 1));
                            ok = fabs(g - v) <= half * (1 + 0x1p-20); /* v / scale is rounded to f32 first */
                        }
                        CHECK(ok, "%s: %s -> %s scale %g, head %zu element %zu: %g stored as 0x%02x", k->name,
                              rope_dtype_name(st), rope_dtype_name(dt), (double)scale, h, i, widen(st, src, si_),
                              got[di_]);
                        if (!ok) goto next;
                    }
            next:
                free(src);
                free(got);
                free(want);
            }
}

/* ---- selection against the list --------------------------------------------------------------- */

static const rope_kernel_info *entry_of(const rope_kernel_set *set, rope_kernel_fn rot, rope_kernel_norm_fn norm) {
    for (size_t i = 0;; i++) {
        const rope_kernel_info *k = set->kernel_at(i);
        if (!k) return NULL;
        if ((rot && k->rot == rot) || (norm && k->norm == norm)) return k;
    }
}

/* For kernel k's own shapes, the set selects a kernel of its list that serves the shape and walks
 * the layout k's name says (the same kernel, or, for bf16 on a CPU with AVX512_BF16, its
 * avx512bf16 twin). */
static void check_selection(const rope_kernel_set *set, const rope_kernel_info *k) {
    size_t hs = 128, ps = k->path == ROPE_PATH_PAIRS ? k->pair_stride : k->path == ROPE_PATH_SPLIT ? hs / 2 : hs / 2;
    bn_case c = make_case(k, hs, k->path == ROPE_PATH_SPLIT ? 96 : hs, ps, k->path == ROPE_PATH_SPLIT);
    if (k->kind == ROPE_KERNEL_NORM) c.sh.lead = 0;
    const rope_kernel_info *sel = k->kind == ROPE_KERNEL_ROT ? entry_of(set, set->select(&c.sh), NULL)
                                                             : entry_of(set, NULL, set->select_norm(&c.sh));
    CHECK(sel != NULL, "%s: %s selects no kernel of its list for the kernel's own shape", k->name,
          rope_isa_name(set->isa));
    if (!sel) return;
    CHECK(rope_kernel_serves(sel, &c.sh), "%s: selection returned %s, which does not serve the shape", k->name,
          sel->name);
    if (set->isa != ROPE_ISA_SCALAR)
        CHECK(sel->path == k->path && sel->pair_stride == k->pair_stride && sel->x_dtype == k->x_dtype &&
                  sel->cs_dtype == k->cs_dtype && sel->cos_full == k->cos_full,
              "%s: its own shape selects %s", k->name, sel->name);
}

/* Random shapes of every kind: whatever the set selects is in its list and serves the shape. */
static void check_random_selection(const rope_kernel_set *set) {
    for (int n = 0; n < 3000; n++) {
        int combo = (int)tu_int(0, 4), full = (int)tu_int(0, 1);
        size_t hs = 2 * (size_t)tu_int(1, 150);
        rope_kernel_info proto = {0};
        proto.x_dtype = tk_combos[combo][0];
        proto.cs_dtype = tk_combos[combo][1];
        proto.cos_full = full;
        proto.kind = ROPE_KERNEL_ROT;
        size_t rot = 2 * (size_t)tu_int(1, (int64_t)hs / 2);
        int split = hs >= 4 && tu_int(0, 4) == 0;
        if (split) rot = 2 * (size_t)tu_int(1, (int64_t)hs / 2 - 1);
        bn_case c = make_case(&proto, hs, rot, split ? hs / 2 : tk_rs(rot, full), split);
        rope_kernel_fn fn = set->select(&c.sh);
        if (fn) {
            const rope_kernel_info *k = entry_of(set, fn, NULL);
            CHECK(k && rope_kernel_serves(k, &c.sh), "%s selects %s for head_size %zu rot %zu ps %zu split %d full %d",
                  rope_isa_name(set->isa), k ? k->name : "a kernel not in its list", hs, rot, c.sh.pair_stride, split,
                  full);
        }
        if (!full && !split) {
            c.sh.lead = 0;
            rope_kernel_norm_fn nf = set->select_norm ? set->select_norm(&c.sh) : NULL;
            if (nf) {
                const rope_kernel_info *k = entry_of(set, NULL, nf);
                CHECK(k && rope_kernel_serves(k, &c.sh), "%s selects normalised %s for head_size %zu rot %zu ps %zu",
                      rope_isa_name(set->isa), k ? k->name : "a kernel not in its list", hs, rot, c.sh.pair_stride);
            }
        }
    }
}

/* ---- every set -------------------------------------------------------------------------------- */

static void run_set(const rope_kernel_set *set, const char *label, int *counts) {
    size_t listed = 0, ran = 0;
    for (size_t i = 0;; i++) {
        const rope_kernel_info *k = set->kernel_at(i);
        if (!k) break;
        listed++;
        check_entry(set, k);
        for (size_t j = 0; j < i; j++)
            CHECK(set->kernel_at(j) != k && strcmp(set->kernel_at(j)->name, k->name) != 0, "%s listed twice", k->name);
        if (!k->cpu_has()) continue;
        ran++;
        tu_seed(0xb17a3e00u + i);
        if (k->kind == ROPE_KERNEL_STORE) run_store(k);
        else {
            check_selection(set, k);
            run_kernel(k);
        }
    }
    if (set->cpu_has()) check_random_selection(set);
    printf("%-24s %3zu kernels listed, %3zu run on this CPU\n", label, listed, ran);
    counts[0] += (int)listed, counts[1] += (int)ran;
}

int main(void) {
    int counts[2] = {0, 0};
    for (int isa = ROPE_ISA_SCALAR; isa < ROPE_ISA_COUNT_; isa++) {
        const rope_kernel_set *set = rope_kernels_for((rope_isa)isa);
        if (set) run_set(set, rope_isa_name((rope_isa)isa), counts);
    }
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    /* The integer-bf16 avx512 table: its list is avx512's own entries (already run above); its
     * selection is checked against it. */
    if (&rope_kernels_avx512_intbf16 && rope_kernels_avx512_intbf16.cpu_has())
        check_random_selection(&rope_kernels_avx512_intbf16);
#endif
    printf("%d kernels listed, %d run against the portable kernel and float64 in %ld calls\n", counts[0], counts[1],
           calls);
    CHECK(rope_kernel_named("rope_kernel_rot_f32_cosf32_any_half__scalar") != NULL, "the scalar f32 kernel by name");
    CHECK(rope_kernel_named("rope_kernel_rot_f32_cosf32_any_half__nosuch") == NULL, "an unknown name is found");
    return tu_finish();
}
