# SPDX-License-Identifier: MIT
"""Two Python threads calling at once give the results of calls made one after the other, and a
long call releases the GIL (another Python thread runs meanwhile)."""
import sys
import threading

import numpy as np

import librope
from conftest import angles_cache, uniform


def _case(rng, seq):
    x = uniform(rng, (1, 8, seq, 64)).astype(np.float32)
    c, s = angles_cache(rng, seq, 32)
    ids = np.arange(seq, dtype=np.int64)[None]
    return x, c.astype(np.float32), s.astype(np.float32), ids


def test_two_threads_same_results(rng):
    cases = [_case(rng, 256) for _ in range(2)]
    want = [librope.rotary_embedding_onnx(*c) for c in cases]
    got = [[None] * 20 for _ in cases]

    def run(i):
        for r in range(20):
            got[i][r] = librope.rotary_embedding_onnx(*cases[i])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for i in range(2):
        for r in range(20):
            assert np.array_equal(got[i][r], want[i]), f"thread {i} call {r} differs"


def test_gil_released_during_a_call(rng):
    x, c, s, ids = _case(rng, 8192)  # 16 MiB of f32: milliseconds per call
    y = np.empty_like(x)
    librope.set_num_threads(1)
    interval = sys.getswitchinterval()
    # With a long switch interval the interpreter never hands the GIL to the spinner by itself while
    # this thread runs Python code for a few ms: the spinner can count only while a call released it.
    sys.setswitchinterval(0.3)
    try:
        ticks = [0]
        stop = threading.Event()
        started = threading.Event()

        def spin():
            started.set()
            while not stop.is_set():
                ticks[0] += 1

        th = threading.Thread(target=spin)
        th.start()
        started.wait()
        inside = 0
        for _ in range(10):  # on a loaded machine the spinner may not be scheduled during one call
            before = ticks[0]
            librope.rotary_embedding_onnx(x, c, s, ids, out=y)
            inside = ticks[0] - before
            if inside:
                break
        stop.set()
        th.join()
        assert inside > 0, "no Python code ran during the call: the GIL was held"
    finally:
        sys.setswitchinterval(interval)
        librope.set_num_threads(0)


def test_set_num_threads_while_calls_run(rng):
    """Contexts swapped under running calls: each call finishes on the context it started with."""
    x, c, s, ids = _case(rng, 1024)
    want = librope.rotary_embedding_onnx(x, c, s, ids)
    bad = []
    stop = threading.Event()

    def run():
        while not stop.is_set():
            if not np.array_equal(librope.rotary_embedding_onnx(x, c, s, ids), want):
                bad.append(1)

    th = threading.Thread(target=run)
    th.start()
    try:
        for n in (1, 2, 1, 2, 0) * 10:
            librope.set_num_threads(n)
    finally:
        stop.set()
        th.join()
        librope.set_num_threads(0)
    assert not bad
