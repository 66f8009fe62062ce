/* SPDX-License-Identifier: MIT */
/* `rope bench --kernel NAME`: one kernel of src/kernels' lists (kernel.h, "Kernels by name") timed
 * directly on buffers, without the engine; `--kernel list` prints the lists. */
#ifndef ROPE_TOOL_BENCH_KERNEL_H
#define ROPE_TOOL_BENCH_KERNEL_H

#include "bench_args.h"

/* Runs o->kernel ("list" or a kernel's name) with o's sizes, repetitions and --csv. Returns the
 * exit status: 0, 1 (out of memory) or 2 (a name this build does not have, a kernel this CPU cannot
 * run, a shape or option the kernel does not take), after a message on stderr. */
int bench_kernel_run(const bench_opts *o);

#endif
