/* SPDX-License-Identifier: MIT */
/* The store piece, portable build (store_body.h). */
#define ROPE_STORE_NAME rope_kernel_store__scalar
#include "store_body.h"
