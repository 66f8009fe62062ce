/* SPDX-License-Identifier: MIT */
/* The store piece built with AVX2 (cmake/kernels.cmake gives this file the flags; store_body.h). */
#define ROPE_STORE_NAME rope_kernel_store__avx2
#include "store_body.h"
