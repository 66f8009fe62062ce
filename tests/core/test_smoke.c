#include <math.h>
#include "rope.h"
#include "harness.h"
int main(void) {
    float x[8] = {1, 2, 3, 4, 5, 6, 7, 8}, y[8];
    float c[2] = {0.5f, 0.25f}, s[2] = {0.75f, -0.5f};
    rope_tensor X = {x, ROPE_F32, 4, {1, 1, 1, 4}, 0}, Y = {y, ROPE_F32, 4, {1, 1, 1, 4}, 0};
    rope_tensor C = {c, ROPE_F32, 3, {1, 1, 2}, 0}, S = {s, ROPE_F32, 3, {1, 1, 2}, 0};
    rope_status st = rope_onnx_rotary_embedding(NULL, NULL, &X, &C, &S, NULL, &Y);
    CHECK(st == ROPE_OK, "%s", rope_last_error());
    CHECK(y[0] == 1 * 0.5f - 3 * 0.75f, "%g", y[0]);
    CHECK(y[2] == 1 * 0.75f + 3 * 0.5f, "%g", y[2]);
    return tu_finish();
}
