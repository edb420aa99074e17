"""Output allocation in one place, so tests can poison every fresh output with NaN.

A kernel that forgets to write an element then returns NaN there and fails its test, instead of passing
on whatever zeros or stale memory happened to be in the buffer.
"""

from __future__ import annotations

import torch

POISON = False  # tests set this (monkeypatch) to fill new outputs with NaN


def new_output(*shape: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    if POISON:
        return torch.full(shape, float("nan"), dtype=dtype, device=device)
    return torch.empty(shape, dtype=dtype, device=device)
