/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the TensorProto reader (tools/tensor_proto.c). Any bytes: decoding returns, never
 * reads outside the input (the replay and libFuzzer hand it an exactly sized block) and never
 * leaks. A tensor it accepts is dense, with data and a name, and survives a round trip bit for bit:
 * encoding it (tools/pb_write.c, raw_data) and decoding that gives the same dtype, dims, name and
 * bytes, and encoding again gives the same bytes.
 */
#include <string.h>

#include "fuzz.h"
#include "tensor_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tensor_proto a, b;
    diag err;
    if (tensor_proto_decode("fuzz input", data, size, &a, &err) != 0) return 0;
    int64_t numel = rope_tensor_numel(&a.t);
    FUZZ_ASSERT(numel >= 0 && a.t.data && a.name && a.t.row_stride == 0 && rope_dtype_size(a.t.dtype) > 0,
                "accepted tensor: numel %lld, dtype %d", (long long)numel, (int)a.t.dtype);
    size_t bytes = (size_t)numel * rope_dtype_size(a.t.dtype);

    pb_buf first = {0}, second = {0};
    FUZZ_ASSERT(tensor_proto_encode(&a.t, a.name, &first, &err) == 0, "encoding an accepted tensor: %s", err.text);
    FUZZ_ASSERT(tensor_proto_decode("re-encoded", first.data, first.len, &b, &err) == 0,
                "decoding what the writer wrote: %s", err.text);
    FUZZ_ASSERT(b.t.dtype == a.t.dtype && b.t.rank == a.t.rank &&
                    memcmp(b.t.dims, a.t.dims, (size_t)a.t.rank * sizeof a.t.dims[0]) == 0,
                "round trip changed the dtype or shape");
    FUZZ_ASSERT(strcmp(a.name, b.name) == 0, "round trip changed the name '%s' into '%s'", a.name, b.name);
    FUZZ_ASSERT(bytes == 0 || memcmp(a.t.data, b.t.data, bytes) == 0, "round trip changed the values");
    FUZZ_ASSERT(tensor_proto_encode(&b.t, b.name, &second, &err) == 0, "encoding again: %s", err.text);
    FUZZ_ASSERT(second.len == first.len && memcmp(second.data, first.data, first.len) == 0,
                "encoding is not stable");
    pb_buf_free(&first);
    pb_buf_free(&second);
    tensor_proto_free(&a);
    tensor_proto_free(&b);
    return 0;
}
