/* SPDX-License-Identifier: MIT */
/* ModelProto / GraphProto / NodeProto / AttributeProto reading, malformed models, and the shared
 * conformance models. */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <string.h>

#include "harness.h"
#include "onnx_model.h"
#include "onnx_builder.h"

static diag err;

static int decode(const msg *b, onnx_model *m) { return onnx_model_decode("model.onnx", b->b, b->n, m, &err); }

/* A graph with one RotaryEmbedding node carrying one attribute of every kind this tool reads. */
static msg rich_graph(void) {
    const char *in[4] = {"X", "cos", "sin", ""}, *out[1] = {"Y"};
    msg node = node_proto("RotaryEmbedding", "", in, 4, out, 1);
    node_int_attr(&node, "interleaved", 1);
    msg a = {0}, t = {0}, g = {0};
    msg_str(&a, 1, "alpha");
    msg_float(&a, 2, 0.5f);
    msg_int(&a, 20, 1);
    msg_sub(&node, 5, &a);
    msg_str(&a, 1, "mode");
    msg_str(&a, 4, "fast");
    msg_int(&a, 20, 3);
    msg_sub(&node, 5, &a);
    const int64_t dims[1] = {2};
    const float v[2] = {1, 2};
    t = tensor_raw("c", 1, dims, 1, v, sizeof v);
    msg_str(&a, 1, "value");
    msg_sub(&a, 5, &t);
    msg_int(&a, 20, 4);
    msg_sub(&node, 5, &a);
    msg_str(&a, 1, "sizes"); /* ints: one unpacked value, then two packed */
    msg_int(&a, 8, 7);
    msg packed = {0};
    msg_varint(&packed, 8);
    msg_varint(&packed, (uint64_t)-9);
    msg_bytes(&a, 8, packed.b, packed.n);
    msg_free(&packed);
    msg_int(&a, 20, 7);
    msg_sub(&node, 5, &a);
    msg_str(&a, 1, "scales");
    msg_float(&a, 7, 0.25f);
    msg_float(&a, 7, 4.0f);
    msg_int(&a, 20, 6);
    msg_sub(&node, 5, &a);

    msg_sub(&g, 1, &node);
    msg_str(&g, 2, "rich");
    t = tensor_raw("W", 1, dims, 1, v, sizeof v);
    msg_sub(&g, 5, &t);
    graph_value_info(&g, 11, "X");
    graph_value_info(&g, 11, "cos");
    graph_value_info(&g, 11, "sin");
    graph_value_info(&g, 12, "Y");
    return g;
}

static void test_read(void) {
    msg g = rich_graph();
    msg b = model_proto(&g, "", 23);
    onnx_model m;
    int r = decode(&b, &m);
    CHECK(r == 0, "%s", err.text);
    if (r == 0) {
        const onnx_graph *gr = &m.graph;
        CHECK(m.ir_version == 10 && m.n_opsets == 1 && onnx_model_opset(&m, "ai.onnx") == 23 &&
                  onnx_model_opset(&m, "") == 23 && onnx_model_opset(&m, "atb") == -1,
              "opsets");
        CHECK(!strcmp(gr->name, "rich") && gr->n_nodes == 1 && gr->n_initializers == 1 &&
                  !strcmp(gr->initializers[0], "W") && gr->n_inputs == 3 && !strcmp(gr->inputs[2], "sin") &&
                  gr->n_outputs == 1 && !strcmp(gr->outputs[0], "Y"),
              "graph");
        const onnx_node *n = &gr->nodes[0];
        CHECK(!strcmp(n->op_type, "RotaryEmbedding") && !strcmp(n->domain, "") && !strcmp(n->name, "node0") &&
                  n->n_inputs == 4 && !strcmp(n->inputs[3], "") && n->n_outputs == 1 && n->n_attrs == 6,
              "node");
        const onnx_attribute *a = onnx_node_attribute(n, "interleaved");
        CHECK(a && a->type == 2 && a->has_i && a->i == 1, "INT attribute");
        a = onnx_node_attribute(n, "alpha");
        CHECK(a && a->type == 1 && a->has_f && a->f == 0.5f, "FLOAT attribute");
        a = onnx_node_attribute(n, "mode");
        CHECK(a && a->has_s && a->s_len == 4 && !memcmp(a->s, "fast", 4), "STRING attribute");
        a = onnx_node_attribute(n, "value");
        CHECK(a && a->has_t && a->t_length > 0 && a->t_offset + a->t_length <= b.n, "TENSOR attribute");
        a = onnx_node_attribute(n, "sizes");
        CHECK(a && a->n_ints == 3 && a->ints[0] == 7 && a->ints[1] == 8 && a->ints[2] == -9, "INTS attribute");
        a = onnx_node_attribute(n, "scales");
        CHECK(a && a->n_floats == 2 && a->floats[0] == 0.25f && a->floats[1] == 4.0f, "FLOATS attribute");
        CHECK(onnx_node_attribute(n, "missing") == NULL, "missing attribute found");
        onnx_model_free(&m);
    }
    msg_free(&b);
}

static void expect_error(const char *what, msg *graph, const char *needle) {
    msg b = model_proto(graph, "", 23);
    onnx_model m;
    int r = decode(&b, &m);
    CHECK(r == -1 && strstr(err.text, needle), "%s: expected '%s', got '%s'", what, needle, r ? err.text : "success");
    if (r == 0) onnx_model_free(&m);
    msg_free(&b);
}

static void test_malformed(void) {
    const char *in[1] = {"X"}, *out[1] = {"Y"};
    msg g = {0}, node = node_proto("Identity", "", in, 1, out, 1), a = {0};
    msg_int(&a, 3, 1); /* an attribute without a name */
    msg_sub(&node, 5, &a);
    msg_sub(&g, 1, &node);
    expect_error("nameless attribute", &g, "model.onnx: graph.node[0].attribute[0]: attribute has no name");

    node = (msg){0};
    msg_str(&node, 1, "X");
    msg_sub(&g, 1, &node);
    expect_error("no op_type", &g, "graph.node[0]: node has no op_type");

    /* attribute[1]'s length runs past the node. */
    node = node_proto("Identity", "", in, 1, out, 1);
    node_int_attr(&node, "a", 1);
    msg_tag(&node, 5, 2);
    msg_varint(&node, 4000);
    msg_raw(&node, "xyz", 3);
    msg_sub(&g, 1, &node);
    expect_error("overlong attribute", &g, "model.onnx: graph.node[0].attribute[1]: length 4000 runs past the end");

    node = node_proto("Identity", "", in, 1, out, 1);
    msg_fixed32(&node, 3, 5); /* name as fixed32 */
    msg_sub(&g, 1, &node);
    expect_error("wrong wire type", &g, "graph.node[0].name: wire type fixed32, expected length-delimited");

    /* A model without a graph, and one with two. */
    msg b = {0};
    msg_int(&b, 1, 10);
    onnx_model m;
    CHECK(decode(&b, &m) == -1 && strstr(err.text, "the model has no graph"), "%s", err.text);
    msg empty = {0};
    msg_bytes(&b, 7, NULL, 0);
    msg_sub(&b, 7, &empty);
    CHECK(decode(&b, &m) == -1 && strstr(err.text, "graph: appears twice"), "%s", err.text);
    msg_free(&b);
    CHECK(onnx_model_load("/nonexistent/model.onnx", &m, &err) == -1 &&
              strstr(err.text, "/nonexistent/model.onnx: cannot open"),
          "%s", err.text);
}

/* Every strict prefix of a valid model is an error; random mutations never crash. */
static void test_hostile(void) {
    msg g = rich_graph();
    msg b = model_proto(&g, "", 23);
    for (size_t cut = 0; cut < b.n; cut++) {
        uint8_t *p = msg_prefix_copy(&b, cut);
        onnx_model m;
        CHECK(onnx_model_decode("cut.onnx", p, cut, &m, &err) == -1, "prefix %zu of %zu decoded", cut, b.n);
        free(p);
    }
    tu_seed(5);
    int rejected = 0;
    for (int iter = 0; iter < 20000; iter++) {
        uint8_t *p = msg_prefix_copy(&b, b.n);
        for (int k = (int)tu_int(1, 4); k > 0; k--) p[tu_int(0, (int64_t)b.n - 1)] = (uint8_t)tu_u64();
        onnx_model m;
        if (onnx_model_decode("mut.onnx", p, b.n, &m, &err) == 0) {
            for (size_t i = 0; i < m.graph.n_nodes; i++)
                CHECK(m.graph.nodes[i].op_type && m.graph.nodes[i].domain, "node strings missing");
            onnx_model_free(&m);
        } else {
            rejected++;
        }
        free(p);
    }
    CHECK(rejected > 1000, "only %d mutations rejected", rejected);
    msg_free(&b);
}

/* The shared models decode: single-node ones are RotaryEmbedding (ONNX, vLLM) or atb Rope, expanded
 * ones are big. */
static void test_shared_suite(const char *suite, const char *op_type, int min_models) {
    DIR *d = opendir(suite);
    int models = 0;
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char path[1024];
        onnx_model m;
        if (e->d_name[0] == '.' || !strncmp(e->d_name, "MANIFEST", 8)) continue;
        snprintf(path, sizeof path, "%s/%s/model.onnx", suite, e->d_name);
        int r = onnx_model_load(path, &m, &err);
        CHECK(r == 0, "%s", err.text);
        if (r) continue;
        models++;
        if (strstr(e->d_name, "_expanded"))
            CHECK(m.graph.n_nodes >= 30, "%s: %zu nodes", path, m.graph.n_nodes);
        else
            CHECK(m.graph.n_nodes == 1 && !strcmp(m.graph.nodes[0].op_type, op_type), "%s", path);
        onnx_model_free(&m);
    }
    closedir(d);
    CHECK(models >= min_models, "%s: %d models", suite, models);
}

int main(void) {
    test_read();
    test_malformed();
    test_hostile();
    const char *shared = tu_shared_dir();
    if (shared) {
        char suite[1024];
        snprintf(suite, sizeof suite, "%s/onnx-node-tests", shared);
        test_shared_suite(suite, "RotaryEmbedding", 9);
        snprintf(suite, sizeof suite, "%s/atb-tests", shared);
        test_shared_suite(suite, "Rope", 9);
        snprintf(suite, sizeof suite, "%s/vllm-tests", shared);
        test_shared_suite(suite, "RotaryEmbedding", 8);
    } else {
        printf("note: ../shared absent, shared-model checks skipped\n");
    }
    return tu_finish();
}
