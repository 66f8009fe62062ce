/* SPDX-License-Identifier: MIT */
/* kernel_words.h: a kernel's kind and path as words. */
#include "kernel_words.h"

const char *kernel_kind_word(rope_kernel_kind k) {
    switch (k) {
    case ROPE_KERNEL_ROT: return "rot";
    case ROPE_KERNEL_NORM: return "norm";
    case ROPE_KERNEL_STORE: return "store";
    }
    return "?";
}

const char *kernel_path_word(rope_kernel_path p) {
    switch (p) {
    case ROPE_PATH_ANY: return "any";
    case ROPE_PATH_BLOCKED: return "blocked";
    case ROPE_PATH_PAIRS: return "pairs";
    case ROPE_PATH_SPLIT: return "split";
    }
    return "?";
}
