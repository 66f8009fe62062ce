/* SPDX-License-Identifier: MIT */
#include "node_case.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file_io.h"
#include "onnx_model.h"

/* RotaryEmbedding first appears in ai.onnx opset 23. */
#define ONNX_ROTARY_OPSET 23

void case_name_of(const char *dir, char *buf, size_t size) {
    size_t end = strlen(dir);
    while (end > 1 && dir[end - 1] == '/') end--;
    size_t start = end;
    while (start > 0 && dir[start - 1] != '/') start--;
    if (start == end) start = 0; /* "/" itself */
    snprintf(buf, size, "%.*s", (int)(end - start), dir + start);
}


static const char *attribute_type_name(int32_t type) {
    static const char *const names[] = {"UNDEFINED", "FLOAT", "INT", "STRING", "TENSOR", "GRAPH", "FLOATS", "INTS",
                                        "STRINGS"};
    return type >= 0 && type < (int32_t)(sizeof names / sizeof names[0]) ? names[type] : "unknown";
}

/* The INT attribute's value; type UNDEFINED with an i is accepted (older writers omit type). */
static case_status int_attribute(const char *model_path, const onnx_node *node, size_t index, int64_t *value,
                                 diag *why) {
    const onnx_attribute *a = &node->attrs[index];
    if (a->type != ONNX_ATTR_INT && !(a->type == ONNX_ATTR_UNDEFINED && a->has_i)) {
        diag_set(why, "%s: graph.node[0].attribute[%zu] '%s': type %s (%" PRId32 "), expected INT (2)", model_path,
                 index, a->name, attribute_type_name(a->type), a->type);
        return CASE_ERROR;
    }
    *value = a->i;
    return CASE_READY;
}

static case_status onnx_attributes(const char *model_path, const onnx_node *node, node_case *c, diag *why) {
    memset(&c->onnx, 0, sizeof c->onnx);
    for (size_t i = 0; i < node->n_attrs; i++) {
        const char *name = node->attrs[i].name;
        int64_t *dst = !strcmp(name, "interleaved")            ? &c->onnx.interleaved
                       : !strcmp(name, "rotary_embedding_dim") ? &c->onnx.rotary_embedding_dim
                       : !strcmp(name, "num_heads")            ? &c->onnx.num_heads
                                                               : NULL;
        if (!dst) {
            diag_set(why, "%s: graph.node[0].attribute[%zu]: RotaryEmbedding has no attribute '%s'", model_path, i,
                     name);
            return CASE_ERROR;
        }
        case_status st = int_attribute(model_path, node, i, dst, why);
        if (st != CASE_READY) return st;
    }
    return CASE_READY;
}

static case_status atb_attributes(const char *model_path, const onnx_node *node, node_case *c, diag *why) {
    const rope_atb_param defaults = ROPE_ATB_PARAM_INIT;
    c->atb = defaults;
    for (size_t i = 0; i < node->n_attrs; i++) {
        const char *name = node->attrs[i].name;
        int32_t *dst = !strcmp(name, "rotaryCoeff") ? &c->atb.rotary_coeff
                       : !strcmp(name, "cosFormat") ? &c->atb.cos_format
                                                    : NULL;
        int64_t v = 0;
        if (!dst) {
            diag_set(why, "%s: graph.node[0].attribute[%zu]: atb Rope has no attribute '%s'", model_path, i, name);
            return CASE_ERROR;
        }
        case_status st = int_attribute(model_path, node, i, &v, why);
        if (st != CASE_READY) return st;
        if (v < INT32_MIN || v > INT32_MAX) {
            diag_set(why, "%s: graph.node[0].attribute[%zu] '%s': %" PRId64 " does not fit int32", model_path, i, name,
                     v);
            return CASE_ERROR;
        }
        *dst = (int32_t)v;
    }
    return CASE_READY;
}

/* head_size (required), is_neox, mrope_section (INTS: 3 or 4 entries), mrope_interleaved, and librope's
 * rope_dim_offset, inverse, partial (0 leading, 1 split) and pairs_to_halves (INT each). */
static case_status vllm_attributes(const char *model_path, const onnx_node *node, node_case *c, diag *why) {
    const rope_vllm_attrs defaults = ROPE_VLLM_ATTRS_INIT;
    c->vllm = defaults;
    for (size_t i = 0; i < node->n_attrs; i++) {
        const onnx_attribute *a = &node->attrs[i];
        int64_t v = 0;
        if (!strcmp(a->name, "mrope_section")) {
            if (a->type != ONNX_ATTR_INTS || a->n_ints > 4) {
                diag_set(why, "%s: graph.node[0].attribute[%zu] 'mrope_section': expected INTS (7) of at most 4 "
                         "entries, found type %s with %zu", model_path, i, attribute_type_name(a->type), a->n_ints);
                return CASE_ERROR;
            }
            c->vllm.n_mrope_section = (int32_t)a->n_ints;
            for (size_t k = 0; k < a->n_ints; k++) c->vllm.mrope_section[k] = a->ints[k];
            continue;
        }
        int known = !strcmp(a->name, "head_size") || !strcmp(a->name, "is_neox") ||
                    !strcmp(a->name, "mrope_interleaved") || !strcmp(a->name, "rope_dim_offset") ||
                    !strcmp(a->name, "inverse") || !strcmp(a->name, "partial") || !strcmp(a->name, "pairs_to_halves");
        if (!known) {
            diag_set(why, "%s: graph.node[0].attribute[%zu]: vllm RotaryEmbedding has no attribute '%s'", model_path, i,
                     a->name);
            return CASE_ERROR;
        }
        case_status st = int_attribute(model_path, node, i, &v, why);
        if (st != CASE_READY) return st;
        if (!strcmp(a->name, "head_size")) c->vllm.head_size = v;
        else if (!strcmp(a->name, "rope_dim_offset")) c->vllm.rope_dim_offset = v;
        else if (v < INT32_MIN || v > INT32_MAX) {
            diag_set(why, "%s: graph.node[0].attribute[%zu] '%s': %" PRId64 " does not fit int32", model_path, i,
                     a->name, v);
            return CASE_ERROR;
        } else if (!strcmp(a->name, "is_neox")) c->vllm.is_neox = (int32_t)v;
        else if (!strcmp(a->name, "inverse")) c->vllm.inverse = (int32_t)v;
        else if (!strcmp(a->name, "partial")) c->vllm.partial = (int32_t)v;
        else if (!strcmp(a->name, "pairs_to_halves")) c->vllm.pairs_to_halves = (int32_t)v;
        else c->vllm.mrope_interleaved = (int32_t)v;
    }
    if (!onnx_node_attribute(node, "head_size")) {
        diag_set(why, "%s: vllm RotaryEmbedding: attribute 'head_size' is required", model_path);
        return CASE_ERROR;
    }
    return CASE_READY;
}

/* Maps node inputs to slots and files; omitted ("") inputs take no file. */
static case_status bind_inputs(const char *model_path, const onnx_model *model, const onnx_node *node,
                               int required, node_case *c, diag *why) {
    const onnx_graph *g = &model->graph;
    if (node->n_inputs < (size_t)required || node->n_inputs > (size_t)c->n_slots) {
        diag_set(why, "%s: the %s node has %zu inputs, expected %d to %d", model_path, node->op_type, node->n_inputs,
                 required, c->n_slots);
        return CASE_ERROR;
    }
    for (int s = 0; s < c->n_slots; s++) c->file_of_slot[s] = -1;
    c->n_files = 0;
    for (size_t s = 0; s < node->n_inputs; s++) {
        const char *in = node->inputs[s];
        if (!in[0]) {
            if ((int)s < required) {
                diag_set(why, "%s: graph.node[0].input[%zu] is omitted but required", model_path, s);
                return CASE_ERROR;
            }
            continue;
        }
        for (size_t i = 0; i < g->n_initializers; i++)
            if (!strcmp(g->initializers[i], in)) {
                diag_set(why, "input '%s' is an initializer; this runner feeds inputs from test_data_set files only",
                         in);
                return CASE_SKIP;
            }
        c->file_of_slot[s] = c->n_files++;
    }
    return CASE_READY;
}

static case_status bind_outputs(const char *model_path, const onnx_model *model, const onnx_node *node,
                                int expected, node_case *c, diag *why) {
    if (node->n_outputs != (size_t)expected) {
        diag_set(why, "%s: the %s node has %zu outputs, expected %d", model_path, node->op_type, node->n_outputs,
                 expected);
        return CASE_ERROR;
    }
    c->n_outputs = expected;
    for (int k = 0; k < expected; k++) {
        const char *name = (size_t)k < model->graph.n_outputs ? model->graph.outputs[k] : node->outputs[k];
        if (!name[0]) name = node->outputs[k];
        snprintf(c->output_names[k], sizeof c->output_names[k], "%s", name);
    }
    return CASE_READY;
}

static case_status recognise(const char *model_path, const onnx_model *model, node_case *c, diag *why) {
    const onnx_graph *g = &model->graph;
    if (g->n_nodes != 1) {
        diag_set(why, "graph has %zu nodes, not a single supported node", g->n_nodes);
        return CASE_SKIP;
    }
    const onnx_node *node = &g->nodes[0];
    case_status st;
    if (onnx_is_default_domain(node->domain) && !strcmp(node->op_type, "RotaryEmbedding")) {
        int64_t opset = onnx_model_opset(model, "");
        if (opset >= 0 && opset < ONNX_ROTARY_OPSET) {
            diag_set(why, "RotaryEmbedding needs opset %d, the model imports ai.onnx %" PRId64, ONNX_ROTARY_OPSET,
                     opset);
            return CASE_SKIP;
        }
        c->op = CASE_ONNX_ROTARY_EMBEDDING;
        c->n_slots = 4;
        if ((st = onnx_attributes(model_path, node, c, why)) != CASE_READY) return st;
        if ((st = bind_inputs(model_path, model, node, 3, c, why)) != CASE_READY) return st;
        return bind_outputs(model_path, model, node, 1, c, why);
    }
    if (!strcmp(node->domain, "atb") && !strcmp(node->op_type, "Rope")) {
        c->op = CASE_ATB_ROPE;
        c->n_slots = 5;
        if ((st = atb_attributes(model_path, node, c, why)) != CASE_READY) return st;
        if ((st = bind_inputs(model_path, model, node, 5, c, why)) != CASE_READY) return st;
        return bind_outputs(model_path, model, node, 2, c, why);
    }
    if (!strcmp(node->domain, "vllm") && !strcmp(node->op_type, "RotaryEmbedding")) {
        c->op = CASE_VLLM_ROTARY_EMBEDDING;
        c->n_slots = 4; /* positions, query, key (may be ""), cos_sin_cache */
        if ((st = vllm_attributes(model_path, node, c, why)) != CASE_READY) return st;
        if ((st = bind_inputs(model_path, model, node, 2, c, why)) != CASE_READY) return st;
        if (c->file_of_slot[3] < 0) {
            diag_set(why, "%s: the vllm RotaryEmbedding node has no cos_sin_cache (input 3)", model_path);
            return CASE_ERROR;
        }
        return bind_outputs(model_path, model, node, c->file_of_slot[2] >= 0 ? 2 : 1, c, why);
    }
    if (!strcmp(node->domain, "vllm") && vllm_prologue_op_of(node->op_type) >= 0) {
        vllm_prologue_op op = (vllm_prologue_op)vllm_prologue_op_of(node->op_type);
        c->op = CASE_VLLM_PROLOGUE;
        c->n_slots = vllm_prologue_max_inputs(op);
        if (vllm_prologue_attributes(model_path, node, op, &c->prologue, why)) return CASE_ERROR;
        if ((st = bind_inputs(model_path, model, node, vllm_prologue_required_inputs(op), c, why)) != CASE_READY)
            return st;
        return bind_outputs(model_path, model, node, vllm_prologue_outputs(op), c, why);
    }
    if (!strcmp(node->domain, "com.microsoft") &&
        (!strcmp(node->op_type, "RotaryEmbedding") || !strcmp(node->op_type, "MRotaryEmbedding"))) {
        ort_contrib_op op = node->op_type[0] == 'M' ? ORT_MROTARY_EMBEDDING : ORT_ROTARY_EMBEDDING;
        c->op = CASE_ORT_CONTRIB;
        c->n_slots = 4; /* input, position_ids, cos_cache, sin_cache */
        if (ort_contrib_attributes(model_path, node, op, &c->ort, why)) return CASE_ERROR;
        if ((st = bind_inputs(model_path, model, node, 4, c, why)) != CASE_READY) return st;
        return bind_outputs(model_path, model, node, 1, c, why);
    }
    diag_set(why,
             "node is %s%s%s, not ONNX RotaryEmbedding, atb Rope, vllm RotaryEmbedding / FusedQKNormRope / "
             "RotaryEmbeddingAndCache or com.microsoft (M)RotaryEmbedding", node->domain,
             node->domain[0] ? "::" : "", node->op_type);
    return CASE_SKIP;
}

case_status case_load(const char *dir, node_case *c, diag *why) {
    char model_path[CASE_PATH_MAX];
    memset(c, 0, sizeof *c);
    case_name_of(dir, c->name, sizeof c->name);
    if (snprintf(c->dir, sizeof c->dir, "%s", dir) >= (int)sizeof c->dir ||
        path_join(model_path, sizeof model_path, dir, "model.onnx")) {
        diag_set(why, "%s: path too long", dir);
        return CASE_ERROR;
    }
    if (!is_directory(dir)) {
        diag_set(why, "%s: not a directory", dir);
        return CASE_ERROR;
    }
    onnx_model model;
    if (onnx_model_load(model_path, &model, why)) return CASE_ERROR;
    case_status st = recognise(model_path, &model, c, why);
    onnx_model_free(&model);
    return st;
}

int case_count_data_sets(const node_case *c) {
    char path[CASE_PATH_MAX], leaf[64];
    int n = 0;
    for (;;) {
        snprintf(leaf, sizeof leaf, "test_data_set_%d", n);
        if (path_join(path, sizeof path, c->dir, leaf) || !is_directory(path)) return n;
        n++;
    }
}

void case_free_inputs(tensor_proto in[CASE_MAX_SLOTS]) {
    for (int s = 0; s < CASE_MAX_SLOTS; s++) tensor_proto_free(&in[s]);
}

int case_read_inputs(const node_case *c, const char *set_dir, tensor_proto in[CASE_MAX_SLOTS], diag *err) {
    memset(in, 0, sizeof(tensor_proto) * CASE_MAX_SLOTS);
    for (int s = 0; s < c->n_slots; s++) {
        char path[CASE_PATH_MAX], leaf[64];
        if (c->file_of_slot[s] < 0) continue;
        snprintf(leaf, sizeof leaf, "input_%d.pb", c->file_of_slot[s]);
        if (path_join(path, sizeof path, set_dir, leaf)) {
            case_free_inputs(in);
            return diag_set(err, "%s: path too long", set_dir);
        }
        if (tensor_proto_load(path, &in[s], err)) {
            case_free_inputs(in);
            return -1;
        }
    }
    return 0;
}

static int alloc_like(rope_tensor *t, diag *err) {
    int64_t n = rope_tensor_numel(t);
    size_t bytes = n > 0 ? (size_t)n * rope_dtype_size(t->dtype) : 0;
    t->data = calloc(bytes ? bytes : 1, 1);
    return t->data ? 0 : diag_set(err, "out of memory for a %zu-byte output", bytes);
}

static int library_error(const char *call, diag *err) {
    const char *msg = rope_last_error();
    /* The library prefixes its messages with the function's name already. */
    return diag_set(err, "%s", msg[0] ? msg : call);
}

int case_run(const node_case *c, const tensor_proto in[CASE_MAX_SLOTS], rope_tensor out[CASE_MAX_OUTPUTS],
             diag *err) {
    memset(out, 0, sizeof(rope_tensor) * CASE_MAX_OUTPUTS);
    if (c->op == CASE_ONNX_ROTARY_EMBEDDING) {
        const rope_tensor *ids = c->file_of_slot[3] >= 0 ? &in[3].t : NULL;
        if (rope_onnx_infer(&c->onnx, &in[0].t, &in[1].t, &in[2].t, ids, &out[0]) != ROPE_OK)
            return library_error("rope_onnx_infer", err);
        if (alloc_like(&out[0], err)) return -1;
        if (rope_onnx_rotary_embedding(NULL, &c->onnx, &in[0].t, &in[1].t, &in[2].t, ids, &out[0]) == ROPE_OK)
            return 0;
        library_error("rope_onnx_rotary_embedding", err);
    } else if (c->op == CASE_ORT_CONTRIB) {
        return ort_contrib_run(&c->ort, &in[0].t, &in[1].t, &in[2].t, &in[3].t, &out[0], err);
    } else if (c->op == CASE_VLLM_PROLOGUE) {
        rope_tensor ts[CASE_MAX_SLOTS];
        for (int s = 0; s < c->n_slots; s++) ts[s] = in[s].t; /* an omitted slot: data NULL */
        return vllm_prologue_run(&c->prologue, ts, c->n_slots, out, err);
    } else if (c->op == CASE_VLLM_ROTARY_EMBEDDING) {
        const rope_tensor *key = c->file_of_slot[2] >= 0 ? &in[2].t : NULL;
        rope_tensor *ko = key ? &out[1] : NULL;
        if (rope_vllm_infer(&c->vllm, &in[0].t, &in[1].t, key, &in[3].t, &out[0], ko) != ROPE_OK)
            return library_error("rope_vllm_infer", err);
        if (alloc_like(&out[0], err) || (ko && alloc_like(ko, err))) {
            free(out[0].data);
            out[0].data = NULL;
            return -1;
        }
        if (rope_vllm_rotary_embedding(NULL, &c->vllm, &in[0].t, &in[1].t, key, &in[3].t, &out[0], ko) == ROPE_OK)
            return 0;
        library_error("rope_vllm_rotary_embedding", err);
    } else {
        if (rope_atb_infer(&c->atb, &in[0].t, &in[1].t, &in[2].t, &in[3].t, &in[4].t, &out[0], &out[1]) != ROPE_OK)
            return library_error("rope_atb_infer", err);
        if (alloc_like(&out[0], err) || alloc_like(&out[1], err)) {
            free(out[0].data);
            out[0].data = NULL;
            return -1;
        }
        if (rope_atb_rope(NULL, &c->atb, &in[0].t, &in[1].t, &in[2].t, &in[3].t, &in[4].t, &out[0], &out[1]) ==
            ROPE_OK)
            return 0;
        library_error("rope_atb_rope", err);
    }
    for (int k = 0; k < CASE_MAX_OUTPUTS; k++) {
        free(out[k].data);
        out[k].data = NULL;
    }
    return -1;
}
