/* SPDX-License-Identifier: MIT */
/* Validation of rope_fly's positions, shared by the on-the-fly front ends (check.h's conventions:
 * each returns ROPE_OK or records a precise message and returns the status). */
#ifndef ROPE_CORE_CHECK_POSITIONS_H
#define ROPE_CORE_CHECK_POSITIONS_H

#include "internal.h"

/* Checks fly->kind and the positions descriptor: i64, rank `rank` with dims `dims` (each explained
 * by whys[i], e.g. "batch of X"), dense. Data is not read. */
rope_status rope_fly_check_positions(const char *where, const rope_fly *fly, int rank, const int64_t *dims,
                                     const char *const *whys);

/* Reads the positions (data checked non-NULL here) and stores the largest position any token gets
 * in *max_pos (-1 when no token has one). Per sequence, sequence i has seqlen[i] tokens (i32 / u32,
 * already checked) when seqlen is not NULL, else `len` tokens. Errors: NULL_ARGUMENT, INDEX (a value
 * below 0, a last position beyond 2^53). */
rope_status rope_fly_max_position(const char *where, const rope_fly *fly, int64_t len, const rope_tensor *seqlen,
                                  int64_t *max_pos);

#endif
