/* SPDX-License-Identifier: MIT */
/* `rope bench --plot FILE.png`: the measured ratios to memcpy drawn with gnuplot, one group of bars
 * per case (operator, dtype, layout, tokens) and one bar per thread count and pool, each beside its
 * floor loop's (bench_loops.h). */
#ifndef ROPE_TOOL_BENCH_PLOT_H
#define ROPE_TOOL_BENCH_PLOT_H

#include <stddef.h>

typedef struct bench_plot bench_plot;

bench_plot *bench_plot_new(void);
void bench_plot_free(bench_plot *p);

/* Keeps one measured row: the kernel's ratio (loop 0), or the floor loop's throughput against the
 * copy (loop 1), a series of its own beside the kernel's. */
void bench_plot_add(bench_plot *p, const char *op, const char *dtype, const char *layout, size_t tokens, int threads,
                    const char *pool, int loop, double ratio);

/* 0 when gnuplot is on PATH, else -1 after saying how to get it (checked before any timing). */
int bench_plot_check(const char *png);

/* Writes the PNG (gnuplot, run without a shell) titled with `title`'s first line. 0, or -1 after a
 * message on stderr. */
int bench_plot_write(const bench_plot *p, const char *png, const char *title);

#endif
