/* SPDX-License-Identifier: MIT */
/* The steps both on-the-fly front ends share: checking rope_fly's positions, and making the
 * frequency tables a job's rows are computed from (rows.h). */
#ifndef ROPE_ENGINE_FLY_H
#define ROPE_ENGINE_FLY_H

#include "../cache/freq.h"
#include "rows.h"

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

/* A call's frequency tables: the inverse frequencies and, for calls with enough tokens, the table
 * of cos/sin(j * inv) that lets rows be computed from one anchor per block of positions. */
typedef struct rope_fly_setup {
    rope_fly_freqs freqs;
    double *mem;
} rope_fly_setup;

/* Makes the tables for a call of `tokens` tokens whose positions reach max_pos. Errors: ATTRIBUTE
 * (frequencies not finite and positive, as rope_freq_compute), INDEX (max_pos * max inv_freq
 * reaching 2^46 rad, the limit of the accurate reduction), OUT_OF_MEMORY. */
rope_status rope_fly_setup_make(const char *where, const rope_freq_plan *plan, int64_t max_pos, size_t tokens,
                                rope_fly_setup *out);
void rope_fly_setup_free(rope_fly_setup *s);

/* Runs a fully checked on-the-fly call: makes the tables (their errors are reported even when `job`
 * is NULL, a call with nothing to rotate), then runs `job`, whose rows give each token's position,
 * with the values computed per chunk (forward, or backward when `backward`). */
rope_status rope_fly_run(const char *where, rope_context *ctx, const rope_freq_plan *plan, int64_t max_pos,
                         rope_job *job, int backward);

#endif
