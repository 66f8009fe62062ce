/* SPDX-License-Identifier: MIT */
/* One error message travelling up from the readers to the command that prints it. */
#ifndef ROPE_TOOL_DIAG_H
#define ROPE_TOOL_DIAG_H

#include <stdarg.h>

#if defined(__GNUC__) || defined(__clang__)
#define DIAG_PRINTF(fmt_index, first_arg) __attribute__((format(printf, fmt_index, first_arg)))
#else
#define DIAG_PRINTF(fmt_index, first_arg)
#endif

typedef struct diag {
    char text[1024];
} diag;

/* Formats the message into *d (truncating if long) and returns -1, so readers can write
 * `return diag_set(err, "...", ...);`. A NULL d only returns -1. */
int diag_set(diag *d, const char *fmt, ...) DIAG_PRINTF(2, 3);
int diag_vset(diag *d, const char *fmt, va_list ap) DIAG_PRINTF(2, 0);

#endif
