/* SPDX-License-Identifier: MIT */
/*
 * Gradient checks for the backward (vector-Jacobian product) operators, whatever their layout: the
 * library's forward J and backward J^T are given as outputs, the float64 reference of each as a
 * callback, and gc_check tests
 *   - the adjoint identity <J x, y> = <x, J^T y>, both sides from the library's outputs,
 *     accumulated in float64;
 *   - finite differences of f(x) = <y, J x>, J evaluated by the float64 reference at perturbed
 *     inputs, against the library's J^T y element by element.
 *
 * Tolerances. The library's output element i differs from the exact one by at most
 * t_i = ref_tolerance(dtype, want_i, perr_i) (reference.h). Hence |<Jx~, y> - <Jx, y>| <= sum |y_i| t1_i
 * and likewise for the other side, and the exact sides are equal. Float64 accumulation of n products
 * adds at most n * 2^-53 * sum |terms| to each sum (and to each evaluation of f in the finite
 * difference, which is exact in real arithmetic because f is linear: its error is only that
 * evaluation error / 2h).
 */
#ifndef ROPE_TEST_GRADCHECK_H
#define ROPE_TEST_GRADCHECK_H

#include <stddef.h>

#include "rope.h"

/* A float64 reference of a linear map: writes want[n] and perr[n] (reference.h) for the input
 * in[n]; returns 0, or nonzero when it refuses the case. */
typedef int (*gc_eval_fn)(const void *ctx, const double *in, double *want, double *perr);

typedef struct gc_map {
    gc_eval_fn eval;
    const void *ctx;
} gc_map;

typedef struct gc_case {
    const char *name; /* for the messages */
    rope_dtype dt;    /* of the library's inputs and outputs */
    size_t n;         /* elements of x, y and of each output (several tensors are one vector here) */
    const double *x;  /* the forward's input, as the library read it */
    const double *y;  /* the backward's input (the incoming gradient), likewise */
    const void *jx;   /* the library's forward of x: n elements of dt */
    const void *jty;  /* the library's backward of y: n elements of dt */
    gc_map forward;   /* float64 reference of J */
    gc_map backward;  /* float64 reference of J^T (the backward's exact values) */
} gc_case;

/* sum a[i] * b[i] in float64; *abs_sum receives sum |a[i] * b[i]| (for the accumulation bound). */
double gc_dot(const double *a, const double *b, size_t n, double *abs_sum);

/* Four checks: both references accept the case, the adjoint identity holds, and the finite
 * differences at GC_FD_SAMPLES random elements (drawn with tu_int) match J^T y. */
enum { GC_FD_SAMPLES = 12 };
void gc_check(const gc_case *c);

#endif
