"""Shared pieces of the kernel tests: devices and backends to run, fresh seeded inputs, the error measure."""

from __future__ import annotations

import zlib

import pytest
import torch

TOL = {torch.float32: 1e-5, torch.bfloat16: 1e-2, torch.float16: 1e-2}

# Every test runs on CPU (the Triton path under the interpreter) and again on CUDA when there is one.
DEVICES = [
    pytest.param("cpu", id="cpu"),
    pytest.param("cuda", id="cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA")),
]
BACKENDS = ["torch", "triton"]


def generator(*case) -> torch.Generator:
    """A generator seeded from the case's parameters: each case draws its own inputs, reproducibly."""
    return torch.Generator().manual_seed(zlib.crc32(repr(case).encode()))


def randn(gen: torch.Generator, *shape: int, scale: float = 1.0, shift: float = 0.0) -> torch.Tensor:
    return torch.randn(*shape, generator=gen) * scale + shift


def rel_l2(out: torch.Tensor, ref: torch.Tensor) -> float:
    """Relative L2 error; NaN anywhere (an unwritten, poisoned element) makes it NaN, which fails `<=`."""
    out, ref = out.detach().cpu().double(), ref.detach().cpu().double()
    assert out.shape == ref.shape, (out.shape, ref.shape)
    return float((out - ref).norm() / ref.norm().clamp_min(1e-30))


def on(device: str, dtype: torch.dtype | None, *tensors):
    """Move tensors to the device (and cast float inputs to dtype); None passes through."""
    return [None if t is None else t.to(device=device, dtype=dtype or t.dtype) for t in tensors]
