/* The operation object, visible to the one-shot functions so they can run it from the stack. */
#ifndef ROPE_OPERATION_H
#define ROPE_OPERATION_H

#include "../atb/atb_rope.h"
#include "../onnx/onnx_rotary.h"

enum { ROPE_OP_ONNX = 1, ROPE_OP_ATB = 2 };
enum { ROPE_OP_MAX_INPUTS = 5, ROPE_OP_MAX_OUTPUTS = 2 };

struct rope_operation {
    int kind;
    rope_onnx_attrs onnx;
    rope_atb_param atb;
    int ready; /* setup succeeded; in/out/plan describe that pack */
    rope_tensor in[ROPE_OP_MAX_INPUTS];
    size_t n_in;
    rope_tensor out[ROPE_OP_MAX_OUTPUTS];
    size_t n_out;
    union {
        rope_onnx_plan onnx;
        rope_atb_plan atb;
    } plan;
};

/* Initialise an operation in place (no allocation). `where` prefixes error messages. */
rope_status rope_op_init_onnx(const char *where, rope_operation *op, const rope_onnx_attrs *attrs);
rope_status rope_op_init_atb(const char *where, rope_operation *op, const rope_atb_param *param);

/* The checks of the ONNX attributes alone (before any tensor is seen), as operation creation does. */
rope_status rope_op_check_onnx_attrs(const char *where, const rope_onnx_attrs *attrs);

/* rope_operation_setup with the error prefix `where`. */
rope_status rope_op_setup(const char *where, rope_operation *op, const rope_variant_pack *pack);

/* Runs the pack of the last successful setup. `recheck_data`: validate data values (position ids,
 * seqlen) again, as they may have changed since setup; 0 right after setup. */
rope_status rope_op_execute(const char *where, rope_operation *op, int recheck_data, rope_context *ctx);

#endif
