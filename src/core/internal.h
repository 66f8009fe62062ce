/* Shared internals of the library: failure reporting and attribute portability. Not installed. */
#ifndef ROPE_INTERNAL_H
#define ROPE_INTERNAL_H

#include "rope.h"

#if defined(__GNUC__) || defined(__clang__)
#define ROPE_PRINTF(fmt_index, first_arg) __attribute__((format(printf, fmt_index, first_arg)))
#define ROPE_ALWAYS_INLINE inline __attribute__((always_inline))
#define ROPE_HIDDEN __attribute__((visibility("hidden")))
#else
#define ROPE_PRINTF(fmt_index, first_arg)
#define ROPE_ALWAYS_INLINE inline
#define ROPE_HIDDEN
#endif

/* Records "<where>: <formatted message>" as the calling thread's last error and returns `status`,
 * so validation code reads `return rope_fail(ROPE_ERROR_SHAPE, fn, "...", ...);`. */
rope_status rope_fail(rope_status status, const char *where, const char *fmt, ...) ROPE_PRINTF(3, 4);

#endif
