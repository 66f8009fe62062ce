/* SPDX-License-Identifier: MIT */
/*
 * rope_cache_fill_axes: per-token cos/sin tables of multi-axis positions (rope.h, "Multi-axis
 * positions").
 *
 * The frequencies come from freq.c's default method (one plan per axis: the axis's own width, or the
 * whole width for ALTERNATING), so a one-axis configuration is bitwise rope_cache_fill's table at the
 * same positions. Coordinates may be fractional: the angle is still the exact product of a float64
 * coordinate and a float64 frequency (angle.c), so integer coordinates given as f32 / f64 (as diffusion
 * pipelines give them) yield the same bits as i64 ones. Every coordinate is read and checked before
 * the first value is written.
 */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/check.h"
#include "../core/try.h"
#include "angle.h"
#include "axes.h"
#include "freq.h"
#include "table.h"

static const char fill_where[] = "rope_cache_fill_axes";

/* The first published layout is today's whole struct; later versions will end further on. */
#define AXES_CONFIG_V1_SIZE sizeof(rope_axes_config)

static int finite_gt(double v, double lo) { return isfinite(v) && v > lo; }

/* Reads the caller's struct (only what its struct_size covers) over a zeroed config. */
static rope_status read_config(const char *where, const char *pre, const rope_axes_config *in,
                               rope_axes_config *out) {
    size_t n = in->struct_size;
    if (n < AXES_CONFIG_V1_SIZE || n > sizeof *out)
        return rope_fail(ROPE_ERROR_ATTRIBUTE, where,
                         "%sstruct_size: expected %zu (start from ROPE_AXES_CONFIG_INIT), found %zu", pre, sizeof *out,
                         n);
    memset(out, 0, sizeof *out);
    memcpy(out, in, n);
    return ROPE_OK;
}

/* Checks the configuration, applies the theta and attention defaults and gives rot, the sum of the
 * axes' widths. */
static rope_status check_config(const char *where, const char *pre, rope_axes_config *c, int64_t *rot) {
    const int n = c->n_axes;
    if (n < 1 || n > ROPE_MAX_AXES)
        return rope_fail(ROPE_ERROR_ATTRIBUTE, where, "%sn_axes: expected 1 .. %d, found %d", pre, ROPE_MAX_AXES, n);
    int64_t sum = 0;
    for (int a = 0; a < ROPE_MAX_AXES; a++) {
        int64_t d = c->axes_dims[a];
        if (a >= n) {
            if (d != 0 || c->theta[a] != 0.0)
                return rope_fail(ROPE_ERROR_ATTRIBUTE, where,
                                 "%saxes_dims[%d] / theta[%d]: expected 0 past n_axes (%d), found %lld / %g", pre, a, a,
                                 n, (long long)d, c->theta[a]);
            continue;
        }
        if (d < 2 || d % 2 != 0 || d > ROPE_MAX_ROTARY_DIM)
            return rope_fail(ROPE_ERROR_ATTRIBUTE, where, "%saxes_dims[%d]: expected an even value in 2 .. %d, found %lld",
                             pre, a, ROPE_MAX_ROTARY_DIM, (long long)d);
        sum += d;
        if (sum > ROPE_MAX_ROTARY_DIM)
            return rope_fail(ROPE_ERROR_ATTRIBUTE, where,
                             "%saxes_dims: expected a sum (the rotated width) <= %d, found %lld after axis %d",
                             pre, ROPE_MAX_ROTARY_DIM, (long long)sum, a);
        if (c->theta[a] == 0.0) c->theta[a] = 10000.0;
        if (!finite_gt(c->theta[a], 1.0))
            return rope_fail(ROPE_ERROR_ATTRIBUTE, where, "%stheta[%d]: expected a finite value > 1 (0: 10000), found %g",
                             pre, a, c->theta[a]);
    }
    switch (c->freq) {
    case ROPE_AXES_FREQ_PER_AXIS: break;
    case ROPE_AXES_FREQ_ALTERNATING:
        for (int a = 1; a < n; a++)
            if (c->axes_dims[a] != c->axes_dims[0])
                return rope_fail(ROPE_ERROR_ATTRIBUTE, where,
                                 "%saxes_dims[%d]: expected %lld (ROPE_AXES_FREQ_ALTERNATING deals one frequency "
                                 "sequence to equal axes), found %lld",
                                 pre, a, (long long)c->axes_dims[0], (long long)c->axes_dims[a]);
        break;
    default:
        return rope_fail(ROPE_ERROR_ATTRIBUTE, where,
                         "%sfreq: expected ROPE_AXES_FREQ_PER_AXIS (0) or ROPE_AXES_FREQ_ALTERNATING (1), found %d",
                         pre, (int)c->freq);
    }
    if (c->attention == 0.0) c->attention = 1.0;
    if (!finite_gt(c->attention, 0.0) || c->attention > ROPE_MAX_ATTENTION)
        return rope_fail(ROPE_ERROR_ATTRIBUTE, where,
                         "%sattention: expected a finite value in (0, %g] (0: 1), found %g", pre, ROPE_MAX_ATTENTION,
                         c->attention);
    *rot = sum;
    return ROPE_OK;
}

rope_status rope_axes_config_load(const char *where, const char *prefix, const rope_axes_config *in,
                                  rope_axes_config *out, int64_t *rot) {
    ROPE_TRY(read_config(where, prefix, in, out));
    return check_config(where, prefix, out, rot);
}

/* Each value is freq.c's default method at the axis's theta: index j of width axes_dims[a], or index
 * j*A + a of width rot. */
rope_status rope_axes_make_freqs(const char *where, const rope_axes_config *c, int64_t rot, double *inv,
                                 double *max_inv) {
    const int n = c->n_axes;
    int64_t p = 0;
    for (int a = 0; a < n; a++) {
        const int alternating = c->freq == ROPE_AXES_FREQ_ALTERNATING;
        rope_freq_config fc = ROPE_FREQ_CONFIG_INIT;
        fc.base = c->theta[a];
        fc.rotary_dim = alternating ? rot : c->axes_dims[a];
        rope_freq_plan plan;
        ROPE_TRY(rope_freq_plan_make(where, &fc, &plan)); /* cannot fail: the fields were checked above */
        max_inv[a] = 0.0;
        for (int64_t j = 0; j < c->axes_dims[a] / 2; j++, p++) {
            inv[p] = rope_freq_plan_at(&plan, alternating ? j * n + a : j);
            if (inv[p] > max_inv[a]) max_inv[a] = inv[p];
        }
    }
    return ROPE_OK;
}

const rope_dtype rope_axes_position_types[4] = {ROPE_I64, ROPE_I32, ROPE_F32, ROPE_F64};

rope_status rope_axes_check_coordinates(const char *where, const char *name, const void *data, rope_dtype dt,
                                        int64_t tokens, int n_axes, const double *max_inv) {
    for (int64_t t = 0; t < tokens; t++)
        for (int a = 0; a < n_axes; a++) {
            size_t i = (size_t)t * (size_t)n_axes + (size_t)a;
            if (dt == ROPE_I64) {
                int64_t v = ((const int64_t *)data)[i];
                if (v > ROPE_POS_LIMIT || v < -ROPE_POS_LIMIT)
                    return rope_fail(ROPE_ERROR_INDEX, where,
                                     "%s[%lld, %d]: expected |value| <= 2^53 (exact in float64), found %lld", name,
                                     (long long)t, a, (long long)v);
            }
            double v = rope_axes_coordinate(data, dt, i);
            if (!isfinite(v))
                return rope_fail(ROPE_ERROR_INDEX, where, "%s[%lld, %d]: expected a finite coordinate, found %g", name,
                                 (long long)t, a, v);
            if (!(fabs(v) * max_inv[a] < ROPE_ANGLE_LIMIT))
                return rope_fail(ROPE_ERROR_INDEX, where,
                                 "%s[%lld, %d]: the angle %g * %g (axis %d's largest frequency) = %g rad reaches "
                                 "2^46, beyond the accurate argument reduction",
                                 name, (long long)t, a, v, max_inv[a], a, fabs(v) * max_inv[a]);
        }
    return ROPE_OK;
}

/* The positions tensor [T, A], and the tables' independence from it. */
static rope_status check_positions(const rope_axes_config *c, const rope_tensor *pos) {
    const char *where = fill_where;
    ROPE_TRY(rope_check_tensor(where, "positions", pos));
    ROPE_TRY(rope_check_dtype(where, "positions", pos, rope_axes_position_types, 4));
    ROPE_TRY(rope_check_rank(where, "positions", pos, 2, 0, "[tokens, n_axes]"));
    ROPE_TRY(rope_check_dim(where, "positions", pos, 1, c->n_axes, "n_axes"));
    ROPE_TRY(rope_check_dense(where, "positions", pos));
    return rope_check_data(where, "positions", pos);
}

static rope_status check_apart(const rope_tensor *pos, const rope_table_shape *sh, const rope_tensor *cos,
                               const rope_tensor *sin) {
    const char *where = fill_where;
    const int64_t A = pos->dims[1], w = sh->width;
    rope_region rp = rope_region_of(pos, A, A), rc = rope_region_of(cos, w, w);
    ROPE_TRY(rope_check_disjoint(where, "cos", &rc, "positions", &rp));
    if (sh->layout == ROPE_CACHE_VLLM) return ROPE_OK;
    rope_region rs = rope_region_of(sin, w, w);
    return rope_check_disjoint(where, "sin", &rs, "positions", &rp);
}

rope_status rope_cache_fill_axes(const rope_axes_config *cfg, const rope_tensor *positions, rope_cache_layout layout,
                                 int32_t rotary_coeff, const rope_tensor *cos, const rope_tensor *sin) {
    const char *where = fill_where;
    if (!cfg) return rope_fail(ROPE_ERROR_NULL_ARGUMENT, where, "cfg is NULL");
    rope_axes_config c;
    int64_t rot = 0;
    ROPE_TRY(rope_axes_config_load(where, "cfg->", cfg, &c, &rot));
    rope_table_shape shape;
    ROPE_TRY(rope_table_shape_make(where, layout, rotary_coeff, rot, &shape));
    ROPE_TRY(check_positions(&c, positions));
    const int64_t T = positions->dims[0];
    ROPE_TRY(rope_table_check(where, &shape, T, cos, sin));
    ROPE_TRY(check_apart(positions, &shape, cos, sin));

    const int64_t half = rot / 2;
    double *inv = (double *)rope_malloc((size_t)half * sizeof(double)); /* rot <= ROPE_MAX_ROTARY_DIM */
    if (!inv)
        return rope_fail(ROPE_ERROR_OUT_OF_MEMORY, where, "cannot allocate %lld inverse frequencies", (long long)half);
    double max_inv[ROPE_MAX_AXES];
    rope_status st = rope_axes_make_freqs(where, &c, rot, inv, max_inv);
    if (st == ROPE_OK)
        st = rope_axes_check_coordinates(where, "positions", positions->data, positions->dtype, T, c.n_axes, max_inv);
    if (st != ROPE_OK) {
        rope_free(inv);
        return st;
    }

    const double att = c.attention;
    for (int64_t t = 0; t < T; t++) {
        int64_t p = 0;
        for (int a = 0; a < c.n_axes; a++) {
            double v = rope_axes_coordinate(positions->data, positions->dtype, (size_t)t * (size_t)c.n_axes + (size_t)a);
            for (int64_t j = 0; j < c.axes_dims[a] / 2; j++, p++) {
                double cv, sv;
                rope_angle_sincos_real(v, inv[p], &cv, &sv);
                rope_table_store(&shape, cos, sin, t, p, cv * att, sv * att);
            }
        }
    }
    rope_free(inv);
    return ROPE_OK;
}
