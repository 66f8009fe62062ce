/* SPDX-License-Identifier: MIT */
#include "contexts.h"

#include <stdio.h>
#include <stdlib.h>

#include "engine/engine.h"

void tu_contexts_make(tu_contexts *c) {
    rope_isa isas[ROPE_ISA_COUNT_ - 1]; /* every set, scalar first */
    for (size_t i = 0; i < sizeof isas / sizeof isas[0]; i++) isas[i] = (rope_isa)(ROPE_ISA_SCALAR + (int)i);
    c->n = 0;
    for (size_t i = 0; i < sizeof isas / sizeof isas[0]; i++) {
        if (!rope_isa_available(isas[i])) continue;
        for (int threads = 1; threads <= 2; threads++) {
            rope_context_options o = {sizeof(rope_context_options), isas[i], threads, NULL, NULL, 0, 0};
            if (rope_context_create(&o, &c->ctx[c->n]) != ROPE_OK) {
                fprintf(stderr, "cannot create a %s context: %s\n", rope_isa_name(isas[i]), rope_last_error());
                exit(1);
            }
            snprintf(c->name[c->n], sizeof c->name[0], "%s/%d", rope_isa_name(isas[i]), threads);
            c->n++;
        }
    }
}

void tu_contexts_free(tu_contexts *c) {
    for (int i = 0; i < c->n; i++) rope_context_free(c->ctx[i]);
    c->n = 0;
}

void tu_split_everything(size_t tile_tokens) {
    rope_engine_tune.parallel_min_bytes = 1;
    rope_engine_tune.part_min_bytes = 1;
    rope_engine_tune.tile_tokens = tile_tokens;
}
