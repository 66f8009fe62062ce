/* SPDX-License-Identifier: MIT */
/* The steps rope_vllm_rotary_embedding_fly and _fly_axes share (vllm_fly.c, vllm_fly_axes.c), written
 * once so that both forms check, and word their errors, alike. */
#include "../core/check.h"
#include "../core/try.h"
#include "vllm_rope.h"

rope_status rope_vllm_fly_args(const char *where, const rope_vllm_attrs *attrs, rope_vllm_attrs *loaded,
                               const rope_tensor *q, const void *fly, const rope_tensor *qo) {
    ROPE_TRY(rope_vllm_attrs_load(where, attrs, loaded));
    static const char *const names[3] = {"query", "fly", "query_out"};
    const void *const args[3] = {q, fly, qo};
    return rope_check_args(where, 3, names, args);
}

rope_status rope_vllm_fly_cs_dtype(const char *where, const rope_tensor *q, rope_dtype requested,
                                   rope_dtype *cs_dtype) {
    *cs_dtype = requested ? requested : q->dtype;
    if (*cs_dtype != q->dtype && *cs_dtype != ROPE_F32)
        return rope_fail(ROPE_ERROR_DTYPE, where, "fly->cs_dtype: expected 0, %s or f32 (with %s query), found %s",
                         rope_dtype_name(q->dtype), rope_dtype_name(q->dtype), rope_dtype_name(*cs_dtype));
    return ROPE_OK;
}
