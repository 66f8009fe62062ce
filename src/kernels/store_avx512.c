/* SPDX-License-Identifier: MIT */
/* The store piece built with AVX-512 (cmake/kernels.cmake gives this file the flags; store_body.h). */
#define ROPE_STORE_NAME rope_store_heads_avx512
#include "store_body.h"
