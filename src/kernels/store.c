/* SPDX-License-Identifier: MIT */
/* The store piece, portable build (store_body.h). */
#define ROPE_STORE_NAME rope_store_heads_portable
#include "store_body.h"
