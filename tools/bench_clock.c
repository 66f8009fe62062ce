/* SPDX-License-Identifier: MIT */
/* bench_clock.h: the clock, batch sizing and medians of both `rope bench` timers. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include "bench_clock.h"

#include <stdlib.h>
#include <time.h>

double bench_now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec * 1e-3;
}

int bench_batch_calls(double us_per_call) {
    double n = 200.0 / (us_per_call > 0.01 ? us_per_call : 0.01);
    return n < 1 ? 1 : n > 100000 ? 100000 : (int)n;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}
