/* SPDX-License-Identifier: MIT */
/* tensor_compare: numpy-allclose per element, with NaN matching NaN and an infinity only itself. */
#include <math.h>
#include <string.h>

#include "harness.h"
#include "tensor_compare.h"

static compare_result compare(const float *got, const float *want, size_t n, tolerance tol) {
    rope_tensor g = {(void *)got, ROPE_F32, 1, {(int64_t)n}, 0}, w = {(void *)want, ROPE_F32, 1, {(int64_t)n}, 0};
    compare_result r;
    memset(&r, 0, sizeof r);
    tensor_compare(&g, &w, tol, &r);
    return r;
}

int main(void) {
    const tolerance tol = {1e-5, 1e-6};
    const float want[4] = {1.0f, INFINITY, -INFINITY, NAN};
    float got[4] = {1.0f, INFINITY, -INFINITY, NAN};
    compare_result r = compare(got, want, 4, tol);
    CHECK(r.n_bad == 0, "identical values, infinities and NaN: %zu bad", r.n_bad);

    got[0] = 1.0f + 5e-6f; /* within atol + rtol * 1 */
    r = compare(got, want, 4, tol);
    CHECK(r.n_bad == 0, "within tolerance: %zu bad", r.n_bad);
    got[0] = 1.001f;
    r = compare(got, want, 4, tol);
    CHECK(r.n_bad == 1 && r.first_bad == 0, "outside tolerance: %zu bad at %zu", r.n_bad, r.first_bad);
    got[0] = 1.0f;

    /* An expected infinity matches only the same infinity: its limit would be infinite too. */
    const float wrong[3] = {1.0f, -INFINITY, 3.0e38f};
    for (int i = 0; i < 3; i++) {
        got[1] = wrong[i];
        r = compare(got, want, 4, tol);
        CHECK(r.n_bad == 1 && r.first_bad == 1, "%g against +inf: %zu bad", (double)wrong[i], r.n_bad);
    }
    got[1] = INFINITY;
    got[3] = 0.0f; /* a number against an expected NaN */
    r = compare(got, want, 4, tol);
    CHECK(r.n_bad == 1 && r.first_bad == 3, "0 against NaN: %zu bad", r.n_bad);
    return tu_finish();
}
