/* SPDX-License-Identifier: MIT */
/* Part of rope.h (the backward (training) form of the operators):
 * include <rope.h>, not this file. The parts are rope.h split by subject;
 * rope.h includes each once, in the order of its table of contents. */
#ifndef ROPE_PART_BACKWARD_H
#define ROPE_PART_BACKWARD_H

#ifndef ROPE_H
#error "include <rope.h>, not its parts"
#endif

/* ---------------------------------------------------------------------------------------------- */
/* Backward (training)                                                                             */
/* ---------------------------------------------------------------------------------------------- */

/*
 * The exact vector-Jacobian products of the operators: given the gradient of a loss with respect to
 * the output, the gradient with respect to the input. Both operators are linear in their input, so
 * the backward pass is the transposed rotation, run by the same kernels at the same speed:
 *   ONNX: the rotation by -angle (the forward with sin negated):
 *         dx1 = c*dy1 + s*dy2,   dx2 = -s*dy1 + c*dy2.
 *   ATB:  element a pairs with b = a + rs as in rope_atb_rope, and cos/sin of a and b may differ;
 *         the forward y[a] = x[a]cos[a] - x[b]sin[a], y[b] = x[b]cos[b] + x[a]sin[b] has the transpose
 *         dx[a] = dy[a]cos[a] + dy[b]sin[b],   dx[b] = dy[b]cos[b] - dy[a]sin[a]:
 *         the forward with sin'[a] = -sin[b] and sin'[b] = -sin[a] (the partner's sin, negated).
 * The result is bitwise the forward operator's run on dy with that transformed sin table (negating
 * is exact in every dtype), and so has the forward's accuracy and rounding (float32 arithmetic,
 * products rounded, one rounding to the output dtype). Elements past the rotated width are copied.
 */

/*
 * dX = the ONNX RotaryEmbedding backward of dY. Arguments as rope_onnx_rotary_embedding, with dy in
 * the role of X and dx in that of Y (error messages name them X and Y): same shapes, dtypes,
 * attributes, caches and position_ids, same validation and errors. dx may be dy itself (in place)
 * and must not otherwise overlap any input. Nothing is written on error. Threading: ctx's threads;
 * concurrent calls are safe. Errors also include OUT_OF_MEMORY (a scratch of a few KiB per thread for
 * the transformed cos/sin rows; up to 512 KiB for 4-D X, whose tokens are walked in tiles).
 */
ROPE_API rope_status rope_onnx_rotary_embedding_backward(rope_context *ctx, const rope_onnx_attrs *attrs,
                                                         const rope_tensor *dy, const rope_tensor *cos,
                                                         const rope_tensor *sin, const rope_tensor *position_ids,
                                                         const rope_tensor *dx);

/*
 * dq, dk = the ATB Rope backward of (grad_q, grad_k), the gradients of ropeQ and ropeK. Arguments as
 * rope_atb_rope, with grad_q / grad_k in the roles of query / key and dq / dk in those of ropeQ /
 * ropeK (error messages use those names): same shapes, dtypes, param, cos, sin and seqlen, same
 * validation and errors, plus OUT_OF_MEMORY (a scratch of a few KiB per thread). dq may be grad_q
 * and dk grad_k (in place). Nothing is written on error. Threading: as rope_atb_rope.
 */
ROPE_API rope_status rope_atb_rope_backward(rope_context *ctx, const rope_atb_param *param, const rope_tensor *grad_q,
                                            const rope_tensor *grad_k, const rope_tensor *cos, const rope_tensor *sin,
                                            const rope_tensor *seqlen, const rope_tensor *dq, const rope_tensor *dk);

#endif /* ROPE_PART_BACKWARD_H */
