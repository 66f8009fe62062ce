/* SPDX-License-Identifier: MIT */
/* The words kernel.h's names and `rope bench --kernel list` use for a kernel's kind and path
 * (shared with the kernel-name test, which builds the names the scheme gives). */
#ifndef ROPE_TOOL_KERNEL_WORDS_H
#define ROPE_TOOL_KERNEL_WORDS_H

#include "kernels/kernel.h"

/* "rot", "norm" or "store"; "?" for a value outside the enum. */
const char *kernel_kind_word(rope_kernel_kind k);

/* "any", "blocked", "pairs" or "split"; "?" for a value outside the enum. */
const char *kernel_path_word(rope_kernel_path p);

#endif
