"""Kernel-test set-up: NaN-poisoned outputs, and a faster evaluation of tl.associative_scan in the interpreter.

Triton's interpreter evaluates a custom-combine associative_scan one element at a time in Python (minutes
for the scan kernel at length 1000). The patch below evaluates the same combine function in the same order
(left to right along the axis), but on whole slices across the other axes, so results are unchanged and the
interpreter tests stay within seconds. Without the interpreter (CUDA) nothing is patched.
"""

from __future__ import annotations

import os

import numpy as np
import pytest


def _patch_interpreter_scan() -> None:
    from triton.runtime import interpreter as ti

    if not hasattr(ti, "ScanOps") or not hasattr(ti.ScanOps, "generic_scan"):
        return  # another triton version: keep its own (slow but correct) scan

    def sliced_scan(self, input):
        datas = [arg.handle.data for arg in input]
        outs = [np.empty_like(d) for d in datas]
        n = datas[0].shape[self.axis]
        acc = None
        for i in range(n):
            cur = tuple(self.to_tensor(np.take(d, i, axis=self.axis), arg.dtype) for d, arg in zip(datas, input))
            if acc is None:
                acc = cur
            else:
                ret = self.combine_fn.fn(*acc, *cur)
                acc = ret if isinstance(ret, tuple) else (ret,)
            for out, a in zip(outs, acc):
                idx = [slice(None)] * out.ndim
                idx[self.axis] = i
                out[tuple(idx)] = a.handle.data.reshape(out[tuple(idx)].shape)
        return [self.to_tensor(o, arg.dtype) for o, arg in zip(outs, input)]

    ti.ScanOps.generic_scan = sliced_scan


if os.environ.get("TRITON_INTERPRET") == "1":
    try:
        _patch_interpreter_scan()
    except ImportError:
        pass


@pytest.fixture(autouse=True)
def poison_outputs(monkeypatch):
    """Every output a kernel allocates starts as NaN, so an element it fails to write fails the test."""
    from ssmdoc.kernels import _buffers

    monkeypatch.setattr(_buffers, "POISON", True)
