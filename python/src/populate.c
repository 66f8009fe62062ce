/* SPDX-License-Identifier: MIT */
/* New outputs: the pages of a tensor the Python layer has just allocated, mapped in one system call
 * before the library writes it. A large new tensor (torch.empty, np.empty) is fresh memory from the
 * kernel; left alone, every 4 KiB page faults on the kernel's first store: 8192 exceptions for a
 * 32 MiB output, each entered from inside the rotation's loop. MADV_POPULATE_WRITE (Linux 5.14)
 * maps and zeroes the same pages without the exceptions; measured on python/bench.py's f32 prefill
 * (--new-output-only), the populate plus the rotation took 1.01x what q.clone() takes, the rotation
 * faulting its own pages 1.25x (docs/PERFORMANCE.md, "Python: new outputs"). Elsewhere, or on an
 * older kernel (EINVAL), nothing is done and the pages fault as before: the results are the same. */
#include "core.h" /* first: Python.h sets the POSIX feature macros */

#include <stdint.h>

#if defined(__linux__)
#include <sys/mman.h>
#include <unistd.h>
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* the kernel's value; headers older than glibc 2.35 lack the name */
#endif
#endif

/* Below this the pages are mostly the allocator's recycled ones, and the system call would cost a
 * visible part of the call. */
#define RP_POPULATE_MIN_BYTES ((size_t)1 << 20)

void rp_populate(const rope_tensor *t) {
#if defined(__linux__) && defined(MADV_POPULATE_WRITE)
    int64_t numel = rope_tensor_numel(t);
    if (!t->data || numel <= 0 || t->row_stride != 0) return; /* only the dense tensors the layer makes */
    size_t bytes = (size_t)numel * rope_dtype_size(t->dtype);
    if (bytes < RP_POPULATE_MIN_BYTES) return;
    long page = sysconf(_SC_PAGESIZE);
    if (page <= 0) return;
    /* whole pages inside the tensor only: the ones it shares with its neighbours fault as before */
    uintptr_t lo = ((uintptr_t)t->data + (uintptr_t)page - 1) & ~((uintptr_t)page - 1);
    uintptr_t hi = ((uintptr_t)t->data + bytes) & ~((uintptr_t)page - 1);
    if (hi <= lo) return;
    /* Memory the allocator recycles (a heap below its mmap threshold) is mapped already, and walking
     * its pages costs a fraction of what faulting them does (0.7 ms for 16 MiB): the first and last
     * pages say whether the tensor is fresh. */
    unsigned char first = 1, last = 1;
    if (mincore((void *)lo, 1, &first) != 0 || mincore((void *)(hi - (uintptr_t)page), 1, &last) != 0) return;
    if ((first & 1) && (last & 1)) return;
    (void)madvise((void *)lo, hi - lo, MADV_POPULATE_WRITE); /* a hint: a failure changes nothing */
#else
    (void)t;
#endif
}
