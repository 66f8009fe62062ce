/* SPDX-License-Identifier: MIT */
/* Status names and the per-thread message of the last failure. */
#include <stdarg.h>
#include <stdio.h>

#include "internal.h"

static _Thread_local char last_error[512];

const char *rope_status_string(rope_status status) {
    switch (status) {
    case ROPE_OK: return "ROPE_OK: success";
    case ROPE_ERROR_NULL_ARGUMENT: return "ROPE_ERROR_NULL_ARGUMENT: a required pointer is NULL";
    case ROPE_ERROR_DTYPE: return "ROPE_ERROR_DTYPE: dtype not accepted";
    case ROPE_ERROR_RANK: return "ROPE_ERROR_RANK: tensor rank not accepted";
    case ROPE_ERROR_SHAPE: return "ROPE_ERROR_SHAPE: tensor dimension mismatch";
    case ROPE_ERROR_ATTRIBUTE: return "ROPE_ERROR_ATTRIBUTE: attribute or parameter out of its domain";
    case ROPE_ERROR_INDEX: return "ROPE_ERROR_INDEX: position or sequence length out of range";
    case ROPE_ERROR_ALIASING: return "ROPE_ERROR_ALIASING: output overlaps another tensor";
    case ROPE_ERROR_STRIDE: return "ROPE_ERROR_STRIDE: row stride smaller than its row";
    case ROPE_ERROR_OUT_OF_MEMORY: return "ROPE_ERROR_OUT_OF_MEMORY: allocation failed";
    case ROPE_ERROR_UNSUPPORTED: return "ROPE_ERROR_UNSUPPORTED: not available in this build or on this CPU";
    case ROPE_ERROR_STATE: return "ROPE_ERROR_STATE: call out of lifecycle order";
    case ROPE_ERROR_WORKSPACE: return "ROPE_ERROR_WORKSPACE: workspace smaller than setup reported";
    case ROPE_STATUS_COUNT_: break;
    }
    return "unknown rope_status";
}

const char *rope_last_error(void) { return last_error; }

rope_status rope_fail(rope_status status, const char *where, const char *fmt, ...) {
    int n = snprintf(last_error, sizeof last_error, "%s: ", where);
    if (n < 0 || (size_t)n >= sizeof last_error) return status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error + n, sizeof last_error - (size_t)n, fmt, ap);
    va_end(ap);
    return status;
}
