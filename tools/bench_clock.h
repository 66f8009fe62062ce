/* SPDX-License-Identifier: MIT */
/* The timing pieces `rope bench`'s two timers share (bench_run.c: calls through the API,
 * bench_kernel.c: one kernel called directly), so that both measure alike: a monotonic clock,
 * batches of about 200 us, medians. */
#ifndef ROPE_TOOL_BENCH_CLOCK_H
#define ROPE_TOOL_BENCH_CLOCK_H

/* Microseconds on the monotonic clock. */
double bench_now_us(void);

/* Calls per batch for about 200 us at `us_per_call` (one call's time), between 1 and 100000, so that
 * the clock's own cost and resolution vanish. */
int bench_batch_calls(double us_per_call);

/* The median of v[0..n) (n >= 1); sorts v. */
double bench_median(double *v, int n);

#endif
