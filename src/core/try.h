/* SPDX-License-Identifier: MIT */
/* Early return on failure, for validation sequences. */
#ifndef ROPE_TRY_H
#define ROPE_TRY_H

#define ROPE_TRY(expr)                                                                                       \
    do {                                                                                                     \
        rope_status rope_try_status_ = (expr);                                                               \
        if (rope_try_status_ != ROPE_OK) return rope_try_status_;                                            \
    } while (0)

#endif
