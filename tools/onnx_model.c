/* SPDX-License-Identifier: MIT */
#include "onnx_model.h"

#include <stdlib.h>
#include <string.h>

#include "file_io.h"
#include "pb.h"
#include "tensor_proto.h"

static const pb_field_name model_fields[] = {
    {1, "ir_version", 0}, {7, "graph", 0}, {8, "opset_import", 1}, {0, NULL, 0}};
static const pb_field_name opset_fields[] = {{1, "domain", 0}, {2, "version", 0}, {0, NULL, 0}};
static const pb_field_name graph_fields[] = {{1, "node", 1},         {2, "name", 0},   {5, "initializer", 1},
                                             {11, "input", 1},       {12, "output", 1}, {13, "value_info", 1},
                                             {0, NULL, 0}};
static const pb_field_name node_fields[] = {{1, "input", 1},   {2, "output", 1},    {3, "name", 0}, {4, "op_type", 0},
                                            {5, "attribute", 1}, {7, "domain", 0}, {0, NULL, 0}};
static const pb_field_name attribute_fields[] = {{1, "name", 0}, {2, "f", 0},       {3, "i", 0},
                                                 {4, "s", 0},    {5, "t", 0},       {6, "g", 0},
                                                 {7, "floats", 1}, {8, "ints", 1}, {20, "type", 0},
                                                 {0, NULL, 0}};
static const pb_field_name value_info_fields[] = {{1, "name", 0}, {2, "type", 0}, {0, NULL, 0}};

/* Appends one zeroed element to the malloc'd array whose pointer is stored at array_ptr (any
 * object pointer type; moved with memcpy so no pointer is read through the wrong type). */
static void *append(const pb_msg *m, const pb_field *f, void *array_ptr, size_t *n, size_t elem) {
    void *array;
    memcpy(&array, array_ptr, sizeof array);
    void *grown = *n < SIZE_MAX / elem - 1 ? realloc(array, (*n + 1) * elem) : NULL;
    if (!grown) {
        pb_fail(m, f, f->offset, "out of memory");
        return NULL;
    }
    memcpy(array_ptr, &grown, sizeof grown);
    unsigned char *slot = (unsigned char *)grown + *n * elem;
    memset(slot, 0, elem);
    (*n)++;
    return slot;
}

static int append_string(const pb_msg *m, const pb_field *f, char ***list, size_t *n) {
    char **slot = append(m, f, list, n, sizeof **list);
    return slot ? pb_string(m, f, slot) : -1;
}

/* Every field of the message is framed correctly (its contents are not interpreted). */
static int check_framing(const pb_msg *parent, const pb_field *f, const pb_field_name *names) {
    pb_msg m;
    pb_field inner;
    int r;
    if (pb_enter(parent, f, names, &m)) return -1;
    while ((r = pb_next(&m, &inner)) == 1) {
    }
    return r;
}

static int strings_default(char **const *fields, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!*fields[i] && !(*fields[i] = calloc(1, 1))) return -1;
    return 0;
}

static int read_scalars(const pb_msg *m, const pb_field *f, pb_scalar_kind kind, void *array_ptr, size_t *n,
                        size_t elem) {
    pb_scalars it;
    uint64_t v = 0;
    int r;
    if (pb_scalars_begin(&it, m, f, kind)) return -1;
    while ((r = pb_scalars_next(&it, &v)) == 1) {
        unsigned char *slot = append(m, f, array_ptr, n, elem);
        if (!slot) return -1;
        if (kind == PB_SCALAR_FIXED32) { /* floats: keep the IEEE bits */
            uint32_t bits = (uint32_t)v;
            memcpy(slot, &bits, sizeof bits);
        } else {
            memcpy(slot, &v, sizeof v);
        }
    }
    return r;
}

static int read_attribute_field(const pb_msg *m, const pb_field *f, onnx_attribute *a) {
    switch (f->number) {
    case 1: return pb_string(m, f, &a->name);
    case 2: a->has_f = 1; return pb_float(m, f, &a->f);
    case 3: a->has_i = 1; return pb_int64(m, f, &a->i);
    case 4: {
        if (pb_expect_wire(m, f, PB_LEN)) return -1;
        uint8_t *s = malloc(f->length ? f->length : 1);
        if (!s) return pb_fail(m, f, f->offset, "out of memory");
        memcpy(s, pb_bytes(m, f), f->length);
        free(a->s);
        a->s = s;
        a->s_len = f->length;
        a->has_s = 1;
        return 0;
    }
    case 5:
        a->has_t = 1;
        a->t_offset = f->offset;
        a->t_length = f->length;
        return check_framing(m, f, tensor_proto_fields);
    case 7: return read_scalars(m, f, PB_SCALAR_FIXED32, &a->floats, &a->n_floats, sizeof(float));
    case 8: return read_scalars(m, f, PB_SCALAR_VARINT, &a->ints, &a->n_ints, sizeof(int64_t));
    case 20: return pb_int32(m, f, &a->type);
    default: return 0;
    }
}

static int read_attribute(const pb_msg *parent, const pb_field *pf, onnx_attribute *a) {
    pb_msg m;
    pb_field f;
    int r;
    if (pb_enter(parent, pf, attribute_fields, &m)) return -1;
    while ((r = pb_next(&m, &f)) == 1)
        if (read_attribute_field(&m, &f, a)) return -1;
    if (r < 0) return -1;
    if (!a->name || !a->name[0]) return pb_fail(&m, NULL, m.begin, "attribute has no name");
    return 0;
}

static int read_node(const pb_msg *parent, const pb_field *pf, onnx_node *node) {
    pb_msg m;
    pb_field f;
    int r;
    if (pb_enter(parent, pf, node_fields, &m)) return -1;
    while ((r = pb_next(&m, &f)) == 1) {
        int bad = 0;
        if (f.number == 1) bad = append_string(&m, &f, &node->inputs, &node->n_inputs);
        else if (f.number == 2) bad = append_string(&m, &f, &node->outputs, &node->n_outputs);
        else if (f.number == 3) bad = pb_string(&m, &f, &node->name);
        else if (f.number == 4) bad = pb_string(&m, &f, &node->op_type);
        else if (f.number == 7) bad = pb_string(&m, &f, &node->domain);
        else if (f.number == 5) {
            onnx_attribute *a = append(&m, &f, &node->attrs, &node->n_attrs, sizeof *a);
            bad = !a || read_attribute(&m, &f, a);
        }
        if (bad) return -1;
    }
    if (r < 0) return -1;
    char **const defaults[] = {&node->name, &node->op_type, &node->domain};
    if (strings_default(defaults, 3)) return pb_fail(&m, NULL, m.begin, "out of memory");
    if (!node->op_type[0]) return pb_fail(&m, NULL, m.begin, "node has no op_type");
    return 0;
}

/* A ValueInfoProto's or an initializer TensorProto's name (field 1 or 8). */
static int read_name_of(const pb_msg *parent, const pb_field *pf, const pb_field_name *names, uint32_t name_field,
                        char ***list, size_t *n) {
    pb_msg m;
    pb_field f;
    int r;
    char **slot = append(parent, pf, list, n, sizeof **list);
    if (!slot || pb_enter(parent, pf, names, &m)) return -1;
    while ((r = pb_next(&m, &f)) == 1)
        if (f.number == name_field && pb_string(&m, &f, slot)) return -1;
    if (r < 0) return -1;
    if (!*slot && !(*slot = calloc(1, 1))) return pb_fail(&m, NULL, m.begin, "out of memory");
    return 0;
}

static int read_graph(const pb_msg *parent, const pb_field *pf, onnx_graph *g) {
    pb_msg m;
    pb_field f;
    int r;
    if (pb_enter(parent, pf, graph_fields, &m)) return -1;
    while ((r = pb_next(&m, &f)) == 1) {
        int bad = 0;
        if (f.number == 1) {
            onnx_node *node = append(&m, &f, &g->nodes, &g->n_nodes, sizeof *node);
            bad = !node || read_node(&m, &f, node);
        } else if (f.number == 2) {
            bad = pb_string(&m, &f, &g->name);
        } else if (f.number == 5) {
            bad = read_name_of(&m, &f, tensor_proto_fields, TENSOR_NAME, &g->initializers, &g->n_initializers);
        } else if (f.number == 11) {
            bad = read_name_of(&m, &f, value_info_fields, 1, &g->inputs, &g->n_inputs);
        } else if (f.number == 12) {
            bad = read_name_of(&m, &f, value_info_fields, 1, &g->outputs, &g->n_outputs);
        }
        if (bad) return -1;
    }
    if (r < 0) return -1;
    if (!g->name && !(g->name = calloc(1, 1))) return pb_fail(&m, NULL, m.begin, "out of memory");
    return 0;
}

static int read_opset(const pb_msg *parent, const pb_field *pf, onnx_opset *o) {
    pb_msg m;
    pb_field f;
    int r;
    if (pb_enter(parent, pf, opset_fields, &m)) return -1;
    while ((r = pb_next(&m, &f)) == 1) {
        if (f.number == 1 && pb_string(&m, &f, &o->domain)) return -1;
        if (f.number == 2 && pb_int64(&m, &f, &o->version)) return -1;
    }
    if (r < 0) return -1;
    if (!o->domain && !(o->domain = calloc(1, 1))) return pb_fail(&m, NULL, m.begin, "out of memory");
    return 0;
}

static int read_model(pb_msg *m, onnx_model *model) {
    pb_field f;
    int r, has_graph = 0;
    while ((r = pb_next(m, &f)) == 1) {
        int bad = 0;
        if (f.number == 1) {
            bad = pb_int64(m, &f, &model->ir_version);
        } else if (f.number == 7) {
            if (has_graph) return pb_fail(m, &f, f.offset, "appears twice (merging graphs is not supported)");
            has_graph = 1;
            bad = read_graph(m, &f, &model->graph);
        } else if (f.number == 8) {
            onnx_opset *o = append(m, &f, &model->opsets, &model->n_opsets, sizeof *o);
            bad = !o || read_opset(m, &f, o);
        }
        if (bad) return -1;
    }
    if (r < 0) return -1;
    if (!has_graph) return pb_fail(m, NULL, m->end, "the model has no graph");
    return 0;
}

int onnx_model_decode(const char *source, const uint8_t *data, size_t size, onnx_model *out, diag *err) {
    pb_source src = {source, data, size, err};
    pb_msg m;
    memset(out, 0, sizeof *out);
    pb_open(&m, &src, "", model_fields);
    if (read_model(&m, out) == 0) return 0;
    onnx_model_free(out);
    return -1;
}

int onnx_model_load(const char *path, onnx_model *out, diag *err) {
    uint8_t *data = NULL;
    size_t size = 0;
    memset(out, 0, sizeof *out);
    if (file_read_all(path, &data, &size, err)) return -1;
    int r = onnx_model_decode(path, data, size, out, err);
    free(data);
    return r;
}

static void free_strings(char **list, size_t n) {
    for (size_t i = 0; i < n; i++) free(list[i]);
    free(list);
}

static void free_node(onnx_node *node) {
    free(node->name);
    free(node->op_type);
    free(node->domain);
    free_strings(node->inputs, node->n_inputs);
    free_strings(node->outputs, node->n_outputs);
    for (size_t i = 0; i < node->n_attrs; i++) {
        onnx_attribute *a = &node->attrs[i];
        free(a->name);
        free(a->s);
        free(a->floats);
        free(a->ints);
    }
    free(node->attrs);
}

void onnx_model_free(onnx_model *model) {
    onnx_graph *g = &model->graph;
    for (size_t i = 0; i < g->n_nodes; i++) free_node(&g->nodes[i]);
    free(g->nodes);
    free(g->name);
    free_strings(g->initializers, g->n_initializers);
    free_strings(g->inputs, g->n_inputs);
    free_strings(g->outputs, g->n_outputs);
    for (size_t i = 0; i < model->n_opsets; i++) free(model->opsets[i].domain);
    free(model->opsets);
    memset(model, 0, sizeof *model);
}

int onnx_is_default_domain(const char *domain) { return !domain[0] || !strcmp(domain, "ai.onnx"); }

int64_t onnx_model_opset(const onnx_model *model, const char *domain) {
    int want_default = onnx_is_default_domain(domain);
    for (size_t i = 0; i < model->n_opsets; i++) {
        const char *d = model->opsets[i].domain;
        int is_default = onnx_is_default_domain(d);
        if (want_default ? is_default : !strcmp(d, domain)) return model->opsets[i].version;
    }
    return -1;
}

const onnx_attribute *onnx_node_attribute(const onnx_node *node, const char *name) {
    for (size_t i = 0; i < node->n_attrs; i++)
        if (!strcmp(node->attrs[i].name, name)) return &node->attrs[i];
    return NULL;
}
