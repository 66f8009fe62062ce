/* SPDX-License-Identifier: MIT */
#include "gradcheck.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "reference.h"

double gc_dot(const double *a, const double *b, size_t n, double *abs_sum) {
    double s = 0, t = 0;
    for (size_t i = 0; i < n; i++) s += a[i] * b[i], t += fabs(a[i] * b[i]);
    *abs_sum = t;
    return s;
}

void gc_check(const gc_case *c) {
    const char *name = c->name;
    rope_dtype dt = c->dt;
    size_t n = c->n;
    const double *xd = c->x, *yd = c->y;

    /* Adjoint identity: <J x, y> against <x, J^T y>. */
    double *w1 = tu_xmalloc(n * sizeof(double)), *p1 = tu_xmalloc(n * sizeof(double));
    double *w2 = tu_xmalloc(n * sizeof(double)), *p2 = tu_xmalloc(n * sizeof(double));
    double *jxd = tu_xmalloc(n * sizeof(double)), *jtd = tu_xmalloc(n * sizeof(double));
    CHECK(c->forward.eval(c->forward.ctx, xd, w1, p1) == 0, "%s: reference refused", name);
    CHECK(c->backward.eval(c->backward.ctx, yd, w2, p2) == 0, "%s: reference refused", name);
    double tol = 0;
    for (size_t i = 0; i < n; i++) {
        jxd[i] = ref_load(dt, c->jx, i), jtd[i] = ref_load(dt, c->jty, i);
        tol += fabs(yd[i]) * ref_tolerance(dt, w1[i], p1[i]) + fabs(xd[i]) * ref_tolerance(dt, w2[i], p2[i]);
    }
    double a1, a2, s1 = gc_dot(jxd, yd, n, &a1), s2 = gc_dot(xd, jtd, n, &a2);
    tol += (double)n * 0x1p-53 * (a1 + a2);
    CHECK(fabs(s1 - s2) <= tol, "%s: <Jx,y> = %.17g, <x,J^T y> = %.17g, tolerance %.3g", name, s1, s2, tol);

    /* Finite differences of f(x) = <y, J x>, J from the float64 reference, at a few elements. */
    double *xp = tu_xmalloc(n * sizeof(double)), *fp = tu_xmalloc(n * sizeof(double));
    double *fm = tu_xmalloc(n * sizeof(double)), *scratch = tu_xmalloc(n * sizeof(double));
    const double h = 0.5; /* f is linear: any step is exact in real arithmetic; a large one loses least */
    size_t bad = 0;
    for (int s = 0; s < GC_FD_SAMPLES && n > 0; s++) {
        size_t e = (size_t)tu_int(0, (int64_t)n - 1);
        memcpy(xp, xd, n * sizeof(double));
        xp[e] = xd[e] + h;
        c->forward.eval(c->forward.ctx, xp, fp, scratch);
        xp[e] = xd[e] - h;
        c->forward.eval(c->forward.ctx, xp, fm, scratch);
        double ap, am, fd = (gc_dot(yd, fp, n, &ap) - gc_dot(yd, fm, n, &am)) / (2 * h);
        double t = ref_tolerance(dt, w2[e], p2[e]) + (double)n * 0x1p-53 * (ap + am) / (2 * h);
        if (fabs(jtd[e] - fd) > t) {
            bad++;
            fprintf(stderr, "%s: element %zu: backward %.9g, finite difference %.9g, tolerance %.3g\n", name, e,
                    jtd[e], fd, t);
        }
    }
    CHECK(bad == 0, "%s: %zu finite differences off", name, bad);

    free(w1), free(p1), free(w2), free(p2), free(jxd), free(jtd), free(xp), free(fp), free(fm), free(scratch);
}
